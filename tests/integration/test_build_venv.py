"""The venv backend for real: uv builds a small environment, a re-run reuses it, verify passes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from envgen.backends import COMPLETE_MARKER, BuildRequest, get_backend
from envgen.errors import FileConflictError

pytestmark = pytest.mark.integration

# uv's shared wheel cache (UV_CACHE_DIR) is set for every test here by conftest.py.


def test_venv_from_requirements_then_hashed_lock(tmp_path: Path) -> None:
    backend = get_backend("venv")
    request = BuildRequest(prefix=tmp_path / "env", python="3.11", requirements=("six==1.17.0",))
    first = backend.build(request)
    assert first.installer == "uv"
    assert not first.reused
    assert (tmp_path / "env" / COMPLETE_MARKER).is_file()
    out = subprocess.run(
        [str(first.python), "-c", "import six, sys; print(six.__version__, sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["1.17.0", str(tmp_path / "env")]
    assert backend.build(request).reused
    # A hashed lock, as the lock stage writes it: compile one, then build from it.
    (tmp_path / "requirements.in").write_text("six==1.17.0\n")
    lock = tmp_path / "requirements.lock"
    from envgen.tools import find_uv

    uv = find_uv()
    assert uv is not None
    subprocess.run(
        [
            uv,
            "pip",
            "compile",
            "-q",
            "--generate-hashes",
            str(tmp_path / "requirements.in"),
            "-o",
            str(lock),
        ],
        check=True,
    )
    locked = backend.build(BuildRequest(prefix=tmp_path / "env", python="3.11", lock=lock))
    assert not locked.reused
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "env",
        "requirements.in",
        "requirements.lock",
    ]


def test_foreign_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "main.py").write_text("print('mine')\n")
    request = BuildRequest(prefix=tmp_path / "project", python="3.11", requirements=("six",))
    with pytest.raises(FileConflictError):
        get_backend("venv").build(request)
    assert (tmp_path / "project" / "main.py").read_text() == "print('mine')\n"
