"""Keras 3 on JAX or PyTorch: each build of the framework judged by the rule book.

The candidates are the framework's builds, newest first: for JAX each release with, on a GPU, each
CUDA major of its plugin (cuda13 before cuda12); for PyTorch each release with, on a GPU, PyPI's
wheel first, then the PyTorch index's builds of its minor, newest CUDA first (the CPU: PyPI's
wheel, or the CPU index's where PyPI's is a CUDA build). Each is checked by the same rules as a
TensorFlow release (`candidate.py`: wheels and Python, glibc and macOS, CPU features, compute
capability with SASS and PTX, the driver for the build's CUDA) plus Keras 3's own floors (the
framework's minimum version, Keras' Python), and fails with the same kind of reasons, so
rejections, `--why-not` and remedies work alike. No I/O; the words are `wording.toml`'s.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envgen import rules
from envgen.kb import KnowledgeBase
from envgen.kb.jax import JaxCuda, JaxRelease
from envgen.kb.pytorch import TorchBuild, TorchRelease
from envgen.plan import Channel, ExactVersion, Note, Pin, Plan
from envgen.resolve.candidate import Context, Reason, check_cpu, check_driver, check_gpus
from envgen.rules import WheelSet


@dataclass
class Build:
    """One build of a framework release, as a candidate: what it is, and its verdict."""

    package: str
    version: Version
    pin: str
    """The exact version its requirement pins (with the local label `+cuXXX` or `+cpu` of an
    index build)."""
    extras: tuple[str, ...] = ()
    wheels: tuple[WheelSet, ...] = ()
    """Every set of wheels it installs here (jaxlib and the CUDA plugin; torch)."""
    cpu_features: tuple[str, ...] = ()
    cuda: str | None = None
    cudnn: str | None = None
    arch: rules.Architectures | None = None
    driver_documented: str | None = None
    """The Linux driver the framework's own docs ask for (JAX), where stated."""
    index: str | None = None
    """The PyTorch index it comes from; None for PyPI."""
    tag: str = ""
    """What tells builds of one release apart: `cuXXX`, `cpu`, `cudaNN`."""
    companions: tuple[Pin, ...] = ()
    """Pins that go with it (jaxlib and the plugin at jax's own version)."""
    reasons: list[Reason] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    warnings: list[Note] = field(default_factory=list)
    ptx_only: bool = False

    @property
    def name(self) -> str:
        return f"{self.package}[{','.join(self.extras)}]" if self.extras else self.package

    @property
    def version_text(self) -> str:
        return self.pin

    @property
    def group_key(self) -> tuple[str, ...]:
        return (f"{self.version.major}.{self.version.minor}", self.tag)

    @property
    def minor(self) -> str:
        return f"{self.version.major}.{self.version.minor}"


# --- the candidates ----------------------------------------------------------------------------


def candidates(ctx: Context, wanted: SpecifierSet | None = None) -> Iterator[Build]:
    """Every build of the requested framework for this machine, newest first, judged."""
    backend = ctx.request.keras_backend
    releases: Sequence[JaxRelease | TorchRelease] = (
        ctx.kb.jax.releases if backend == "jax" else ctx.kb.torch.releases
    )
    for release in reversed(releases):
        if isinstance(release, JaxRelease):
            builds = _jax_builds(ctx, release)
        else:
            builds = _torch_builds(ctx, release)
        for build in builds:
            if wanted is not None and not wanted.contains(Version(build.pin), prereleases=True):
                continue
            yield evaluate(ctx, build)


def _gpu(ctx: Context) -> bool:
    return ctx.target == "gpu"


def _jax_builds(ctx: Context, release: JaxRelease) -> list[Build]:
    platform, line = ctx.platform, release.line
    jaxlib = release.wheel(platform)
    version = str(release.version)
    base = Build("jax", release.version, version, cpu_features=line.cpu_features)
    if jaxlib is None:
        base.reasons.append(Reason("no-wheel", ctx.say("no-wheel", platform=platform)))
        return [base]
    lib = Pin("jaxlib", ExactVersion(version), Channel.PIP, ctx.say("pin-jaxlib"))
    base.wheels, base.companions = (jaxlib,), (lib,)
    if not _gpu(ctx):
        return [base]
    if platform.startswith("macos"):
        base.reasons.append(Reason("no-gpu-build", ctx.say("jax-metal")))
        return [base]
    if platform not in line.gpu_platforms:
        if not line.cuda:
            base.reasons.append(Reason("no-gpu-build", ctx.say("fw-no-pypi-gpu")))
        elif platform.startswith("windows"):
            base.reasons.append(Reason("windows-gpu", ctx.say("jax-windows-gpu")))
        else:
            base.reasons.append(Reason("no-gpu-build", ctx.say("no-gpu-build", platform=platform)))
        return [base]
    return [_jax_cuda(ctx, release, base, cuda) for cuda in reversed(line.cuda)]


def _jax_cuda(ctx: Context, release: JaxRelease, base: Build, cuda: JaxCuda) -> Build:
    plugin = release.plugin(cuda.major, ctx.platform)
    build = Build(
        "jax",
        release.version,
        base.pin,
        extras=(cuda.extra,),
        wheels=base.wheels,
        cpu_features=base.cpu_features,
        cuda=cuda.cuda,
        cudnn=cuda.cudnn,
        arch=rules.Architectures.of_lists(cuda.sass, cuda.ptx),
        driver_documented=cuda.driver_linux,
        tag=cuda.extra,
        companions=base.companions,
    )
    package = f"jax-{cuda.extra}-plugin"
    if cuda.extra not in release.extras:
        build.reasons.append(Reason("no-gpu-build", ctx.say("fw-not-declared", extra=cuda.extra)))
    elif plugin is None:
        text = ctx.say("fw-no-plugin", package=package, platform=ctx.platform)
        build.reasons.append(Reason("no-gpu-build", text))
    else:
        why = ctx.say("pin-jax-plugin")
        pin = Pin(plugin.package, ExactVersion(base.pin), Channel.PIP, why)
        build.wheels = (*base.wheels, plugin)
        build.companions = (*base.companions, pin)
    return build


def _torch_builds(ctx: Context, release: TorchRelease) -> list[Build]:
    platform, table = ctx.platform, ctx.kb.torch
    wheel = release.wheel(platform)
    version = str(release.version)
    if wheel is None:
        build = Build("torch", release.version, version)
        build.reasons.append(Reason("no-wheel", ctx.say("no-wheel", platform=platform)))
        return [build]
    if not _gpu(ctx):
        cpu = table.cpu_build(release, platform)
        return [_torch_build(ctx, release, cpu)] if cpu is not None else []
    if platform.startswith("macos"):
        build = Build("torch", release.version, version, wheels=(wheel,))
        build.reasons.append(Reason("no-gpu-build", ctx.say("torch-macos-gpu")))
        return [build]
    builds = table.gpu_builds(release, platform)
    if not builds:
        build = Build("torch", release.version, version, wheels=(wheel,))
        build.reasons.append(Reason("no-gpu-build", ctx.say("no-gpu-build", platform=platform)))
        return [build]
    return [_torch_build(ctx, release, b) for b in builds]


def _torch_build(ctx: Context, release: TorchRelease, found: TorchBuild) -> Build:
    build = Build(
        "torch",
        release.version,
        found.pin,
        wheels=(found.wheels,),
        cuda=found.cuda,
        index=found.index,
        tag=found.tag or "pypi",
    )
    variant = found.variant
    if found.cuda is not None and _gpu(ctx):
        if variant is None:
            text = ctx.say(
                "fw-no-arch",
                build=f"torch {found.pin}",
                cuda=str(found.cuda),
                minor=release.minor,
                platform=ctx.platform,
            )
            build.reasons.append(Reason("gpu-cc", text))
        else:
            ptx = ctx.kb.torch.ptx(variant, ctx.platform)
            build.arch = rules.Architectures.of_lists(variant.sass, ptx)
            if variant.evidence != "pypi-wheel":
                text = ctx.say(
                    "fw-build-evidence", build=f"torch {found.pin}", evidence=variant.evidence
                )
                build.warnings.append(Note("fw-build-evidence", text))
    if found.index is not None:
        code = "fw-cpu-index" if found.cuda is None else "fw-index"
        build.passed.append(ctx.say(code, index=found.index, platform=ctx.platform))
    return build


# --- judging a build --------------------------------------------------------------------------


def evaluate(ctx: Context, build: Build) -> Build:
    """Every rule for `build` here; failing verdicts become its reasons, in the order a user
    fixes them (wheels and Python, CPU, Keras, GPUs, driver, channel)."""
    if build.reasons:
        return build
    _check_wheels(ctx, build)
    if build.reasons:
        return build
    check_cpu(ctx, build, build.cpu_features, build.minor, tensorflow=False)
    _check_keras(ctx, build)
    if _gpu(ctx) and build.arch is not None and build.cuda is not None:
        check_gpus(ctx, build, build.arch)
        floor = rules.cuda_driver_floor(
            ctx.kb,
            build.cuda,
            ctx.profile.os,
            documented=build.driver_documented if ctx.profile.os.name == "linux" else None,
        )
        check_driver(ctx, build, floor)
        if ctx.request.channel not in ("pip", "auto"):
            title = ctx.kb.keras_backends.get(ctx.request.keras_backend).title
            text = ctx.say("fw-channel", framework=title, channel=str(ctx.request.channel))
            build.reasons.append(Reason("channel", text))
    return build


def _check_wheels(ctx: Context, build: Build) -> None:
    py, platform = ctx.python, ctx.platform
    for wheels in build.wheels:
        verdicts = [
            rules.python_wheel(wheels, py, platform),
            rules.glibc(wheels, ctx.profile.os.glibc),
            rules.macos(wheels.macos, ctx.profile.os.release),
        ]
        for verdict in (v for v in verdicts if not v.ok):
            reason = ctx.reason(verdict)
            # jaxlib and its plugin share their tags: one reason said once.
            if all(r.text != reason.text for r in build.reasons):
                build.reasons.append(reason)
    if not build.reasons and build.wheels:
        first = build.wheels[0]
        floor = f" (glibc >= {first.glibc})" if first.glibc else ""
        build.passed.append(ctx.say("python-ok", python=py, platform=platform, floor=floor))


def _check_keras(ctx: Context, build: Build) -> None:
    """Keras 3's floors: the framework's minimum, and a Keras 3 release for this Python."""
    table = ctx.kb.keras_backends
    backend = table.get(ctx.request.keras_backend)
    if build.version < backend.minimum:
        text = ctx.say("fw-keras-minimum", framework=backend.title, minimum=str(backend.minimum))
        build.reasons.append(Reason("keras", text))
    if table.newest_line(ctx.python) is None:
        floor = table.oldest_python
        fits = [p for w in build.wheels for p in w.python if SpecifierSet(floor).contains(p)]
        text = ctx.say("fw-keras-python", python=ctx.python, floor=floor)
        data = (("pythons", ",".join(sorted(set(fits)))), ("package", "keras"))
        build.reasons.append(Reason("python", text, data))


def build_of(kb: KnowledgeBase, plan: Plan) -> Build | None:
    """The build a JAX or PyTorch plan pins, as the knowledge base describes it (its compute
    capabilities, documented driver, CPU features): what a lock index records of the variant."""
    version = Version(plan.framework.version)
    if plan.keras_backend == "jax":
        release = kb.jax.release(version)
        if release is None:
            return None
        line = release.line
        build = Build("jax", version, str(version), cpu_features=line.cpu_features)
        extra = plan.framework.extras[0] if plan.framework.extras else None
        cuda = next((c for c in line.cuda if c.extra == extra), None)
        if cuda is not None:
            build.arch = rules.Architectures.of_lists(cuda.sass, cuda.ptx)
            build.driver_documented = cuda.driver_linux
        return build
    torch = kb.torch.release(version.public)
    if torch is None:
        return None
    build = Build("torch", torch.version, str(version))
    variant = next(
        (v for v in torch.variants if v.cuda == plan.cuda and plan.platform in v.platforms),
        None,
    )
    if variant is not None:
        build.arch = rules.Architectures.of_lists(
            variant.sass, kb.torch.ptx(variant, plan.platform)
        )
    return build
