"""Typed view of `keras-backends.toml`: Keras 3's backends and the Python each Keras 3 line needs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.fields import Kebab, Parses, key, one_of
from envgen.kb.rows import DataFile, Table

FILE = "keras-backends.toml"

KERAS_BACKENDS = ("tensorflow", "jax", "torch")
"""`--keras-backend` choices (keras/src/backend/__init__.py names more: numpy, openvino)."""


@dataclass(frozen=True)
class KerasBackend:
    name: str = field(metadata=key(one_of(KERAS_BACKENDS), unique=True))
    title: str = field(metadata=key())
    package: str = field(metadata=key(Kebab()))
    short: str = field(metadata=key(Kebab()))
    minimum: Version = field(metadata=key(doc="the oldest framework release Keras 3 supports"))
    keras: str | None = field(metadata=key(Parses(Requirement, "requirement")))
    """The Keras requirement beside the framework; None for TensorFlow (its build row says)."""
    source: str = field(metadata=key())


@dataclass(frozen=True)
class KerasLine:
    since: Version = field(metadata=key(unique=True))
    requires_python: SpecifierSet = field(metadata=key())
    source: str = field(metadata=key())


SCHEMA = DataFile(
    FILE,
    "Keras 3's backends and the Python each Keras 3 line needs",
    (Table("backend", KerasBackend, label="name"), Table("keras", KerasLine, label="since")),
)


@dataclass(frozen=True)
class KerasBackendTable:
    backends: tuple[KerasBackend, ...]
    lines: tuple[KerasLine, ...]
    """Oldest first."""

    def get(self, name: str) -> KerasBackend:
        found = next((b for b in self.backends if b.name == name), None)
        if found is None:
            raise KnowledgeBaseError(f"{FILE}: no backend {name!r}")
        return found

    def newest_line(self, python: str) -> KerasLine | None:
        """The newest Keras 3 line with a release for CPython `python`; None below every floor."""
        version = Version(python)
        fitting = [line for line in self.lines if line.requires_python.contains(version)]
        return fitting[-1] if fitting else None

    @property
    def oldest_python(self) -> str:
        """The floor of the first Keras 3 release (the lowest any Keras 3 accepts)."""
        return ",".join(str(s) for s in self.lines[0].requires_python)


def load_keras_backends() -> KerasBackendTable:
    reader = SCHEMA.open(load_toml(FILE))
    backends = reader.rows(KerasBackend)
    lines = reader.rows(KerasLine)
    if {b.name for b in backends} != set(KERAS_BACKENDS):
        raise KnowledgeBaseError(f"{FILE}: [[backend]] must name exactly {KERAS_BACKENDS}")
    for i, (before, line) in enumerate(itertools.pairwise(lines), start=1):
        if line.since <= before.since:
            raise KnowledgeBaseError(f"{FILE}: keras[{i}].since: must be greater than the last")
    return KerasBackendTable(backends, lines)
