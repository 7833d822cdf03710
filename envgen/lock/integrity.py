"""A lock set's integrity: every lock file is what `envgen lock` wrote, byte for byte.

uv and pip accept a requirement when *any* of its `--hash` values matches, so an edit to one hash
of two installs without a word; only the sha256 the index recorded of each whole file notices.
`verify_files` lists every difference, offline; `require_intact` refuses to install from a set
that has one (a bad input file, exit 3).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from envgen.digest import sha256
from envgen.errors import InputFileError
from envgen.lock.index import INDEX, LockIndex, load_index, lock_path


def file_digest(data: bytes) -> str:
    """The sha256 the index records of a lock file. CRLF counts as LF, so a checkout with git's
    autocrlf (Windows) is not an edit; every other byte counts."""
    return sha256(data.replace(b"\r\n", b"\n"))


@dataclass(frozen=True)
class FileProblem:
    """A lock file that is not what the index recorded: its name in the lock folder, and why."""

    name: str
    why: str
    readable: bool = True
    """False where the file could not be read as text at all (not a regular file, not UTF-8)."""

    def __str__(self) -> str:
        return f"{self.name} {self.why}"


def verify_files(
    index: LockIndex, directory: Path, names: Collection[str] | None = None
) -> list[FileProblem]:
    """Each lock file of `index` (or only `names`) whose bytes no longer match the sha256 the
    index recorded; [] when every one is intact.

    uv and pip accept a requirement when *any* of its `--hash` values matches the download, so
    one edited hash of two installs without a word: only this digest, taken when envgen wrote
    the file, notices. A file the variants name but `[files]` does not list cannot be checked,
    and counts as a problem too. Offline, and reads only the files the index names.
    """
    from envgen.files import LOCK_FILE, read_bytes

    recorded = dict(index.files)
    named = {
        name
        for var in index.variants
        for name in (
            var.conda_lock,
            *(n for lk in var.locks for n in (lk.pylock, lk.requirements)),
        )
        if name is not None
    }
    problems = [
        FileProblem(name, "is named by the index but has no sha256 in its [files] table")
        for name in sorted(named - recorded.keys())
        if names is None or name in names
    ]
    for name, digest in sorted(recorded.items()):
        if names is not None and name not in names:
            continue
        path = directory / name
        if not path.exists() and not path.is_symlink():
            problems.append(FileProblem(name, "is missing"))
            continue
        try:
            data = read_bytes(lock_path(directory, name), what="lock file", limit=LOCK_FILE)
            data.decode("utf-8")  # every lock format is UTF-8 text
        except InputFileError as exc:
            problems.append(FileProblem(name, f"cannot be checked ({exc.message})", False))
            continue
        except UnicodeDecodeError as exc:
            problems.append(FileProblem(name, f"is not UTF-8 text (byte {exc.start})", False))
            continue
        if file_digest(data) != digest:
            problems.append(FileProblem(name, "was edited (sha256 differs from the index)"))
    return problems


def require_intact(index: LockIndex, directory: Path, names: Collection[str] | None = None) -> None:
    """`verify_files`, refusing (InputFileError, exit 3) with the first problem: a lock that is
    not what `envgen lock` wrote is a bad input file, and nothing may be installed from it."""
    problems = verify_files(index, directory, names)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputFileError(
            f"{directory / first.name} {first.why}{more}: refusing to install from this lock set",
            hint=f"restore {directory} from version control, or regenerate it with `envgen lock`"
            " (`envgen lock --check` lists every difference)",
        )


def verify_beside(lock: Path) -> None:
    """Refuse `lock` when the lock set it belongs to (an index in the same folder that lists
    it) says it was edited. A lock with no index beside it carries only its own hashes."""
    index_path = lock.parent / INDEX
    if not index_path.is_file():
        return
    index = load_index(index_path)
    if lock.name in dict(index.files):
        require_intact(index, lock.parent, {lock.name})
