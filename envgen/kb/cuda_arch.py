"""Typed view of `cuda-arch.toml`: which compute capabilities each CUDA toolkit can target.

Also home of the small validators the platform tables share (`req_cc`, `req_version`), so every
table rejects a malformed compute capability or CUDA version with the same message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.rows import no_unknown_keys, req_int, req_str, rows
from envgen.versions import Dotted, is_dotted, parse_dotted

FILE = "cuda-arch.toml"


def req_cc(row: dict[str, Any], key: str, where: str) -> str:
    """A compute capability written `X.Y` (two dotted integers, as NVIDIA prints it)."""
    value = req_str(row, key, where)
    if not is_dotted(value, parts=2):
        raise KnowledgeBaseError(
            f"{where}: {key} must be a compute capability 'X.Y', got {value!r}"
        )
    return value


def req_version(row: dict[str, Any], key: str, where: str, *, parts: int | None = None) -> str:
    """A dotted numeric version (CUDA `12.5`, cuDNN `8.9`); `parts` fixes how many numbers."""
    value = req_str(row, key, where)
    if not is_dotted(value, parts=parts):
        shape = "dotted integers" if parts is None else f"{parts} dotted integers"
        raise KnowledgeBaseError(f"{where}: {key} must be {shape}, got {value!r}")
    return value


def opt_version(
    row: dict[str, Any], key: str, where: str, *, parts: int | None = None
) -> str | None:
    return None if row.get(key) is None else req_version(row, key, where, parts=parts)


def cc_key(cc: str) -> Dotted:
    """Order compute capabilities numerically: 10.0 sorts after 9.0."""
    return parse_dotted(cc)


@dataclass(frozen=True)
class MajorFloor:
    """The oldest compute capability CUDA `major`.x can still compile for."""

    major: int
    min_cc: str
    source: str


@dataclass(frozen=True)
class Arch:
    """One compute capability and the toolkits that know it (None: before CUDA 8.0 / still current)."""

    cc: str
    sm: str
    architecture: str
    first_cuda: str | None
    last_cuda: str | None
    source: str


@dataclass(frozen=True)
class CudaArchTable:
    majors: tuple[MajorFloor, ...]
    archs: tuple[Arch, ...]

    def arch(self, cc: str) -> Arch | None:
        for a in self.archs:
            if a.cc == cc:
                return a
        return None

    def min_cc(self, cuda: str) -> str | None:
        """The oldest cc CUDA `cuda` (X.Y or X) targets, or None for a major the table lacks."""
        major = parse_dotted(cuda)[0]
        return next((m.min_cc for m in self.majors if m.major == major), None)

    def supports(self, cuda: str, cc: str) -> bool:
        """Can toolkit `cuda` (X.Y) compile native code (SASS) for compute capability `cc`?

        False for an unknown cc or CUDA major: the table cannot vouch for it, and the caller should
        say so rather than guess.
        """
        floor = self.min_cc(cuda)
        arch = self.arch(cc)
        if floor is None or arch is None or cc_key(cc) < cc_key(floor):
            return False
        have = parse_dotted(cuda)
        if arch.first_cuda is not None and have < parse_dotted(arch.first_cuda):
            return False
        return not (arch.last_cuda is not None and have > parse_dotted(arch.last_cuda))

    def min_toolkit_for(self, cc: str) -> str | None:
        """The first CUDA that targets `cc`; None if the arch predates CUDA 8.0 or is unknown."""
        arch = self.arch(cc)
        return None if arch is None else arch.first_cuda

    def cuda_versions(self) -> set[str]:
        """Every CUDA version the table names, for the cross-table invariant test."""
        named = {a.first_cuda for a in self.archs} | {a.last_cuda for a in self.archs}
        return {v for v in named if v is not None}


def load_cuda_arch() -> CudaArchTable:
    doc = load_toml(FILE)
    majors = []
    for i, row in enumerate(rows(doc, "major", FILE)):
        where = f"{FILE}: major[{i}]"
        no_unknown_keys(row, {"major", "min-cc", "source"}, where)
        majors.append(
            MajorFloor(
                major=req_int(row, "major", where),
                min_cc=req_cc(row, "min-cc", where),
                source=req_str(row, "source", where),
            )
        )
    archs = []
    for i, row in enumerate(rows(doc, "arch", FILE)):
        where = f"{FILE}: arch[{i}]"
        no_unknown_keys(
            row, {"cc", "sm", "architecture", "first-cuda", "last-cuda", "source"}, where
        )
        archs.append(
            Arch(
                cc=req_cc(row, "cc", where),
                sm=req_str(row, "sm", where),
                architecture=req_str(row, "architecture", where),
                first_cuda=opt_version(row, "first-cuda", where, parts=2),
                last_cuda=opt_version(row, "last-cuda", where, parts=2),
                source=req_str(row, "source", where),
            )
        )
    return CudaArchTable(tuple(majors), tuple(archs))
