"""`envgen detect`: observe this machine (or validate a profile file) and show the profile."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from envgen.cli import Result


def run(args: argparse.Namespace) -> Result:
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


def add_parser(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    from envgen.overrides import PROFILE_VARIABLES

    overrides = "\n".join(f"  {k:<22} {v}" for k, v in PROFILE_VARIABLES.items())
    p = sub.add_parser(
        "detect",
        help="observe this machine: OS, CPU, NVIDIA driver and GPUs, CUDA/cuDNN, Pythons",
        description="Observe this machine and print its hardware profile.",
        epilog="Environment variables that override single facts (testing, CI):\n" + overrides,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    common(p)
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
    p.set_defaults(handler=run, option_defaults={"profile": None, "force": False})
