"""Typed view of `signatures.toml`: known failure messages for `envgen doctor`.

`SignatureTable.match(text)` finds every known message in a log and returns, per signature, the
line it was seen on, the numbers its named groups captured, and the cause and fix with those
numbers filled in. It only reports evidence; deciding what to do stays with the doctor.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.rows import no_unknown_keys, req_str, rows

FILE = "signatures.toml"

SEVERITIES = ("error", "warning", "info")

# Kebab-case, as every key and code in the knowledge base.
_CODE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

# What a template shows for a group that did not take part in the match.
MISSING = "?"


@dataclass(frozen=True)
class Signature:
    code: str
    pattern: str
    severity: str
    cause: str
    fix: str
    source: str
    regex: re.Pattern[str]


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


def _template(row: dict[str, Any], key: str, where: str, groups: set[str]) -> str:
    """A cause/fix template whose every `{name}` is a named group of the pattern."""
    text = req_str(row, key, where)
    try:
        names = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as exc:
        raise KnowledgeBaseError(f"{where}: {key}: {exc}") from exc
    unknown = sorted(names - groups)
    if unknown:
        raise KnowledgeBaseError(
            f"{where}: {key} uses {{{', '.join(unknown)}}}, not a named group of the pattern"
        )
    return text


def load_signatures() -> SignatureTable:
    doc = load_toml(FILE)
    signatures = []
    seen: set[str] = set()
    for i, row in enumerate(rows(doc, "signature", FILE)):
        where = f"{FILE}: signature[{i}]"
        no_unknown_keys(row, {"code", "pattern", "severity", "cause", "fix", "source"}, where)
        code = req_str(row, "code", where)
        where = f"{FILE}: signature[{i}] ({code})"
        if not _CODE.fullmatch(code):
            raise KnowledgeBaseError(f"{where}: code must be kebab-case")
        if code in seen:
            raise KnowledgeBaseError(f"{where}: duplicate code")
        seen.add(code)
        pattern = req_str(row, "pattern", where)
        try:
            regex = re.compile(pattern, re.MULTILINE)
        except re.error as exc:
            raise KnowledgeBaseError(f"{where}: pattern does not compile: {exc}") from exc
        severity = req_str(row, "severity", where)
        if severity not in SEVERITIES:
            raise KnowledgeBaseError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
        groups = set(regex.groupindex)
        signatures.append(
            Signature(
                code=code,
                pattern=pattern,
                severity=severity,
                cause=_template(row, "cause", where, groups),
                fix=_template(row, "fix", where, groups),
                source=req_str(row, "source", where),
                regex=regex,
            )
        )
    return SignatureTable(tuple(signatures))
