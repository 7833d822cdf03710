"""`envgen detect`: observe this machine (or validate a profile file) and show the profile."""

from __future__ import annotations

from pathlib import Path

from envgen.cli import Result
from envgen.options import Options


def run(args: Options) -> Result:
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
        for name, text in sorted(raw.items()):
            write_text(directory / name, text, force=True)
        lines.append(f"{len(raw)} raw source file(s) written to {directory}")
    human = show_profile(profile) + ("\n" + "\n".join(lines) if lines else "")
    return Result("detect", {"profile": profile.to_dict()}, human)
