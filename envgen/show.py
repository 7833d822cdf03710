"""Human-readable text for results. Pure functions returning strings: only the CLI prints."""

from __future__ import annotations

from envgen.profile import HardwareProfile

# The flags a TensorFlow user asks about first; the full list is in --json.
_HEADLINE_FLAGS = ("sse4_2", "popcnt", "avx", "avx2", "fma", "avx512f", "asimd", "sve")


def _row(label: str, text: str) -> str:
    return f"{label:<9} {text}"


def show_profile(p: HardwareProfile) -> str:
    lines = []
    os_bits = [f"{p.os.name} {p.os.arch}"]
    if p.os.distribution:
        os_bits.append(" ".join(x for x in (p.os.distribution, p.os.release) if x))
    if p.os.kernel:
        os_bits.append(f"kernel {p.os.kernel}")
    if p.os.glibc:
        os_bits.append(f"glibc {p.os.glibc}")
    if p.os.wsl:
        os_bits.append("WSL2")
    if p.os.container:
        os_bits.append(f"in a {p.os.container} container")
    lines.append(_row("OS", ", ".join(os_bits)))

    cpu_bits = [p.cpu.model or "unknown CPU"]
    if p.cpu.vendor:
        cpu_bits[0] += f" ({p.cpu.vendor})"
    if p.cpu.x86_64_level:
        cpu_bits.append(f"x86-64-v{p.cpu.x86_64_level}")
    if p.cpu.microarchitecture:
        cpu_bits.append(p.cpu.microarchitecture)
    if p.cpu.board:
        cpu_bits.append(p.cpu.board)
    headline = [f for f in _HEADLINE_FLAGS if f in p.cpu.flags]
    missing = [f for f in ("avx", "avx2") if p.os.arch == "x86_64" and f not in p.cpu.flags]
    flag_text = " ".join(headline) + ("; no " + ", no ".join(missing) if missing else "")
    lines.append(_row("CPU", ", ".join(cpu_bits) + (f"; {flag_text}" if flag_text else "")))

    others = ", ".join(i.version for i in p.python.found)
    lines.append(
        _row(
            "Python",
            p.python.version
            + (f" ({p.python.executable})" if p.python.executable else "")
            + (f"; on PATH: {others}" if others else ""),
        )
    )
    if p.nvidia is None:
        lines.append(_row("NVIDIA", "no driver, no GPU"))
    else:
        text = f"driver {p.nvidia.driver}"
        if p.nvidia.cuda:
            text += f", supports CUDA ≤ {p.nvidia.cuda}"
        if p.nvidia.source:
            text += f" (from {p.nvidia.source})"
        lines.append(_row("NVIDIA", text))
        for d in p.nvidia.disagreements:
            lines.append(_row("", f"sources disagree: {d}"))
        if not p.gpus:
            lines.append(_row("", "no GPU visible"))
    for i, gpu in enumerate(p.gpus):
        bits = [gpu.name]
        if gpu.compute_capability:
            bits.append(f"compute capability {gpu.compute_capability}")
        if gpu.memory_mib:
            bits.append(f"{gpu.memory_mib} MiB")
        if gpu.uuid:
            bits.append(gpu.uuid)
        lines.append(_row(f"GPU {gpu.index if gpu.index is not None else i}", ", ".join(bits)))
    for tk in p.cuda_toolkits:
        lines.append(_row("CUDA", f"toolkit {tk.version} at {tk.path} (from {tk.source})"))
    if p.cuda_toolkits and p.nvidia is None:
        lines.append(_row("", "an installed toolkit is not a GPU: no driver answered"))
    for c in p.cudnn:
        lines.append(_row("cuDNN", f"{c.version} at {c.path} ({c.source})"))
    if not p.cudnn:
        lines.append(_row("cuDNN", "none found"))
    for note in p.notes:
        lines.append(_row("note", note))
    return "\n".join(lines)
