"""Typed view of `cudnn.toml`: which CUDA each cuDNN line ships for, its GPU floor, and the rule a
runtime cuDNN must meet against the one a framework was built with."""

from __future__ import annotations

from dataclasses import dataclass

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.cuda_arch import cc_key, opt_version, req_cc, req_version
from envgen.kb.rows import no_unknown_keys, req_str, rows, str_list
from envgen.versions import is_dotted, major_minor, parse_dotted

FILE = "cudnn.toml"

# The compatibility rules this loader knows how to apply; the data file picks one and cites it.
RULES = frozenset({"same-major-newer-minor"})


@dataclass(frozen=True)
class CudnnRelease:
    """cuDNN `first` through `last` (major.minor) built for the CUDA versions in `cuda`."""

    first: str
    last: str
    cuda: tuple[str, ...]
    min_cc: str
    source: str

    def covers(self, cudnn: str) -> bool:
        have = parse_dotted(major_minor(cudnn))
        return parse_dotted(self.first) <= have <= parse_dotted(self.last)

    def ships_for(self, cuda: str) -> bool:
        """True if a build exists for CUDA `cuda` ("X.Y"): listed exactly, or as its bare major."""
        mm = major_minor(cuda)
        return any(c == mm or c == mm.split(".")[0] for c in self.cuda)


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

    def min_cc(self, cudnn: str, cuda: str) -> str | None:
        """The oldest compute capability this cuDNN build supports; None if the build is unknown."""
        found = self.release(cudnn, cuda)
        return None if found is None else found.min_cc

    def supports_gpu(self, cudnn: str, cuda: str, cc: str) -> bool:
        floor = self.min_cc(cudnn, cuda)
        return floor is not None and cc_key(cc) >= cc_key(floor)

    def runtime_compatible(self, built: str, loaded: str) -> bool:
        """May a framework built against cuDNN `built` use the `loaded` one (both dotted)?"""
        b, lo = parse_dotted(built), parse_dotted(loaded)
        # "same-major-newer-minor", the only rule in RULES: equal major, minor not older.
        return lo[0] == b[0] and (lo[1:2] or (0,)) >= (b[1:2] or (0,))

    def cuda_versions(self) -> set[str]:
        return {c for r in self.releases for c in r.cuda}


def load_cudnn() -> CudnnTable:
    doc = load_toml(FILE)
    compat = doc.get("compat")
    if not isinstance(compat, dict):
        raise KnowledgeBaseError(f"{FILE}: missing [compat]")
    where = f"{FILE}: compat"
    no_unknown_keys(compat, {"rule", "source"}, where)
    rule = req_str(compat, "rule", where)
    if rule not in RULES:
        raise KnowledgeBaseError(f"{where}: rule {rule!r} is not one of {', '.join(sorted(RULES))}")
    releases = []
    for i, row in enumerate(rows(doc, "release", FILE)):
        where = f"{FILE}: release[{i}]"
        no_unknown_keys(row, {"cudnn", "through", "cuda", "min-cc", "source"}, where)
        first = req_version(row, "cudnn", where, parts=2)
        last = opt_version(row, "through", where, parts=2) or first
        if parse_dotted(last) < parse_dotted(first):
            raise KnowledgeBaseError(f"{where}: through {last} is older than cudnn {first}")
        cuda = str_list(row, "cuda", where)
        if not cuda or not all(is_dotted(c) and len(parse_dotted(c)) <= 2 for c in cuda):
            raise KnowledgeBaseError(f"{where}: cuda must list 'X.Y' or 'X' versions, got {cuda!r}")
        releases.append(
            CudnnRelease(
                first=first,
                last=last,
                cuda=tuple(cuda),
                min_cc=req_cc(row, "min-cc", where),
                source=req_str(row, "source", where),
            )
        )
    return CudnnTable(rule, req_str(compat, "source", f"{FILE}: compat"), tuple(releases))
