"""NVIDIA sources on text captured from a real H100 (tests/data/nvidia/h100)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envgen.detect.nvidia import (
    SourceReading,
    combine,
    parse_nvidia_smi_csv,
    parse_nvml,
    parse_proc_gpu_information,
    parse_proc_version,
    visible_devices,
)

H100 = "NVIDIA H100 80GB HBM3"
UUID = "GPU-7d3636d4-2677-a57c-1765-e57bb6f9cf50"


@pytest.fixture
def h100(data_dir: Path) -> Path:
    return data_dir / "nvidia/h100"


def test_nvml_reading(h100: Path) -> None:
    reading = parse_nvml(json.loads((h100 / "nvml.json").read_text()))
    assert reading.driver == "580.159.04"
    assert reading.cuda == "13.0"  # 13000 from nvmlSystemGetCudaDriverVersion_v2
    (gpu,) = reading.gpus
    assert (gpu.name, gpu.compute_capability, gpu.memory_mib, gpu.uuid) == (
        H100,
        "9.0",
        81559,
        UUID,
    )


def test_nvml_error_is_reported_not_raised() -> None:
    reading = parse_nvml({"error": "Driver/library version mismatch"})
    assert reading.driver is None
    assert reading.error == "NVML: Driver/library version mismatch"


def test_procfs_open_kernel_module(h100: Path) -> None:
    assert parse_proc_version((h100 / "proc-driver-nvidia-version.txt").read_text()) == "580.159.04"
    gpu = parse_proc_gpu_information((h100 / "proc-gpu-0-information.txt").read_text())
    assert gpu is not None
    assert (gpu.name, gpu.uuid) == (H100, UUID)


def test_procfs_proprietary_module() -> None:
    # Format of the proprietary module's file (e.g. 535 series on Ubuntu 22.04).
    text = (
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\n"
    )
    assert parse_proc_version(text) == "535.104.05"


def test_nvidia_smi_query(h100: Path) -> None:
    reading = parse_nvidia_smi_csv((h100 / "smi-query.csv").read_text())
    (gpu,) = reading.gpus
    assert reading.driver == "580.159.04"
    assert (gpu.index, gpu.name, gpu.compute_capability, gpu.memory_mib) == (0, H100, "9.0", 81559)


def test_nvidia_smi_without_compute_cap_field() -> None:
    # Drivers before ~510 reject compute_cap; the retry asks without it.
    fields = "index,name,uuid,memory.total,driver_version"
    reading = parse_nvidia_smi_csv("0, Tesla K80, GPU-1234, 11441, 470.82.01\n", fields)
    assert reading.gpus[0].compute_capability is None
    assert reading.gpus[0].memory_mib == 11441


def test_sources_fill_each_other_and_report_disagreement(h100: Path) -> None:
    nvml = parse_nvml(json.loads((h100 / "nvml.json").read_text()))
    procfs = SourceReading("procfs", "580.126.09", None, nvml.gpus)
    driver, gpus, _ = combine([nvml, procfs], None)
    assert driver is not None
    assert driver.source == "nvml"
    assert driver.disagreements == ("driver 580.159.04 (nvml) vs 580.126.09 (procfs)",)
    assert len(gpus) == 1


def test_procfs_only_answer_keeps_driver_and_names(h100: Path) -> None:
    gpu = parse_proc_gpu_information((h100 / "proc-gpu-0-information.txt").read_text())
    assert gpu is not None
    failed = parse_nvml({"error": "Driver/library version mismatch"})
    procfs = SourceReading("procfs", "580.159.04", None, (gpu,))
    driver, gpus, notes = combine([failed, procfs], None)
    assert driver is not None
    assert driver.source == "procfs"
    assert driver.cuda is None  # derived later from the driver table
    assert gpus[0].compute_capability is None  # derived later from the GPU name
    assert notes == ["NVML: Driver/library version mismatch"]


def test_no_source_answers_means_no_gpu() -> None:
    assert combine([], None) == (None, (), [])


@pytest.mark.parametrize(
    ("value", "count"),
    [("0", 1), ("", 0), ("-1", 0), ("GPU-7d3636d4", 1), ("GPU-ae36", 0), ("1", 0), ("0,1", 1)],
)
def test_cuda_visible_devices(h100: Path, value: str, count: int) -> None:
    gpus = parse_nvml(json.loads((h100 / "nvml.json").read_text())).gpus
    visible, notes = visible_devices(gpus, value)
    assert len(visible) == count
    assert notes[0] == f"CUDA_VISIBLE_DEVICES={value!r} honoured"


def test_h100_captured_detection_agrees(h100: Path) -> None:
    """What envgen printed on the H100 machine, checked fact by fact."""
    profile = json.loads((h100 / "detect.json").read_text())
    assert profile["schema"] == "envgen.detect/1"
    assert profile["ok"] is True
    p = profile["profile"]
    assert p["nvidia"] == {
        "driver": "580.159.04",
        "cuda": "13.0",
        "source": "nvml",
        "disagreements": [],
    }
    assert p["gpu"] == [
        {"name": H100, "index": 0, "uuid": UUID, "compute-capability": "9.0", "memory-mib": 81559}
    ]
    assert p["cuda-toolkit"][0]["version"] == "13.0"
    assert {c["version"] for c in p["cudnn"]} == {"9.14.0", "9.19.0"}
    assert p["cpu"]["x86-64-level"] == 4
    assert "avx512f" in p["cpu"]["flags"]
    empty = json.loads((h100 / "cvd-empty.json").read_text())["profile"]
    assert "gpu" not in empty or empty["gpu"] == []
    assert empty["nvidia"]["cuda-visible-devices"] == ""
