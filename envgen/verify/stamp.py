"""The record of the last full verification of an environment, and the quick check it allows.

A full verification imports the framework and computes (seconds, mostly the import); a re-run
with nothing changed can prove the same in milliseconds. After a full verification passes,
`write()` puts `.envgen-verified.json` into the environment's root, written last like the
build's completion marker (`.envgen-complete.json`): what the proof depended on (the
interpreter, the expectation, the machine's profile hash, the build's input hash, the probe's
own code, envgen's version) and the state of every installed file, hashed against its
distribution's RECORD (`record.py`). `check()` is the quick path: the same context, the same
site directories, every file with the size, times and inode it had when it was hashed (a file
rewritten since is hashed again against RECORD); anything else names what changed, and the
caller runs the full verification. A failed full verification removes the record.

What the quick check cannot see, by design: a GPU that broke since (the driver's version is in
the profile, its health is not), or a library outside every RECORD (a system CUDA, a byte-code
cache). `--full` runs the probe whatever the record says.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envgen import __version__
from envgen.errors import EnvgenError, InputFileError
from envgen.files import LOCK_FILE, MARKER, read_bytes, read_text, write_text
from envgen.verify.record import KEEP_PATHS, SiteState, scan

if TYPE_CHECKING:
    from envgen.verify.expect import Expectation

NAME = ".envgen-verified.json"
SCHEMA = "envgen.verified/1"
# The probe's own code: a new probe proves more (or differently), so its digest is in the context.
PROBE_FILES = ("probe.py", "probe_frameworks.py")


def _digest_of(environment: tuple[tuple[str, str], ...]) -> str | None:
    if not environment:
        return None
    names = ",".join(name for name, _ in environment)
    text = "\0".join(f"{name}={value}" for name, value in environment)
    return f"{names}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def context(
    python: Path,
    prefix: Path,
    *,
    target: str,
    expect: Expectation | None,
    profile_hash: str | None,
) -> dict[str, str | None]:
    """What a verification's verdict depends on, besides the installed files."""
    from envgen.backends.prefix import read_marker

    here = Path(__file__).parent
    probe = hashlib.sha256()
    for name in PROBE_FILES:
        probe.update(read_bytes(here / name, what="probe"))
    build = read_marker(prefix)
    try:
        real = python.resolve()
        info = real.stat()
        interpreter = f"{real}:{info.st_size}:{info.st_mtime_ns}"
    except OSError:
        interpreter = None
    try:
        cfg = hashlib.sha256(read_bytes(prefix / "pyvenv.cfg", what="pyvenv.cfg")).hexdigest()
    except InputFileError:
        cfg = None
    return {
        "envgen": __version__,
        "probe": probe.hexdigest(),
        "python": str(python.absolute()),
        "interpreter": interpreter,
        "pyvenv-cfg": cfg,
        "target": target,
        "expectation": expect.source if expect is not None else None,
        "expectation-digest": expect.digest if expect is not None else None,
        "framework": expect.framework if expect is not None else None,
        "keras-backend": expect.keras_backend if expect is not None else None,
        # The probe runs with the plan's variables (LD_LIBRARY_PATH, KERAS_BACKEND): names only
        # in the record, the values hashed.
        "environment": _digest_of(expect.environment) if expect is not None else None,
        "profile": profile_hash,
        "build": str(build.get("input-hash")) if build is not None else None,
    }


def write(
    prefix: Path,
    ctx: Mapping[str, str | None],
    *,
    summary: Mapping[str, str | None],
    checks: list[dict[str, Any]],
    sites: list[SiteState],
    seconds: float,
) -> Path | None:
    """Record a passed full verification (`summary`: its target and Python version, `checks`:
    its checks); None where the environment takes no file."""
    body = {
        "generator": f"{MARKER} {__version__} (envgen verify)",
        "schema": SCHEMA,
        "verified-at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": seconds,
        "summary": dict(summary),
        "context": dict(ctx),
        "checks": checks,
        "sites": {s.path: s.to_dict() for s in sites},
    }
    path = prefix / NAME
    try:
        write_text(path, json.dumps(body, indent=1, sort_keys=True) + "\n", force=True)
    except (EnvgenError, OSError):
        return None
    return path


def remove(prefix: Path) -> None:
    """Forget the last full verification (it failed, or is being replaced)."""
    with contextlib.suppress(OSError):
        (prefix / NAME).unlink(missing_ok=True)


@dataclass(frozen=True)
class Quick:
    """A quick proof: the record it rests on and what was checked now."""

    path: Path
    verified_at: str
    target: str
    python_version: str | None
    checks: list[dict[str, Any]]
    """The full verification's checks (name, ok, required, detail)."""
    files: int
    dists: int
    sites: int
    rehashed: int


@dataclass(frozen=True)
class NoQuick:
    """Why the quick check could not prove the environment: a wording code and its fields."""

    code: str
    fields: dict[str, str]


def _read(path: Path) -> dict[str, Any] | None:
    from envgen.documents import parse_json

    try:
        data = parse_json(read_text(path, what="verification record", limit=LOCK_FILE), str(path))
    except InputFileError:
        return None
    ok = isinstance(data, dict) and data.get("schema") == SCHEMA
    return data if ok and all(isinstance(data.get(k), dict) for k in ("context", "sites")) else None


def check(prefix: Path, ctx: Mapping[str, str | None]) -> Quick | NoQuick:
    """The quick proof of the environment at `prefix`, or why there is none."""
    path = prefix / NAME
    data = _read(path)
    if data is None:
        return NoQuick("quick-none", {"path": str(path)})
    when = str(data.get("verified-at") or "?")
    changed = sorted(k for k, v in ctx.items() if data["context"].get(k) != v)
    if changed:
        return NoQuick("quick-changed", {"what": ", ".join(changed), "when": when})
    stored: dict[str, Any] = data["sites"]
    now = scan(list(stored), hashed=False)
    rehash: dict[str, set[str]] = {}
    for site in now:
        old = stored.get(site.path)
        old = old if isinstance(old, dict) else {}
        old_dists = old.get("dists")
        old_dists = old_dists if isinstance(old_dists, dict) else {}
        if old.get("entries") != site.entries or set(old_dists) != set(site.dists):
            return NoQuick("quick-entries", {"site": site.path, "when": when})
        for name, dist in site.dists.items():
            was = old_dists.get(name) or {}
            if was.get("record") != dist.record:
                return NoQuick("quick-files", {"examples": f"{name}/RECORD", "when": when})
            if was.get("stat") != dist.stat or not dist.stat:
                rehash.setdefault(site.path, set()).add(name)
    if rehash:
        again = scan(list(rehash), hashed=True, only=rehash)
        found = _rehashed(again, stored)
        if found:
            return NoQuick("quick-files", {"examples": ", ".join(found), "when": when})
        # Touched, not changed: remember the files' new state, so the next run need not hash.
        for site in again:
            for name, dist in site.dists.items():
                stored[site.path]["dists"][name]["stat"] = dist.stat
        with contextlib.suppress(EnvgenError, OSError):
            write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n", force=True)
    checks = [c for c in data.get("checks") or [] if isinstance(c, dict)]
    summary: dict[str, Any] = data["summary"] if isinstance(data.get("summary"), dict) else {}
    version = summary.get("python-version")
    return Quick(
        path=path,
        verified_at=when,
        target=str(summary.get("target") or ctx.get("target") or "auto"),
        python_version=str(version) if version is not None else None,
        checks=checks,
        files=sum(d.files for s in now for d in s.dists.values()),
        dists=sum(len(s.dists) for s in now),
        sites=len(now),
        rehashed=sum(len(v) for v in rehash.values()),
    )


def _rehashed(sites: list[SiteState], stored: Mapping[str, Any]) -> list[str]:
    """Files whose content is no longer what the full verification hashed (for the message)."""
    out: list[str] = []
    for site in sites:
        for name, dist in site.dists.items():
            was = stored[site.path]["dists"][name]
            if dist.differ != was.get("differ") or list(dist.missing) != was.get("missing"):
                before = {*was.get("differ", {}), *was.get("missing", [])}
                paths = sorted({*dist.differ, *dist.missing} ^ before)
                out += [repr(p) for p in paths or [name]]
    return out[:KEEP_PATHS]
