"""Typed view of `wording.toml`: the text of each rule-book verdict and resolver pin, as templates.

Every message the resolver, doctor and verify build from a verdict comes from here, filled from the
verdict's fields, so no version boundary is written into code (envgen/rules.py).
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.rows import no_unknown_keys, req_str, rows

FILE = "wording.toml"


@dataclass(frozen=True)
class Wording:
    texts: dict[str, str]
    sources: dict[str, str]

    def render(self, code: str, **fields: str) -> str:
        """The text of `code` with this case's fields filled in."""
        text = self.texts.get(code)
        if text is None:
            raise KnowledgeBaseError(f"{FILE}: no text {code!r}")
        try:
            return text.format(**fields)
        except (KeyError, IndexError) as exc:
            raise KnowledgeBaseError(f"{FILE}: text {code!r} needs field {exc}") from exc

    def fields(self, code: str) -> set[str]:
        """The `{name}` fields the text of `code` uses."""
        return {f for _, f, _, _ in string.Formatter().parse(self.texts[code]) if f}


def load_wording() -> Wording:
    texts: dict[str, str] = {}
    sources: dict[str, str] = {}
    codes = []
    for i, row in enumerate(rows(load_toml(FILE), "text", FILE)):
        where = f"{FILE}: text[{i}]"
        no_unknown_keys(row, {"code", "text", "source"}, where)
        code = req_str(row, "code", where)
        if code in texts:
            raise KnowledgeBaseError(f"{where}: code {code!r} repeats")
        codes.append(code)
        texts[code] = req_str(row, "text", where)
        sources[code] = req_str(row, "source", where)
    if codes != sorted(codes):
        raise KnowledgeBaseError(f"{FILE}: rows must be sorted by code")
    return Wording(texts, sources)
