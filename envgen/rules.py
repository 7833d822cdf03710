"""The rule book: every compatibility judgement, written once, as a pure check over the knowledge base.

Each check takes facts (a TensorFlow build, a CPU's flags, a GPU's compute capability, a driver)
and returns a `Verdict`: a code and the fields that explain it. The resolver turns verdicts into
rejection reasons, warnings and pin reasons; doctor into findings; verify into checks. None of
them re-decides what a check decides, so they cannot disagree.

Wording is not here: every verdict code names a template in `wording.toml`, filled from the
verdict's fields (`Verdict.text(kb)`). Version boundaries a message needs ("native Windows GPU
support ended at 2.10") are fields computed from the data (`boundaries()`), never literals.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from envgen.versions import is_dotted, major_minor, parse_dotted

if TYPE_CHECKING:
    from envgen.kb import KnowledgeBase
    from envgen.kb.keras import KerasLine
    from envgen.kb.tensorflow import Build, Release
    from envgen.profile import NvidiaDriver, OSInfo
    from envgen.versions import DottedVersion


class WheelSet(Protocol):
    """What the wheel rules read of a project's wheels on one platform (TensorFlow's, jaxlib's,
    a JAX CUDA plugin's, torch's)."""

    @property
    def python(self) -> tuple[DottedVersion, ...]: ...

    @property
    def glibc(self) -> DottedVersion | None: ...

    @property
    def macos(self) -> DottedVersion | None: ...

    @property
    def install_name(self) -> str: ...

    def supports_python(self, python: str) -> bool: ...


# Verdict levels: `pass` (fits), `note` (fits, with something worth saying), `fail` (does not fit).
PASS, NOTE, FAIL = "pass", "note", "fail"


@dataclass(frozen=True)
class Verdict:
    """One judgement: `code` keys its wording, `fields` fill it, `level` says whether it fits."""

    code: str
    level: str = PASS
    fields: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.level != FAIL

    def get(self, name: str, default: str = "") -> str:
        return dict(self.fields).get(name, default)

    def as_dict(self) -> dict[str, str]:
        return dict(self.fields)

    def text(self, kb: KnowledgeBase) -> str:
        return kb.wording.render(self.code, **self.as_dict())


def _verdict(code: str, level: str = PASS, **fields: object) -> Verdict:
    return Verdict(code, level, tuple((k, str(v)) for k, v in fields.items()))


def _upper(names: Iterable[str]) -> str:
    return ", ".join(n.upper() for n in names)


# --- boundaries: the versions messages quote, derived from the data -----------------------------


@dataclass(frozen=True)
class Boundaries:
    """Release boundaries the wording quotes, each computed from the TensorFlow tables."""

    last_windows_gpu: str
    """The last minor with a native Windows GPU build."""
    first_keras3: str
    """The first minor that uses Keras 3."""
    first_and_cuda: str
    """The first minor with `tensorflow[and-cuda]` wheels."""
    last_numpy_cap: str
    """The last minor capped below NumPy 2."""
    last_protobuf_cap: str
    """The last minor capped to protobuf 3."""
    and_cuda_platforms: str = "linux-x86_64"


_BOUNDARIES: weakref.WeakKeyDictionary[KnowledgeBase, Boundaries] = weakref.WeakKeyDictionary()


def boundaries(kb: KnowledgeBase) -> Boundaries:
    """The boundaries of `kb`'s TensorFlow tables (computed once per knowledge base)."""
    found = _BOUNDARIES.get(kb)
    if found is None:
        found = _BOUNDARIES[kb] = _boundaries(kb)
    return found


def _boundaries(kb: KnowledgeBase) -> Boundaries:
    builds = kb.tensorflow.builds
    releases = kb.tensorflow.releases

    def last(pred: object) -> str:
        found = [b.minor for b in builds if pred(b)]  # type: ignore[operator]
        return found[-1] if found else "?"

    def first(pred: object) -> str:
        found = [b.minor for b in builds if pred(b)]  # type: ignore[operator]
        return found[0] if found else "?"

    and_cuda = [r.minor for r in releases if r.and_cuda is not None]
    return Boundaries(
        last_windows_gpu=last(lambda b: b.windows_gpu),
        first_keras3=first(lambda b: b.keras.kind == "keras3"),
        first_and_cuda=and_cuda[0] if and_cuda else "?",
        last_numpy_cap=last(lambda b: b.numpy_cap is not None),
        last_protobuf_cap=last(lambda b: b.protobuf_cap is not None),
    )


# --- CPU -----------------------------------------------------------------------------------------


def cpu_features(kb: KnowledgeBase, needed: Sequence[str] | None, flags: Sequence[str]) -> Verdict:
    """Does a CPU with `flags` run a build compiled for `needed` (x86-64 feature names)?

    Flags are canonicalised and completed with the implications of `cpu-levels.toml` (a CPU
    with AVX2 has AVX), so a hand-written profile and a detected one are judged alike.
    Codes: `cpu-unknown` (no flags known: assumed to fit), `cpu-build-unknown` (the build's
    needs are not known yet: a row `kb update` derived), `cpu-missing`, `cpu-ok`.
    """
    if needed is None:
        return _verdict("cpu-build-unknown", NOTE)
    if not flags:
        return _verdict("cpu-unknown", NOTE, needed=_upper(needed) or "the baseline")
    have = kb.cpu.with_implied(kb.cpu.normalise(flags, keep_all=True))
    missing = [f for f in needed if f not in have]
    if missing:
        return _verdict(
            "cpu-missing",
            FAIL,
            missing=_upper(missing),
            needed=_upper(needed),
            # The /proc/cpuinfo names, for texts that quote the flags as the system spells them.
            missing_flags=", ".join(missing),
            needed_flags=", ".join(needed),
        )
    # What TensorFlow's start-up CPU guard will report as unused (cpu-levels.toml [simd]): the
    # CPU's SIMD features beyond those the build uses and what they imply (-mavx has SSE4.2).
    used = kb.cpu.with_implied(needed)
    extra = [f for f in kb.cpu.simd if f in have and f not in used]
    return _verdict(
        "cpu-ok",
        PASS,
        needed=_upper(needed),
        extra=" ".join(f.upper() for f in extra),
        uses=(_upper(needed) + " only") if needed else "no AVX",
    )


# --- Python, platform and OS ---------------------------------------------------------------------


def python_wheel(wheels: WheelSet, python: str, platform: str) -> Verdict:
    """Is there a wheel for CPython `python` on `platform`?"""
    if wheels.supports_python(python):
        return _verdict("python-ok", python=python, platform=platform)
    best = max(wheels.python) if wheels.python else "?"
    return _verdict(
        "python",
        FAIL,
        python=python,
        platform=platform,
        pythons=",".join(wheels.python),
        pythons_text=", ".join(wheels.python),
        best_python=best,
        package=wheels.install_name,
    )


def glibc(wheels: WheelSet, have: str | None) -> Verdict:
    """Is the C library at least the wheel's manylinux floor? Unknown glibc is assumed to fit."""
    if wheels.glibc and have and parse_dotted(have) < parse_dotted(wheels.glibc):
        return _verdict("glibc", FAIL, needed=wheels.glibc, have=have)
    return _verdict("glibc-ok", floor=wheels.glibc or "")


def macos(floor: str | None, release: str | None, *, code: str = "macos", **extra: str) -> Verdict:
    """Is this Mac's macOS at least `floor`? An unknown release is assumed to fit."""
    if floor and release and is_dotted(release) and parse_dotted(release) < parse_dotted(floor):
        return _verdict(code, FAIL, macos=floor, release=release, **extra)
    return _verdict("macos-ok")


# --- GPU compute capability ----------------------------------------------------------------------


@dataclass(frozen=True)
class Architectures:
    """What a build can run on: its floor, native (SASS) and PTX compute capabilities."""

    minimum: str | None
    """None: not known yet (a build row under review)."""
    sass: tuple[str, ...]
    ptx: tuple[str, ...]
    floor: bool = True
    """The framework ignores GPUs below `minimum` (TensorFlow); False: a GPU below every list has
    no kernel (JAX, PyTorch: `cc-no-kernel`)."""

    @classmethod
    def of(cls, build: Build) -> Architectures:
        return cls(build.min_compute_capability, build.sass, build.ptx)

    @classmethod
    def of_lists(cls, sass: Sequence[str], ptx: Sequence[str]) -> Architectures:
        """A build with no floor of its own (JAX, PyTorch): a GPU below every list has no
        kernel (`cc-no-kernel`), rather than being ignored as TensorFlow ignores one."""
        lowest = min((*sass, *ptx), key=parse_dotted)
        return cls(lowest, tuple(sass), tuple(ptx), floor=False)

    @classmethod
    def from_names(cls, names: Iterable[object], build: Build) -> Architectures:
        """From `tf.sysconfig.get_build_info()['cuda_compute_capabilities']` (`sm_89`,
        `compute_90`, `sm_90a`); the build row's lists where the names say nothing."""
        found = cls.from_arch_list(names)
        if found is None or found.minimum is None:
            return cls.of(build)
        # An unreviewed build row has no floor yet: the names' lowest is the floor then.
        floor = build.min_compute_capability or found.minimum
        return cls(max(found.minimum, floor, key=parse_dotted), found.sass, found.ptx)

    @classmethod
    def from_arch_list(cls, names: Iterable[object]) -> Architectures | None:
        """From a build's own architecture names (`sm_89`, `compute_90`, `sm_90a`: TensorFlow's
        build info, `torch.cuda.get_arch_list()`); the floor is the lowest one. None when the
        names say nothing."""
        sass: list[str] = []
        ptx: list[str] = []
        for name in names:
            kind, _, digits = str(name).partition("_")
            digits = digits.rstrip("abcdefghijklmnopqrstuvwxyz")
            if not digits.isdigit() or len(digits) < 2:
                continue
            # Only explicit compute_ entries count as PTX: a conservative reading.
            (sass if kind == "sm" else ptx).append(f"{digits[:-1]}.{digits[-1]}")
        if not sass and not ptx:
            return None
        return cls(min(sass + ptx, key=parse_dotted), (*sass,), (*ptx,))


def compute_capability(
    kb: KnowledgeBase,
    arch: Architectures,
    cc: str,
    *,
    tensorflow: str | None = None,
    cudnn: tuple[str, str] | None = None,
) -> Verdict:
    """Can a GPU of compute capability `cc` run a build with these architectures?

    SASS runs on the same major with an equal or higher minor; PTX is JIT-compiled for any
    newer GPU (CUDA C programming guide, "Binary Compatibility" / "PTX Compatibility").
    `tensorflow` looks up known failures (gpu-issues); `cudnn` = (cuDNN, CUDA) checks cuDNN's
    own compute-capability floor. Codes: cc-unreviewed (the build's architectures are not known
    yet), cc-below-minimum, cc-known-issue, cc-no-kernel, cc-cudnn, cc-sass, cc-ptx.
    """
    if arch.minimum is None:
        return _verdict("cc-unreviewed", FAIL, cc=cc, minor=tensorflow or "?")
    have = parse_dotted(cc)
    if arch.floor and have < parse_dotted(arch.minimum):
        return _verdict("cc-below-minimum", FAIL, cc=cc, min_cc=arch.minimum)
    if tensorflow is not None:
        from packaging.version import Version

        issue = kb.gpu_issues.find(cc, Version(tensorflow))
        if issue is not None:
            return _verdict("cc-known-issue", FAIL, cc=cc, reason=issue.reason)
    sass = any(parse_dotted(s)[0] == have[0] and parse_dotted(s) <= have for s in arch.sass)
    ptx = any(parse_dotted(p) <= have for p in arch.ptx)
    if not sass and not ptx:
        return _verdict(
            "cc-no-kernel",
            FAIL,
            cc=cc,
            sass=", ".join(arch.sass),
            ptx=", ".join(arch.ptx) or "none",
        )
    if cudnn is not None:
        floor = kb.cudnn.min_cc(*cudnn)
        if floor is not None and have < parse_dotted(floor):
            return _verdict("cc-cudnn", FAIL, cc=cc, cudnn=cudnn[0], floor=floor)
    return _verdict("cc-sass" if sass else "cc-ptx", cc=cc, sass=", ".join(arch.sass))


# --- the NVIDIA driver ---------------------------------------------------------------------------


def driver_os(os_info: OSInfo) -> str:
    """Which column of NVIDIA's driver table applies: WSL2 runs the Windows driver."""
    return "windows" if os_info.name == "windows" or os_info.wsl else "linux"


@dataclass(frozen=True)
class DriverFloor:
    driver: str | None
    """The hard minimum; None where no table knows the CUDA version."""
    who: str
    """Which rule set it: `documented`, `minor-compat` or `toolkit` (a `wording.toml` code)."""
    cuda: str
    major: str


def driver_floor(kb: KnowledgeBase, build: Build, os_info: OSInfo) -> DriverFloor:
    """The hard driver minimum for a TensorFlow build's CUDA on this OS, and who states it.

    TensorFlow's own documented minimum wins (Linux and WSL2 only); else NVIDIA's minor-version
    compatibility floor for the CUDA major; else NVIDIA's toolkit table.
    """
    return cuda_driver_floor(
        kb,
        build.cuda,
        os_info,
        documented=None
        if os_info.name == "windows"
        else (build.driver_wsl if os_info.wsl else build.driver_linux),
    )


def cuda_driver_floor(
    kb: KnowledgeBase, cuda: str, os_info: OSInfo, *, documented: str | None = None
) -> DriverFloor:
    """The driver minimum for CUDA `cuda` (X.Y) software on this OS.

    NVIDIA's floor: a driver runs CUDA X.Y natively from the toolkit table's minimum for X.Y, and
    through minor-version compatibility from the compatibility minimum of major X where one
    exists (CUDA 11 on); the lower of the two is the hard floor. TensorFlow's documented minimum
    wins where it is at least NVIDIA's: some documented minimums are branch names ("384.x"),
    which must not let 384.59 run CUDA 9.0 (NVIDIA: 384.81).
    """
    cuda = major_minor(cuda)
    major = str(parse_dotted(cuda)[0])
    column = driver_os(os_info)
    compat = kb.drivers.minor_compat_minimum(int(major), column)
    toolkit = kb.drivers.toolkit_minimum(cuda, column)
    options = [(v, who) for v, who in ((compat, "minor-compat"), (toolkit, "toolkit")) if v]
    nvidia, who = min(options, key=lambda o: parse_dotted(o[0])) if options else (None, "toolkit")
    if documented and (nvidia is None or parse_dotted(documented) >= parse_dotted(nvidia)):
        return DriverFloor(documented, "driver-who-documented", cuda, major)
    return DriverFloor(nvidia, f"driver-who-{who}", cuda, major)


def driver(
    kb: KnowledgeBase,
    floor: DriverFloor,
    nvidia: NvidiaDriver,
    os_info: OSInfo,
    *,
    ptx_only: bool = False,
) -> Verdict:
    """Does driver `nvidia` run software built with CUDA `floor.cuda`?

    Below the floor it fails (`driver-too-old`). Minor-version compatibility covers SASS, not
    PTX: a GPU that runs the build only through PTX JIT needs a driver whose CUDA is at least the
    build's (cudaErrorUnsupportedPtxVersion; kb-platform.md §0 rule 1) (`driver-ptx-jit`).
    A driver below NVIDIA's toolkit minimum but at or above the floor runs through minor-version
    compatibility, with a warning (`driver-minor-compat`). Else `driver-ok`.
    """
    who = kb.wording.render(floor.who, cuda=floor.cuda, major=floor.major)
    have = parse_dotted(nvidia.driver)
    toolkit = kb.drivers.toolkit_minimum(floor.cuda, driver_os(os_info))
    base = {
        "driver": nvidia.driver,
        "cuda": floor.cuda,
        "driver_cuda": nvidia.cuda or "?",
        "floor": floor.driver or "",
        "who": who,
        "min_driver": toolkit or floor.driver or "?",
    }
    if floor.driver is not None and have < parse_dotted(floor.driver):
        return _verdict("driver-too-old", FAIL, **base)
    ceiling = nvidia.cuda
    if ptx_only and ceiling and parse_dotted(major_minor(ceiling)) < parse_dotted(floor.cuda):
        return _verdict("driver-ptx-jit", FAIL, **base)
    if toolkit is not None and have < parse_dotted(toolkit):
        return _verdict("driver-minor-compat", NOTE, **base)
    return _verdict("driver-ok", **base)


def runtime_on_driver(build_cuda: str, driver_cuda: str) -> Verdict:
    """Does software built with CUDA `build_cuda` run on a driver whose CUDA is `driver_cuda`?

    CUDA minor-version compatibility: a driver runs any runtime of its own major version or older
    (docs.nvidia.com/deploy/cuda-compatibility, "Minor Version Compatibility"); a newer major
    needs a newer driver. Unparseable versions are not judged.
    """
    if not (is_dotted(major_minor(build_cuda)) and is_dotted(major_minor(driver_cuda))):
        return _verdict("runtime-unknown", NOTE, cuda=build_cuda, driver_cuda=driver_cuda)
    if parse_dotted(build_cuda)[0] > parse_dotted(driver_cuda)[0]:
        return _verdict("runtime-newer-major", FAIL, cuda=build_cuda, driver_cuda=driver_cuda)
    return _verdict("runtime-ok", cuda=build_cuda, driver_cuda=driver_cuda)


# --- packages beside TensorFlow ------------------------------------------------------------------


def keras_request(
    kb: KnowledgeBase, release: Release, keras: str | None, python: str | None = None
) -> Verdict:
    """Can this TensorFlow give the Keras the user asked for, on CPython `python`?

    `keras` is the request: None (TensorFlow's own pairing), `2` (Keras 2 behaviour), `3`, `tf`
    (tf.keras only: envgen pins no Keras package), or a line (`2.3`, `2.2.4`, `3.12`).
    Codes: `keras-ok` (the pairing of tensorflow-builds.toml stands), `keras-tf` (pin none),
    `keras-pin` (pin `package==version`, fields say why), and the failures `keras-3-needs`,
    `keras-no-tf-keras`, `keras-unknown`, `keras-needs-tf`, `keras-needs-python`,
    `keras-tf-requires`.
    """
    pairing = release.keras
    b = boundaries(kb)
    if keras is None:
        return _verdict("keras-ok")
    if keras == "tf":
        return _verdict("keras-tf", minor=release.minor)
    if keras == "3":
        if pairing.kind != "keras3":
            return _verdict("keras-3-needs", FAIL, first=b.first_keras3)
        return _verdict("keras-ok")
    if keras == "2":
        if pairing.kind == "keras3" and pairing.tf_keras is None:
            return _verdict("keras-no-tf-keras", FAIL, minor=release.minor)
        if pairing.kind != "tf.keras":
            return _verdict(
                "keras-ok"
            )  # TensorFlow's own Keras 2 (keras-nightly, keras 2.x, tf-keras)
        # TensorFlow <= 2.4 declares no Keras: the standalone one its users installed beside it.
        pair = kb.keras.pair(release.minor)
        if pair is None:
            return _verdict("keras-ok")
        return _verdict(
            "keras-pin",
            package="keras",
            version=pair.keras,
            minor=release.minor,
            asked=keras,
            basis=pair.basis,
            words="pin-keras-pair",
        )
    found = kb.keras.releases(keras)
    if not found:
        return _verdict("keras-unknown", FAIL, asked=keras)
    fitting = [(v, line) for v, line in found if line.fits(release.version)]
    if not fitting:
        return _verdict(
            "keras-needs-tf",
            FAIL,
            asked=keras,
            range=keras_tensorflow_range(line for _, line in found),
        )
    if python is not None:
        fitting = [(v, line) for v, line in fitting if line.fits_python(python)]
        if not fitting:
            needs = sorted({str(line.requires_python) for _, line in found if line.requires_python})
            return _verdict(
                "keras-needs-python", FAIL, asked=keras, python=python, needs=" or ".join(needs)
            )
    from packaging.requirements import Requirement

    # TensorFlow 2.5+ depends on a Keras itself: a line of the same distribution must meet it.
    own = Requirement(pairing.requirement) if pairing.requirement else None
    if own is not None:
        same = [(v, ln) for v, ln in fitting if ln.package == own.name]
        if same:
            fitting = [(v, ln) for v, ln in same if own.specifier.contains(v, prereleases=True)]
            if not fitting:
                return _verdict(
                    "keras-tf-requires", FAIL, asked=keras, minor=release.minor, needs=str(own)
                )
    version, line = fitting[-1]  # the newest release of the line that fits
    return _verdict(
        "keras-pin",
        package=line.package,
        version=version,
        minor=release.minor,
        asked=keras,
        range=keras_tensorflow_range([line]),
        basis=line.basis,
        words="pin-keras-line",
    )


def keras_tensorflow_range(lines: Iterable[KerasLine]) -> str:
    """ "≥ 2.2, < 2.5": the TensorFlow range of some Keras lines together (the lowest floor, the
    highest ceiling; no ceiling where one line has none)."""
    from packaging.version import Version

    lows: list[str] = []
    highs: list[str | None] = []
    for line in lines:
        specs = list(line.tensorflow)
        lows += [s.version for s in specs if s.operator in (">=", ">", "==", "~=")]
        ups = [s.version for s in specs if s.operator in ("<", "<=")]
        highs.append(ups[0] if ups else None)
    text = f"≥ {min(lows, key=Version)}" if lows else "any version"
    if highs and all(h is not None for h in highs):
        text += f", < {max((h for h in highs if h), key=Version)}"
    return text


def keras_installed(kb: KnowledgeBase, release: Release, keras: str | None) -> Verdict:
    """Does the standalone `keras` installed (a version) work with this TensorFlow, by its
    line in keras.toml? Codes: `pkg-unconstrained` (nothing to judge: no keras, a version the
    table does not know), `keras-line-ok`, `keras-line-mismatch` (with the pin `--keras 2`
    gives, where the data names one)."""
    from packaging.version import InvalidVersion, Version

    try:
        version = Version(keras) if keras else None
    except InvalidVersion:
        version = None
    line = kb.keras.line_of("keras", version) if version is not None else None
    if line is None:
        return _verdict("pkg-unconstrained")
    fields = {"keras": keras or "", "needs": keras_tensorflow_range([line]), "line": line.label}
    if line.fits(release.version):
        return _verdict("keras-line-ok", **fields)
    pairing = keras_request(kb, release, "2")
    pin = f"keras=={pairing.get('version')}" if pairing.code == "keras-pin" else ""
    return _verdict("keras-line-mismatch", FAIL, pin=pin, **fields)


def installed_matches(requirement: str | None, installed: str | None) -> Verdict:
    """Is an installed version inside a requirement (`keras>=2.15.0,<2.16`)? Codes:
    `pkg-unconstrained` (no requirement or nothing to compare), `pkg-missing`, `pkg-mismatch`,
    `pkg-ok`."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import InvalidVersion, Version

    try:
        req = Requirement(requirement) if requirement else None
    except InvalidRequirement:
        req = None
    if req is None:
        return _verdict("pkg-unconstrained")
    fields = {"name": req.name, "required": str(req)}
    if installed is None:
        return _verdict("pkg-missing", FAIL, **fields)
    try:
        version = Version(installed)
    except InvalidVersion:
        return _verdict("pkg-unconstrained", **fields)
    if not req.specifier.contains(version, prereleases=True):
        return _verdict("pkg-mismatch", FAIL, version=installed, major=version.major, **fields)
    return _verdict("pkg-ok", version=installed, **fields)


def numpy_installed(release: Release, python: str, installed: str | None) -> Verdict:
    """Does the installed numpy fit what this TensorFlow needs on this Python (with its cap)?"""
    spec = release.numpy_effective(python)
    if not installed or not str(spec):
        return _verdict("pkg-unconstrained")
    return installed_matches(f"numpy{spec}", installed)


def fields_of(*verdicts: Verdict, **extra: str) -> Mapping[str, str]:
    """The fields of several verdicts merged (later ones win), plus `extra`."""
    out: dict[str, str] = {}
    for v in verdicts:
        out.update(v.fields)
    out.update(extra)
    return out


__all__ = [
    "FAIL",
    "NOTE",
    "PASS",
    "Architectures",
    "Boundaries",
    "DriverFloor",
    "Verdict",
    "WheelSet",
    "boundaries",
    "compute_capability",
    "cpu_features",
    "cuda_driver_floor",
    "driver",
    "driver_floor",
    "driver_os",
    "fields_of",
    "glibc",
    "installed_matches",
    "keras_installed",
    "keras_request",
    "keras_tensorflow_range",
    "macos",
    "numpy_installed",
    "python_wheel",
    "runtime_on_driver",
]
