"""The reference Plans render is tested on, built by hand from the knowledge base's rows.

They stand in for the resolver's answers on the reference profiles (CPU Linux, H100 Linux,
Windows native GPU on TF 2.10, macOS arm64, TF 1.x GPU through conda), so render's tests do not
depend on resolver policy; versions and reasons follow tensorflow-builds.toml and
tensorflow-releases.toml.
"""

from __future__ import annotations

from envgen.plan import Pin, Plan, Request

_KB = {"kb": "test"}


def _nvidia_pins() -> tuple[Pin, ...]:
    # tensorflow 2.21.0 METADATA, extra and-cuda (tensorflow-releases.toml): the plan pins the
    # floor of each range, the versions TF was judged with.
    wheels = {
        "nvidia-cublas-cu12": "12.5.3.2",
        "nvidia-cuda-cupti-cu12": "12.5.82",
        "nvidia-cuda-nvcc-cu12": "12.5.82",
        "nvidia-cuda-nvrtc-cu12": "12.5.82",
        "nvidia-cuda-runtime-cu12": "12.5.82",
        "nvidia-cudnn-cu12": "9.3.0.75",
        "nvidia-cufft-cu12": "11.2.3.61",
        "nvidia-curand-cu12": "10.3.6.82",
        "nvidia-cusolver-cu12": "11.6.3.83",
        "nvidia-cusparse-cu12": "12.5.1.3",
        "nvidia-nccl-cu12": "2.27.7",
        "nvidia-nvjitlink-cu12": "12.5.82",
    }
    return tuple(
        Pin(name, version, "pip", "tensorflow[and-cuda] 2.21.0 requires it (CUDA 12.5, cuDNN 9.3)")
        for name, version in wheels.items()
    )


def cpu_linux() -> Plan:
    tf = Pin("tensorflow-cpu", "2.21.0", "pip", "newest TensorFlow for Python 3.11 on linux-x86_64")
    return Plan(
        request=Request(target="cpu"),
        target="cpu",
        platform="linux-x86_64",
        python="3.11",
        tensorflow=tf,
        cuda=None,
        cudnn=None,
        cuda_channel=None,
        packages=(
            tf,
            Pin("keras", ">=3.12.0", "pip", "TensorFlow 2.21 uses Keras 3"),
            Pin("numpy", ">=1.26.0", "pip", "tensorflow 2.21.0 requires numpy>=1.26.0"),
        ),
        inputs=_KB,
    )


def h100_linux() -> Plan:
    tf = Pin(
        "tensorflow",
        "2.21.0",
        "pip",
        "newest TensorFlow with a GPU build for cc 9.0",
        ("and-cuda",),
    )
    return Plan(
        request=Request(target="gpu"),
        target="gpu",
        platform="linux-x86_64",
        python="3.11",
        tensorflow=tf,
        cuda="12.5",
        cudnn="9.3",
        cuda_channel="pip",
        packages=(
            tf,
            *_nvidia_pins(),
            Pin("keras", ">=3.12.0", "pip", "TensorFlow 2.21 uses Keras 3"),
            Pin("numpy", ">=1.26.0", "pip", "tensorflow 2.21.0 requires numpy>=1.26.0"),
        ),
        inputs=_KB,
    )


def h100_linux_system_cuda() -> Plan:
    """The H100 box with the system toolkit: CUDA 12.3 / cuDNN 9 in an nvidia/cuda base."""
    tf = Pin("tensorflow", "2.16.2", "pip", "TensorFlow 2.16 was built with CUDA 12.3, cuDNN 8.9")
    return Plan(
        request=Request(target="gpu", channel="system"),
        target="gpu",
        platform="linux-x86_64",
        python="3.10",
        tensorflow=tf,
        cuda="12.3",
        cudnn="9.0",
        cuda_channel="system",
        packages=(
            tf,
            Pin("cuda", "12.3", "system", "from the nvidia/cuda base image"),
            Pin("tf-keras", "~=2.16.0", "pip", "Keras 2 behaviour requested"),
            Pin("numpy", ">=1.23.5,<2", "pip", "TensorFlow 2.16 is built against NumPy 1.x"),
        ),
        environment=(("TF_USE_LEGACY_KERAS", "1"),),
        inputs=_KB,
    )


def windows_tf210_gpu() -> Plan:
    tf = Pin("tensorflow", "2.10.1", "pip", "TensorFlow 2.10 is the last with native Windows GPU")
    return Plan(
        request=Request(target="gpu", tensorflow="2.10", channel="conda"),
        target="gpu",
        platform="windows-x86_64",
        python="3.10",
        tensorflow=tf,
        cuda="11.2",
        cudnn="8.1",
        cuda_channel="conda",
        packages=(
            Pin("cudatoolkit", "11.2", "conda", "TensorFlow 2.10 was built with CUDA 11.2"),
            Pin("cudnn", "8.1", "conda", "TensorFlow 2.10 was built with cuDNN 8.1"),
            tf,
            Pin("keras", ">=2.10.0,<2.11", "pip", "TensorFlow 2.10 pairs with Keras 2.10"),
            Pin("numpy", ">=1.20,<2", "pip", "TensorFlow 2.10 is built against NumPy 1.x"),
        ),
        inputs=_KB,
    )


def macos_arm64() -> Plan:
    tf = Pin("tensorflow", "2.21.0", "pip", "newest TensorFlow for Python 3.12 on macos-arm64")
    return Plan(
        request=Request(target="gpu"),
        target="gpu",
        platform="macos-arm64",
        python="3.12",
        tensorflow=tf,
        cuda=None,
        cudnn=None,
        cuda_channel=None,
        packages=(
            tf,
            Pin("tensorflow-metal", "1.2.0", "pip", "Apple GPU plugin for TensorFlow 2.21"),
            Pin("keras", ">=3.12.0", "pip", "TensorFlow 2.21 uses Keras 3"),
            Pin("numpy", ">=1.26.0", "pip", "tensorflow 2.21.0 requires numpy>=1.26.0"),
        ),
        inputs=_KB,
    )


def tf1_conda_gpu() -> Plan:
    tf = Pin("tensorflow-gpu", "1.15.5", "pip", "TensorFlow 1.x requested; 1.15.5 is the last")
    return Plan(
        request=Request(target="gpu", python="3.7", tensorflow="1.15", channel="conda"),
        target="gpu",
        platform="linux-x86_64",
        python="3.7",
        tensorflow=tf,
        cuda="10.0",
        cudnn="7.4",
        cuda_channel="conda",
        packages=(
            Pin("cudatoolkit", "10.0", "conda", "TensorFlow 1.15 was built with CUDA 10.0"),
            Pin("cudnn", "7.4", "conda", "TensorFlow 1.15 was built with cuDNN 7.4"),
            tf,
            Pin("numpy", ">=1.16.0,<1.19", "pip", "TensorFlow 1.15 is built against NumPy 1.16"),
        ),
        inputs=_KB,
    )


REFERENCE = {
    "cpu-linux": cpu_linux,
    "h100-linux": h100_linux,
    "h100-linux-system-cuda": h100_linux_system_cuda,
    "windows-tf2.10-gpu": windows_tf210_gpu,
    "macos-arm64": macos_arm64,
    "tf1-conda-gpu": tf1_conda_gpu,
}
