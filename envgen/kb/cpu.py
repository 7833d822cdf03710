"""Typed view of `cpu-levels.toml`: x86-64 levels, flag implications, recorded flags, aliases."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.rows import DataFile, Table

FILE = "cpu-levels.toml"


@dataclass(frozen=True)
class Level:
    """An x86-64 psABI level and the flags it adds to the level below."""

    level: int
    flags: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Implies:
    """A flag whose presence implies others (for hand-written profiles)."""

    flag: str
    flags: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class FlagSet:
    """A set of flags with its source: `[relevant]` (recorded in profiles), `[simd]`."""

    flags: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Alias:
    """Another tool's spelling of a /proc/cpuinfo flag."""

    name: str
    flag: str
    source: str


SCHEMA = DataFile(
    FILE,
    "x86-64 levels, flag implications, the flags a profile records, and flag aliases",
    (
        Table("level", Level, label="level"),
        Table("implies", Implies, label="flag"),
        Table("relevant", FlagSet, many=False),
        Table("simd", FlagSet, many=False),
        Table("alias", Alias, label="name"),
    ),
)


@dataclass(frozen=True)
class CpuTable:
    levels: tuple[tuple[int, frozenset[str]], ...]
    implies: dict[str, frozenset[str]]
    relevant: frozenset[str]
    aliases: dict[str, str]
    simd: tuple[str, ...] = ()
    """The SIMD features TensorFlow's CPU guard reports, in its order."""

    def canonical(self, flag: str) -> str:
        """One spelling per flag: lower case, Linux /proc/cpuinfo names."""
        name = flag.strip().lower()
        return self.aliases.get(name, name)

    def normalise(self, flags: Iterable[str], *, keep_all: bool = False) -> tuple[str, ...]:
        """Canonical, de-duplicated, sorted; only the recorded ones unless `keep_all`."""
        out = {self.canonical(f) for f in flags if f.strip()}
        return tuple(sorted(out if keep_all else out & self.relevant))

    def with_implied(self, flags: Iterable[str]) -> frozenset[str]:
        have = set(flags)
        changed = True
        while changed:
            changed = False
            for flag, implied in self.implies.items():
                if flag in have and not implied <= have:
                    have |= implied
                    changed = True
        return frozenset(have)

    def x86_64_level(self, flags: Iterable[str]) -> int:
        """The highest psABI level whose flags (and all lower levels' flags) are present.

        Level 1 is the x86-64 architecture itself, so any x86-64 CPU has it even when a
        hand-written flag list omits `cmov` and friends.
        """
        have = set(flags) | self.levels[0][1]
        level = 0
        for number, needed in self.levels:
            if not needed <= have:
                break
            level = number
        return level


def load_cpu() -> CpuTable:
    rows = SCHEMA.open(load_toml(FILE))
    levels = [(row.level, frozenset(row.flags)) for row in rows.rows(Level)]
    if [n for n, _ in levels] != list(range(1, len(levels) + 1)):
        raise KnowledgeBaseError(f"{FILE}: levels must be 1, 2, 3, ... in order")
    relevant = rows.table("relevant", FlagSet)
    all_level_flags = frozenset().union(*(f for _, f in levels))
    return CpuTable(
        levels=tuple(levels),
        implies={row.flag: frozenset(row.flags) for row in rows.rows(Implies)},
        relevant=frozenset(relevant.flags) | all_level_flags,
        aliases={row.name: row.flag for row in rows.rows(Alias)},
        simd=rows.table("simd", FlagSet).flags,
    )
