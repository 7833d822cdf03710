"""Typed view of `keras.toml`: each standalone Keras line and the TensorFlow it works with.

`KerasTable.releases(asked)` answers `--keras 2.3` / `--keras 2.2.4` (every release of that line,
with the line that says which TensorFlow it works with); `KerasTable.pair(minor)` answers
`--keras 2` beside a TensorFlow that declares no Keras of its own (TF <= 2.4). The judgement
(does this line fit this TensorFlow and this Python?) is the rule book's (`envgen.rules.keras_*`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from envgen.kb import load_toml
from envgen.kb.fields import Ascending, NonEmpty, RowError, key, one_of, parts
from envgen.kb.rows import DataFile, Table
from envgen.versions import DottedVersion

FILE = "keras.toml"

PACKAGES = ("keras", "keras-nightly", "tf-keras")
KINDS = ("multi-backend", "tf-redirect", "tf-dependency", "tf-keras", "keras3")


@dataclass(frozen=True)
class KerasLine:
    """Releases of one Keras line that work with the same TensorFlow."""

    package: str = field(metadata=key(one_of(PACKAGES)))
    versions: tuple[Version, ...] = field(metadata=key(Ascending(), NonEmpty()))
    kind: str = field(metadata=key(one_of(KINDS)))
    tensorflow: SpecifierSet = field(metadata=key(doc="the TensorFlow releases it works with"))
    requires_python: SpecifierSet | None = field(
        metadata=key(doc="Requires-Python of the wheels, where declared")
    )
    basis: str = field(metadata=key(doc="how the TensorFlow range is known"))
    source: str = field(metadata=key())

    def check_row(self) -> None:
        if any(v.is_prerelease for v in self.versions if self.package != "keras-nightly"):
            raise RowError("versions", "pre-releases are not listed (keras-nightly aside)")

    def fits(self, tensorflow: Version) -> bool:
        """Whether TensorFlow `tensorflow` (a final release) is in the line's range."""
        return self.tensorflow.contains(tensorflow, prereleases=True)

    def fits_python(self, python: str) -> bool:
        return self.requires_python is None or f"{python}.0" in self.requires_python

    @property
    def label(self) -> str:
        """ "keras 2.3.0-2.3.1", "tf-keras 2.16.0": for messages and errors."""
        first, last = self.versions[0], self.versions[-1]
        span = str(first) if first == last else f"{first}-{last}"
        return f"{self.package} {span}"


@dataclass(frozen=True)
class KerasPair:
    """The standalone Keras `--keras 2` pins beside TensorFlow minors without Keras of their own."""

    tensorflow: tuple[DottedVersion, ...] = field(
        metadata=key(parts(2), Ascending(), NonEmpty(), doc="TensorFlow minors (X.Y)")
    )
    keras: Version = field(metadata=key(doc="the keras release to pin"))
    basis: str = field(metadata=key())
    source: str = field(metadata=key())


SCHEMA = DataFile(
    FILE,
    "Standalone Keras lines and the TensorFlow each works with; what --keras 2 pins for TF <= 2.4",
    (Table("line", KerasLine, label="versions"), Table("pair", KerasPair, label="tensorflow")),
)


@dataclass(frozen=True)
class KerasTable:
    lines: tuple[KerasLine, ...]
    pairs: tuple[KerasPair, ...]

    def pair(self, minor: str) -> KerasPair | None:
        """The `--keras 2` pin beside TensorFlow minor "X.Y", where the data names one."""
        return next((p for p in self.pairs if minor in p.tensorflow), None)

    def line_of(self, package: str, version: Version) -> KerasLine | None:
        """The line holding release `version` of `package`."""
        return next(
            (ln for ln in self.lines if ln.package == package and version in ln.versions), None
        )

    def releases(self, asked: str) -> tuple[tuple[Version, KerasLine], ...]:
        """Every release `--keras <asked>` names ("2.3" -> 2.3.0, 2.3.1; "2.2.4" -> 2.2.4),
        oldest first, each with its line. `keras` releases are looked for first; a minor only
        tf-keras has ("2.16": Keras 2 for TensorFlow 2.16) names the tf-keras release."""
        try:
            wanted = Version(asked).release
        except InvalidVersion:
            return ()
        for package in ("keras", "keras-nightly", "tf-keras"):
            found = [
                (v, ln)
                for ln in self.lines
                if ln.package == package
                for v in ln.versions
                if v.release[: len(wanted)] == wanted
            ]
            if found:
                return tuple(sorted(found, key=lambda f: f[0]))
        return ()


@functools.cache
def load_keras() -> KerasTable:
    rows = SCHEMA.open(load_toml(FILE))
    return KerasTable(rows.rows(KerasLine), rows.rows(KerasPair))
