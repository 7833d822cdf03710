"""The installers' escapes: one word of a POSIX shell script, one of a PowerShell script."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envgen import escape
from envgen.errors import UsageError

# PowerShell's single quotes: ' and the typographic four (about_Quoting_Rules).
PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def read_powershell_single_quoted(text: str) -> tuple[str, str]:
    """PowerShell's reading of a single-quoted string at the start of `text`: (value, rest)."""
    assert text[0] in PS_QUOTES
    out, i = [], 1
    while i < len(text):
        ch = text[i]
        if ch in PS_QUOTES:
            if i + 1 < len(text) and text[i + 1] in PS_QUOTES:
                out.append(text[i + 1])
                i += 2
                continue
            return "".join(out), text[i + 1 :]
        out.append(ch)
        i += 1
    raise AssertionError("unterminated")


_PRINTABLE = st.text(
    st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")), max_size=30
).map(lambda s: s.replace("\u0085", ""))


@given(_PRINTABLE | st.text(st.sampled_from(PS_QUOTES + '$`"a '), max_size=12))
@settings(max_examples=400, deadline=None)
def test_a_value_reads_back_whole_in_both_shells(value: str) -> None:
    if not value.isprintable():
        return
    assert shlex.split(escape.sh(value)) == [value]
    read, rest = read_powershell_single_quoted(escape.ps1(value))
    assert (read, rest) == (value, "")


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "x\u2028y", "\x1b[31m", "\ud800"])
@pytest.mark.parametrize("fmt", [escape.sh, escape.ps1])
def test_nothing_that_could_start_a_line_gets_in(fmt: object, value: str) -> None:
    with pytest.raises(UsageError):
        fmt(value)  # type: ignore[operator]


def test_the_typographic_quote_cannot_end_a_powershell_string() -> None:
    # O\u2019Brien: one right single quotation mark would close the string in PowerShell.
    assert escape.ps1("O\u2019Brien; Remove-Item x") == "'O\u2019\u2019Brien; Remove-Item x'"
