"""The lock set's integrity check, over a copy of the committed reference set in `locks/`.

uv and pip accept a requirement when any one of its `--hash` values matches what they download,
so the edit that matters is the smallest one: one hash of a package's two changed. Only the
sha256 the index took of each file when `envgen lock` wrote it can notice that.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envgen.backends import refuse_edited_locks
from envgen.cli import main
from envgen.errors import InputFileError
from envgen.lock import index as lockset_index
from envgen.lock import integrity as lockset

REFERENCE = Path(__file__).resolve().parents[3] / "locks"
# The reference set's profile (tests/data/profiles/issue-example-h100.toml) as `envgen lock` saw
# it for the cpu variant: GPUs dropped. Planning from it gives the plan the cpu lock was made
# from, so `--locked` takes the committed lock as current.
CPU_PROFILE = """schema = 1
[os]
name = "linux"
arch = "x86_64"
release = "22.04"
glibc = "2.35"
[cpu]
flags = ["avx", "avx2", "fma", "sse4_2"]
[python]
version = "3.11"
"""
REQUIREMENTS = "requirements.cpu-linux-64.txt"
# absl-py's first hash in the reference lock (it lists two: the wheel's and the sdist's).
ABSL_WHEEL = "286e71c82c1a38e75bbcf185f9b37d0305ad7786535107cb49bf4df9ff2e1f95"


@pytest.fixture
def locks(tmp_path: Path) -> Path:
    return Path(shutil.copytree(REFERENCE, tmp_path / "locks"))


def _index(directory: Path) -> lockset_index.LockIndex:
    return lockset_index.load_index(directory / lockset_index.INDEX)


def _edit_one_hash(path: Path) -> None:
    text = path.read_text()
    assert text.count(ABSL_WHEEL) == 1
    path.write_text(text.replace(ABSL_WHEEL, "0" * 64))


def test_the_committed_set_is_intact(locks: Path) -> None:
    index = _index(locks)
    assert len(index.files) == 10
    assert lockset.verify_files(index, locks) == []
    lockset.require_intact(index, locks)


def test_one_edited_hash_is_refused_naming_the_file(locks: Path) -> None:
    _edit_one_hash(locks / REQUIREMENTS)
    index = _index(locks)
    assert lockset.verify_files(index, locks) == [
        lockset.FileProblem(REQUIREMENTS, "was edited (sha256 differs from the index)")
    ]
    with pytest.raises(InputFileError) as caught:
        lockset.require_intact(index, locks)
    assert caught.value.exit_code == 3
    assert caught.value.message.startswith(f"{locks / REQUIREMENTS} was edited")
    assert "\n" not in caught.value.message


def test_only_the_named_files_are_checked(locks: Path) -> None:
    _edit_one_hash(locks / REQUIREMENTS)
    index = _index(locks)
    assert lockset.verify_files(index, locks, {"pylock.cpu-linux-64.toml"}) == []
    assert len(lockset.verify_files(index, locks, {REQUIREMENTS})) == 1


def test_a_windows_checkout_with_crlf_is_not_an_edit(locks: Path) -> None:
    # git's autocrlf rewrites line ends on checkout; nothing an installer reads changes.
    path = locks / REQUIREMENTS
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert lockset.verify_files(_index(locks), locks) == []


def test_missing_unlisted_and_unreadable_files(locks: Path) -> None:
    (locks / "pylock.cpu-win-64.toml").unlink()
    (locks / "pylock.gpu-osx-arm64.toml").unlink()
    mkfifo = getattr(os, "mkfifo", None)
    if mkfifo is None:
        pytest.skip("Windows has no FIFOs")
    mkfifo(locks / "pylock.gpu-osx-arm64.toml")  # a FIFO must not hang the check
    index_path = locks / lockset_index.INDEX
    text = index_path.read_text()
    listed = '"requirements.cpu-osx-arm64.txt" = '
    index_path.write_text("\n".join(ln for ln in text.splitlines() if listed not in ln) + "\n")
    problems = {p.name: p.why for p in lockset.verify_files(_index(locks), locks)}
    assert problems["pylock.cpu-win-64.toml"] == "is missing"
    assert problems["pylock.gpu-osx-arm64.toml"].startswith("cannot be checked (lock file ")
    assert problems["requirements.cpu-osx-arm64.txt"] == (
        "is named by the index but has no sha256 in its [files] table"
    )
    assert len(problems) == 3


def test_a_backend_refuses_a_lock_its_index_says_was_edited(locks: Path, tmp_path: Path) -> None:
    refuse_edited_locks(locks / REQUIREMENTS, None)
    _edit_one_hash(locks / REQUIREMENTS)
    with pytest.raises(InputFileError, match=r"requirements\.cpu-linux-64\.txt was edited"):
        refuse_edited_locks(locks / REQUIREMENTS)
    # Another file of the same set is judged on its own.
    refuse_edited_locks(locks / "requirements.cpu-win-64.txt")
    # A lock with no index beside it, or one the index does not list, carries only its hashes.
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(locks / REQUIREMENTS, alone / REQUIREMENTS)
    refuse_edited_locks(alone / REQUIREMENTS)
    shutil.copy(locks / REQUIREMENTS, locks / "mine.txt")
    refuse_edited_locks(locks / "mine.txt")


@pytest.mark.parametrize("mode", ["--frozen", "--locked"])
def test_create_refuses_an_edited_lock_before_anything_runs(
    locks: Path,
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = locks.parent
    monkeypatch.chdir(project)
    for name in list(os.environ):
        if name.startswith("ENVGEN_"):
            monkeypatch.delenv(name)
    _edit_one_hash(locks / REQUIREMENTS)
    profile = project / "cpu.toml"
    profile.write_text(CPU_PROFILE)
    argv = ["create", "--json", "--profile", str(profile), "--target", "cpu", "--python", "3.11"]
    code = main([*argv, "--tensorflow", "2.21", mode, "--output-dir", str(project)])
    out = json.loads(capsys.readouterr().out)
    # The unit-test guard forbids processes: had uv started, this would be an internal error.
    assert code == InputFileError.exit_code == 3, out
    assert out["error"]["code"] == "bad-input"
    assert out["error"]["message"].startswith(f"{locks / REQUIREMENTS} was edited")
    assert sorted(p.name for p in project.iterdir()) == ["cpu.toml", "locks"]  # nothing made


_REFERENCE_BYTES = (REFERENCE / REQUIREMENTS).read_bytes()


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    position=st.integers(min_value=0, max_value=len(_REFERENCE_BYTES) - 1),
    byte=st.integers(min_value=0, max_value=255),
)
def test_any_changed_byte_is_noticed(locks: Path, position: int, byte: int) -> None:
    original = _REFERENCE_BYTES
    if original[position] == byte:
        return
    changed = original[:position] + bytes([byte]) + original[position + 1 :]
    (locks / REQUIREMENTS).write_bytes(changed)
    problems = lockset.verify_files(_index(locks), locks)
    assert [p.name for p in problems] == [REQUIREMENTS]
