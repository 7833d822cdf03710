"""Choosing the package index: a preset by name, a URL, or `auto` (the fastest that answers).

`--mirror NAME` takes a preset from the knowledge base (mirrors.toml); `--mirror URL` makes a
one-off mirror of a PyPI simple index (conda channels stay canonical); `--mirror auto` probes every
preset concurrently with a short timeout and takes the fastest that answered, keeping the rest in
the order to fall back on. An `http://` URL is refused unless the caller opts in, because pip then
needs `--trusted-host` and the traffic is not encrypted (kb-platform.md §5.4).

Probing uses only the standard library (urllib in threads): one small GET per candidate, so
`auto` costs at most one timeout, not one per mirror. urllib.request costs ~20 ms to import, so
it loads only when probing (`envgen --help` imports this module through the render parser).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from envgen.documents import shown
from envgen.errors import OptionError, UsageError
from envgen.kb.mirrors import DEFAULT, Mirror, MirrorTable

AUTO = "auto"
# The name a mirror given by URL carries.
CUSTOM = "custom"
# Long enough for a healthy mirror across a continent, short enough that `auto` stays interactive.
PROBE_TIMEOUT_S = 3.0
# Every simple index serves this page; pip itself is there on every mirror, and the page is small.
PROBE_PATH = "pip/"


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

    @property
    def spec(self) -> str:
        """What `--mirror` takes to get this mirror again: the preset's name, or the URL."""
        return self.mirror.pypi if self.mirror.name == CUSTOM else self.mirror.name

    @property
    def trusted_host(self) -> str | None:
        return urlsplit(self.mirror.pypi).hostname if self.insecure else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.mirror.name, "pypi": self.mirror.pypi}
        if self.insecure:
            out["trusted-host"] = self.trusted_host
        if self.probes:
            out["fallbacks"] = list(self.fallbacks)
            out["probes"] = [p.to_dict() for p in self.probes]
        return out


def custom_mirror(url: str) -> Mirror:
    """A PyPI simple index given by URL; conda channels are left canonical."""
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
    import urllib.error
    import urllib.request

    target = url.rstrip("/") + "/" + PROBE_PATH
    start = time.monotonic()
    try:
        # S310: the scheme is checked by the caller (http/https only).
        with urllib.request.urlopen(target, timeout=timeout) as response:  # noqa: S310
            response.read(1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
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
    timeout: float = PROBE_TIMEOUT_S,
    prober: Prober = probe_one,
) -> MirrorChoice:
    """Turn `--mirror NAME|URL|auto` into a MirrorChoice."""
    value = spec.strip()
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
    scheme = urlsplit(value).scheme
    if scheme == "https":
        return MirrorChoice(custom_mirror(value))
    if scheme == "http":
        if not allow_insecure:
            raise OptionError(
                "mirror",
                f"{shown(value)} is plain http: packages would travel unencrypted",
                hint="use its https URL, or pass --allow-insecure-mirror to trust it anyway",
            )
        return MirrorChoice(custom_mirror(value), insecure=True)
    if scheme:
        raise OptionError(
            "mirror", f"{shown(value)}: only http(s) URLs are indexes", hint="use https://…"
        )
    try:
        return MirrorChoice(table.get(value))
    except UsageError as exc:  # not a preset's name
        raise OptionError("mirror", exc.message, hint=exc.hint) from exc
