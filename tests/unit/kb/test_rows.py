"""The generic reader of knowledge-base files (`envgen.kb.rows`), on declarations made here.

Every failure is one `KnowledgeBaseError` line that names the file, the row and the exact key,
whatever TOML-shaped value arrives (a property test feeds it arbitrary ones).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet

from envgen.errors import KnowledgeBaseError
from envgen.kb import schema
from envgen.kb.fields import Ascending, NonEmpty, Pattern, RowError, Template, key, one_of, parts
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


# ---------------------------------------------------------------------------------------------
# One item or a list of them (`one_or_many`): a template or its variants, a wording or several


@dataclass(frozen=True)
class Variants:
    text: tuple[str, ...] = field(metadata=key(Template(), one_or_many=True))
    pattern: tuple[str, ...] = field(metadata=key(Pattern(), one_or_many=True, default=("x",)))
    source: str


VARIANTS = DataFile("v.toml", "variants", (Table("row", Variants),))


def _variants(**row: Any) -> tuple[Variants, ...]:
    return VARIANTS.open({"row": [{"source": "s", **row}]}).rows(Variants)


def test_one_item_reads_as_a_list_of_one() -> None:
    assert _variants(text="a {x}") == _variants(text=["a {x}"])
    assert _variants(text="a {x}")[0].text == ("a {x}",)
    assert _variants(text=["a {x}", "a"])[0].text == ("a {x}", "a")
    assert _variants(text="a")[0].pattern == ("x",)  # the default is used as declared


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "v.toml: row[0].text: must be one item or a non-empty list"),
        ("", "v.toml: row[0].text: must be a non-empty string, got ''"),  # one item: no [0]
        (3, "v.toml: row[0].text: must be a non-empty string, got 3"),
        ({"a": "b"}, "v.toml: row[0].text: must be a non-empty string, got {'a': 'b'}"),
        (["a", ""], "v.toml: row[0].text[1]: must be a non-empty string, got ''"),
        ("a {", "v.toml: row[0].text: not a valid template"),
        (["a", "a {"], "v.toml: row[0].text[1]: not a valid template"),
    ],
)
def test_one_or_many_names_the_bad_item(value: Any, message: str) -> None:
    with pytest.raises(KnowledgeBaseError) as info:
        _variants(text=value)
    assert str(info.value).startswith(message)


def test_one_or_many_is_declared_on_tuples_only() -> None:
    @dataclass(frozen=True)
    class Wrong:
        text: str = field(metadata=key(one_or_many=True))
        source: str

    with pytest.raises(TypeError, match="one_or_many needs a tuple field"):
        DataFile("w.toml", "t", (Table("row", Wrong),)).open({"row": [{"source": "s"}]}).rows(Wrong)


def test_the_schema_of_one_or_many_takes_one_or_a_non_empty_list() -> None:
    validator = jsonschema.Draft7Validator(schema.file_schema(VARIANTS))
    for good in ("a", ["a"], ["a", "b {x}"]):
        assert validator.is_valid({"row": [{"text": good, "source": "s"}]}), good
    for bad in ([], "", [""], 3, [3]):
        assert not validator.is_valid({"row": [{"text": bad, "source": "s"}]}), bad
    text = schema.file_schema(VARIANTS)["definitions"]["Variants"]["properties"]["pattern"]
    assert text["anyOf"][0]["format"] == "regex"  # the item's checks hold for one item too
    assert text["anyOf"][1]["items"]["format"] == "regex"


@given(value=TOML_VALUES)
def test_any_one_or_many_value_loads_or_fails_in_one_line(value: Any) -> None:
    try:
        rows = _variants(text=value)
    except KnowledgeBaseError as exc:
        message = str(exc)
        assert "\n" not in message
        assert message.startswith("v.toml: row[0].text")
    else:
        assert rows[0].text == (tuple(value) if isinstance(value, list) else (value,))
