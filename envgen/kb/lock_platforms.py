"""Typed view of `lock-platforms.toml`: the platforms envgen knows, and each tool's name for them.

This table is the only list of platforms. One row per conda subdir (`linux-64`, `win-64`,
`osx-arm64`, ...): the knowledge-base platform the Plan and the TensorFlow tables use
(`linux-x86_64`), the `--python-platform` value uv resolves for, the PEP 508 marker that pylock's
`environments` records, and the conda virtual packages assumed when solving from another machine.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from envgen.errors import UsageError
from envgen.kb import load_toml
from envgen.kb.fields import KeyPrefix, key
from envgen.kb.rows import DataFile, Table

FILE = "lock-platforms.toml"


@dataclass(frozen=True)
class LockPlatform:
    name: str = field(metadata=key(unique=True))
    """The conda subdir: what `--platform` takes and conda-lock.yml records."""
    kb_platform: str = field(metadata=key(unique=True))
    """The knowledge base's and `Plan.platform`'s name (`<os>-<machine>`, `linux-x86_64`)."""
    uv_target: str = field(metadata=key())
    environment: str = field(metadata=key())
    marker_values: tuple[tuple[str, str], ...] = field(metadata=key())
    """PEP 508 environment values here (`sys_platform`, ...), for evaluating markers."""
    virtual_packages: tuple[tuple[str, str], ...] = field(metadata=key(KeyPrefix("__")))
    """(name, "version" or "version build"), sorted by name."""
    source: str = field(metadata=key())

    @property
    def os_name(self) -> str:
        return self.kb_platform.split("-", 1)[0]

    @property
    def arch(self) -> str:
        return self.kb_platform.split("-", 1)[1]


SCHEMA = DataFile(
    FILE,
    "The platforms envgen plans and locks for, and how each tool names them",
    (Table("platform", LockPlatform, label="name"),),
)


@dataclass(frozen=True)
class LockPlatformTable:
    platforms: tuple[LockPlatform, ...]

    def names(self) -> list[str]:
        return [p.name for p in self.platforms]

    def kb_platforms(self) -> tuple[str, ...]:
        """The knowledge-base names (`linux-x86_64`, ...) in table order."""
        return tuple(p.kb_platform for p in self.platforms)

    def get(self, name: str) -> LockPlatform:
        """The platform called `name` (conda subdir or knowledge-base name); UsageError lists all."""
        wanted = name.strip().lower()
        for p in self.platforms:
            if wanted in (p.name, p.kb_platform):
                return p
        raise UsageError(f"unknown platform {name!r}", hint=f"available: {', '.join(self.names())}")

    def for_machine(self, os_name: str, arch: str) -> LockPlatform | None:
        """The platform of an OS and machine as a profile names them (`linux`, `x86_64`);
        None where envgen knows no such platform (no official wheels)."""
        return next((p for p in self.platforms if (p.os_name, p.arch) == (os_name, arch)), None)


@functools.cache
def load_lock_platforms() -> LockPlatformTable:
    return LockPlatformTable(SCHEMA.open(load_toml(FILE)).rows(LockPlatform))


def kb_platforms() -> tuple[str, ...]:
    """Every knowledge-base platform name: the values other tables may name."""
    return load_lock_platforms().kb_platforms()
