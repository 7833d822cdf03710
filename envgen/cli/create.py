"""`envgen create`: detect, plan, render, lock, build and verify in one command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from envgen.cli import Result
from envgen.cli.plan import request_from
from envgen.options import OPTIONS, Options

if TYPE_CHECKING:
    from envgen.bundle import OpenedBundle
    from envgen.plan import Request


def _command(args: Options) -> str:
    """The command line that recreates this environment, for the rendered files' headers: one
    line whatever the arguments hold (escape.shell_join), a mirror's login shown as `***`."""
    from envgen.credentials import redact_value
    from envgen.escape import shell_join

    argv = ["envgen", "create"]
    for flag in ("profile", "target", "python", "tensorflow", "keras", "channel", "mirror"):
        value = getattr(args, flag)
        if value is not None and value != OPTIONS[flag].default:
            argv += [f"--{flag}", redact_value(str(value)) if flag == "mirror" else str(value)]
    return shell_join(argv)


def _progress(line: str) -> None:
    # Stage lines go to stderr so `--json` output on stdout stays one document.
    print(f"envgen: {line}", file=sys.stderr, flush=True)


def run(args: Options) -> Result:
    from envgen.escape import single_line

    if args.base_image is not None:
        single_line(args.base_image, args.label("base_image"))
    if args.from_bundle:
        return _from_bundle(args)
    return _create(args, request_from(args))


def _from_bundle(args: Options) -> Result:
    """Unpack and check the bundle next to the project, install from it, remove the copy."""
    import tempfile

    from envgen.bundle import open_bundle
    from envgen.errors import UsageError

    if args.locked:
        raise UsageError("--from-bundle installs the bundle's locks as committed; drop --locked")
    if args.backend != "venv":
        # The venv backend installs from the bundle's wheels alone (uv --offline --find-links);
        # the conda and container backends would still reach their channels and registries.
        raise UsageError(
            f"--from-bundle builds a virtualenv; the {args.backend} backend would need the network",
            hint="drop --backend, or install with the bundle's install.sh",
        )
    project = Path(args.output_dir)
    project.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".envgen-bundle-", dir=project) as work:
        opened = open_bundle(Path(args.from_bundle), Path(work))
        _progress(f"bundle  {args.from_bundle}: every file checked (sha256 {opened.sha256})")
        return _create(args, bundle_request(args, opened), opened)


def bundle_request(args: Options, opened: OpenedBundle) -> Request:
    """The request the bundle's lock set was made for, with any request flag given over it."""
    from envgen.lock.lockset import INDEX, load_index
    from envgen.plan import Request, validate

    recorded = load_index(opened.locks / INDEX).request

    def value(name: str) -> str | None:
        given = args.source(name).kind != "default"
        found = getattr(args, name) if given else recorded.get(name, getattr(args, name))
        return None if found is None else str(found)

    request = Request(
        target=value("target") or "auto",
        python=value("python"),
        tensorflow=value("tensorflow"),
        keras=value("keras"),
        channel=value("channel") or "auto",
    )
    validate(request)
    return request


def _create(args: Options, request: Request, bundle: OpenedBundle | None = None) -> Result:
    from envgen.create import CreateOptions, create
    from envgen.detect import load_or_detect
    from envgen.kb import load_kb
    from envgen.show import show_create

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
        progress=sys.stderr.isatty() and not args.json,
        base_image=args.base_image,
        bundle=bundle,
        mirror_source=args.label("mirror"),
        mirror_given=args.source("mirror").kind != "default",
    )
    result = create(profile, load_kb(), request, options, _progress)
    return Result("create", result.to_dict(), show_create(result))
