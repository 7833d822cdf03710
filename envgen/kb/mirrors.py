"""Typed view of `mirrors.toml`: PyPI and conda mirror presets chosen by name (`--mirror tuna`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from envgen.errors import KnowledgeBaseError, UsageError
from envgen.kb import load_toml
from envgen.kb.fields import Prefix, RowError, key
from envgen.kb.rows import DataFile, Table

FILE = "mirrors.toml"

# The preset that means "no mirror": the canonical indexes that locks record.
DEFAULT = "pypi"

# In `conda-channels`, every channel (the upstream serves all of them).
ANY_CHANNEL = "*"


# http would need pip's trusted-host, which envgen never emits.
HTTPS = Prefix("https://")


@dataclass(frozen=True)
class Mirror:
    name: str = field(metadata=key(unique=True))
    title: str = field(metadata=key())
    pypi: str = field(metadata=key(HTTPS))
    conda_pkgs: str | None = field(metadata=key(HTTPS))
    conda_cloud: str | None = field(metadata=key(HTTPS))
    conda_channels: tuple[str, ...] = field(metadata=key(default=()))
    source: str = field(metadata=key())

    def check_row(self) -> None:
        if bool(self.conda_cloud) != bool(self.conda_channels):
            raise RowError("conda-cloud", "conda-cloud and conda-channels go together")

    def serves(self, channel: str) -> bool:
        """Does this mirror serve conda channel `channel` ("defaults" = Anaconda's pkgs/*)?"""
        if channel == "defaults":
            return self.conda_pkgs is not None
        return self.conda_cloud is not None and (
            ANY_CHANNEL in self.conda_channels or channel in self.conda_channels
        )

    def channel_url(self, channel: str) -> str | None:
        """`conda-forge` -> `https://…/anaconda/cloud/conda-forge`; None where not mirrored."""
        if channel == "defaults" or not self.serves(channel):
            return None
        return f"{self.conda_cloud}/{channel}"

    def default_channels(self) -> list[str]:
        """What conda's `default_channels` becomes; [] where Anaconda's repository is not mirrored."""
        if self.conda_pkgs is None:
            return []
        return [f"{self.conda_pkgs}/{sub}" for sub in ("main", "r", "msys2")]


@dataclass(frozen=True)
class MirrorTable:
    mirrors: tuple[Mirror, ...]

    def names(self) -> list[str]:
        return [m.name for m in self.mirrors]

    def get(self, name: str) -> Mirror:
        """The preset called `name` (case-insensitive); a UsageError lists the available ones."""
        for m in self.mirrors:
            if m.name == name.strip().lower():
                return m
        raise UsageError(
            f"unknown mirror {name!r}",
            hint=f"available: {', '.join(self.names())}",
        )


SCHEMA = DataFile(
    FILE,
    "PyPI and conda mirror presets chosen by name (--mirror tuna)",
    (Table("mirror", Mirror, label="name"),),
)


def load_mirrors() -> MirrorTable:
    table = MirrorTable(SCHEMA.open(load_toml(FILE)).rows(Mirror))
    if DEFAULT not in table.names():
        raise KnowledgeBaseError(f"{FILE}: the default preset {DEFAULT!r} is missing")
    return table
