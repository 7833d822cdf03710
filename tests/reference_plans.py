"""The Plans render and lock are tested on: real profiles through the real resolver.

Each reference case is a profile under tests/data/profiles plus the request that reaches it, so
the goldens under tests/data/golden/render change when the resolver or the knowledge base changes
what the plan says, and are rendered from exactly what `envgen render --profile` would get.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from envgen.detect import load_or_detect
from envgen.kb import load_kb
from envgen.plan import Plan, Request
from envgen.resolve import NoSolution, resolve

PROFILES = Path(__file__).parent / "data" / "profiles"

# Kb platform -> a CPU machine of that platform (the lock tests' CPU plans).
_CPU_PROFILE = {
    "linux-x86_64": "linux-cpu-py311.toml",
    "windows-x86_64": "windows11-cpu-py312.toml",
    "macos-arm64": "macos-arm64-m2-py311.toml",
}


def resolved(profile: str, **request: str | bool) -> Plan:
    """The resolver's plan for tests/data/profiles/`profile` and `Request(**request)`.

    The knowledge-base hash in `inputs` is replaced by a constant: it changes with every edit to
    the knowledge base, even one that changes no plan, and it reaches every file header.
    """
    wanted = Request(**request)  # type: ignore[arg-type]  # text, as flags give it: Request coerces
    found = resolve(load_or_detect(str(PROFILES / profile), {}), load_kb(), wanted)
    if isinstance(found, NoSolution):
        raise found.to_error()
    return dataclasses.replace(found, inputs={**found.inputs, "knowledge-base": "test"})


# --- the reference profiles of render's goldens ------------------------------------------------


def cpu_linux() -> Plan:
    return resolved("linux-cpu-py311.toml", target="cpu", tensorflow="2.21")


def h100_linux() -> Plan:
    return resolved("issue-example-h100.toml", target="gpu", tensorflow="2.21")


def h100_linux_system_cuda() -> Plan:
    # The system toolkit in an nvidia/cuda base: TF 2.14 (CUDA 11.8, cuDNN 8) is the newest
    # whose CUDA/cuDNN pair has an image in images.toml, and that image's OS Python is 3.10.
    return resolved(
        "issue-example-h100.toml", target="gpu", tensorflow="2.14", python="3.10", channel="system"
    )


def windows_tf210_gpu() -> Plan:
    return resolved(
        "windows10-rtx3060-py310.toml", target="gpu", tensorflow="2.10", channel="conda"
    )


def macos_arm64() -> Plan:
    return resolved("macos-arm64-m2-py311.toml", target="gpu")


def tf1_conda_gpu() -> Plan:
    return resolved(
        "linux-gtx1080ti-driver418-py37.toml",
        target="gpu",
        tensorflow="1.15",
        python="3.7",
        channel="conda",
    )


def jax_cpu_linux() -> Plan:
    return resolved("linux-cpu-py312.toml", target="cpu", keras_backend="jax")


def torch_pascal_index() -> Plan:
    # The GTX 1080 Ti's torch: the cu126 build, which only the PyTorch index serves.
    return resolved("linux-gtx1080ti-driver535-py311.toml", target="gpu", keras_backend="torch")


def conda_forge_noavx_gpu() -> Plan:
    # Issue 18: a CPU without AVX and a GTX 1080 Ti: conda-forge's CUDA 12.8 build, as a conda
    # dependency, with no PyPI TensorFlow beside it.
    return resolved("linux-westmere-gtx1080ti-driver570-py311.toml", target="gpu", channel="conda")


def community_win7_gpu() -> Plan:
    # Issue 18: Windows 7, GTX 650 (cc 3.0), no AVX, Python 3.7: fo40225's GPU wheel, third-party.
    return resolved(
        "windows7-gtx650-noavx-py37-driver425.toml",
        target="gpu",
        channel="auto",
        allow_community_builds=True,
    )


REFERENCE: dict[str, Callable[[], Plan]] = {
    "cpu-linux": cpu_linux,
    "h100-linux": h100_linux,
    "h100-linux-system-cuda": h100_linux_system_cuda,
    "windows-tf2.10-gpu": windows_tf210_gpu,
    "macos-arm64": macos_arm64,
    "tf1-conda-gpu": tf1_conda_gpu,
    "jax-cpu-linux": jax_cpu_linux,
    "torch-pascal-index": torch_pascal_index,
    "conda-forge-noavx-gpu": conda_forge_noavx_gpu,
    "community-win7-gpu": community_win7_gpu,
}


# --- the lock tests' plans ---------------------------------------------------------------------


def cpu_2_21(platform: str = "linux-x86_64", python: str = "3.11") -> Plan:
    """TF 2.21 for the CPU: tensorflow-cpu on Linux, tensorflow on Windows and macOS."""
    return resolved(_CPU_PROFILE[platform], target="cpu", tensorflow="2.21", python=python)


def gpu_2_21(python: str = "3.11") -> Plan:
    """TF 2.21 `[and-cuda]` on the H100, the CUDA wheels pinned at the floors TF declares."""
    return resolved("issue-example-h100.toml", target="gpu", tensorflow="2.21", python=python)


def cpu_2_15(platform: str = "linux-x86_64") -> Plan:
    """TF 2.15.1 on Python 3.10: Keras 2.15 and numpy < 2."""
    return resolved(_CPU_PROFILE[platform], target="cpu", tensorflow="2.15", python="3.10")


def gpu_conda_2_15() -> Plan:
    """TF 2.15 from pip with CUDA 12.2 / cuDNN 8.9 from conda, on the H100."""
    return resolved(
        "issue-example-h100.toml", target="gpu", tensorflow="2.15", python="3.10", channel="conda"
    )
