"""`envgen create` for real: a TensorFlow environment built from PyPI that computes.

The first run locks with uv, builds a venv from the hashed lock and verifies it; the second run
must do nothing but re-check it quickly (`--full` verifies again); a stale lock with --locked
must fail without touching anything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from envgen.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    # The build and verify steps start uv and the new interpreter: real subprocesses.
    return tmp_path


def _create(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["create", "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def test_create_cpu_then_rerun_only_verifies(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, first = _create(capsys, "--target", "cpu")
    assert code == 0, first
    plan = first["plan"]
    assert isinstance(plan, dict)
    assert plan["tensorflow"]["version"] == "2.21.0"
    assert first["verify"]["ok"] is True
    checks = {c["name"] for c in first["verify"]["checks"] if c["ok"]}
    assert {"tensorflow:import", "tensorflow:reduce-sum", "tensorflow:keras-fit"} <= checks
    for name in ("environment.yml", "requirements.txt", "Dockerfile", "locks/envgen-lock.toml"):
        assert (project / name).is_file()
    assert (project / ".venv/.envgen-complete.json").is_file()
    # The build is told apart: uv's phases, and what was fetched from where.
    build = first["build"]
    assert build["phases"]["bytecode"]["count"] > 1000
    assert build["phases"]["install"]["count"] == 32
    # no mirror: uv installs the pylock's own files, with no index page read first
    assert "resolve" not in build["phases"]
    assert build["fetched"]["from"].startswith("files.pythonhosted.org")
    assert "bytecode" in next(s["result"] for s in first["steps"] if s["stage"] == "build")
    lock_bytes = (project / "locks/requirements.cpu-linux-64.txt").read_bytes()

    code, second = _create(capsys, "--target", "cpu")
    assert code == 0
    stages = {s["stage"]: s["result"] for s in second["steps"]}
    assert "as committed" in stages["lock"]
    assert "reused" in stages["build"]
    assert "0 changed" in stages["render"]
    assert (project / "locks/requirements.cpu-linux-64.txt").read_bytes() == lock_bytes
    # Nothing changed: the record of the first run's verification and the installed files prove
    # it, without starting the interpreter (issue 17); --full runs the probe again.
    assert second["verify"]["mode"] == "quick", second["verify"]
    assert "quick" in stages["verify"]
    assert (project / ".venv/.envgen-verified.json").is_file()
    code, third = _create(capsys, "--target", "cpu", "--full")
    assert code == 0
    assert third["verify"]["mode"] == "full"
    assert any(c["name"] == "tensorflow:keras-fit" for c in third["verify"]["checks"])

    # Asking for something else with --locked: the committed set is stale (exit 9), the change
    # is named, and nothing changes.
    code, stale = _create(capsys, "--target", "cpu", "--tensorflow", "2.20", "--locked")
    assert code == 9, stale
    assert stale["error"]["code"] == "stale-lock"
    assert "request changed: tensorflow any -> 2.20" in stale["error"]["message"]
    assert (project / "locks/requirements.cpu-linux-64.txt").read_bytes() == lock_bytes


@pytest.mark.usefixtures("project")
def test_create_tf215_numpy1_keras2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _create(capsys, "--target", "cpu", "--tensorflow", "2.15", "--python", "3.11")
    assert code == 0, out
    installed = out["verify"]["probe"]["packages"]
    assert installed["tensorflow-cpu"].startswith("2.15.")
    assert installed["numpy"].startswith("1.")
    assert installed["keras"].startswith("2.15.")


def test_existing_foreign_directory_is_not_overwritten(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / ".venv").mkdir()
    (project / ".venv/mine.txt").write_text("keep me\n")
    code, out = _create(capsys, "--target", "cpu", "--no-verify")
    assert code == 8, out
    assert (project / ".venv/mine.txt").read_text() == "keep me\n"
    assert [p.name for p in (project / ".venv").iterdir()] == ["mine.txt"]
