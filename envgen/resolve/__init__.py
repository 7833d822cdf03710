"""The resolver: a pure function from (profile, knowledge base, request) to a Plan or a NoSolution.

Policy: the newest TensorFlow release that passes every hard check for this machine, then its pins.
Each check is a rule of `envgen.rules` applied to a fact of the profile (`candidate.py`):

* a wheel exists for this OS/arch and Python, and the OS is new enough (glibc, macOS);
* the CPU has the instructions the x86-64 build uses;
* for a GPU target: the release has a GPU build here; some visible GPU's compute capability is at
  or above the build's floor, has SASS of its major or PTX it can JIT, and is not a known failure;
  cuDNN supports it; the driver meets the CUDA the build was made with (TensorFlow's documented
  minimum, else NVIDIA's); CUDA and cuDNN can arrive through the channel asked for.

No I/O, no printing, no globals: every rejected candidate carries its reasons (`why_not`), every
pin its reason (`pins.py`), and a NoSolution lists remedies found by re-running the resolver with
one constraint relaxed, cheapest first (`remedies.py`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet

from envgen.errors import NoSolutionError
from envgen.kb import KnowledgeBase
from envgen.kb.families import COMMUNITY, CONDA_FORGE, PYPI
from envgen.kb.tensorflow import Release
from envgen.plan import (
    DEFAULT_BACKEND,
    Note,
    Plan,
    Rejection,
    Request,
    Target,
    tensorflow_spec,
    validate,
)
from envgen.profile import HardwareProfile
from envgen.resolve import families, family_pins, framework_pins, frameworks
from envgen.resolve.candidate import Context, Judged, Outcome, Reason, evaluate
from envgen.resolve.pins import group, plan
from envgen.resolve.remedies import Remedy, remedies


@dataclass(frozen=True)
class NoSolution:
    message: str
    remedies: tuple[str, ...]
    rejections: tuple[Rejection, ...]
    warnings: tuple[Note, ...] = ()
    found: tuple[Remedy, ...] = ()
    """The remedies with the numbers each quotes and the plan it names (`remedies` is their text)."""

    package: str = "tensorflow"
    """The framework's package, for the hint."""

    def to_error(self) -> NoSolutionError:
        return NoSolutionError(
            self.message,
            hint=f"`envgen plan --why-not {self.package}==X.Y` explains a single release",
            remedies=list(self.remedies),
            rejections=[r.to_dict() for r in self.rejections],
        )


# --- entry points --------------------------------------------------------------------------------


def platform_of(profile: HardwareProfile, kb: KnowledgeBase) -> str | None:
    """The knowledge-base platform of a profile (lock-platforms.toml), None where envgen knows no
    such platform (no official wheels); WSL2 runs the Linux wheels."""
    found = kb.lock_platforms.for_machine(profile.os.name, profile.os.arch)
    return None if found is None else found.kb_platform


def resolve(profile: HardwareProfile, kb: KnowledgeBase, request: Request) -> Plan | NoSolution:
    """Decide the stack for `profile`; see the module docstring for the policy."""
    return _resolve(profile, kb, request, explain=True)


def why_not(
    profile: HardwareProfile, kb: KnowledgeBase, request: Request, spec: str
) -> list[Rejection]:
    """Every release (or build) of the requested framework matching `spec`, with the reasons it
    fails here (empty reasons: it fits)."""
    validate(request)
    package = kb.keras_backends.get(request.keras_backend).package
    wanted = tensorflow_spec(spec, "why_not", package)
    platform = platform_of(profile, kb)
    target = _target(profile, request)
    if platform is None:
        reason = _no_platform(profile, kb)
        return [Rejection(f"{package} {spec}", (reason.text,))]
    ctx = Context(profile, kb, request, platform, _python(profile, request), target)
    return [
        Rejection(
            f"{o.name}=={o.version_text}{getattr(o, 'detail', '')}",
            tuple(r.text for r in o.reasons),
        )
        for o in _candidates(ctx, wanted, explain=True)
    ]


# --- resolution ----------------------------------------------------------------------------------


def candidates(kb: KnowledgeBase, wanted: SpecifierSet | None) -> list[Release]:
    """The releases a request may get, newest first (minor, then patch). A pre-release (a row
    `kb update --pre` wrote) only where the request names one (`--tensorflow 2.22.0rc0`,
    `>=2.22.0rc0`), as pip treats them (PEP 440: pre-releases are excluded unless the
    specifier mentions one)."""
    table = kb.tensorflow
    pool = [*table.releases, *table.prereleases]
    pool.sort(key=lambda r: r.version, reverse=True)
    if wanted is None:
        return [r for r in pool if not r.version.is_prerelease]
    return [r for r in pool if wanted.contains(r.version)]


def _python(profile: HardwareProfile, request: Request) -> str:
    return request.python or profile.python.version


def _target(profile: HardwareProfile, request: Request) -> Target:
    if request.target != "auto":
        return request.target
    # auto = GPU only where an NVIDIA driver answered and a GPU is visible; toolkits never count.
    return Target.GPU if profile.has_nvidia_gpu and profile.os.name != "macos" else Target.CPU


def _no_platform(profile: HardwareProfile, kb: KnowledgeBase) -> Reason:
    arch = profile.os.arch
    hint = "aarch64 Raspberry Pi OS / Ubuntu" if arch == "armv7l" else "x86_64 or arm64"
    where = f"{profile.os.name} {arch}"
    return Reason(
        "no-official-platform",
        kb.wording.render("no-official-platform", platform=where),
        (("platform", where), ("hint", hint)),
    )


def _resolve(
    profile: HardwareProfile, kb: KnowledgeBase, request: Request, *, explain: bool
) -> Plan | NoSolution:
    validate(request)
    platform = platform_of(profile, kb)
    target = _target(profile, request)
    if platform is None:
        reason = _no_platform(profile, kb)
        text = kb.remedies.render(reason.code, request.keras_backend, **dict(reason.data))
        found = (Remedy(reason.code, reason.data, text),) if explain else ()
        package = kb.keras_backends.get(request.keras_backend).package
        return NoSolution(
            reason.text, tuple(r.text for r in found), (), found=found, package=package
        )
    ctx = Context(profile, kb, request, platform, _python(profile, request), target)

    if request.target == "auto" and target == "gpu":
        gpu = _resolve(
            profile, kb, dataclasses.replace(request, target=Target.GPU), explain=explain
        )
        if isinstance(gpu, Plan):
            return gpu
        cpu = _resolve(
            profile, kb, dataclasses.replace(request, target=Target.CPU), explain=explain
        )
        if isinstance(cpu, Plan):
            way_out = f"; for the GPU: {gpu.remedies[0]}" if gpu.remedies else ""
            note = Note("auto-cpu", ctx.say("auto-cpu", message=gpu.message, way_out=way_out))
            return dataclasses.replace(cpu, warnings=(note, *cpu.warnings), request=request)
        return gpu

    rejected: list[Judged] = []
    chosen: Judged | None = None
    for outcome in _candidates(ctx, tensorflow_spec(request.tensorflow)):
        if not outcome.reasons:
            chosen = outcome
            break
        rejected.append(outcome)
    rejections = group(rejected)
    if chosen is None:
        return _no_solution(ctx, rejected, rejections, explain=explain)
    if isinstance(chosen, Outcome):
        return plan(ctx, chosen, rejections)
    if isinstance(chosen, families.ForgeOutcome):
        return family_pins.forge_plan(ctx, chosen, rejections)
    if isinstance(chosen, families.CommunityOutcome):
        return family_pins.community_plan(ctx, chosen, rejections)
    assert isinstance(chosen, frameworks.Build)
    return framework_pins.plan(ctx, chosen, rejections)


def _candidates(
    ctx: Context, wanted: SpecifierSet | None, *, explain: bool = False
) -> Iterator[Judged]:
    """The requested framework's candidates for this machine, newest first, each judged:
    TensorFlow's families in the order the request weighs them (`families.order`); `explain`
    (`--why-not`) adds the community builds a user has not opted into, each saying so."""
    if ctx.request.keras_backend != DEFAULT_BACKEND:
        yield from frameworks.candidates(ctx, wanted)
        return
    groups = families.order(ctx)
    if explain and not any(COMMUNITY in g for g in groups):
        groups = (*groups, (COMMUNITY,))
    for group_ in groups:
        streams: list[Iterator[Judged]] = []
        for family in group_:
            if family == PYPI:
                streams.append(evaluate(ctx, r) for r in candidates(ctx.kb, wanted))
            elif family == CONDA_FORGE:
                streams.append(families.forge_candidates(ctx, wanted))
            else:
                streams.append(families.community_candidates(ctx, wanted))
        yield from families.merged(*streams)


def _no_solution(
    ctx: Context, rejected: list[Judged], rejections: tuple[Rejection, ...], *, explain: bool
) -> NoSolution:
    backend = ctx.kb.keras_backends.get(ctx.request.keras_backend)
    if not rejected:
        message = ctx.say("no-match", spec=str(ctx.request.tensorflow))
    else:
        newest = rejected[0]
        message = ctx.say(
            "no-solution",
            framework=backend.title,
            what="GPU" if ctx.target == "gpu" else "CPU",
            python=ctx.python,
            version=newest.version_text,
            reasons="; ".join(r.text for r in newest.reasons),
        )
    if not explain:
        return NoSolution(message, (), rejections, package=backend.package)

    def replan(profile: HardwareProfile, request: Request) -> Plan | None:
        result = _resolve(profile, ctx.kb, request, explain=False)
        return result if isinstance(result, Plan) else None

    found = remedies(ctx, rejected, replan)
    return NoSolution(
        message, tuple(r.text for r in found), rejections, found=found, package=backend.package
    )


__all__ = [
    "NoSolution",
    "Reason",
    "Remedy",
    "platform_of",
    "resolve",
    "tensorflow_spec",
    "validate",
    "why_not",
]
