"""Typed view of `gpus.toml`: a GPU's compute capability from the name NVML or nvidia-smi prints.

Detection prefers the number the driver reports; this table is the fallback for old drivers
(`Field "compute_cap" is not a valid field to query`, kb-platform.md §1.3) and for profile files
that carry only a model name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.cuda_arch import req_cc
from envgen.kb.rows import no_unknown_keys, req_str, rows, str_list

FILE = "gpus.toml"

# A pattern must end where the model number ends: "a10" must not claim "a100".
_WORD_END = r"(?![a-z0-9])"


@dataclass(frozen=True)
class GpuModel:
    """One family of boards sharing a compute capability."""

    cc: str
    pattern: str
    architecture: str
    examples: tuple[str, ...]
    source: str
    regex: re.Pattern[str]


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
    doc = load_toml(FILE)
    norm = doc.get("normalise")
    if not isinstance(norm, dict):
        raise KnowledgeBaseError(f"{FILE}: missing [normalise]")
    where = f"{FILE}: normalise"
    no_unknown_keys(norm, {"remove", "source"}, where)
    req_str(norm, "source", where)
    remove = []
    for j, text in enumerate(str_list(norm, "remove", where)):
        try:
            remove.append(re.compile(text))
        except re.error as exc:
            raise KnowledgeBaseError(f"{where}: remove[{j}] {text!r}: {exc}") from exc
    models = []
    for i, row in enumerate(rows(doc, "gpu", FILE)):
        where = f"{FILE}: gpu[{i}]"
        no_unknown_keys(row, {"cc", "pattern", "architecture", "examples", "source"}, where)
        pattern = req_str(row, "pattern", where)
        try:
            regex = re.compile(f"(?:{pattern}){_WORD_END}")
        except re.error as exc:
            raise KnowledgeBaseError(f"{where}: pattern {pattern!r}: {exc}") from exc
        examples = str_list(row, "examples", where)
        if not examples:
            raise KnowledgeBaseError(f"{where}: examples must name at least one real GPU name")
        models.append(
            GpuModel(
                cc=req_cc(row, "cc", where),
                pattern=pattern,
                architecture=req_str(row, "architecture", where),
                examples=tuple(examples),
                source=req_str(row, "source", where),
                regex=regex,
            )
        )
    return GpuTable(tuple(remove), tuple(models))
