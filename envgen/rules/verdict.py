"""The rule book's answer: a `Verdict` (a code keying its wording and the fields that fill it).

Every check of `envgen.rules` returns one; the resolver, doctor and verify read nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envgen.kb import KnowledgeBase

# Verdict levels: `pass` (fits), `note` (fits, with something worth saying), `fail` (does not fit).
PASS, NOTE, FAIL = "pass", "note", "fail"


@dataclass(frozen=True)
class Verdict:
    """One judgement: `code` keys its wording, `fields` fill it, `level` says whether it fits."""

    code: str
    level: str = PASS
    fields: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.level != FAIL

    def get(self, name: str, default: str = "") -> str:
        return dict(self.fields).get(name, default)

    def as_dict(self) -> dict[str, str]:
        return dict(self.fields)

    def text(self, kb: KnowledgeBase) -> str:
        return kb.wording.render(self.code, **self.as_dict())


def verdict(code: str, level: str = PASS, **fields: object) -> Verdict:
    return Verdict(code, level, tuple((k, str(v)) for k, v in fields.items()))


def fields_of(*verdicts: Verdict, **extra: str) -> Mapping[str, str]:
    """The fields of several verdicts merged (later ones win), plus `extra`."""
    out: dict[str, str] = {}
    for v in verdicts:
        out.update(v.fields)
    out.update(extra)
    return out
