"""A direct-URL pin's file, downloaded once to learn its sha256: what `envgen lock` records for a
community wheel, which no index lists with a hash.

The file streams into the download cache (`<cache>/direct/<git blob id>/<name>`), bounded and
hashed as it arrives; before it is kept, its git object id (sha1 of `blob <size>\\0` + the bytes,
`git hash-object`) must equal the one the knowledge base recorded from the repository the file
lives in, so the sha256 a lock records is that of the file the table describes, not of whatever a
server sent. A file already in the cache with that id is not downloaded again. Every failure (no
network, HTTP error, a file too large or not the recorded one) is an `ExternalToolError` (exit 5)
in one line: a lock never gets an unhashed pin.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envgen.errors import ExternalToolError, InputFileError, UsageError
from envgen.lock.pip import PipLock, pip_lock
from envgen.proc import summary

if TYPE_CHECKING:
    from envgen.bundle.sources import Opener
    from envgen.kb import KnowledgeBase
    from envgen.plan import Plan

CHUNK = 1 << 20
# GitHub refuses files over 100 MiB in a repository ("About large files on GitHub",
# docs.github.com), and fo40225's wheels are stored in the repository itself: a server that
# sends more is not sending the file the table names.
LIMIT = 128 << 20
READ_TIMEOUT_S = 60.0
_GIT_SHA1 = re.compile(r"[0-9a-f]{40}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


@dataclass(frozen=True)
class DirectFile:
    """A direct-URL file in the cache, with what a lock records of it."""

    url: str
    path: Path
    sha256: str
    size: int
    reused: bool


def git_blob_id(path: Path) -> str:
    """git's object id of a file's bytes (`git hash-object`): sha1 over `blob <size>\\0` + them."""
    size = path.stat().st_size
    digest = hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def fetch(
    url: str,
    git_blob_sha1: str,
    cache: Path,
    *,
    opener: Opener | None = None,
    limit: int = LIMIT,
) -> DirectFile:
    """The file at `url` in `cache`, checked against its recorded git object id. `opener`
    defaults to the bundle's bounded HTTP client (imported only when a file is fetched)."""
    name = url.rsplit("/", 1)[-1]
    if not _NAME.fullmatch(name) or not _GIT_SHA1.fullmatch(git_blob_sha1):
        raise ExternalToolError(f"not a file a lock can pin: {url!r} (git id {git_blob_sha1!r})")
    dest = cache / "direct" / git_blob_sha1 / name
    if dest.is_file() and git_blob_id(dest) == git_blob_sha1:
        sha256, size = _sha256(dest)
        return DirectFile(url, dest, sha256, size, reused=True)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputFileError(f"cannot write the download cache {cache}: {exc.strerror}") from exc
    part = dest.with_name(name + ".part")
    try:
        _download(url, part, opener, limit)
        found = git_blob_id(part)
        if found != git_blob_sha1:
            raise ExternalToolError(
                f"{name} from {url} is not the file the knowledge base records: git object "
                f"{found} != {git_blob_sha1}; the file was discarded"
            )
        part.replace(dest)
    finally:
        part.unlink(missing_ok=True)
    sha256, size = _sha256(dest)
    return DirectFile(url, dest, sha256, size, reused=False)


def _download(url: str, part: Path, opener: Opener | None, limit: int) -> None:
    # Only a lock with a direct-URL pin reaches the network here: its HTTP modules load then.
    import http.client
    import urllib.error

    from envgen.bundle.sources import request, urlopen

    opener = opener or urlopen
    hint = (
        "envgen lock records a direct-URL wheel by the sha256 of its download: check the "
        "network or a proxy (HTTPS_PROXY), or lock on a machine that reaches the URL"
    )
    try:
        with opener(request(url), READ_TIMEOUT_S) as resp, part.open("wb") as out:
            size = 0
            while chunk := resp.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ExternalToolError(
                        f"{url} sent more than {limit} bytes: not the file the knowledge base "
                        "names; nothing was kept"
                    )
                out.write(chunk)
    except urllib.error.HTTPError as exc:
        raise ExternalToolError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        why = summary(str(getattr(exc, "reason", None) or exc))
        raise ExternalToolError(
            f"cannot download {url}: {type(exc).__name__}: {why}", hint=hint
        ) from exc


def fetch_pins(
    plans: Sequence[Plan],
    kb: KnowledgeBase,
    environ: Mapping[str, str] | None = None,
    cache: Path | None = None,
) -> dict[str, DirectFile]:
    """Each direct-URL pin's file, downloaded (or found in the cache: `ENVGEN_CACHE_DIR`, else
    the user cache) and checked against the git object id the knowledge base records; by URL."""
    import os

    from envgen.bundle.download import cache_dir

    out: dict[str, DirectFile] = {}
    for plan in plans:
        for pin in plan.pip_packages():
            if pin.url is None or pin.url in out:
                continue
            row = kb.community.find(pin.url)
            wheel = row.wheel_file() if row is not None else None
            if wheel is None:
                raise UsageError(f"{pin.name}: the knowledge base names no file at {pin.url}")
            root = cache or cache_dir(os.environ if environ is None else environ)
            out[pin.url] = fetch(pin.url, wheel.git_blob_sha1, root)
    return out


def canonical(lock: PipLock, files: Sequence[DirectFile]) -> PipLock:
    """uv's answers for a plan whose direct-URL pins it resolved from their downloaded copies,
    with each copy's `file://` location replaced by the URL a lock records (and its size), and
    checked again as uv's answers always are (`pip_lock`): the lock holds the canonical URL and
    the sha256 of the download, never a path of this machine."""
    import tomlkit

    requirements = lock.requirements_body
    doc = tomlkit.parse(lock.pylock_body)
    for f in files:
        local = f.path.resolve()
        requirements = requirements.replace(f"@ {local.as_uri()}", f"@ {f.url}")
        for package in doc.get("packages", []):
            archive = package.get("archive")
            path = archive.get("path") if archive is not None else None
            if path is None or Path(str(path)).resolve() != local:
                continue
            table = tomlkit.inline_table()
            table.update({"url": f.url, "size": f.size, "hashes": {"sha256": f.sha256}})
            package["archive"] = table
    text = tomlkit.dumps(doc)
    left = [f.path.name for f in files if "file://" in requirements or str(f.path) in text]
    if left:
        raise ExternalToolError(f"uv's lock still names the downloaded copy of {left[0]}")
    return pip_lock(lock.platform, lock.python, text, requirements)
