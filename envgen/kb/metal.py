"""Typed view of `tensorflow-metal.toml`: which Pythons and Macs each tensorflow-metal serves."""

from __future__ import annotations

from dataclasses import dataclass

from envgen.kb import load_toml
from envgen.kb.rows import no_unknown_keys, req_str, rows, str_list

FILE = "tensorflow-metal.toml"


@dataclass(frozen=True)
class MetalRelease:
    version: str
    python: tuple[str, ...]
    platforms: tuple[str, ...]
    macos: str
    source: str


@dataclass(frozen=True)
class MetalTable:
    releases: tuple[MetalRelease, ...]

    def release(self, version: str) -> MetalRelease | None:
        return next((r for r in self.releases if r.version == version), None)


def load_metal() -> MetalTable:
    out = []
    for i, row in enumerate(rows(load_toml(FILE), "release", FILE)):
        where = f"{FILE}: release[{i}]"
        no_unknown_keys(row, {"version", "python", "platforms", "macos", "source"}, where)
        out.append(
            MetalRelease(
                version=req_str(row, "version", where),
                python=tuple(str_list(row, "python", where)),
                platforms=tuple(str_list(row, "platforms", where)),
                macos=req_str(row, "macos", where),
                source=req_str(row, "source", where),
            )
        )
    return MetalTable(tuple(out))
