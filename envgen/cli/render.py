"""`envgen render`: plan, then write environment.yml, requirements.txt and a Dockerfile (and, on
request, pip.conf / uv.toml / .condarc for the mirror)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from envgen.cli import Result
from envgen.cli.plan import REQUEST_DEFAULTS, add_request_options, request_from
from envgen.errors import UsageError

# Options the project's [tool.envgen] table may set: resolved in the handler, where the table is
# read, with the same precedence function as every other option (settings.resolve).
CONFIGURABLE: dict[str, Any] = {
    **{k: v for k, v in REQUEST_DEFAULTS.items() if k != "profile"},
    "mirror": "pypi",
    "format": "environment.yml,requirements.txt,Dockerfile",
}
# Options that only flags and ENVGEN_* variables set (resolved by the CLI's main()).
OPTION_DEFAULTS: dict[str, Any] = {
    "profile": None,
    "output_dir": ".",
    "lock": None,
    "allow_insecure_mirror": False,
    "force": False,
    "save_config": False,
}


def regenerate_command(args: argparse.Namespace, mirror: str) -> str:
    """The command a header names: the effective request, so it reproduces the files anywhere.

    `mirror` is the one chosen (what `auto` picked, a URL without its login), so that rerunning
    gives the same bytes. Quoted by escape.shell_join: one line, whatever the arguments hold.
    """
    from envgen.escape import shell_join

    argv = ["envgen", "render"]
    if args.profile:
        argv += ["--profile", args.profile]
    for dest in ("target", "python", "tensorflow", "keras", "channel"):
        value = getattr(args, dest)
        if value is not None and value != CONFIGURABLE[dest]:
            argv += [f"--{dest}", str(value)]
    if mirror != CONFIGURABLE["mirror"]:
        argv += ["--mirror", mirror]
    if args.allow_insecure_mirror:
        argv.append("--allow-insecure-mirror")
    if args.lock:
        argv += ["--lock", args.lock]
    return shell_join(argv)


def _check_lock(value: str, out: Path) -> None:
    """`--lock` names a file inside the build context (--output-dir), or it is refused (exit 2):
    the Dockerfile COPYs it, and a COPY from outside the context fails or leaks another file."""
    from envgen.render import context_path_problem

    # The flag's ENVGEN_* twin fills the same option; name whichever the value came from.
    source = "ENVGEN_LOCK" if os.environ.get("ENVGEN_LOCK") == value else "--lock"
    hint = "give the lock's path relative to --output-dir (the Docker build context)"
    why = context_path_problem(value)
    if why is None and not (out / value).is_file():
        why = f"no such file in {str(out)!r}"
    elif why is None and not (out / value).resolve().is_relative_to(out.resolve()):
        why = "a link to a file outside the build context"
    if why is not None:
        raise UsageError(f"{source} {value!r}: {why}", hint=hint)


def run(args: argparse.Namespace) -> Result:
    from envgen import config
    from envgen.detect import load_or_detect
    from envgen.escape import single_line
    from envgen.kb import load_kb
    from envgen.mirrors import CUSTOM, choose
    from envgen.plan import Plan
    from envgen.render import RenderOptions, parse_formats, render, write
    from envgen.resolve import resolve, validate
    from envgen.settings import resolve as resolve_settings
    from envgen.settings import source_of

    project = config.load(Path.cwd())
    resolve_settings(args, CONFIGURABLE, os.environ, project.options(), labels=project.labels())
    formats = parse_formats(args.format)
    if args.lock:
        # Written into the Dockerfile's COPY line: refused here, where its source is known.
        single_line(args.lock, source_of(args, "lock"))
    kb = load_kb()
    # Before planning: a bad mirror is the user's to fix, whatever the plan would be.
    choice = choose(
        args.mirror,
        kb.mirrors,
        allow_insecure=args.allow_insecure_mirror,
    )
    request = request_from(args)
    validate(request)
    plan = resolve(load_or_detect(args.profile), kb, request)
    if not isinstance(plan, Plan):
        raise plan.to_error()
    out = Path(args.output_dir)
    if args.lock:
        _check_lock(args.lock, out)
    options = RenderOptions(
        mirror=choice,
        formats=formats,
        command=regenerate_command(args, choice.shown),
        lockfile=args.lock,
    )
    result = write(render(plan, options), out, force=args.force)
    lines = [f"{path}: {'written' if changed else 'unchanged'}" for path, changed in result.written]
    lines += [f"skipped {name}: {why}" for name, why in result.skipped]
    lines += [f"note: {note}" for note in result.notes]
    lines.append(f"mirror: {choice.mirror.name} ({choice.shown})")
    if choice.fallbacks:
        lines.append(f"fallback order: {', '.join(choice.fallbacks)}")
    if args.save_config:
        saved = config.save(
            Path.cwd(),
            {
                "target": args.target,
                "python": args.python,
                "tensorflow": args.tensorflow,
                "keras": args.keras,
                "channel": args.channel,
                # A URL is saved without its login: pyproject.toml is committed.
                "mirror": choice.spec if choice.mirror.name == CUSTOM else args.mirror,
                "outputs": list(formats),
            },
        )
        lines.append(f"request saved to {saved}")
    payload = {"render": result.to_dict(), "mirror": choice.to_dict(), "plan": plan.to_dict()}
    return Result("render", payload, "\n".join(lines))


def add_parser(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    from envgen.render import ALL_FORMATS

    p = sub.add_parser(
        "render",
        help="write environment.yml, requirements.txt and a Dockerfile for the planned stack",
        description=(
            "Plan the stack, then write the files a team commits. Options not given come from "
            "ENVGEN_* variables, then [tool.envgen] in pyproject.toml (or envgen.toml)."
        ),
        allow_abbrev=False,
    )
    common(p)
    add_request_options(p)
    p.add_argument(
        "--mirror",
        metavar="NAME|URL|auto",
        help="package index: a preset (pypi, tuna, aliyun, ...), an https URL, or auto (fastest)",
    )
    p.add_argument(
        "--allow-insecure-mirror",
        action="store_true",
        default=None,
        help="accept an http:// mirror (pip gets --trusted-host; traffic is unencrypted)",
    )
    p.add_argument("--output-dir", "-o", metavar="DIR", help="where to write (default: .)")
    p.add_argument(
        "--format",
        metavar="LIST",
        help=f"comma-separated, from: {', '.join(ALL_FORMATS)} (default: the first three)",
    )
    p.add_argument(
        "--lock",
        metavar="FILE",
        help="hashed lock under --output-dir for the Dockerfile to install from",
    )
    p.add_argument(
        "--force",
        action="store_true",
        default=None,
        help="overwrite files a person wrote or edited",
    )
    p.add_argument(
        "--save-config",
        action="store_true",
        default=None,
        help="record the request in [tool.envgen] (pyproject.toml, else envgen.toml)",
    )
    p.set_defaults(handler=run, option_defaults=OPTION_DEFAULTS)
