"""Typed view of the PyTorch knowledge: `torch-builds.toml` (hand) and `torch-releases.toml`
(generated).

PyPI serves one build of each torch release per platform; the PyTorch index serves the others,
one index per CUDA build tag (`cu126`) and a CPU-only one. `torch-builds.toml` holds each
(minor, tag) build's CUDA and architecture lists; `torch-releases.toml`, derived from PyPI by
`envgen kb update`, holds what PyPI ships per release and platform, with the CUDA of each wheel
read from its Requires-Dist. `load_torch()` joins them: a release's `builds(platform)` lists the
PyPI wheel first (marked `on_pypi`), then the index builds of its minor, newest CUDA first.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.fields import Kebab, NonEmpty, Prefix, RowError, derived, family, key, one_of, parts
from envgen.kb.lock_platforms import kb_platforms
from envgen.kb.rows import DataFile, Table
from envgen.kb.tensorflow import CC_LIST, Wheels
from envgen.versions import DottedVersion

BUILDS_FILE = "torch-builds.toml"
RELEASES_FILE = "torch-releases.toml"

EVIDENCE = ("pypi-wheel", "build-script", "release-md", "rfc-table", "issue-report", "secondary")
"""How a build's architecture lists were established, strongest first."""


@dataclass(frozen=True)
class TorchIndex:
    url: str = field(metadata=key(Prefix("https://")))
    cpu_tag: str = field(metadata=key(Kebab()))
    cpu_platforms: tuple[str, ...] = field(metadata=key(one_of(kb_platforms)))
    ptx_platforms: tuple[str, ...] = field(metadata=key(one_of(kb_platforms)))
    runtime_packages: tuple[str, ...] = field(metadata=key(Kebab(), NonEmpty()))
    """The projects whose exact pin in a wheel's Requires-Dist names the CUDA it was built with."""
    source: str = field(metadata=key())

    def of(self, tag: str) -> str:
        """The index of build `tag`: `https://download.pytorch.org/whl/cu126`."""
        return f"{self.url.rstrip('/')}/{tag}"


@dataclass(frozen=True)
class TorchVariant:
    """One CUDA build of a minor."""

    minor: DottedVersion = field(metadata=key(parts(2)))
    tag: str = field(metadata=key(Kebab()))
    cuda: DottedVersion = field(metadata=key(parts(2)))
    sass: tuple[DottedVersion, ...] = field(metadata=key(*CC_LIST))
    ptx: tuple[DottedVersion, ...] = field(metadata=key(*CC_LIST, default=()))
    platforms: tuple[str, ...] = field(metadata=key(one_of(kb_platforms), NonEmpty()))
    evidence: str = field(metadata=key(one_of(EVIDENCE)))
    source: str = field(metadata=key())

    def check_row(self) -> None:
        if self.tag != "cu" + "".join(str(n) for n in self.cuda.parts):
            raise RowError("tag", f"cu{''.join(map(str, self.cuda.parts))} for CUDA {self.cuda}")


@dataclass(frozen=True)
class TorchWheels(Wheels):
    """A torch release's PyPI wheels on one platform, and the CUDA they were built with."""

    cuda: DottedVersion | None = field(metadata=key(parts(2)))
    """From the wheel's Requires-Dist; None for a CPU build (Windows, macOS, aarch64 <= 2.10)."""


@dataclass(frozen=True)
class TorchBuild:
    """One way to get a torch release on a platform: PyPI's wheel or an index build."""

    version: Version
    """The release (`2.14.1`); `requirement` adds the index build's local tag."""
    wheels: TorchWheels
    """What PyPI has for the platform (an index build serves the same Pythons: header note)."""
    cuda: DottedVersion | None
    variant: TorchVariant | None
    """The build row (None: a CPU build, or a CUDA wheel without a row for its minor)."""
    index: str | None
    """The PyTorch index it comes from; None for PyPI."""
    tag: str | None
    """The local version label (`cu126`, `cpu`) where it comes from the index."""

    @property
    def on_pypi(self) -> bool:
        return self.index is None

    @property
    def pin(self) -> str:
        """The exact version a requirement pins: `2.14.1` (PyPI), `2.14.1+cu126` (index)."""
        return str(self.version) if self.tag is None else f"{self.version}+{self.tag}"


@dataclass(frozen=True)
class TorchRelease:
    version: Version = field(metadata=key())
    variants: tuple[TorchVariant, ...] = field(metadata=derived())
    """The builds of its minor (torch-builds.toml), in file order."""
    requires_python: SpecifierSet | None = field(metadata=key())
    wheels: Mapping[str, TorchWheels] = field(metadata=family("", kb_platforms))
    source: str = field(metadata=key())

    def check_row(self) -> None:
        if self.version.is_prerelease or self.version.is_devrelease or self.version.local:
            raise RowError("version", "only final releases are listed")

    @property
    def minor(self) -> str:
        return f"{self.version.major}.{self.version.minor}"

    def wheel(self, platform: str) -> TorchWheels | None:
        return self.wheels.get(platform)


@dataclass(frozen=True)
class TorchTable:
    index: TorchIndex
    variants: tuple[TorchVariant, ...]
    releases: tuple[TorchRelease, ...]
    """Oldest first."""

    def release(self, version: str | Version) -> TorchRelease | None:
        wanted = Version(Version(str(version)).public)
        return next((r for r in self.releases if r.version == wanted), None)

    def pypi_variant(self, release: TorchRelease, platform: str) -> TorchVariant | None:
        """The build row of the release's PyPI wheel on `platform` (same minor and CUDA)."""
        wheel = release.wheel(platform)
        if wheel is None or wheel.cuda is None:
            return None
        return next(
            (v for v in release.variants if v.cuda == wheel.cuda and platform in v.platforms),
            None,
        )

    def gpu_builds(self, release: TorchRelease, platform: str) -> list[TorchBuild]:
        """The CUDA builds of `release` on `platform`: PyPI's first (where it is one), then the
        index builds of its minor, newest CUDA first."""
        wheel = release.wheel(platform)
        if wheel is None:
            return []
        out = []
        pypi = self.pypi_variant(release, platform)
        if wheel.cuda is not None:
            out.append(TorchBuild(release.version, wheel, wheel.cuda, pypi, None, None))
        others = [v for v in release.variants if platform in v.platforms and v is not pypi]
        for v in sorted(others, key=lambda v: v.cuda, reverse=True):
            out.append(TorchBuild(release.version, wheel, v.cuda, v, self.index.of(v.tag), v.tag))
        return out

    def cpu_build(self, release: TorchRelease, platform: str) -> TorchBuild | None:
        """The CPU build: PyPI's wheel where it is one, else the CPU index's (where it serves the
        platform), else PyPI's CUDA wheel (it runs on the CPU too, only larger)."""
        wheel = release.wheel(platform)
        if wheel is None:
            return None
        if wheel.cuda is None or platform not in self.index.cpu_platforms:
            return TorchBuild(release.version, wheel, None, None, None, None)
        tag = self.index.cpu_tag
        return TorchBuild(release.version, wheel, None, None, self.index.of(tag), tag)

    def ptx(self, variant: TorchVariant, platform: str) -> tuple[DottedVersion, ...]:
        """The row's PTX where it is compiled in on `platform` (Linux builds only)."""
        return variant.ptx if platform in self.index.ptx_platforms else ()


BUILDS = DataFile(
    BUILDS_FILE,
    "PyTorch's CUDA builds per minor and build tag: CUDA and compute capabilities",
    (Table("index", TorchIndex, many=False), Table("variant", TorchVariant, label="tag")),
)
RELEASES = DataFile(
    RELEASES_FILE,
    "Every final torch release on PyPI, its wheels per platform and their CUDA (generated)",
    (Table("release", TorchRelease, label="version"),),
)


@functools.cache
def load_torch_builds() -> tuple[TorchIndex, tuple[TorchVariant, ...]]:
    reader = BUILDS.open(load_toml(BUILDS_FILE))
    index = reader.one(TorchIndex)
    variants = reader.rows(TorchVariant)
    seen: set[tuple[str, str, str]] = set()
    for i, v in enumerate(variants):
        for platform in v.platforms:
            slot = (str(v.minor), v.tag, platform)
            if slot in seen:
                raise KnowledgeBaseError(
                    f"{BUILDS_FILE}: variant[{i}]: {v.minor} {v.tag} twice for {platform}"
                )
            seen.add(slot)
    return index, variants


def load_torch() -> TorchTable:
    """Both files, validated and joined; a `KnowledgeBaseError` names the file, row and key."""
    index, variants = load_torch_builds()

    def variants_of(values: dict[str, Any]) -> tuple[TorchVariant, ...]:
        version: Version = values["version"]
        minor = DottedVersion(f"{version.major}.{version.minor}")
        return tuple(v for v in variants if v.minor == minor)

    releases = RELEASES.open(load_toml(RELEASES_FILE)).rows(TorchRelease, variants=variants_of)
    for i in range(1, len(releases)):
        if releases[i].version <= releases[i - 1].version:
            raise KnowledgeBaseError(
                f"{RELEASES_FILE}: release[{i}].version: {releases[i].version} must be greater "
                f"than the previous row's {releases[i - 1].version}"
            )
    return TorchTable(index, variants, releases)
