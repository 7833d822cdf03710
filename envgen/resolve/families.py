"""TensorFlow builds from the other families, as candidates judged by the same rule book.

PyPI's official wheels are one family (`candidate.py`); this module adds two more
(families.toml), each judged by the same checks as a PyPI release (Python, glibc and macOS, CPU
features, compute capability with SASS and PTX, the driver for its CUDA, how CUDA arrives) and
failing with the same kind of reasons, so rejections, `--why-not` and remedies work alike:

* **conda-forge**: the feedstock's own builds (conda-forge-tensorflow.toml), one candidate per
  variant: compiled for `-march=nocona` (SSE3, no AVX) on linux-64, so they run where PyPI's
  wheels (AVX since 1.6) cannot. Only the level-1 build of a release is planned: its x86-64-v3
  twin (2.18 on) needs `__archspec x86_64_v3`, which a lock made for any x86-64 machine does not
  assume, and carries the same release. A CUDA-named build compiled without CUDA (2.15.0 builds
  0 and 1) is never a GPU candidate.
* **community**: fo40225's Windows wheels (community-builds.toml), only with
  `--allow-community-builds`; a row split into 7-Zip volumes cannot be installed from a URL.

Which families a request weighs, and in what order, is `order()`: the policy of families.toml.
No I/O; the words are `wording.toml`'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envgen import rules
from envgen.kb import KnowledgeBase
from envgen.kb.community import Wheel
from envgen.kb.conda_forge import Build, Variant
from envgen.kb.families import COMMUNITY, CONDA_FORGE, PYPI
from envgen.plan import Channel, ExactVersion, Note, Pin, Plan
from envgen.resolve.candidate import (
    Context,
    Judged,
    Reason,
    check_cpu,
    check_driver,
    check_gpus,
)
from envgen.versions import major_minor

# The channels under which each family is weighed (families.toml's header says why).
CHANNELS = {
    PYPI: ("pip", "conda", "system", "auto"),
    CONDA_FORGE: ("conda", "auto"),
    COMMUNITY: ("pip", "system", "auto"),
}


def order(ctx: Context) -> tuple[tuple[str, ...], ...]:
    """The families a request weighs, as groups tried one after the other: within a group the
    candidates are merged newest release first (PyPI's first where both have it); a later group
    only where no candidate of an earlier one passes. `--channel conda` weighs PyPI's wheels
    (CUDA from conda) and conda-forge's builds side by side; `auto` takes conda-forge's only
    where no PyPI wheel runs; a community build comes last, opted in."""
    channel = str(ctx.request.channel)
    groups: list[tuple[str, ...]] = []
    if channel == "conda":
        groups.append((PYPI, CONDA_FORGE))
    else:
        groups.append((PYPI,))
        if channel in CHANNELS[CONDA_FORGE]:
            groups.append((CONDA_FORGE,))
    if ctx.request.allow_community_builds and channel in CHANNELS[COMMUNITY]:
        groups.append((COMMUNITY,))
    return tuple(groups)


# --- conda-forge ---------------------------------------------------------------------------------


@dataclass
class ForgeOutcome:
    """One conda-forge build variant as a candidate, and its verdict."""

    build: Build
    variant: Variant
    spec: str
    """The build-string match a plan pins (`cpu_py311h*_3`)."""
    reasons: list[Reason] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    warnings: list[Note] = field(default_factory=list)
    ptx_only: bool = False
    cuda_pins: list[Pin] = field(default_factory=list)

    family = CONDA_FORGE

    @property
    def name(self) -> str:
        return "conda-forge::tensorflow"

    @property
    def version_text(self) -> str:
        return str(self.build.version)

    @property
    def group_key(self) -> tuple[str, ...]:
        return (self.spec,)

    @property
    def detail(self) -> str:
        """What tells it from the release's other builds, as conda spells it (`=cpu_py311h*_3`)."""
        return f"={self.spec}"

    @property
    def label(self) -> str:
        return f"tensorflow {self.build.version} {self.spec}"


def forge_candidates(ctx: Context, wanted: SpecifierSet | None) -> Iterator[ForgeOutcome]:
    """conda-forge's builds for this platform, newest release and base build first, judged."""
    subdir = ctx.kb.lock_platforms.get(ctx.platform).name
    gpu = ctx.target == "gpu"
    if gpu and ctx.platform.startswith("macos"):
        return  # a Mac's GPU is Metal: PyPI's tensorflow-metal, which conda-forge does not build
    for build, variant in ctx.kb.conda_forge.newest_first(subdir):
        if (variant.microarch_level or 1) > 1 or (variant.cuda is not None) != gpu:
            continue
        if wanted is not None and not wanted.contains(build.version, prereleases=True):
            continue
        yield evaluate_forge(ctx, build, variant)


def evaluate_forge(ctx: Context, build: Build, variant: Variant) -> ForgeOutcome:
    python = ctx.python
    out = ForgeOutcome(build, variant, variant.build_spec(python))
    if not variant.supports_python(python):
        out.spec = variant.build_string  # no build for this Python: the pattern names them all
        text = ctx.say(
            "forge-python",
            version=str(build.version),
            python=python,
            platform=variant.platform,
            pythons_text=", ".join(variant.python),
        )
        pythons = ",".join(variant.python)
        out.reasons.append(Reason("python", text, (("pythons", pythons), ("python", python))))
        return out
    for verdict in (
        rules.glibc(variant, ctx.profile.os.glibc),
        rules.macos(variant.macos, ctx.profile.os.release),
    ):
        if not verdict.ok:
            out.reasons.append(ctx.reason(verdict))
    if not out.reasons:
        floor = f" (glibc >= {variant.glibc})" if variant.glibc else ""
        out.passed.append(
            ctx.say("forge-python-ok", python=python, platform=variant.platform, floor=floor)
        )
    label = f"{build.minor} (conda-forge {variant.compiled_for})"
    check_cpu(ctx, out, variant.cpu_features, label, tensorflow=False)
    if ctx.request.keras is not None:
        out.reasons.append(Reason("keras", ctx.say("forge-keras", asked=ctx.request.keras)))
    if variant.cuda is not None:
        _forge_gpu(ctx, out, variant.cuda)
    if not ctx.kb.conda_forge.published(build, variant):
        text = ctx.say(
            "forge-unconfirmed", build=out.label, commit=build.commit[:12], date=build.date
        )
        out.warnings.append(Note("forge-unconfirmed", text))
    return out


def _forge_gpu(ctx: Context, out: ForgeOutcome, cuda: str) -> None:
    variant = out.variant
    if not variant.built_with_cuda:
        text = ctx.say("forge-no-cuda", build=out.label, cuda=cuda)
        out.reasons.append(Reason("no-gpu-build", text))
        return
    minimum = variant.min_compute_capability
    check_gpus(ctx, out, rules.Architectures(minimum, variant.sass, variant.ptx))
    check_driver(ctx, out, rules.cuda_driver_floor(ctx.kb, cuda, ctx.profile.os))
    specs = ctx.kb.conda.specs_for(cuda)
    if specs is None:
        why = ctx.kb.conda.why_not(cuda) or "no packages"
        out.reasons.append(Reason("channel", ctx.say("channel-conda", why=why)))
        return
    why = ctx.say(
        "pin-forge-cuda",
        cuda=cuda,
        version=str(out.build.version),
        build=out.spec,
        cudnn=variant.cudnn or "?",
    )
    for spec in specs:
        name, _, version = spec.partition("=")
        out.cuda_pins.append(
            Pin(name, ExactVersion(version), Channel.CONDA, why, family=CONDA_FORGE)
        )


# --- community -----------------------------------------------------------------------------------


@dataclass
class CommunityOutcome:
    """One community wheel as a candidate, and its verdict."""

    row: Wheel
    reasons: list[Reason] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    warnings: list[Note] = field(default_factory=list)
    ptx_only: bool = False
    cuda_pins: list[Pin] = field(default_factory=list)

    family = COMMUNITY

    @property
    def name(self) -> str:
        return self.row.install_name

    @property
    def version_text(self) -> str:
        return str(self.row.release)

    @property
    def group_key(self) -> tuple[str, ...]:
        return (self.row.folder,)

    @property
    def detail(self) -> str:
        return f" ({self.row.label}, third-party)"

    @property
    def label(self) -> str:
        return self.row.label


def community_candidates(ctx: Context, wanted: SpecifierSet | None) -> Iterator[CommunityOutcome]:
    """The community rows for this platform and target, newest release first, judged."""
    gpu = ctx.target == "gpu"
    for row in ctx.kb.community.newest_first(ctx.platform):
        # A GPU plan takes a CUDA build; a CPU plan the CPU-only one (a CPU+GPU wheel still
        # loads CUDA's DLLs at import).
        if (row.kind != "CPU") != gpu:
            continue
        if wanted is not None and not wanted.contains(row.release, prereleases=True):
            continue
        yield evaluate_community(ctx, row)


def evaluate_community(ctx: Context, row: Wheel) -> CommunityOutcome:
    out = CommunityOutcome(row)
    fields = {"build": row.label, "python": ctx.python}
    if not ctx.request.allow_community_builds:
        out.reasons.append(Reason("community-opt-in", ctx.say("community-opt-in", **fields)))
    wheel = row.wheel_file()
    if wheel is None:
        count = str(sum(1 for f in row.files if f.format == "7z-volume"))
        text = ctx.say("community-volumes", files=count, **fields)
        out.reasons.append(Reason("community-volumes", text))
        return out
    if row.python != ctx.python:
        text = ctx.say("community-python", built=row.python, **fields)
        out.reasons.append(Reason("python", text, (("pythons", row.python),)))
        return out
    out.passed.append(ctx.say("community-python-ok", **fields, simd=row.simd))
    check_cpu(ctx, out, row.cpu_features, f"{row.minor} ({row.label})", tensorflow=False)
    if ctx.request.keras is not None:
        text = ctx.say("community-keras", asked=ctx.request.keras, **fields)
        out.reasons.append(Reason("keras", text))
    if row.gpu:
        _community_gpu(ctx, out)
    return out


def _community_gpu(ctx: Context, out: CommunityOutcome) -> None:
    row = out.row
    # A GPU row has both (its check_row).
    assert row.cuda is not None
    assert row.cudnn is not None
    cuda, cudnn = major_minor(row.cuda), major_minor(row.cudnn)
    arch = rules.Architectures(row.min_compute_capability, row.sass, row.ptx)
    check_gpus(ctx, out, arch, cudnn=(cudnn, cuda))
    check_driver(ctx, out, rules.cuda_driver_floor(ctx.kb, cuda, ctx.profile.os))
    if str(ctx.request.channel) not in ("system", "auto"):
        text = ctx.say(
            "community-channel",
            build=row.label,
            cuda=row.cuda,
            cudnn=row.cudnn,
            channel=str(ctx.request.channel),
        )
        out.reasons.append(Reason("channel", text))
        return
    words = {"build": row.label, "cuda": row.cuda, "cudnn": row.cudnn}
    out.cuda_pins = [
        Pin("cuda", ExactVersion(row.cuda), Channel.SYSTEM, ctx.say("pin-community-cuda", **words)),
        Pin(
            "cudnn",
            ExactVersion(row.cudnn),
            Channel.SYSTEM,
            ctx.say("pin-community-cudnn", **words),
        ),
    ]
    found = [t.version for t in ctx.profile.cuda_toolkits]
    if not any(v.split(".")[:2] == cuda.split(".") for v in found):
        text = ctx.say(
            "system-cuda-windows",
            cuda=row.cuda,
            cudnn=row.cudnn,
            found=", ".join(found) or "no toolkit",
        )
        out.warnings.append(Note("system-cuda", text))


# --- what a plan's build needs ------------------------------------------------------------------


@dataclass(frozen=True)
class BuildFacts:
    """What a plan's TensorFlow build of another family needs of a machine: its x86-64
    features, its lowest compute capability, and its CUDA (for the driver floor)."""

    family: str
    cpu_features: tuple[str, ...]
    min_compute_capability: str | None
    cuda: str | None
    simd: str
    """How the family names the build's instruction set (`-march=nocona`, fo40225's `x86_64`)."""


def build_facts(kb: KnowledgeBase, plan: Plan) -> BuildFacts | None:
    """The facts of the build a plan's framework pin names, where it is another family's;
    None for PyPI's wheels (their release's build row says it) and other frameworks."""
    pin = plan.framework
    if pin.family == CONDA_FORGE and pin.build is not None:
        subdir = kb.lock_platforms.get(plan.platform).name
        found = kb.conda_forge.find(pin.version, subdir, pin.build)
        if found is None:
            return None
        variant = found[1]
        cc = variant.min_compute_capability
        return BuildFacts(CONDA_FORGE, variant.cpu_features, cc, variant.cuda, variant.baseline)
    if pin.family == COMMUNITY and pin.url is not None:
        row = kb.community.find(pin.url)
        if row is None:
            return None
        cuda = major_minor(row.cuda) if row.cuda else None
        return BuildFacts(COMMUNITY, row.cpu_features, row.min_compute_capability, cuda, row.simd)
    return None


# --- families side by side -----------------------------------------------------------------------


J = TypeVar("J", bound=Judged)


def merged(*streams: Iterator[J]) -> Iterator[J]:
    """Candidates of several families, newest release first; on a tie the earlier stream's
    first (PyPI's wheel before conda-forge's build of the same release). Each stream is
    already newest first; the result is too."""
    heads = [_next(s) for s in streams]
    while True:
        live = [(head[1], -i, i) for i, head in enumerate(heads) if head is not None]
        if not live:
            return
        best = max(live)[2]
        head = heads[best]
        assert head is not None
        yield head[0]
        heads[best] = _next(streams[best])


def _next(stream: Iterator[J]) -> tuple[J, Version] | None:
    item = next(stream, None)
    return None if item is None else (item, Version(item.version_text))
