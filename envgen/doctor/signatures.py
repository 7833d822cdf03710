"""Known failure messages in a log or in an import's output (`signatures.toml`), as findings."""

from __future__ import annotations

from envgen.doctor.context import Context, clip
from envgen.doctor.model import Finding
from envgen.kb.signatures import Match


def from_signatures(text: str, ctx: Context, origin: str) -> list[Finding]:
    """Known failure messages in `text`; GPU-only noise is lowered on a machine without a GPU."""
    out = []
    no_gpu = ctx.profile is not None and not ctx.profile.has_nvidia_gpu
    for m in ctx.kb.signatures.match(text):
        out.append(signature_finding(m, ctx, origin, lowered=no_gpu))
    return out


def signature_finding(m: Match, ctx: Context, origin: str, *, lowered: bool) -> Finding:
    severity, cause, source = m.severity, m.cause, m.source
    rule = ctx.checks.without_gpu.get(m.code) if lowered else None
    if rule is not None:
        severity, cause = rule.severity, f"{cause} {rule.note}"
        source = f"{source}; {rule.source}"
    # Notes need no action; everything else gets the command that plans a working environment.
    command = None if severity == "info" else ctx.command("create --target {target}", {})
    return Finding(
        code=m.code,
        severity=severity,
        evidence=clip(f"line {m.line_number}: {m.line}" if origin == "log" else m.line),
        cause=cause,
        fix=m.fix,
        command=command,
        source=source,
        origin=origin,
    )
