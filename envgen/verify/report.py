"""The result of verifying one environment: checks, log notes, and the verify-report.json form."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from envgen import __version__
from envgen.files import MARKER

REPORT_NAME = "verify-report.json"
REPORT_SCHEMA = "envgen.verify-report/1"


@dataclass(frozen=True)
class Check:
    """One verified property. A failed check with `required=False` is reported as a warning."""

    name: str
    ok: bool
    detail: str
    required: bool = True
    seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "ok": self.ok,
            "required": self.required,
            "detail": self.detail,
        }
        if self.seconds is not None:
            out["seconds"] = self.seconds
        return out


@dataclass(frozen=True)
class LogNote:
    """A known message seen in a framework's log, with the knowledge base's explanation."""

    framework: str
    code: str
    severity: str
    line: str
    cause: str
    fix: str

    def to_dict(self) -> dict[str, str]:
        return {
            "framework": self.framework,
            "code": self.code,
            "severity": self.severity,
            "line": self.line,
            "cause": self.cause,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class VerifyReport:
    """The result of verifying one environment; `to_dict()` is the verify-report.json form."""

    python: str
    python_version: str | None
    target: str
    checks: tuple[Check, ...]
    expectation: str | None = None
    profile_hash: str | None = None
    plan_hash: str | None = None
    lock_hash: str | None = None
    notes: tuple[LogNote, ...] = ()
    log: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Per framework, its log lines and Python warnings, verbatim."""
    timings: tuple[tuple[str, float], ...] = ()
    probe: dict[str, Any] = field(default_factory=dict)
    """The probe's raw output, for `envgen doctor` and bug reports."""
    mode: str = "full"
    """full (the probe ran), or quick (the record of the last full verification and the
    installed files proved it; no interpreter started)."""
    proof: dict[str, Any] = field(default_factory=dict)
    """quick: the record it rests on and that verification's checks; full: why the quick check
    did not apply, and where this run's record went."""

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks if c.required)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.required and not c.ok)

    @property
    def warnings(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.required and not c.ok)

    def to_dict(self) -> dict[str, Any]:
        return {
            # First key, so the file's head carries files.MARKER and re-runs may replace it.
            "generator": f"{MARKER} {__version__} (envgen verify)",
            "schema": REPORT_SCHEMA,
            "ok": self.ok,
            "mode": self.mode,
            "target": self.target,
            "python": self.python,
            "python-version": self.python_version,
            "expectation": self.expectation,
            "profile-hash": self.profile_hash,
            "plan-hash": self.plan_hash,
            "lock-hash": self.lock_hash,
            "checks": [c.to_dict() for c in self.checks],
            "notes": [n.to_dict() for n in self.notes],
            "log": {name: list(lines) for name, lines in self.log},
            "timings": dict(self.timings),
            "proof": self.proof,
            "probe": self.probe,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"
