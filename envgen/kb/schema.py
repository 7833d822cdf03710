"""JSON Schemas of the knowledge-base files, generated from the same row dataclasses the loader reads.

Each data file has `schema/<file>.schema.json` (draft-07, what TOML editors understand), committed
and checked by a unit test that regenerates it. A file's first line `#:schema ./schema/...` points
Taplo-based editors (Even Better TOML) at it, so a hand edit is checked while it is typed. The
schema holds what a schema can say (types, required keys, no unknown keys, patterns, choices);
rules across keys and rows stay with the loader.

    python -m envgen.kb.schema            # exit 1 and name the stale files
    python -m envgen.kb.schema --write    # regenerate them
"""

from __future__ import annotations

import dataclasses
import json
import sys
import typing
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envgen.kb.fields import NO_DEFAULT, declared, toml_name
from envgen.kb.rows import DataFile, hints, optional
from envgen.versions import DottedVersion

DRAFT = "http://json-schema.org/draft-07/schema#"
DIRECTORY = Path(__file__).with_name("schema")

_TEXT = {"type": "string", "minLength": 1}
_SCALARS: dict[Any, dict[str, Any]] = {
    str: _TEXT,
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    DottedVersion: {"type": "string", "pattern": r"^[0-9]+(?:\.[0-9]+)*$"},
    SpecifierSet: {**_TEXT, "description": "a PEP 440 version specifier"},
    Requirement: {**_TEXT, "description": "a PEP 508 requirement"},
    Version: {**_TEXT, "description": "a PEP 440 version"},
}


def data_files() -> tuple[DataFile, ...]:
    """Every data file's declaration, in file-name order."""
    from envgen.kb import (
        community,
        conda,
        conda_forge,
        cpu,
        cuda_arch,
        cudnn,
        distributions,
        doctor_checks,
        drivers,
        families,
        gpu_issues,
        gpus,
        images,
        jax,
        keras,
        keras_backends,
        lock_platforms,
        metal,
        mirrors,
        pytorch,
        remedies,
        signatures,
        tensorflow,
        wording,
    )

    found = [
        m.SCHEMA
        for m in (
            community, conda, cpu, cuda_arch, cudnn, distributions, doctor_checks, drivers,
            families, gpu_issues,
            gpus, images, keras, keras_backends, lock_platforms, metal, mirrors, remedies,
            signatures, wording,
        )
    ]  # fmt: skip
    found += [tensorflow.BUILDS, tensorflow.RELEASES, jax.BUILDS, jax.RELEASES]
    found += [pytorch.BUILDS, pytorch.RELEASES, conda_forge.BUILDS, conda_forge.RECORDS]
    return tuple(sorted(found, key=lambda f: f.name))


def schema_name(data_file: str) -> str:
    """`cuda-drivers.toml` -> `cuda-drivers.schema.json`."""
    return data_file.removesuffix(".toml") + ".schema.json"


def file_schema(data: DataFile) -> dict[str, Any]:
    """The JSON Schema of one data file."""
    definitions: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for table in data.tables:
        row = _row(table.row, definitions, top=True)
        if table.many:
            array: dict[str, Any] = {"type": "array", "minItems": table.exactly or 1, "items": row}
            if table.exactly is not None:
                array["maxItems"] = table.exactly
            properties[table.name] = array
        else:
            properties[table.name] = row
    return {
        "$schema": DRAFT,
        "title": data.name,
        "description": f"{data.title}. Generated from the envgen.kb row dataclasses "
        "by `python -m envgen.kb.schema --write`; do not edit.",
        "type": "object",
        "additionalProperties": False,
        "required": [t.name for t in data.tables],
        "properties": properties,
        "definitions": dict(sorted(definitions.items())),
    }


def render(data: DataFile) -> str:
    """The committed text: two-space JSON, keys in declaration order, one final newline."""
    return json.dumps(file_schema(data), indent=2, ensure_ascii=False) + "\n"


def _doc(cls: type) -> str | None:
    """A class docstring, not the signature dataclasses writes where there is none."""
    text = (cls.__doc__ or "").strip()
    if not text or text.startswith(f"{cls.__name__}("):
        return None
    return " ".join(text.split("\n\n", 1)[0].split())


def _row(cls: type, definitions: dict[str, Any], *, top: bool) -> dict[str, Any]:
    """A `$ref` to the row's definition, written into `definitions` on first use."""
    name = cls.__name__
    if name not in definitions:
        definitions[name] = {}  # placeholder: a row never nests itself, but keep refs stable
        properties: dict[str, Any] = {}
        required: list[str] = []
        types_of = hints(cls)
        for field in dataclasses.fields(cls):
            k = declared(field)
            if not field.init or k.derived:
                continue
            if k.family is not None and k.family_keys is not None:
                value = typing.get_args(types_of[field.name])[1]
                for key in k.family_keys():
                    properties[k.family + key] = _row(value, definitions, top=False)
                continue
            is_optional, hint = optional(types_of[field.name])
            value_schema = _value(hint, definitions)
            for check in k.checks:
                fragment = check.schema()
                if check.per_item and value_schema.get("type") == "array":
                    value_schema["items"] = _merge(value_schema["items"], fragment)
                else:
                    value_schema = _merge(value_schema, fragment)
            if k.one_or_many:
                # One item, or a non-empty list of them: what the reader accepts.
                value_schema = {"anyOf": [value_schema["items"], {**value_schema, "minItems": 1}]}
            if k.doc:
                value_schema = {**value_schema, "description": k.doc}
            if field.name == "source" and top:
                value_schema = {**value_schema, "pattern": r"\S"}
            properties[toml_name(field)] = value_schema
            if not is_optional and k.default is NO_DEFAULT:
                required.append(toml_name(field))
        schema: dict[str, Any] = {"type": "object"}
        doc = _doc(cls)
        if doc:
            schema["description"] = doc
        schema |= {"additionalProperties": False, "required": required}
        schema["properties"] = properties
        definitions[name] = schema
    return {"$ref": f"#/definitions/{name}"}


def _value(hint: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    if hint in _SCALARS:
        return dict(_SCALARS[hint])
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        if item == tuple[str, str]:
            return {"type": "object", "minProperties": 1, "additionalProperties": _TEXT}
        return {"type": "array", "items": _value(item, definitions)}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _row(hint, definitions, top=False)
    raise TypeError(f"no JSON Schema for {hint!r}")


def _merge(schema: dict[str, Any], fragment: dict[str, Any]) -> dict[str, Any]:
    """`schema` with `fragment`'s keywords; a keyword both set (two patterns) goes to `allOf`."""
    clash = set(schema) & set(fragment)
    if clash == {"pattern"} and schema.get("pattern") == _SCALARS[DottedVersion]["pattern"]:
        return {**schema, **fragment}  # a narrower dotted shape replaces "any dotted"
    if clash:
        return {**schema, "allOf": [*schema.get("allOf", []), fragment]}
    return {**schema, **fragment}


def stale(directory: Path = DIRECTORY) -> list[str]:
    """Schema files that differ from a regeneration (or are missing), by name."""
    out = []
    for data in data_files():
        path = directory / schema_name(data.name)
        if not path.is_file() or path.read_text(encoding="utf-8") != render(data):
            out.append(path.name)
    return out


def write(directory: Path = DIRECTORY) -> list[str]:
    """Regenerate every schema file; the names of those that changed."""
    changed = stale(directory)
    directory.mkdir(exist_ok=True)
    for data in data_files():
        (directory / schema_name(data.name)).write_text(render(data), encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    """Maintainer entry point: check (default) or `--write` the committed schemas."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--write"]:
        for name in write():
            print(f"wrote envgen/kb/schema/{name}")
        return 0
    if args:
        print("usage: python -m envgen.kb.schema [--write]", file=sys.stderr)
        return 2
    names = stale()
    for name in names:
        print(f"stale: envgen/kb/schema/{name} (regenerate: python -m envgen.kb.schema --write)")
    return 1 if names else 0


if __name__ == "__main__":
    raise SystemExit(main())
