"""`envgen lock`: resolve each variant for each platform, lock it, write (or `--check`) a lock set."""

from __future__ import annotations

from pathlib import Path

from envgen.cli import Result
from envgen.cli.plan import request_from
from envgen.documents import shown
from envgen.errors import OptionError, UsageError, VerificationError
from envgen.options import OPTIONS, Options

VARIANTS = ("cpu", "gpu")


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _command(args: Options) -> str:
    """The command that regenerates the lock set, as the files' headers show it."""
    from envgen.escape import shell_join

    argv = ["envgen", "lock"]
    for flag in ("profile", "target", "python", "tensorflow", "keras", "channel"):
        value = getattr(args, flag)
        if value is not None and value != OPTIONS[flag].default:
            argv += [f"--{flag}", str(value)]
    argv += ["--platform", args.platform] if args.platform else []
    argv += ["--variants", args.variants] if args.variants else []
    argv += [arg for url in args.conda_channel or [] for arg in ("--conda-channel", url)]
    argv += ["--output-dir", args.output_dir]
    return shell_join(argv)


def run(args: Options) -> Result:
    from envgen.build.venv import find_uv
    from envgen.detect import load_or_detect
    from envgen.kb import load_kb
    from envgen.kb.lock_platforms import load_lock_platforms
    from envgen.lock.lockset import check_lock_set, make_lock_set, write_lock_set
    from envgen.plan import Plan
    from envgen.resolve import platform_of, resolve
    from envgen.resolve.platforms import plans_for

    request = request_from(args)
    profile = load_or_detect(args.profile)
    kb = load_kb()
    table = load_lock_platforms()
    own = platform_of(profile, kb)
    if not _split(args.platform) and own is None:
        # This machine has no official platform (an armv7l board): the resolver says why, and
        # the remedies, like every other command; --platform locks for the ones that exist.
        found = resolve(profile, kb, request)
        if not isinstance(found, Plan):
            raise found.to_error()
    names = _split(args.platform) or [own or ""]
    try:
        platforms = [table.get(name) for name in names]
    except UsageError as exc:
        raise OptionError("platform", exc.message, hint=exc.hint) from exc
    variants = _split(args.variants) or ["gpu" if profile.has_nvidia_gpu else "cpu"]
    for v in variants:
        if v not in VARIANTS:
            raise OptionError("variants", f"unknown variant {shown(v)}", hint="available: cpu, gpu")
    plans = plans_for(profile, kb, request, platforms, variants)
    out = Path(args.output_dir)
    channels = list(args.conda_channel or [])
    if args.check:
        diffs = check_lock_set(out, plans, request, conda_channels=channels, kb=kb)
        payload = {"directory": str(out), "current": not diffs, "changes": diffs}
        if not diffs:
            return Result("lock", payload, f"{out}: lock set is current")
        human = f"{out}: lock set is out of date:\n" + "\n".join(f"  - {d}" for d in diffs)
        human += f"\nregenerate with: {_command(args)}"
        return Result("lock", payload, human, ok=False, exit_code=VerificationError.exit_code)
    made = make_lock_set(
        plans,
        request,
        kb,
        command=_command(args),
        conda_channels=channels,
        # The uv installed with envgen sits next to its interpreter, on PATH or not.
        uv=args.uv or find_uv() or "uv",
    )
    changed = write_lock_set(made, out, force=args.force)
    lines = [f"{out}: {len(made.files)} file(s), {len(changed)} changed"]
    for var in made.index.variants:
        locks = ", ".join(f"{lk.platform} ({lk.packages} packages)" for lk in var.locks)
        lines.append(f"  {var.name}: {locks}")
    payload = {
        "directory": str(out),
        "input-hash": made.index.input_hash,
        "files": sorted(made.files),
        "changed": changed,
    }
    return Result("lock", payload, "\n".join(lines))
