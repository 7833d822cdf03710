"""Typed view of `wording.toml`: the text of each rule-book verdict and resolver pin, as templates.

Every message the resolver, doctor and verify build from a verdict comes from here, filled from the
verdict's fields, so no version boundary is written into code (envgen/rules/).
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.fields import Template, key
from envgen.kb.rows import DataFile, Table

FILE = "wording.toml"


@dataclass(frozen=True)
class Text:
    code: str = field(metadata=key(unique=True))
    text: str = field(metadata=key(Template()))
    source: str = field(metadata=key())


SCHEMA = DataFile(
    FILE,
    "The text of each rule-book verdict and resolver pin, as templates",
    (Table("text", Text, label="code"),),
)


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
    texts = SCHEMA.open(load_toml(FILE)).rows(Text)
    codes = [t.code for t in texts]
    if codes != sorted(codes):
        raise KnowledgeBaseError(f"{FILE}: rows must be sorted by code")
    return Wording({t.code: t.text for t in texts}, {t.code: t.source for t in texts})
