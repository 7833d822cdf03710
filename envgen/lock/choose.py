"""Which variant of a committed lock set this machine installs, and why, in one line.

A team's set holds a CPU variant and one per CUDA major (`cuda12`), each for the platforms the
team locked. A machine gets the newest GPU variant its driver and GPUs can run (unless it asked
for the CPU), else the CPU variant; a variant it cannot run (no driver, a driver or GPU too old, a
CPU without the instructions the build uses) is refused with the reason unless forced; a platform
the set lacks is a no-solution naming the `envgen lock` that adds it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from envgen.errors import NoSolutionError
from envgen.lock.index import LockIndex, PlatformLock, Variant
from envgen.profile import HardwareProfile
from envgen.versions import parse_dotted

# Apple and Linux name the same 64-bit ARM architecture differently (arm64 / aarch64).
_ARCH_ALIASES = {"arm64": "aarch64"}


def _same_arch(a: str, b: str) -> bool:
    return _ARCH_ALIASES.get(a, a) == _ARCH_ALIASES.get(b, b)


@dataclass(frozen=True)
class Choice:
    """The variant that fits a machine, its lock, and why each other variant did not."""

    variant: Variant
    lock: PlatformLock
    reason: str
    """One line: what this machine has -> which variant of the set."""
    rejected: tuple[tuple[str, str], ...]
    forced: bool = False
    """Taken although it does not fit (`--force`): `reason` says why it does not."""


def machine_line(profile: HardwareProfile) -> str:
    """What of this machine decides the variant: its driver and GPUs, or their absence."""
    if profile.nvidia is None:
        return "no NVIDIA driver"
    if not profile.gpus:
        return f"NVIDIA driver {profile.nvidia.driver}, no GPU visible"
    ccs = sorted({g.compute_capability or "?" for g in profile.gpus})
    return f"NVIDIA driver {profile.nvidia.driver}, GPU cc {', '.join(ccs)}"


def _cpu_misfit(variant: Variant, profile: HardwareProfile) -> str | None:
    if not variant.cpu_features or profile.os.arch != "x86_64" or not profile.cpu.flags:
        return None
    from envgen.kb import load_kb

    kb = load_kb()
    have = kb.cpu.with_implied(kb.cpu.normalise(profile.cpu.flags, keep_all=True))
    missing = [f for f in variant.cpu_features if f not in have]
    if missing:
        return f"the CPU lacks {', '.join(m.upper() for m in missing)}, which its TensorFlow uses"
    return None


def _gpu_misfit(variant: Variant, profile: HardwareProfile) -> str | None:
    """Why a GPU variant cannot run on `profile`, or None when it can."""
    if variant.cuda is None:
        return None  # Metal: the lock exists only where the resolver found a GPU build
    if profile.nvidia is None or not profile.gpus:
        return "no NVIDIA GPU with a working driver"
    # WSL2 runs CUDA through the Windows driver, which has its own minimum.
    driver_os = "wsl" if profile.os.wsl else profile.os.name
    minimum = dict(variant.min_driver).get(driver_os)
    if minimum is not None and parse_dotted(profile.nvidia.driver) < parse_dotted(minimum):
        return f"driver {profile.nvidia.driver} is older than the {minimum} it needs"
    if variant.min_compute_capability is not None:
        ccs = [g.compute_capability for g in profile.gpus if g.compute_capability]
        if not ccs:
            return "the GPUs' compute capability is unknown"
        need = parse_dotted(variant.min_compute_capability)
        if max(parse_dotted(c) for c in ccs) < need:
            return (
                f"GPU compute capability {max(ccs, key=parse_dotted)} is below "
                f"{variant.min_compute_capability}"
            )
    return None


def add_platform_command(index: LockIndex, platform: str, directory: str = "locks") -> str:
    """The `envgen lock` that adds `platform` to this set, keeping its request and variants."""
    platforms = [*index.platforms, platform]
    argv = [
        "envgen",
        "lock",
        "--platform",
        ",".join(dict.fromkeys(platforms)),
        "--variants",
        ",".join(index.requested_variants),
        "--output-dir",
        directory,
    ]
    return shlex.join(argv)


def pick_variant(
    index: LockIndex,
    profile: HardwareProfile,
    target: str = "auto",
    *,
    force: bool = False,
    directory: str = "locks",
) -> Choice:
    """The variant of `index` that fits `profile`: the newest GPU variant that runs there unless
    `target` is "cpu", else the CPU one. `target` "gpu" with no GPU variant fitting is refused
    (NoSolutionError, each variant's reason) unless `force`; so is a platform the set lacks."""
    from envgen.kb import load_kb
    from envgen.resolve import platform_of

    kb = load_kb()
    kb_platform = platform_of(profile, kb)
    here = kb_platform or f"{profile.os.name}-{profile.os.arch}"
    # The name `envgen lock --platform` takes (the conda subdir: osx-arm64 for macos-arm64).
    lock_name = kb.lock_platforms.get(kb_platform).name if kb_platform else here
    line = machine_line(profile)
    rejected: list[tuple[str, str]] = []
    fitting: list[tuple[Variant, PlatformLock]] = []
    forceable: list[tuple[Variant, PlatformLock, str]] = []
    covered = False
    for var in index.variants:
        lock = next(
            (
                lk
                for lk in var.locks
                if lk.os == profile.os.name and _same_arch(lk.arch, profile.os.arch)
            ),
            None,
        )
        if lock is None:
            rejected.append((var.name, f"no lock for {here}"))
            continue
        covered = True
        if target not in ("auto", var.target):
            rejected.append((var.name, f"a {var.target.upper()} variant; --target {target}"))
            continue
        why = _cpu_misfit(var, profile) or (
            _gpu_misfit(var, profile) if var.target == "gpu" else None
        )
        if why is not None:
            rejected.append((var.name, why))
            forceable.append((var, lock, why))
        else:
            fitting.append((var, lock))
    if not covered:
        raise NoSolutionError(
            f"the committed lock set has no lock for this machine's platform ({here}); it "
            f"covers {', '.join(index.platforms)}",
            remedies=[f"add it: {add_platform_command(index, lock_name, directory)}"],
            hint="the team's request and variants stay as they are; only the new platform is "
            "resolved",
        )

    def rank(item: tuple[Variant, PlatformLock]) -> tuple[int, tuple[int, ...]]:
        var = item[0]
        return (var.target == "gpu", parse_dotted(var.cuda) if var.cuda else ())

    if not fitting or (target == "gpu" and not any(v.target == "gpu" for v, _ in fitting)):
        if force and forceable:
            var, lock, why = max(
                forceable, key=lambda f: (f[0].target == target, rank((f[0], f[1])))
            )
            reason = f"this machine: {line} -> {var.name} variant forced (--force): {why}"
            return Choice(var, lock, reason, tuple(rejected), forced=True)
        raise NoSolutionError(
            f"no variant of the committed lock set runs on this machine ({line})",
            remedies=[f"{name}: {why}" for name, why in rejected],
            hint="--force installs it anyway; or add a variant with `envgen lock --variants`",
        )
    var, lock = max(fitting, key=rank)
    others = [f"{name}: {why}" for name, why in rejected if name != var.name]
    reason = f"this machine: {line} -> {var.name} variant of the committed set"
    if var.target == "cpu" and others and target == "auto":
        reason += f" ({'; '.join(others)})"
    return Choice(var, lock, reason, tuple(rejected))
