"""Typed view of `families.toml`: where a TensorFlow build comes from (PyPI's official wheels,
conda-forge's own builds, community wheels), which of them a user must opt into, and which are
third-party, so that every pin of a plan can say which family it comes from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.fields import Kebab, Prefix, RowError, key
from envgen.kb.rows import DataFile, Table
from envgen.versions import DottedVersion

if TYPE_CHECKING:
    from envgen.kb import KnowledgeBase

FILE = "families.toml"

PYPI = "pypi"
"""The family of every pin a plan makes from PyPI (the default, also of Keras, numpy, CUDA wheels)."""
CONDA_FORGE = "conda-forge"
COMMUNITY = "community"


@dataclass(frozen=True)
class Family:
    id: str = field(metadata=key(Kebab(), unique=True))
    title: str = field(metadata=key())
    url: str = field(metadata=key(Prefix("https://")))
    channel: str | None = field(metadata=key(doc="the conda channel (conda.toml) it comes from"))
    opt_in: bool = field(metadata=key(default=False))
    option: str | None = field(metadata=key(Prefix("--"), doc="how a user opts in"))
    third_party: bool = field(metadata=key(default=False))
    source: str = field(metadata=key())

    def check_row(self) -> None:
        if self.opt_in and self.option is None:
            raise RowError("option", "required where opt-in is true: how does a user opt in?")


SCHEMA = DataFile(
    FILE,
    "Where a TensorFlow build comes from, and which families are opt-in or third-party",
    (Table("family", Family, label="id"),),
)


@dataclass(frozen=True)
class FamilyTable:
    families: tuple[Family, ...]

    def get(self, family: str) -> Family:
        found = next((f for f in self.families if f.id == family), None)
        if found is None:
            raise KnowledgeBaseError(f"{FILE}: no family {family!r}")
        return found

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.families)


def load_families() -> FamilyTable:
    table = FamilyTable(SCHEMA.open(load_toml(FILE)).rows(Family))
    # The code names these three; a data file without them is envgen's own defect.
    missing = [f for f in (PYPI, CONDA_FORGE, COMMUNITY) if f not in table.ids]
    if missing:
        raise KnowledgeBaseError(f"{FILE}: missing family {missing[0]!r}")
    return table


def family_ids() -> tuple[str, ...]:
    """Every family id (what a pin's `family` may be)."""
    return load_families().ids


def check_families(kb: KnowledgeBase) -> None:
    """What spans the families' tables and the others (`envgen kb check`): every CUDA a build
    names has NVIDIA's driver minimum and a conda spelling, every CPU feature is one
    cpu-levels.toml knows, a build's lowest compute capability is its floor. A
    `KnowledgeBaseError` names the row."""
    from envgen.versions import major_minor

    def fail(file: str, row: str, why: str) -> None:
        raise KnowledgeBaseError(f"{file}: {row}: {why}")

    flags = kb.cpu.relevant
    for i, build in enumerate(kb.conda_forge.builds):
        for j, v in enumerate(build.variants):
            row = f"build[{i}].variant[{j}] ({build.version} {v.tag} {v.platform})"
            unknown = sorted(set(v.cpu_features) - flags)
            if unknown:
                fail("conda-forge-tensorflow.toml", row, f"unknown CPU feature {unknown[0]!r}")
            if v.cuda is None:
                continue
            if kb.drivers.toolkit_minimum(v.cuda, "linux") is None:
                fail("conda-forge-tensorflow.toml", row, f"CUDA {v.cuda} has no driver row")
            if kb.conda.specs_for(v.cuda) is None:
                fail("conda-forge-tensorflow.toml", row, f"CUDA {v.cuda} has no conda spec")
            if v.min_compute_capability != min((*v.sass, *v.ptx), key=DottedVersion):
                fail("conda-forge-tensorflow.toml", row, "min-compute-capability is not the lowest")
    for i, w in enumerate(kb.community.wheels):
        row = f"wheel[{i}] ({w.folder})"
        unknown = sorted(set(w.cpu_features) - flags)
        if unknown:
            fail("community-builds.toml", row, f"unknown CPU feature {unknown[0]!r}")
        if (
            w.cuda is not None
            and kb.drivers.toolkit_minimum(major_minor(w.cuda), "windows") is None
        ):
            fail("community-builds.toml", row, f"CUDA {w.cuda} has no Windows driver row")
        if w.gpu and w.min_compute_capability != min((*w.sass, *w.ptx), key=DottedVersion):
            fail("community-builds.toml", row, "min-compute-capability is not the lowest")
