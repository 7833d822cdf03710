"""`envgen build`: this machine's variant of the committed lock set, built (the build stage alone)."""

from __future__ import annotations

import sys
from pathlib import Path

from envgen.cli import Result
from envgen.options import Options


def _progress(line: str) -> None:
    # Stage lines go to stderr so `--json` output on stdout stays one document.
    print(f"envgen: {line}", file=sys.stderr, flush=True)


def run(args: Options) -> Result:
    from envgen import install
    from envgen.backends import get_backend
    from envgen.create import DEFAULT_PREFIX
    from envgen.detect import load_or_detect
    from envgen.escape import single_line
    from envgen.kb import load_kb
    from envgen.lock import team
    from envgen.mirrors import choose, torch_index_mirror
    from envgen.team_files import LOCK_DIR

    if args.base_image is not None:
        single_line(args.base_image, args.label("base_image"))
    kb = load_kb()
    project = Path(args.output_dir)
    prefix = Path(args.prefix) if args.prefix else project / DEFAULT_PREFIX
    backend = get_backend(args.backend, check=True)
    mirror = choose(args.mirror, kb.mirrors)
    torch_index_mirror(args.torch_mirror)  # refused here, before anything is built
    profile = load_or_detect(args.profile)
    mode = "frozen" if args.frozen else "locked" if args.locked else "default"
    use = team.use(project / LOCK_DIR, profile, kb, mode=mode, target=args.target, force=args.force)
    for note in use.notes:
        _progress(f"lock    note: {note}")
    _progress(f"lock    {use.choice.reason}")
    request = install.request_for(
        use,
        project=project,
        prefix=prefix,
        mirror=mirror,
        force=args.force,
        base_image=args.base_image,
        progress=sys.stderr.isatty() and not args.json,
        torch_mirror=args.torch_mirror,
    )
    _progress(f"build   {backend.name} {install.where(backend, request)}")
    with install.held(backend, prefix, wait=args.wait, on_wait=lambda s: _progress(f"build   {s}")):
        built = install.build(backend, request)
    how = "reused (same lock)" if built.reused else f"installed with {built.installer}"
    where = built.image or str(built.prefix)
    human = "\n".join(
        [
            f"envgen build: {where} {how} in {built.seconds:.1f} s",
            f"  variant  {use.choice.reason}",
            f"  lock     {use.lock}",
            *(f"  note     {n}" for n in use.notes),
            "  prove it: envgen verify "
            + (f"--prefix {built.prefix}" if backend.makes_prefix else f"(image {built.image})"),
        ]
    )
    payload = {
        "variant": use.choice.variant.name,
        "choice": use.choice.reason,
        "lock": str(use.lock),
        "notes": list(use.notes),
        "build": built.to_dict(),
    }
    return Result("build", payload, human)
