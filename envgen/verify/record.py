"""Installed files against their distributions' RECORD: what `envgen verify` proves without Python.

Every installed distribution lists its files in `<name>.dist-info/RECORD` (a CSV of path, hash,
size; the wheel spec, PEP 376/627), the hash as `sha256=` and the URL-safe base64 of the digest
without padding. `scan()` reads each RECORD of a set of site directories and stats every file it
lists; with `hashed=True` it also hashes each file inside the site directory against its RECORD
(in threads: hashlib releases the GIL for large reads, and the full verification runs it beside
the probe). Files a RECORD places outside the site directory (`../../../bin/<script>`, data files)
are checked for presence only: envgen rewrites a virtualenv's scripts when it moves a staged
build into place (`envgen.backends.prefix.retarget`), so their bytes are no longer the wheel's.
Byte-code caches are in no RECORD (installers write them afterwards) and are not covered.

Each distribution's state carries a digest of every file's (size, modification time, change
time, inode): a file rewritten since has a new change time whatever its content, which the
process cannot set back (`utime` sets only the modification time). That digest, kept with the
hashes of the last full verification (`stamp.py`), is what lets a re-run prove in milliseconds
that nothing was touched, and re-hash only the distributions where something was. (uv links
installed files from its cache: installing the same wheel into another environment adds a link
and so changes the change time of this one's files. That costs a re-hash, never a wrong answer.)
"""

from __future__ import annotations

import base64
import csv
import hashlib
import os
import re
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from envgen.errors import InputFileError
from envgen.files import LOCK_FILE, decode_text, hash_file, read_bytes

# A RECORD without a size still bounds the read: no installed file of any framework comes close
# (the largest CUDA libraries are a few GiB).
NO_SIZE_LIMIT = 1 << 36
# At most this many differing or missing paths are kept per distribution (and shown).
KEEP_PATHS = 20
# What a differing file's "hash" reads as when the file could not be hashed at all.
UNREADABLE = "!unreadable"


class RecordEntry(NamedTuple):
    """One row of RECORD (a named tuple: a framework's RECORD has tens of thousands of rows)."""

    path: str
    """As RECORD writes it: relative to the site directory, `/`-separated."""
    sha256: str | None
    """URL-safe base64 of the sha256 digest, no padding; None without one (RECORD itself,
    byte-code caches) or for another algorithm."""
    size: int | None


def parse_record(text: str) -> list[RecordEntry]:
    """The rows of a RECORD file; rows without a path are skipped, an unreadable hash or size
    counts as none (the file is then checked for presence only)."""
    out = []
    for row in csv.reader(text.splitlines()):
        if not row or not row[0]:
            continue
        algorithm, _, value = (row[1] if len(row) > 1 else "").partition("=")
        good = algorithm == "sha256" and value and _b64_ok(value)
        size = row[2] if len(row) > 2 else ""
        out.append(
            RecordEntry(row[0], value if good else None, int(size) if size.isdigit() else None)
        )
    return out


# A sha256 digest in URL-safe base64 without padding: 32 bytes, 43 characters.
_B64 = re.compile(r"[A-Za-z0-9_-]{43}")


def _b64_ok(value: str) -> bool:
    return _B64.fullmatch(value) is not None


def b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class DistState:
    """One installed distribution: its RECORD, the state of every file it lists."""

    record: str
    """sha256 (hex) of the RECORD file itself."""
    stat: str
    """Digest of every listed file's (size, mtime, ctime, inode), or "" when a file changed while
    it was hashed (never matches: the next check hashes again)."""
    files: int
    hashed: int
    """Files inside the site directory with a sha256 in RECORD (hashed when asked)."""
    outside: int
    missing: tuple[str, ...] = ()
    differ: dict[str, str] = field(default_factory=dict)
    """Path -> the hash the file has (or UNREADABLE), where it is not RECORD's; filled only when
    the files were hashed."""

    def to_dict(self) -> dict[str, object]:
        return {
            "record": self.record,
            "stat": self.stat,
            "files": self.files,
            "hashed": self.hashed,
            "outside": self.outside,
            "missing": list(self.missing),
            "differ": dict(self.differ),
        }


@dataclass(frozen=True)
class SiteState:
    path: str
    entries: str
    """Digest of the directory's top-level names: a distribution, a `.pth` file, a package
    dropped in without a RECORD all change it."""
    dists: dict[str, DistState]

    def to_dict(self) -> dict[str, object]:
        return {
            "entries": self.entries,
            "dists": {k: v.to_dict() for k, v in sorted(self.dists.items())},
        }


def _stat_key(info: os.stat_result) -> str:
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}"


def _inside(site: str, relative: str) -> tuple[str, bool]:
    """Where a RECORD path points, and whether that is inside the site directory (normalised
    lexically, as installers write them; an absolute path is outside). Strings, not Path
    objects: a framework's RECORD lists tens of thousands of files."""
    if ".." not in relative and not relative.startswith(("/", "\\")) and ":" not in relative:
        # The common case, and most of a framework's tens of thousands of rows: a plain path
        # below the site directory.
        return f"{site}{os.sep}{relative}", True
    if os.path.isabs(relative):  # noqa: PTH117 - see above
        return os.path.normpath(relative), False
    target = os.path.normpath(os.path.join(site, relative))  # noqa: PTH118 - see above
    return target, target.startswith(site + os.sep)


@dataclass
class _Pending:
    """A distribution being scanned: its entries' stats, and the files still to hash."""

    record: str
    files: int = 0
    hashed: int = 0
    outside: int = 0
    missing: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    jobs: list[tuple[str, str, str, int | None, str]] = field(default_factory=list)
    """(RECORD path, file, wanted sha256, size, stat key before hashing)."""
    deferred: list[tuple[str, str]] = field(default_factory=list)
    """(RECORD path, file) still to stat: the quick check stats all files at once, in chunks."""


def _read_dist(site: str, distinfo: Path, hashed: bool) -> _Pending:
    data = read_bytes(distinfo / "RECORD", what="RECORD", limit=LOCK_FILE)
    pending = _Pending(hashlib.sha256(data).hexdigest())
    text = decode_text(data, f"RECORD {distinfo / 'RECORD'}")
    if not hashed:
        _stat_only(site, text, pending)
        return pending
    for entry in parse_record(text):
        target, inside = _inside(site, entry.path)
        key = _key(target, entry.path, pending)
        if not inside:
            pending.outside += 1
        elif entry.sha256 is not None:
            pending.hashed += 1
            if key != "missing":
                pending.jobs.append((entry.path, target, entry.sha256, entry.size, key))
    return pending


def _key(target: str, path: str, pending: _Pending) -> str:
    """The state of one listed file, added to the distribution's keys."""
    pending.files += 1
    try:
        info = os.stat(target)  # noqa: PTH116 - strings, see _inside
        key = f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}"
    except OSError:
        key = "missing"
        if len(pending.missing) < KEEP_PATHS:
            pending.missing.append(path)
    pending.keys.append(f"{path}\0{key}")
    return key


def _stat_only(site: str, text: str, pending: _Pending) -> None:
    """The quick check's reading: each row's path and file, nothing else (a framework's RECORD has
    tens of thousands of rows); `_stat_all` then takes the same state the hashing scan does."""
    plain = site + os.sep
    lines = text.splitlines()
    # Without a quote anywhere, no field holds a comma: the path is what precedes the last two.
    paths = (
        (row[0] if row else "" for row in csv.reader(lines))
        if '"' in text
        else (line.rsplit(",", 2)[0] for line in lines)
    )
    deferred = pending.deferred
    for path in paths:
        if not path:
            continue
        if ".." in path or path[0] in "/\\" or ":" in path:
            deferred.append((path, _inside(site, path)[0]))
        else:
            deferred.append((path, plain + path))
    pending.files += len(deferred)


def _stat_all(pendings: Sequence[_Pending]) -> None:
    """Stat every deferred file of `pendings`, adding the keys in RECORD order.

    In one thread: each call is a few microseconds in the kernel, and threads around it contend
    for the GIL more than they save (measured on 21,406 files here: 0.094 s in one thread, 0.107
    s in two, 0.139 s in four)."""
    stat = os.stat
    for pending in pendings:
        for path, target in pending.deferred:
            try:
                info = stat(target)
            except OSError:
                if len(pending.missing) < KEEP_PATHS:
                    pending.missing.append(path)
                pending.keys.append(f"{path}\0missing")
                continue
            key = f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}"
            pending.keys.append(f"{path}\0{key}")
        pending.deferred.clear()


def _read_or_none(site: str, distinfo: Path, hashed: bool) -> _Pending | None:
    try:
        return _read_dist(os.path.normpath(site), distinfo, hashed)
    except InputFileError:
        return None  # no RECORD (an egg-info style install, a broken one): nothing to hold


def _hash_one(
    job: tuple[str, str, str, int | None, str], stop: threading.Event | None = None
) -> tuple[str, str | None, bool]:
    """(RECORD path, the hash it has where it differs from RECORD's else None, whether it
    changed while it was read). Once `stop` is set, the rest are skipped as "changed"."""
    path, target, wanted, size, key = job
    if stop is not None and stop.is_set():
        return path, None, True
    try:
        digest, info = hash_file(Path(target), what="installed file", limit=size or NO_SIZE_LIMIT)
    except InputFileError:  # not a regular file any more, unreadable, or larger than RECORD says
        return path, UNREADABLE, False
    got = b64(digest)
    return path, None if got == wanted else got, _stat_key(info) != key


def _entries_digest(site: Path) -> str:
    try:
        names = sorted(p.name for p in site.iterdir())
    except OSError:
        names = []
    return hashlib.sha256("\0".join(names).encode("utf-8", "surrogateescape")).hexdigest()


def scan(
    site_dirs: Iterable[str],
    *,
    hashed: bool,
    only: dict[str, set[str]] | None = None,
    workers: int | None = None,
    stop: threading.Event | None = None,
) -> list[SiteState]:
    """The state of every distribution in `site_dirs`; `only` limits it to some distributions
    (site -> dist-info names). `hashed` hashes each file with a sha256 in RECORD, in `workers`
    threads (default: one fewer than the CPUs, so that a probe beside it keeps one); `stop`
    abandons the hashing (what is left reads as changed, so it proves nothing)."""
    # The quick check reads and stats in one thread (see _stat_all); hashing uses the CPUs.
    count = workers or (max(1, (os.cpu_count() or 1) - 1) if hashed else 1)
    listed: list[tuple[str, list[Path]]] = []
    for name in site_dirs:
        try:
            infos = sorted(p for p in Path(name).iterdir() if p.name.endswith(".dist-info"))
        except OSError:
            infos = []
        if only is not None:
            infos = [p for p in infos if p.name in only.get(name, set())]
        listed.append((name, infos))
    # Reading RECORDs (and for the hashing scan, stat-ing their files) in threads: the file
    # system calls release the GIL, and on a virtual machine's file system they are most of the
    # time.
    work = [(name, info) for name, infos in listed for info in infos]
    with ThreadPoolExecutor(max_workers=count) as pool:
        read = list(pool.map(lambda w: _read_or_none(w[0], w[1], hashed), work))
    found = {
        (name, info.name): p for (name, info), p in zip(work, read, strict=True) if p is not None
    }
    sites: list[tuple[str, str, dict[str, _Pending]]] = []
    for name, infos in listed:
        dists = {i.name: found[name, i.name] for i in infos if (name, i.name) in found}
        sites.append((name, _entries_digest(Path(name)), dists))
    _stat_all([p for _, _, dists in sites for p in dists.values()])
    jobs = [job for _, _, dists in sites for p in dists.values() for job in p.jobs]
    results = iter(_hash_all(jobs, workers, stop))
    out = []
    for name, entries, dists in sites:
        states = {}
        for info_name, p in dists.items():
            # The results come back in job order: this distribution's are the next len(jobs).
            hashes = [next(results) for _ in p.jobs]
            differ = {path: got for path, got, _ in hashes if got is not None}
            changed = any(moved for _, _, moved in hashes)
            stat = "" if changed else hashlib.sha256("\n".join(p.keys).encode()).hexdigest()
            states[info_name] = DistState(
                record=p.record,
                stat=stat,
                files=p.files,
                hashed=p.hashed,
                outside=p.outside,
                missing=tuple(p.missing),
                differ=dict(sorted(differ.items())[:KEEP_PATHS]),
            )
        out.append(SiteState(name, entries, states))
    return out


def _hash_all(
    jobs: Sequence[tuple[str, str, str, int | None, str]],
    workers: int | None,
    stop: threading.Event | None,
) -> list[tuple[str, str | None, bool]]:
    if not jobs:
        return []
    count = workers or max(1, (os.cpu_count() or 1) - 1)
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda job: _hash_one(job, stop), jobs, chunksize=32))


def site_dirs_of(prefix: Path) -> list[str]:
    """The site directories of the environment at `prefix`, found without running it: its own
    site-packages (POSIX `lib/pythonX.Y/site-packages`, Windows `Lib/site-packages`) and the
    directories their `.pth` files add (one level, as the site module does)."""
    own = sorted({*prefix.glob("lib/python*/site-packages"), *prefix.glob("Lib/site-packages")})
    out: list[Path] = []
    for site in own:
        out.append(site.resolve())
        for pth in sorted(site.glob("*.pth")):
            try:
                text = read_bytes(pth, what=".pth file").decode("utf-8", "replace")
            except InputFileError:
                continue
            for raw in text.splitlines():
                line = raw.strip()
                if not line or line.startswith(("#", "import ", "import\t")):
                    continue
                extra = site / line  # an absolute line stays absolute
                if extra.is_dir():
                    out.append(extra.resolve())
    return list(dict.fromkeys(str(p) for p in out))
