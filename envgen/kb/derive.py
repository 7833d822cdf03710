"""Release rows of `tensorflow-releases.toml`, derived from PyPI's answers: no I/O of its own.

Every per-release fact (which wheels exist per platform and Python, which project really carries
the build, the glibc / macOS floor, `Requires-Python`, the declared numpy requirement, the
`[and-cuda]` pins) is read from the PEP 691 JSON simple index of `tensorflow` and its sibling
projects and from wheels' METADATA, which a `Source` supplies (`envgen.kb.pypi.PyPI` live, a
recording in tests). The projects to ask come from `tensorflow-distributions.toml`, the platforms
and their marker values from `lock-platforms.toml`, each minor's GPU package from
`tensorflow-builds.toml` (`Facts`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from envgen.errors import ExternalToolError
from envgen.kb.distributions import DistributionTable
from envgen.versions import DottedVersion

# A shim wheel is ~2 KB of metadata; the smallest real TensorFlow wheel is tens of MB. Only wheels
# under this size have their METADATA read to find the shim target.
SHIM_MAX_BYTES = 1_000_000

# TensorFlow's first release; the other frameworks' tables start where Keras 3 does.
OLDEST = Version("1.0.0")

# manylinux aliases → glibc floor (PEP 513, PEP 571, PEP 599).
MANYLINUX_LEGACY = {"manylinux1": "2.5", "manylinux2010": "2.12", "manylinux2014": "2.17"}


class Source(Protocol):
    """What derivation reads: simple-index pages and wheel METADATA (`envgen.kb.pypi.PyPI`)."""

    def simple(self, project: str) -> bytes: ...

    def metadata(self, url: str, size: int) -> str: ...


@dataclass(frozen=True)
class Facts:
    """The knowledge base's part of a derivation."""

    platforms: tuple[str, ...]
    """Knowledge-base platforms in row order (lock-platforms.toml)."""
    markers: Mapping[str, Mapping[str, str]]
    """PEP 508 environment values per platform (lock-platforms.toml `marker-values`)."""
    distributions: DistributionTable
    gpu_packages: Mapping[str, str]
    """Minor -> the project of its GPU build (tensorflow-builds.toml `gpu-package`)."""


# --------------------------------------------------------------------------------------------
# Wheel file names


@dataclass(frozen=True)
class WheelFile:
    """One wheel of one project as the simple index lists it, with its tags decoded."""

    project: str
    filename: str
    url: str
    size: int
    requires_python: str | None
    version: Version
    pythons: frozenset[str]  # "3.10"; empty for a py3-none-any wheel (any Python)
    platforms: Mapping[str, str | None]  # platform -> glibc / macOS floor (None: any)


_WHEEL_RE = re.compile(
    r"^(?P<dist>[^-]+)-(?P<ver>[^-]+)(?:-\d[^-]*)?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$"
)
_MANYLINUX_RE = re.compile(r"^manylinux_(\d+)_(\d+)_(\w+)$")
_MACOS_RE = re.compile(r"^macosx_(\d+)_(\d+)_(\w+)$")


def python_versions(py_tag: str) -> frozenset[str]:
    """`cp310` -> {"3.10"}, `cp27.cp35` -> {"2.7", "3.5"}; `py3`/`py2.py3` -> {} (any)."""
    found = set()
    for tag in py_tag.split("."):
        match = re.fullmatch(r"cp(\d)(\d+)", tag)
        if match:
            found.add(f"{match[1]}.{match[2]}")
    return frozenset(found)


def platform_floors(plat_tag: str, platforms: Iterable[str]) -> dict[str, str | None]:
    """Map a (compressed) platform tag to envgen platforms and the OS floor each one needs
    (PEP 425 compressed tags, PEP 600 manylinux; macOS `universal2` is both architectures)."""
    floors: dict[str, str | None] = {}

    def keep(platform: str, floor: str | None) -> None:
        old = floors.get(platform)
        if platform not in floors or (
            floor is not None and old is not None and DottedVersion(floor) < DottedVersion(old)
        ):
            floors[platform] = floor

    for tag in plat_tag.split("."):
        if tag == "any":
            for platform in platforms:
                keep(platform, None)
        elif tag == "win_amd64":
            keep("windows-x86_64", None)
        elif (legacy := tag.split("_", 1)[0]) in MANYLINUX_LEGACY:
            arch = tag.split("_", 1)[1] if "_" in tag else ""
            if arch in ("x86_64", "aarch64"):
                keep(f"linux-{arch}", MANYLINUX_LEGACY[legacy])
        elif match := _MANYLINUX_RE.match(tag):
            if match[3] in ("x86_64", "aarch64"):
                keep(f"linux-{match[3]}", f"{match[1]}.{match[2]}")
        elif match := _MACOS_RE.match(tag):
            floor = f"{match[1]}.{match[2]}"
            arch = match[3]
            if arch in ("x86_64", "intel", "universal", "universal2"):
                keep("macos-x86_64", floor)
            if arch in ("arm64", "universal2"):
                keep("macos-arm64", floor)
    return floors


def parse_index(
    project: str,
    body: bytes,
    platforms: Iterable[str],
    *,
    pre: bool = False,
    oldest: Version = OLDEST,
) -> list[WheelFile]:
    """The non-yanked wheels of a PEP 691 JSON simple-index page from `oldest`: final releases,
    and with `pre` pre-releases too (never development releases)."""
    try:
        doc = json.loads(body)
        files = doc["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ExternalToolError(f"simple index of {project}: not PEP 691 JSON ({exc})") from exc
    known = tuple(platforms)
    wheels = []
    for entry in files:
        name = entry.get("filename", "")
        match = _WHEEL_RE.match(name)
        # Yanked files are skipped: installers ignore them unless pinned exactly (PEP 592).
        if match is None or entry.get("yanked"):
            continue
        try:
            version = Version(match["ver"])
        except InvalidVersion:
            continue
        if (version.is_prerelease and not pre) or version.is_devrelease or version < oldest:
            continue
        found = platform_floors(match["plat"], known)
        if not found:
            continue
        wheels.append(
            WheelFile(
                project=project,
                filename=name,
                url=entry["url"],
                size=int(entry.get("size") or 0),
                requires_python=entry.get("requires-python") or None,
                version=version,
                pythons=python_versions(match["py"]),
                platforms=found,
            )
        )
    return wheels


@dataclass(frozen=True)
class Metadata:
    """The fields of a wheel's METADATA that the release rows use."""

    requires_python: str | None
    requires_dist: tuple[str, ...]


def parse_metadata(text: str) -> Metadata:
    """Core-metadata header fields (RFC 822 style); the description body is ignored."""
    requires_python = None
    requires_dist = []
    for line in text.split("\n"):
        if not line.strip():
            break  # end of headers; the long description follows
        key, _, value = line.partition(":")
        if key == "Requires-Dist":
            requires_dist.append(value.strip())
        elif key == "Requires-Python":
            requires_python = value.strip() or None
    return Metadata(requires_python, tuple(requires_dist))


# --------------------------------------------------------------------------------------------
# Deriving rows


class _Index:
    """The wheels of each project a derivation asks about, parsed once."""

    def __init__(self, source: Source, facts: Facts, *, pre: bool = False) -> None:
        self.source = source
        self.facts = facts
        self.pre = pre
        self._wheels: dict[str, list[WheelFile]] = {}

    def all(self, project: str) -> list[WheelFile]:
        if project not in self._wheels:
            body = self.source.simple(project)
            self._wheels[project] = parse_index(project, body, self.facts.platforms, pre=self.pre)
        return self._wheels[project]

    def wheels(self, project: str, version: Version, platform: str) -> list[WheelFile]:
        return [w for w in self.all(project) if w.version == version and platform in w.platforms]

    def metadata(self, wheel: WheelFile) -> Metadata:
        return parse_metadata(self.source.metadata(wheel.url, wheel.size))


def _sorted_pythons(pythons: Iterable[str]) -> list[str]:
    return sorted(set(pythons), key=DottedVersion)


def _floor(wheels: list[WheelFile], platform: str, pythons: Iterable[str]) -> str | None:
    """The OS floor that every listed Python meets: per Python the lowest floor of its wheels,
    then the highest of those (conservative where tags differ between Python versions)."""
    worst: str | None = None
    for py in pythons:
        floors = [
            f
            for w in wheels
            if (not w.pythons or py in w.pythons) and (f := w.platforms[platform]) is not None
        ]
        if not floors:
            continue
        best = min(floors, key=DottedVersion)
        if worst is None or DottedVersion(best) > DottedVersion(worst):
            worst = best
    return worst


def wheel_entry(
    package: str, wheels: list[WheelFile], platform: str, pythons: Iterable[str], *, shim: bool
) -> dict[str, Any]:
    listed = _sorted_pythons(pythons)
    entry: dict[str, Any] = {"package": package}
    if shim:
        entry["shim"] = True
    entry["python"] = listed
    floor = _floor(wheels, platform, listed)
    if floor is not None:
        entry["glibc" if platform.startswith("linux") else "macos"] = floor
    return entry


def all_pythons(wheels: list[WheelFile]) -> set[str]:
    return {py for w in wheels for py in w.pythons}


def _shim_target(index: _Index, wheel: WheelFile, platform: str) -> str | None:
    """The project a shim wheel depends on with `==<its own version>` on `platform`, if any:
    one shim METADATA lists every target, each behind a platform marker."""
    env = {**index.facts.markers[platform], "python_version": "3.11", "extra": ""}
    targets = index.facts.distributions.with_role("shim-target")
    for line in index.metadata(wheel).requires_dist:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        specs = list(req.specifier)
        if (
            req.name in targets
            and len(specs) == 1
            and specs[0].operator == "=="
            and Version(specs[0].version) == wheel.version
            and (req.marker is None or req.marker.evaluate(env))
        ):
            return req.name
    return None


def _platform_entry(index: _Index, version: Version, platform: str) -> dict[str, Any] | None:
    main = index.facts.distributions.only("main")
    own = index.wheels(main, version, platform)
    if own:
        small = [w for w in own if w.size < SHIM_MAX_BYTES]
        target = (
            _shim_target(index, small[0], platform) if small and len(small) == len(own) else None
        )
        if target is None:
            return wheel_entry(main, own, platform, all_pythons(own), shim=False)
        real = index.wheels(target, version, platform)
        pythons = all_pythons(own) & all_pythons(real)
        if not pythons:  # a shim with nothing installable behind it
            return None
        return wheel_entry(target, real, platform, pythons, shim=True)
    # Where `tensorflow` has no wheel, the build that platform's users installed under another
    # name (kb-tensorflow.md §2.3): the rows say what PyPI really holds.
    alternate = index.facts.distributions.alternates.get(platform)
    if alternate:
        real = index.wheels(alternate, version, platform)
        if real:
            return wheel_entry(alternate, real, platform, all_pythons(real), shim=False)
    return None


def _metadata_wheel(index: _Index, version: Version) -> WheelFile | None:
    """The wheel whose METADATA stands for the release: Linux x86_64, highest Python."""
    main = index.facts.distributions.only("main")
    for platform in ("linux-x86_64", *index.facts.platforms):
        real = [w for w in index.wheels(main, version, platform) if w.size >= SHIM_MAX_BYTES]
        if real:
            return max(
                real, key=lambda w: max((DottedVersion(p).parts for p in w.pythons), default=())
            )
    return None


def derive_release(index: _Index, version: Version, gpu_package: str) -> dict[str, Any]:
    """One `[[release]]` row as a plain dict (the renderer's input)."""
    facts = index.facts
    row: dict[str, Any] = {"version": str(version)}
    meta_wheel = _metadata_wheel(index, version)
    meta = index.metadata(meta_wheel) if meta_wheel else Metadata(None, ())
    requires_python = meta.requires_python or (meta_wheel.requires_python if meta_wheel else None)
    if requires_python:
        row["requires-python"] = requires_python
    numpy: list[str] = []
    and_cuda: list[str] = []
    for line in meta.requires_dist:
        req = Requirement(line)
        marker = str(req.marker) if req.marker else ""
        if "extra" in marker:
            if 'extra == "and-cuda"' in marker:
                req.marker = None
                and_cuda.append(str(req))
        elif req.name == "numpy":
            numpy.append(str(req))
    row["numpy"] = sorted(numpy)
    cpu = facts.distributions.only("cpu-twin")
    if index.wheels(cpu, version, "linux-x86_64") or index.wheels(cpu, version, "windows-x86_64"):
        row["cpu-package"] = cpu
    if and_cuda:
        row["and-cuda"] = sorted(and_cuda)
    row["source"] = (
        f"https://pypi.org/project/tensorflow/{version}/#files (simple index + METADATA)"
    )
    for platform in facts.platforms:
        entry = _platform_entry(index, version, platform)
        if entry is not None:
            row[platform] = entry
    if gpu_package != facts.distributions.only("main"):
        for platform in facts.platforms:
            gpu = index.wheels(gpu_package, version, platform)
            if gpu:
                row[f"gpu-{platform}"] = wheel_entry(
                    gpu_package, gpu, platform, all_pythons(gpu), shim=False
                )
    return row


def minor_of(version: Version) -> str:
    return f"{version.major}.{version.minor}"


# --------------------------------------------------------------------------------------------
# A new minor's build row: what PyPI's metadata holds, and what it does not

# `nvidia-cuda-runtime-cu12>=12.5.82` is CUDA 12.5; `nvidia-cudnn-cu12>=9.10.2.21` cuDNN 9.10.
_CUDA_RUNTIME = re.compile(r"nvidia-cuda-runtime-cu\d+")
_CUDNN = re.compile(r"nvidia-cudnn-cu\d+")
_KERAS = ("keras", "keras-nightly")
# Not in any wheel's metadata: compute capabilities (the .nv_fatbin sections or build_info),
# x86-64 instruction sets (the build flags), which platforms carry a CUDA build, the Metal plugin.
REVIEW = ("min-compute-capability", "sass", "ptx", "cpu-features", "gpu-platforms", "metal")


def _floor_version(req: Requirement) -> Version | None:
    """The version a requirement pins (`==`) or starts from (`>=`)."""
    for spec in req.specifier:
        if spec.operator in ("==", ">=", "~="):
            try:
                return Version(spec.version.rstrip(".*"))
            except InvalidVersion:
                return None
    return None


def derive_build(index: _Index, version: Version, meta: Metadata) -> dict[str, Any] | None:
    """A `[[build]]` row for the new minor of `version`, from its wheel METADATA: CUDA and cuDNN
    from the `and-cuda` extra's nvidia-* pins, the Keras from Requires-Dist, tf-keras by number
    from PyPI; what PyPI does not hold is listed in `review`, never guessed. None where the
    release has no `and-cuda` pins to read CUDA from (a human writes that row)."""
    cuda = cudnn = None
    keras: Requirement | None = None
    for line in meta.requires_dist:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        marker = str(req.marker) if req.marker else ""
        floor = _floor_version(req)
        if 'extra == "and-cuda"' in marker and floor is not None:
            if _CUDA_RUNTIME.fullmatch(req.name):
                cuda = f"{floor.major}.{floor.minor}"
            elif _CUDNN.fullmatch(req.name):
                cudnn = f"{floor.major}.{floor.minor}"
        elif not marker and req.name in _KERAS:
            keras = req
    if cuda is None or cudnn is None:
        return None
    minor = minor_of(version)
    main = index.facts.distributions.only("main")
    gpu_project = index.facts.distributions.only("gpu-package")
    row: dict[str, Any] = {"minor": minor, "cuda": cuda, "cudnn": cudnn}
    has_gpu_project = index.wheels(gpu_project, version, "linux-x86_64")
    row["gpu-package"] = gpu_project if has_gpu_project else main
    row["gpu-platforms"] = []
    if keras is None:
        row["keras-kind"] = "tf.keras"
    else:
        floor = _floor_version(keras)
        major3 = floor is not None and floor.major >= 3
        row["keras-kind"] = "keras3" if major3 else keras.name
        row["keras"] = str(keras)
    # tf-keras releases are numbered after the TensorFlow they serve (tf-keras 2.21.0 requires
    # tensorflow<2.22,>=2.21): a release of this minor, where PyPI has one.
    if row["keras-kind"] == "keras3" and any(
        minor_of(w.version) == minor for w in index.all("tf-keras")
    ):
        row["tf-keras"] = f"tf-keras~={minor}.0"
    row["review"] = list(REVIEW)
    row["source"] = (
        f"https://pypi.org/project/tensorflow/{version}/ (wheel METADATA: and-cuda pins, "
        "Requires-Dist); derived by envgen kb update: review the rest"
    )
    return row


@dataclass(frozen=True)
class Derived:
    """What a derivation found: release rows, versions it could not place, new build rows."""

    rows: list[dict[str, Any]]
    skipped: list[str]
    builds: list[dict[str, Any]]


def derive_releases(source: Source, facts: Facts, *, pre: bool = False) -> Derived:
    """Every release row (with `pre`, also the pre-releases newer than the newest final
    release), the build rows of minors tensorflow-builds.toml lacks (`derive_build`), and the
    versions of such minors whose build could not be derived."""
    index = _Index(source, facts, pre=pre)
    versions = sorted({w.version for w in index.all(facts.distributions.only("main"))})
    finals = [v for v in versions if not v.is_prerelease]
    newest = finals[-1] if finals else None
    if pre:
        # Only the coming release's: old release candidates are history, not a choice.
        versions = [v for v in versions if not v.is_prerelease or newest is None or v > newest]
    rows, skipped = [], []
    builds: dict[str, dict[str, Any]] = {}
    gpu_packages = dict(facts.gpu_packages)
    for version in versions:
        minor = minor_of(version)
        if minor not in gpu_packages:
            meta_wheel = _metadata_wheel(index, version)
            meta = index.metadata(meta_wheel) if meta_wheel else Metadata(None, ())
            build = derive_build(index, version, meta)
            if build is None:
                skipped.append(str(version))
                continue
            builds[minor] = build
            gpu_packages[minor] = build["gpu-package"]
        rows.append(derive_release(index, version, gpu_packages[minor]))
    return Derived(rows, skipped, list(builds.values()))
