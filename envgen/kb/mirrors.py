"""Typed view of `mirrors.toml`: PyPI and conda mirror presets chosen by name (`--mirror tuna`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from envgen.errors import KnowledgeBaseError, UsageError
from envgen.kb import load_toml
from envgen.kb.rows import no_unknown_keys, opt_str, req_str, rows, str_list

FILE = "mirrors.toml"

# The preset that means "no mirror": the canonical indexes that locks record.
DEFAULT = "pypi"

# In `conda-channels`, every channel (the upstream serves all of them).
ANY_CHANNEL = "*"


@dataclass(frozen=True)
class Mirror:
    name: str
    title: str
    pypi: str
    conda_pkgs: str | None
    conda_cloud: str | None
    conda_channels: tuple[str, ...]
    source: str

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


def _https(row: dict[str, Any], key: str, where: str) -> str | None:
    """An optional https URL; http would need pip's trusted-host, which envgen never emits."""
    value = opt_str(row, key, where)
    if value is not None and not value.startswith("https://"):
        raise KnowledgeBaseError(f"{where}: {key} must be an https URL, got {value!r}")
    return value


def load_mirrors() -> MirrorTable:
    doc = load_toml(FILE)
    mirrors = []
    allowed = {"name", "title", "pypi", "conda-pkgs", "conda-cloud", "conda-channels", "source"}
    for i, row in enumerate(rows(doc, "mirror", FILE)):
        where = f"{FILE}: mirror[{i}]"
        no_unknown_keys(row, allowed, where)
        req_str(row, "pypi", where)  # required, and named in the error when missing
        cloud = _https(row, "conda-cloud", where)
        channels = str_list(row, "conda-channels", where, default=[])
        if bool(cloud) != bool(channels):
            raise KnowledgeBaseError(f"{where}: conda-cloud and conda-channels go together")
        mirrors.append(
            Mirror(
                name=req_str(row, "name", where),
                title=req_str(row, "title", where),
                pypi=_https(row, "pypi", where) or "",
                conda_pkgs=_https(row, "conda-pkgs", where),
                conda_cloud=cloud,
                conda_channels=tuple(channels),
                source=req_str(row, "source", where),
            )
        )
    table = MirrorTable(tuple(mirrors))
    if DEFAULT not in table.names():
        raise KnowledgeBaseError(f"{FILE}: the default preset {DEFAULT!r} is missing")
    return table
