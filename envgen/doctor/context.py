"""What every doctor check needs: the tables, the machine, and how to spell the fix command."""

from __future__ import annotations

import shlex
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from envgen.doctor.model import Finding
from envgen.kb import KnowledgeBase
from envgen.kb.doctor_checks import DoctorChecks, fill
from envgen.profile import HardwareProfile

# The evidence line of a finding quotes at most this much of a long traceback line.
_EVIDENCE_CHARS = 300


@dataclass(frozen=True)
class Context:
    """What every check needs: the tables, the machine, and how to spell the fix command."""

    kb: KnowledgeBase
    checks: DoctorChecks
    profile: HardwareProfile | None
    profile_path: str | None
    asked: str | None = None
    """The user's --target (cpu, gpu, auto) or None."""

    @property
    def target(self) -> str:
        if self.asked in ("cpu", "gpu"):
            return self.asked
        # Without a profile, `create --target auto` detects the machine it runs on.
        if self.profile is None:
            return "auto"
        return "gpu" if self.profile.has_nvidia_gpu else "cpu"

    @property
    def gpu_expected(self) -> bool | None:
        """Should TensorFlow be on a GPU here? True with --target gpu or an NVIDIA GPU in the
        profile (a GPU without a working driver too: "no driver" is then the failure), False
        with --target cpu or a profile without one, None when nothing says."""
        if self.asked in ("cpu", "gpu"):
            return self.asked == "gpu"
        if self.profile is None:
            return None
        return bool(self.profile.gpus)

    def ranked(self, code: str, severity: str, cause: str, source: str) -> tuple[str, str, str]:
        """(severity, cause, source) of a finding as this machine ranks it: GPU-blocking
        findings are errors where a GPU should be used, GPU noise is a note where none is."""
        expected = self.gpu_expected
        rule = (
            self.checks.with_gpu.get(code)
            if expected
            else self.checks.without_gpu.get(code)
            if expected is False
            else None
        )
        if rule is None:
            return severity, cause, source
        return rule.severity, f"{cause} {rule.note}", f"{source}; {rule.source}"

    def command(self, template: str | None, fields: Mapping[str, str]) -> str | None:
        if template is None:
            return None
        words = ["envgen", *shlex.split(fill(template, {"target": self.target, **fields}))]
        if self.profile_path:
            words += ["--profile", self.profile_path]
        return shlex.join(words)

    def finding(
        self,
        code: str,
        evidence: str,
        origin: str,
        fields: Mapping[str, str] | None = None,
        **extra: str,
    ) -> Finding:
        fields = {**(fields or {}), **extra}
        check = self.checks.check(code)
        severity, cause, source = self.ranked(
            code, check.severity, fill(check.cause, fields), check.source
        )
        return Finding(
            code=code,
            severity=severity,
            evidence=clip(evidence),
            cause=cause,
            fix=fill(check.fix, fields),
            command=self.command(check.command, fields),
            source=source,
            origin=origin,
        )


def clean(text: str, limit: int = _EVIDENCE_CHARS) -> str:
    """`text` as one printable line of at most `limit` characters: a log is outside input, and a
    value from it may hold control characters (a terminal's colour codes, a NUL) or line breaks.
    A message wrapped over lines reads as one."""
    kept = "".join(" " if c.isspace() else c for c in text if unicodedata.category(c)[0] != "C")
    kept = " ".join(kept.split())
    return kept if len(kept) <= limit else kept[: limit - 1] + "…"


def clip(text: str) -> str:
    """Evidence quoted from a log or a probe: one printable line, cut to a readable length."""
    return clean(text, _EVIDENCE_CHARS)
