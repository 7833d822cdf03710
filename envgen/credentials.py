"""Logins in index URLs: kept out of every file and every printed line.

A private index is often given as `https://user:token@host/simple`. The files envgen writes name
the index without its login (`https://host/simple`); the login reaches an installer only at
install time, through its environment (`UV_INDEX_URL`, `PIP_INDEX_URL`) or, for an image build,
as a netrc build secret. Anything envgen prints — a logged command line, a quoted tool output, an
error about a mirror — passes through `redact` first.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from envgen.errors import UsageError

# `scheme://` then anything up to the last `@` of the same word: the userinfo of a URL. Greedy
# on purpose: a malformed URL (`https://u:p/w@host`) is redacted too, at the cost of the host.
_USERINFO = re.compile(r"(?<=://)\S*@")
REDACTED = "***"


def redact(text: str) -> str:
    """`text` with the userinfo of every URL in it replaced by `***`."""
    return _USERINFO.sub(REDACTED + "@", text)


def redact_value(value: str) -> str:
    """One value given as a URL, redacted even without a scheme (`user:token@host/simple`)."""
    head, at, tail = value.rpartition("@")
    if not at:
        return value
    scheme = head.split("://", 1)[0] + "://" if "://" in head else ""
    return f"{scheme}{REDACTED}@{tail}"


def with_login(url: str, login: str | None) -> str:
    """`https://host/simple` and `user:token` -> `https://user:token@host/simple`."""
    if not login:
        return url
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{login}@{rest}" if sep else url


def split_login(url: str) -> tuple[str, str | None]:
    """`https://user:token@host/simple` -> (`https://host/simple`, `user:token`)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url, None
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    userinfo, at, host = rest[:end].rpartition("@")
    if not at:
        return url, None
    return f"{scheme}://{host}{rest[end:]}", userinfo or None


def netrc_entry(host: str, login: str) -> str:
    """The netrc line that gives `login` (percent-encoded `user[:password]`) for `host`.

    netrc separates tokens by whitespace and pip's reader (the standard library's netrc) and
    uv's differ on quoting, so a decoded user or password holding whitespace, a quote, a
    backslash or a control character is refused rather than quoted.
    """
    user, _, password = login.partition(":")
    user, password = unquote(user), unquote(password)
    for part in (user, password):
        if not part.isprintable() or any(c.isspace() or c in "\"'\\#" for c in part):
            raise UsageError(
                f"the login for {host} cannot be written as a netrc entry "
                "(whitespace, quotes, backslashes or control characters)",
                hint="give the image build a netrc secret of your own: --secret id=netrc,src=FILE",
            )
    return f"machine {host} login {user} password {password}\n"


def basic_auth(login: str | None) -> dict[str, str]:
    """The HTTP header that sends `login` (percent-encoded `user[:password]`, as a URL holds it)
    the way pip does, HTTP Basic (RFC 7617); none without a login. Sent, never logged."""
    import base64

    if not login:
        return {}
    user, _, password = login.partition(":")
    token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}
