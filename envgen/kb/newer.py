"""Is PyPI ahead of the knowledge base? `envgen plan` asks once a day and says so in one line.

The knowledge base knows the releases `envgen kb update` derived; a TensorFlow published since
then is unknown to every plan until someone runs it. The question is one read of PyPI's PEP 691
simple index of `tensorflow` (its PEP 700 `versions` list), bounded by a short timeout and
cached for a day under the user's cache directory, so planning stays fast and works offline:
anything that goes wrong (no network, a proxy, a broken cache file) means "nothing to say",
never a failed plan.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from packaging.version import InvalidVersion, Version

from envgen.kb.pypi import SIMPLE_ACCEPT, SIMPLE_URL, urllib_fetch

CACHE_FILE = "pypi-tensorflow.json"
MAX_AGE_S = 24 * 3600
"""A day: TensorFlow publishes a few releases a year."""
TIMEOUT_S = 3.0
"""A plan waits at most this long for PyPI."""

Fetch = Callable[[str, Mapping[str, str]], bytes]


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CACHE_HOME/envgen`, else `~/.cache/envgen` (the XDG base directory default)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "envgen"


def newest_final(body: bytes) -> Version | None:
    """The newest final release a PEP 691 JSON page lists (PEP 700 `versions`, else the files)."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    names = doc.get("versions")
    if not isinstance(names, list):
        files = doc.get("files")
        files = files if isinstance(files, list) else []
        parts = [str(f.get("filename", "")).split("-")[1:2] for f in files if isinstance(f, dict)]
        names = [p[0] for p in parts if p]
    found = []
    for name in names:
        try:
            version = Version(str(name))
        except InvalidVersion:
            continue
        if not version.is_prerelease:
            found.append(version)
    return max(found) if found else None


def _cached(path: Path, now: float) -> Version | bool | None:
    """The cached answer when fresh (a version, or None for "PyPI had none"), else False."""
    from envgen.files import read_text

    try:
        doc = json.loads(read_text(path, what="cache"))
        if now - float(doc["checked"]) > MAX_AGE_S or now < float(doc["checked"]):
            return False
        return Version(doc["newest"]) if doc["newest"] else None
    except Exception:  # noqa: BLE001 - a missing or broken cache only means asking again
        return False


def newer_release(
    known: Version,
    *,
    fetch: Fetch | None = None,
    cache: Path | None = None,
    now: float | None = None,
) -> Version | None:
    """The newest final TensorFlow on PyPI when it is newer than `known` (the knowledge base's
    newest), else None; also None when PyPI cannot be asked. Never raises."""
    now = time.time() if now is None else now
    path = (cache or cache_dir()) / CACHE_FILE
    newest = _cached(path, now)
    if newest is False:
        get = fetch or (lambda url, headers: urllib_fetch(url, headers, timeout=TIMEOUT_S))
        try:
            newest = newest_final(
                get(SIMPLE_URL.format(name="tensorflow"), {"Accept": SIMPLE_ACCEPT})
            )
        except Exception:  # noqa: BLE001 - offline, a proxy, a timeout: nothing to say
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            record = {"checked": now, "newest": str(newest) if newest else None}
            path.write_text(json.dumps(record), encoding="utf-8")
        except OSError:
            pass  # an unwritable cache costs one request per plan, nothing else
    if isinstance(newest, Version) and newest > known:
        return newest
    return None
