"""Typed view of `cuda-arch.toml`: which compute capabilities each CUDA toolkit can target.

Also home of `CC`, the declaration every table uses for a compute capability ("X.Y", as NVIDIA
prints it), so each rejects a malformed one with the same message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from envgen.kb import load_toml
from envgen.kb.fields import Parts, key, parts
from envgen.kb.rows import DataFile, Table
from envgen.versions import DottedVersion

FILE = "cuda-arch.toml"

# A compute capability: two dotted integers.
CC: Parts = parts(2)


@dataclass(frozen=True)
class MajorFloor:
    """The oldest compute capability CUDA `major`.x can still compile for."""

    major: int
    min_cc: DottedVersion = field(metadata=key(CC))
    source: str = field(metadata=key())


@dataclass(frozen=True)
class Arch:
    """One compute capability and the toolkits that know it (None: before CUDA 8.0 / still current)."""

    cc: DottedVersion = field(metadata=key(CC))
    sm: str = field(metadata=key())
    architecture: str = field(metadata=key())
    first_cuda: DottedVersion | None = field(metadata=key(parts(2)))
    last_cuda: DottedVersion | None = field(metadata=key(parts(2)))
    source: str = field(metadata=key())


SCHEMA = DataFile(
    FILE,
    "Which compute capabilities each CUDA toolkit can compile for",
    (Table("major", MajorFloor, label="major"), Table("arch", Arch, label="cc")),
)


@dataclass(frozen=True)
class CudaArchTable:
    majors: tuple[MajorFloor, ...]
    archs: tuple[Arch, ...]

    def arch(self, cc: str) -> Arch | None:
        for a in self.archs:
            if a.cc == cc:
                return a
        return None

    def min_cc(self, cuda: str) -> DottedVersion | None:
        """The oldest cc CUDA `cuda` (X.Y or X) targets, or None for a major the table lacks."""
        major = DottedVersion(cuda).major
        return next((m.min_cc for m in self.majors if m.major == major), None)

    def supports(self, cuda: str, cc: str) -> bool:
        """Can toolkit `cuda` (X.Y) compile native code (SASS) for compute capability `cc`?

        False for an unknown cc or CUDA major: the table cannot vouch for it, and the caller should
        say so rather than guess.
        """
        floor = self.min_cc(cuda)
        arch = self.arch(cc)
        if floor is None or arch is None or arch.cc < floor:
            return False
        have = DottedVersion(cuda)
        if arch.first_cuda is not None and have < arch.first_cuda:
            return False
        return not (arch.last_cuda is not None and have > arch.last_cuda)

    def min_toolkit_for(self, cc: str) -> DottedVersion | None:
        """The first CUDA that targets `cc`; None if the arch predates CUDA 8.0 or is unknown."""
        arch = self.arch(cc)
        return None if arch is None else arch.first_cuda

    def cuda_versions(self) -> set[str]:
        """Every CUDA version the table names, for the cross-table invariant test."""
        named = {a.first_cuda for a in self.archs} | {a.last_cuda for a in self.archs}
        return {v for v in named if v is not None}


def load_cuda_arch() -> CudaArchTable:
    rows = SCHEMA.open(load_toml(FILE))
    return CudaArchTable(rows.rows(MajorFloor), rows.rows(Arch))
