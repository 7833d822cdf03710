"""Typed view of `gpus.toml`: a GPU's compute capability from the name NVML or nvidia-smi prints.

Detection prefers the number the driver reports; this table is the fallback for old drivers
(`Field "compute_cap" is not a valid field to query`, kb-platform.md §1.3) and for profile files
that carry only a model name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from envgen.kb import load_toml
from envgen.kb.cuda_arch import CC
from envgen.kb.fields import NonEmpty, Pattern, key
from envgen.kb.rows import DataFile, Table
from envgen.versions import DottedVersion

FILE = "gpus.toml"

# A pattern must end where the model number ends: "a10" must not claim "a100".
_WORD_END = r"(?![a-z0-9])"
_WRAP = "(?:{})" + _WORD_END


@dataclass(frozen=True)
class Normalise:
    """`[normalise]`: what is cut from a reported name before the patterns are matched."""

    remove: tuple[str, ...] = field(metadata=key(Pattern()))
    source: str = field(metadata=key())


@dataclass(frozen=True)
class GpuModel:
    """One family of boards sharing a compute capability."""

    cc: DottedVersion = field(metadata=key(CC))
    pattern: str = field(metadata=key(Pattern(_WRAP)))
    architecture: str = field(metadata=key())
    examples: tuple[str, ...] = field(
        metadata=key(NonEmpty(), doc="real names of GPUs of this row (tested)")
    )
    source: str = field(metadata=key())
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(_WRAP.format(self.pattern)))


SCHEMA = DataFile(
    FILE,
    "A GPU's compute capability from the name NVML or nvidia-smi prints",
    (Table("normalise", Normalise, many=False), Table("gpu", GpuModel, label="pattern")),
)


@dataclass(frozen=True)
class GpuTable:
    remove: tuple[re.Pattern[str], ...]
    models: tuple[GpuModel, ...]

    def normalise(self, name: str) -> str:
        """`"NVIDIA GeForce RTX 3090"` -> `"geforce rtx 3090"`: the text patterns are matched on."""
        text = " ".join(name.lower().split())
        for rx in self.remove:
            text = " ".join(rx.sub(" ", text).split())
        return text

    def model(self, name: str) -> GpuModel | None:
        """The row that claims `name`: the longest match at the start wins; None if none matches."""
        text = self.normalise(name)
        best: tuple[int, GpuModel] | None = None
        for m in self.models:
            hit = m.regex.match(text)
            if hit and (best is None or hit.end() > best[0]):
                best = (hit.end(), m)
        return None if best is None else best[1]

    def compute_capability(self, name: str) -> str | None:
        """`"NVIDIA H100 80GB HBM3"` -> `"9.0"`; None for a name the table does not know."""
        found = self.model(name)
        return None if found is None else found.cc


def load_gpus() -> GpuTable:
    rows = SCHEMA.open(load_toml(FILE))
    remove = tuple(re.compile(text) for text in rows.one(Normalise).remove)
    return GpuTable(remove, rows.rows(GpuModel))
