"""`envgen create`: detect, plan, render, lock, build and verify in one command."""

from __future__ import annotations

import sys
from pathlib import Path

from envgen.cli import Result
from envgen.cli.plan import request_from
from envgen.options import OPTIONS, Options


def _command(args: Options) -> str:
    """The command line that recreates this environment, for the rendered files' headers: one
    line whatever the arguments hold (escape.shell_join), a mirror's login shown as `***`."""
    from envgen.credentials import redact_value
    from envgen.escape import shell_join

    argv = ["envgen", "create"]
    flags = ("profile", "target", "python", "tensorflow", "keras", "channel", "keras_backend")
    for flag in (*flags, "mirror", "torch_mirror"):
        value = getattr(args, flag)
        if value is not None and value != OPTIONS[flag].default:
            shown = redact_value(str(value)) if flag.endswith("mirror") else str(value)
            argv += [OPTIONS[flag].flag, shown]
    return shell_join(argv)


def _progress(line: str) -> None:
    # Stage lines go to stderr so `--json` output on stdout stays one document.
    print(f"envgen: {line}", file=sys.stderr, flush=True)


def run(args: Options) -> Result:
    from envgen.create import CreateOptions, create
    from envgen.detect import load_or_detect
    from envgen.escape import single_line
    from envgen.kb import load_kb
    from envgen.show import show_create

    if args.base_image is not None:
        single_line(args.base_image, args.label("base_image"))
    from envgen.mirrors import torch_index_mirror

    torch_mirror = torch_index_mirror(args.torch_mirror)
    request = request_from(args)
    profile = load_or_detect(args.profile)
    project = Path(args.output_dir)
    options = CreateOptions(
        project=project,
        prefix=Path(args.prefix) if args.prefix else None,
        backend=args.backend,
        mirror=args.mirror,
        locked=args.locked,
        frozen=args.frozen,
        force=args.force,
        verify=not args.no_verify,
        full_verify=args.full,
        command=_command(args),
        # uv's own progress bars, on a terminal only (never inside --json output).
        progress=sys.stderr.isatty() and not args.json,
        base_image=args.base_image,
        wait=args.wait,
        relock=args.relock,
        request_given=tuple(
            d
            for d in ("python", "tensorflow", "keras", "channel", "keras_backend")
            if args.source(d).kind != "default"
        ),
        from_bundle=Path(args.from_bundle) if args.from_bundle else None,
        mirror_source=args.label("mirror"),
        mirror_given=args.source("mirror").kind != "default",
        torch_mirror=args.torch_mirror.strip() if torch_mirror is not None else None,
    )
    result = create(profile, load_kb(), request, options, _progress)
    return Result("create", result.to_dict(), show_create(result))
