"""Typed view of `tensorflow-distributions.toml`: which PyPI distributions are TensorFlow.

`envgen kb update` reads it to know which projects to query (shim targets, alternates, the CPU
twin); doctor and verify read it to recognise an installed or locked TensorFlow under any of its
names, and to tell TensorFlow from its tensorflow-* add-ons.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.fields import Ascending, NonEmpty, key, one_of
from envgen.kb.lock_platforms import kb_platforms
from envgen.kb.rows import DataFile, Table

FILE = "tensorflow-distributions.toml"

ROLES = ("main", "cpu-twin", "gpu-package", "shim-target")


@dataclass(frozen=True)
class Distribution:
    """A distribution that provides `import tensorflow`."""

    name: str = field(metadata=key(unique=True))
    role: str = field(metadata=key(one_of(ROLES)))
    alternate_for: tuple[str, ...] = field(metadata=key(one_of(kb_platforms), default=()))
    source: str = field(metadata=key())


@dataclass(frozen=True)
class Satellites:
    """tensorflow-* distributions that are add-ons, not TensorFlow."""

    names: tuple[str, ...] = field(metadata=key(Ascending(), NonEmpty()))
    source: str = field(metadata=key())


SCHEMA = DataFile(
    FILE,
    "The PyPI distributions that install TensorFlow, and tensorflow-* add-ons that do not",
    (Table("distribution", Distribution, label="name"), Table("satellite", Satellites)),
)


@dataclass(frozen=True)
class DistributionTable:
    distributions: tuple[Distribution, ...]
    satellites: frozenset[str]

    @property
    def names(self) -> tuple[str, ...]:
        """Every distribution that provides `import tensorflow`, in preference order."""
        return tuple(d.name for d in self.distributions)

    def with_role(self, role: str) -> tuple[str, ...]:
        return tuple(d.name for d in self.distributions if d.role == role)

    def only(self, role: str) -> str:
        """The one distribution of `role` (`main`, `cpu-twin`, `gpu-package`)."""
        (name,) = self.with_role(role)
        return name

    @property
    def alternates(self) -> Mapping[str, str]:
        """Platform -> the distribution users installed there where `tensorflow` had no wheel."""
        return {p: d.name for d in self.distributions for p in d.alternate_for}


@functools.cache
def load_distributions() -> DistributionTable:
    rows = SCHEMA.open(load_toml(FILE))
    distributions = rows.rows(Distribution)
    for role in ("main", "cpu-twin", "gpu-package"):
        if len([d for d in distributions if d.role == role]) != 1:
            raise KnowledgeBaseError(f"{FILE}: exactly one distribution with role {role!r}")
    satellites = frozenset(n for row in rows.rows(Satellites) for n in row.names)
    clash = sorted(satellites & {d.name for d in distributions})
    if clash:
        raise KnowledgeBaseError(f"{FILE}: {clash[0]!r} is both a distribution and a satellite")
    return DistributionTable(distributions, satellites)
