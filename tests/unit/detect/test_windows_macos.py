"""Detection and layouts on Windows and macOS, over outputs captured on those systems (this
machine runs neither; tests/data/README.md cites each capture)."""

from __future__ import annotations

import ast
from pathlib import Path, PureWindowsPath

import pytest

from envgen.detect.cpu import cpu_from_cpuinfo, cpu_from_sysctl, parse_sysctl
from envgen.detect.nvidia import (
    nvml_candidates,
    parse_nvidia_smi_csv,
    parse_nvidia_smi_cuda,
    smi_candidates,
)
from envgen.environment import activate_command, conda_python, venv_python
from envgen.kb import load_kb
from envgen.verify.probe import libcuda_names

DATA = Path(__file__).resolve().parents[2] / "data"
WINDOWS_GPU = DATA / "nvidia" / "windows-rtx2080super-591.86"


def test_windows_nvidia_smi_csv_with_its_header_and_units() -> None:
    reading = parse_nvidia_smi_csv((WINDOWS_GPU / "smi-query-gpu-all.csv").read_text())
    assert reading.driver == "591.86"
    (gpu,) = reading.gpus
    assert gpu.name == "NVIDIA GeForce RTX 2080 SUPER"
    assert gpu.index == 0
    assert gpu.compute_capability == "7.5"
    assert gpu.memory_mib == 8192


@pytest.mark.parametrize("capture", ["smi.txt", "smi-version.txt"])
def test_windows_cuda_ceiling_from_the_summary_or_version(capture: str) -> None:
    assert parse_nvidia_smi_cuda((WINDOWS_GPU / capture).read_text()) == "13.1"


def test_nvml_and_nvidia_smi_where_windows_drivers_put_them() -> None:
    env = {"WINDIR": "D:\\Windows", "ProgramFiles": "D:\\Program Files"}
    assert [PureWindowsPath(p) for p in nvml_candidates("win32", env)] == [
        PureWindowsPath("D:/Windows/System32/nvml.dll"),
        PureWindowsPath("D:/Program Files/NVIDIA Corporation/NVSMI/nvml.dll"),
    ]
    assert smi_candidates("win32", env) == [
        str(PureWindowsPath("D:/Program Files/NVIDIA Corporation/NVSMI/nvidia-smi.exe"))
    ]
    assert nvml_candidates("darwin", {}) == []
    assert "/usr/lib/wsl/lib/libnvidia-ml.so.1" in nvml_candidates("linux", {})


def test_the_probe_loads_the_driver_each_os_installs() -> None:
    assert libcuda_names("win32") == ("nvcuda.dll",)
    assert libcuda_names("linux")[0] == "libcuda.so.1"
    assert libcuda_names("darwin")[0] == "libcuda.dylib"
    assert libcuda_names("freebsd14") == ()


def _pycpuinfo(name: str) -> dict[str, object]:
    value = ast.literal_eval((DATA / "cpuinfo" / name).read_text())
    assert isinstance(value, dict)
    return value


def test_windows_cpu_from_py_cpuinfo() -> None:
    facts, notes = cpu_from_cpuinfo(_pycpuinfo("windows-py38-i7-3770k-ivybridge.pycpuinfo.txt"))
    kb = load_kb()
    flags = kb.cpu.normalise(facts.flags)
    assert facts.vendor == "GenuineIntel"
    assert facts.model == "Intel(R) Core(TM) i7-3770K CPU @ 3.50GHz"
    assert "avx" in flags
    assert "avx2" not in flags  # Ivy Bridge
    assert kb.cpu.x86_64_level(flags) == 2
    assert notes == []


def test_a_flag_list_cut_at_sse2_is_noticed_not_believed() -> None:
    facts, notes = cpu_from_cpuinfo(_pycpuinfo("windows-msys2-i7-3770k-flags-cut.pycpuinfo.txt"))
    assert "avx" not in facts.flags
    assert len(notes) == 1
    assert "py-cpuinfo#154" in notes[0]
    assert "ENVGEN_CPU_FLAGS" in notes[0]


def test_apple_silicon_and_rosetta_from_sysctl() -> None:
    native = cpu_from_sysctl(parse_sysctl((DATA / "sysctl/macos-arm64-m3-max.txt").read_text()))
    assert native.apple_silicon
    assert not native.rosetta
    rosetta = cpu_from_sysctl(
        parse_sysctl((DATA / "sysctl/macos-rosetta2-m1-core2.txt").read_text())
    )
    assert rosetta.apple_silicon
    assert rosetta.rosetta


def test_windows_layouts_and_the_activate_command() -> None:
    root = Path("C:/work/proj/.venv")
    assert venv_python(root, windows=True) == root / "Scripts/python.exe"
    assert conda_python(root, windows=True) == root / "python.exe"
    assert venv_python(root, windows=False) == root / "bin/python"
    assert activate_command(Path(".venv"), windows=True) == "& '.venv\\Scripts\\Activate.ps1'"
    # A path with a quote stays one argument in each shell.
    assert activate_command(Path("it's"), windows=True) == "& 'it''s\\Scripts\\Activate.ps1'"
    assert activate_command(Path("it's"), windows=False) == "source 'it'\"'\"'s/bin/activate'"
