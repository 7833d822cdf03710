"""Planning for several platforms at once: what `envgen lock` and a team's lock set need.

The same request and machine, planned as they would be on each platform asked for (a lead on a
CPU laptop locks for the GPU box, Windows and macOS teammates): the profile is carried over to
that OS and architecture, a CPU variant drops the GPUs, and a variant with no plan on any
platform is a no-solution naming each platform's reason.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from envgen.errors import NoSolutionError, UsageError
from envgen.kb import KnowledgeBase
from envgen.kb.lock_platforms import LockPlatform
from envgen.plan import Plan, Request, Target
from envgen.profile import HardwareProfile
from envgen.resolve import resolve


def for_platform(profile: HardwareProfile, platform: LockPlatform, variant: str) -> HardwareProfile:
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
    plans: list[Plan] = []
    for variant in variants:
        if variant == "gpu" and not profile.has_nvidia_gpu:
            raise UsageError(
                "the gpu variant needs a profile with an NVIDIA driver and GPU",
                hint="pass --profile FILE describing the GPU machine (envgen detect -o FILE there)",
            )
        found: list[Plan] = []
        errors: list[str] = []
        remedy_lists: list[list[str]] = []
        rejection_lists: list[list[dict[str, Any]]] = []
        for platform in platforms:
            wanted = dataclasses.replace(request, target=Target(variant))
            result = resolve(for_platform(profile, platform, variant), kb, wanted)
            if isinstance(result, Plan):
                found.append(result)
            else:
                errors.append(f"{platform.name}: {result.message}")
                remedy_lists.append([f"{platform.name}: {r}" for r in result.remedies])
                rejection_lists.append([r.to_dict() for r in result.rejections])
        if not found:
            # No plan anywhere is a no-solution like any other (exit 4), with each platform's
            # reason and remedies.
            raise NoSolutionError(
                f"no {variant} plan for any platform asked for: " + "; ".join(errors),
                hint="`envgen plan --profile ... --why-not tensorflow==X.Y` explains one release",
                remedies=[r for remedies in remedy_lists for r in remedies],
                rejections=[r for rejected in rejection_lists for r in rejected],
            )
        plans += found
    return plans
