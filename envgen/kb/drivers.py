"""Typed view of `cuda-drivers.toml`: which driver each CUDA toolkit needs, and the reverse."""

from __future__ import annotations

from dataclasses import dataclass, field

from envgen.kb import load_toml
from envgen.kb.fields import key, parts
from envgen.kb.rows import DataFile, Table
from envgen.versions import DottedVersion

FILE = "cuda-drivers.toml"


@dataclass(frozen=True)
class ToolkitDriver:
    """One toolkit release (GA or update) and the driver it requires per OS."""

    cuda: DottedVersion = field(metadata=key(parts(2)))
    release: str
    linux: DottedVersion
    windows: DottedVersion | None
    source: str
    prerelease: bool = field(
        metadata=key(default=False, doc="a release candidate's row: never a driver floor")
    )

    def minimum(self, os_name: str) -> DottedVersion | None:
        # WSL uses the Windows driver; macOS has no CUDA driver of the relevant era.
        return self.windows if os_name == "windows" else self.linux


@dataclass(frozen=True)
class MinorCompat:
    """CUDA X.y apps run on any driver at or above this one (minor-version compatibility)."""

    major: int
    linux: DottedVersion
    windows: DottedVersion | None
    source: str


SCHEMA = DataFile(
    FILE,
    "The NVIDIA driver each CUDA toolkit needs, per OS",
    (
        Table("toolkit", ToolkitDriver, label="release"),
        Table("minor-compat", MinorCompat, label="major"),
    ),
)


@dataclass(frozen=True)
class DriverTable:
    toolkits: tuple[ToolkitDriver, ...]
    minor_compat: tuple[MinorCompat, ...]

    def toolkit_minimum(self, cuda: str, os_name: str) -> DottedVersion | None:
        """The lowest driver that NVIDIA lists for any final release (GA or update) of CUDA
        `cuda` (X.Y) on this OS: NVIDIA's exact minimum, never a branch or a release candidate's."""
        found = [
            m
            for t in self.toolkits
            if t.cuda == cuda and not t.prerelease and (m := t.minimum(os_name)) is not None
        ]
        return min(found) if found else None

    def minor_compat_minimum(self, major: int, os_name: str) -> DottedVersion | None:
        for row in self.minor_compat:
            if row.major == major:
                return row.windows if os_name == "windows" else row.linux
        return None

    def newest_driver(self) -> DottedVersion:
        """The Linux driver of the newest toolkit NVIDIA's table lists (rows sorted by it)."""
        return self.toolkits[-1].linux

    def max_cuda(self, driver: str, os_name: str) -> str | None:
        """The newest CUDA X.Y whose toolkit minimum `driver` meets, or None if it meets none."""
        have = DottedVersion(driver)
        best: DottedVersion | None = None
        for t in self.toolkits:
            minimum = t.minimum(os_name)
            if minimum is not None and minimum <= have and (best is None or t.cuda > best):
                best = t.cuda
        return None if best is None else ".".join(map(str, best.parts))


def load_drivers() -> DriverTable:
    rows = SCHEMA.open(load_toml(FILE))
    return DriverTable(rows.rows(ToolkitDriver), rows.rows(MinorCompat))
