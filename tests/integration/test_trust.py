"""Refusals for real, in `python -m envgen` subprocesses: an edited lock installs nothing, and an
index or conda channel that does not answer is exit 5 with the JSON envelope on stdout.

Cheap on purpose: nothing here installs TensorFlow. A refusal happens before the install, and an
unreachable index fails at its first request (`UV_HTTP_RETRIES=0`: no retry back-off).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from envgen.tools import find_uv

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
# The reference set's profile (tests/data/profiles/issue-example-h100.toml) as `envgen lock` saw
# it for the cpu variant (GPUs dropped): planning from it gives the committed cpu lock's plan.
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
REQUEST = ["--target", "cpu", "--python", "3.11", "--tensorflow", "2.21"]
# absl-py's first hash in the reference requirements lock (two are listed).
ABSL_WHEEL = "286e71c82c1a38e75bbcf185f9b37d0305ad7786535107cb49bf4df9ff2e1f95"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project holding a copy of the committed reference lock set and the cpu profile."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "locks", project / "locks")
    (tmp_path / "cpu.toml").write_text(CPU_PROFILE)
    return project


def _envgen(*args: str, cwd: Path, wrap: tuple[str, ...] = ()) -> tuple[int, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVGEN_")}
    env["UV_HTTP_RETRIES"] = "0"
    done = subprocess.run(
        [*wrap, sys.executable, "-m", "envgen", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.stdout.strip(), f"no envelope on stdout; stderr:\n{done.stderr[-3000:]}"
    return done.returncode, json.loads(done.stdout)


def _closed_port() -> int:
    """A localhost port with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _one_line_error(out: dict[str, Any], code: str) -> dict[str, str]:
    assert out["ok"] is False
    error: dict[str, str] = out["error"]
    assert error["code"] == code, error
    assert "\n" not in error["message"]
    return error


def test_uv_installs_a_requirement_with_one_edited_hash(tmp_path: Path) -> None:
    """Why the index's digest is needed at all: uv takes a requirement when any one of its
    hashes matches a file of that version, so with either hash edited it installs the other file
    (the wheel, or the sdist built from source) without a word."""
    uv = find_uv()
    assert uv is not None
    lock = tmp_path / "six.txt"
    subprocess.run(
        [uv, "pip", "compile", "-q", "--no-config", "--generate-hashes", "-", "-o", str(lock)],
        input="six==1.17.0\n",
        text=True,
        check=True,
        timeout=300,
    )
    hashes = [w.split(":", 1)[1] for w in lock.read_text().split() if w.startswith("--hash=")]
    assert len(hashes) == 2  # the wheel's and the sdist's
    subprocess.run([uv, "venv", "-q", "-p", "3.11", str(tmp_path / "env")], check=True)
    python = str(tmp_path / "env" / "bin" / "python")
    edited = tmp_path / "edited.txt"
    install = [uv, "pip", "install", "-q", "--no-config", "--reinstall", "--require-hashes"]
    installed = []
    for digest in hashes:
        edited.write_text(lock.read_text().replace(digest, "0" * 64))
        done = subprocess.run(
            [*install, "-p", python, "-r", str(edited)],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        installed.append(done.returncode == 0)
    assert installed == [True, True], "uv noticed an edited hash"


def test_create_frozen_refuses_a_lock_with_one_edited_hash(project: Path) -> None:
    lock = project / "locks" / "requirements.cpu-linux-64.txt"
    text = lock.read_text()
    assert text.count(ABSL_WHEEL) == 1
    lock.write_text(text.replace(ABSL_WHEEL, "0" * 64))
    before = sorted(p.name for p in project.parent.rglob("*"))
    code, out = _envgen(
        "create", "--json", "--profile", "../cpu.toml", *REQUEST, "--frozen", cwd=project
    )
    assert code == 3
    error = _one_line_error(out, "bad-input")
    assert error["message"].startswith("locks/requirements.cpu-linux-64.txt was edited")
    assert "envgen lock" in error["hint"]
    # Nothing was installed, rendered or staged: the folder holds exactly what it held.
    assert sorted(p.name for p in project.parent.rglob("*")) == before
    assert not (project / ".venv").exists()


def test_an_index_that_does_not_answer_is_exit_5_with_the_envelope(project: Path) -> None:
    index = f"https://127.0.0.1:{_closed_port()}/simple"
    code, out = _envgen(
        "create",
        "--json",
        "--profile",
        "../cpu.toml",
        *REQUEST,
        "--frozen",
        "--no-verify",
        "--mirror",
        index,
        cwd=project,
    )
    assert code == 5
    error = _one_line_error(out, "external-tool")
    assert error["message"].startswith("uv pip install failed with exit code")
    assert error["message"].endswith("Connection refused (os error 111)")
    assert index in error["hint"]
    assert "--mirror" in error["hint"]
    assert not (project / ".venv").exists()
    assert not [p for p in project.iterdir() if ".envgen-tmp-" in p.name]


def test_a_conda_channel_that_does_not_answer_is_exit_5_with_the_envelope(
    project: Path,
) -> None:
    channel = f"http://127.0.0.1:{_closed_port()}/conda-forge"
    code, out = _envgen(
        "lock",
        "--json",
        "--profile",
        "../cpu.toml",
        *REQUEST,
        "--platform",
        "win-64",
        "--conda-channel",
        channel,
        "--output-dir",
        "out",
        cwd=project,
    )
    assert code == 5
    error = _one_line_error(out, "external-tool")
    assert error["message"].startswith(f"py-rattler could not read the conda channel(s) {channel}")
    assert error["message"].endswith("Connection refused (os error 111)")
    assert "--conda-channel https://" in error["hint"]  # a mirror of conda-forge
    assert "--channel pip" in error["hint"]
    assert not (project / "out").exists()


def test_no_network_at_all_is_exit_5_with_the_envelope(project: Path) -> None:
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "--net", "true"], check=False).returncode:
        pytest.skip("needs unshare --net (root, util-linux)")
    code, out = _envgen(
        "lock",
        "--json",
        "--profile",
        "../cpu.toml",
        *REQUEST,
        "--platform",
        "linux-64",
        "--output-dir",
        "out",
        cwd=project,
        wrap=(unshare, "--net"),
    )
    assert code == 5
    error = _one_line_error(out, "external-tool")
    assert error["message"].startswith("uv pip compile failed for linux-64, Python 3.11")
    assert "https://pypi.org/simple" in error["hint"]
