"""ENVGEN_* variables override single profile facts and fail with the variable's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from envgen.detect import load_or_detect
from envgen.errors import UsageError


def test_driver_override_rederives_cuda(data_dir: Path) -> None:
    p = load_or_detect(
        str(data_dir / "profiles/issue-example-h100.toml"), {"ENVGEN_CUDA_DRIVER": "470.82.01"}
    )
    assert p.nvidia is not None
    assert (p.nvidia.driver, p.nvidia.cuda, p.nvidia.source) == (
        "470.82.01",
        "11.4",
        "env:ENVGEN_CUDA_DRIVER",
    )
    assert p.gpus[0].name == "NVIDIA H100 80GB HBM3"


def test_none_removes_driver_and_gpus(data_dir: Path) -> None:
    p = load_or_detect(
        str(data_dir / "profiles/issue-example-h100.toml"), {"ENVGEN_CUDA_DRIVER": "none"}
    )
    assert p.nvidia is None
    assert p.gpus == ()


def test_gpus_and_cpu_flags(data_dir: Path) -> None:
    p = load_or_detect(
        str(data_dir / "profiles/issue-example-h100.toml"),
        {
            "ENVGEN_GPUS": "NVIDIA GeForce GTX 650;Tesla K80:3.7",
            "ENVGEN_CPU_FLAGS": "sse4_2,popcnt",
        },
    )
    assert [(g.name, g.compute_capability) for g in p.gpus] == [
        ("NVIDIA GeForce GTX 650", "3.0"),
        ("Tesla K80", "3.7"),
    ]
    assert "avx" not in p.cpu.flags
    assert p.cpu.x86_64_level == 1  # sse4_2 + popcnt alone is not the whole v2 set


def test_bad_value_names_the_variable(data_dir: Path) -> None:
    with pytest.raises(UsageError, match="ENVGEN_GLIBC"):
        load_or_detect(str(data_dir / "profiles/issue-example-h100.toml"), {"ENVGEN_GLIBC": "new"})
