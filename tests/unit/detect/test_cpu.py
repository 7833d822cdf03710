"""CPU parsers on captured real /proc/cpuinfo and sysctl text."""

from __future__ import annotations

from pathlib import Path

from envgen.detect.cpu import cpu_from_sysctl, parse_proc_cpuinfo, parse_sysctl
from envgen.kb import load_kb


def test_amd_epyc_dev_machine_has_avx512(data_dir: Path) -> None:
    text = (data_dir / "cpuinfo/linux-x86_64-amd-epyc-avx512.txt").read_text()
    facts = parse_proc_cpuinfo(text)
    assert facts.vendor == "AuthenticAMD"
    assert facts.model == "AMD EPYC"
    cpu = load_kb().cpu
    flags = cpu.normalise(facts.flags)
    assert {"sse4_2", "popcnt", "avx", "avx2", "fma", "avx512f"} <= set(flags)
    assert cpu.x86_64_level(flags) == 4
    assert facts.board is None  # x86 "model : 1" lines are not board names


def test_westmere_without_avx_is_level_2(data_dir: Path) -> None:
    facts = parse_proc_cpuinfo(
        (data_dir / "cpuinfo/linux-x86_64-westmere-x5650-noavx.txt").read_text()
    )
    assert facts.model == "Intel(R) Xeon(R) CPU           X5650  @ 2.67GHz"
    flags = load_kb().cpu.normalise(facts.flags)
    assert "avx" not in flags
    assert "sse4_2" in flags
    assert load_kb().cpu.x86_64_level(flags) == 2


def test_h100_host_flags(data_dir: Path) -> None:
    facts = parse_proc_cpuinfo(
        (data_dir / "cpuinfo/linux-x86_64-h100-host-flags-only.txt").read_text()
    )
    flags = load_kb().cpu.normalise(facts.flags)
    assert {"avx", "avx2", "fma", "avx512f", "amx_tile"} <= set(flags)
    assert load_kb().cpu.x86_64_level(flags) == 4


def test_graviton2_arm_features(data_dir: Path) -> None:
    facts = parse_proc_cpuinfo((data_dir / "cpuinfo/linux-aarch64-graviton2.txt").read_text())
    assert facts.vendor == "ARM"  # implementer 0x41
    assert {"asimd", "atomics", "asimddp"} <= set(load_kb().cpu.normalise(facts.flags))


def test_raspberry_pi_model_line_is_the_board() -> None:
    # Format of a Raspberry Pi 4 /proc/cpuinfo tail (32-bit Raspberry Pi OS).
    text = (
        "processor\t: 0\nmodel name\t: ARMv7 Processor rev 3 (v7l)\n"
        "Features\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt lpae evtstrm crc32\n\n"
        "Hardware\t: BCM2711\nRevision\t: c03114\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n"
    )
    facts = parse_proc_cpuinfo(text)
    assert facts.board == "Raspberry Pi 4 Model B Rev 1.4"
    assert facts.model == "ARMv7 Processor rev 3 (v7l)"
    assert "neon" in facts.flags


def test_rosetta_on_m1_sees_x86_without_avx(data_dir: Path) -> None:
    facts = cpu_from_sysctl(
        parse_sysctl((data_dir / "sysctl/macos-rosetta2-m1-core2.txt").read_text())
    )
    assert facts.rosetta
    assert facts.apple_silicon
    assert facts.model == "Apple M1"
    flags = load_kb().cpu.normalise(facts.flags)
    assert "sse4_2" in flags
    assert "avx" not in flags


def test_native_apple_silicon(data_dir: Path) -> None:
    facts = cpu_from_sysctl(parse_sysctl((data_dir / "sysctl/macos-arm64-m3-max.txt").read_text()))
    assert facts.apple_silicon
    assert not facts.rosetta
    assert facts.vendor == "Apple"
    assert facts.model == "Apple M3 Max"


def test_intel_mac_avx_alias() -> None:
    facts = cpu_from_sysctl(
        {
            "machdep.cpu.features": "FPU SSE4.2 POPCNT AVX1.0 FMA",
            "machdep.cpu.leaf7_features": "AVX2 BMI1",
            "machdep.cpu.vendor": "GenuineIntel",
        }
    )
    assert {"avx", "avx2", "fma", "sse4_2"} <= set(load_kb().cpu.normalise(facts.flags))
    assert not facts.rosetta
