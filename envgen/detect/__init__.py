"""`envgen detect`: observe this machine and return a `HardwareProfile`.

Detection only observes: it never decides what is compatible. Each part (OS, CPU, NVIDIA, CUDA
installs, Pythons) lives in its own module with pure `parse_*` functions; this module runs the
readers, records which source answered each part, applies `ENVGEN_*` overrides and lets the
knowledge base fill in derivable facts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from envgen.profile import CPUInfo, HardwareProfile, complete


@dataclass(frozen=True)
class Detection:
    profile: HardwareProfile
    # Raw texts each source returned, by file name, for `envgen detect --capture DIR`.
    raw: dict[str, str]


def detect(environ: Mapping[str, str] | None = None) -> Detection:
    from envgen.detect import cpu as cpu_mod
    from envgen.detect.cuda import detect_cudnn, detect_toolkits
    from envgen.detect.nvidia import detect_nvidia
    from envgen.detect.osinfo import read_os
    from envgen.detect.pythons import detect_pythons
    from envgen.kb import load_kb
    from envgen.overrides import apply_overrides

    env = os.environ if environ is None else environ
    kb = load_kb()
    os_info, notes = read_os(env)
    sources = {"os": "platform"}
    raw: dict[str, str] = {}
    if os_info.name == "linux":
        facts = cpu_mod.read_linux()
        sources["cpu"] = "/proc/cpuinfo"
    elif os_info.name == "macos":
        facts = cpu_mod.read_macos()
        sources["cpu"] = "sysctl"
    else:
        facts, cpu_notes = cpu_mod.read_fallback()
        notes.extend(cpu_notes)
        sources["cpu"] = "py-cpuinfo"
    flags = kb.cpu.normalise(facts.flags)
    cpu = CPUInfo(
        vendor=facts.vendor,
        model=facts.model,
        flags=flags,
        x86_64_level=kb.cpu.x86_64_level(flags) if os_info.arch == "x86_64" else None,
        microarchitecture=cpu_mod.microarchitecture(),
        board=facts.board,
        apple_silicon=facts.apple_silicon,
    )
    if facts.rosetta:
        os_info = type(os_info)(**{**os_info.__dict__, "rosetta": True})
        notes.append("this Python runs under Rosetta 2: use a native arm64 Python for TensorFlow")

    nvidia = detect_nvidia(env)
    raw.update(nvidia.raw)
    notes.extend(nvidia.notes)
    sources["nvidia"] = nvidia.driver.source if nvidia.driver and nvidia.driver.source else "none"
    toolkits = detect_toolkits(env)
    cudnn = detect_cudnn(toolkits)
    profile = HardwareProfile(
        os=os_info,
        cpu=cpu,
        python=detect_pythons(env),
        nvidia=nvidia.driver,
        gpus=nvidia.gpus,
        cuda_toolkits=toolkits,
        cudnn=cudnn,
        sources=tuple(sorted(sources.items())),
        notes=tuple(notes),
    )
    profile = apply_overrides(profile, env)
    raw.update(_raw_sources())
    return Detection(complete(profile, kb), raw)


# The files the OS and CPU readers parse, kept verbatim for `envgen detect --capture`.
_RAW_FILES = ("/proc/cpuinfo", "/etc/os-release")


def _raw_sources() -> dict[str, str]:
    from pathlib import Path

    from envgen.errors import InputFileError
    from envgen.files import read_bytes

    out = {}
    for name in _RAW_FILES:
        try:
            data = read_bytes(Path(name), what="system file")
        except InputFileError:
            continue  # not on this OS
        out[name.strip("/").replace("/", "-") + ".txt"] = data.decode("utf-8", errors="replace")
    return out


def load_or_detect(
    profile_path: str | None, environ: Mapping[str, str] | None = None
) -> HardwareProfile:
    """The profile every later command starts from: a file when given, else this machine."""
    from envgen.kb import load_kb
    from envgen.overrides import apply_overrides
    from envgen.profile import load_profile

    env = os.environ if environ is None else environ
    if profile_path:
        profile = apply_overrides(load_profile(profile_path), env)
        return complete(profile, load_kb())
    return detect(env).profile
