"""CPU: vendor, model, instruction-set flags, x86-64 level, archspec micro-architecture, boards.

Linux reads `/proc/cpuinfo` directly (microseconds); macOS asks `sysctl`; only other systems fall
back to py-cpuinfo, whose full probe takes over a second (lab report §6). Reading and parsing are
separate: `parse_*` functions are pure and tested on captured real text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envgen.proc import run


@dataclass(frozen=True)
class CpuFacts:
    """What the CPU says about itself before the knowledge base normalises it."""

    vendor: str | None = None
    model: str | None = None
    flags: tuple[str, ...] = ()
    board: str | None = None
    apple_silicon: bool = False
    rosetta: bool = False


def _fields(block: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out.setdefault(key.strip().lower(), value.strip())
    return out


# Arm's "CPU implementer" codes (Arm ARM, MIDR_EL1.Implementer) for the vendors people meet.
_ARM_IMPLEMENTERS = {
    "0x41": "ARM",
    "0x42": "Broadcom",
    "0x4e": "NVIDIA",
    "0x51": "Qualcomm",
    "0x61": "Apple",
    "0xc0": "Ampere",
}


def parse_proc_cpuinfo(text: str) -> CpuFacts:
    """Parse Linux `/proc/cpuinfo` for x86 (`flags`) or Arm (`Features`) CPUs.

    The first processor block describes the CPU; Arm boards put `Hardware`/`Model` lines after
    the last block, so those are read from the whole text.
    """
    blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip()]
    if not blocks:
        return CpuFacts()
    first = _fields(blocks[0])
    whole = _fields(text)
    flags = (first.get("flags") or first.get("features") or "").split()
    vendor = first.get("vendor_id")
    if vendor is None and (impl := first.get("cpu implementer")):
        vendor = _ARM_IMPLEMENTERS.get(impl.lower(), impl)
    # Older Arm kernels name the SoC in a trailing `Hardware` line instead of `model name`.
    model = first.get("model name") or whole.get("hardware")
    board = whole.get("model") if not (whole.get("model") or "").isdigit() else None
    return CpuFacts(vendor=vendor, model=model, flags=tuple(flags), board=board)


def parse_sysctl(text: str) -> dict[str, str]:
    """`sysctl -a` output (`key: value` lines) as a dict."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            out[key.strip()] = value.strip()
    return out


def cpu_from_sysctl(values: dict[str, str]) -> CpuFacts:
    """macOS: Intel Macs list features in machdep.cpu.*; Apple silicon sets hw.optional.arm64."""
    flags: list[str] = []
    for key in ("machdep.cpu.features", "machdep.cpu.leaf7_features", "machdep.cpu.extfeatures"):
        flags.extend(values.get(key, "").lower().split())
    arm64 = values.get("hw.optional.arm64") == "1"
    flags.extend(
        key.removeprefix("hw.optional.arm.").lower()
        for key, value in values.items()
        if key.startswith("hw.optional.arm.feat_") and value == "1"
    )
    brand = values.get("machdep.cpu.brand_string")
    vendor = values.get("machdep.cpu.vendor") or ("Apple" if arm64 else None)
    return CpuFacts(
        vendor=vendor,
        model=brand,
        flags=tuple(flags),
        apple_silicon=arm64,
        # sysctl.proc_translated is 1 only inside a Rosetta 2 (x86_64-on-arm64) process; older
        # macOS lacks it, but x86 feature lines next to hw.optional.arm64 give it away too.
        rosetta=values.get("sysctl.proc_translated") == "1"
        or (arm64 and bool(values.get("machdep.cpu.features"))),
    )


def read_linux() -> CpuFacts:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return CpuFacts()
    facts = parse_proc_cpuinfo(text)
    if facts.board is None:
        # Raspberry Pi and Jetson boards name themselves in the device tree (NUL-terminated).
        try:
            model = Path("/proc/device-tree/model").read_bytes().rstrip(b"\0").decode()
        except (OSError, UnicodeDecodeError):
            model = ""
        if model:
            facts = CpuFacts(facts.vendor, facts.model, facts.flags, model, facts.apple_silicon)
    return facts


def read_macos() -> CpuFacts:
    done = run(["sysctl", "-a"], timeout=10, check=False)
    return cpu_from_sysctl(parse_sysctl(done.stdout))


# py-cpuinfo's flags for every x86-64 CPU made since 2008 (Nehalem, Bulldozer) include these; a
# list without any of them is cut short, as py-cpuinfo under some Pythons does on Windows (its
# flags stop at SSE2 under msys2's Python: workhorsy/py-cpuinfo#154).
_MODERN_X86 = frozenset({"sse4_2", "popcnt", "ssse3", "pni", "sse3"})


def cpu_from_cpuinfo(info: Mapping[str, Any]) -> tuple[CpuFacts, list[str]]:
    """py-cpuinfo's `get_cpu_info()` dict as CPU facts, and notes on what it could not tell."""
    flags = info.get("flags")
    names = tuple(str(f) for f in flags) if isinstance(flags, list) else ()
    vendor, model = info.get("vendor_id_raw"), info.get("brand_raw")
    notes = []
    x86 = str(info.get("arch", "")).upper() in ("X86_64", "X86_32")
    if x86 and names and not _MODERN_X86 & set(names):
        notes.append(
            "py-cpuinfo listed no CPU flag beyond SSE2 (seen with some Windows Pythons, "
            "py-cpuinfo#154): AVX support is unknown; set ENVGEN_CPU_FLAGS or use a python.org "
            "Python"
        )
    return (
        CpuFacts(
            vendor=str(vendor) if vendor else None,
            model=str(model) if model else None,
            flags=names,
        ),
        notes,
    )


def read_fallback() -> tuple[CpuFacts, list[str]]:
    """Windows and the rest: py-cpuinfo's own CPUID probe (slow, so only here)."""
    import cpuinfo

    return cpu_from_cpuinfo(cpuinfo.get_cpu_info())


def microarchitecture() -> str | None:
    """archspec's name for the host (e.g. `zen4`, `sapphirerapids`, `m1`); None if it can't tell."""
    import warnings

    try:
        import archspec.cpu

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # archspec warns about sources it could not read
            return str(archspec.cpu.host().name)
    except Exception:  # noqa: BLE001 -- archspec failing must not fail detection
        return None
