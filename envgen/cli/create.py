"""`envgen create`: detect, plan, render, lock, build and verify in one command."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from envgen.cli import Result
from envgen.cli.plan import REQUEST_DEFAULTS, add_request_options, request_from
from envgen.errors import UsageError


def _command(args: argparse.Namespace) -> str:
    """The command line that recreates this environment, for the rendered files' headers."""
    argv = ["envgen", "create"]
    for flag in ("profile", "target", "python", "tensorflow", "keras", "channel", "mirror"):
        value = getattr(args, flag)
        if value is not None and value != {**REQUEST_DEFAULTS, "mirror": "pypi"}.get(flag):
            argv += [f"--{flag}", str(value)]
    return shlex.join(argv)


def _seconds(text: str) -> float:
    """A number of seconds >= 0 (`--wait`); argparse names the flag when this raises."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds >= 0")
    return value


def _wait(value: object) -> float | None:
    """--wait as given (a float), from ENVGEN_WAIT (text), or unset (None: wait until done)."""
    if value is None or isinstance(value, float):
        return value
    try:
        return _seconds(str(value))
    except argparse.ArgumentTypeError as exc:
        raise UsageError(
            f"ENVGEN_WAIT: {exc}", hint="e.g. ENVGEN_WAIT=600; 0 refuses at once"
        ) from None


def _progress(line: str) -> None:
    # Stage lines go to stderr so `--json` output on stdout stays one document.
    print(f"envgen: {line}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> Result:
    from envgen.create import CreateOptions, create
    from envgen.detect import load_or_detect
    from envgen.kb import load_kb
    from envgen.resolve import validate
    from envgen.show import show_create

    request = request_from(args)
    validate(request)
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
        command=_command(args),
        # uv's own progress bars, on a terminal only (never inside --json output).
        progress=sys.stderr.isatty() and not getattr(args, "json", False),
        base_image=args.base_image,
        wait=_wait(args.wait),
    )
    result = create(profile, load_kb(), request, options, _progress)
    return Result("create", result.to_dict(), show_create(result))


def add_parser(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    from envgen.build import BACKENDS

    p = sub.add_parser(
        "create",
        help="the whole job: plan, write files and locks, build the environment, prove it works",
        description=(
            "Detect the machine (or read --profile), decide the stack, write environment.yml, "
            "requirements.txt, a Dockerfile and the lock set into the project, build the "
            "environment from the lock and verify it. A second run with nothing changed only "
            "re-verifies."
        ),
        allow_abbrev=False,
    )
    common(p)
    add_request_options(p)
    p.add_argument("--backend", choices=sorted(BACKENDS), help="how to build (default: venv)")
    p.add_argument("--prefix", metavar="DIR", help="where the environment goes (default: .venv)")
    p.add_argument(
        "--base-image",
        metavar="IMAGE",
        help="--backend container: the Dockerfile's BASE_IMAGE (a registry mirror, a local image)",
    )
    p.add_argument(
        "--output-dir",
        metavar="DIR",
        help="the project directory for the files and locks/ (default: .)",
    )
    p.add_argument(
        "--mirror",
        metavar="NAME|URL|auto",
        help="package index for the install (pypi, tuna, aliyun, ...; default pypi)",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--locked",
        action="store_true",
        default=None,
        help="fail if the committed lock no longer matches the plan",
    )
    mode.add_argument(
        "--frozen",
        action="store_true",
        default=None,
        help="install the committed lock as it is, without resolving",
    )
    p.add_argument(
        "--no-verify", action="store_true", default=None, help="skip the verification probe"
    )
    p.add_argument(
        "--force",
        action="store_true",
        default=None,
        help="replace files, locks or a directory that envgen did not make",
    )
    p.add_argument(
        "--wait",
        type=_seconds,
        metavar="SECONDS",
        help="when another envgen is building the same prefix, wait at most this long "
        "(default: until it is done; 0: refuse at once)",
    )
    p.add_argument(
        "--yes",
        "-y",
        action="store_true",
        default=None,
        help="do not ask before building (create never asks without a terminal)",
    )
    p.set_defaults(
        handler=run,
        option_defaults={
            **REQUEST_DEFAULTS,
            "backend": "venv",
            "prefix": None,
            "base_image": None,
            "output_dir": ".",
            "mirror": "pypi",
            "locked": False,
            "frozen": False,
            "no_verify": False,
            "force": False,
            "yes": False,
            "wait": None,
        },
    )
