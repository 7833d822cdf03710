"""Dotted numeric versions (drivers, CUDA, compute capability) as comparable tuples.

`packaging.version` is right for Python package versions, but costs an import on the detection path
and accepts forms these never take; driver and CUDA versions are plain dotted integers.
"""

from __future__ import annotations

Dotted = tuple[int, ...]


def parse_dotted(text: str) -> Dotted:
    """`"580.159.04"` -> `(580, 159, 4)`; `ValueError` for anything that is not dotted integers."""
    parts = text.strip().split(".")
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a dotted version: {text!r}")
    return tuple(int(p) for p in parts)


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
