"""The prefix discipline every backend that builds on this machine shares.

- build into a temporary directory next to the prefix, then rename it into place, and write the
  completion marker last: an interrupted or failed build never leaves something that looks ready;
- a prefix carrying the marker for the same inputs is reused (a re-run does no work);
- an existing directory that envgen did not build is never replaced without `force`;
- one envgen at a time builds, swaps or verifies a prefix (`prefix_lock`, an advisory lock on a
  file beside it); a second one waits, or gives up after its `wait` with one line naming the
  holder. The kernel drops the lock with its holder, so a killed envgen never blocks the next;
- what a killed run left (a staging directory, a half-made in-place prefix, the old prefix set
  aside during a swap) is recognised by its name and cleaned up, or put back, by the next run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from envgen import __version__
from envgen.documents import parse_json
from envgen.errors import FileConflictError, InputFileError
from envgen.files import MARKER, cannot_write, read_text

# Written last, inside the prefix; its presence is what "this environment is ready" means.
COMPLETE_MARKER = ".envgen-complete.json"
# Siblings of the prefix left by an interrupted build or swap; safe to delete on the next run.
_TMP_INFIX = ".envgen-tmp-"
_OLD_INFIX = ".envgen-old-"
# Sibling present while a backend builds in place (a prefix that cannot be relocated): if it is
# still there when the lock is next taken, whatever sits at the prefix is half-made.
_BUILDING_SUFFIX = ".envgen-building"
# Sibling locked (flock) while a prefix is built, swapped or verified; it holds the holder's pid.
_LOCK_SUFFIX = ".envgen-lock"
# How often a waiting envgen tries the lock again.
_LOCK_POLL_S = 0.2


def read_marker(prefix: Path) -> dict[str, Any] | None:
    """The completion marker of an envgen-built prefix, or None (absent, unreadable)."""
    path = prefix / COMPLETE_MARKER
    try:
        data = parse_json(read_text(path, what="completion marker"), str(path))
    except InputFileError:  # absent, or a FIFO, a device or junk: not envgen's marker
        return None
    return data if isinstance(data, dict) else None


def is_up_to_date(prefix: Path, input_hash: str) -> bool:
    marker = read_marker(prefix)
    return marker is not None and marker.get("input-hash") == input_hash


def check_replaceable(prefix: Path, *, force: bool) -> None:
    """Refuse to replace a directory envgen did not build (FileConflictError) unless `force`."""
    if not prefix.exists() and not prefix.is_symlink():
        return
    if not prefix.is_dir():
        raise FileConflictError(f"{prefix} exists and is not a directory", hint="choose a prefix")
    if force or read_marker(prefix) is not None or not any(prefix.iterdir()):
        return
    raise FileConflictError(
        f"{prefix} exists and was not built by envgen",
        hint="choose another --prefix, or pass --force to replace it",
    )


def discard(path: Path) -> None:
    """Delete a directory envgen made, its completion marker first: a deletion cut short (Ctrl-C,
    a kill) never leaves a half-deleted tree that still says it is ready."""
    (path / COMPLETE_MARKER).unlink(missing_ok=True)
    shutil.rmtree(path, ignore_errors=True)


def sibling(prefix: Path, suffix: str) -> Path:
    """`.<name><suffix>` next to `prefix`: where its lock and leftovers live."""
    return prefix.with_name(f".{prefix.name}{suffix}")


def remove_leftovers(prefix: Path) -> list[Path]:
    """Delete temporary siblings of `prefix` left by an interrupted earlier build."""
    removed = []
    for infix in (_TMP_INFIX, _OLD_INFIX):
        for path in prefix.parent.glob(f".{prefix.name}{infix}*"):
            discard(path)
            removed.append(path)
    return removed


def recover(prefix: Path) -> None:
    """Undo what a killed build left at `prefix` (call with the prefix lock held).

    An in-place build that never finished leaves its `building` sibling: what sits at the prefix
    is half-made and goes. A kill between the two renames of a swap (or of an in-place build)
    leaves no prefix but the previous one set aside: it is put back, so the user keeps it until a
    build replaces it. Leftover staging directories go last.
    """
    building = sibling(prefix, _BUILDING_SUFFIX)
    if building.exists():
        if prefix.is_dir() and not prefix.is_symlink():
            discard(prefix)
        building.unlink(missing_ok=True)
    if not prefix.exists() and not prefix.is_symlink():
        for old in sorted(prefix.parent.glob(f".{prefix.name}{_OLD_INFIX}*")):
            if read_marker(old) is not None:
                old.rename(prefix)
                break
    remove_leftovers(prefix)


def building_in_place(prefix: Path) -> Path:
    """Mark `prefix` as being built in place; the caller deletes the mark when the build is
    complete or cleaned up, and `recover` reads one still there as a build that was killed."""
    path = sibling(prefix, _BUILDING_SUFFIX)
    path.write_text(f"{os.getpid()}\n", encoding="utf-8")
    return path


# Prefixes this process holds the lock of (prefix -> depth): taking it again is a no-op, so the
# create stage can hold it over build and verify while the backend holds it over its build.
_HELD: dict[Path, int] = {}


def _holder(lock: Path) -> str:
    from envgen.files import read_text

    try:
        pid = read_text(lock, what="prefix lock").strip()
    except InputFileError:
        return "another envgen"
    return f"another envgen (pid {pid})" if pid.isdigit() else "another envgen"


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock of `fd` without waiting: flock, or on Windows a byte range lock
    (msvcrt; there the lock file also stays, since an open file cannot be deleted)."""
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):  # held: EWOULDBLOCK (flock), EACCES (msvcrt)
        return False
    return True


def _open_locked(lock: Path) -> int | None:
    """An fd holding the flock of the file now at `lock`, or None while someone else holds it.

    The holder deletes the file when it lets go; whoever was blocked on the deleted file then
    holds a lock on nothing, so a lock only counts if the path still names the locked file.
    """
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        if not _try_lock(fd):
            os.close(fd)
            return None
        try:
            current = lock.stat()
        except FileNotFoundError:
            current = None
        if current is not None and current.st_ino == os.fstat(fd).st_ino:
            return fd
        os.close(fd)  # deleted by the last holder in the meantime: take the new one


@contextlib.contextmanager
def prefix_lock(
    prefix: Path, *, wait: float | None = None, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the advisory lock of `prefix` (an flock on `.<name>.envgen-lock` beside it).

    `wait` is how long to wait for another holder, in seconds (None: as long as it takes; 0:
    refuse at once); `on_wait` hears one line when waiting starts. Waiting is the default because
    the usual second `create` (a second terminal, a re-triggered CI step) wants the same
    environment: once the first one finishes, the second finds it built and only verifies it. A
    holder cannot keep the lock forever: its own install and probe time-outs bound it, and the
    kernel releases the lock when it dies, however it dies. The file goes when the lock is let
    go; only a killed holder leaves it behind, and the next one takes it over.
    """
    prefix = prefix.absolute()
    if prefix in _HELD:
        _HELD[prefix] += 1
        try:
            yield
        finally:
            _HELD[prefix] -= 1
        return
    lock = sibling(prefix, _LOCK_SUFFIX)
    deadline = None if wait is None else time.monotonic() + wait
    waiting = False
    while True:
        try:
            prefix.parent.mkdir(parents=True, exist_ok=True)
            fd = _open_locked(lock)
        except OSError as exc:
            raise cannot_write(lock, exc) from exc
        if fd is not None:
            break
        holder = _holder(lock)
        if deadline is not None and time.monotonic() >= deadline:
            raise FileConflictError(
                f"{prefix} is being built or verified by {holder}"
                + (f"; still busy after {wait:g} s" if wait else ""),
                hint="let it finish and run again, or wait for it (--wait SECONDS)",
            )
        if not waiting and on_wait is not None:
            on_wait(f"waiting for {holder}, which is building or verifying {prefix}")
        waiting = True
        time.sleep(_LOCK_POLL_S)
    try:
        # Who holds it, for the message a waiting envgen prints (best effort).
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        _HELD[prefix] = 1
        try:
            yield
        finally:
            del _HELD[prefix]
            # Deleted while still locked, so nobody can take the lock of a file that is gone.
            with contextlib.suppress(OSError):
                lock.unlink()
    finally:
        os.close(fd)


def retarget(staging: Path, prefix: Path) -> None:
    """Rewrite the staging path to the final one in the scripts a venv hard-codes it into.

    `bin/activate*` and console-script shebangs hold the absolute path they were created at; after
    the rename they must name the prefix. (Byte-compiled files need nothing: importlib fixes a
    stale co_filename on load.) Only small text files under bin/ (Scripts/) and pyvenv.cfg.
    """
    old, new = str(staging).encode(), str(prefix).encode()
    candidates = [staging / "pyvenv.cfg"]
    for scripts in ("bin", "Scripts"):
        if (staging / scripts).is_dir():
            candidates.extend(p for p in (staging / scripts).iterdir() if p.is_file())
    for path in candidates:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 1 << 20:
            continue
        data = path.read_bytes()
        if old in data and b"\0" not in data[:1024]:
            mode = path.stat().st_mode
            path.write_bytes(data.replace(old, new))
            path.chmod(mode)


def write_marker(
    staging: Path, marker: dict[str, Any], chosen: tuple[tuple[str, str], ...] = ()
) -> None:
    body = {"generator": f"{MARKER} {__version__}", **marker}
    if chosen:
        body["chosen"] = dict(chosen)
    (staging / COMPLETE_MARKER).write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


# Beside the packages, read by the interpreter at start (templates/environment.pth.j2).
ENVIRONMENT_FILE = "envgen-environment.pth"


def write_environment(staging: Path, environment: tuple[tuple[str, str], ...]) -> Path | None:
    """The plan's variables (KERAS_BACKEND) for every start of the environment's interpreter:
    a `.pth` file in its site-packages that sets each unless the caller's environment already
    does. Nothing where the plan sets none."""
    if not environment:
        return None
    from envgen.environment import site_packages
    from envgen.render import templates

    text = (
        templates()
        .get_template("environment.pth.j2")
        .render({"marker": MARKER, "version": __version__, "environment": environment})
    )
    path = site_packages(staging) / ENVIRONMENT_FILE
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise cannot_write(path, exc) from exc
    return path


@contextlib.contextmanager
def staged_prefix(prefix: Path, *, force: bool) -> Iterator[Path]:
    """Yield a fresh staging directory next to `prefix`; on success, swap it into place.

    The caller builds into the staging directory and writes the marker last (`write_marker`).
    On any exception (Ctrl-C included) the staging directory is removed and `prefix` is untouched.
    The prefix lock is held throughout (taken here unless the caller holds it already).
    """
    prefix = prefix.absolute()
    with prefix_lock(prefix):
        recover(prefix)
        check_replaceable(prefix, force=force)
        try:
            staging = Path(
                tempfile.mkdtemp(prefix=f".{prefix.name}{_TMP_INFIX}", dir=prefix.parent)
            )
            # mkdtemp makes the directory private (0700); an environment is shared like any other.
            staging.chmod(0o755)
        except OSError as exc:
            raise cannot_write(prefix.parent, exc) from exc
        old = None
        try:
            yield staging
            if read_marker(staging) is None:
                raise RuntimeError("a backend finished without writing the completion marker")
            retarget(staging, prefix)
            if prefix.exists():
                old = sibling(prefix, f"{_OLD_INFIX}{staging.name[-8:]}")
                prefix.rename(old)
            staging.rename(prefix)
        except BaseException:
            discard(staging)
            if old is not None and not prefix.exists():
                old.rename(prefix)  # interrupted between the two renames: keep the old one
            raise
        if old is not None:
            discard(old)
