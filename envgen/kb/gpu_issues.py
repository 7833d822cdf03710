"""Typed view of `tensorflow-gpu-issues.toml`: GPUs the official wheels fail on despite the rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envgen.kb import load_toml
from envgen.kb.cuda_arch import CC
from envgen.kb.fields import key
from envgen.kb.rows import DataFile, Table
from envgen.versions import DottedVersion

FILE = "tensorflow-gpu-issues.toml"


@dataclass(frozen=True)
class GpuIssue:
    compute_capability: DottedVersion = field(metadata=key(CC))
    tensorflow: SpecifierSet = field(metadata=key(doc="the TensorFlow releases that fail"))
    verdict: str = field(metadata=key())
    reason: str = field(metadata=key())
    source: str = field(metadata=key())


SCHEMA = DataFile(
    FILE,
    "GPUs the official TensorFlow wheels fail on despite the SASS/PTX rules",
    (Table("issue", GpuIssue, label="compute-capability"),),
)


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
    return GpuIssueTable(SCHEMA.open(load_toml(FILE)).rows(GpuIssue))
