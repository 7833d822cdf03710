"""Typed view of `signatures.toml`: known failure messages for `envgen doctor`.

Three tables:

* `[[signature]]`: a failure message (one real wording of it or a list of several, `pattern`),
  its severity, and the cause, fix and command as templates. A cause or fix may be a list of
  variants: the first whose every `{field}` is known for the case is used, so a log that names
  its Python or its TensorFlow gets the fix for exactly that one.
* `[[fact]]`: facts a log gives away beside its error line (the Python in a site-packages path, a
  driver number in an nvidia-smi header), each a pattern and the value it reads.
* `[[lookup]]`: the knowledge-base lookups a template may use (`python-with-wheels`,
  `driver-floor`, ...): what each needs and what it gives. The doctor implements them.

The reader (`envgen.kb.rows`) checks each row (a key that takes one item or a list is declared
`one_or_many`); `load_signatures` then checks what spans the tables: a signature's lookups exist,
and each field its templates use is a named group of its patterns, a fact, or a lookup's output.

`SignatureTable.match(text)` finds every known message in a log and returns, per signature, the
line it was seen on, the numbers its named groups captured, and the cause and fix filled from those
alone. It only reports evidence; facts, lookups and deciding what to do stay with the doctor.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.fields import Kebab, NonEmpty, Pattern, RowError, Snake, Template, key, one_of
from envgen.kb.rows import DataFile, Table

FILE = "signatures.toml"

SEVERITIES = ("error", "warning", "info")

# What a template shows for a field that is not known.
MISSING = "?"

# The command a finding falls back to when its row's command names a field the case does not know:
# plan and build an environment that works on this machine.
DEFAULT_COMMAND = "create --target {target}"
# Fields every command template may use besides the row's own.
COMMAND_FIELDS = frozenset({"target"})

# Searched in the whole log; ^ and $ match at line ends.
_FLAGS = re.MULTILINE


def field_order(template: str) -> list[str]:
    """The `{name}` fields a template uses, in order of first use."""
    names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    return list(dict.fromkeys(names))


def fields_of(template: str) -> set[str]:
    """The `{name}` fields a template uses."""
    return set(field_order(template))


def render(variants: tuple[str, ...], fields: Mapping[str, str]) -> tuple[str, list[str]]:
    """The first variant whose every field is known, filled; else the last with "?" for gaps.

    Returns the text and the fields it used, in order.
    """
    for template in variants:
        names = field_order(template)
        if all(fields.get(n) for n in names):
            return template.format_map({n: fields[n] for n in names}), names
    names = field_order(variants[-1])
    return variants[-1].format_map({n: fields.get(n) or MISSING for n in names}), names


_TEMPLATES = (
    "a template or a list of variants: the first whose every {field} is known is used; a "
    "field is a named group of a pattern, a [[fact]], or a field one of its lookups gives"
)


@dataclass(frozen=True)
class Signature:
    """A failure message: its wordings, severity, and the cause, fix and command as templates."""

    code: str = field(metadata=key(Kebab(), unique=True))
    pattern: tuple[str, ...] = field(
        metadata=key(
            Pattern(flags=_FLAGS),
            one_or_many=True,
            doc="one wording of the message or a list of several; the earliest hit is the evidence",
        )
    )
    severity: str = field(metadata=key(one_of(SEVERITIES)))
    lookups: tuple[str, ...] = field(
        metadata=key(Kebab(), default=(), doc="[[lookup]] kinds whose fields the templates use")
    )
    cause: tuple[str, ...] = field(metadata=key(Template(), one_or_many=True, doc=_TEMPLATES))
    fix: tuple[str, ...] = field(metadata=key(Template(), one_or_many=True, doc=_TEMPLATES))
    command: str | None = field(
        metadata=key(
            Template(),
            doc="the envgen subcommand (without 'envgen') that gives a working environment; left "
            "out where there is none",
        )
    )
    source: str = field(metadata=key())
    patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = tuple(re.compile(p, _FLAGS) for p in self.pattern)
        object.__setattr__(self, "patterns", compiled)

    def search(self, text: str) -> re.Match[str] | None:
        """The earliest place in `text` where any of the wordings occurs."""
        hits = [h for p in self.patterns if (h := p.search(text)) is not None]
        return min(hits, key=lambda h: h.start()) if hits else None


@dataclass(frozen=True)
class FactRule:
    """One way a log gives a fact away: a pattern and the value it reads (a template)."""

    name: str = field(metadata=key(Snake(), doc="the field it fills; several rows may fill one"))
    pattern: str = field(metadata=key(Pattern(flags=_FLAGS)))
    value: tuple[str, ...] = field(
        metadata=key(
            Template(),
            one_or_many=True,
            doc="over the pattern's named groups; the first variant whose groups all matched",
        )
    )
    says: str = field(metadata=key(Template(), doc="what the fact means, over {value}"))
    source: str = field(metadata=key())
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern, _FLAGS))

    def check_row(self) -> None:
        """`value` reads the pattern's named groups; `says` only the value."""
        _only("value", self.value, set(self.regex.groupindex), "a named group of the pattern")
        _only("says", (self.says,), {"value"}, "{value}")


@dataclass(frozen=True)
class LookupKind:
    """A knowledge-base lookup templates may use: the fields it needs and the fields it gives."""

    kind: str = field(metadata=key(Kebab(), unique=True, doc="a lookup of envgen.doctor.lookups"))
    needs: tuple[str, ...] = field(
        metadata=key(Snake(), default=(), doc="the fields it reads (each optional)")
    )
    gives: tuple[str, ...] = field(metadata=key(Snake(), NonEmpty(), doc="the fields it fills"))
    says: str | None = field(
        metadata=key(
            Template(),
            doc="what it inferred, over its needs and gives, when a field it gives stands in "
            "for a fact",
        )
    )
    source: str = field(metadata=key())

    def check_row(self) -> None:
        if self.says is not None:
            _only("says", (self.says,), {*self.needs, *self.gives}, "one of its needs or gives")


def _only(name: str, templates: tuple[str, ...], known: set[str], what: str) -> None:
    """`RowError` naming `name` (and the variant) when a template uses a field not in `known`."""
    for i, text in enumerate(templates):
        unknown = sorted(fields_of(text) - known)
        if unknown:
            where = f"{name}[{i}]" if len(templates) > 1 else name
            raise RowError(where, f"uses {{{', '.join(unknown)}}}, not {what}")


SCHEMA = DataFile(
    FILE,
    "Known failure messages for envgen doctor (patterns, severity, cause, fix, command), "
    "the facts a log gives away, and the knowledge-base lookups templates may use",
    (
        Table("signature", Signature, label="code"),
        Table("fact", FactRule, label="name"),
        Table("lookup", LookupKind, label="kind"),
    ),
)


@dataclass(frozen=True)
class Match:
    """One signature found in a log."""

    code: str
    severity: str
    line: str
    line_number: int
    groups: dict[str, str]
    cause: str
    fix: str
    source: str


@dataclass(frozen=True)
class SignatureTable:
    signatures: tuple[Signature, ...]
    facts: tuple[FactRule, ...] = ()
    lookups: Mapping[str, LookupKind] = field(default_factory=dict)

    def get(self, code: str) -> Signature | None:
        return next((s for s in self.signatures if s.code == code), None)

    def match(self, text: str) -> list[Match]:
        """Every signature found in `text`, once each (first occurrence), in log order."""
        found = []
        for sig in self.signatures:
            hit = sig.search(text)
            if hit is None:
                continue
            start = text.rfind("\n", 0, hit.start()) + 1
            end = text.find("\n", hit.end())
            groups = {k: v for k, v in hit.groupdict().items() if v is not None}
            found.append(
                (
                    hit.start(),
                    Match(
                        code=sig.code,
                        severity=sig.severity,
                        line=text[start : len(text) if end == -1 else end].strip(),
                        line_number=text.count("\n", 0, hit.start()) + 1,
                        groups=groups,
                        cause=render(sig.cause, groups)[0],
                        fix=render(sig.fix, groups)[0],
                        source=sig.source,
                    ),
                )
            )
        return [m for _, m in sorted(found, key=lambda pair: (pair[0], pair[1].code))]


def load_signatures() -> SignatureTable:
    """All three tables, each row checked by the reader; then the rules across tables: a
    signature's lookups exist, and every field its templates use is a named group of one of its
    patterns, a fact, or a field one of its lookups gives."""
    reader = SCHEMA.open(load_toml(FILE))
    signatures = reader.rows(Signature)
    facts = reader.rows(FactRule)
    lookups = {k.kind: k for k in reader.rows(LookupKind)}
    fact_names = {f.name for f in facts}
    for i, sig in enumerate(signatures):
        try:
            _check_fields(sig, fact_names, lookups)
        except RowError as exc:
            raise KnowledgeBaseError(
                f"{FILE}: signature[{i}].{exc.key}: {exc.message} (code {sig.code!r})"
            ) from None
    return SignatureTable(signatures, facts, lookups)


def _check_fields(sig: Signature, facts: set[str], lookups: Mapping[str, LookupKind]) -> None:
    for j, kind in enumerate(sig.lookups):
        if kind not in lookups:
            raise RowError(f"lookups[{j}]", f"no [[lookup]] {kind!r}")
    known = {g for p in sig.patterns for g in p.groupindex} | facts
    known |= {g for kind in sig.lookups for g in lookups[kind].gives}
    what = "a named group of the pattern, a fact, or a field its lookups give"
    _only("cause", sig.cause, known, what)
    _only("fix", sig.fix, known, what)
    if sig.command is not None:
        _only("command", (sig.command,), known | COMMAND_FIELDS, what)
