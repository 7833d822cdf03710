"""Dotted numeric versions (drivers, CUDA, compute capability) as comparable tuples.

`packaging.version` is right for Python package versions, but costs an import on the detection path
and accepts forms these never take; driver and CUDA versions are plain dotted integers.

The knowledge base parses each of its dotted versions once, when it loads, into a `DottedVersion`:
text that compares numerically, so its rows order and compare without re-parsing.
"""

from __future__ import annotations

from typing import Any, Self

Dotted = tuple[int, ...]


def parse_dotted(text: str) -> Dotted:
    """`"580.159.04"` -> `(580, 159, 4)`; `ValueError` for anything that is not dotted integers."""
    if isinstance(text, DottedVersion):
        return text.parts
    parts = text.strip().split(".")
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a dotted version: {text!r}")
    return tuple(int(p) for p in parts)


class DottedVersion(str):
    """A dotted numeric version parsed once: `DottedVersion("12.10") > DottedVersion("12.9")`.

    It stays text (a `str`) because the value travels as written into plans, JSON, templates and
    messages ("580.159.04" keeps its leading zero); equality and hashing are the text's, so a
    lookup by `"12.5"` still finds it. Only the order is numeric, and only against another
    `DottedVersion`: ordering against plain text raises `TypeError` rather than silently
    comparing letters ("12.10" < "12.9" as text).
    """

    parts: Dotted

    def __new__(cls, text: str) -> Self:
        parts = parse_dotted(text)
        self = super().__new__(cls, text)
        self.parts = parts
        return self

    def __getnewargs__(self) -> tuple[str]:  # copy and pickle rebuild from the text
        return (str(self),)

    def _key(self, other: object, op: str) -> Dotted:
        if not isinstance(other, DottedVersion):
            raise TypeError(
                f"'{op}' between DottedVersion {str(self)!r} and {type(other).__name__} "
                f"{other!r}: parse both (DottedVersion(text))"
            )
        return other.parts

    def __lt__(self, other: Any) -> bool:
        return self.parts < self._key(other, "<")

    def __le__(self, other: Any) -> bool:
        return self.parts <= self._key(other, "<=")

    def __gt__(self, other: Any) -> bool:
        return self.parts > self._key(other, ">")

    def __ge__(self, other: Any) -> bool:
        return self.parts >= self._key(other, ">=")

    __eq__ = str.__eq__
    __hash__ = str.__hash__

    @property
    def major(self) -> int:
        return self.parts[0]


def is_dotted(text: str, *, parts: int | None = None) -> bool:
    try:
        value = parse_dotted(text)
    except ValueError:
        return False
    return parts is None or len(value) == parts


def cuda_from_int(value: int) -> str:
    """The driver API's encoding, 1000*major + 10*minor (13000 -> "13.0", 12080 -> "12.8")."""
    return f"{value // 1000}.{(value % 1000) // 10}"


def major_minor(text: str) -> str:
    """`"12.5.1"` -> `"12.5"`; `"12"` -> `"12.0"`."""
    nums = parse_dotted(text)
    return f"{nums[0]}.{nums[1] if len(nums) > 1 else 0}"
