"""Documents from outside envgen, parsed and checked so that any input is a value or one error.

Profiles, the project's `[tool.envgen]` table, lock indexes and locks come from people and other
tools. Their readers parse here and read values through `Table`, so every failure is one
`InputFileError` naming the document and the exact key: bad syntax; nesting deep enough to
exhaust Python's stack inside tomllib or json (a RecursionError, not a syntax error); an integer
literal too long to convert (Python's int/str limit raises ValueError); a wrong type; a number
where a quoted version belongs; a control character that would start a new line in an output; a
list far longer than any real document has. Errors show values through `shown()`: a bounded
repr() that stays on one line whatever the value holds.
"""

from __future__ import annotations

import difflib
import json
import re
import reprlib
import tomllib
from typing import Any

from envgen.errors import UNSAFE_CHARS, InputFileError
from envgen.versions import is_dotted

# Real documents nest 3 (profile) to 5 (pylock) levels deep; a limit far above that keeps every
# later recursive walk (comparison, repr, serialisation) far from Python's recursion limit.
MAX_DEPTH = 32
# The longest list a real document holds is a CPU's flags (118 in tests/data/cpuinfo, about 250 on
# the newest Xeons); lists are capped so that no reader or later stage iterates a million entries.
MAX_ITEMS = 1024
# The packages of one lock: a whole monorepo's stays far below; bounds what a hostile file costs.
MAX_PACKAGES = 10_000

# A TOML bare key; anything else is shown quoted, so a key cannot break a message either.
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SHA256 = re.compile(r"[0-9a-f]{64}")

_REPR = reprlib.Repr()
_REPR.maxstring = 80
_REPR.maxother = 80
_REPR.maxlevel = 3
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6


def shown(value: object) -> str:
    """`value` for an error message: repr() (line breaks escaped), cut to a readable length."""
    try:
        return _REPR.repr(value)
    except ValueError:  # an int beyond Python's int/str conversion limit
        return f"<an integer of {value.bit_length()} bits>" if isinstance(value, int) else "<?>"


def bad_char(text: str) -> str | None:
    """The first character of `text` no value may hold (errors.UNSAFE_CHARS), or None."""
    found = UNSAFE_CHARS.search(text)
    return None if found is None else found.group()


def is_plain_name(text: str) -> bool:
    """Is `text` a file name inside its folder: not empty, `.` or `..`, no separator, no control
    character? A colon is refused too: on Windows `C:x` is drive-relative and `a:b` names an
    alternate data stream of `a`."""
    return (
        text not in ("", ".", "..")
        and not any(c in text for c in "/\\:")
        and bad_char(text) is None
    )


def is_sha256(text: str) -> bool:
    """A sha256 digest as lock files write it: 64 lower-case hex digits."""
    return _SHA256.fullmatch(text) is not None


def key_path(where: str, key: str) -> str:
    """`where.key`, with a key that is not a TOML bare key quoted (`os."a\\nb"`)."""
    part = key if _BARE_KEY.fullmatch(key) else json.dumps(key)
    return f"{where}.{part}" if where else part


def _check_depth(doc: Any, origin: str) -> None:
    # Iterative, so that the check itself cannot exhaust the stack it protects.
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_DEPTH:
            raise InputFileError(f"{origin}: nested more than {MAX_DEPTH} levels deep")
        stack.extend((child, depth + 1) for child in children)


def parse_toml(text: str, origin: str) -> dict[str, Any]:
    """A TOML document; any failure is an InputFileError naming `origin`."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(f"{origin}: not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise InputFileError(f"{origin}: nested too deeply to read") from exc
    except ValueError as exc:  # an integer literal over Python's int/str conversion limit
        raise InputFileError(f"{origin}: not valid TOML: {exc}") from exc
    _check_depth(doc, origin)
    return doc


def parse_json(text: str, origin: str) -> Any:
    """A JSON document; any failure is an InputFileError naming `origin`."""
    try:
        doc = json.loads(text)
    except RecursionError as exc:
        raise InputFileError(f"{origin}: nested too deeply to read") from exc
    except ValueError as exc:  # JSONDecodeError, or an integer over the conversion limit
        raise InputFileError(f"{origin}: not valid JSON: {exc}") from exc
    _check_depth(doc, origin)
    return doc


class Table:
    """One table of a parsed document; every getter names the exact key on error.

    `where` is the table's dotted path in the document ("" for the top level), `origin` names the
    document (usually its path), `hint` is the second line of every error.
    """

    def __init__(self, data: Any, where: str, origin: str, *, hint: str = "") -> None:
        self.where = where
        self.origin = origin
        self.hint = hint
        if not isinstance(data, dict):
            raise InputFileError(
                f"{origin}: {where or 'the document'}: expected a table, got {shown(data)}",
                hint=hint,
            )
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def path(self, key: str) -> str:
        return key_path(self.where, key)

    def fail(self, key: str, problem: str, *, hint: str | None = None) -> InputFileError:
        return InputFileError(
            f"{self.origin}: {self.path(key)}: {problem}",
            hint=self.hint if hint is None else hint,
        )

    def get(self, key: str) -> Any:
        self.used.add(key)
        return self.data.get(key)

    def _plain(self, key: str, value: str) -> str:
        char = bad_char(value)
        if char is not None:
            raise self.fail(key, f"holds the control character {char!r}: {shown(value)}")
        return value

    def string(
        self, key: str, *, choices: tuple[str, ...] = (), dotted: bool = False
    ) -> str | None:
        """An optional non-empty string (stripped); `dotted`: a version like "12.5"."""
        value = self.get(key)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            # `version = 3.10` is the float 3.1 to TOML: reading it as a version would be wrong.
            hint = (
                f'write it in quotes: {key} = "{value}"'
                if isinstance(value, int)
                else f'write it in quotes ({key} = "3.10"): unquoted, TOML reads 3.10 as 3.1'
            )
            raise self.fail(
                key, f"expected a quoted string, got the number {shown(value)}", hint=hint
            )
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a non-empty string, got {shown(value)}")
        value = self._plain(key, value.strip())
        if choices and value not in choices:
            raise self.fail(key, f"expected one of {', '.join(choices)}, got {shown(value)}")
        if dotted and not is_dotted(value):
            raise self.fail(key, f'expected a dotted version like "12.5", got {shown(value)}')
        return value

    def text(self, key: str, **kwargs: Any) -> str:
        """A required string; see `string`."""
        value = self.string(key, **kwargs)
        if value is None:
            raise self.fail(key, "missing")
        return value

    def file_name(self, key: str) -> str | None:
        """An optional plain file name: the document's folder is the only place it can name."""
        value = self.string(key)
        if value is not None and not is_plain_name(value):
            raise self.fail(key, f"expected a file name in this folder, got {shown(value)}")
        return value

    def boolean(self, key: str) -> bool:
        value = self.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {shown(value)}")
        return value

    def integer(self, key: str, *, maximum: int | None = None) -> int | None:
        value = self.get(key)
        if value is None:
            return None
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < 0
            or (maximum is not None and value > maximum)
        ):
            bound = f" up to {maximum}" if maximum is not None else ""
            raise self.fail(key, f"expected a non-negative integer{bound}, got {shown(value)}")
        return value

    def _list(self, key: str, what: str, limit: int) -> list[Any]:
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, f"expected {what}, got {shown(value)}")
        if len(value) > limit:
            raise self.fail(key, f"{len(value)} entries; the limit is {limit}")
        return value

    def strings(self, key: str, *, limit: int = MAX_ITEMS) -> tuple[str, ...]:
        items = self._list(key, "a list of strings", limit)
        for item in items:
            if not isinstance(item, str):
                raise self.fail(key, f"expected a list of strings, got the entry {shown(item)}")
            self._plain(key, item)
        return tuple(items)

    def tables(self, key: str, *, limit: int = MAX_ITEMS) -> list[Table]:
        """An array of tables (`[[key]]`)."""
        items = self._list(key, "an array of tables ([[...]])", limit)
        return [
            Table(v, f"{self.path(key)}[{i}]", self.origin, hint=self.hint)
            for i, v in enumerate(items)
        ]

    def table(self, key: str) -> Table | None:
        value = self.get(key)
        return None if value is None else Table(value, self.path(key), self.origin, hint=self.hint)

    def mapping(self, key: str) -> dict[str, str]:
        """A table of strings (`[sources]`, `min-driver = { linux = "525.60.13" }`)."""
        sub = self.table(key)
        if sub is None:
            return {}
        if len(sub.data) > MAX_ITEMS:
            raise self.fail(key, f"{len(sub.data)} entries; the limit is {MAX_ITEMS}")
        out = {}
        for name in sub.data:
            sub._plain(name, name)
            value = sub.text(name)
            out[name] = value
        return out

    def done(self, *, hint: str | None = None) -> None:
        """Refuse keys no getter asked for, suggesting the closest known one."""
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            key = unknown[0]
            close = difflib.get_close_matches(key, sorted(self.used), n=1)
            raise self.fail(
                key,
                "unknown key" + (f" (did you mean {close[0]!r}?)" if close else ""),
                hint=hint,
            )
