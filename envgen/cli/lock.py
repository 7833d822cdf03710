"""`envgen lock`: resolve each variant for each platform, lock it, write (or `--check`) a lock set."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envgen.cli import Result
from envgen.cli.plan import REQUEST_DEFAULTS, add_request_options, request_from
from envgen.errors import UsageError, VerificationError

if TYPE_CHECKING:
    from envgen.kb import KnowledgeBase
    from envgen.kb.lock_platforms import LockPlatform
    from envgen.plan import Plan, Request
    from envgen.profile import HardwareProfile

VARIANTS = ("cpu", "gpu")


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _for_platform(
    profile: HardwareProfile, platform: LockPlatform, variant: str
) -> HardwareProfile:
    """The profile as it would be on `platform`: same GPUs and Python, that OS and architecture.

    A CPU variant drops the GPUs so the resolver plans for CPU; facts that only hold on the
    machine's own OS (glibc, WSL) are dropped on another OS.
    """
    same_os = profile.os.name == platform.os_name
    os_info = dataclasses.replace(
        profile.os,
        name=platform.os_name,
        arch=platform.arch,
        glibc=profile.os.glibc if same_os else None,
        wsl=profile.os.wsl and same_os,
    )
    out = dataclasses.replace(profile, os=os_info)
    if profile.os.arch != platform.arch:
        out = dataclasses.replace(
            out, cpu=dataclasses.replace(out.cpu, flags=(), x86_64_level=None)
        )
    if variant == "cpu":
        out = dataclasses.replace(out, nvidia=None, gpus=())
    return out


def plans_for(
    profile: HardwareProfile,
    kb: KnowledgeBase,
    request: Request,
    platforms: list[LockPlatform],
    variants: list[str],
) -> list[Plan]:
    """One plan per (variant, platform) that has one; a GPU variant on a platform without any
    GPU build is skipped, a variant with no plan anywhere is an error."""
    from envgen.plan import Plan, Target
    from envgen.resolve import resolve

    plans: list[Plan] = []
    for variant in variants:
        if variant == "gpu" and not profile.has_nvidia_gpu:
            raise UsageError(
                "the gpu variant needs a profile with an NVIDIA driver and GPU",
                hint="pass --profile FILE describing the GPU machine (envgen detect -o FILE there)",
            )
        found, errors = [], []
        for platform in platforms:
            wanted = dataclasses.replace(request, target=Target(variant))
            result = resolve(_for_platform(profile, platform, variant), kb, wanted)
            if isinstance(result, Plan):
                found.append(result)
            else:
                errors.append(f"{platform.name}: {result.to_error().message}")
        if not found:
            raise UsageError(
                f"no {variant} plan for any platform asked for", hint="; ".join(errors)
            )
        plans += found
    return plans


def _command(args: argparse.Namespace) -> str:
    """The command that regenerates the lock set, as the files' headers show it."""
    from envgen.escape import shell_join

    argv = ["envgen", "lock"]
    for flag in ("profile", "target", "python", "tensorflow", "keras", "channel"):
        value = getattr(args, flag)
        if value is not None and value != REQUEST_DEFAULTS.get(flag):
            argv += [f"--{flag}", str(value)]
    argv += ["--platform", args.platform] if args.platform else []
    argv += ["--variants", args.variants] if args.variants else []
    argv += [arg for url in args.conda_channel or [] for arg in ("--conda-channel", url)]
    argv += ["--output-dir", args.output_dir]
    return shell_join(argv)


def run(args: argparse.Namespace) -> Result:
    from envgen.build.venv import find_uv
    from envgen.detect import load_or_detect
    from envgen.kb import load_kb
    from envgen.kb.lock_platforms import load_lock_platforms
    from envgen.lock.lockset import check_lock_set, make_lock_set, write_lock_set
    from envgen.resolve import platform_of, validate

    request = request_from(args)
    validate(request)
    profile = load_or_detect(args.profile)
    kb = load_kb()
    table = load_lock_platforms()
    names = _split(args.platform) or [platform_of(profile, kb) or ""]
    platforms = [table.get(name) for name in names]
    variants = _split(args.variants) or ["gpu" if profile.has_nvidia_gpu else "cpu"]
    for v in variants:
        if v not in VARIANTS:
            raise UsageError(f"--variants: unknown variant {v!r}", hint="available: cpu, gpu")
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


def add_parser(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "lock",
        help="write hashed per-platform locks (pylock.toml, requirements, conda-lock.yml)",
        description=(
            "Resolve each variant for each platform and lock it with hashes in standard formats "
            "(PEP 751 pylock, pip --require-hashes requirements, conda-lock), plus an index "
            "saying which variant fits which hardware."
        ),
        allow_abbrev=False,
    )
    common(p)
    add_request_options(p)
    p.add_argument(
        "--platform",
        metavar="LIST",
        help="comma-separated: linux-64, linux-aarch64, win-64, osx-64, osx-arm64 "
        "(default: the profile's)",
    )
    p.add_argument(
        "--variants",
        metavar="LIST",
        help="comma-separated: cpu, gpu (default: the profile's target)",
    )
    p.add_argument("--output-dir", metavar="DIR", help="where the lock set goes (default: locks)")
    p.add_argument(
        "--conda-channel",
        action="append",
        metavar="URL",
        help="also write conda-lock.yml, solved against this channel (repeatable)",
    )
    p.add_argument(
        "--uv",
        metavar="PATH",
        help="the uv executable (default: uv on PATH or beside envgen's Python)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        default=None,
        help="write nothing; exit non-zero listing what no longer matches the inputs",
    )
    p.add_argument(
        "--force",
        action="store_true",
        default=None,
        help="overwrite lock files a person edited",
    )
    p.set_defaults(
        handler=run,
        option_defaults={
            **REQUEST_DEFAULTS,
            "platform": None,
            "variants": None,
            "output_dir": "locks",
            "conda_channel": None,
            "uv": None,
            "check": False,
            "force": False,
        },
    )
