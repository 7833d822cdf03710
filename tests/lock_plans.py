"""Hand-built Plans for the lock tests, standing in for `envgen.resolve.resolve` until it lands.

The pins are the ones the resolver is meant to decide: TF 2.21 CPU (`tensorflow-cpu`, Linux and
Windows; `tensorflow` on macOS, which has no tensorflow-cpu wheel), TF 2.21 `[and-cuda]` with the
CUDA wheels pinned exactly (lab report §2 lists what uv picks today), and TF 2.15.1 on Python
3.10 with Keras 2.15 and numpy < 2.
"""

from __future__ import annotations

from envgen.plan import Pin, Plan, Request

# What `uv pip compile 'tensorflow[and-cuda]==2.21.0'` picked on 2026-11-22 (lab report §2).
AND_CUDA_2_21 = (
    ("nvidia-cublas-cu12", "12.9.3.13"),
    ("nvidia-cuda-cupti-cu12", "12.9.79"),
    ("nvidia-cuda-nvcc-cu12", "12.9.86"),
    ("nvidia-cuda-nvrtc-cu12", "12.9.86"),
    ("nvidia-cuda-runtime-cu12", "12.9.79"),
    ("nvidia-cudnn-cu12", "9.28.0.42"),
    ("nvidia-cufft-cu12", "11.4.1.4"),
    ("nvidia-curand-cu12", "10.3.10.19"),
    ("nvidia-cusolver-cu12", "11.7.5.82"),
    ("nvidia-cusparse-cu12", "12.5.10.65"),
    ("nvidia-nccl-cu12", "2.32.3"),
    ("nvidia-nvjitlink-cu12", "12.9.86"),
)

# Kb platform -> the package that carries TF 2.21's CPU build there.
_CPU_PACKAGE = {
    "linux-x86_64": "tensorflow-cpu",
    "windows-x86_64": "tensorflow-cpu",
    "macos-arm64": "tensorflow",
}


def cpu_2_21(platform: str = "linux-x86_64", python: str = "3.11") -> Plan:
    tf = Pin(_CPU_PACKAGE[platform], "2.21.0", "pip", "newest release with a CPU wheel here")
    return Plan(
        request=Request(target="cpu", tensorflow="2.21"),
        target="cpu",
        platform=platform,
        python=python,
        tensorflow=tf,
        cuda=None,
        cudnn=None,
        cuda_channel=None,
        packages=(tf,),
    )


def gpu_2_21(python: str = "3.11") -> Plan:
    tf = Pin("tensorflow", "2.21.0", "pip", "GPU build", extras=("and-cuda",))
    cuda = tuple(Pin(n, v, "pip", "and-cuda pin decided by the plan") for n, v in AND_CUDA_2_21)
    return Plan(
        request=Request(target="gpu", tensorflow="2.21"),
        target="gpu",
        platform="linux-x86_64",
        python=python,
        tensorflow=tf,
        cuda="12.5",
        cudnn="9.3",
        cuda_channel="pip",
        packages=(tf, *cuda),
    )


def cpu_2_15(platform: str = "linux-x86_64") -> Plan:
    tf = Pin("tensorflow", "2.15.1", "pip", "last Keras 2 release")
    return Plan(
        request=Request(target="cpu", python="3.10", tensorflow="2.15"),
        target="cpu",
        platform=platform,
        python="3.10",
        tensorflow=tf,
        cuda=None,
        cudnn=None,
        cuda_channel=None,
        packages=(
            tf,
            Pin("keras", ">=2.15,<2.16", "pip", "Keras paired with TF 2.15"),
            Pin("numpy", "<2", "pip", "TF <= 2.17 is built against numpy 1"),
        ),
    )


def gpu_conda_2_15() -> Plan:
    """TF 2.15 from pip with CUDA 12.2/cuDNN 8.9 from conda (a test channel provides them)."""
    base = cpu_2_15()
    conda = (
        Pin("cuda-version", "12.2", "conda", "CUDA 12.2 for TF 2.15"),
        Pin("cudnn", "8.9", "conda", "cuDNN 8.9 for TF 2.15"),
    )
    return Plan(
        request=Request(target="gpu", python="3.10", tensorflow="2.15", channel="conda"),
        target="gpu",
        platform="linux-x86_64",
        python="3.10",
        tensorflow=base.tensorflow,
        cuda="12.2",
        cudnn="8.9",
        cuda_channel="conda",
        packages=(*conda, *base.packages),
    )
