"""Typed view of `lock-platforms.toml`: the platforms a lock can be made for and their names.

One row per conda subdir (`linux-64`, `win-64`, `osx-arm64`, ...): the knowledge-base platform
the Plan uses, the `--python-platform` value uv resolves for, the PEP 508 marker that pylock's
`environments` records, and the conda virtual packages assumed when solving from another machine.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from envgen.errors import KnowledgeBaseError, UsageError
from envgen.kb import load_toml
from envgen.kb.rows import no_unknown_keys, req_str, rows

FILE = "lock-platforms.toml"


@dataclass(frozen=True)
class LockPlatform:
    name: str
    """The conda subdir: what `--platform` takes and conda-lock.yml records."""
    kb_platform: str
    """The knowledge base's and `Plan.platform`'s name (`linux-x86_64`)."""
    uv_target: str
    environment: str
    virtual_packages: tuple[tuple[str, str], ...]
    """(name, "version" or "version build"), sorted by name."""
    source: str

    @property
    def os_name(self) -> str:
        return self.kb_platform.split("-", 1)[0]

    @property
    def arch(self) -> str:
        return self.kb_platform.split("-", 1)[1]


@dataclass(frozen=True)
class LockPlatformTable:
    platforms: tuple[LockPlatform, ...]

    def names(self) -> list[str]:
        return [p.name for p in self.platforms]

    def get(self, name: str) -> LockPlatform:
        """The platform called `name` (conda subdir or knowledge-base name); UsageError lists all."""
        wanted = name.strip().lower()
        for p in self.platforms:
            if wanted in (p.name, p.kb_platform):
                return p
        raise UsageError(f"unknown platform {name!r}", hint=f"available: {', '.join(self.names())}")


def _virtual_packages(row: dict[str, Any], where: str) -> tuple[tuple[str, str], ...]:
    value = row.get("virtual-packages")
    if not isinstance(value, dict) or not value:
        raise KnowledgeBaseError(f"{where}: virtual-packages must be a non-empty table")
    out = []
    for name, spec in value.items():
        if not name.startswith("__") or not isinstance(spec, str) or not spec.strip():
            raise KnowledgeBaseError(f'{where}: virtual-packages.{name}: expected __name = "ver"')
        out.append((name, spec))
    return tuple(sorted(out))


@functools.cache
def load_lock_platforms() -> LockPlatformTable:
    doc = load_toml(FILE)
    platforms = []
    for i, row in enumerate(rows(doc, "platform", FILE)):
        where = f"{FILE}: platform[{i}]"
        no_unknown_keys(
            row,
            {"name", "kb-platform", "uv-target", "environment", "virtual-packages", "source"},
            where,
        )
        platforms.append(
            LockPlatform(
                name=req_str(row, "name", where),
                kb_platform=req_str(row, "kb-platform", where),
                uv_target=req_str(row, "uv-target", where),
                environment=req_str(row, "environment", where),
                virtual_packages=_virtual_packages(row, where),
                source=req_str(row, "source", where),
            )
        )
    return LockPlatformTable(tuple(platforms))
