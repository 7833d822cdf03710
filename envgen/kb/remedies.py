"""Typed view of `remedies.toml`: ways out of a no-solution, as templates ranked by effort.

A remedy is worded for the Keras backends its row names (`backends`, every one by default): a
way out that only TensorFlow has (a source build, Keras 2) is not offered for JAX or PyTorch,
and one code may have a row per framework where the advice differs (WSL2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.fields import Kebab, NonEmpty, Template, key, one_of
from envgen.kb.keras_backends import KERAS_BACKENDS
from envgen.kb.rows import DataFile, Table

FILE = "remedies.toml"


@dataclass(frozen=True)
class Remedy:
    code: str = field(metadata=key(Kebab()))
    effort: int = field(metadata=key(doc="lower is cheaper: remedies are offered cheapest first"))
    text: str = field(metadata=key(Template()))
    backends: tuple[str, ...] = field(
        metadata=key(one_of(KERAS_BACKENDS), NonEmpty(), default=KERAS_BACKENDS)
    )
    """The Keras backends this wording applies to."""
    source: str = field(metadata=key())


SCHEMA = DataFile(
    FILE,
    "Ways out of a no-solution, as templates ranked by effort",
    (Table("remedy", Remedy, label="code"),),
)


@dataclass(frozen=True)
class RemedyTable:
    remedies: dict[tuple[str, str], Remedy]
    """(code, backend) -> its row."""

    def find(self, code: str, backend: str = "tensorflow") -> Remedy | None:
        return self.remedies.get((code, backend))

    def render(self, code: str, backend: str = "tensorflow", /, **fields: str) -> str:
        """The remedy text with this case's numbers filled in."""
        remedy = self.find(code, backend)
        if remedy is None:
            raise KnowledgeBaseError(f"{FILE}: no remedy {code!r} for {backend}")
        try:
            return remedy.text.format(**fields)
        except KeyError as exc:
            raise KnowledgeBaseError(f"{FILE}: remedy {code!r} needs field {exc}") from exc

    def effort(self, code: str, backend: str = "tensorflow") -> int:
        remedy = self.find(code, backend)
        if remedy is None:
            raise KnowledgeBaseError(f"{FILE}: no remedy {code!r} for {backend}")
        return remedy.effort


def load_remedies() -> RemedyTable:
    table: dict[tuple[str, str], Remedy] = {}
    for i, remedy in enumerate(SCHEMA.open(load_toml(FILE)).rows(Remedy)):
        for backend in remedy.backends:
            if (remedy.code, backend) in table:
                raise KnowledgeBaseError(
                    f"{FILE}: remedy[{i}].code: {remedy.code!r} twice for {backend}"
                )
            table[(remedy.code, backend)] = remedy
    return RemedyTable(table)
