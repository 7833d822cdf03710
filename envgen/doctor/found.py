"""What a doctor lookup returns (`Found`): the fields it derived and the case's fields each rests
on, so a finding can say where its numbers came from (`lookups.py`, `no_avx.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

Fields = Mapping[str, str]


@dataclass(frozen=True)
class Found:
    """What a lookup derived (`gives`), the case's fields every value rests on (`used`), and
    those only some values rest on (`also`: give -> fields)."""

    gives: dict[str, str]
    used: tuple[str, ...] = ()
    also: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def inputs(self, name: str) -> tuple[str, ...]:
        """The case's fields the value of `name` rests on."""
        return self.used + self.also.get(name, ())


NOTHING = Found({})
