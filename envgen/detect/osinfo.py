"""Operating system: name, release, kernel, distribution, arch, glibc, WSL, container.

All of it comes from files and the C library (no subprocess), so it costs well under a millisecond.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping
from pathlib import Path

from envgen.profile import OSInfo

# platform.machine() spellings -> the profile's arch names. Linux says aarch64 where macOS says
# arm64 (same ISA, different wheel tags), so they stay distinct per OS.
_ARCH = {
    "amd64": "x86_64",
    "x86_64": "x86_64",
    "x64": "x86_64",
    "aarch64": "aarch64",
    "arm64": "arm64",
    "armv7l": "armv7l",
    "armv8l": "armv7l",
}


def os_name(platform_id: str = sys.platform) -> str:
    if platform_id.startswith("win"):
        return "windows"
    if platform_id == "darwin":
        return "macos"
    return "linux"


def normalise_arch(machine: str, name: str) -> str:
    arch = _ARCH.get(machine.lower(), machine.lower())
    if name == "linux" and arch == "arm64":
        return "aarch64"
    if name == "macos" and arch == "aarch64":
        return "arm64"
    return arch


def parse_os_release(text: str) -> dict[str, str]:
    """`/etc/os-release` (freedesktop.org format): KEY=value with optional quotes."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            out[key.strip()] = value.strip().strip("'\"")
    return out


def parse_wsl(osrelease: str) -> str | None:
    """WSL2 kernels read `...-microsoft-standard-WSL2`; WSL1 reports `...-Microsoft`.

    Source: microsoft/WSL#423 and #4071 (kb-platform.md §6.3).
    """
    if "microsoft" not in osrelease.lower():
        return None
    return "wsl1" if "Microsoft" in osrelease and "WSL2" not in osrelease else "wsl2"


def parse_glibc(confstr: str | None) -> str | None:
    """`os.confstr('CS_GNU_LIBC_VERSION')` gives e.g. `glibc 2.36`; musl and others give None."""
    if not confstr or not confstr.startswith("glibc "):
        return None
    return confstr.split()[1]


def parse_container(
    files: Mapping[str, bool], environ: Mapping[str, str], cgroup: str
) -> str | None:
    """Name the container runtime from its traces; None on bare metal or a plain VM.

    `files` says which marker files exist: /.dockerenv (Docker), /run/.containerenv (Podman).
    """
    if files.get("/run/.containerenv") or environ.get("container") == "podman":
        return "podman"
    if files.get("/.dockerenv"):
        return "docker"
    if environ.get("KUBERNETES_SERVICE_HOST"):
        return "kubernetes"
    if environ.get("container"):
        return environ["container"]  # systemd-nspawn, lxc set this for PID 1
    for marker in ("docker", "kubepods", "containerd", "lxc"):
        if f"/{marker}" in cgroup:
            return "kubernetes" if marker == "kubepods" else marker
    return None


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _libc_version() -> str | None:
    """`os.confstr('CS_GNU_LIBC_VERSION')`; POSIX only (Windows has no confstr)."""
    confstr = getattr(os, "confstr", None)
    if confstr is None:
        return None
    try:
        value = confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):
        return None
    return value if isinstance(value, str) else None


def read_os(environ: Mapping[str, str]) -> tuple[OSInfo, list[str]]:
    """Observe the running OS; returns the facts and notes worth showing the user."""
    notes: list[str] = []
    name = os_name()
    arch = normalise_arch(platform.machine(), name)
    if name == "linux":
        release_info = parse_os_release(_read("/etc/os-release") or _read("/usr/lib/os-release"))
        kernel = platform.release()
        wsl = parse_wsl(_read("/proc/sys/kernel/osrelease") or kernel)
        if wsl == "wsl1":
            notes.append("WSL1 detected: it has no GPU support; TensorFlow GPU needs WSL2")
        libc = _libc_version()
        info = OSInfo(
            name=name,
            arch=arch,
            release=release_info.get("VERSION_ID"),
            kernel=kernel,
            distribution=release_info.get("ID"),
            glibc=parse_glibc(libc),
            wsl=wsl == "wsl2",
            container=parse_container(
                {p: Path(p).exists() for p in ("/.dockerenv", "/run/.containerenv")},
                environ,
                _read("/proc/1/cgroup"),
            ),
        )
    elif name == "macos":
        info = OSInfo(
            name=name,
            arch=arch,
            release=platform.mac_ver()[0] or None,
            kernel=platform.release(),
            distribution="macos",
        )
    else:
        info = OSInfo(
            name=name,
            arch=arch,
            release=platform.version() or None,
            kernel=platform.release(),
            distribution="windows",
        )
    return info, notes
