"""The prefix lock and the recovery of what a killed build left (no processes).

Another holder is played by a second open file description locked with flock: the kernel treats
it exactly like another process's. What a kill leaves is laid out as the code leaves it, since a
kill runs no cleanup; tests/integration/test_interrupt.py kills real `envgen create` runs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from envgen.backends import conda as conda_backend
from envgen.backends import (
    prefix_lock,
    read_marker,
    recover,
    staged_prefix,
    write_marker,
)
from envgen.errors import FileConflictError, InputFileError
from envgen.files import check_writable_dir

# flock is POSIX (the lock itself takes msvcrt's byte-range lock on Windows): these tests play the
# other holder with it. importorskip also keeps mypy --platform win32 from reading fcntl's names.
fcntl = pytest.importorskip("fcntl")


@pytest.fixture
def other_holder(tmp_path: Path) -> Iterator[Path]:
    """The lock of `tmp_path/env`, held by "another envgen" (pid 4242) until the test ends."""
    lock = tmp_path / ".env.envgen-lock"
    with lock.open("w") as fh:
        fh.write("4242\n")
        fh.flush()
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield lock


def test_the_lock_is_held_then_gone(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    with prefix_lock(prefix):
        lock = tmp_path / ".env.envgen-lock"
        assert lock.read_text() == f"{os.getpid()}\n"
        with lock.open() as fh, pytest.raises(BlockingIOError):
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with prefix_lock(prefix):  # the same process again (create around the backend): no wait
            pass
        assert lock.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("other_holder")
def test_busy_prefix_refused_at_once_with_the_holder(tmp_path: Path) -> None:
    with (
        pytest.raises(
            FileConflictError,
            match=r"env is being built or verified by another envgen \(pid 4242\)$",
        ),
        prefix_lock(tmp_path / "env", wait=0),
    ):
        pass


@pytest.mark.usefixtures("other_holder")
def test_busy_prefix_waited_for_then_refused(tmp_path: Path) -> None:
    heard: list[str] = []
    start = time.monotonic()
    with (
        pytest.raises(FileConflictError, match=r"still busy after 0.5 s"),
        prefix_lock(tmp_path / "env", wait=0.5, on_wait=heard.append),
    ):
        pass
    assert time.monotonic() - start >= 0.5
    assert heard == [
        f"waiting for another envgen (pid 4242), which is building or verifying {tmp_path / 'env'}"
    ]


def test_a_lock_left_by_a_killed_holder_is_taken_over(tmp_path: Path) -> None:
    # Killed: the file stays, the kernel dropped the flock.
    (tmp_path / ".env.envgen-lock").write_text("4242\n")
    with prefix_lock(tmp_path / "env", wait=0):
        assert (tmp_path / ".env.envgen-lock").read_text() == f"{os.getpid()}\n"
    assert list(tmp_path.iterdir()) == []


def test_a_partial_in_place_build_is_recovered_after_a_kill(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    with conda_backend.in_place_prefix(prefix, force=False) as target:
        target.mkdir()
        (target / "old.txt").write_text("old")
        write_marker(target, {"input-hash": "h1"})
    # What SIGKILL leaves mid-build: the old prefix aside, a half-made one, the building note.
    prefix.rename(tmp_path / ".env.envgen-old-abc")
    prefix.mkdir()
    (prefix / "half.txt").write_text("")
    (tmp_path / ".env.envgen-building").write_text("4242\n")
    # Without recovery the half-made prefix reads as a directory envgen did not build.
    recover(prefix)
    assert (prefix / "old.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env"]
    with conda_backend.in_place_prefix(prefix, force=False) as target:
        target.mkdir()
        write_marker(target, {"input-hash": "h2"})
    assert read_marker(prefix) is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env"]


def test_a_swap_cut_between_its_renames_keeps_the_old_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = tmp_path / "env"
    with staged_prefix(prefix, force=False) as staging:
        (staging / "old.txt").write_text("old")
        write_marker(staging, {"input-hash": "h1"})
    rename = Path.rename

    def ctrl_c_on_the_second(self: Path, target: Path) -> Path:
        if ".envgen-tmp-" in self.name:  # the staging directory going into place
            raise KeyboardInterrupt
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", ctrl_c_on_the_second)
    with pytest.raises(KeyboardInterrupt), staged_prefix(prefix, force=False) as staging:
        write_marker(staging, {"input-hash": "h2"})
    monkeypatch.undo()
    assert (prefix / "old.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env"]


def test_a_swap_killed_between_its_renames_gets_the_old_prefix_back(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    old = tmp_path / ".env.envgen-old-abc"
    old.mkdir()
    write_marker(old, {"input-hash": "h1"})
    staging = tmp_path / ".env.envgen-tmp-def"
    staging.mkdir()
    write_marker(staging, {"input-hash": "h2"})
    recover(prefix)
    marker = read_marker(prefix)
    assert marker is not None
    assert marker["input-hash"] == "h1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env"]


def test_a_half_deleted_old_prefix_is_not_taken_for_ready(tmp_path: Path) -> None:
    # `discard` removes the marker first, so a deletion cut short leaves no marker behind.
    old = tmp_path / ".env.envgen-old-abc"
    old.mkdir()
    (old / "lib.py").write_text("")
    recover(tmp_path / "env")
    assert list(tmp_path.iterdir()) == []


def test_outputs_blocked_by_a_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    with pytest.raises(FileConflictError, match=r"^output directory .*afile is a file$"):
        check_writable_dir(tmp_path / "afile", what="output directory")
    with pytest.raises(
        FileConflictError, match=r"prefix .*afile/env cannot be made: .*afile is a file$"
    ):
        check_writable_dir(tmp_path / "afile" / "env", what="prefix")
    check_writable_dir(tmp_path / "new" / "deeper", what="output directory")  # made when needed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_a_prefix_lock_where_nothing_can_be_written(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    with (
        pytest.raises(InputFileError, match=r"cannot write .*afile/\.env\.envgen-lock"),
        prefix_lock(tmp_path / "afile" / "env"),
    ):
        pass
