"""The PyPI client of `envgen kb update`: GET with a timeout and a size cap, nothing else.

Three kinds of read, all through one injectable `Fetch` callable so tests replay recorded answers:

* the PEP 691 JSON simple index of a project (`simple`);
* a wheel's METADATA: PEP 658 `<wheel-url>.metadata` where PyPI serves it, otherwise the METADATA
  member read out of the wheel's zip with HTTP range requests (`metadata`). PyPI answers 404 for
  the `.metadata` of most TensorFlow wheels uploaded before 2025, so the range read is the common
  path: three small requests instead of a 500 MB download.

Failures are `ExternalToolError` (exit 5) naming the URL; a 404 is `ResourceNotFoundError`, which
callers treat as an answer (no such project, no PEP 658 file).
"""

from __future__ import annotations

import http.client
import struct
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Mapping

from envgen.errors import ExternalToolError

SIMPLE_URL = "https://pypi.org/simple/{name}/"
SIMPLE_ACCEPT = "application/vnd.pypi.simple.v1+json"
TIMEOUT_S = 60.0

# The largest answer read: the simple index of `tensorflow` (every file of ~100 releases) is
# about 2 MB; METADATA and zip directories are kilobytes. A bigger body is not what was asked for.
MAX_BYTES = 32 << 20

# The end of a zip: the end-of-central-directory record (22 bytes) after a comment of up to 64 KiB.
_ZIP_TAIL = 65_536 + 22


class ResourceNotFoundError(LookupError):
    """The fetch callable's answer for a URL that does not exist (HTTP 404)."""


Fetch = Callable[[str, Mapping[str, str]], bytes]
"""`fetch(url, headers) -> body`; raises `ResourceNotFoundError` for a 404."""


def urllib_fetch(url: str, headers: Mapping[str, str], *, timeout: float = TIMEOUT_S) -> bytes:
    """The default `Fetch`: one HTTPS GET with a timeout, reading at most `MAX_BYTES`."""
    if not url.startswith("https://"):
        raise ExternalToolError(f"refusing to fetch a non-HTTPS URL: {url}")
    request = urllib.request.Request(url, headers=dict(headers))  # noqa: S310 (https checked above)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body: bytes = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise ResourceNotFoundError(url) from exc
        raise ExternalToolError(f"GET {url}: HTTP {exc.code}") from exc
    # http.client's errors (a malformed status line, a body cut short) are not OSErrors.
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ExternalToolError(
            f"GET {url}: {type(exc).__name__}: {reason}",
            hint="kb update reads PyPI itself: check the network, or a proxy in HTTPS_PROXY",
        ) from exc
    if len(body) > MAX_BYTES:
        raise ExternalToolError(f"GET {url}: the answer is over the {MAX_BYTES}-byte limit")
    return body


def zip_member_by_range(fetch: Fetch, url: str, size: int, suffix: str) -> bytes:
    """Read one member (the first whose name ends with `suffix`) of a remote zip by HTTP ranges.

    Reads the end of central directory, the central directory itself, then the member's local
    header and data (APPNOTE.TXT 4.3.16, 4.3.12, 4.3.7).
    """

    def get(start: int, end: int) -> bytes:
        return fetch(url, {"Range": f"bytes={start}-{end - 1}"})

    tail_len = min(size, _ZIP_TAIL)
    tail = get(size - tail_len, size)
    eocd = tail.rfind(b"PK\x05\x06")
    if eocd < 0:
        raise ExternalToolError(f"{url}: no zip end-of-central-directory record")
    cd_size, cd_offset = struct.unpack("<II", tail[eocd + 12 : eocd + 20])
    tail_start = size - tail_len
    if cd_offset >= tail_start:
        directory = tail[cd_offset - tail_start : cd_offset - tail_start + cd_size]
    else:
        directory = get(cd_offset, cd_offset + cd_size)
    pos = 0
    while pos + 46 <= len(directory) and directory[pos : pos + 4] == b"PK\x01\x02":
        method, _, _, crc, csize, _usize, nlen, xlen, clen = struct.unpack(
            "<HHHIIIHHH", directory[pos + 10 : pos + 34]
        )
        local_offset = struct.unpack("<I", directory[pos + 42 : pos + 46])[0]
        name = directory[pos + 46 : pos + 46 + nlen].decode("utf-8", "replace")
        if name.endswith(suffix) and name.count("/") == 1:
            header = get(local_offset, local_offset + 30)
            lnlen, lxlen = struct.unpack("<HH", header[26:30])
            start = local_offset + 30 + lnlen + lxlen
            data = get(start, start + csize) if csize else b""
            raw = zlib.decompress(data, -15) if method == 8 else data
            if zlib.crc32(raw) != crc:
                raise ExternalToolError(f"{url}: {name}: CRC mismatch")
            return raw
        pos += 46 + nlen + xlen + clen
    raise ExternalToolError(f"{url}: no member *{suffix}")


class PyPI:
    """One update run's reads, each made once: simple-index pages and wheel METADATA."""

    def __init__(self, fetch: Fetch | None = None) -> None:
        self.fetch = fetch or urllib_fetch
        self._pages: dict[str, bytes] = {}
        self._metadata: dict[str, str] = {}

    def simple(self, project: str) -> bytes:
        """The PEP 691 JSON page of `project`; an empty file list where PyPI has no such project."""
        if project not in self._pages:
            url = SIMPLE_URL.format(name=project)
            try:
                self._pages[project] = self.fetch(url, {"Accept": SIMPLE_ACCEPT})
            except ResourceNotFoundError:
                self._pages[project] = b'{"files": []}'
        return self._pages[project]

    def metadata(self, url: str, size: int) -> str:
        """The METADATA text of the wheel at `url` (`size` bytes long)."""
        if url not in self._metadata:
            try:
                raw = self.fetch(url + ".metadata", {})
            except ResourceNotFoundError:
                try:
                    raw = zip_member_by_range(self.fetch, url, size, ".dist-info/METADATA")
                except (struct.error, zlib.error) as exc:
                    # A server that ignores Range, or a body cut short: not a zip we can read.
                    raise ExternalToolError(
                        f"{url}: the byte ranges read are not a zip archive: {exc}",
                        hint="retry; a proxy that drops Range headers breaks this read",
                    ) from exc
            self._metadata[url] = raw.decode("utf-8", "replace")
        return self._metadata[url]
