"""The JSON Schemas of the knowledge base: committed, current, and in agreement with the loader.

The schemas are generated from the same row dataclasses the loader reads (`envgen.kb.schema`);
these tests regenerate and compare them, validate every packaged file against its schema, and
break rows the same way for both, so what an editor accepts and what envgen loads cannot drift.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import jsonschema
import pytest

from envgen.errors import KnowledgeBaseError
from envgen.kb import data_files, data_text, load_toml, schema
from envgen.kb.fields import declared
from envgen.kb.rows import DataFile

DECLARED = {d.name: d for d in schema.data_files()}


def _validator(name: str) -> jsonschema.Draft7Validator:
    text = (schema.DIRECTORY / schema.schema_name(name)).read_text(encoding="utf-8")
    document = json.loads(text)
    jsonschema.Draft7Validator.check_schema(document)
    return jsonschema.Draft7Validator(document)


def _read_all(data: DataFile, doc: dict[str, Any]) -> None:
    """Every table of `doc` through the generic reader (joined fields filled with None)."""
    reader = data.open(doc)
    for table in data.tables:
        if not table.many:
            reader.table(table.name, table.row)
            continue
        joined = [f.name for f in dataclasses.fields(table.row) if declared(f).derived]
        reader.rows(table.row, **{name: (lambda _values: None) for name in joined})


def test_committed_schemas_are_current() -> None:
    assert schema.stale() == [], "regenerate: python -m envgen.kb.schema --write"
    assert schema.main([]) == 0


def test_every_data_file_is_declared_and_has_a_schema() -> None:
    assert sorted(DECLARED) == data_files()
    names = sorted(p.name for p in schema.DIRECTORY.glob("*.schema.json"))
    assert names == sorted(schema.schema_name(n) for n in data_files())


@pytest.mark.parametrize("name", data_files())
def test_packaged_file_validates_against_its_schema(name: str) -> None:
    errors = sorted(_validator(name).iter_errors(load_toml(name)), key=str)
    assert errors == []
    # The first line points a TOML editor (Taplo, Even Better TOML) at the schema.
    first = data_text(name).split("\n", 1)[0]
    assert first == f"#:schema ./schema/{schema.schema_name(name)}"


def _breaks(name: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(what, table, broken doc) for each table of `name`: an unknown key, no source."""
    out = []
    for table in DECLARED[name].tables:
        for what in ("unknown key", "no source", "blank source"):
            doc = copy.deepcopy(load_toml(name))
            row = doc[table.name][0] if table.many else doc[table.name]
            if what == "unknown key":
                row["typo-key"] = "x"
            elif what == "no source":
                del row["source"]
            else:
                row["source"] = "  "
            out.append((what, table.name, doc))
    return out


@pytest.mark.parametrize("name", data_files())
def test_schema_and_loader_refuse_the_same_broken_rows(name: str) -> None:
    validator = _validator(name)
    _read_all(DECLARED[name], load_toml(name))  # the packaged file passes both
    for what, table, doc in _breaks(name):
        assert not validator.is_valid(doc), (what, table)
        with pytest.raises(KnowledgeBaseError) as info:
            _read_all(DECLARED[name], doc)
        message = str(info.value)
        assert message.startswith(f"{name}: {table}"), message
        assert ("typo-key" if what == "unknown key" else ".source") in message


@pytest.mark.parametrize(
    ("name", "table", "key", "value"),
    [
        ("tensorflow-builds.toml", "build", "cuda", "12"),
        ("tensorflow-builds.toml", "build", "gpu-platforms", ["linux-riscv64"]),
        ("tensorflow-builds.toml", "build", "keras-kind", "keras4"),
        ("cuda-drivers.toml", "toolkit", "linux", "five hundred"),
        ("mirrors.toml", "mirror", "pypi", "http://mirror.example/simple"),
        ("signatures.toml", "signature", "code", "Bad_Code"),
        ("signatures.toml", "signature", "cause", []),
        ("signatures.toml", "signature", "pattern", ["x", 3]),
        ("signatures.toml", "fact", "value", ""),
        ("signatures.toml", "lookup", "needs", ["Bad-Name"]),
        ("tensorflow-releases.toml", "release", "linux-x86_64", {"package": "tensorflow"}),
        ("images.toml", "micromamba-image", "uid", "57439"),
    ],
)
def test_schema_and_loader_refuse_a_bad_value(name: str, table: str, key: str, value: Any) -> None:
    doc = copy.deepcopy(load_toml(name))
    doc[table][0][key] = value
    assert not _validator(name).is_valid(doc)
    with pytest.raises(KnowledgeBaseError, match=rf"^{name}: {table}\[0\]\.{key}"):
        _read_all(DECLARED[name], doc)


def test_schema_of_a_row_names_its_keys_and_requires_source() -> None:
    builds = schema.file_schema(DECLARED["tensorflow-builds.toml"])
    build = builds["definitions"]["Build"]
    assert build["additionalProperties"] is False
    assert "source" in build["required"]
    assert "keras" in build["properties"]  # the TOML name, not the field name
    assert "metal" not in build["required"]  # optional keys are optional
    assert build["properties"]["gpu-platforms"]["items"]["enum"] == [
        "linux-x86_64", "linux-aarch64", "windows-x86_64", "macos-x86_64", "macos-arm64",
    ]  # fmt: skip
