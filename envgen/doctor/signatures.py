"""Known failure messages in a log or in an import's output (`signatures.toml`), as findings.

For each known message found, the finding's cause and fix are filled from, in this order of
precedence: what the message itself captured (the library, the version in it), the facts the log
gives away elsewhere (`facts.py`) or the hardware profile does, and what the knowledge base derives
from those (`lookups.py`). The template variant chosen is the first whose fields are all known, so
the fix is as specific as the log allows, and the finding lists each fact it relied on with the
line it was read from.
"""

from __future__ import annotations

from collections.abc import Mapping

from envgen.doctor.context import Context, clean, clip
from envgen.doctor.facts import VALUE_CHARS, Fact, profile_facts, read_facts
from envgen.doctor.lookups import LOOKUPS
from envgen.doctor.model import Finding
from envgen.kb.signatures import DEFAULT_COMMAND, Match, Signature, fields_of, render


def normalise(text: str) -> str:
    """Windows and terminal line ends as "\\n", so that patterns see one line per line."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def from_signatures(
    text: str, ctx: Context, origin: str, known: Mapping[str, Fact] | None = None
) -> list[Finding]:
    """Known failure messages in `text`, ranked for this machine (`Context.ranked`): GPU-only
    noise is a note without a GPU, a GPU-blocking message an error where a GPU should be used."""
    text = normalise(text)
    table = ctx.kb.signatures
    matches = table.match(text)
    if not matches:
        return []
    # The examined environment's own versions (`known`) win over what the log says of them.
    facts = {**profile_facts(ctx.profile), **read_facts(text, table.facts), **(known or {})}
    out = []
    for m in matches:
        sig = table.get(m.code)
        assert sig is not None  # matches come from the table
        out.append(signature_finding(m, sig, facts, ctx, origin))
    return out


class _Case:
    """The fields of one finding and where each came from."""

    def __init__(self, m: Match, facts: Mapping[str, Fact]) -> None:
        self.groups = {k: clean(v, VALUE_CHARS) for k, v in m.groups.items()}
        self.facts = facts
        self.fields: dict[str, str] = {k: f.value for k, f in facts.items()}
        self.fields.update(self.groups)  # the message's own numbers win over the log's others
        self.derived: dict[str, tuple[str, tuple[str, ...]]] = {}

    def look_up(self, sig: Signature, ctx: Context) -> None:
        for kind in sig.lookups:
            found = LOOKUPS[kind](ctx.kb, self.fields)
            for name, value in found.gives.items():
                if not self.fields.get(name):
                    self.fields[name] = clean(value, VALUE_CHARS)
                    self.derived[name] = (kind, found.inputs(name))

    def explain(self, used: list[str], ctx: Context) -> tuple[str, ...]:
        """What the finding inferred and from where, for the fields its text used."""
        lines: list[str] = []
        seen: set[str] = set()

        def visit(name: str) -> None:
            if name in seen or name in self.groups:
                return  # the evidence line already shows the message's own numbers
            seen.add(name)
            if name in self.derived:
                kind, inputs = self.derived[name]
                says = ctx.kb.signatures.lookups[kind].says
                if says is not None:
                    line = says.format_map({n: self.fields.get(n) or "?" for n in fields_of(says)})
                    lines.append(f"{line} ({ctx.kb.signatures.lookups[kind].source})")
                for n in inputs:
                    visit(n)
            elif name in self.facts:
                lines.append(self.facts[name].explain())

        for name in used:
            visit(name)
        return tuple(dict.fromkeys(lines))


def signature_finding(
    m: Match,
    sig: Signature,
    facts: Mapping[str, Fact],
    ctx: Context,
    origin: str,
) -> Finding:
    case = _Case(m, facts)
    case.look_up(sig, ctx)
    cause, used = render(sig.cause, case.fields)
    fix, used_fix = render(sig.fix, case.fields)
    severity, cause, source = ctx.ranked(m.code, sig.severity, cause, sig.source)
    # Notes need no action; everything else gets the command that plans a working environment
    # (the row's own when every field it names is known).
    command = None
    template = sig.command
    used_command: list[str] = []
    if severity != "info" and template is not None:
        names = fields_of(template) - {"target"}
        if not all(case.fields.get(n) for n in names):
            template, names = DEFAULT_COMMAND, set()
        used_command = sorted(names)
        command = ctx.command(template, case.fields)
    return Finding(
        code=m.code,
        severity=severity,
        evidence=clip(f"line {m.line_number}: {m.line}" if origin == "log" else m.line),
        cause=cause,
        fix=fix,
        command=command,
        source=source,
        origin=origin,
        inferred=case.explain([*used, *used_fix, *used_command], ctx),
    )
