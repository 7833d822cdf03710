"""The second wall: every value a template writes is escaped for the format it lands in.

Values are validated where they enter (a mirror in `envgen.mirrors`, single-line flags through
`single_line`); this module makes sure that whatever still reaches a template cannot start a new
line of the output or change its structure. One function per output format:

| filter         | where the value lands                              | what it does                        |
|----------------|----------------------------------------------------|-------------------------------------|
| `comment`      | after `#` in any file                              | shows control characters as escapes |
| `yaml`, `toml` | a double-quoted YAML scalar / TOML basic string    | escapes quotes, backslashes, every  |
|                |                                                    | character outside printable ASCII   |
| `docker`       | one word of a Dockerfile instruction (ARG, COPY)   | escapes `$`; refuses what it cannot |
|                |                                                    | carry (whitespace, quotes, `\\`)    |
| `requirements` | one word of a requirements.txt line                | refuses whitespace, quotes, `\\`,   |
|                |                                                    | `#` and `${` (pip's own syntax)     |
| `requirement`  | a requirement line of requirements.txt             | the same, and it must be PEP 508    |
| `ini`          | a pip.conf value                                   | refuses line breaks, edge spaces    |
| `name`         | a bare key: a YAML key, an ENV name                | refuses anything but an identifier  |
| `lines`        | a template macro's own output                      | checks it holds no hidden breaks    |
| `sh`           | one word of a POSIX shell script (install.sh, an   | single-quotes it; refuses line      |
|                | activation script)                                 | breaks and hidden characters        |
| `ps1`          | one word of a PowerShell script (install.ps1)      | single-quotes it, doubling each of  |
|                |                                                    | PowerShell's five single quotes     |
| `python`       | a Python string literal (a `.pth` line)            | ascii() of one line                 |

Each filter returns `Field`, and the Jinja environment's `finalize` refuses any output that is
not a `Field`: a template that forgets its filter fails in the tests instead of leaking a value.
The command line written into headers is built by `shell_join`, which quotes control characters
in bash's `$'…'` form, so it stays one line and can still be copied into a shell.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable

from envgen.errors import UsageError


class Field(str):
    """Text a format filter produced: safe to place where that filter's format expects it."""

    __slots__ = ()


# Backslash forms every consumer here reads the same way (C, bash $'…', YAML, TOML).
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}

# YAML 1.1 resolves these plain scalars to booleans or null (yaml.org/type/bool.html,
# yaml.org/type/null.html); PyYAML still does, so a key spelled like them must not stay plain.
_YAML_WORDS = frozenset(
    {
        *("y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO"),
        *("true", "True", "TRUE", "false", "False", "FALSE"),
        *("on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL"),
    }
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def _code(ch: str) -> str:
    """`\\xNN`, `\\uNNNN` or `\\UNNNNNNNN`: a character written as its code point."""
    n = ord(ch)
    if n < 0x80:
        return f"\\x{n:02x}"
    return f"\\u{n:04x}" if n <= 0xFFFF else f"\\U{n:08x}"


def visible(text: str) -> str:
    """`text` with every non-printable character (line breaks, ESC, U+2028, lone surrogates,
    format characters) written as a backslash escape, as repr() would show it."""
    return "".join(ch if ch.isprintable() else _SHORT.get(ch) or _code(ch) for ch in text)


def is_single_line(text: str) -> bool:
    """No character that any output format could read as a line break or hide: all printable
    (space allowed). Python's isprintable() is false for Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs but
    the space, which covers every line break YAML (NEL, LS, PS), TOML, pip and Docker know."""
    return text.isprintable()


def single_line(value: str, source: str) -> str:
    """Entry validation of a value that goes into a file: one line, nothing hidden."""
    if not is_single_line(value):
        raise UsageError(
            f"{source}: {value!r} contains a line break or another control character",
            hint="give the value on one line, without control characters",
        )
    return value


def _refuse(value: str, where: str, why: str) -> UsageError:
    return UsageError(f"{value!r} cannot be written into {where}: {why}")


# --- the filters ---------------------------------------------------------------------------------


def comment(value: object) -> Field:
    """Text after `#`: kept as is where printable, control characters shown as escapes."""
    return Field(visible(str(value)))


def quoted(value: object) -> Field:
    """A double-quoted string that is valid YAML and TOML alike (and JSON, for printable ASCII).

    Everything outside printable ASCII is escaped, so neither format's rules on raw control,
    C1 or non-characters matter; lone surrogates (undecodable bytes from argv or a file name)
    have no valid escape in either and are refused.
    """
    text = str(value)
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            raise _refuse(text, "a quoted YAML or TOML string", "it holds undecodable bytes")
        else:
            out.append(_SHORT.get(ch) or _code(ch).replace("\\x", "\\u00"))
    out.append('"')
    return Field("".join(out))


def docker(value: object) -> Field:
    """One word of a Dockerfile instruction (ARG default, COPY path, ENV value, USER).

    Docker substitutes `$NAME` in these words and honours `\\$` as a literal dollar (docs.docker
    .com/reference/dockerfile/#environment-replacement); whitespace and quotes would split or
    re-quote the word, so they are refused rather than guessed at.
    """
    text = str(value)
    if not text or not is_single_line(text):
        raise _refuse(
            text, "a Dockerfile", "it is empty or holds a line break or control character"
        )
    bad = sorted({ch for ch in text if ch.isspace() or ch in "\"'\\`"})
    if bad:
        raise _refuse(text, "a Dockerfile", f"it holds {''.join(bad)!r}")
    return Field(text.replace("$", "\\$"))


def requirements(value: object) -> Field:
    """One word of a requirements.txt line: a requirement or an option's argument.

    pip joins a line ending in `\\`, drops ` #…` as a comment, expands `${VAR}` and splits
    option lines with shlex (pip's req_file.py), so none of those may appear in a value.
    """
    text = str(value)
    if not text or not is_single_line(text):
        raise _refuse(
            text, "requirements.txt", "it is empty or holds a line break or control character"
        )
    bad = sorted({ch for ch in text if ch.isspace() or ch in "\"'\\#"})
    if bad or "${" in text:
        raise _refuse(text, "requirements.txt", f"it holds {''.join(bad) or '${'!r}")
    return Field(text)


def requirement(value: object) -> Field:
    """A requirement line of requirements.txt: one word (as above) that pip can parse (PEP 508,
    read with packaging, the parser pip itself vendors)."""
    from packaging.requirements import InvalidRequirement, Requirement

    text = requirements(value)
    try:
        Requirement(text)
    except InvalidRequirement:
        raise _refuse(text, "requirements.txt", "it is not a PEP 508 requirement") from None
    return text


def ini(value: object) -> Field:
    """A value in pip.conf (configparser without interpolation or inline comments)."""
    text = str(value)
    if not text or not is_single_line(text) or text != text.strip():
        raise _refuse(text, "pip.conf", "a value there is one line without edge spaces")
    return Field(text)


def name(value: object) -> Field:
    """A bare key (a YAML mapping key, a Dockerfile ENV name): an identifier, written plain."""
    text = str(value)
    if not _NAME.fullmatch(text) or text in _YAML_WORDS:
        raise _refuse(text, "a key", "keys are identifiers (letters, digits, _ . -)")
    return Field(text)


def python(value: object) -> Field:
    """A Python string literal (a `.pth` line that sets a variable): ascii() of one line, so
    quotes, backslashes and anything outside printable ASCII are escapes."""
    return Field(ascii(_one_line(value, "a Python line")))


def lines(value: object) -> Field:
    """A macro's output: template lines around fields that were escaped inside the macro.

    Only macro calls take this filter (a unit test walks every template to hold that); the
    check here is the last line of defence, not the escape.
    """
    text = str(value)
    if not all(is_single_line(line) for line in text.split("\n")):
        raise _refuse(text, "a template", "a macro produced a hidden line break")
    return Field(text)


def _one_line(value: object, where: str) -> str:
    text = str(value)
    if not is_single_line(text):
        raise _refuse(text, where, "it holds a line break or another control character")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise _refuse(text, where, "it holds undecodable bytes")
    return text


def sh(value: object) -> Field:
    """One word of a POSIX shell script (install.sh, a conda activation script's value): inside
    `'…'` nothing is special but the quote itself (`$ORIGIN` reaches the dynamic loader as written),
    written `'\\''` (POSIX, Shell Command Language §2.2.2). A line break is refused rather than
    quoted: no value may start a line of the script."""
    return Field("'" + _one_line(value, "a shell script").replace("'", "'\\''") + "'")


# PowerShell ends a single-quoted string on the typographic single quotes as well as on `'`,
# and reads each of them doubled as one literal quote (about_Quoting_Rules, "Including quote
# characters in a string"; PowerShell-Docs#11405).
_PS_QUOTES = frozenset("'\u2018\u2019\u201a\u201b")


def ps1(value: object) -> Field:
    """One word of a PowerShell script: a single-quoted string (nothing expands in it, neither
    `$` nor a backtick), each of PowerShell's single quotes doubled."""
    text = _one_line(value, "a PowerShell script")
    return Field("'" + "".join(ch * 2 if ch in _PS_QUOTES else ch for ch in text) + "'")


FILTERS = {
    "comment": comment,
    "yaml": quoted,
    "toml": quoted,
    "docker": docker,
    "requirements": requirements,
    "requirement": requirement,
    "ini": ini,
    "name": name,
    "lines": lines,
    "sh": sh,
    "ps1": ps1,
    "python": python,
}


def finalize(value: object) -> Field:
    """Jinja's `finalize`: every `{{ … }}` must end in one of FILTERS."""
    if isinstance(value, Field):
        return value
    # A template bug, not bad input: it must fail loudly in the tests.
    raise TypeError(f"template field {value!r} reached the output without a format filter")


# --- command lines -------------------------------------------------------------------------------


def _ansi_c(arg: str) -> str:
    """bash's $'…' quoting: the one shell form that writes any byte on one visible line."""
    out = []
    for ch in arg:
        if ch in "'\\":
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif 0xDC80 <= ord(ch) <= 0xDCFF:
            # A byte that was not UTF-8 (os.fsdecode's surrogateescape): write the byte back.
            out.append(f"\\x{os.fsencode(ch)[0]:02x}")
        else:
            out.append(_SHORT.get(ch) or _code(ch))
    return "$'" + "".join(out) + "'"


def shell_join(argv: Iterable[str]) -> str:
    """shlex.join, except that an argument with control characters is written as $'…', so the
    line stays one line in a header comment and still pastes into bash or zsh as it was."""
    return " ".join(shlex.quote(a) if is_single_line(a) else _ansi_c(a) for a in argv)
