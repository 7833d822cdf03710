"""Typed view of `remedies.toml`: ways out of a no-solution, as templates ranked by effort."""

from __future__ import annotations

from dataclasses import dataclass, field

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.fields import Kebab, Template, key
from envgen.kb.rows import DataFile, Table

FILE = "remedies.toml"


@dataclass(frozen=True)
class Remedy:
    code: str = field(metadata=key(Kebab(), unique=True))
    effort: int = field(metadata=key(doc="lower is cheaper: remedies are offered cheapest first"))
    text: str = field(metadata=key(Template()))
    source: str = field(metadata=key())


SCHEMA = DataFile(
    FILE,
    "Ways out of a no-solution, as templates ranked by effort",
    (Table("remedy", Remedy, label="code"),),
)


@dataclass(frozen=True)
class RemedyTable:
    remedies: dict[str, Remedy]

    def render(self, code: str, **fields: str) -> str:
        """The remedy text with this case's numbers filled in."""
        remedy = self.remedies.get(code)
        if remedy is None:
            raise KnowledgeBaseError(f"{FILE}: no remedy {code!r}")
        try:
            return remedy.text.format(**fields)
        except KeyError as exc:
            raise KnowledgeBaseError(f"{FILE}: remedy {code!r} needs field {exc}") from exc

    def effort(self, code: str) -> int:
        return self.remedies[code].effort


def load_remedies() -> RemedyTable:
    return RemedyTable({r.code: r for r in SCHEMA.open(load_toml(FILE)).rows(Remedy)})
