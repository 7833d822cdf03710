"""Small validators shared by the typed loaders: each names the file, row and key that is wrong."""

from __future__ import annotations

from typing import Any

from envgen.errors import KnowledgeBaseError


def rows(doc: dict[str, Any], table: str, where: str) -> list[dict[str, Any]]:
    """The array of tables `[[table]]`; every row must cite a `source`."""
    value = doc.get(table)
    if not isinstance(value, list) or not value:
        raise KnowledgeBaseError(f"{where}: missing or empty [[{table}]]")
    for i, row in enumerate(value):
        if not isinstance(row, dict):
            raise KnowledgeBaseError(f"{where}: {table}[{i}] is not a table")
        src = row.get("source")
        if not isinstance(src, str) or not src.strip():
            raise KnowledgeBaseError(f"{where}: {table}[{i}] has no source")
    return value


def req_str(row: dict[str, Any], key: str, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value:
        raise KnowledgeBaseError(f"{where}: {key} must be a non-empty string, got {value!r}")
    return value


def opt_str(row: dict[str, Any], key: str, where: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    return req_str(row, key, where)


def req_int(row: dict[str, Any], key: str, where: str) -> int:
    value = row.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise KnowledgeBaseError(f"{where}: {key} must be an integer, got {value!r}")
    return value


def str_list(
    row: dict[str, Any], key: str, where: str, *, default: list[str] | None = None
) -> list[str]:
    value = row.get(key, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KnowledgeBaseError(f"{where}: {key} must be a list of strings, got {value!r}")
    return list(value)


def no_unknown_keys(row: dict[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(row) - allowed)
    if extra:
        raise KnowledgeBaseError(f"{where}: unknown key(s) {', '.join(extra)}")
