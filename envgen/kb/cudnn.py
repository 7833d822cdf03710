"""Typed view of `cudnn.toml`: which CUDA each cuDNN line ships for, its GPU floor, and the rule a
runtime cuDNN must meet against the one a framework was built with."""

from __future__ import annotations

from dataclasses import dataclass, field

from envgen.kb import load_toml
from envgen.kb.cuda_arch import CC
from envgen.kb.fields import NonEmpty, RowError, key, one_of, parts
from envgen.kb.rows import DataFile, Table
from envgen.versions import DottedVersion, major_minor

FILE = "cudnn.toml"

# The compatibility rules this loader knows how to apply; the data file picks one and cites it.
RULES = frozenset({"same-major-newer-minor"})


@dataclass(frozen=True)
class Compat:
    """`[compat]`: the rule a runtime cuDNN must meet against the one a framework was built with."""

    rule: str = field(metadata=key(one_of(tuple(sorted(RULES)))))
    source: str = field(metadata=key())


@dataclass(frozen=True)
class CudnnRelease:
    """cuDNN `first` through `last` (major.minor) built for the CUDA versions in `cuda`."""

    first: DottedVersion = field(metadata=key(parts(2), name="cudnn"))
    through: DottedVersion | None = field(metadata=key(parts(2)))
    """The last line of the range; None: `first` only."""
    cuda: tuple[DottedVersion, ...] = field(metadata=key(parts(1, 2), NonEmpty()))
    min_cc: DottedVersion = field(metadata=key(CC))
    source: str = field(metadata=key())

    @property
    def last(self) -> DottedVersion:
        return self.through or self.first

    def check_row(self) -> None:
        if self.last < self.first:
            raise RowError("through", f"{self.last} is older than cudnn {self.first}")

    def covers(self, cudnn: str) -> bool:
        have = DottedVersion(major_minor(cudnn))
        return self.first <= have <= self.last

    def ships_for(self, cuda: str) -> bool:
        """True if a build exists for CUDA `cuda` ("X.Y"): listed exactly, or as its bare major."""
        mm = major_minor(cuda)
        return any(c == mm or c == mm.split(".")[0] for c in self.cuda)


SCHEMA = DataFile(
    FILE,
    "cuDNN lines: the CUDA each ships for, its GPU floor, and the runtime compatibility rule",
    (Table("compat", Compat, many=False), Table("release", CudnnRelease, label="cudnn")),
)


@dataclass(frozen=True)
class CudnnTable:
    rule: str
    rule_source: str
    releases: tuple[CudnnRelease, ...]

    def release(self, cudnn: str, cuda: str) -> CudnnRelease | None:
        """The row for cuDNN `cudnn` (A.B or A.B.C...) built for CUDA `cuda`, or None if none was."""
        for r in self.releases:
            if r.covers(cudnn) and r.ships_for(cuda):
                return r
        return None

    def ships_for(self, cudnn: str, cuda: str) -> bool:
        return self.release(cudnn, cuda) is not None

    def min_cc(self, cudnn: str, cuda: str) -> DottedVersion | None:
        """The oldest compute capability this cuDNN build supports; None if the build is unknown."""
        found = self.release(cudnn, cuda)
        return None if found is None else found.min_cc

    def supports_gpu(self, cudnn: str, cuda: str, cc: str) -> bool:
        floor = self.min_cc(cudnn, cuda)
        return floor is not None and DottedVersion(cc) >= floor

    def runtime_compatible(self, built: str, loaded: str) -> bool:
        """May a framework built against cuDNN `built` use the `loaded` one (both dotted)?"""
        b, lo = DottedVersion(built).parts, DottedVersion(loaded).parts
        # "same-major-newer-minor", the only rule in RULES: equal major, minor not older.
        return lo[0] == b[0] and (lo[1:2] or (0,)) >= (b[1:2] or (0,))

    def cuda_versions(self) -> set[str]:
        return {c for r in self.releases for c in r.cuda}


def load_cudnn() -> CudnnTable:
    rows = SCHEMA.open(load_toml(FILE))
    compat = rows.one(Compat)
    return CudnnTable(compat.rule, compat.source, rows.rows(CudnnRelease))
