"""`ENVGEN_*` variables that override single facts of a hardware profile.

They exist for testing and CI ("plan as if the driver were 470.82"), and apply on top of both a
detected and a loaded profile. Each value is validated by the profile parser, so a bad one fails
with the variable's name and the key it sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from envgen.errors import InputFileError, UsageError
from envgen.profile import HardwareProfile, from_dict

# variable -> what it sets; listed in `envgen detect --help`.
PROFILE_VARIABLES: dict[str, str] = {
    "ENVGEN_OS": "os.name (linux, windows, macos)",
    "ENVGEN_ARCH": "os.arch (x86_64, aarch64, arm64, armv7l)",
    "ENVGEN_GLIBC": "os.glibc, e.g. 2.17",
    "ENVGEN_WSL": "os.wsl (1/0)",
    "ENVGEN_CPU_FLAGS": "cpu.flags, comma-separated (x86-64 level is recomputed)",
    "ENVGEN_PYTHON_VERSION": "python.version, e.g. 3.10",
    "ENVGEN_CUDA_DRIVER": "nvidia.driver, e.g. 535.104.05; 'none' removes the driver and GPUs",
    "ENVGEN_CUDA_VERSION": "nvidia.cuda, the driver's CUDA ceiling, e.g. 12.2",
    "ENVGEN_GPUS": "GPUs as 'NAME[:CC];NAME[:CC]', e.g. 'NVIDIA GeForce GTX 650:3.0'; 'none'",
}
_NONE = {"", "none"}


def _gpus(value: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index, item in enumerate(v.strip() for v in value.split(";")):
        if not item:
            continue
        name, sep, cc = item.rpartition(":")
        gpu: dict[str, Any] = {"index": index, "name": name if sep else item}
        if sep:
            gpu["compute-capability"] = cc
        out.append(gpu)
    return out


def apply_overrides(profile: HardwareProfile, environ: Mapping[str, str]) -> HardwareProfile:
    present = {k: environ[k].strip() for k in PROFILE_VARIABLES if k in environ}
    if not present:
        return profile
    data = profile.to_dict()
    sources = data.setdefault("sources", {})
    for var, value in sorted(present.items()):
        os_table = data.setdefault("os", {})
        if var == "ENVGEN_OS":
            os_table["name"] = value
            sources["os"] = f"env:{var}"
        elif var == "ENVGEN_ARCH":
            os_table["arch"] = value
        elif var == "ENVGEN_GLIBC":
            os_table["glibc"] = value
        elif var == "ENVGEN_WSL":
            os_table["wsl"] = value.lower() in {"1", "true", "yes"}
        elif var == "ENVGEN_CPU_FLAGS":
            cpu = data.setdefault("cpu", {})
            cpu["flags"] = [f.strip() for f in value.replace(" ", ",").split(",") if f.strip()]
            cpu.pop("x86-64-level", None)
            cpu.pop("microarchitecture", None)
            sources["cpu.flags"] = f"env:{var}"
        elif var == "ENVGEN_PYTHON_VERSION":
            data.setdefault("python", {})["version"] = value
        elif var == "ENVGEN_CUDA_DRIVER":
            if value.lower() in _NONE:
                data.pop("nvidia", None)
                data.pop("gpu", None)
            else:
                data["nvidia"] = {"driver": value, "source": f"env:{var}"}
        elif var == "ENVGEN_GPUS":
            data["gpu"] = [] if value.lower() in _NONE else _gpus(value)
            sources["gpu"] = f"env:{var}"
    if "ENVGEN_CUDA_VERSION" in present and "nvidia" in data:
        data["nvidia"]["cuda"] = present["ENVGEN_CUDA_VERSION"]
    try:
        return from_dict(data, origin="ENVGEN_* overrides (" + ", ".join(sorted(present)) + ")")
    except InputFileError as exc:
        raise UsageError(
            exc.message, hint="check the ENVGEN_* variables: `envgen detect --help`"
        ) from exc
