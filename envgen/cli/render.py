"""`envgen render`: plan, then write environment.yml, requirements.txt and a Dockerfile (and, on
request, pip.conf / uv.toml / .condarc for the mirror)."""

from __future__ import annotations

from pathlib import Path

from envgen.cli import Result
from envgen.cli.plan import request_from
from envgen.errors import UsageError
from envgen.options import OPTIONS, Options


def regenerate_command(args: Options, mirror: str) -> str:
    """The command a header names: the effective request, so it reproduces the files anywhere.

    `mirror` is the one chosen (what `auto` picked, a URL without its login), so that rerunning
    gives the same bytes. Quoted by escape.shell_join: one line, whatever the arguments hold.
    """
    from envgen.escape import shell_join

    argv = ["envgen", "render"]
    if args.profile:
        argv += ["--profile", args.profile]
    for dest in ("target", "python", "tensorflow", "keras", "channel", "keras_backend"):
        value = getattr(args, dest)
        if value is not None and value != OPTIONS[dest].default:
            argv += [OPTIONS[dest].flag, str(value)]
    if mirror != OPTIONS["mirror"].default:
        argv += ["--mirror", mirror]
    if args.allow_insecure_mirror:
        argv.append("--allow-insecure-mirror")
    if args.torch_mirror:
        from envgen.credentials import split_login

        argv += ["--torch-mirror", split_login(args.torch_mirror)[0]]
    if args.lock:
        argv += ["--lock", args.lock]
    return shell_join(argv)


def _check_lock(value: str, out: Path, source: str) -> None:
    """`--lock` names a file inside the build context (--output-dir), or it is refused (exit 2):
    the Dockerfile COPYs it, and a COPY from outside the context fails or leaks another file."""
    from envgen.render import context_path_problem

    hint = "give the lock's path relative to --output-dir (the Docker build context)"
    why = context_path_problem(value)
    if why is None and not (out / value).is_file():
        why = f"no such file in {str(out)!r}"
    elif why is None and not (out / value).resolve().is_relative_to(out.resolve()):
        why = "a link to a file outside the build context"
    if why is not None:
        raise UsageError(f"{source} {value!r}: {why}", hint=hint)


def run(args: Options) -> Result:
    from envgen import config
    from envgen.detect import load_or_detect
    from envgen.escape import single_line
    from envgen.kb import load_kb
    from envgen.mirrors import CUSTOM, choose, explain
    from envgen.plan import Plan
    from envgen.render import RenderOptions, parse_formats, render, write
    from envgen.resolve import resolve

    formats = parse_formats(args.format)
    if args.lock:
        # Written into the Dockerfile's COPY line: refused here, where its source is known.
        single_line(args.lock, args.label("lock"))
    kb = load_kb()
    # Before planning: a bad mirror is the user's to fix, whatever the plan would be.
    choice = choose(
        args.mirror,
        kb.mirrors,
        allow_insecure=args.allow_insecure_mirror,
    )
    from envgen.mirrors import torch_index_mirror

    torch_mirror = torch_index_mirror(args.torch_mirror)
    request = request_from(args)
    plan = resolve(load_or_detect(args.profile), kb, request)
    if not isinstance(plan, Plan):
        raise plan.to_error()
    out = Path(args.output_dir)
    if args.lock:
        _check_lock(args.lock, out, args.label("lock"))
    options = RenderOptions(
        mirror=choice,
        formats=formats,
        command=regenerate_command(args, choice.shown),
        lockfile=args.lock,
        torch_mirror=torch_mirror.public if torch_mirror is not None else None,
    )
    result = write(render(plan, options), out, force=args.force)
    lines = [f"{path}: {'written' if changed else 'unchanged'}" for path, changed in result.written]
    lines += [f"skipped {name}: {why}" for name, why in result.skipped]
    lines += [f"note: {note}" for note in result.notes]
    # Why this index: what `auto` probed and each latency, or where it was named.
    given = args.source("mirror").kind != "default"
    lines += [f"mirror: {line}" for line in explain(choice, args.label("mirror"), given)]
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
                "keras-backend": args.keras_backend,
                # Only where allowed: an absent key is the default (no community builds).
                "allow-community-builds": True if args.allow_community_builds else None,
                # A URL is saved without its login: pyproject.toml is committed.
                "mirror": choice.spec if choice.mirror.name == CUSTOM else args.mirror,
                "outputs": list(formats),
            },
        )
        lines.append(f"request saved to {saved}")
    payload = {"render": result.to_dict(), "mirror": choice.to_dict(), "plan": plan.to_dict()}
    return Result("render", payload, "\n".join(lines))
