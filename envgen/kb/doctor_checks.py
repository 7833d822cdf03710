"""Typed view of `doctor-checks.toml`: what `envgen doctor` says when facts disagree.

Log messages have `signatures.toml`; this file holds the texts for findings the doctor derives by
cross-checking an environment with the hardware profile and the knowledge base (numpy 2 under
TensorFlow 2.15, a CUDA 12.5 build on a CUDA 12.2 driver, ...), and which GPU-only log signatures
are harmless on a machine without a GPU. The doctor decides when a check applies; the words, the
severity and the source live here.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass
from typing import Any

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.rows import no_unknown_keys, opt_str, req_str, rows
from envgen.kb.signatures import MISSING, SEVERITIES

FILE = "doctor-checks.toml"

_CODE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def fill(template: str, fields: dict[str, str]) -> str:
    """`template` with `{name}` replaced from `fields`; an unknown name shows as "?"."""
    names = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    return template.format_map({n: fields.get(n, MISSING) for n in names})


@dataclass(frozen=True)
class Check:
    code: str
    severity: str
    cause: str
    fix: str
    command: str | None
    """The envgen subcommand (without "envgen") that gives a working environment."""
    source: str


@dataclass(frozen=True)
class WithoutGpu:
    """A log signature that is expected noise on a machine without an NVIDIA GPU."""

    code: str
    severity: str
    note: str
    source: str


@dataclass(frozen=True)
class DoctorChecks:
    checks: dict[str, Check]
    without_gpu: dict[str, WithoutGpu]

    def check(self, code: str) -> Check:
        found = self.checks.get(code)
        if found is None:
            raise KnowledgeBaseError(f"{FILE}: no check {code!r}")
        return found


def _template(row: dict[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    text = req_str(row, key, where) if required else opt_str(row, key, where)
    if text is not None:
        try:
            list(string.Formatter().parse(text))
        except ValueError as exc:
            raise KnowledgeBaseError(f"{where}: {key}: {exc}") from exc
    return text


def _severity(row: dict[str, Any], where: str) -> str:
    severity = req_str(row, "severity", where)
    if severity not in SEVERITIES:
        raise KnowledgeBaseError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    return severity


def _code(row: dict[str, Any], where: str, seen: set[str]) -> str:
    code = req_str(row, "code", where)
    if not _CODE.fullmatch(code):
        raise KnowledgeBaseError(f"{where}: code must be kebab-case, got {code!r}")
    if code in seen:
        raise KnowledgeBaseError(f"{where}: duplicate code {code!r}")
    seen.add(code)
    return code


@functools.cache
def load_doctor_checks() -> DoctorChecks:
    doc = load_toml(FILE)
    checks: dict[str, Check] = {}
    for i, row in enumerate(rows(doc, "check", FILE)):
        where = f"{FILE}: check[{i}]"
        no_unknown_keys(row, {"code", "severity", "cause", "fix", "command", "source"}, where)
        code = _code(row, where, set(checks))
        checks[code] = Check(
            code=code,
            severity=_severity(row, where),
            cause=str(_template(row, "cause", where)),
            fix=str(_template(row, "fix", where)),
            command=_template(row, "command", where, required=False),
            source=req_str(row, "source", where),
        )
    without: dict[str, WithoutGpu] = {}
    for i, row in enumerate(rows(doc, "without-gpu", FILE)):
        where = f"{FILE}: without-gpu[{i}]"
        no_unknown_keys(row, {"code", "severity", "note", "source"}, where)
        code = _code(row, where, set(without))
        without[code] = WithoutGpu(
            code=code,
            severity=_severity(row, where),
            note=req_str(row, "note", where),
            source=req_str(row, "source", where),
        )
    return DoctorChecks(checks, without)
