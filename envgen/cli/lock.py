"""`envgen lock`: resolve each variant for each platform, lock it, write (or `--check`) a lock set."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from envgen.cli import Result
from envgen.cli.plan import request_from
from envgen.options import OPTIONS, Options

if TYPE_CHECKING:
    from envgen.lock.team import Ask


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _command(args: Options) -> str:
    """The command that regenerates the lock set, as the files' headers show it."""
    from envgen.escape import shell_join

    argv = ["envgen", "lock"]
    for flag in ("profile", "target", "python", "tensorflow", "keras", "channel", "keras_backend"):
        value = getattr(args, flag)
        if value is not None and value != OPTIONS[flag].default:
            argv += [OPTIONS[flag].flag, str(value)]
    argv += ["--platform", args.platform] if args.platform else []
    argv += ["--variants", args.variants] if args.variants else []
    argv += [arg for url in args.conda_channel or [] for arg in ("--conda-channel", url)]
    argv += ["--output-dir", args.output_dir]
    return shell_join(argv)


def ask_from(args: Options) -> Ask:
    """What `envgen lock` is asked for: each option the user set (a flag, its ENVGEN_* twin or
    the project's [tool.envgen]); the rest comes from the committed set's index."""
    from envgen.detect import load_or_detect
    from envgen.lock.team import Ask, existing, explicit_request

    given = [d for d in args.values if args.source(d).kind != "default"]
    directory = Path(args.output_dir)
    return Ask(
        directory=directory,
        request=explicit_request(request_from(args), given, existing(directory)),
        machine=load_or_detect(args.profile) if args.profile else None,
        platforms=tuple(_split(args.platform)),
        variants=tuple(_split(args.variants)),
        conda_channels=tuple(args.conda_channel or ()),
    )


def run(args: Options) -> Result:
    from envgen.detect import load_or_detect
    from envgen.kb import load_kb
    from envgen.lock import team
    from envgen.tools import find_uv

    kb = load_kb()
    ask = ask_from(args)
    out = ask.directory
    if args.check:
        found = team.check(ask, kb)
        payload = {
            "directory": str(out),
            "current": True,
            "changes": [],
            "notes": list(found.notes),
        }
        human = "\n".join([f"{out}: lock set is current", *found.notes])
        return Result("lock", payload, human)
    made, changed = team.lock(
        ask,
        kb,
        command=_command(args),
        # The uv installed with envgen sits next to its interpreter, on PATH or not.
        uv=lambda: args.uv or find_uv() or "uv",
        detect=lambda: load_or_detect(None),
        force=args.force,
    )
    lines = [f"{out}: {len(made.files)} file(s), {len(changed)} changed"]
    for var in made.index.variants:
        locks = ", ".join(f"{lk.platform} ({lk.packages} packages)" for lk in var.locks)
        lines.append(f"  {var.name}: {locks}")
    if made.reused:
        lines.append(f"  kept as they were (same plan): {', '.join(made.reused)}")
    payload = {
        "directory": str(out),
        "input-hash": made.index.input_hash,
        "files": sorted(made.files),
        "changed": changed,
        "reused": list(made.reused),
    }
    return Result("lock", payload, "\n".join(lines))
