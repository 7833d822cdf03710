"""The rule book: every compatibility judgement, written once, as a pure check over the knowledge base.

Each check takes facts (a TensorFlow build, a CPU's flags, a GPU's compute capability, a driver)
and returns a `Verdict`: a code and the fields that explain it. The resolver turns verdicts into
rejection reasons, warnings and pin reasons; doctor into findings; verify into checks. None of
them re-decides what a check decides, so they cannot disagree.

Wording is not here: every verdict code names a template in `wording.toml`, filled from the
verdict's fields (`Verdict.text(kb)`). Version boundaries a message needs ("native Windows GPU
support ended at 2.10") are fields computed from the data (`boundaries()`), never literals.

This module holds the CPU, wheel/OS and package (Keras, numpy) checks and the boundaries;
`gpu.py` the compute-capability and driver checks, `verdict.py` the Verdict; all are exported
from here (`rules.driver_floor`, `rules.Verdict`).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from envgen.rules.gpu import (
    Architectures,
    DriverFloor,
    compute_capability,
    cuda_driver_floor,
    driver,
    driver_floor,
    driver_os,
    runtime_on_driver,
)
from envgen.rules.verdict import FAIL, NOTE, PASS, Verdict, fields_of, verdict
from envgen.versions import is_dotted, parse_dotted

if TYPE_CHECKING:
    from envgen.kb import KnowledgeBase
    from envgen.kb.keras import KerasLine
    from envgen.kb.tensorflow import Release
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
        return verdict("cpu-build-unknown", NOTE)
    if not flags:
        return verdict("cpu-unknown", NOTE, needed=_upper(needed) or "the baseline")
    have = kb.cpu.with_implied(kb.cpu.normalise(flags, keep_all=True))
    missing = [f for f in needed if f not in have]
    if missing:
        return verdict(
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
    return verdict(
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
        return verdict("python-ok", python=python, platform=platform)
    best = max(wheels.python) if wheels.python else "?"
    return verdict(
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
        return verdict("glibc", FAIL, needed=wheels.glibc, have=have)
    return verdict("glibc-ok", floor=wheels.glibc or "")


def macos(floor: str | None, release: str | None, *, code: str = "macos", **extra: str) -> Verdict:
    """Is this Mac's macOS at least `floor`? An unknown release is assumed to fit."""
    if floor and release and is_dotted(release) and parse_dotted(release) < parse_dotted(floor):
        return verdict(code, FAIL, macos=floor, release=release, **extra)
    return verdict("macos-ok")


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
        return verdict("keras-ok")
    if keras == "tf":
        return verdict("keras-tf", minor=release.minor)
    if keras == "3":
        if pairing.kind != "keras3":
            return verdict("keras-3-needs", FAIL, first=b.first_keras3)
        return verdict("keras-ok")
    if keras == "2":
        if pairing.kind == "keras3" and pairing.tf_keras is None:
            return verdict("keras-no-tf-keras", FAIL, minor=release.minor)
        if pairing.kind != "tf.keras":
            return verdict(
                "keras-ok"
            )  # TensorFlow's own Keras 2 (keras-nightly, keras 2.x, tf-keras)
        # TensorFlow <= 2.4 declares no Keras: the standalone one its users installed beside it.
        pair = kb.keras.pair(release.minor)
        if pair is None:
            return verdict("keras-ok")
        return verdict(
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
        return verdict("keras-unknown", FAIL, asked=keras)
    fitting = [(v, line) for v, line in found if line.fits(release.version)]
    if not fitting:
        return verdict(
            "keras-needs-tf",
            FAIL,
            asked=keras,
            range=keras_tensorflow_range(line for _, line in found),
        )
    if python is not None:
        fitting = [(v, line) for v, line in fitting if line.fits_python(python)]
        if not fitting:
            needs = sorted({str(line.requires_python) for _, line in found if line.requires_python})
            return verdict(
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
                return verdict(
                    "keras-tf-requires", FAIL, asked=keras, minor=release.minor, needs=str(own)
                )
    version, line = fitting[-1]  # the newest release of the line that fits
    return verdict(
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
        return verdict("pkg-unconstrained")
    fields = {"keras": keras or "", "needs": keras_tensorflow_range([line]), "line": line.label}
    if line.fits(release.version):
        return verdict("keras-line-ok", **fields)
    pairing = keras_request(kb, release, "2")
    pin = f"keras=={pairing.get('version')}" if pairing.code == "keras-pin" else ""
    return verdict("keras-line-mismatch", FAIL, pin=pin, **fields)


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
        return verdict("pkg-unconstrained")
    fields = {"name": req.name, "required": str(req)}
    if installed is None:
        return verdict("pkg-missing", FAIL, **fields)
    try:
        version = Version(installed)
    except InvalidVersion:
        return verdict("pkg-unconstrained", **fields)
    if not req.specifier.contains(version, prereleases=True):
        return verdict("pkg-mismatch", FAIL, version=installed, major=version.major, **fields)
    return verdict("pkg-ok", version=installed, **fields)


def numpy_installed(release: Release, python: str, installed: str | None) -> Verdict:
    """Does the installed numpy fit what this TensorFlow needs on this Python (with its cap)?"""
    spec = release.numpy_effective(python)
    if not installed or not str(spec):
        return verdict("pkg-unconstrained")
    return installed_matches(f"numpy{spec}", installed)


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
