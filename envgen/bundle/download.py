"""Downloading a bundle's files: parallel, resumable, checked against the lock as they stream.

Files land in a content-addressed cache (`<cache>/files/<sha256>/<file name>`), so a second
`envgen bundle` of the same lock downloads nothing, and a bundle of another variant reuses what
the first fetched. A download streams into `<file>.part`; an interrupted one resumes with an
HTTP Range request from where it stopped (the bytes already there are hashed first), and a
server that ignores Range is simply read again from the start. The sha256 is computed while the
bytes arrive and compared with the lock's before the file is renamed into place; a server that
sends more bytes than the lock records is cut off at once, so every read is bounded.

Network failures are retried a few times (resuming each time), then raised as
`ExternalToolError` (exit 5); a file whose bytes differ from the lock is never kept.
"""

from __future__ import annotations

import hashlib
import http.client
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from envgen.bundle.select import BundleFile
from envgen.bundle.sources import Sources, request
from envgen.errors import ExternalToolError, InputFileError

CHUNK = 1 << 20
# Four streams fill a slow link without looking like abuse to a mirror (pip and uv use a few).
WORKERS = 4
ATTEMPTS = 3
# Seconds a socket may stay silent (not the whole download: a GPU wheel takes minutes).
READ_TIMEOUT_S = 60.0
# A file whose lock records no size (conda rows) is still cut off somewhere.
MAX_UNSIZED = 8 << 30

# (file, bytes just received): called from the download threads.
OnBytes = Callable[[BundleFile, int], None]


@dataclass(frozen=True)
class Fetched:
    file: BundleFile
    path: Path
    reused: bool
    downloaded: int
    """Bytes that came over the network in this run."""
    url: str


class _Stopped(ExternalToolError):
    """A download not started because another one had failed."""


class _Retry(Exception):
    """A transient failure worth another attempt (the `.part` file is kept)."""


def cache_dir(environ: Mapping[str, str], platform: str = sys.platform) -> Path:
    """Where downloads are kept between runs: `ENVGEN_CACHE_DIR`, else the OS's user cache
    (XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA% on
    Windows), under `envgen/bundle`."""
    if environ.get("ENVGEN_CACHE_DIR"):
        return Path(environ["ENVGEN_CACHE_DIR"])
    home = Path(environ.get("HOME") or environ.get("USERPROFILE") or Path.home())
    if platform == "win32":
        base = Path(environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif platform == "darwin":
        base = home / "Library" / "Caches"
    else:
        base = Path(environ.get("XDG_CACHE_HOME") or home / ".cache")
    return base / "envgen" / "bundle"


def cached_path(cache: Path, file: BundleFile) -> Path:
    return cache / "files" / file.sha256 / file.name


def _hash_file(path: Path) -> tuple[str, int]:
    from envgen.bundle.check import file_digest

    return file_digest(str(path))


def _limit(file: BundleFile) -> int:
    return file.size if file.size is not None else MAX_UNSIZED


def _verified(file: BundleFile, path: Path) -> bool:
    """Does the cached file hold exactly the lock's bytes?"""
    try:
        if file.size is not None and path.stat().st_size != file.size:
            return False
        return _hash_file(path)[0] == file.sha256
    except OSError:
        return False


def _attempt(file: BundleFile, url: str, part: Path, sources: Sources, on_bytes: OnBytes) -> None:
    """One try at completing `part`. Raises _Retry (worth another) or ExternalToolError."""
    import urllib.error

    offset = part.stat().st_size if part.exists() else 0
    if offset > _limit(file):
        part.unlink()
        offset = 0
    digest = hashlib.sha256()
    if offset:
        with part.open("rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                digest.update(chunk)
    headers = sources.headers_for(url)
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        with sources.opener(request(url, headers), READ_TIMEOUT_S) as resp:
            status = getattr(resp, "status", 200)
            if offset and status != 206:
                # The server sent the whole file: start again from its first byte.
                offset, digest = 0, hashlib.sha256()
            with part.open("ab" if offset else "wb") as out:
                size = offset
                while chunk := resp.read(CHUNK):
                    size += len(chunk)
                    if size > _limit(file):
                        out.close()
                        part.unlink()
                        raise ExternalToolError(
                            f"{url} sent more than the {_limit(file)} bytes the lock records "
                            f"for {file.name}"
                        )
                    digest.update(chunk)
                    out.write(chunk)
                    on_bytes(file, len(chunk))
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # the part is already whole (or the server disagrees)
            part.unlink()
        if exc.code in (408, 416, 429) or exc.code >= 500:
            raise _Retry(f"HTTP {exc.code}") from exc
        raise ExternalToolError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise _Retry(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from exc
    if file.size is not None and size < file.size:
        raise _Retry(f"the connection closed after {size} of {file.size} bytes")
    if digest.hexdigest() != file.sha256:
        part.unlink()
        raise ExternalToolError(
            f"{file.name} from {url} does not match the lock: sha256 {digest.hexdigest()} "
            f"!= {file.sha256}; the file was discarded"
        )


def fetch_one(file: BundleFile, cache: Path, sources: Sources, on_bytes: OnBytes) -> Fetched:
    """`file` in the cache, downloaded (or resumed) unless an intact copy is already there."""
    dest = cached_path(cache, file)
    if dest.is_file() and _verified(file, dest):
        return Fetched(file, dest, True, 0, "cache")
    url = sources.url_for(file)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputFileError(f"cannot write the download cache {cache}: {exc.strerror}") from exc
    part = dest.with_name(dest.name + ".part")
    # Bytes of every attempt count, those of an attempt cut short included.
    received = [0]

    def counted(f: BundleFile, count: int) -> None:
        received[0] += count
        on_bytes(f, count)

    why = ""
    for attempt in range(ATTEMPTS):
        try:
            _attempt(file, url, part, sources, counted)
            break
        except _Retry as exc:
            why = str(exc)
            time.sleep(min(2.0**attempt, 8.0))
    else:
        raise ExternalToolError(
            f"{file.name}: download from {url} failed {ATTEMPTS} times ({why}); "
            f"{part} is kept and the next run resumes it"
        )
    part.replace(dest)
    return Fetched(file, dest, False, received[0], url)


def fetch_all(
    files: Sequence[BundleFile],
    cache: Path,
    sources: Sources,
    *,
    on_bytes: OnBytes | None = None,
    workers: int = WORKERS,
) -> list[Fetched]:
    """Every file in the cache, `workers` at a time, in the order given. The first failure
    stops the rest (files already complete stay cached for the next run)."""
    report = on_bytes or (lambda _f, _n: None)
    stop = threading.Event()

    def one(file: BundleFile) -> Fetched:
        if stop.is_set():
            raise _Stopped("stopped after an earlier failure")
        try:
            return fetch_one(file, cache, sources, report)
        except BaseException:
            stop.set()
            raise

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(one, f) for f in files]
        results = []
        first: BaseException | None = None
        for future in futures:
            try:
                results.append(future.result())
            except BaseException as exc:  # noqa: BLE001 -- re-raised below: the real failure
                if first is None or isinstance(first, _Stopped):
                    first = exc
    if first is not None:
        raise first
    return results
