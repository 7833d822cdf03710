"""The bundle's archive: one plain tar, written deterministically, read back defensively.

Plain (uncompressed) tar: wheels and conda packages are compressed already, so gzip would cost
minutes of CPU for a few percent, and every system a bundle goes to can unpack it (`tar -xf`;
Windows 10 and later ship bsdtar as `tar.exe`). Members are written in sorted order under one
top folder (`envgen-bundle/`) with fixed owner, time and modes, so the same inputs give the same
bytes, and every member's sha256 is checked as it is copied in.

Reading never uses `extractall`: each member is refused unless it is a regular file or folder
under the top folder with a plain relative name (no `..`, no absolute path, no link, device or
FIFO), and is written with a mode envgen chooses.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from envgen.bundle.check import CHUNK, is_member_path
from envgen.errors import InputFileError

TOP = "envgen-bundle"
# Members carry this time (the epoch) rather than the files' own: reproducible archives.
MTIME = 0
# An archive holds a lock set's files; 100,000 members or 64 GiB is past any real bundle.
MAX_MEMBERS = 100_000
MAX_BYTES = 64 << 30


@dataclass(frozen=True)
class Member:
    """One file of the archive: `path` under the top folder, from a file or from bytes."""

    path: str
    source: Path | None = None
    data: bytes | None = None
    sha256: str | None = None
    """Checked while the file is copied in (a cache file changed since it was verified)."""
    executable: bool = False


class _Hashing(io.RawIOBase):
    """A reader that hashes what passes through it (tarfile copies from it)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.digest = raw, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.digest.update(data)
        return len(data)


def write_archive(dest: Path, members: Sequence[Member]) -> tuple[str, int]:
    """Write `members` to `dest` (through `dest.part`, renamed at the end); returns the archive's
    (sha256, size). A member whose bytes differ from its recorded sha256 aborts the write."""
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(part, "w", format=tarfile.PAX_FORMAT) as tar:
            for member in sorted(members, key=lambda m: m.path):
                info = tarfile.TarInfo(f"{TOP}/{member.path}")
                info.mtime, info.uid, info.gid, info.uname, info.gname = MTIME, 0, 0, "", ""
                info.mode = 0o755 if member.executable else 0o644
                if member.data is not None:
                    info.size = len(member.data)
                    tar.addfile(info, io.BytesIO(member.data))
                    continue
                assert member.source is not None
                with member.source.open("rb") as raw:
                    info.size = os.fstat(raw.fileno()).st_size
                    reader = _Hashing(raw)
                    tar.addfile(info, io.BufferedReader(reader, CHUNK))
                if member.sha256 is not None and reader.digest.hexdigest() != member.sha256:
                    raise InputFileError(
                        f"{member.source} changed since it was checked against the lock",
                        hint="run envgen bundle again (the cache copy is re-downloaded)",
                    )
        digest = hashlib.sha256()
        with part.open("rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                digest.update(chunk)
        part.replace(dest)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), dest.stat().st_size


def archive_sha256(path: Path) -> str:
    from envgen.bundle.check import file_digest

    return file_digest(str(path))[0]


def extract(archive: Path, into: Path) -> Path:
    """Unpack a bundle into `into`; returns the bundle's root (`into/envgen-bundle`).

    InputFileError names the first member that is not a plain file or folder inside the top
    folder; nothing outside `into` is ever written."""
    where = str(archive)
    try:
        tar = tarfile.open(archive, "r:*")  # noqa: SIM115 -- closed by the `with` below
    except (OSError, tarfile.TarError) as exc:
        raise InputFileError(f"{where} is not a bundle (not a tar archive: {exc})") from exc
    total = 0
    seen = set()
    with tar:
        for count, info in enumerate(tar):
            if count >= MAX_MEMBERS:
                raise InputFileError(f"{where}: more than {MAX_MEMBERS} members")
            name = info.name.rstrip("/")
            if name == TOP and info.isdir():
                continue
            rel = name.removeprefix(TOP + "/") if name.startswith(TOP + "/") else None
            if rel is None or not is_member_path(rel):
                raise InputFileError(
                    f"{where}: member {name!r} is not inside {TOP}/ under a plain name",
                    hint="refusing an archive that could write outside its folder",
                )
            if info.isdir():
                continue
            if not info.isfile():
                raise InputFileError(
                    f"{where}: member {name!r} is a link or special file",
                    hint="a bundle holds only regular files",
                )
            if rel in seen:
                raise InputFileError(f"{where}: member {name!r} appears twice")
            seen.add(rel)
            total += info.size
            if total > MAX_BYTES:
                raise InputFileError(f"{where}: more than {MAX_BYTES} bytes unpacked")
            target = into.joinpath(TOP, *rel.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(info)
            assert source is not None  # a regular file always has a body
            with source, target.open("xb") as out:
                for chunk in iter(lambda s=source: s.read(CHUNK), b""):  # type: ignore[misc]
                    out.write(chunk)
            target.chmod(0o755 if info.mode & 0o111 else 0o644)
    root = into / TOP
    if not root.is_dir():
        raise InputFileError(f"{where}: no {TOP}/ folder: not an envgen bundle")
    return root
