"""Typed view of `remedies.toml`: ways out of a no-solution, as templates ranked by effort."""

from __future__ import annotations

from dataclasses import dataclass

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.rows import no_unknown_keys, req_int, req_str, rows

FILE = "remedies.toml"


@dataclass(frozen=True)
class Remedy:
    code: str
    effort: int
    text: str
    source: str


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
    out = {}
    for i, row in enumerate(rows(load_toml(FILE), "remedy", FILE)):
        where = f"{FILE}: remedy[{i}]"
        no_unknown_keys(row, {"code", "effort", "text", "source"}, where)
        code = req_str(row, "code", where)
        out[code] = Remedy(
            code,
            req_int(row, "effort", where),
            req_str(row, "text", where),
            req_str(row, "source", where),
        )
    return RemedyTable(out)
