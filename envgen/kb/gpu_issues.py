"""Typed view of `tensorflow-gpu-issues.toml`: GPUs the official wheels fail on despite the rules."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.rows import no_unknown_keys, req_str, rows

FILE = "tensorflow-gpu-issues.toml"


@dataclass(frozen=True)
class GpuIssue:
    compute_capability: str
    tensorflow: SpecifierSet
    verdict: str
    reason: str
    source: str


@dataclass(frozen=True)
class GpuIssueTable:
    issues: tuple[GpuIssue, ...]

    def find(self, cc: str, tensorflow: Version) -> GpuIssue | None:
        """The known problem of TF `tensorflow` on compute capability `cc`, if any."""
        return next(
            (i for i in self.issues if i.compute_capability == cc and tensorflow in i.tensorflow),
            None,
        )


def load_gpu_issues() -> GpuIssueTable:
    out = []
    for i, row in enumerate(rows(load_toml(FILE), "issue", FILE)):
        where = f"{FILE}: issue[{i}]"
        no_unknown_keys(
            row, {"compute-capability", "tensorflow", "verdict", "reason", "source"}, where
        )
        try:
            spec = SpecifierSet(req_str(row, "tensorflow", where))
        except InvalidSpecifier as exc:
            raise KnowledgeBaseError(f"{where}: tensorflow: {exc}") from exc
        out.append(
            GpuIssue(
                compute_capability=req_str(row, "compute-capability", where),
                tensorflow=spec,
                verdict=req_str(row, "verdict", where),
                reason=req_str(row, "reason", where),
                source=req_str(row, "source", where),
            )
        )
    return GpuIssueTable(tuple(out))
