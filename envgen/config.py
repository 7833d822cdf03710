"""The project's envgen configuration: `[tool.envgen]` in pyproject.toml, or envgen.toml.

The table records the request a project makes (target, python, tensorflow, keras, channel, mirror,
outputs, platforms) so that every command run in the project, by anyone, asks the same thing.
Which keys exist, and what each may hold, is the option table's (`envgen.options`: each option
names its key); precedence is decided there too: flags and `ENVGEN_*` variables above this table,
the built-in defaults below it. Reading uses tomllib; writing uses tomlkit, which keeps
the user's comments, ordering and formatting everywhere outside the keys envgen changes.

envgen.toml holds the same keys at its top level (or under `[tool.envgen]`, so a table can be
moved between the two files unchanged). pyproject.toml wins where both exist and it has the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envgen.documents import Table, key_path, parse_toml, shown
from envgen.errors import InputFileError
from envgen.files import read_text
from envgen.options import OPTIONS, config_keys

PYPROJECT = "pyproject.toml"
ENVGEN_TOML = "envgen.toml"

# Keys whose option takes a comma-separated list: the table holds a TOML list.
_LISTS = ("outputs", "platforms")
KEYS = tuple(config_keys())


@dataclass(frozen=True)
class ProjectConfig:
    path: Path | None
    """The file the table came from; None where the project has none."""
    values: dict[str, Any] = field(default_factory=dict)
    """Validated kebab-case keys."""
    table: str = "tool.envgen"
    """Where the keys sit in the file: `tool.envgen`, or "" at the top of envgen.toml."""

    def flag_values(self) -> dict[str, Any]:
        """The table by key, each value as its flag takes it (a list as comma-separated text)."""
        return {k: ",".join(v) if isinstance(v, list) else v for k, v in self.values.items()}

    def labels(self) -> dict[str, str]:
        """How an error names each key this table sets: `pyproject.toml: tool.envgen.outputs`."""
        return {key: f"{self.path}: {key_path(self.table, key)}" for key in self.values}


def _table(doc: Mapping[str, Any], path: Path, *, top_level: bool) -> dict[str, Any] | None:
    tool = doc.get("tool")
    if isinstance(tool, Mapping) and "envgen" in tool:
        table = tool["envgen"]
        if not isinstance(table, Mapping):
            raise InputFileError(f"{path}: tool.envgen: expected a table, got {shown(table)}")
        return dict(table)
    if top_level:
        return {k: v for k, v in doc.items() if k != "tool"}
    return None


def validate(table: Mapping[str, Any], origin: str, where: str) -> dict[str, Any]:
    """Check every key and value; the error names the exact key (`tool.envgen.channel`)."""
    reader = Table(dict(table), where, origin)
    out: dict[str, Any] = {}
    for key, dest in config_keys().items():
        if key in table and OPTIONS[dest].kind == "bool":
            out[key] = reader.boolean(key)
        elif key in table and key not in _LISTS:
            out[key] = reader.text(key, choices=OPTIONS[dest].choices)
    if "keras" in out:
        from envgen.plan import keras_request_ok

        # Not a closed list of choices: a Keras line (2.3, 2.2.4) is a value too.
        if not keras_request_ok(out["keras"]):
            raise reader.fail(
                "keras", f"expected 2, 3, tf or a Keras line like 2.3, got {shown(out['keras'])}"
            )
    for key in _LISTS:
        if key in table:
            items = reader.strings(key)
            if not all(items):
                raise reader.fail(key, "expected a list of non-empty strings, got an empty one")
            out[key] = list(items)
    reader.done(hint=f"known keys: {', '.join(KEYS)}")
    return out


def find(directory: Path) -> Path | None:
    """The config file of the project in `directory`: pyproject.toml with the table, else envgen.toml."""
    pyproject = directory / PYPROJECT
    if pyproject.is_file() and _table(_read(pyproject), pyproject, top_level=False) is not None:
        return pyproject
    envgen_toml = directory / ENVGEN_TOML
    return envgen_toml if envgen_toml.is_file() else None


def _read(path: Path) -> dict[str, Any]:
    return parse_toml(read_text(path, what="project configuration"), str(path))


def parse(text: str, path: Path) -> ProjectConfig:
    """The configuration `text` holds, `path` being its file: pyproject.toml's `[tool.envgen]`,
    or envgen.toml's top level (or its `[tool.envgen]`). Empty where there is no table."""
    doc = parse_toml(text, str(path))
    table = _table(doc, path, top_level=path.name == ENVGEN_TOML)
    if table is None:
        return ProjectConfig(None)
    tool = doc.get("tool")
    where = "tool.envgen" if isinstance(tool, Mapping) and "envgen" in tool else ""
    return ProjectConfig(path, validate(table, str(path), where), where)


def load(directory: Path) -> ProjectConfig:
    """The project's configuration, or an empty one where the project has none."""
    path = find(directory)
    if path is None:
        return ProjectConfig(None)
    return parse(read_text(path, what="project configuration"), path)


def save(directory: Path, values: Mapping[str, Any]) -> Path:
    """Record `values` (kebab-case keys; None removes a key) in the project's table.

    Writes into pyproject.toml's `[tool.envgen]` where a pyproject.toml exists, else envgen.toml;
    everything else in the file, comments included, is left byte for byte.
    """
    import tomlkit

    validate({k: v for k, v in values.items() if v is not None}, "values to save", "")
    pyproject = directory / PYPROJECT
    path = find(directory) or (pyproject if pyproject.is_file() else directory / ENVGEN_TOML)
    text = read_text(path, what="project configuration") if path.is_file() else ""
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise InputFileError(f"{path}: {exc}") from exc
    if path.name == PYPROJECT or "tool" in doc:
        tool = doc.setdefault("tool", tomlkit.table(is_super_table=True))
        table = tool.setdefault("envgen", tomlkit.table())
    else:
        table = doc
    for key in KEYS:
        if key not in values:
            continue
        value = values[key]
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    try:
        path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    except OSError as exc:
        raise InputFileError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
