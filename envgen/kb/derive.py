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
    project: str, body: bytes, platforms: Iterable[str], *, oldest: Version = OLDEST
) -> list[WheelFile]:
    """The final-release, non-yanked wheels of a PEP 691 JSON simple-index page, from `oldest`."""
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
        if version.is_prerelease or version.is_devrelease or version < oldest:
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

    def __init__(self, source: Source, facts: Facts) -> None:
        self.source = source
        self.facts = facts
        self._wheels: dict[str, list[WheelFile]] = {}

    def all(self, project: str) -> list[WheelFile]:
        if project not in self._wheels:
            body = self.source.simple(project)
            self._wheels[project] = parse_index(project, body, self.facts.platforms)
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


def derive_releases(source: Source, facts: Facts) -> tuple[list[dict[str, Any]], list[str]]:
    """All release rows whose minor has a build row, and the versions skipped for lacking one."""
    index = _Index(source, facts)
    versions = sorted({w.version for w in index.all(facts.distributions.only("main"))})
    rows, skipped = [], []
    for version in versions:
        minor = minor_of(version)
        if minor not in facts.gpu_packages:
            skipped.append(str(version))
            continue
        rows.append(derive_release(index, version, facts.gpu_packages[minor]))
    return rows, skipped
