"""Typed view of `cpu-levels.toml`: x86-64 levels, flag implications, recorded flags, aliases."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.rows import no_unknown_keys, req_int, req_str, rows, str_list

FILE = "cpu-levels.toml"


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
    doc = load_toml(FILE)
    levels = []
    for i, row in enumerate(rows(doc, "level", FILE)):
        where = f"{FILE}: level[{i}]"
        no_unknown_keys(row, {"level", "flags", "source"}, where)
        levels.append((req_int(row, "level", where), frozenset(str_list(row, "flags", where))))
    if [n for n, _ in levels] != list(range(1, len(levels) + 1)):
        raise KnowledgeBaseError(f"{FILE}: levels must be 1, 2, 3, ... in order")
    implies = {}
    for i, row in enumerate(rows(doc, "implies", FILE)):
        where = f"{FILE}: implies[{i}]"
        no_unknown_keys(row, {"flag", "flags", "source"}, where)
        implies[req_str(row, "flag", where)] = frozenset(str_list(row, "flags", where))
    relevant = doc.get("relevant", {})
    no_unknown_keys(relevant, {"flags", "source"}, f"{FILE}: relevant")
    req_str(relevant, "source", f"{FILE}: relevant")
    aliases = {}
    for i, row in enumerate(rows(doc, "alias", FILE)):
        where = f"{FILE}: alias[{i}]"
        no_unknown_keys(row, {"name", "flag", "source"}, where)
        aliases[req_str(row, "name", where)] = req_str(row, "flag", where)
    simd = doc.get("simd", {})
    no_unknown_keys(simd, {"flags", "source"}, f"{FILE}: simd")
    req_str(simd, "source", f"{FILE}: simd")
    all_level_flags = frozenset().union(*(f for _, f in levels))
    return CpuTable(
        levels=tuple(levels),
        implies=implies,
        relevant=frozenset(str_list(relevant, "flags", f"{FILE}: relevant")) | all_level_flags,
        aliases=aliases,
        simd=tuple(str_list(simd, "flags", f"{FILE}: simd")),
    )
