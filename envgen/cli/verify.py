"""`envgen verify`: prove that an environment (envgen-built or not) imports and computes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from envgen.cli import Result
from envgen.errors import UsageError, VerificationError
from envgen.options import Options

if TYPE_CHECKING:
    from envgen.verify import VerifyReport

_MARK = {True: "ok  ", False: "FAIL"}


def _human(report: VerifyReport, report_path: Path | None) -> str:
    lines = [f"verify {report.python} (target {report.target}, {report.mode})"]
    for check in report.checks:
        mark = _MARK[check.ok] if check.ok or check.required else "warn"
        lines.append(f"  {mark} {check.name:<24} {check.detail}")
    if report.mode == "quick":
        # What the full verification this quick one rests on proved, as it said it then.
        for check in report.proof.get("checks") or []:
            mark = (
                _MARK[bool(check.get("ok"))] if check.get("ok") or check.get("required") else "warn"
            )
            lines.append(f"    {mark} {check.get('name')!s:<22} {check.get('detail')}")
    elif report.proof.get("quick"):
        lines.append(f"  full verification; no quick proof: {report.proof['quick']}")
    for note in report.notes:
        lines.append(f"  note [{note.severity}] {note.code}: {note.cause}")
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in report.timings)
    if timings:
        lines.append(f"timings: {timings}")
    if report_path is not None:
        lines.append(f"report written to {report_path}")
    failed = len(report.failures)
    lines.append("verified: OK" if report.ok else f"verification FAILED ({failed} check(s))")
    return "\n".join(lines)


def run(args: Options) -> Result:
    from envgen.detect import load_or_detect
    from envgen.environment import active_interpreter, interpreter_in
    from envgen.files import write_text
    from envgen.kb import load_kb
    from envgen.profile import digest
    from envgen.verify import REPORT_NAME, verify
    from envgen.verify.expect import for_backend, from_lock

    if args.prefix and args.interpreter:
        # Each may come from its ENVGEN_* twin, where argparse cannot refuse the pair.
        raise UsageError(f"give {args.label('prefix')} or {args.label('interpreter')}, not both")
    if args.interpreter:
        python = Path(args.interpreter)
    elif args.prefix:
        python = interpreter_in(Path(args.prefix))
    else:
        found = active_interpreter(os.environ)
        if found is None:
            raise UsageError(
                "which environment? give --prefix DIR or --python EXE",
                hint="or activate the environment first (VIRTUAL_ENV / CONDA_PREFIX)",
            )
        python = found
    # The same machine every command sees: the profile or detection, ENVGEN_* overrides, then
    # what the knowledge base derives; hashed as plans hash it.
    profile = load_or_detect(args.profile)
    profile_hash = digest(profile)
    expect = from_lock(Path(args.lock)) if args.lock else None
    if args.source("keras_backend").kind != "default":
        # Asked for by name (flag, ENVGEN_KERAS_BACKEND, tool.envgen.keras-backend): that
        # framework must compute and Keras must fit on it; no other framework is probed. Left
        # at its default, a lock decides, else every framework installed is probed (TensorFlow
        # with its own tf.keras fit).
        expect = for_backend(expect, args.keras_backend)
    timeout = args.timeout
    report = verify(
        python,
        target=args.target,
        expect=expect,
        cpu_flags=profile.cpu.flags,
        kb=load_kb(),
        profile_hash=profile_hash,
        timeout=timeout,
        full=args.full,
    )
    if args.report == "-":
        report_path = None
    elif args.report:
        report_path = Path(args.report)
    else:
        report_path = Path(args.prefix or ".") / REPORT_NAME
    if report_path is not None:
        write_text(report_path, report.to_json(), force=args.force)
    code = 0 if report.ok else VerificationError.exit_code
    return Result(
        "verify",
        {"report": report.to_dict(), "report-path": str(report_path) if report_path else None},
        _human(report, report_path),
        ok=report.ok,
        exit_code=code,
    )
