"""Typed view of `tensorflow-metal.toml`: which Pythons and Macs each tensorflow-metal serves."""

from __future__ import annotations

from dataclasses import dataclass, field

from envgen.kb import load_toml
from envgen.kb.fields import Ascending, NonEmpty, key, one_of, parts
from envgen.kb.lock_platforms import kb_platforms
from envgen.kb.rows import DataFile, Table
from envgen.versions import DottedVersion

FILE = "tensorflow-metal.toml"


@dataclass(frozen=True)
class MetalRelease:
    version: DottedVersion = field(metadata=key(unique=True))
    python: tuple[DottedVersion, ...] = field(metadata=key(parts(2), Ascending(), NonEmpty()))
    platforms: tuple[str, ...] = field(metadata=key(one_of(kb_platforms), NonEmpty()))
    macos: DottedVersion = field(metadata=key())
    source: str = field(metadata=key())


SCHEMA = DataFile(
    FILE,
    "Which Pythons and Macs each tensorflow-metal release has wheels for",
    (Table("release", MetalRelease, label="version"),),
)


@dataclass(frozen=True)
class MetalTable:
    releases: tuple[MetalRelease, ...]

    def release(self, version: str) -> MetalRelease | None:
        return next((r for r in self.releases if r.version == version), None)


def load_metal() -> MetalTable:
    return MetalTable(SCHEMA.open(load_toml(FILE)).rows(MetalRelease))
