"""The one reader of knowledge-base files: `[[table]]` rows into the row dataclasses that declare them.

A data file is described once (`DataFile`: its tables, each a row class); `DataFile.open(doc)`
refuses unknown top-level tables, and `rows(Row)` / `one(Row)` read a table into typed rows.
Every row of every table must cite a `source`; unknown keys are refused; each value is converted
by its field's type hint and checked by the field's `key(...)` checks (`envgen.kb.fields`); a
`one_or_many` tuple also takes a single item. An error names the file, the row and the exact key,
as packaging's pylock reader does:

    tensorflow-builds.toml: build[12].cuda: must be 'X.Y', got '12' (minor '1.12')

Rules across rows (sorted by version, one table referring to another) stay explicit in the loader
modules and the invariant tests.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from envgen.errors import KnowledgeBaseError
from envgen.kb.fields import NO_DEFAULT, Key, RowError, declared, toml_name
from envgen.versions import DottedVersion

T = TypeVar("T")

# Text types the reader parses from a TOML string, and what their error calls them.
PARSED: dict[type, tuple[Callable[[str], Any], type[Exception], str]] = {
    DottedVersion: (DottedVersion, ValueError, "must be dotted integers"),
    SpecifierSet: (SpecifierSet, InvalidSpecifier, "invalid specifier"),
    Requirement: (Requirement, InvalidRequirement, "invalid requirement"),
    Version: (Version, InvalidVersion, "invalid version"),
}


class _Bad(Exception):
    """Internal: a problem at `path` inside one row; `Reader` adds the file and row label."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Table(Generic[T]):
    """One table of a data file: `[[name]]` rows (`many`) or a single `[name]` table."""

    name: str
    row: type[T]
    many: bool = True
    label: str | None = None
    """A key whose value errors show beside the row index (`code`, `minor`)."""
    exactly: int | None = None
    """A fixed number of rows, where the file must hold exactly that many."""


@dataclass(frozen=True)
class DataFile:
    """A packaged TOML file and the tables it holds, in file order."""

    name: str
    title: str
    tables: tuple[Table[Any], ...]

    def __post_init__(self) -> None:
        for table in self.tables:
            # Every row cites its source: a declaration without one is envgen's own bug.
            if "source" not in {f.name for f in dataclasses.fields(table.row)}:
                raise TypeError(f"{self.name}: {table.row.__name__} declares no source field")

    def open(self, doc: Mapping[str, Any]) -> Reader:
        """A reader over `doc` (the parsed file); unknown top-level tables are refused."""
        known = [t.name for t in self.tables]
        unknown = sorted(set(doc) - set(known))
        if unknown:
            raise KnowledgeBaseError(
                f"{self.name}: {unknown[0]}: unknown table (known: {', '.join(known)})"
            )
        return Reader(self, doc)


class Reader:
    """Typed rows of one parsed data file."""

    def __init__(self, file: DataFile, doc: Mapping[str, Any]) -> None:
        self.file = file
        self.doc = doc

    def _table(self, row: type[T], name: str | None = None) -> Table[T]:
        found = [t for t in self.file.tables if t.row is row and name in (None, t.name)]
        if len(found) != 1:
            raise TypeError(f"{self.file.name} declares {len(found)} tables of {row.__name__}")
        return found[0]

    def rows(self, row: type[T], **derive: Callable[[dict[str, Any]], Any]) -> tuple[T, ...]:
        """The rows of `row`'s `[[table]]`, in file order; `derive` fills `derived()` fields
        from the row's other values (and may raise `RowError`)."""
        table = self._table(row)
        raw = self.doc.get(table.name)
        if not isinstance(raw, list) or not raw:
            raise KnowledgeBaseError(f"{self.file.name}: missing or empty [[{table.name}]]")
        if table.exactly is not None and len(raw) != table.exactly:
            raise KnowledgeBaseError(
                f"{self.file.name}: exactly {table.exactly} [[{table.name}]] expected, "
                f"found {len(raw)}"
            )
        out = []
        seen: dict[str, set[Any]] = {}
        for i, item in enumerate(raw):
            where = f"{table.name}[{i}]"
            value = self._read(table, item, where, derive)
            self._unique(table, value, where, seen)
            out.append(value)
        return tuple(out)

    def one(self, row: type[T]) -> T:
        """The single `[table]` of `row`."""
        return self.table(self._table(row).name, row)

    def table(self, name: str, row: type[T]) -> T:
        """The single `[name]` table, read as `row`."""
        table = self._table(row, name)
        raw = self.doc.get(table.name)
        if not isinstance(raw, dict):
            raise KnowledgeBaseError(f"{self.file.name}: missing [{table.name}]")
        return self._read(table, raw, table.name, {})

    def _read(
        self,
        table: Table[T],
        item: Any,
        where: str,
        derive: Mapping[str, Callable[[dict[str, Any]], Any]],
    ) -> T:
        try:
            return read_row(table.row, item, derive=derive, top=True)
        except _Bad as bad:
            label = ""
            if table.label is not None and isinstance(item, dict) and table.label in item:
                label = f" ({table.label} {item[table.label]!r})"
            raise KnowledgeBaseError(
                f"{self.file.name}: {where}{bad.path}: {bad.message}{label}"
            ) from None

    def _unique(self, table: Table[Any], row: Any, where: str, seen: dict[str, set[Any]]) -> None:
        for field in dataclasses.fields(table.row):
            if declared(field).unique:
                value = getattr(row, field.name)
                bucket = seen.setdefault(field.name, set())
                if value in bucket:
                    raise KnowledgeBaseError(
                        f"{self.file.name}: {where}.{toml_name(field)}: duplicate {value!r}"
                    )
                bucket.add(value)


_HINTS: dict[type, dict[str, Any]] = {}


def hints(cls: type) -> dict[str, Any]:
    """The evaluated type hints of a row class (its module imports every type it names)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def optional(hint: Any) -> tuple[bool, Any]:
    """(True, X) for `X | None`, else (False, hint)."""
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return True, args[0]
    return False, hint


@dataclass(frozen=True)
class _Slot:
    """One dataclass field as the reader uses it, worked out once per row class."""

    attr: str
    key: Key
    toml: str
    optional: bool
    hint: Any


@dataclass(frozen=True)
class _Shape:
    """How to read one row class: its keys and fields, worked out once."""

    allowed: frozenset[str]
    slots: tuple[_Slot, ...]
    families: tuple[tuple[str, Key, type], ...]
    """(attr, key, value type) of each `Mapping[str, Row]` field."""


_SHAPES: dict[type, _Shape] = {}


def _shape(cls: type) -> _Shape:
    if cls not in _SHAPES:
        types_of = hints(cls)
        allowed: set[str] = set()
        slots, families = [], []
        for f in dataclasses.fields(cls):
            k = declared(f)
            if not f.init or k.derived:
                continue
            if k.family is not None and k.family_keys is not None:
                allowed |= {k.family + name for name in k.family_keys()}
                families.append((f.name, k, typing.get_args(types_of[f.name])[1]))
                continue
            is_optional, hint = optional(types_of[f.name])
            if k.one_or_many and typing.get_origin(hint) is not tuple:
                raise TypeError(f"{cls.__name__}.{f.name}: one_or_many needs a tuple field")
            slots.append(_Slot(f.name, k, toml_name(f), is_optional, hint))
            allowed.add(toml_name(f))
        _SHAPES[cls] = _Shape(frozenset(allowed), tuple(slots), tuple(families))
    return _SHAPES[cls]


def read_row(
    cls: type[T],
    raw: Any,
    *,
    derive: Mapping[str, Callable[[dict[str, Any]], Any]] | None = None,
    top: bool = False,
) -> T:
    """One row (or nested inline table) of `cls` from `raw`; `_Bad` names the key by its path
    inside the row (`.python[1]`), which the caller prefixes with the row's own."""
    if not isinstance(raw, dict):
        raise _Bad("", f"must be a table, got {raw!r}")
    shape = _shape(cls)
    unknown = sorted(set(raw) - shape.allowed)
    if unknown:
        raise _Bad(f".{_segment(unknown[0])}", "unknown key")
    if top:
        source = raw.get("source")
        if not isinstance(source, str) or not source.strip():
            raise _Bad(".source", "missing: every row cites its source")
    values: dict[str, Any] = {}
    for slot in shape.slots:
        if slot.toml not in raw:
            if slot.key.default is not NO_DEFAULT:
                values[slot.attr] = slot.key.default
            elif slot.optional:
                values[slot.attr] = None
            else:
                raise _Bad(f".{slot.toml}", "missing")
            continue
        given = raw[slot.toml]
        # One item where one or many are allowed: read as a list of one, and named without [0].
        single = slot.key.one_or_many and not isinstance(given, list)
        try:
            value = convert([given] if single else given, slot.hint)
        except _Bad as bad:
            path = bad.path.removeprefix("[0]") if single else bad.path
            raise _Bad(f".{slot.toml}{path}", bad.message) from None
        if slot.key.one_or_many and not value:
            raise _Bad(f".{slot.toml}", "must be one item or a non-empty list")
        for check in slot.key.checks:
            items = enumerate(value) if check.per_item and isinstance(value, tuple) else None
            for j, item in items if items is not None else [(None, value)]:
                problem = check.problem(item)
                if problem is not None:
                    where = "" if j is None or single else f"[{j}]"
                    raise _Bad(f".{slot.toml}{where}", problem)
        values[slot.attr] = value
    for attr, k, value_type in shape.families:
        values[attr] = _family(k, value_type, raw)
    for name, fill in (derive or {}).items():
        try:
            values[name] = fill(values)
        except RowError as exc:
            raise _Bad(f".{exc.key}", exc.message) from None
    row = cls(**values)
    check_row = getattr(row, "check_row", None)
    if check_row is not None:
        try:
            check_row()
        except RowError as exc:
            raise _Bad(f".{exc.key}", exc.message) from None
    return row


def _family(k: Key, value_type: type, raw: dict[str, Any]) -> dict[str, Any]:
    """The `<prefix><name>` keys of a row, each an inline table of the mapping's value type
    (`Mapping[str, Wheels]`), whose one `derived()` field receives `name`."""
    assert k.family is not None
    assert k.family_keys is not None
    filled = [f.name for f in dataclasses.fields(value_type) if declared(f).derived]
    out: dict[str, Any] = {}
    for name in k.family_keys():
        key_name = k.family + name
        if key_name in raw:
            fill = {d: (lambda _values, n=name: n) for d in filled}
            try:
                out[name] = read_row(value_type, raw[key_name], derive=fill)
            except _Bad as bad:
                raise _Bad(f".{key_name}{bad.path}", bad.message) from None
    return out


def _segment(name: str) -> str:
    """A key as it appears in an error path: bare when it is a plain key, else quoted (repr), so
    a key holding a newline cannot break the one-line message."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else repr(name)


def convert(value: Any, hint: Any) -> Any:
    """A TOML value as the type `hint` names; `_Bad` (path inside the value) when it is not one."""
    if hint is str:
        if not isinstance(value, str) or not value:
            raise _Bad("", f"must be a non-empty string, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise _Bad("", f"must be true or false, got {value!r}")
        return value
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Bad("", f"must be an integer, got {value!r}")
        return value
    if hint in PARSED:
        parse, error, what = PARSED[hint]
        if not isinstance(value, str):
            raise _Bad("", f"must be a string, got {value!r}")
        try:
            return parse(value)
        except error:
            raise _Bad("", f"{what}, got {value!r}") from None
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        if item == tuple[str, str]:
            return _pairs(value)
        if not isinstance(value, list):
            raise _Bad("", f"must be a list, got {value!r}")
        out = []
        for j, v in enumerate(value):
            try:
                out.append(convert(v, item))
            except _Bad as bad:
                raise _Bad(f"[{j}]{bad.path}", bad.message) from None
        return tuple(out)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return read_row(hint, value)
    raise TypeError(f"the reader has no conversion for {hint!r}")


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    """An inline table of strings as sorted (key, value) pairs."""
    if not isinstance(value, dict) or not value:
        raise _Bad("", f"must be a non-empty table, got {value!r}")
    for name, item in value.items():
        if not isinstance(item, str) or not item.strip():
            raise _Bad(f".{_segment(name)}", f"must be a non-empty string, got {item!r}")
    return tuple(sorted(value.items()))
