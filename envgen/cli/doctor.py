"""`envgen doctor`: diagnose an error log and/or a Python environment, print causes and fixes."""

from __future__ import annotations

import os
import shlex
from typing import TYPE_CHECKING

from envgen.cli import Result
from envgen.errors import UsageError, VerificationError
from envgen.options import Options

if TYPE_CHECKING:
    from envgen.doctor import Diagnosis

# How each severity is marked in human output (plain text: it must read well without a TTY).
_MARK = {"error": "ERROR", "warning": "WARNING", "info": "note"}


def _interpreter(args: Options) -> list[str] | None:
    """The command that starts the target interpreter, or None when no environment was asked for."""
    from envgen.environment import active_interpreter, interpreter_in

    if args.interpreter:
        # A wrapper with arguments is allowed ("qemu-x86_64 -cpu Westmere /env/bin/python").
        return shlex.split(args.interpreter)
    if args.prefix:
        return [str(interpreter_in(args.prefix))]
    if args.log is None:
        # Nothing named: the active environment, if any (the question is usually "why does my
        # current environment fail?").
        active = active_interpreter(os.environ)
        if active is not None:
            return [str(active)]
        raise UsageError(
            "nothing to diagnose",
            hint="give --log FILE (or - for standard input), --prefix DIR or --python EXE",
        )
    return None


def run(args: Options) -> Result:
    from envgen.doctor import diagnose, read_environment, read_log
    from envgen.kb import load_kb

    python = _interpreter(args)
    log = read_log(args.log) if args.log is not None else None
    environment = None
    profile = None
    if python is not None:
        from envgen.detect import load_or_detect

        environment = read_environment(python, import_timeout=args.timeout)
        # Cross-checks need the machine: the profile file when given, else this machine.
        profile = load_or_detect(args.profile)
    elif args.profile:
        from envgen.detect import load_or_detect

        profile = load_or_detect(args.profile)
    result = diagnose(
        load_kb(),
        log=log,
        environment=environment,
        profile=profile,
        profile_path=args.profile,
        target=args.target,
    )
    exit_code = 0 if result.ok else VerificationError.exit_code
    return Result("doctor", result.to_dict(), show_diagnosis(result), result.ok, exit_code)


def show_diagnosis(d: Diagnosis) -> str:
    """Findings as text, most severe first; the command to run last."""
    lines = []
    env = d.environment
    if env is not None:
        tf = env.tensorflow()
        stack = ", ".join(
            f"{n} {env.packages[n]}" for n in ("keras", "tf-keras", "numpy") if n in env.packages
        )
        lines.append(
            f"environment: Python {env.python} ({env.executable}); "
            + (f"{tf[0]} {tf[1]}" if tf else "no tensorflow")
            + (f", {stack}" if stack else "")
        )
        imports = [("tensorflow", env.tensorflow_import), *env.backends.items()]
        for name, imp in imports:
            if imp is None:
                continue
            status = "ok" if imp.ok else f"failed (exit status {imp.returncode})"
            if imp.signal:
                status = f"killed by {imp.signal} (exit status {imp.returncode})"
            if imp.ok and imp.version and name != "tensorflow":
                gpus = ", ".join(imp.gpus or ()) or "no GPU"
                status = f"ok ({imp.version}; {gpus})"
            lines.append(f"import {name}: {status}")
        lines.append("")
    if not d.findings:
        lines.append("No known problem found.")
    elif all(f.severity == "info" for f in d.findings):
        lines += ["No failure: every known message here is informational.", ""]
    for f in d.findings:
        lines.append(f"{_MARK[f.severity]}: [{f.code}] {f.cause}")
        if f.evidence:
            lines.append(f"  evidence: {f.evidence}")
        lines += [f"  inferred: {line}" for line in f.inferred]
        lines.append(f"  fix: {f.fix}")
        if f.command:
            lines.append(f"  run: {f.command}")
        lines.append("")
    counts = {s: sum(f.severity == s for f in d.findings) for s in _MARK}
    lines.append(
        f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s)."
    )
    if not d.ok:
        lines.append(f"A working environment for this machine: {d.suggested}")
    return "\n".join(lines)
