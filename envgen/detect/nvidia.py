"""NVIDIA driver and GPUs, asked in order: NVML, then procfs, then `nvidia-smi`.

NVML (through nvidia-ml-py) is authoritative and fast (~0.1 s with a GPU) and reports the driver's
CUDA ceiling and each GPU's compute capability directly. `/proc/driver/nvidia` still answers when
the user-space library is missing or mismatched (a half-finished driver upgrade makes NVML fail
with "Driver/library version mismatch" while the kernel module keeps reporting its version).
`nvidia-smi` is the last resort: a subprocess costing a few hundred milliseconds.

No GPU is a normal answer. An installed CUDA toolkit is never evidence of a GPU: this module looks
only at the driver. Every reader keeps its raw text so `envgen detect --capture` can save fixtures.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

from envgen.errors import ExternalToolError
from envgen.proc import run
from envgen.profile import GPU, NvidiaDriver
from envgen.versions import cuda_from_int

NVIDIA_SMI_TIMEOUT = 10.0
_SMI_FIELDS = "index,name,uuid,compute_cap,memory.total,driver_version"


@dataclass(frozen=True)
class SourceReading:
    """One source's answer: the driver version, the CUDA ceiling if it knows it, the GPUs."""

    source: str
    driver: str | None
    cuda: str | None = None
    gpus: tuple[GPU, ...] = ()
    error: str | None = None


@dataclass
class NvidiaFacts:
    driver: NvidiaDriver | None
    gpus: tuple[GPU, ...]
    notes: list[str] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)


# --- NVML ----------------------------------------------------------------------------------------


def nvml_candidates(platform: str, environ: Mapping[str, str]) -> list[str]:
    """Where the NVML library is, per OS, in the order nvidia-ml-py itself loads it.

    Windows: `%WINDIR%\\System32\\nvml.dll` (DCH drivers), then `%ProgramFiles%\\NVIDIA
    Corporation\\NVSMI\\nvml.dll` (older ones), as nvidia-ml-py's `_LoadNvmlLibrary`; Linux:
    the soname, and WSL2's projection of the Windows driver (not always on the loader path).
    macOS has no NVIDIA driver since CUDA 10.2: nothing to load."""
    if platform == "win32":
        windir = environ.get("WINDIR", "C:\\Windows")
        programs = environ.get("ProgramFiles", "C:\\Program Files")
        return [
            str(PureWindowsPath(windir, "System32", "nvml.dll")),
            str(PureWindowsPath(programs, "NVIDIA Corporation", "NVSMI", "nvml.dll")),
        ]
    if platform.startswith("linux"):
        return ["libnvidia-ml.so.1", "/usr/lib/wsl/lib/libnvidia-ml.so.1"]
    return []


def _nvml_library_present() -> bool:
    """dlopen the library ourselves first: failing here takes ~1 ms, importing pynvml ~70 ms."""
    import ctypes
    import os

    for name in nvml_candidates(sys.platform, os.environ):
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return True
    return False


def read_nvml() -> dict[str, Any] | None:
    """Query NVML and return plain values (JSON-able, so captures can be replayed in tests).

    Returns None when the library is absent; `{"error": ...}` when it is present but fails.
    """
    if not _nvml_library_present():
        return None
    import pynvml

    def text(value: Any) -> str:
        return value.decode() if isinstance(value, bytes) else str(value)

    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        return {"error": text(exc)}
    try:
        reading: dict[str, Any] = {
            "driver": text(pynvml.nvmlSystemGetDriverVersion()),
            "cuda-driver-version": int(pynvml.nvmlSystemGetCudaDriverVersion_v2()),
            "devices": [],
        }
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
            reading["devices"].append(
                {
                    "index": index,
                    "name": text(pynvml.nvmlDeviceGetName(handle)),
                    "uuid": text(pynvml.nvmlDeviceGetUUID(handle)),
                    "compute-capability": [int(major), int(minor)],
                    "memory-total-bytes": int(pynvml.nvmlDeviceGetMemoryInfo(handle).total),
                }
            )
        return reading
    except pynvml.NVMLError as exc:
        return {"error": text(exc)}
    finally:
        with contextlib.suppress(pynvml.NVMLError):
            pynvml.nvmlShutdown()


def parse_nvml(reading: Mapping[str, Any]) -> SourceReading:
    if "error" in reading:
        return SourceReading("nvml", None, error=f"NVML: {reading['error']}")
    gpus = tuple(
        GPU(
            name=d["name"],
            index=d["index"],
            uuid=d.get("uuid"),
            compute_capability="{}.{}".format(*d["compute-capability"]),
            memory_mib=d["memory-total-bytes"] // 2**20,
        )
        for d in reading.get("devices", [])
    )
    cuda = reading.get("cuda-driver-version")
    return SourceReading("nvml", reading["driver"], cuda_from_int(cuda) if cuda else None, gpus)


# --- procfs --------------------------------------------------------------------------------------

_PROC_VERSION = re.compile(r"Kernel Module(?:\s+for\s+\S+)?\s+(\d+\.\d+(?:\.\d+)?)")


def parse_proc_version(text: str) -> str | None:
    """`/proc/driver/nvidia/version`: `NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.159.04 ...`

    The open kernel modules say `... Open Kernel Module for x86_64  535.104.05 ...`.
    """
    match = _PROC_VERSION.search(text)
    return match.group(1) if match else None


def parse_proc_gpu_information(text: str) -> GPU | None:
    """`/proc/driver/nvidia/gpus/<bus>/information`: `Model:`, `GPU UUID:` and more."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip()] = value.strip()
    name = values.get("Model")
    if not name:
        return None
    uuid = values.get("GPU UUID")
    return GPU(name=name, uuid=uuid if uuid and "?" not in uuid else None)


def read_procfs(raw: dict[str, str]) -> SourceReading | None:
    base = Path("/proc/driver/nvidia")
    try:
        version_text = (base / "version").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    raw["proc-driver-nvidia-version.txt"] = version_text
    gpus = []
    gpu_dir = base / "gpus"
    bus_ids = sorted(p.name for p in gpu_dir.iterdir()) if gpu_dir.is_dir() else []
    for index, bus in enumerate(bus_ids):
        try:
            info = (gpu_dir / bus / "information").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        raw[f"proc-gpu-{index}-information.txt"] = info
        gpu = parse_proc_gpu_information(info)
        if gpu is not None:
            # Sorted PCI bus ids give NVML's enumeration order (NVML orders by bus id).
            gpus.append(GPU(name=gpu.name, index=index, uuid=gpu.uuid))
    return SourceReading("procfs", parse_proc_version(version_text), None, tuple(gpus))


# --- nvidia-smi ----------------------------------------------------------------------------------


_UNIT = re.compile(r"\s*\[[^\]]*\]$")


def parse_nvidia_smi_csv(text: str, fields: str = _SMI_FIELDS) -> SourceReading:
    """`nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits` output.

    A CSV that starts with its header (`--format=csv`: `name, memory.total [MiB], ...`, as
    monitoring tools and bug reports capture it) is read by the header's names instead, its
    values' units dropped (`8192 MiB`)."""
    names = fields.split(",")
    lines = text.strip().splitlines()
    first = [_UNIT.sub("", c.strip()) for c in lines[0].split(",")] if lines else []
    if "name" in first and "driver_version" in first:
        names, lines = first, lines[1:]
    gpus = []
    driver = None
    for line in lines:
        cells = dict(zip(names, (c.strip() for c in line.split(",")), strict=False))
        if not cells.get("name"):
            continue
        driver = cells.get("driver_version") or driver
        memory = cells.get("memory.total", "").removesuffix(" MiB")
        cc = cells.get("compute_cap")
        gpus.append(
            GPU(
                name=cells["name"],
                index=int(cells["index"]) if cells.get("index", "").isdigit() else None,
                uuid=cells.get("uuid") or None,
                compute_capability=cc if cc and re.fullmatch(r"\d+\.\d+", cc) else None,
                memory_mib=int(memory) if memory.isdigit() else None,
            )
        )
    return SourceReading("nvidia-smi", driver, None, tuple(gpus))


_SMI_CUDA = re.compile(r"CUDA Version\s*:\s*(\d+\.\d+)")


def parse_nvidia_smi_cuda(text: str) -> str | None:
    """The driver's CUDA ceiling from `nvidia-smi`'s summary (`CUDA Version: 13.1` in its top
    line) or `nvidia-smi --version` (`CUDA Version        : 13.1`): the same words in both."""
    match = _SMI_CUDA.search(text)
    return match.group(1) if match else None


def smi_candidates(platform: str, environ: Mapping[str, str]) -> list[str]:
    """Where nvidia-smi is when it is not on PATH: WSL2 keeps it in /usr/lib/wsl/lib in some
    distributions; Windows drivers before the DCH packages installed it under
    `%ProgramFiles%\\NVIDIA Corporation\\NVSMI` (DCH drivers put it in System32, on PATH)."""
    if platform == "win32":
        programs = environ.get("ProgramFiles", "C:\\Program Files")
        return [str(PureWindowsPath(programs, "NVIDIA Corporation", "NVSMI", "nvidia-smi.exe"))]
    return ["/usr/lib/wsl/lib/nvidia-smi"] if platform.startswith("linux") else []


def _nvidia_smi_path() -> str | None:
    import os

    from envgen.tools import which

    found = which("nvidia-smi")
    if found is None:
        found = next(
            (c for c in smi_candidates(sys.platform, os.environ) if Path(c).exists()), None
        )
    return found


def read_nvidia_smi(raw: dict[str, str]) -> SourceReading | None:
    exe = _nvidia_smi_path()
    if exe is None:
        return None
    fields = _SMI_FIELDS
    try:
        done = run(
            [exe, f"--query-gpu={fields}", "--format=csv,noheader,nounits"],
            timeout=NVIDIA_SMI_TIMEOUT,
            check=False,
        )
        if "compute_cap" in done.stdout + done.stderr and done.returncode != 0:
            # Drivers before ~510 reject the compute_cap field (huggingface/candle#733).
            fields = fields.replace("compute_cap,", "")
            done = run(
                [exe, f"--query-gpu={fields}", "--format=csv,noheader,nounits"],
                timeout=NVIDIA_SMI_TIMEOUT,
                check=False,
            )
    except ExternalToolError as exc:
        return SourceReading("nvidia-smi", None, error=exc.message)
    raw["nvidia-smi-query.csv"] = done.stdout
    if done.returncode != 0:
        message = (done.stdout + done.stderr).strip().splitlines()
        return SourceReading("nvidia-smi", None, error="nvidia-smi: " + (message or ["failed"])[0])
    reading = parse_nvidia_smi_csv(done.stdout, fields)
    if reading.driver is None:
        return reading
    # The query has no field for the CUDA ceiling; the summary's top line has it (every driver
    # since 410). Without it a GPU plan could not check the driver against the build's CUDA.
    try:
        summary = run([exe], timeout=NVIDIA_SMI_TIMEOUT, check=False)
    except ExternalToolError:
        return reading
    raw["nvidia-smi.txt"] = summary.stdout
    cuda = parse_nvidia_smi_cuda(summary.stdout)
    return SourceReading(reading.source, reading.driver, cuda, reading.gpus, reading.error)


# --- combining -----------------------------------------------------------------------------------


def visible_devices(gpus: tuple[GPU, ...], value: str | None) -> tuple[tuple[GPU, ...], list[str]]:
    """Apply CUDA_VISIBLE_DEVICES the way the CUDA runtime does.

    Entries are indices or (prefixes of) UUIDs; the list stops at the first entry that matches no
    device, and an empty value hides every GPU (CUDA C Programming Guide, "CUDA Environment
    Variables"). MIG instance ids select their parent GPU.
    """
    if value is None:
        return gpus, []
    notes = [f"CUDA_VISIBLE_DEVICES={value!r} honoured"]
    chosen: list[GPU] = []
    for entry in (e.strip() for e in value.split(",")):
        match = None
        if entry.lstrip("-").isdigit():
            index = int(entry)
            match = next((g for g in gpus if g.index == index), None)
        elif entry:
            uuid = entry.removeprefix("MIG-") if entry.startswith("MIG-GPU-") else entry
            match = next((g for g in gpus if g.uuid and g.uuid.startswith(uuid)), None)
        if match is None:
            if entry:
                notes.append(
                    f"CUDA_VISIBLE_DEVICES entry {entry!r} matches no GPU; CUDA ignores "
                    "it and every entry after it"
                )
            break
        if match not in chosen:
            chosen.append(match)
    return tuple(chosen), notes


def combine(
    readings: list[SourceReading], cuda_visible_devices: str | None
) -> tuple[NvidiaDriver | None, tuple[GPU, ...], list[str]]:
    """Take the first source that knows the driver; report where the others disagree."""
    notes = [r.error for r in readings if r.error]
    answered = [r for r in readings if r.driver]
    if not answered:
        return None, (), notes
    best = answered[0]
    disagreements = []
    for other in answered[1:]:
        if other.driver != best.driver:
            disagreements.append(
                f"driver {best.driver} ({best.source}) vs {other.driver} ({other.source})"
            )
        if other.gpus and best.gpus and len(other.gpus) != len(best.gpus):
            disagreements.append(
                f"{len(best.gpus)} GPU(s) ({best.source}) vs {len(other.gpus)} ({other.source})"
            )
    gpus = best.gpus
    # Fill what the answering source lacks (procfs knows no compute capability or memory).
    extra = {g.uuid or g.name: g for r in answered[1:] for g in r.gpus}
    gpus = tuple(
        GPU(
            name=g.name,
            index=g.index,
            uuid=g.uuid,
            compute_capability=g.compute_capability
            or getattr(extra.get(g.uuid or g.name), "compute_capability", None),
            memory_mib=g.memory_mib or getattr(extra.get(g.uuid or g.name), "memory_mib", None),
        )
        for g in gpus
    )
    cuda = best.cuda or next((r.cuda for r in answered if r.cuda), None)
    visible, cvd_notes = visible_devices(gpus, cuda_visible_devices)
    driver = NvidiaDriver(
        driver=best.driver or "",
        cuda=cuda,
        source=best.source,
        cuda_visible_devices=cuda_visible_devices,
        disagreements=tuple(disagreements),
    )
    return driver, visible, notes + cvd_notes


def detect_nvidia(environ: Mapping[str, str]) -> NvidiaFacts:
    raw: dict[str, str] = {}
    readings: list[SourceReading] = []
    nvml = read_nvml()
    if nvml is not None:
        import json

        raw["nvml.json"] = json.dumps(nvml, indent=2) + "\n"
        readings.append(parse_nvml(nvml))
    procfs = read_procfs(raw) if sys.platform.startswith("linux") else None
    if procfs is not None:
        readings.append(procfs)
    nvml_ok = bool(readings) and readings[0].source == "nvml" and readings[0].driver is not None
    if not nvml_ok:
        # Only worth a subprocess when NVML could not answer.
        smi = read_nvidia_smi(raw)
        if smi is not None:
            readings.append(smi)
    driver, gpus, notes = combine(readings, environ.get("CUDA_VISIBLE_DEVICES"))
    if driver is not None and not gpus and environ.get("CUDA_VISIBLE_DEVICES") is None:
        notes.append("an NVIDIA driver answered but reported no GPU")
    return NvidiaFacts(driver, gpus, notes, raw)
