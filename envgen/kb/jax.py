"""Typed view of the JAX knowledge: `jax-builds.toml` (hand) and `jax-releases.toml` (generated).

As for TensorFlow, two files by origin: a line's builds (CUDA, cuDNN, compute capabilities, the
driver JAX's docs ask for, the CPU features jaxlib needs) come from jax's build files, changelog
and the wheels themselves; what PyPI ships per release (jaxlib wheels per platform and Python,
the CUDA plugin wheels per CUDA major and platform, the `cudaNN` extras jax declares) is derived
from PyPI by `envgen kb update`. `load_jax()` joins each release to the line it belongs to.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.fields import Kebab, RowError, derived, family, key, one_of, parts
from envgen.kb.lock_platforms import kb_platforms
from envgen.kb.rows import DataFile, Table
from envgen.kb.tensorflow import CC_LIST, PYTHONS, Wheels
from envgen.versions import DottedVersion

BUILDS_FILE = "jax-builds.toml"
RELEASES_FILE = "jax-releases.toml"

# The prefix of the plugin keys of a release row: `cuda12-linux-x86_64`.
PLUGIN_PREFIX = "cuda"


@dataclass(frozen=True)
class JaxCuda:
    """One CUDA major's plugin build in a line."""

    major: DottedVersion = field(metadata=key(parts(1)))
    cuda: DottedVersion = field(metadata=key(parts(2)))
    cudnn: DottedVersion = field(metadata=key())
    sass: tuple[DottedVersion, ...] = field(metadata=key(*CC_LIST))
    ptx: tuple[DottedVersion, ...] = field(metadata=key(*CC_LIST, default=()))
    driver_linux: DottedVersion | None = field(metadata=key())
    """The Linux driver JAX's installation docs require for this CUDA major."""

    @property
    def extra(self) -> str:
        """The jax extra that installs this build (`jax[cuda12]`)."""
        return f"{PLUGIN_PREFIX}{self.major}"

    @property
    def min_compute_capability(self) -> DottedVersion:
        return min((*self.sass, *self.ptx))


@dataclass(frozen=True)
class JaxLine:
    since: Version = field(metadata=key(unique=True))
    cpu_features: tuple[str, ...] = field(metadata=key())
    cuda: tuple[JaxCuda, ...] = field(metadata=key(default=()))
    """Newest CUDA major last."""
    gpu_platforms: tuple[str, ...] = field(metadata=key(one_of(kb_platforms)))
    source: str = field(metadata=key())

    def check_row(self) -> None:
        majors = [c.major for c in self.cuda]
        if majors != sorted(set(majors), key=DottedVersion):
            raise RowError("cuda", "one table per CUDA major, oldest first")
        if bool(self.cuda) != bool(self.gpu_platforms):
            raise RowError("gpu-platforms", "platforms exactly where the line has CUDA builds")

    def build(self, major: str) -> JaxCuda | None:
        return next((c for c in self.cuda if c.major == major), None)


def cuda_majors() -> tuple[str, ...]:
    """Every CUDA major jax-builds.toml names: the plugin keys a release row may hold."""
    rows = load_toml(BUILDS_FILE).get("line", [])
    found = {str(c.get("major")) for row in rows for c in row.get("cuda", [])}
    return tuple(sorted(found, key=DottedVersion))


def plugin_keys() -> Iterator[str]:
    """`12-linux-x86_64`, ...: each CUDA major on each platform (the family's key suffixes)."""
    for major in cuda_majors():
        for platform in kb_platforms():
            yield f"{major}-{platform}"


@dataclass(frozen=True)
class Plugin:
    """The CUDA plugin wheels of one release for one CUDA major on one platform."""

    slot: str = field(metadata=derived())
    """`12-linux-x86_64` (the key suffix)."""
    package: str = field(metadata=key(Kebab()))
    python: tuple[DottedVersion, ...] = field(metadata=key(*PYTHONS))
    glibc: DottedVersion | None = field(metadata=key())

    @property
    def major(self) -> str:
        return self.slot.split("-", 1)[0]

    @property
    def platform(self) -> str:
        return self.slot.split("-", 1)[1]

    # What the rule book asks of any set of wheels (envgen.rules.WheelSet).
    @property
    def macos(self) -> None:
        return None  # Linux only

    @property
    def install_name(self) -> str:
        return self.package

    def supports_python(self, python: str) -> bool:
        return python in self.python


@dataclass(frozen=True)
class JaxRelease:
    """One final jax release on PyPI, joined with its line."""

    version: Version = field(metadata=key())
    line: JaxLine = field(metadata=derived())
    requires_python: SpecifierSet | None = field(metadata=key())
    extras: tuple[str, ...] = field(metadata=key(Kebab(), default=()))
    """The `cudaNN` extras jax declares (a declared extra may have no plugin: 0.7.0's cuda13)."""
    wheels: Mapping[str, Wheels] = field(metadata=family("", kb_platforms))
    """The jaxlib wheels of the same version per platform (absent: none there)."""
    plugins: Mapping[str, Plugin] = field(metadata=family(PLUGIN_PREFIX, plugin_keys))
    """`12-linux-x86_64` -> the plugin (and its pjrt) wheels there."""
    source: str = field(metadata=key())

    def check_row(self) -> None:
        if self.version.is_prerelease or self.version.is_devrelease or self.version.local:
            raise RowError("version", "only final releases are listed")

    @property
    def minor(self) -> str:
        return f"{self.version.major}.{self.version.minor}"

    def wheel(self, platform: str) -> Wheels | None:
        return self.wheels.get(platform)

    def plugin(self, major: str, platform: str) -> Plugin | None:
        return self.plugins.get(f"{major}-{platform}")


@dataclass(frozen=True)
class JaxTable:
    lines: tuple[JaxLine, ...]
    releases: tuple[JaxRelease, ...]
    """Oldest first."""

    def release(self, version: str | Version) -> JaxRelease | None:
        wanted = Version(str(version))
        return next((r for r in self.releases if r.version == wanted), None)


BUILDS = DataFile(
    BUILDS_FILE,
    "JAX's official builds per line: CUDA, cuDNN, compute capabilities, driver, CPU features",
    (Table("line", JaxLine, label="since"),),
)
RELEASES = DataFile(
    RELEASES_FILE,
    "Every final jax release on PyPI and the jaxlib and CUDA plugin wheels it has (generated)",
    (Table("release", JaxRelease, label="version"),),
)


def _ascending(file: str, table: str, values: list[Version]) -> None:
    for i, (before, value) in enumerate(itertools.pairwise(values), start=1):
        if value <= before:
            raise KnowledgeBaseError(
                f"{file}: {table}[{i}]: {value} must be greater than the previous row's {before}"
            )


@functools.cache
def load_jax_lines() -> tuple[JaxLine, ...]:
    lines = BUILDS.open(load_toml(BUILDS_FILE)).rows(JaxLine)
    _ascending(BUILDS_FILE, "line", [line.since for line in lines])
    return lines


def load_jax() -> JaxTable:
    """Both files, validated and joined; a `KnowledgeBaseError` names the file, row and key."""
    lines = load_jax_lines()

    def line_of(values: dict[str, Any]) -> JaxLine:
        version: Version = values["version"]
        found = [line for line in lines if line.since <= version]
        if not found:
            raise RowError("version", f"older than the first line of {BUILDS_FILE}")
        return found[-1]

    releases = RELEASES.open(load_toml(RELEASES_FILE)).rows(JaxRelease, line=line_of)
    _ascending(RELEASES_FILE, "release", [r.version for r in releases])
    for i, release in enumerate(releases):
        for slot in release.plugins:
            major = slot.split("-", 1)[0]
            if release.line.build(major) is None:
                raise KnowledgeBaseError(
                    f"{RELEASES_FILE}: release[{i}].{PLUGIN_PREFIX}{slot}: its line has no "
                    f"CUDA {major} build in {BUILDS_FILE}"
                )
    return JaxTable(lines, releases)
