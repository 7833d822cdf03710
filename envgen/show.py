"""Human-readable text for results. Pure functions returning strings: only the CLI prints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from envgen.profile import HardwareProfile

if TYPE_CHECKING:
    from envgen.create import CreateResult
    from envgen.plan import Pin, Plan, Rejection
    from envgen.resolve import NoSolution

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


def show_plan(plan: Plan) -> str:
    """A table of pins with their reasons, then warnings."""
    from envgen.plan import DEFAULT_BACKEND

    head = f"{plan.target.upper()} plan for {plan.platform}, Python {plan.python}"
    if plan.keras_backend != DEFAULT_BACKEND:
        head += f", Keras 3 on {plan.framework.name}"
    if plan.cuda:
        cudnn = f" / cuDNN {plan.cudnn}" if plan.cudnn else ""
        head += f", CUDA {plan.cuda}{cudnn} via {plan.cuda_channel}"
    lines = [head, ""]
    rows = [(_pin_text(p), p.channel, p.reason) for p in plan.packages]
    width = min(max(len(r[0]) for r in rows), 44)
    for req, channel, reason in rows:
        lines.append(f"  {req:<{width}}  {channel:<6}  {reason}")
    for key, value in plan.environment:
        lines.append(f"  set {key}={value}")
    for url in plan.indexes:
        lines.append(f"  index {url} (besides PyPI)")
    if plan.warnings:
        lines.append("")
        lines.extend(f"warning [{w.code}]: {w.message}" for w in plan.warnings)
    return "\n".join(lines)


def _pin_text(pin: Pin) -> str:
    """A pin as its installer reads it (conda's build pin included), a third-party one marked."""
    if pin.channel == "pip":
        text = pin.requirement()
    else:
        text = pin.conda_spec() if pin.build else f"{pin.name} {pin.version}"
    return text + (" [third-party]" if pin.third_party else "")


def show_rejections(rejections: list[Rejection], spec: str) -> str:
    if not rejections:
        return f"no TensorFlow release matches {spec}"
    lines = []
    for r in rejections:
        if r.reasons:
            lines.append(f"{r.candidate}: does not fit")
            lines.extend(f"  - {reason}" for reason in r.reasons)
        else:
            lines.append(f"{r.candidate}: fits this machine")
    return "\n".join(lines)


def show_no_solution(result: NoSolution) -> str:
    lines = [f"envgen: error: {result.message}"]
    if result.remedies:
        lines.append("remedies, cheapest first:")
        lines.extend(f"  - {r}" for r in result.remedies)
    return "\n".join(lines)


def show_create(result: CreateResult) -> str:
    from envgen.environment import activate_command

    plan = result.plan
    total = sum(seconds for _, _, seconds in result.steps)
    activate = activate_command(result.prefix)
    lines = [f"envgen create: done in {total:.1f} s"]
    if plan is not None:
        cudnn = f" / cuDNN {plan.cudnn}" if plan.cudnn else ""
        cuda = f", CUDA {plan.cuda}{cudnn} via {plan.cuda_channel}" if plan.cuda else ""
        lines.append(
            f"  chose    {plan.framework.requirement()} for {plan.target.upper()}, "
            f"Python {plan.python}{cuda}"
        )
        lines.append(f"  because  {plan.framework.reason}")
    lines += [
        f"  variant  {result.choice}" if result.choice else f"  variant  {result.variant}",
        f"  image    {result.image}  (run: podman run --rm {result.image})"
        if result.image
        else f"  env      {result.prefix}  (activate: {activate})",
        f"  lock     {result.lock} ({result.variant})"
        + (f" from {result.bundle}" if result.bundle else ""),
    ]
    if result.report is not None:
        ok = result.report.get("ok")
        where = result.report_path or "the image's check"
        lines.append(f"  verify   {'passed' if ok else 'FAILED'} (report: {where})")
    # Only what this run changed is the user's to commit: a teammate installing the committed
    # set has nothing to commit.
    changed = [p for p, c in result.files if c]
    if result.locked_changed:
        changed.append(f"{result.lock.parent}/")
    if changed:
        lines.append(f"  commit   {' '.join(changed)}")
    for note in result.notes:
        lines.append(f"  note     {note}")
    for w in plan.warnings if plan is not None else ():
        lines.append(f"  warning  [{w.code}] {w.message}")
    return "\n".join(lines)
