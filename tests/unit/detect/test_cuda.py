"""CUDA toolkit and cuDNN version parsers on captured real files."""

from __future__ import annotations

from pathlib import Path

from envgen.detect.cuda import (
    parse_cuda_h,
    parse_cudnn_header,
    parse_cudnn_library_name,
    parse_nvcc_version,
    parse_version_json,
    parse_version_txt,
)


def test_nvcc_version(data_dir: Path) -> None:
    assert parse_nvcc_version((data_dir / "nvidia/nvcc-version-13.0.txt").read_text()) == "13.0.88"


def test_cuda_h(data_dir: Path) -> None:
    assert parse_cuda_h((data_dir / "nvidia/cuda-h-13.0.txt").read_text()) == "13.0"


def test_version_files() -> None:
    # Formats of CUDA 12.x version.json and CUDA 10.2 version.txt.
    assert parse_version_json('{"cuda": {"name": "CUDA SDK", "version": "12.5.1"}}') == "12.5.1"
    assert parse_version_json("not json") is None
    assert parse_version_txt("CUDA Version 10.2.89\n") == "10.2.89"


def test_cudnn_header_from_h100(data_dir: Path) -> None:
    assert parse_cudnn_header((data_dir / "nvidia/h100/cudnn_version.h").read_text()) == "9.14.0"


def test_cudnn_library_names() -> None:
    assert parse_cudnn_library_name("libcudnn.so.9.14.0") == "9.14.0"
    assert parse_cudnn_library_name("libcudnn.so.8") == "8"
    assert parse_cudnn_library_name("cudnn64_8.dll") == "8"
    assert parse_cudnn_library_name("libcudnn_ops.so.9") is None
