"""Command-line interface: the only module that parses arguments, prints and picks exit codes.

argparse keeps start-up cheap (click/typer add 70-120 ms, lab report §6). Each subcommand's
handler returns a `Result`; `main()` prints it as a versioned JSON envelope (`--json`) or as
human text, and maps `EnvgenError` subclasses to their exit codes. Tracebacks only with --debug.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envgen import __version__
from envgen.errors import EnvgenError, UsageError

EXIT_INTERRUPTED = 130


@dataclass
class Result:
    """What a command produced: JSON payload keys, human text, and whether it succeeded."""

    command: str
    payload: dict[str, Any]
    human: str
    ok: bool = True
    exit_code: int = 0
    warnings: list[str] = field(default_factory=list)


Handler = Callable[[argparse.Namespace], Result]


def envelope(command: str, ok: bool, **payload: Any) -> dict[str, Any]:
    return {"schema": f"envgen.{command}/1", "ok": ok, **payload}


# --- detect --------------------------------------------------------------------------------------


def cmd_detect(args: argparse.Namespace) -> Result:
    from envgen.detect import detect, load_or_detect
    from envgen.files import write_text
    from envgen.profile import to_json, to_toml
    from envgen.show import show_profile

    if args.profile:
        profile = load_or_detect(args.profile)
        raw: dict[str, str] = {}
    else:
        detection = detect()
        profile, raw = detection.profile, detection.raw
    lines = []
    if args.output:
        out = Path(args.output)
        text = to_json(profile) + "\n" if out.suffix == ".json" else to_toml(profile)
        write_text(out, text, force=args.force)
        lines.append(f"profile written to {out}")
    if args.capture:
        directory = Path(args.capture)
        if not args.profile:
            raw = {**raw, "profile.json": to_json(profile) + "\n"}
            for name in ("/proc/cpuinfo", "/etc/os-release"):
                if Path(name).is_file():
                    raw[name.strip("/").replace("/", "-") + ".txt"] = Path(name).read_text(
                        encoding="utf-8", errors="replace"
                    )
        for name, text in sorted(raw.items()):
            write_text(directory / name, text, force=True)
        lines.append(f"{len(raw)} raw source file(s) written to {directory}")
    human = show_profile(profile) + ("\n" + "\n".join(lines) if lines else "")
    return Result("detect", {"profile": profile.to_dict()}, human)


# --- parser --------------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS lets `envgen --json detect` and `envgen detect --json` both work.
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print a versioned JSON envelope instead of text",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log every step and show tracebacks",
    )


def build_parser() -> argparse.ArgumentParser:
    from envgen.overrides import PROFILE_VARIABLES

    parser = argparse.ArgumentParser(
        prog="envgen",
        description="Detect the machine, decide a known-good TensorFlow stack, build and verify it.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"envgen {__version__}")
    _common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    overrides = "\n".join(f"  {k:<22} {v}" for k, v in PROFILE_VARIABLES.items())
    p = sub.add_parser(
        "detect",
        help="observe this machine: OS, CPU, NVIDIA driver and GPUs, CUDA/cuDNN, Pythons",
        description="Observe this machine and print its hardware profile.",
        epilog="Environment variables that override single facts (testing, CI):\n" + overrides,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    _common(p)
    p.add_argument(
        "--profile",
        metavar="FILE",
        help="read a profile file instead of detecting (validates and completes it)",
    )
    p.add_argument(
        "--output", "-o", metavar="FILE", help="write the profile to FILE (.toml, or .json)"
    )
    p.add_argument(
        "--capture",
        metavar="DIR",
        help="also save the raw text each source returned (for bug reports and tests)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        default=None,
        help="overwrite an output file that envgen did not write",
    )
    p.set_defaults(handler=cmd_detect, option_defaults={"profile": None, "force": False})
    return parser


# --- main ----------------------------------------------------------------------------------------


def _print_error(exc: EnvgenError, command: str, as_json: bool) -> None:
    if as_json:
        error: dict[str, Any] = {"code": exc.code, "message": exc.message}
        if exc.hint:
            error["hint"] = exc.hint
        remedies = getattr(exc, "remedies", None)
        if remedies:
            error["remedies"] = remedies
        print(json.dumps(envelope(command, False, error=error), indent=2))
        return
    print(f"envgen: error: {exc.message}", file=sys.stderr)
    for remedy in getattr(exc, "remedies", None) or []:
        print(f"  - {remedy}", file=sys.stderr)
    if exc.hint:
        print(f"hint: {exc.hint}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    from envgen.settings import resolve

    parser = build_parser()
    args = parser.parse_args(argv)
    as_json = bool(getattr(args, "json", False)) or os.environ.get("ENVGEN_JSON", "") == "1"
    debug = bool(getattr(args, "debug", False)) or os.environ.get("ENVGEN_DEBUG", "") == "1"
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="envgen: %(levelname)s: %(message)s",
    )
    handler: Handler = args.handler
    try:
        resolve(args, args.option_defaults, os.environ)
        result = handler(args)
    except EnvgenError as exc:
        if debug:
            logging.getLogger("envgen").exception("failed")
        _print_error(exc, args.command, as_json)
        return exc.exit_code
    except KeyboardInterrupt:
        print("envgen: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if debug:
            raise
        print(f"envgen: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("hint: rerun with --debug for the traceback, and report it", file=sys.stderr)
        return 1
    if as_json:
        payload = envelope(result.command, result.ok, **result.payload)
        print(json.dumps(payload, indent=2))
    else:
        print(result.human)
    return result.exit_code


__all__ = ["UsageError", "main"]
