"""Installed CUDA toolkits and cuDNN libraries: found and reported, never taken as a GPU.

A toolkit is what a build links against; the driver (detect/nvidia.py) is what runs it. Machines
with a toolkit and no GPU are common (CI images, this project's own dev box), so nothing here feeds
GPU presence. Versions come from files wherever possible (`version.json`, `version.txt`,
`cuda.h`, `cudnn_version.h`, library names, wheel metadata); `nvcc --version` runs only when a
toolkit has none of them.
"""

from __future__ import annotations

import json
import os
import re
import sys
import sysconfig
from collections.abc import Iterable, Mapping
from pathlib import Path

from envgen.errors import ExternalToolError
from envgen.proc import run
from envgen.profile import CudaToolkit, Cudnn
from envgen.tools import which
from envgen.versions import cuda_from_int

NVCC_TIMEOUT = 10.0


def parse_version_json(text: str) -> str | None:
    """CUDA ≥ 11.1 ships `version.json` with `{"cuda": {"version": "12.5.1"}}`."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    version = data.get("cuda", {}).get("version") if isinstance(data, dict) else None
    return version if isinstance(version, str) else None


def parse_version_txt(text: str) -> str | None:
    """CUDA ≤ 11.0 ships `version.txt`: `CUDA Version 10.2.89`."""
    match = re.search(r"CUDA Version\s+(\d+\.\d+(?:\.\d+)?)", text)
    return match.group(1) if match else None


def parse_cuda_h(text: str) -> str | None:
    """`include/cuda.h`: `#define CUDA_VERSION 13000` (1000*major + 10*minor)."""
    match = re.search(r"#define\s+CUDA_VERSION\s+(\d+)", text)
    return cuda_from_int(int(match.group(1))) if match else None


def parse_nvcc_version(text: str) -> str | None:
    """`nvcc --version`: `Cuda compilation tools, release 13.0, V13.0.88`."""
    match = re.search(r"release \d+\.\d+, V(\d+\.\d+\.\d+)", text) or re.search(
        r"release (\d+\.\d+)", text
    )
    return match.group(1) if match else None


def parse_cudnn_header(text: str) -> str | None:
    """`cudnn_version.h` (cuDNN ≥ 8) or `cudnn.h` (≤ 7): CUDNN_MAJOR/MINOR/PATCHLEVEL defines."""
    parts = {}
    for key in ("MAJOR", "MINOR", "PATCHLEVEL"):
        match = re.search(rf"#define\s+CUDNN_{key}\s+(\d+)", text)
        if match is None:
            return None
        parts[key] = match.group(1)
    return f"{parts['MAJOR']}.{parts['MINOR']}.{parts['PATCHLEVEL']}"


def parse_cudnn_library_name(name: str) -> str | None:
    """`libcudnn.so.9.14.0` -> `9.14.0`; `libcudnn.so.8` -> `8`; `cudnn64_8.dll` -> `8`."""
    match = re.fullmatch(r"libcudnn\.so\.(\d+(?:\.\d+)*)", name) or re.fullmatch(
        r"cudnn64_(\d+)\.dll", name, flags=re.IGNORECASE
    )
    return match.group(1) if match else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def toolkit_roots(environ: Mapping[str, str]) -> list[Path]:
    """Where toolkits live: the variables users set, nvcc on PATH, and the standard prefixes."""
    candidates: list[Path] = [
        Path(environ[var]) for var in ("CUDA_PATH", "CUDA_HOME", "CUDA_ROOT") if environ.get(var)
    ]
    nvcc = which("nvcc", environ)
    if nvcc:
        candidates.append(Path(nvcc).resolve().parent.parent)
    if sys.platform == "win32":
        base = Path(environ.get("ProgramFiles", r"C:\Program Files"))
        candidates.extend(sorted((base / "NVIDIA GPU Computing Toolkit" / "CUDA").glob("v*")))
    else:
        candidates.append(Path("/usr/local/cuda"))
        candidates.extend(sorted(Path("/usr/local").glob("cuda-*")))
        candidates.append(Path("/opt/cuda"))
    seen: dict[Path, None] = {}
    for path in candidates:
        # A toolkit root has one of the files that name its version; a wrapper script's
        # directory (e.g. /usr/local/bin/nvcc -> /usr/local) does not.
        if any((path / f).is_file() for f in ("version.json", "version.txt", "include/cuda.h")):
            seen.setdefault(path.resolve(), None)
    return list(seen)


def toolkit_version(root: Path) -> tuple[str | None, str]:
    """A toolkit's version and the file (or tool) that told us."""
    if (text := _read(root / "version.json")) and (version := parse_version_json(text)):
        return version, "version.json"
    if (text := _read(root / "version.txt")) and (version := parse_version_txt(text)):
        return version, "version.txt"
    if (text := _read(root / "include" / "cuda.h")) and (version := parse_cuda_h(text)):
        return version, "cuda.h"
    return None, "none"


def detect_toolkits(environ: Mapping[str, str]) -> tuple[CudaToolkit, ...]:
    found = []
    for root in toolkit_roots(environ):
        version, source = toolkit_version(root)
        if version is not None:
            found.append(CudaToolkit(version=version, path=str(root), source=source))
    nvcc = which("nvcc", environ)
    if not found and nvcc:
        # Only an nvcc whose toolkit we could not place (a wrapper, an unusual layout): ask it.
        try:
            done = run([nvcc, "--version"], timeout=NVCC_TIMEOUT, check=False)
        except ExternalToolError:
            return ()
        if version := parse_nvcc_version(done.stdout):
            found.append(CudaToolkit(version=version, path=nvcc, source="nvcc"))
    return tuple(found)


def _cudnn_dirs(toolkits: Iterable[CudaToolkit]) -> tuple[list[Path], list[Path]]:
    """Header and library directories where distributions and NVIDIA's packages put cuDNN."""
    multiarch = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu"}.get(
        os.uname().machine if hasattr(os, "uname") else "", "x86_64-linux-gnu"
    )
    includes = [Path("/usr/include"), Path(f"/usr/include/{multiarch}"), Path("/usr/local/include")]
    libs = [
        Path(f"/usr/lib/{multiarch}"),
        Path("/usr/lib64"),
        Path("/usr/lib"),
        Path("/usr/local/lib"),
    ]
    for tk in toolkits:
        if tk.path:
            root = Path(tk.path)
            includes.append(root / "include")
            libs.extend([root / "lib64", root / "lib", root / "bin"])
    return includes, libs


def _site_packages() -> list[Path]:
    paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    return [Path(p) for p in sorted(paths)]


def detect_cudnn(toolkits: Iterable[CudaToolkit]) -> tuple[Cudnn, ...]:
    found: dict[tuple[str, str], Cudnn] = {}

    def add(version: str, path: Path, source: str) -> None:
        key = (version, str(path.parent))
        found.setdefault(key, Cudnn(version=version, path=str(path), source=source))

    includes, libs = _cudnn_dirs(toolkits)
    for directory in includes:
        for name in ("cudnn_version.h", "cudnn.h"):
            text = _read(directory / name)
            if text and (version := parse_cudnn_header(text)):
                add(version, directory / name, "header")
                break
    for directory in libs:
        if not directory.is_dir():
            continue
        names = [p.name for p in directory.glob("libcudnn.so.*")]
        names += [p.name for p in directory.glob("cudnn64_*.dll")]
        versions = [v for n in names if (v := parse_cudnn_library_name(n))]
        if versions:
            # The fullest name (libcudnn.so.9.14.0 over libcudnn.so.9) is the most precise.
            best = max(versions, key=lambda v: (v.count("."), v))
            add(best, directory / next(n for n in names if n.endswith(best)), "library")
    # pip wheels (nvidia-cudnn-cu11/cu12/cu13) of the running interpreter.
    for site in _site_packages():
        header = site / "nvidia" / "cudnn" / "include" / "cudnn_version.h"
        text = _read(header)
        if text and (version := parse_cudnn_header(text)):
            dists = sorted(site.glob("nvidia_cudnn_cu*.dist-info"))
            source = "pip:" + dists[0].name.split("-")[0].replace("_", "-") if dists else "pip"
            add(version, header, source)
    return tuple(sorted(found.values(), key=lambda c: (c.path or "", c.version)))
