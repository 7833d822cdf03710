"""`envgen verify`: prove that an environment (envgen-built or not) imports and computes."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envgen.cli import Result
from envgen.documents import shown
from envgen.errors import OptionError, UsageError, VerificationError

if TYPE_CHECKING:
    from envgen.verify import VerifyReport

TARGETS = ("cpu", "gpu", "auto")
_MARK = {True: "ok  ", False: "FAIL"}


def _human(report: VerifyReport, report_path: Path | None) -> str:
    lines = [f"verify {report.python} (target {report.target})"]
    for check in report.checks:
        mark = _MARK[check.ok] if check.ok or check.required else "warn"
        lines.append(f"  {mark} {check.name:<24} {check.detail}")
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


def run(args: argparse.Namespace) -> Result:
    from envgen.detect import load_or_detect
    from envgen.environment import active_interpreter, interpreter_in
    from envgen.files import write_text
    from envgen.kb import load_kb
    from envgen.profile import digest
    from envgen.verify import REPORT_NAME, verify
    from envgen.verify.expect import from_lock

    if args.prefix and args.python:
        raise UsageError("give --prefix or --python, not both")
    if args.target not in TARGETS:
        raise OptionError(
            "target", f"expected one of {', '.join(TARGETS)}, got {shown(args.target)}"
        )
    if args.python:
        python = Path(args.python)
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
    try:
        timeout = float(args.timeout)
    except ValueError as exc:
        raise OptionError(
            "timeout", f"expected a number of seconds, got {shown(args.timeout)}"
        ) from exc
    report = verify(
        python,
        target=args.target,
        expect=expect,
        cpu_flags=profile.cpu.flags,
        kb=load_kb(),
        profile_hash=profile_hash,
        timeout=timeout,
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


def add_parser(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "verify",
        help="prove an environment works: imports, devices, GPU compute, installed versions",
        description=(
            "Run a probe with the environment's own interpreter: installed versions against a "
            "lock, import of TensorFlow (or PyTorch/JAX) in a child process, devices, a matmul "
            "on each GPU against the CPU, a tiny training run, and the NVIDIA driver through "
            "libcuda. Exits 6 when a required check fails."
        ),
        allow_abbrev=False,
    )
    common(p)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--prefix", metavar="DIR", help="the environment's root directory")
    where.add_argument("--python", metavar="EXE", help="the environment's interpreter")
    p.add_argument("--target", choices=TARGETS, help="what must work (default: auto)")
    p.add_argument(
        "--lock",
        metavar="FILE",
        help="hold installed versions to this lock (pylock.toml or hashed requirements)",
    )
    p.add_argument("--profile", metavar="FILE", help="hardware profile file instead of detecting")
    p.add_argument(
        "--report",
        metavar="FILE",
        help="where to write the JSON report (default: ./verify-report.json, or in --prefix; "
        "'-' for none)",
    )
    p.add_argument("--timeout", metavar="S", help="seconds allowed per framework (default 300)")
    p.add_argument(
        "--force",
        action="store_true",
        default=None,
        help="overwrite a report file that envgen did not write",
    )
    p.set_defaults(
        handler=run,
        # Only the target: verify's --python is an interpreter, the table's python a version.
        project_options=("target",),
        option_defaults={
            "prefix": None,
            "python": None,
            "target": "auto",
            "lock": None,
            "profile": None,
            "report": None,
            "timeout": "300",
            "force": False,
        },
    )
