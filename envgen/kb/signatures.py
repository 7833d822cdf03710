"""Typed view of `signatures.toml`: known failure messages for `envgen doctor`.

`SignatureTable.match(text)` finds every known message in a log and returns, per signature, the
line it was seen on, the numbers its named groups captured, and the cause and fix with those
numbers filled in. It only reports evidence; deciding what to do stays with the doctor.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field

from envgen.kb import load_toml
from envgen.kb.fields import Kebab, Pattern, RowError, Template, key, one_of
from envgen.kb.rows import DataFile, Table

FILE = "signatures.toml"

SEVERITIES = ("error", "warning", "info")

# What a template shows for a group that did not take part in the match.
MISSING = "?"


@dataclass(frozen=True)
class Signature:
    code: str = field(metadata=key(Kebab(), unique=True))
    pattern: str = field(metadata=key(Pattern(flags=re.MULTILINE)))
    severity: str = field(metadata=key(one_of(SEVERITIES)))
    cause: str = field(metadata=key(Template(), doc="{name}: a named group of the pattern"))
    fix: str = field(metadata=key(Template(), doc="{name}: a named group of the pattern"))
    source: str = field(metadata=key())
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern, re.MULTILINE))

    def check_row(self) -> None:
        """Every `{name}` of the cause and fix is a named group of the pattern."""
        groups = set(self.regex.groupindex)
        for name, text in (("cause", self.cause), ("fix", self.fix)):
            used = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
            unknown = sorted(used - groups)
            if unknown:
                raise RowError(
                    name, f"uses {{{', '.join(unknown)}}}, not a named group of the pattern"
                )


SCHEMA = DataFile(
    FILE,
    "Known failure messages for envgen doctor: pattern, severity, cause and fix",
    (Table("signature", Signature, label="code"),),
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


def _fill(template: str, groups: dict[str, str | None]) -> str:
    return template.format_map({k: MISSING if v is None else v for k, v in groups.items()})


@dataclass(frozen=True)
class SignatureTable:
    signatures: tuple[Signature, ...]

    def get(self, code: str) -> Signature | None:
        return next((s for s in self.signatures if s.code == code), None)

    def match(self, text: str) -> list[Match]:
        """Every signature found in `text`, once each (first occurrence), in log order."""
        found = []
        for sig in self.signatures:
            hit = sig.regex.search(text)
            if hit is None:
                continue
            start = text.rfind("\n", 0, hit.start()) + 1
            end = text.find("\n", hit.end())
            groups = hit.groupdict()
            found.append(
                (
                    hit.start(),
                    Match(
                        code=sig.code,
                        severity=sig.severity,
                        line=text[start : len(text) if end == -1 else end].strip(),
                        line_number=text.count("\n", 0, hit.start()) + 1,
                        groups={k: v for k, v in groups.items() if v is not None},
                        cause=_fill(sig.cause, groups),
                        fix=_fill(sig.fix, groups),
                        source=sig.source,
                    ),
                )
            )
        return [m for _, m in sorted(found, key=lambda pair: (pair[0], pair[1].code))]


def load_signatures() -> SignatureTable:
    return SignatureTable(SCHEMA.open(load_toml(FILE)).rows(Signature))
