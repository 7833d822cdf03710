"""The generic reader of knowledge-base files (`envgen.kb.rows`), on declarations made here.

Every failure is one `KnowledgeBaseError` line that names the file, the row and the exact key,
whatever TOML-shaped value arrives (a property test feeds it arbitrary ones).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet

from envgen.errors import KnowledgeBaseError
from envgen.kb.fields import Ascending, NonEmpty, RowError, key, one_of, parts
from envgen.kb.rows import DataFile, Table
from envgen.versions import DottedVersion


@dataclass(frozen=True)
class Inner:
    package: str
    shim: bool = field(metadata=key(default=False))


@dataclass(frozen=True)
class Row:
    name: str = field(metadata=key(unique=True))
    cuda: DottedVersion = field(metadata=key(parts(2)))
    python: tuple[DottedVersion, ...] = field(metadata=key(parts(2), Ascending(), NonEmpty()))
    kind: str = field(metadata=key(one_of(("a", "b"))))
    count: int
    spec: SpecifierSet | None
    wheel: Inner | None
    source: str

    def check_row(self) -> None:
        if self.kind == "b" and self.spec is None:
            raise RowError("spec", "required where kind is b")


@dataclass(frozen=True)
class Settings:
    rule: str
    source: str


FILE = DataFile(
    "test.toml",
    "a test file",
    (Table("row", Row, label="name"), Table("settings", Settings, many=False)),
)

GOOD = {
    "name": "first",
    "cuda": "12.5",
    "python": ["3.9", "3.10"],
    "kind": "a",
    "count": 3,
    "wheel": {"package": "tensorflow"},
    "source": "a citation",
}


def _doc(**changes: Any) -> dict[str, Any]:
    row = {**GOOD, **changes}
    for name, value in changes.items():
        if value is None:
            del row[name]
    return {"row": [dict(GOOD, name="zeroth"), row], "settings": {"rule": "r", "source": "s"}}


def _error(doc: dict[str, Any]) -> str:
    with pytest.raises(KnowledgeBaseError) as info:
        FILE.open(doc).rows(Row)
    return str(info.value)


def test_a_good_row_is_typed() -> None:
    reader = FILE.open(_doc())
    row = reader.rows(Row)[1]
    assert row.cuda == "12.5"
    assert isinstance(row.cuda, DottedVersion)
    assert row.python == ("3.9", "3.10")  # ascending as versions, not as text
    assert row.wheel == Inner("tensorflow", shim=False)  # the default fills the absent key
    assert row.spec is None
    assert reader.one(Settings).rule == "r"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cuda": "12"}, "test.toml: row[1].cuda: must be 'X.Y', got '12' (name 'first')"),
        ({"cuda": 12.5}, "test.toml: row[1].cuda: must be a string, got 12.5"),
        ({"python": ["3.10", "3.9"]}, "row[1].python: must be sorted ascending without repeats"),
        ({"python": []}, "row[1].python: must not be empty"),
        ({"python": ["3.9", "three"]}, "row[1].python[1]: must be dotted integers"),
        ({"kind": "c"}, "row[1].kind: must be one of a, b, got 'c'"),
        ({"count": True}, "row[1].count: must be an integer, got True"),
        ({"count": None}, "row[1].count: missing"),
        ({"spec": "<<2"}, "row[1].spec: invalid specifier, got '<<2'"),
        ({"kind": "b"}, "row[1].spec: required where kind is b"),
        ({"wheel": {"package": "tf", "colour": "red"}}, "row[1].wheel.colour: unknown key"),
        ({"wheel": {"shim": True}}, "row[1].wheel.package: missing"),
        ({"wheel": "tensorflow"}, "row[1].wheel: must be a table, got 'tensorflow'"),
        ({"source": None}, "row[1].source: missing: every row cites its source"),
        ({"typo-key": 1}, "test.toml: row[1].typo-key: unknown key (name 'first')"),
        ({"name": "zeroth"}, "test.toml: row[1].name: duplicate 'zeroth'"),
        ({"wheel": {"package": "tf", "a\nb": 1}}, "row[1].wheel.'a\\nb': unknown key"),
    ],
)
def test_a_bad_row_names_the_key(changes: dict[str, Any], message: str) -> None:
    assert message in _error(_doc(**changes))


def test_file_level_errors() -> None:
    with pytest.raises(KnowledgeBaseError, match=r"^test\.toml: colour: unknown table"):
        FILE.open({**_doc(), "colour": {}})
    with pytest.raises(KnowledgeBaseError, match=re.escape("test.toml: missing or empty [[row]]")):
        FILE.open({"row": [], "settings": {}}).rows(Row)
    with pytest.raises(KnowledgeBaseError, match=re.escape("test.toml: missing [settings]")):
        FILE.open({"row": []}).one(Settings)
    with pytest.raises(KnowledgeBaseError, match=re.escape("test.toml: settings.source: missing")):
        FILE.open({"settings": {"rule": "r"}}).one(Settings)


def test_exactly_so_many_rows() -> None:
    one = DataFile("one.toml", "t", (Table("settings", Settings, exactly=1),))
    doc = {"settings": [{"rule": "r", "source": "s"}, {"rule": "q", "source": "s"}]}
    with pytest.raises(KnowledgeBaseError, match=r"exactly 1 \[\[settings\]\] expected, found 2"):
        one.open(doc).rows(Settings)


def test_a_row_class_without_source_is_refused_when_declared() -> None:
    @dataclass(frozen=True)
    class NoSource:
        name: str

    with pytest.raises(TypeError, match="declares no source field"):
        DataFile("bad.toml", "t", (Table("row", NoSource),))


# TOML values: strings, numbers, booleans, arrays and tables of them.
TOML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(key_name=st.sampled_from([*GOOD, "spec", "other"]), value=TOML_VALUES)
def test_any_value_loads_or_fails_in_one_line_naming_the_key(key_name: str, value: Any) -> None:
    doc = _doc(**{key_name: value})
    try:
        FILE.open(doc).rows(Row)
    except KnowledgeBaseError as exc:
        message = str(exc)
        assert "\n" not in message
        assert message.startswith("test.toml: row[1].")
        assert key_name in message or "source" in message
