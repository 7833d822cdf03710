"""Typed view of `signatures.toml`: known failure messages for `envgen doctor`.

Three tables:

* `[[signature]]`: a failure message (one or several real wordings of it, `patterns`), its
  severity, and the cause and fix as templates. A template may be a list of variants: the first
  whose every `{field}` is known for the case is used, so a log that names its Python or its
  TensorFlow gets the fix for exactly that one.
* `[[fact]]`: facts a log gives away beside its error line (the Python in a site-packages path, a
  driver number in an nvidia-smi header), each a pattern and the value it reads.
* `[[lookup]]`: the knowledge-base lookups a template may use (`python-with-wheels`,
  `driver-floor`, ...): what each needs and what it gives. The doctor implements them.

`SignatureTable.match(text)` finds every known message in a log and returns, per signature, the
line it was seen on, the numbers its named groups captured, and the cause and fix filled from those
alone. It only reports evidence; facts, lookups and deciding what to do stay with the doctor.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.rows import no_unknown_keys, req_str, rows, str_list

FILE = "signatures.toml"

SEVERITIES = ("error", "warning", "info")

# Kebab-case, as every key and code in the knowledge base; fields are snake_case (regex groups).
_CODE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_FIELD = re.compile(r"[a-z][a-z0-9_]*")

# What a template shows for a field that is not known.
MISSING = "?"

# The command a non-informational finding carries when its row names none: plan and build an
# environment that works on this machine.
DEFAULT_COMMAND = "create --target {target}"
# Fields every command template may use besides the row's own.
COMMAND_FIELDS = frozenset({"target"})


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


@dataclass(frozen=True)
class Signature:
    code: str
    patterns: tuple[re.Pattern[str], ...]
    severity: str
    cause: tuple[str, ...]
    fix: tuple[str, ...]
    command: str | None
    """The envgen subcommand (without "envgen") that gives a working environment; None: none."""
    lookups: tuple[str, ...]
    source: str

    @property
    def pattern(self) -> str:
        """The first wording, as written in the table."""
        return self.patterns[0].pattern

    def search(self, text: str) -> re.Match[str] | None:
        """The earliest place in `text` where any of the wordings occurs."""
        hits = [h for p in self.patterns if (h := p.search(text)) is not None]
        return min(hits, key=lambda h: h.start()) if hits else None


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
class FactRule:
    """One way a log gives a fact away: a pattern and the value it reads (a template)."""

    name: str
    regex: re.Pattern[str]
    value: tuple[str, ...]
    says: str
    """What the fact means, over `{value}` ("Python {value}")."""
    source: str


@dataclass(frozen=True)
class LookupKind:
    """A knowledge-base lookup templates may use: the fields it needs and the fields it gives."""

    kind: str
    needs: tuple[str, ...]
    gives: tuple[str, ...]
    says: str | None
    """What it inferred, over its needs and gives, when one of its gives stands in for a fact."""
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


# --- loading -------------------------------------------------------------------------------------


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.MULTILINE)
    except re.error as exc:
        raise KnowledgeBaseError(f"{where}: pattern does not compile: {exc}") from exc


def _patterns(row: dict[str, Any], where: str) -> tuple[re.Pattern[str], ...]:
    """`pattern` (one wording) or `patterns` (several), never both."""
    if ("pattern" in row) == ("patterns" in row):
        raise KnowledgeBaseError(f"{where}: give either pattern or patterns")
    if "pattern" in row:
        texts = [req_str(row, "pattern", where)]
    else:
        texts = str_list(row, "patterns", where)
        if not texts or not all(texts):
            raise KnowledgeBaseError(f"{where}: patterns must be a non-empty list of patterns")
    return tuple(_compile(t, where) for t in texts)


def _templates(row: dict[str, Any], key: str, where: str, known: set[str]) -> tuple[str, ...]:
    """A template, or a list of variants, whose every `{name}` is a field in `known`."""
    value = row.get(key)
    variants = [value] if isinstance(value, str) else value
    if not isinstance(variants, list) or not variants:
        raise KnowledgeBaseError(f"{where}: {key} must be a string or a list of strings")
    for text in variants:
        if not isinstance(text, str) or not text:
            raise KnowledgeBaseError(f"{where}: {key} must be a string or a list of strings")
        try:
            names = fields_of(text)
        except ValueError as exc:
            raise KnowledgeBaseError(f"{where}: {key}: {exc}") from exc
        unknown = sorted(names - known)
        if unknown:
            raise KnowledgeBaseError(
                f"{where}: {key} uses {{{', '.join(unknown)}}}, not a named group of the "
                "pattern, a fact, or a field its lookups give"
            )
    return tuple(variants)


def _field_list(row: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = str_list(row, key, where, default=[])
    bad = [v for v in values if not _FIELD.fullmatch(v)]
    if bad:
        raise KnowledgeBaseError(f"{where}: {key}: {bad[0]!r} is not a snake_case field name")
    return tuple(values)


def _load_lookups(doc: dict[str, Any]) -> dict[str, LookupKind]:
    out: dict[str, LookupKind] = {}
    for i, row in enumerate(rows(doc, "lookup", FILE)):
        where = f"{FILE}: lookup[{i}]"
        no_unknown_keys(row, {"kind", "needs", "gives", "says", "source"}, where)
        kind = req_str(row, "kind", where)
        if not _CODE.fullmatch(kind) or kind in out:
            raise KnowledgeBaseError(f"{where}: kind {kind!r} must be kebab-case and unique")
        needs, gives = _field_list(row, "needs", where), _field_list(row, "gives", where)
        if not gives:
            raise KnowledgeBaseError(f"{where} ({kind}): gives must name at least one field")
        says = None
        if "says" in row:
            says = _templates(row, "says", f"{where} ({kind})", set(needs) | set(gives))[0]
        out[kind] = LookupKind(kind, needs, gives, says, req_str(row, "source", where))
    return out


def _load_facts(doc: dict[str, Any]) -> tuple[FactRule, ...]:
    out = []
    for i, row in enumerate(rows(doc, "fact", FILE)):
        where = f"{FILE}: fact[{i}]"
        no_unknown_keys(row, {"name", "pattern", "value", "says", "source"}, where)
        name = req_str(row, "name", where)
        if not _FIELD.fullmatch(name):
            raise KnowledgeBaseError(f"{where}: name {name!r} must be a snake_case field name")
        regex = _compile(req_str(row, "pattern", where), where)
        value = _templates(row, "value", where, set(regex.groupindex))
        says = _templates(row, "says", where, {"value"})[0]
        out.append(FactRule(name, regex, value, says, req_str(row, "source", where)))
    return tuple(out)


def load_signatures() -> SignatureTable:
    doc = load_toml(FILE)
    lookups = _load_lookups(doc)
    facts = _load_facts(doc)
    fact_names = {f.name for f in facts}
    signatures = []
    seen: set[str] = set()
    keys = {"code", "pattern", "patterns", "severity", "cause", "fix", "command", "lookups"}
    for i, row in enumerate(rows(doc, "signature", FILE)):
        where = f"{FILE}: signature[{i}]"
        no_unknown_keys(row, keys | {"source"}, where)
        code = req_str(row, "code", where)
        where = f"{FILE}: signature[{i}] ({code})"
        if not _CODE.fullmatch(code):
            raise KnowledgeBaseError(f"{where}: code must be kebab-case")
        if code in seen:
            raise KnowledgeBaseError(f"{where}: duplicate code")
        seen.add(code)
        patterns = _patterns(row, where)
        severity = req_str(row, "severity", where)
        if severity not in SEVERITIES:
            raise KnowledgeBaseError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
        kinds = tuple(str_list(row, "lookups", where, default=[]))
        unknown = [k for k in kinds if k not in lookups]
        if unknown:
            raise KnowledgeBaseError(f"{where}: lookups: no [[lookup]] {unknown[0]!r}")
        known = {g for p in patterns for g in p.groupindex} | fact_names
        known |= {g for k in kinds for g in lookups[k].gives}
        # A command is an envgen subcommand; "" says there is none (nothing envgen can build
        # fixes it: a workload that needs less memory, a system DLL).
        command: str | None = None if severity == "info" else DEFAULT_COMMAND
        if "command" in row:
            text = row["command"]
            if not isinstance(text, str):
                raise KnowledgeBaseError(f"{where}: command must be a string")
            command = _templates(row, "command", where, known | COMMAND_FIELDS)[0] if text else None
        signatures.append(
            Signature(
                code=code,
                patterns=patterns,
                severity=severity,
                cause=_templates(row, "cause", where, known),
                fix=_templates(row, "fix", where, known),
                command=command,
                lookups=kinds,
                source=req_str(row, "source", where),
            )
        )
    return SignatureTable(tuple(signatures), facts, lookups)
