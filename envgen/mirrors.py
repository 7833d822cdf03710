"""Choosing the package index: a preset by name, a URL, or `auto` (the fastest that answers).

`--mirror NAME` takes a preset from the knowledge base (mirrors.toml); `--mirror URL` makes a
one-off mirror of a PyPI simple index (conda channels stay canonical); `--mirror auto` probes every
preset concurrently with a short timeout and takes the fastest that answered, keeping the rest in
the order to fall back on. An `http://` URL is refused unless the caller opts in, because pip then
needs `--trusted-host` and the traffic is not encrypted (kb-platform.md §5.4).

A URL is validated strictly where it enters (`parse_index_url`), because it is written into
requirements.txt, a Dockerfile, pip.conf and uv.toml: one absolute http(s) URL with a host, made
only of the characters RFC 3986 allows, with nothing after it. A login in it (`user:token@`) is
split off at once: files name the index without it (envgen.credentials).

Probing uses only the standard library (urllib in threads): one small GET per candidate, so
`auto` costs at most one timeout, not one per mirror. urllib.request costs ~20 ms to import, so
it loads only when probing (`envgen --help` imports this module through the render parser).
"""

from __future__ import annotations

import ipaddress
import re
import string
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from envgen.credentials import redact, redact_value, split_login, with_login
from envgen.errors import OptionError, UsageError
from envgen.kb.mirrors import DEFAULT, Mirror, MirrorTable

AUTO = "auto"
# The name a mirror given by URL carries.
CUSTOM = "custom"
# Long enough for a healthy mirror across a continent, short enough that `auto` stays interactive.
PROBE_TIMEOUT_S = 3.0
# Every simple index serves this page; pip itself is there on every mirror, and the page is small.
PROBE_PATH = "pip/"

# Index URLs longer than this are refused before any parsing: real ones are under 200 characters,
# and the bound keeps validation time bounded whatever the input.
MAX_URL = 2048
# RFC 3986 §2: unreserved, reserved and `%`, the characters a URL may hold unencoded, less the
# apostrophe: it would re-quote a Dockerfile word or a requirements.txt option (shlex), and
# `%27` means the same to an index. Everything else (space, quotes, `\`, `{`, non-ASCII) must be
# percent-encoded, so a URL that needs none of them is safe in every file format envgen writes.
_URL_CHARS = frozenset(string.ascii_letters + string.digits + "-._~:/?#[]@!$&()*+,;=%")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# A DNS label (RFC 1123: at most 63 characters, no `-` at either end; `_` as internal names use).
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
_PORT = re.compile(r"[0-9]{1,5}")
# A preset's name as mirrors.toml could hold one (the table says which exist).
_PRESET = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class IndexURL:
    """An index URL that passed validation."""

    scheme: str
    """`https` or `http`, lowercase."""
    public: str
    """The URL without its login: what files may name."""
    login: str | None = field(default=None, repr=False)
    """`user:token` as given (percent-encoded), or None."""


def _shown(value: str) -> str:
    """A value for an error message: its login redacted, cut to a readable length, repr()."""
    shown = redact_value(value)
    return repr(shown if len(shown) <= 100 else shown[:99] + "…")


def _bad(option: str, value: str, why: str) -> OptionError:
    # OptionError: the CLI names it by how the value was set (--mirror, ENVGEN_MIRROR, the key).
    return OptionError(
        option,
        f"{_shown(value)} is not a usable index URL: {why}",
        hint="give one https URL with a host, e.g. https://pypi.example.org/simple",
    )


def parse_index_url(value: str, option: str = "mirror") -> IndexURL:
    """Validate `value` as one absolute http(s) index URL; any other input -> UsageError."""
    if len(value) > MAX_URL:
        raise _bad(option, value, f"longer than {MAX_URL} characters")
    if not value.isprintable() or any(ch.isspace() for ch in value):
        raise _bad(option, value, "it holds whitespace, a line break or a control character")
    bad = sorted(set(value) - _URL_CHARS)
    if bad:
        # Which characters, unless they may belong to a login (that is never shown).
        shown = repr("".join(bad)) if "@" not in value else "some characters"
        raise _bad(option, value, f"{shown} must be percent-encoded in a URL")
    scheme = _SCHEME.match(value)
    if scheme is None:
        raise _bad(option, value, "it does not start with https://")
    if scheme.group(1).lower() not in ("https", "http"):
        raise _bad(option, value, "only http(s) URLs are indexes")
    rest = value[scheme.end() :]
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    if "#" in tail:
        raise _bad(option, value, "an index URL has no #fragment")
    if authority.count("@") > 1:
        raise _bad(option, value, "more than one @ (percent-encode an @ in the login as %40)")
    if "[" in tail or "]" in tail:
        raise _bad(option, value, "brackets belong only around an IPv6 host")
    userinfo, _, hostport = authority.rpartition("@")
    if "[" in userinfo or "]" in userinfo:
        raise _bad(option, value, "brackets belong only around an IPv6 host")
    _check_host(option, value, hostport)
    public, login = split_login(value)
    return IndexURL(scheme.group(1).lower(), public, login)


def _check_host(option: str, value: str, hostport: str) -> None:
    """`host[:port]` of the authority: a DNS name, IPv4 or [IPv6] address, and a port number."""
    if hostport.startswith("["):
        host, bracket, after = hostport[1:].partition("]")
        if not bracket:
            raise _bad(option, value, "an IPv6 host lacks its closing ]")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise _bad(option, value, "its [host] is not an IPv6 address") from None
    else:
        host, colon, digits = hostport.partition(":")
        after = colon + digits
        if not host:
            raise _bad(option, value, "it names no host")
        if not all(_LABEL.fullmatch(label) for label in host.removesuffix(".").split(".")):
            raise _bad(option, value, "its host is not a host name (letters, digits, - and _)")
    if after:
        digits = after.removeprefix(":")
        if after == digits or not _PORT.fullmatch(digits) or not 0 < int(digits) < 65536:
            raise _bad(option, value, "what follows the host is not a :port number")


@dataclass(frozen=True)
class Probe:
    """One candidate's answer: seconds to the first byte, or the error."""

    name: str
    url: str
    seconds: float | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "seconds": self.seconds, "error": self.error}


@dataclass(frozen=True)
class MirrorChoice:
    """The mirror render applies, and how it was chosen."""

    mirror: Mirror
    insecure: bool = False
    """An http:// index the user explicitly allowed: pip needs `--trusted-host`."""
    fallbacks: tuple[str, ...] = ()
    """`auto`: the other candidates that answered, fastest first."""
    probes: tuple[Probe, ...] = field(default=(), compare=False)
    login: str | None = field(default=None, repr=False)
    """The URL's userinfo (`user:token`, as given): handed to installers at install time,
    never written to a file or printed (`install_url`)."""

    @property
    def spec(self) -> str:
        """What `--mirror` takes to get this mirror again: the preset's name, or the URL
        (without its login: the login is given at install time)."""
        return self.mirror.pypi if self.mirror.name == CUSTOM else self.mirror.name

    @property
    def shown(self) -> str:
        """`spec` as headers and messages show it: a login stands as `***`, so that the
        regenerate line still says one is needed (and reproduces the same files)."""
        return redact(self.install_url) if self.mirror.name == CUSTOM else self.spec

    @property
    def install_url(self) -> str:
        """The index URL an installer needs, login included: pass it only through an
        installer's environment (UV_INDEX_URL, PIP_INDEX_URL), never argv or a file."""
        return with_login(self.mirror.pypi, self.login)

    @property
    def trusted_host(self) -> str | None:
        if not self.insecure:
            return None
        try:
            return urlsplit(self.mirror.pypi).hostname
        except ValueError:  # not from parse_index_url: a Mirror made in code
            raise UsageError(f"mirror {self.mirror.pypi!r} names no host") from None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.mirror.name, "pypi": self.mirror.pypi}
        if self.login is not None:
            out["login"] = "given (used at install time, never written)"
        if self.insecure:
            out["trusted-host"] = self.trusted_host
        if self.probes:
            out["fallbacks"] = list(self.fallbacks)
            out["probes"] = [p.to_dict() for p in self.probes]
        return out


def custom_mirror(url: str) -> Mirror:
    """A PyPI simple index given by URL (without a login); conda channels are left canonical."""
    return Mirror(
        name=CUSTOM,
        title=f"custom index {urlsplit(url).hostname}",
        pypi=url,
        conda_pkgs=None,
        conda_cloud=None,
        conda_channels=(),
        source="--mirror URL",
    )


def probe_one(name: str, url: str, timeout: float) -> Probe:
    """Time one GET of the index's `pip/` page; any failure is an answer too."""
    import http.client
    import urllib.error
    import urllib.request

    target = url.rstrip("/") + "/" + PROBE_PATH
    start = time.monotonic()
    try:
        # S310: the scheme is checked by the caller (http/https only).
        with urllib.request.urlopen(target, timeout=timeout) as response:  # noqa: S310
            response.read(1)
    # http.client's errors (a malformed status line, a body cut short) are not OSErrors.
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Probe(name, url, None, f"{type(exc).__name__}: {reason}")
    return Probe(name, url, round(time.monotonic() - start, 3))


Prober = Callable[[str, str, float], Probe]


def probe_all(
    candidates: Sequence[tuple[str, str]],
    *,
    timeout: float = PROBE_TIMEOUT_S,
    prober: Prober = probe_one,
) -> list[Probe]:
    """Probe every (name, url) at once; answers first (fastest first), then failures by name."""
    import concurrent.futures

    if not candidates:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(candidates)) as pool:
        probes = list(pool.map(lambda c: prober(c[0], c[1], timeout), candidates))
    return sorted(probes, key=lambda p: (p.seconds is None, p.seconds or 0.0, p.name))


def choose(
    spec: str,
    table: MirrorTable,
    *,
    allow_insecure: bool = False,
    option: str = "mirror",
    timeout: float = PROBE_TIMEOUT_S,
    prober: Prober = probe_one,
) -> MirrorChoice:
    """Turn `--mirror NAME|URL|auto` into a MirrorChoice. Errors are `OptionError`s of `option`:
    the CLI names them by how the value was set (`--mirror`, `ENVGEN_MIRROR`, the config key)."""
    if not isinstance(spec, str):
        raise OptionError(option, f"expected a mirror name or URL, got {type(spec).__name__}")
    value = spec.strip(" ")
    if value.lower() == AUTO:
        probes = probe_all(
            [(m.name, m.pypi) for m in table.mirrors], timeout=timeout, prober=prober
        )
        answered = [p for p in probes if p.seconds is not None]
        if not answered:
            # Nothing answered: keep the canonical index; the build will report the network.
            return MirrorChoice(table.get(DEFAULT), probes=tuple(probes))
        return MirrorChoice(
            table.get(answered[0].name),
            fallbacks=tuple(p.name for p in answered[1:]),
            probes=tuple(probes),
        )
    if "://" not in value and "@" not in value and ":" not in value:
        if not _PRESET.fullmatch(value):
            raise OptionError(
                option,
                f"{_shown(value)} is neither a preset name nor an https URL",
                hint=f"available: {', '.join(table.names())}, auto, or https://host/simple",
            )
        try:
            return MirrorChoice(table.get(value))
        except UsageError as exc:
            raise OptionError(option, exc.message, hint=exc.hint) from None
    url = parse_index_url(value, option)
    if url.scheme == "http" and not allow_insecure:
        raise OptionError(
            option,
            f"mirror {url.public!r} is plain http: packages would travel unencrypted",
            hint="use its https URL, or pass --allow-insecure-mirror to trust it anyway",
        )
    return MirrorChoice(custom_mirror(url.public), insecure=url.scheme == "http", login=url.login)


# --- saying why ----------------------------------------------------------------------------------


def _probe_text(probe: Probe) -> str:
    if probe.seconds is not None:
        return f"{probe.name} {probe.seconds:.2f} s"
    # The reason as the probe recorded it, cut to stay one readable line.
    why = (probe.error or "no answer").split(": ", 1)[-1][:60]
    return f"{probe.name} ({why})"


def explain(choice: MirrorChoice, source: str = "--mirror", given: bool = True) -> list[str]:
    """Why this index: for `auto`, what was probed, each latency and why the winner won; for a
    name or URL, where it was named (`source`: --mirror, ENVGEN_MIRROR, the config key), or
    that it is the default. Lines for a person; `MirrorChoice.to_dict` is the same for --json."""
    head = f"{choice.mirror.name} ({choice.shown})"
    if not choice.probes:
        why = f"named by {source}" if given else "the default (no --mirror given)"
        return [f"{head}: {why}"]
    answered = [p for p in choice.probes if p.seconds is not None]
    silent = [p for p in choice.probes if p.seconds is None]
    lines = []
    if answered:
        lines.append(
            f"{head}: fastest of the {len(answered)} of {len(choice.probes)} mirrors that "
            f"answered {PROBE_PATH} ({source} auto)"
        )
        lines.append("answered: " + ", ".join(_probe_text(p) for p in answered))
    else:
        lines.append(
            f"{head}: no mirror answered within the probe's timeout ({source} auto); "
            "keeping the canonical index"
        )
    if silent:
        lines.append("no answer: " + ", ".join(_probe_text(p) for p in silent))
    return lines


def next_mirror_hint(
    choice: MirrorChoice,
    table: MirrorTable,
    *,
    timeout: float = PROBE_TIMEOUT_S,
    prober: Prober = probe_one,
) -> str:
    """The advice under a failure to reach `choice`: the next mirror to try, named.

    `auto` already knows the ones that answered; otherwise every other preset is probed now (at
    once, so this costs one timeout) and the fastest that answers is named. With none
    answering, the way out is a bundle made where the network works."""
    # A custom index is named by its URL (login redacted): "custom" alone says nothing.
    failed = choice.shown
    if choice.fallbacks:
        nxt = choice.fallbacks[0]
        return (
            f"{failed} failed from here; retry with --mirror {nxt} "
            f"(the next fastest that answered), or --mirror auto to probe again"
        )
    others = [(m.name, m.pypi) for m in table.mirrors if m.name != choice.mirror.name]
    probes = probe_all(others, timeout=timeout, prober=prober)
    answered = [p for p in probes if p.seconds is not None]
    if answered:
        best = answered[0]
        return (
            f"{failed} did not work from here; {best.name} answered in "
            f"{best.seconds:.2f} s: retry with --mirror {best.name}, or --mirror auto to take "
            "the fastest (the lock's hashes decide, whichever serves the files)"
        )
    tried = ", ".join(p.name for p in probes) or "none"
    return (
        f"{failed} did not work and no other index answered from here (probed {tried} within "
        f"{timeout:g} s): check the network "
        "or HTTPS_PROXY; with no network at all, make a bundle where there is one (envgen "
        "bundle) and install it here with envgen create --from-bundle FILE"
    )


def torch_index_mirror(value: str | None, option: str = "torch_mirror") -> IndexURL | None:
    """`--torch-mirror`: a mirror of the PyTorch index (https only), validated as every index URL
    is; None when none is given."""
    if value is None or not value.strip():
        return None
    url = parse_index_url(value.strip(), option)
    if url.scheme != "https":
        raise _bad(option, value, "a PyTorch index mirror must be https")
    return url


def through_mirror(urls: tuple[str, ...], canonical: str, mirror: str | None) -> tuple[str, ...]:
    """Each index under `canonical` (https://download.pytorch.org/whl) read through `mirror`,
    which serves the same layout (`<mirror>/cu126`); the others, and all without a mirror, as
    they are. Locks keep `urls` themselves: this is for installs and rendered files."""
    if mirror is None:
        return urls
    base = canonical.rstrip("/") + "/"
    return tuple(
        mirror.rstrip("/") + "/" + url[len(base) :] if url.startswith(base) else url for url in urls
    )
