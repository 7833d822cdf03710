"""The resolver: a pure function from (profile, knowledge base, request) to a Plan or a NoSolution.

Policy: the newest TensorFlow release that passes every hard check for this machine, then its pins.
Checks, each a fact from the knowledge base applied to a fact of the profile:

* a wheel exists for this OS/arch and Python, and the OS is new enough (glibc, macOS);
* the CPU has the instructions the x86-64 build uses (AVX since 1.6, AVX2 for 2.4);
* for a GPU target: the release has a GPU build here (native Windows only up to 2.10); some
  visible GPU's compute capability is at or above the build's floor, has SASS of its major or PTX
  it can JIT, and is not a known failure; cuDNN supports it; the driver meets the CUDA the build
  was made with (TensorFlow's documented minimum, else NVIDIA's); CUDA and cuDNN can arrive
  through the channel asked for (pip `[and-cuda]` wheels from 2.14, conda packages, the system).

No I/O, no printing, no globals: every rejected candidate carries its reasons, every pin its
reason, and a NoSolution lists remedies found by re-running the resolver with one constraint
relaxed (another Python, a newer driver, WSL2, the CPU), cheapest first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from envgen.documents import bad_char, shown
from envgen.errors import NoSolutionError, OptionError
from envgen.kb import KnowledgeBase, kb_hash
from envgen.kb.tensorflow import Release, Wheels
from envgen.plan import CHANNELS, KERAS_CHOICES, TARGETS, Note, Pin, Plan, Rejection, Request
from envgen.profile import GPU, HardwareProfile, NvidiaDriver, complete, driver_os
from envgen.versions import is_dotted, parse_dotted

# (os name, arch) -> knowledge-base platform; anything else has no official wheels.
_PLATFORMS = {
    ("linux", "x86_64"): "linux-x86_64",
    ("linux", "aarch64"): "linux-aarch64",
    ("windows", "x86_64"): "windows-x86_64",
    ("macos", "x86_64"): "macos-x86_64",
    ("macos", "arm64"): "macos-arm64",
}


@dataclass(frozen=True)
class Reason:
    """Why one candidate fails; `code` groups reasons for remedies, `data` fills remedy texts."""

    code: str
    text: str
    data: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class NoSolution:
    message: str
    remedies: tuple[str, ...]
    rejections: tuple[Rejection, ...]
    warnings: tuple[Note, ...] = ()

    def to_error(self) -> NoSolutionError:
        return NoSolutionError(
            self.message,
            hint="`envgen plan --why-not tensorflow==X.Y` explains a single release",
            remedies=list(self.remedies),
        )


@dataclass
class _Outcome:
    """One candidate's verdict and, when it passes, what the plan needs from the checks."""

    release: Release
    reasons: list[Reason] = field(default_factory=list)
    wheel: Wheels | None = None
    passed: list[str] = field(default_factory=list)
    warnings: list[Note] = field(default_factory=list)
    channel: str | None = None
    cuda_pins: list[Pin] = field(default_factory=list)
    cudnn: str | None = None
    ptx_only: bool = False
    """Every usable GPU runs this build through PTX JIT (no native SASS for it)."""


@dataclass(frozen=True)
class _Context:
    profile: HardwareProfile
    kb: KnowledgeBase
    request: Request
    platform: str
    python: str
    target: str


# --- entry points --------------------------------------------------------------------------------


def platform_of(profile: HardwareProfile) -> str | None:
    """The knowledge-base platform of a profile; WSL2 runs the Linux wheels."""
    return _PLATFORMS.get((profile.os.name, profile.os.arch))


def tensorflow_spec(text: str | None, option: str = "tensorflow") -> SpecifierSet | None:
    """`--tensorflow`: a PEP 440 specifier, or a bare version (`2.15` means `==2.15.*`).

    `option` names the option the text came from, for the error."""
    if text is None or not text.strip():
        return None
    spec = text.strip().removeprefix("tensorflow").strip()
    if is_dotted(spec):
        return SpecifierSet(f"=={spec}.*" if spec.count(".") == 1 else f"=={spec}")
    try:
        return SpecifierSet(spec)
    except InvalidSpecifier as exc:
        raise OptionError(
            option,
            f"{shown(text)} is not a version specifier",
            hint="use e.g. 2.15, 2.15.1, '==2.15.*' or '>=2.12,<2.16'",
        ) from exc


def validate(request: Request) -> None:
    """Reject malformed requests naming the option (the CLI names where its value came from)."""
    for name, value in request.to_dict().items():
        if isinstance(value, str) and bad_char(value) is not None:
            # The request is written into lock indexes and file headers, one value a line.
            raise OptionError(name, f"holds a control character: {shown(value)}")
    if request.target not in TARGETS:
        raise OptionError(
            "target", f"expected one of {', '.join(TARGETS)}, got {shown(request.target)}"
        )
    if request.python is not None and not (
        is_dotted(request.python, parts=2) and request.python == request.python.strip()
    ):
        raise OptionError("python", f"expected a version like 3.11, got {shown(request.python)}")
    if request.keras is not None and request.keras not in KERAS_CHOICES:
        raise OptionError("keras", f"expected 2 or 3, got {shown(request.keras)}")
    if request.channel not in (*CHANNELS, "auto"):
        raise OptionError(
            "channel", f"expected pip, conda, system or auto, got {shown(request.channel)}"
        )
    tensorflow_spec(request.tensorflow)


def resolve(profile: HardwareProfile, kb: KnowledgeBase, request: Request) -> Plan | NoSolution:
    """Decide the stack for `profile`; see the module docstring for the policy."""
    return _resolve(profile, kb, request, explain=True)


def why_not(
    profile: HardwareProfile, kb: KnowledgeBase, request: Request, spec: str
) -> list[Rejection]:
    """Every release matching `spec`, with the reasons it fails here (empty reasons: it fits)."""
    validate(request)
    wanted = tensorflow_spec(spec, "why_not")
    platform = platform_of(profile)
    target = _target(profile, request)
    out = []
    for release in reversed(kb.tensorflow.releases):
        if wanted is not None and release.version not in wanted:
            continue
        if platform is None:
            out.append(Rejection(f"tensorflow=={release.version}", (_no_platform(profile).text,)))
            continue
        ctx = _Context(profile, kb, request, platform, _python(profile, request), target)
        outcome = _evaluate(ctx, release)
        out.append(
            Rejection(f"tensorflow=={release.version}", tuple(r.text for r in outcome.reasons))
        )
    return out


# --- resolution ----------------------------------------------------------------------------------


def _python(profile: HardwareProfile, request: Request) -> str:
    return request.python or profile.python.version


def _target(profile: HardwareProfile, request: Request) -> str:
    if request.target != "auto":
        return request.target
    # auto = GPU only where an NVIDIA driver answered and a GPU is visible; toolkits never count.
    return "gpu" if profile.has_nvidia_gpu and profile.os.name != "macos" else "cpu"


def _no_platform(profile: HardwareProfile) -> Reason:
    arch = profile.os.arch
    hint = "aarch64 Raspberry Pi OS / Ubuntu" if arch == "armv7l" else "x86_64 or arm64"
    return Reason(
        "no-official-platform",
        f"no official TensorFlow wheels for {profile.os.name} {arch}",
        (("platform", f"{profile.os.name} {arch}"), ("hint", hint)),
    )


def _resolve(
    profile: HardwareProfile, kb: KnowledgeBase, request: Request, *, explain: bool
) -> Plan | NoSolution:
    validate(request)
    platform = platform_of(profile)
    target = _target(profile, request)
    if platform is None:
        reason = _no_platform(profile)
        remedies = [kb.remedies.render(reason.code, **dict(reason.data))] if explain else []
        return NoSolution(reason.text, tuple(remedies), ())
    ctx = _Context(profile, kb, request, platform, _python(profile, request), target)

    if request.target == "auto" and target == "gpu":
        gpu = _resolve(profile, kb, dataclasses.replace(request, target="gpu"), explain=explain)
        if isinstance(gpu, Plan):
            return gpu
        cpu = _resolve(profile, kb, dataclasses.replace(request, target="cpu"), explain=explain)
        if isinstance(cpu, Plan):
            way_out = f"; for the GPU: {gpu.remedies[0]}" if gpu.remedies else ""
            note = Note(
                "auto-cpu",
                f"no GPU stack fits this request ({gpu.message}); planned the CPU instead{way_out}",
            )
            return dataclasses.replace(cpu, warnings=(note, *cpu.warnings), request=request)
        return gpu

    wanted = tensorflow_spec(request.tensorflow)
    rejected: list[_Outcome] = []
    chosen: _Outcome | None = None
    for release in reversed(kb.tensorflow.releases):  # newest first: minor, then patch
        if wanted is not None and release.version not in wanted:
            continue
        outcome = _evaluate(ctx, release)
        if not outcome.reasons:
            chosen = outcome
            break
        rejected.append(outcome)
    rejections = _group(rejected)
    if chosen is None:
        return _no_solution(ctx, rejected, rejections, explain=explain)
    return _plan(ctx, chosen, rejections)


def _evaluate(ctx: _Context, release: Release) -> _Outcome:
    out = _Outcome(release)
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
            _choose_channel(ctx, out)
    return out


def _check_wheel(ctx: _Context, out: _Outcome) -> None:
    r, p, py = out.release, ctx.platform, ctx.python
    gpu = ctx.target == "gpu" and not p.startswith("macos")
    wheel = r.gpu_wheel(p) if gpu else r.wheel(p)
    if wheel is None:
        if gpu and p == "windows-x86_64" and r.wheel(p) is not None and not r.windows_gpu:
            out.reasons.append(
                Reason("windows-gpu", "native Windows GPU support ended at TensorFlow 2.10")
            )
        elif gpu and r.wheel(p) is not None:
            out.reasons.append(Reason("no-gpu-build", f"no official GPU build for {p}"))
        else:
            out.reasons.append(Reason("no-wheel", f"no wheels for {p}"))
        return
    out.wheel = wheel
    if not wheel.supports_python(py):
        out.reasons.append(
            Reason(
                "python",
                f"no wheel for Python {py} on {p} (wheels: {', '.join(wheel.python)})",
                (("pythons", ",".join(wheel.python)), ("package", wheel.install_name)),
            )
        )
    have = ctx.profile.os.glibc
    if wheel.glibc and have and parse_dotted(have) < parse_dotted(wheel.glibc):
        out.reasons.append(
            Reason("glibc", f"needs glibc >= {wheel.glibc} (manylinux); this system has {have}")
        )
    release = ctx.profile.os.release
    if (
        wheel.macos
        and release
        and is_dotted(release)
        and parse_dotted(release) < parse_dotted(wheel.macos)
    ):
        out.reasons.append(
            Reason(
                "macos",
                f"needs macOS >= {wheel.macos}; this Mac runs {release}",
                (("macos", wheel.macos),),
            )
        )
    if not out.reasons:
        floor = f" (glibc >= {wheel.glibc})" if wheel.glibc else ""
        out.passed.append(f"wheel for Python {py} on {p}{floor}")


def _check_cpu(ctx: _Context, out: _Outcome) -> None:
    if not ctx.platform.endswith("x86_64"):
        return
    flags = ctx.profile.cpu.flag_set
    needed = out.release.cpu_features
    if not flags:
        out.warnings.append(
            Note(
                "cpu-flags-unknown",
                "the profile lists no CPU flags; assumed the CPU has "
                + ", ".join(needed or ("the baseline",)),
            )
        )
        return
    missing = [f for f in needed if f not in flags]
    if missing:
        # Which features each build needs is data (tensorflow-builds.toml cpu-features).
        since = f"TensorFlow {out.release.minor}'s x86-64 binaries use {', '.join(needed).upper()}"
        out.reasons.append(
            Reason(
                "cpu",
                f"the CPU lacks {', '.join(m.upper() for m in missing)} ({since}): "
                "import would die with 'Illegal instruction'",
            )
        )
        return
    if needed:
        out.passed.append("CPU has " + ", ".join(f.upper() for f in needed))
    extra = [f.upper() for f in ("avx", "avx2", "fma", "avx512f") if f in flags and f not in needed]
    if extra:
        uses = ", ".join(f.upper() for f in needed) + " only" if needed else "no AVX"
        out.warnings.append(
            Note(
                "cpu-build-note",
                f"the wheel uses {uses}; TensorFlow logs that this CPU also has "
                f"{' '.join(extra)} at start-up: informational, not an error",
            )
        )


def _check_keras(ctx: _Context, out: _Outcome) -> None:
    keras = out.release.keras
    if ctx.request.keras == "3" and keras.kind != "keras3":
        out.reasons.append(Reason("keras", "Keras 3 needs TensorFlow >= 2.16"))
    if ctx.request.keras == "2" and keras.kind == "keras3" and keras.tf_keras is None:
        out.reasons.append(Reason("keras", "no tf-keras release pairs with this TensorFlow"))


def _cc_verdict(ctx: _Context, release: Release, cc: str) -> tuple[str | None, str]:
    """(failure reason or None, how the GPU runs: "sass" or "ptx")."""
    have = parse_dotted(cc)
    if have < parse_dotted(release.min_compute_capability):
        return (
            f"TensorFlow ignores GPUs below compute capability {release.min_compute_capability}",
            "",
        )
    issue = ctx.kb.gpu_issues.find(cc, release.version)
    if issue is not None:
        return issue.reason, ""
    sass = any(parse_dotted(s)[0] == have[0] and parse_dotted(s) <= have for s in release.sass)
    ptx = any(parse_dotted(p) <= have for p in release.ptx)
    if not sass and not ptx:
        images = f"SASS {', '.join(release.sass)}; PTX {', '.join(release.ptx) or 'none'}"
        return f"no kernel image for compute capability {cc} ({images})", ""
    floor = ctx.kb.cudnn.min_cc(release.cudnn, release.cuda)
    if floor is not None and have < parse_dotted(floor):
        return f"cuDNN {release.cudnn} does not support compute capability {cc} (needs {floor})", ""
    return None, "sass" if sass else "ptx"


def _check_gpus(ctx: _Context, out: _Outcome) -> None:
    gpus = ctx.profile.gpus
    if ctx.profile.nvidia is None or not gpus:
        out.reasons.append(Reason("no-gpu", "no NVIDIA GPU with a working driver in the profile"))
        return
    usable: list[tuple[GPU, str]] = []
    failures: list[str] = []
    for gpu in gpus:
        if gpu.compute_capability is None:
            failures.append(f"{gpu.name}: compute capability unknown (add it to the profile)")
            continue
        problem, how = _cc_verdict(ctx, out.release, gpu.compute_capability)
        if problem is None:
            usable.append((gpu, how))
        else:
            failures.append(f"{gpu.name} ({gpu.compute_capability}): {problem}")
    if not usable:
        out.reasons.append(Reason("gpu-cc", "; ".join(failures)))
        return
    for failure in failures:
        out.warnings.append(Note("gpu-ignored", f"TensorFlow will not use {failure}"))
    out.ptx_only = all(how == "ptx" for _, how in usable)
    names = ", ".join(f"{g.name} ({g.compute_capability}, {how.upper()})" for g, how in usable)
    out.passed.append(f"GPU {names}")
    for gpu, how in usable:
        if how == "ptx":
            out.warnings.append(
                Note(
                    "ptx-jit",
                    f"{gpu.name} ({gpu.compute_capability}) is newer than every native "
                    f"architecture of this build ({', '.join(out.release.sass)}): the driver "
                    "JIT-compiles PTX at first start, which can take many minutes",
                )
            )


def _driver_floor(ctx: _Context, release: Release) -> tuple[str | None, str]:
    """The hard driver minimum for the build's CUDA, and who states it."""
    os_col = driver_os(ctx.profile.os)
    build = release.build
    documented = build.driver_wsl if ctx.profile.os.wsl else build.driver_linux
    if ctx.profile.os.name == "windows":
        documented = None  # TF's docs state Linux and WSL minimums only
    if documented:
        return documented, "TensorFlow's install docs"
    major = parse_dotted(release.cuda)[0]
    compat = ctx.kb.drivers.minor_compat_minimum(major, os_col)
    if compat is not None:
        return compat, f"NVIDIA's CUDA {major}.x minor-version compatibility"
    return ctx.kb.drivers.toolkit_minimum(
        release.cuda, os_col
    ), f"NVIDIA's CUDA {release.cuda} table"


def _check_driver(ctx: _Context, out: _Outcome) -> None:
    nvidia = ctx.profile.nvidia
    if nvidia is None:
        return
    release = out.release
    floor, who = _driver_floor(ctx, release)
    have = parse_dotted(nvidia.driver)
    if floor is not None and have < parse_dotted(floor):
        out.reasons.append(
            Reason(
                "driver",
                f"driver {nvidia.driver} is older than {floor}, the minimum for CUDA "
                f"{release.cuda} ({who})",
                (("driver", floor), ("cuda", release.cuda)),
            )
        )
        return
    toolkit = ctx.kb.drivers.toolkit_minimum(release.cuda, driver_os(ctx.profile.os))
    ceiling = nvidia.cuda
    if out.ptx_only and ceiling and parse_dotted(ceiling) < parse_dotted(release.cuda):
        # Minor-version compatibility covers SASS, not PTX: the driver's JIT cannot read PTX
        # from a newer toolkit (cudaErrorUnsupportedPtxVersion; kb-platform.md §0 rule 1).
        out.reasons.append(
            Reason(
                "driver",
                f"the GPU runs this build only through PTX JIT, and driver {nvidia.driver} "
                f"(CUDA <= {ceiling}) cannot JIT PTX from CUDA {release.cuda}",
                (("driver", toolkit or floor or ""), ("cuda", release.cuda)),
            )
        )
        return
    if toolkit is not None and have < parse_dotted(toolkit):
        out.warnings.append(
            Note(
                "driver-below-toolkit",
                f"driver {nvidia.driver} is below NVIDIA's CUDA {release.cuda} toolkit minimum "
                f"{toolkit}: it runs through minor-version compatibility, and PTX compiled by a "
                "newer toolkit than the driver fails to JIT; upgrading is advised",
            )
        )
    out.passed.append(f"driver {nvidia.driver} >= {floor} for CUDA {release.cuda}")


def _conda_cudnn(ctx: _Context, release: Release) -> str:
    """The oldest conda cuDNN line TF accepts: same major as the build, minor not older."""
    built = parse_dotted(release.cudnn)
    lines = sorted(ctx.kb.conda.cudnn_lines(release.cuda), key=parse_dotted)
    for line in lines:
        have = parse_dotted(line)
        if have[0] == built[0] and have[1:2] >= built[1:2]:
            return line
    return release.cudnn


def _choose_channel(ctx: _Context, out: _Outcome) -> None:
    if out.reasons:
        return
    r = out.release
    asked = ctx.request.channel
    order = [asked] if asked != "auto" else ["pip", "conda", "system"]
    problems = []
    for channel in order:
        if channel == "pip":
            if r.and_cuda is None or ctx.platform != "linux-x86_64":
                problems.append(
                    "pip: CUDA wheels (`tensorflow[and-cuda]`) exist from 2.14 on Linux x86_64 only"
                )
                continue
            out.channel = "pip"
            out.cudnn = r.cudnn
            out.cuda_pins = _and_cuda_pins(r)
            return
        if channel == "conda":
            cudnn = _conda_cudnn(ctx, r)
            # runtime: CUDA 12+ is split on conda-forge (`cuda-version` only constrains), so the
            # libraries the pip wheel dlopens (cudart, cublas, cufft, ...) are named one by one.
            specs = ctx.kb.conda.specs_for(r.cuda, cudnn, runtime=True)
            if specs is None:
                problems.append("conda: " + (ctx.kb.conda.why_not(r.cuda, cudnn) or "no packages"))
                continue
            out.channel, out.cudnn = "conda", cudnn
            reason = (
                f"CUDA {r.cuda} / cuDNN {cudnn} from conda-forge for the build's CUDA {r.cuda}, "
                f"cuDNN {r.cudnn}"
            )
            for spec in specs:
                name, _, version = spec.partition("=")
                why = reason if version else f"CUDA {r.cuda} runtime library the wheel loads"
                out.cuda_pins.append(Pin(name, version, "conda", why))
            if not ctx.platform.startswith("windows"):
                out.warnings.append(
                    Note(
                        "conda-library-path",
                        "the pip-installed TensorFlow finds conda's CUDA and cuDNN only through "
                        "LD_LIBRARY_PATH: export LD_LIBRARY_PATH=$CONDA_PREFIX/lib (e.g. in "
                        "$CONDA_PREFIX/etc/conda/activate.d), else it logs 'Cannot dlopen some "
                        "GPU libraries' and runs on the CPU",
                    )
                )
            return
        # system: the user's own toolkit; say so when the profile shows none that matches.
        out.channel, out.cudnn = "system", r.cudnn
        out.cuda_pins = [
            Pin("cuda", r.cuda, "system", f"TensorFlow {r.version} was built with CUDA {r.cuda}"),
            Pin("cudnn", r.cudnn, "system", "same major, equal or newer minor than the build's"),
        ]
        found = [t.version for t in ctx.profile.cuda_toolkits]
        if not any(v.split(".")[:2] == r.cuda.split(".")[:2] for v in found):
            out.warnings.append(
                Note(
                    "system-cuda",
                    f"install the CUDA {r.cuda} toolkit and cuDNN {r.cudnn} yourself "
                    f"(found: {', '.join(found) or 'no toolkit'}); TensorFlow loads them by "
                    "soname at import",
                )
            )
        return
    out.reasons.append(Reason("channel", "; ".join(problems)))


def _and_cuda_pins(release: Release) -> list[Pin]:
    """The `[and-cuda]` requirements as exact pins.

    Up to 2.19 TensorFlow pins them exactly. From 2.20 they are ranges; pinning the lower bound
    reproduces the CUDA/cuDNN the build was tested with rather than whatever the range admits
    later (newer cuDNN 9.x lines dropped GPUs older than compute capability 7.5).
    """
    pins = []
    for text in release.and_cuda or ():
        req = Requirement(text)
        exact = [s.version for s in req.specifier if s.operator == "=="]
        lower = [s.version for s in req.specifier if s.operator == ">="]
        if exact:
            pins.append(
                Pin(req.name, exact[0], "pip", f"pinned by tensorflow[and-cuda]=={release.version}")
            )
        elif lower:
            pins.append(
                Pin(
                    req.name,
                    lower[0],
                    "pip",
                    f"lowest version tensorflow[and-cuda]=={release.version} allows ({req.specifier}): "
                    f"the CUDA {release.cuda} / cuDNN {release.cudnn} the build was made with",
                )
            )
    return pins


def _check_metal(ctx: _Context, out: _Outcome) -> None:
    r = out.release
    if r.metal is None:
        out.reasons.append(
            Reason("metal", f"no tensorflow-metal release pairs with TensorFlow {r.minor}")
        )
        return
    metal = ctx.kb.metal.release(r.metal)
    if metal is None:
        out.reasons.append(
            Reason("metal", f"tensorflow-metal {r.metal} is not in the knowledge base")
        )
        return
    if ctx.platform not in metal.platforms:
        out.reasons.append(
            Reason("metal", f"tensorflow-metal {r.metal} has no {ctx.platform} wheel")
        )
    # Apple's pairing table (12.0+/12.1+) is stricter than the wheel tags (macosx_11_0 up to 0.5.0).
    floor = max((v for v in (metal.macos, r.build.metal_macos) if v), key=parse_dotted)
    release = ctx.profile.os.release
    if release and is_dotted(release) and parse_dotted(release) < parse_dotted(floor):
        out.reasons.append(
            Reason(
                "macos",
                f"tensorflow-metal {r.metal} needs macOS >= {floor}; this Mac runs {release}",
                (("macos", floor),),
            )
        )
    if ctx.python not in metal.python:
        out.reasons.append(
            Reason(
                "python",
                f"tensorflow-metal {r.metal} has no wheel for Python {ctx.python} "
                f"(wheels: {', '.join(metal.python)})",
                (("pythons", ",".join(metal.python)), ("package", "tensorflow-metal")),
            )
        )
    if not out.reasons:
        out.channel = "pip"
        out.cuda_pins = [
            Pin(
                "tensorflow-metal",
                r.metal,
                "pip",
                f"Apple's Metal GPU plugin paired with TensorFlow {r.minor}",
            )
        ]
        out.passed.append(f"tensorflow-metal {r.metal} for Apple GPUs")


# --- the plan --------------------------------------------------------------------------------------


def _plan(ctx: _Context, chosen: _Outcome, rejections: tuple[Rejection, ...]) -> Plan:
    r, wheel = chosen.release, chosen.wheel
    assert wheel is not None  # a passing outcome always has its wheel
    gpu = ctx.target == "gpu" and not ctx.platform.startswith("macos")
    name = wheel.install_name
    size_note = ""
    keras = r.keras
    # Keras 2 on a Keras-3 TensorFlow: tf-keras (checked to exist) with TF_USE_LEGACY_KERAS=1.
    tf_keras = keras.tf_keras if ctx.request.keras == "2" and keras.kind == "keras3" else None
    if (
        not gpu
        and ctx.platform == "linux-x86_64"
        and r.cpu_package
        and r.build.gpu_package == "tensorflow"
        # tf-keras requires `tensorflow` itself: next to the twin it would install both.
        and not tf_keras
    ):
        name = r.cpu_package
        size_note = "; the CPU-only twin: no CUDA kernels to download or log about"
    extras = ("and-cuda",) if gpu and chosen.channel == "pip" else ()
    newer = f"; {len(rejections)} newer candidate group(s) rejected" if rejections else ""
    tf_pin = Pin(
        name,
        str(r.version),
        "pip",
        "newest release passing every check: " + "; ".join(chosen.passed) + size_note + newer,
        extras,
    )
    pins = [tf_pin]
    environment: list[tuple[str, str]] = []
    if tf_keras:
        legacy = Requirement(tf_keras)
        pins.append(
            Pin(
                legacy.name,
                str(legacy.specifier),
                "pip",
                "Keras 2 behaviour on TensorFlow >= 2.16 (requested --keras 2)",
            )
        )
        environment.append(("TF_USE_LEGACY_KERAS", "1"))
    elif keras.requirement:
        req = Requirement(keras.requirement)
        why = {
            "keras3": "TensorFlow >= 2.16 uses Keras 3",
            "keras": f"standalone keras of the same minor as TensorFlow {r.minor}",
            "keras-nightly": "TensorFlow 2.5 depends on keras-nightly",
        }.get(keras.kind, keras.kind)
        pins.append(Pin(req.name, str(req.specifier), "pip", why))
    numpy = r.numpy_declared(ctx.python)
    # The minor's cap (numpy<2 up to 2.17) only where the declared bounds still admit NumPy 2.
    capped = r.build.numpy_cap is not None and numpy.contains("2.0.0", prereleases=True)
    if capped:
        numpy = r.numpy_effective(ctx.python)
    if str(numpy):
        pins.append(
            Pin(
                "numpy",
                ",".join(sorted(str(s) for s in numpy)),
                "pip",
                "declared by TensorFlow"
                + (
                    "; capped below 2: TensorFlow <= 2.17 was built against NumPy 1.x"
                    if capped
                    else ""
                ),
            )
        )
    if r.build.protobuf_cap is not None:
        pins.append(
            Pin(
                "protobuf",
                str(r.build.protobuf_cap),
                "pip",
                "TensorFlow <= 2.11 was generated for protobuf 3: protobuf >= 4 refuses its "
                "*_pb2 modules at import ('Descriptors cannot be created directly')",
            )
        )
    pins.extend(chosen.cuda_pins)
    warnings = list(chosen.warnings)
    if gpu and ctx.profile.nvidia is not None:
        floor, who = _driver_floor(ctx, r)
        if floor:
            pins.append(
                Pin("nvidia-driver", f">={floor}", "system", f"CUDA {r.cuda} needs it ({who})")
            )
    if ctx.python != ctx.profile.python.version and ctx.python not in {
        i.version for i in ctx.profile.python.found
    }:
        warnings.append(
            Note("python-missing", f"no Python {ctx.python} interpreter was found on this machine")
        )
    return Plan(
        request=ctx.request,
        target=ctx.target,
        platform=ctx.platform,
        python=ctx.python,
        tensorflow=tf_pin,
        cuda=r.cuda if gpu else None,
        cudnn=chosen.cudnn if gpu else None,
        cuda_channel=chosen.channel if gpu else None,
        packages=tuple(pins),
        environment=tuple(environment),
        warnings=tuple(warnings),
        rejections=rejections,
        inputs={
            "profile": _digest(ctx.profile.to_dict()),
            "request": _digest(ctx.request.to_dict()),
            "knowledge-base": kb_hash(),
        },
    )


def _digest(data: object) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _group(outcomes: Iterable[_Outcome]) -> tuple[Rejection, ...]:
    """One rejection per run of releases of a minor that fail for the same reasons."""
    groups: list[tuple[str, list[Version], tuple[str, ...]]] = []
    for o in outcomes:
        texts = tuple(r.text for r in o.reasons)
        if groups and groups[-1][0] == o.release.minor and groups[-1][2] == texts:
            groups[-1][1].append(o.release.version)
        else:
            groups.append((o.release.minor, [o.release.version], texts))
    out = []
    for _minor, versions, texts in groups:
        if len(versions) == 1:
            label = f"tensorflow=={versions[0]}"
        else:
            label = f"tensorflow=={', '.join(str(v) for v in sorted(versions))}"
        out.append(Rejection(label, texts))
    return tuple(out)


# --- no solution -----------------------------------------------------------------------------------


def _no_solution(
    ctx: _Context, rejected: list[_Outcome], rejections: tuple[Rejection, ...], *, explain: bool
) -> NoSolution:
    what = "GPU" if ctx.target == "gpu" else "CPU"
    if not rejected:
        message = f"no TensorFlow release matches --tensorflow {ctx.request.tensorflow}"
    else:
        newest = rejected[0]
        message = (
            f"no TensorFlow {what} build fits this machine on Python {ctx.python}; newest "
            f"candidate {newest.release.version}: " + "; ".join(r.text for r in newest.reasons)
        )
    if not explain:
        return NoSolution(message, (), rejections)
    found: list[tuple[int, str]] = []
    kb = ctx.kb

    def add(code: str, **fields: str) -> None:
        text = kb.remedies.render(code, **fields)
        if all(text != t for _, t in found):
            found.append((kb.remedies.effort(code), text))

    def relaxed(**changes: object) -> Plan | None:
        profile = changes.pop("profile", ctx.profile)
        assert isinstance(profile, HardwareProfile)
        request = dataclasses.replace(ctx.request, **changes)  # type: ignore[arg-type]
        result = _resolve(profile, kb, request, explain=False)
        return result if isinstance(result, Plan) else None

    # Another Python: try each Python the failing releases have wheels for, newest release first.
    pythons = sorted(
        {
            p
            for o in rejected
            for r in o.reasons
            if r.code == "python"
            for p in dict(r.data)["pythons"].split(",")
        },
        key=parse_dotted,
        reverse=True,
    )
    for py in pythons:
        plan = relaxed(python=py)
        if plan is not None:
            add(
                "other-python",
                python=py,
                tensorflow=plan.tensorflow.version,
                package=plan.tensorflow.name,
                platform=plan.platform,
            )
            break
    codes = {r.code for o in rejected for r in o.reasons}
    if "driver" in codes and ctx.profile.nvidia is not None:
        for o in rejected:
            only = [r for r in o.reasons if r.code != "python"]
            if len(only) == 1 and only[0].code == "driver":
                data = dict(only[0].data)
                newer = dataclasses.replace(ctx.profile.nvidia, driver=data["driver"], cuda=None)
                plan = relaxed(profile=dataclasses.replace(ctx.profile, nvidia=newer))
                if plan is not None:
                    add(
                        "upgrade-driver",
                        driver=data["driver"],
                        tensorflow=plan.tensorflow.version,
                        cuda=data["cuda"],
                    )
                break
    if "windows-gpu" in codes:
        wsl_os = dataclasses.replace(ctx.profile.os, name="linux", wsl=True, glibc=None)
        plan = relaxed(profile=dataclasses.replace(ctx.profile, os=wsl_os))
        if plan is not None:
            add("use-wsl2", tensorflow=plan.tensorflow.version)
    if "macos" in codes:
        # The newest release held back only by the OS (and perhaps Python): the macOS it needs.
        for o in rejected:
            only = [r for r in o.reasons if r.code != "python"]
            if only and all(r.code == "macos" for r in only):
                macos = max((dict(r.data)["macos"] for r in only), key=parse_dotted)
                newer_os = dataclasses.replace(ctx.profile.os, release=macos)
                plan = relaxed(profile=dataclasses.replace(ctx.profile, os=newer_os))
                if plan is not None:
                    add("upgrade-macos", macos=macos, tensorflow=plan.tensorflow.version)
                break
    if ctx.target == "gpu":
        plan = relaxed(target="cpu")
        if plan is not None:
            add("target-cpu", tensorflow=plan.tensorflow.version)
    if ctx.request.tensorflow:
        plan = relaxed(tensorflow=None)
        if plan is not None:
            add(
                "other-tensorflow",
                tensorflow=plan.tensorflow.version,
                requested=ctx.request.tensorflow,
            )
    if "channel" in codes:
        for channel in ("pip", "conda", "system"):
            if channel != ctx.request.channel and (plan := relaxed(channel=channel)) is not None:
                add("other-channel", channel=channel, tensorflow=plan.tensorflow.version)
                break
    if "no-gpu" in codes and ctx.profile.nvidia is None and ctx.profile.gpus:
        # A GPU the profile names but no driver: say which driver the newest GPU build needs.
        floor, _ = _driver_floor(ctx, kb.tensorflow.releases[-1])
        if floor:
            driver = NvidiaDriver(driver=floor, source="remedy")
            plan = relaxed(profile=complete(dataclasses.replace(ctx.profile, nvidia=driver), kb))
            if plan is not None:
                add("install-driver", driver=floor, tensorflow=plan.tensorflow.version)
    rosetta = ctx.profile.cpu.apple_silicon and ctx.profile.os.arch == "x86_64"
    if ctx.profile.os.rosetta or rosetta:
        native = dataclasses.replace(ctx.profile.os, arch="arm64", rosetta=False)
        plan = relaxed(profile=dataclasses.replace(ctx.profile, os=native))
        if plan is not None:
            add("native-arm64", tensorflow=plan.tensorflow.version)
    if ctx.request.keras:
        other = "2" if ctx.request.keras == "3" else "3"
        plan = relaxed(keras=other)
        if plan is not None:
            add("other-keras", keras=other, tensorflow=plan.tensorflow.version)
    if "cpu" in codes:
        add("no-avx-wheel")
    if codes & {"cpu", "gpu-cc", "no-wheel", "no-gpu-build", "glibc"}:
        add("build-from-source")
    return NoSolution(message, tuple(t for _, t in sorted(found, key=lambda f: f[0])), rejections)
