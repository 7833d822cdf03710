"""Where each file of a bundle is downloaded from: its canonical URL, or the same file on a mirror.

Locks record canonical URLs (files.pythonhosted.org, conda.anaconda.org) and sha256; a mirror
serves the same files under other URLs. For a wheel, the mirror's own simple index page of the
project is read (PEP 691 JSON where the mirror speaks it, else PEP 503 HTML) and the link of the
same file name is taken; for a conda package, the mirror's copy of the channel
(`Mirror.channel_url`). Whatever URL is used, the download is checked against the lock's sha256:
the hashes decide, never the mirror (a link whose `#sha256=` disagrees with the lock is skipped).

Every page read is bounded, and every failure is an `ExternalToolError` (exit 5).
"""

from __future__ import annotations

import html.parser
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import unquote, urljoin, urlsplit

from envgen import __version__
from envgen.bundle.select import BundleFile
from envgen.errors import ExternalToolError
from envgen.kb.mirrors import DEFAULT, Mirror

# The hosts whose URLs locks record; only these are rewritten through a mirror.
PYPI_FILES = "files.pythonhosted.org"
CONDA_HOST = "conda.anaconda.org"
# numpy's project page on PyPI is about 2 MB of HTML; 64 MiB bounds a hostile one.
MAX_PAGE = 64 << 20
PAGE_TIMEOUT_S = 30.0
USER_AGENT = f"envgen/{__version__} (bundle)"
# PEP 691: ask for JSON, accept HTML from an index that only has that.
_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"

Opener = Callable[..., IO[bytes]]


def urlopen(request: Any, timeout: float) -> IO[bytes]:
    """The standard library's opener (HTTPS_PROXY and the system's CA store apply)."""
    import urllib.request

    # S310: every URL here is a lock's https URL or a validated mirror URL.
    response: IO[bytes] = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310
    return response


def request(url: str, headers: dict[str, str] | None = None) -> Any:
    import urllib.request

    # S310: the URL is a lock's https URL, or one a validated mirror's page linked to.
    return urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})  # noqa: S310


class _Links(html.parser.HTMLParser):
    """The `<a href>` links of a PEP 503 page, with their text."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


def parse_simple_page(
    body: bytes, content_type: str, base: str
) -> dict[str, tuple[str, str | None]]:
    """A simple index page -> {file name: (absolute URL, sha256 or None)}.

    PEP 691 JSON (`files[].filename/url/hashes`) or PEP 503 HTML (`<a href="…#sha256=…">`)."""
    out: dict[str, tuple[str, str | None]] = {}
    if "json" in content_type:
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return out
        files = doc.get("files") if isinstance(doc, dict) else None
        for row in files if isinstance(files, list) else []:
            if not isinstance(row, dict) or not isinstance(row.get("url"), str):
                continue
            name = row.get("filename")
            hashes = row.get("hashes")
            digest = hashes.get("sha256") if isinstance(hashes, dict) else None
            digest = digest if isinstance(digest, str) else None
            if isinstance(name, str):
                out[name] = (urljoin(base, row["url"]), digest)
        return out
    parser = _Links()
    parser.feed(body.decode("utf-8", errors="replace"))
    for href, text in parser.links:
        url = urljoin(base, href)
        parts = urlsplit(url)
        name = unquote(parts.path.rsplit("/", 1)[-1]) or text
        digest = None
        if parts.fragment.startswith("sha256="):
            digest = parts.fragment.removeprefix("sha256=")
        out[name] = (url.split("#", 1)[0], digest)
    return out


@dataclass
class Sources:
    """Turns a file's canonical URL into the URL it is downloaded from (one per mirror)."""

    mirror: Mirror | None = None
    """None, or the default preset: canonical URLs."""
    headers: dict[str, str] = field(default_factory=dict)
    """Extra request headers for the mirror (a login as HTTP Basic), never logged."""
    opener: Opener = urlopen
    _pages: dict[str, dict[str, tuple[str, str | None]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def canonical(self) -> bool:
        return self.mirror is None or self.mirror.name == DEFAULT

    def headers_for(self, url: str) -> dict[str, str]:
        """The mirror's extra headers for a URL on the mirror's own host, else none: a login
        never travels to another host (a file link that points elsewhere)."""
        if self.canonical or self.mirror is None or not self.headers:
            return {}
        same = urlsplit(url).hostname == urlsplit(self.mirror.pypi).hostname
        return dict(self.headers) if same else {}

    def url_for(self, file: BundleFile) -> str:
        if self.canonical or self.mirror is None:
            return file.url
        parts = urlsplit(file.url)
        if file.kind == "conda" and parts.hostname == CONDA_HOST:
            channel = parts.path.strip("/").split("/", 1)[0]
            base = self.mirror.channel_url(channel)
            if base is None:
                return file.url  # not mirrored there: the channel itself
            return f"{base}/{parts.path.strip('/').split('/', 1)[1]}"
        if parts.hostname != PYPI_FILES:
            return file.url  # a URL no index serves: as the lock says
        page = self._page(file.package)
        found = page.get(file.name)
        if found is None or (found[1] is not None and found[1] != file.sha256):
            raise ExternalToolError(
                f"the mirror {self.mirror.name} ({self.mirror.pypi}) has no {file.name} "
                f"with the lock's sha256"
            )
        return found[0]

    def _page(self, package: str) -> dict[str, tuple[str, str | None]]:
        assert self.mirror is not None
        with self._lock:
            cached = self._pages.get(package)
        if cached is not None:
            return cached
        base = self.mirror.pypi.rstrip("/") + f"/{package}/"
        try:
            with self.opener(
                request(base, {"Accept": _ACCEPT, **self.headers}), PAGE_TIMEOUT_S
            ) as resp:
                body = resp.read(MAX_PAGE + 1)
                content_type = str(getattr(resp, "headers", {}).get("Content-Type", ""))
                final = str(getattr(resp, "url", base) or base)
        except ExternalToolError:
            raise
        except Exception as exc:
            raise ExternalToolError(
                f"the mirror {self.mirror.name} did not serve {base}: {type(exc).__name__}: "
                f"{getattr(exc, 'reason', exc)}"
            ) from exc
        if len(body) > MAX_PAGE:
            raise ExternalToolError(f"{base} is over {MAX_PAGE} bytes: not a simple index page")
        page = parse_simple_page(body, content_type, final)
        with self._lock:
            self._pages[package] = page
        return page
