"""How a knowledge-base row declares its TOML keys: dataclass fields with `key(...)` metadata.

A row is a frozen dataclass. Each field's type hint says what the TOML value becomes (`str`,
`int`, `bool`, `DottedVersion`, `SpecifierSet`, `Requirement`, `Version`, a tuple of those, a
nested row for an inline table; `X | None` when the key may be left out), and `key(...)` adds the
TOML name where it is not the field name in kebab case, a default, whether a tuple's TOML value
may also be one item (`one_or_many`: a template or a list of its variants), and the checks below:

    cuda: DottedVersion = field(metadata=key(parts(2)))

The one reader (`envgen.kb.rows`) and the JSON Schema writer (`envgen.kb.schema`) both work from
these declarations, so what the loader enforces and what an editor validates cannot drift apart.

Each check answers `problem(value)` (None when the value is fine, else the words after
`file: table[i].key:`) and describes itself as a JSON Schema fragment.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from envgen.versions import DottedVersion

# Kebab-case, as every key and code in the knowledge base.
KEBAB = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Snake-case, as template fields are: they are regex group names, and Python allows no "-" there.
SNAKE = re.compile(r"[a-z][a-z0-9_]*")


class Check:
    """One rule about a value; `per_item` checks apply to each element of a list."""

    per_item = True

    def problem(self, value: Any) -> str | None:
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class Parts(Check):
    """A dotted version with exactly one of these numbers of parts ("X.Y" is 2)."""

    counts: tuple[int, ...]

    def problem(self, value: Any) -> str | None:
        if len(DottedVersion(value).parts) in self.counts:
            return None
        return f"must be {self.shape()}, got {str(value)!r}"

    def shape(self) -> str:
        names = {1: "'X'", 2: "'X.Y'", 3: "'X.Y.Z'"}
        return " or ".join(names.get(n, f"{n} dotted integers") for n in self.counts)

    def schema(self) -> dict[str, Any]:
        alternatives = "|".join(r"[0-9]+" + r"\.[0-9]+" * (n - 1) for n in self.counts)
        return {"pattern": f"^(?:{alternatives})$"}


def parts(*counts: int) -> Parts:
    return Parts(counts)


@dataclass(frozen=True)
class OneOf(Check):
    """One of a fixed set; `choices` may be a callable (values from another table)."""

    choices: tuple[str, ...] | Callable[[], Iterable[str]]

    def values(self) -> tuple[str, ...]:
        return tuple(self.choices() if callable(self.choices) else self.choices)

    def problem(self, value: Any) -> str | None:
        allowed = self.values()
        if value in allowed:
            return None
        return f"must be one of {', '.join(allowed)}, got {value!r}"

    def schema(self) -> dict[str, Any]:
        return {"enum": list(self.values())}


def one_of(choices: tuple[str, ...] | Callable[[], Iterable[str]]) -> OneOf:
    return OneOf(choices)


@dataclass(frozen=True)
class Prefix(Check):
    """Text that starts with `prefix` (`https://`, `nvidia/cuda:`)."""

    prefix: str

    def problem(self, value: Any) -> str | None:
        return (
            None if value.startswith(self.prefix) else f"must start {self.prefix!r}, got {value!r}"
        )

    def schema(self) -> dict[str, Any]:
        return {"pattern": "^" + re.escape(self.prefix)}


@dataclass(frozen=True)
class Contains(Check):
    """Text that contains `part` (a template's `{python}` field)."""

    part: str

    def problem(self, value: Any) -> str | None:
        return None if self.part in value else f"must contain {self.part}, got {value!r}"

    def schema(self) -> dict[str, Any]:
        return {"pattern": re.escape(self.part)}


@dataclass(frozen=True)
class Kebab(Check):
    def problem(self, value: Any) -> str | None:
        return None if KEBAB.fullmatch(value) else f"must be kebab-case, got {value!r}"

    def schema(self) -> dict[str, Any]:
        return {"pattern": f"^{KEBAB.pattern}$"}


@dataclass(frozen=True)
class Snake(Check):
    """A template field name (a regex group name)."""

    def problem(self, value: Any) -> str | None:
        return None if SNAKE.fullmatch(value) else f"must be a snake_case name, got {value!r}"

    def schema(self) -> dict[str, Any]:
        return {"pattern": f"^{SNAKE.pattern}$"}


@dataclass(frozen=True)
class Pattern(Check):
    """A Python regular expression that compiles (inside `wrap`, with `flags`)."""

    wrap: str = "{}"
    flags: int = 0

    def problem(self, value: Any) -> str | None:
        try:
            re.compile(self.wrap.replace("{}", value), self.flags)
        except re.error as exc:
            return f"does not compile: {exc}: {value!r}"
        return None

    def schema(self) -> dict[str, Any]:
        return {"format": "regex"}


@dataclass(frozen=True)
class Template(Check):
    """A `str.format` template whose `{fields}` parse."""

    def problem(self, value: Any) -> str | None:
        try:
            list(string.Formatter().parse(value))
        except ValueError as exc:
            return f"not a valid template: {exc}"
        return None


@dataclass(frozen=True)
class Parses(Check):
    """Text that `kind(text)` accepts: a PEP 508 requirement or a PEP 440 specifier kept as text."""

    kind: Callable[[str], object]
    what: str

    def problem(self, value: Any) -> str | None:
        try:
            self.kind(value)
        except ValueError:  # InvalidRequirement and InvalidSpecifier are ValueErrors
            return f"invalid {self.what} {value!r}"
        return None


@dataclass(frozen=True)
class Ascending(Check):
    """A list in ascending order (by its items' own order) without repeats."""

    per_item = False

    def problem(self, value: Any) -> str | None:
        items = list(value)
        if all(a < b for a, b in itertools.pairwise(items)):
            return None
        return "must be sorted ascending without repeats"

    def schema(self) -> dict[str, Any]:
        return {"uniqueItems": True}


@dataclass(frozen=True)
class NonEmpty(Check):
    per_item = False

    def problem(self, value: Any) -> str | None:
        return None if value else "must not be empty"

    def schema(self) -> dict[str, Any]:
        return {"minItems": 1}


@dataclass(frozen=True)
class KeyPrefix(Check):
    """A table whose keys all start with `prefix` (conda virtual packages: `__glibc`)."""

    prefix: str
    per_item = False

    def problem(self, value: Any) -> str | None:
        bad = [name for name, _ in value if not name.startswith(self.prefix)]
        return f"key {bad[0]!r} must start with {self.prefix!r}" if bad else None

    def schema(self) -> dict[str, Any]:
        return {"propertyNames": {"pattern": "^" + re.escape(self.prefix)}}


NO_DEFAULT: Any = object()


@dataclass(frozen=True)
class Key:
    """The metadata `key(...)` attaches to a row field."""

    name: str | None = None
    checks: tuple[Check, ...] = ()
    default: Any = NO_DEFAULT
    unique: bool = False
    """No two rows of the table share this value (codes)."""
    one_or_many: bool = False
    """A tuple field whose TOML value is one item or a non-empty list of them (a template or its
    variants): one item reads as a one-item tuple."""
    family: str | None = None
    """A `Mapping[str, Row]` field read from the keys `<family><platform>` of the row."""
    family_keys: Callable[[], Iterable[str]] | None = None
    derived: bool = False
    """Not a TOML key: the loader module supplies it (a release's build row)."""
    doc: str = ""


def key(
    *checks: Check,
    name: str | None = None,
    default: Any = NO_DEFAULT,
    unique: bool = False,
    one_or_many: bool = False,
    doc: str = "",
) -> dict[str, Key]:
    """Field metadata (`field(metadata=key(...))`): a row field read from TOML key `name`
    (default: the field name in kebab case), with these checks."""
    return {
        "kb": Key(
            name=name,
            checks=checks,
            default=default,
            unique=unique,
            one_or_many=one_or_many,
            doc=doc,
        )
    }


def family(prefix: str, keys: Callable[[], Iterable[str]], *, doc: str = "") -> dict[str, Key]:
    """Field metadata for a mapping gathered from the keys `<prefix><k>` for each `k` of `keys()`."""
    return {"kb": Key(family=prefix, family_keys=keys, default={}, doc=doc)}


def derived() -> dict[str, Key]:
    """Field metadata for a value the loader module fills in (joined from another table or the
    key of a family), not read from TOML."""
    return {"kb": Key(derived=True)}


def declared(field: dataclasses.Field[Any]) -> Key:
    """The `Key` of a dataclass field (a plain field is a required key with no extra checks)."""
    found = field.metadata.get("kb")
    return found if isinstance(found, Key) else Key()


def toml_name(field: dataclasses.Field[Any]) -> str:
    return declared(field).name or field.name.replace("_", "-")


class RowError(ValueError):
    """A row-level rule (several keys together) failed; `key` is the key the error names."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message
