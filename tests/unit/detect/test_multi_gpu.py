"""Two H200s, captured on a real host (tests/data/nvidia/h200x2): enumeration and visibility."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envgen.detect.nvidia import (
    parse_nvidia_smi_csv,
    parse_nvml,
    parse_proc_gpu_information,
    visible_devices,
)

FIRST = "GPU-d0ec7250-8e3b-a647-ef5e-07b798790ff7"
SECOND = "GPU-8de85154-218e-62c9-600f-cc5e83987631"


@pytest.fixture
def h200(data_dir: Path) -> Path:
    return data_dir / "nvidia/h200x2"


def test_nvml_and_smi_agree(h200: Path) -> None:
    nvml = parse_nvml(json.loads((h200 / "nvml.json").read_text()))
    smi = parse_nvidia_smi_csv((h200 / "smi-query.csv").read_text())
    assert [g.uuid for g in nvml.gpus] == [FIRST, SECOND] == [g.uuid for g in smi.gpus]
    assert {g.memory_mib for g in nvml.gpus} == {143771}
    assert {g.compute_capability for g in nvml.gpus} == {"9.0"}


def test_procfs_one_file_per_gpu(h200: Path) -> None:
    names = [
        parse_proc_gpu_information((h200 / f"proc-gpu-{i}-information.txt").read_text())
        for i in (0, 1)
    ]
    assert [g.uuid for g in names if g] == [FIRST, SECOND]


@pytest.mark.parametrize(
    ("value", "uuids"),
    [
        ("1", [SECOND]),
        ("GPU-8de85154", [SECOND]),
        ("1,0", [SECOND, FIRST]),
        ("0,7,1", [FIRST]),  # CUDA stops at the first entry that names no device
        ("", []),
    ],
)
def test_visibility(h200: Path, value: str, uuids: list[str]) -> None:
    gpus = parse_nvml(json.loads((h200 / "nvml.json").read_text())).gpus
    visible, _ = visible_devices(gpus, value)
    assert [g.uuid for g in visible] == uuids


def test_captured_runs_match(h200: Path) -> None:
    for name, expected in (("cvd-1.json", [SECOND]), ("cvd-1-0.json", [SECOND, FIRST])):
        profile = json.loads((h200 / name).read_text())["profile"]
        assert [g["uuid"] for g in profile["gpu"]] == expected
    assert "matches no GPU" in (h200 / "cvd-0-7-1.txt").read_text()
    plan = json.loads((h200 / "plan.json").read_text())["plan"]
    assert plan["tensorflow"] == {"name": "tensorflow", "version": "2.21.0", "extras": ["and-cuda"]}
    verify = json.loads((h200 / "verify-report.json").read_text())
    names = {c["name"] for c in verify["checks"] if c["ok"]}
    assert {"torch:matmul-gpu0", "torch:matmul-gpu1", "jax:matmul-gpu0", "jax:matmul-gpu1"} <= names
