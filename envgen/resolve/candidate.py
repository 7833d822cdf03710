"""One TensorFlow release judged against one machine: the rule book's verdicts as reasons.

`evaluate()` asks each rule of `envgen.rules` about the release (wheel, Python, OS, CPU, Keras,
GPUs, driver, how CUDA arrives) and records a failing verdict as a `Reason`, a noteworthy one as a
warning, a passing one as a line of the pin's reason. The judgements themselves live in the rule
book; the words in `wording.toml`. This module only sequences them and remembers what a passing
candidate needs for its plan (the channel, the CUDA pins, whether the GPUs run it through PTX);
how CUDA arrives is `channels.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from envgen import rules
from envgen.kb import KnowledgeBase
from envgen.kb.tensorflow import Release, Wheels
from envgen.plan import Channel, ExactVersion, Note, Pin, Request, Target
from envgen.profile import GPU, HardwareProfile
from envgen.rules import Verdict


@dataclass(frozen=True)
class Reason:
    """Why one candidate fails; `code` groups reasons for remedies, `data` fills remedy texts."""

    code: str
    text: str
    data: tuple[tuple[str, str], ...] = ()


class Judged(Protocol):
    """A candidate judged by the rules (a TensorFlow release, a JAX or PyTorch build): what a
    rejection, its grouping and a no-solution read of it."""

    reasons: list[Reason]

    @property
    def name(self) -> str:
        """The requirement's name in a rejection: `tensorflow`, `jax[cuda13]`, `torch`."""

    @property
    def version_text(self) -> str:
        """The version in a rejection: `2.21.0`, `2.14.1+cu126`."""

    @property
    def group_key(self) -> tuple[str, ...]:
        """Neighbours failing for the same reasons with the same key make one rejection."""


@dataclass
class Outcome:
    """One candidate's verdict and, when it passes, what the plan needs from the checks."""

    release: Release
    reasons: list[Reason] = field(default_factory=list)
    wheel: Wheels | None = None
    passed: list[str] = field(default_factory=list)
    warnings: list[Note] = field(default_factory=list)
    channel: Channel | None = None
    cuda_pins: list[Pin] = field(default_factory=list)
    cudnn: str | None = None
    ptx_only: bool = False
    """Every usable GPU runs this build through PTX JIT (no native SASS for it)."""
    keras: Verdict | None = None
    """The rule book on the Keras asked for: which Keras package, if any, the plan pins."""
    environment: list[tuple[str, str]] = field(default_factory=list)
    """Variables the environment must set for this candidate's CUDA to be found."""

    @property
    def name(self) -> str:
        return "tensorflow"

    @property
    def version_text(self) -> str:
        return str(self.release.version)

    @property
    def group_key(self) -> tuple[str, ...]:
        return (self.release.minor,)


@dataclass(frozen=True)
class Context:
    profile: HardwareProfile
    kb: KnowledgeBase
    request: Request
    platform: str
    python: str
    target: Target

    def say(self, code: str, **fields: str) -> str:
        return self.kb.wording.render(code, **fields)

    def reason(self, verdict: Verdict, *, code: str | None = None, **extra: str) -> Reason:
        """A failing verdict as a Reason: its text, and its fields for the remedies."""
        fields = {**verdict.as_dict(), **extra}
        return Reason(code or verdict.code, self.say(verdict.code, **fields), tuple(fields.items()))

    def note(self, verdict: Verdict, **extra: str) -> Note:
        return Note(verdict.code, self.say(verdict.code, **{**verdict.as_dict(), **extra}))


def evaluate(ctx: Context, release: Release) -> Outcome:
    # channels.py builds on this module's Context and Outcome: imported here, not at the top.
    from envgen.resolve.channels import choose_channel

    out = Outcome(release)
    _check_wheel(ctx, out)
    if out.wheel is None:
        return out
    _check_cpu(ctx, out)
    _check_keras(ctx, out)
    if ctx.target == "gpu":
        if ctx.platform.startswith("macos"):
            _check_metal(ctx, out)
        else:
            _check_gpus(ctx, out)
            _check_driver(ctx, out)
            choose_channel(ctx, out)
    return out


def _check_wheel(ctx: Context, out: Outcome) -> None:
    r, p, py = out.release, ctx.platform, ctx.python
    gpu = ctx.target == "gpu" and not p.startswith("macos")
    wheel = r.gpu_wheel(p) if gpu else r.wheel(p)
    if gpu and r.build.review and r.wheel(p) is not None:
        # A build row `kb update` derived: its GPU facts are not in PyPI's metadata and await a
        # human; until then no GPU plan is made from it (the CPU build is planned as usual).
        review = ", ".join(r.build.review)
        out.reasons.append(
            Reason("unreviewed", ctx.say("build-unreviewed", minor=r.minor, review=review))
        )
        return
    if wheel is None:
        if gpu and p == "windows-x86_64" and r.wheel(p) is not None and not r.windows_gpu:
            last = rules.boundaries(ctx.kb).last_windows_gpu
            out.reasons.append(Reason("windows-gpu", ctx.say("windows-gpu", last=last)))
        elif gpu and r.wheel(p) is not None:
            out.reasons.append(Reason("no-gpu-build", ctx.say("no-gpu-build", platform=p)))
        else:
            out.reasons.append(Reason("no-wheel", ctx.say("no-wheel", platform=p)))
        return
    out.wheel = wheel
    verdicts = [
        rules.python_wheel(wheel, py, p),
        rules.glibc(wheel, ctx.profile.os.glibc),
        rules.macos(wheel.macos, ctx.profile.os.release),
    ]
    out.reasons += [ctx.reason(v) for v in verdicts if not v.ok]
    if not out.reasons:
        floor = f" (glibc >= {wheel.glibc})" if wheel.glibc else ""
        out.passed.append(ctx.say("python-ok", python=py, platform=p, floor=floor))


class Sink(Protocol):
    """What a check writes into: a TensorFlow `Outcome` or a framework's build outcome."""

    reasons: list[Reason]
    passed: list[str]
    warnings: list[Note]
    ptx_only: bool


def _check_cpu(ctx: Context, out: Outcome) -> None:
    check_cpu(ctx, out, out.release.cpu_features, str(out.release.minor))


def check_cpu(
    ctx: Context, out: Sink, needed: Sequence[str] | None, minor: str, *, tensorflow: bool = True
) -> None:
    """Does the CPU have the x86-64 features the build needs (None: not known yet, an unreviewed
    build row)? `minor` fills the remedies.
    `tensorflow`: say which of the CPU's features its start-up log will call unused."""
    if not ctx.platform.endswith("x86_64"):
        return
    verdict = rules.cpu_features(ctx.kb, needed, ctx.profile.cpu.flags)
    if verdict.code in ("cpu-unknown", "cpu-build-unknown"):
        out.warnings.append(ctx.note(verdict, minor=minor))
    elif not verdict.ok:
        out.reasons.append(ctx.reason(verdict, code="cpu", minor=minor))
    else:
        if needed:
            out.passed.append(verdict.text(ctx.kb))
        if tensorflow and verdict.get("extra"):
            # Informational: the start-up log names the CPU's features the wheel does not use.
            out.warnings.append(
                Note("cpu-build-note", ctx.say("cpu-build-note", **verdict.as_dict()))
            )


def _check_keras(ctx: Context, out: Outcome) -> None:
    verdict = rules.keras_request(ctx.kb, out.release, ctx.request.keras, ctx.python)
    out.keras = verdict
    if verdict.code == "keras-needs-python" and out.wheel is not None:
        # A Keras line without wheels for this Python: the remedies offer the Pythons both the
        # TensorFlow and the line have (the relaxation of a `python` reason).
        pythons = [
            p
            for p in out.wheel.python
            if rules.keras_request(ctx.kb, out.release, ctx.request.keras, p).ok
        ]
        out.reasons.append(ctx.reason(verdict, code="python", pythons=",".join(pythons)))
    elif not verdict.ok:
        out.reasons.append(ctx.reason(verdict, code="keras"))


def _check_gpus(ctx: Context, out: Outcome) -> None:
    r = out.release
    check_gpus(
        ctx,
        out,
        rules.Architectures.of(r.build),
        tensorflow=str(r.version),
        cudnn=(r.cudnn, r.cuda),
    )


def check_gpus(
    ctx: Context,
    out: Sink,
    arch: rules.Architectures,
    *,
    tensorflow: str | None = None,
    cudnn: tuple[str, str] | None = None,
) -> None:
    """Can some visible GPU run a build with these architectures? The rest are ignored, with a
    warning each; `ptx_only` when every usable one runs it through PTX JIT."""
    gpus = ctx.profile.gpus
    if ctx.profile.nvidia is None or not gpus:
        out.reasons.append(Reason("no-gpu", ctx.say("no-gpu")))
        return
    usable: list[tuple[GPU, Verdict]] = []
    failures: list[str] = []
    known_issue = False
    for gpu in gpus:
        if gpu.compute_capability is None:
            failures.append(ctx.say("cc-unknown", gpu=gpu.name))
            continue
        verdict = rules.compute_capability(
            ctx.kb, arch, gpu.compute_capability, tensorflow=tensorflow, cudnn=cudnn
        )
        if verdict.ok:
            usable.append((gpu, verdict))
        else:
            known_issue = known_issue or verdict.code == "cc-known-issue"
            failures.append(f"{gpu.name} ({gpu.compute_capability}): {verdict.text(ctx.kb)}")
    if not usable:
        # A GPU the rules admit but the releases are known to fail on (Blackwell consumer parts)
        # is one that builds other than the PyPI wheels may serve: the remedies say which.
        data = (("known_issue", "1"),) if known_issue else ()
        out.reasons.append(Reason("gpu-cc", ctx.say("gpu-cc", failures="; ".join(failures)), data))
        return
    for failure in failures:
        out.warnings.append(Note("gpu-ignored", ctx.say("gpu-ignored", failure=failure)))
    out.ptx_only = all(v.code == "cc-ptx" for _, v in usable)
    names = ", ".join(
        f"{g.name} ({g.compute_capability}, {'PTX' if v.code == 'cc-ptx' else 'SASS'})"
        for g, v in usable
    )
    out.passed.append(ctx.say("gpu-ok", names=names))
    for gpu, v in usable:
        if v.code == "cc-ptx":
            out.warnings.append(
                Note(
                    "ptx-jit",
                    ctx.say("ptx-jit", gpu=gpu.name, cc=v.get("cc"), sass=", ".join(arch.sass)),
                )
            )


def _check_driver(ctx: Context, out: Outcome) -> None:
    check_driver(ctx, out, rules.driver_floor(ctx.kb, out.release.build, ctx.profile.os))


def check_driver(ctx: Context, out: Sink, floor: rules.DriverFloor) -> None:
    """Does the driver run software built with the floor's CUDA (PTX JIT included)? Where no
    table knows a minimum for that CUDA on this OS (NVIDIA lists none for CUDA 13 on Windows),
    the build is not planned: a driver cannot be judged against nothing."""
    nvidia = ctx.profile.nvidia
    if nvidia is None:
        return
    if floor.driver is None:
        column = rules.driver_os(ctx.profile.os)
        text = ctx.say("driver-unknown", cuda=floor.cuda, os=column, driver=nvidia.driver)
        out.reasons.append(Reason("driver-unknown", text))
        return
    verdict = rules.driver(ctx.kb, floor, nvidia, ctx.profile.os, ptx_only=out.ptx_only)
    if not verdict.ok:
        # Remedies re-plan with the driver this names: the floor, or (PTX) the toolkit minimum.
        needed = verdict.get("floor") if verdict.code == "driver-too-old" else ""
        out.reasons.append(
            ctx.reason(verdict, code="driver", needed_driver=needed or verdict.get("min_driver"))
        )
        return
    if verdict.code == "driver-minor-compat":
        out.warnings.append(
            Note("driver-below-toolkit", ctx.say("driver-below-toolkit", **verdict.as_dict()))
        )
    out.passed.append(ctx.say("driver-ok", **verdict.as_dict()))


def _check_metal(ctx: Context, out: Outcome) -> None:
    r = out.release
    if r.metal is None:
        out.reasons.append(Reason("metal", ctx.say("metal-none", minor=r.minor)))
        return
    metal = ctx.kb.metal.release(r.metal)
    if metal is None:
        out.reasons.append(Reason("metal", ctx.say("metal-unknown", metal=r.metal)))
        return
    if ctx.platform not in metal.platforms:
        out.reasons.append(
            Reason("metal", ctx.say("metal-platform", metal=r.metal, platform=ctx.platform))
        )
    # Apple's pairing table is stricter than the wheel tags (older metal wheels say macosx_11_0).
    floor = max(v for v in (metal.macos, r.build.metal_macos) if v)
    verdict = rules.macos(floor, ctx.profile.os.release, code="metal-macos", metal=r.metal)
    if not verdict.ok:
        out.reasons.append(ctx.reason(verdict, code="macos"))
    if ctx.python not in metal.python:
        pythons = metal.python
        out.reasons.append(
            Reason(
                "python",
                ctx.say(
                    "metal-python",
                    metal=r.metal,
                    python=ctx.python,
                    pythons_text=", ".join(pythons),
                ),
                (("pythons", ",".join(pythons)), ("package", "tensorflow-metal")),
            )
        )
    if not out.reasons:
        out.channel = Channel.PIP
        why = ctx.say("pin-metal", minor=r.minor)
        out.cuda_pins = [Pin("tensorflow-metal", ExactVersion(r.metal), Channel.PIP, why)]
        out.passed.append(ctx.say("metal-ok", metal=r.metal))
