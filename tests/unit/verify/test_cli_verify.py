"""`envgen verify` end to end through the CLI, with the probe's answer replayed from a capture."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

import envgen.verify
from envgen.cli import main
from envgen.verify.observation import Observation, parse


@pytest.fixture
def replay(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    probe = json.loads((data_dir / "verify" / "probe-tf-2.21-cpu.json").read_text())

    def fake_run_probe(_python: Path, **_: Any) -> Observation:
        return parse(probe)

    monkeypatch.setattr(envgen.verify, "run_probe", fake_run_probe)


def argv(data_dir: Path, report: Path, *extra: str) -> list[str]:
    profile = data_dir / "profiles" / "issue-example-h100.toml"
    return [
        "verify",
        "--python",
        sys.executable,
        "--profile",
        str(profile),
        "--report",
        str(report),
        *extra,
    ]


@pytest.mark.usefixtures("replay")
def test_verify_passes_and_writes_the_report(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "verify-report.json"
    assert main(argv(data_dir, report, "--json")) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["schema"] == "envgen.verify/1"
    assert out["ok"] is True
    saved = json.loads(report.read_text())
    assert saved["ok"] is True
    assert saved["target"] == "cpu"
    assert len(saved["profile-hash"]) == 16
    # A second run replaces its own report.
    assert main(argv(data_dir, report)) == 0


@pytest.mark.usefixtures("replay")
def test_verify_fails_with_exit_6(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(argv(data_dir, tmp_path / "r.json", "--target", "gpu"))
    assert code == 6
    err = capsys.readouterr().err
    assert "FAIL tensorflow:gpus" in err
    assert "verification FAILED (2 check(s))" in err


@pytest.mark.usefixtures("replay")
def test_verify_refuses_to_overwrite_a_foreign_file(data_dir: Path, tmp_path: Path) -> None:
    mine = tmp_path / "notes.json"
    mine.write_text("{}")
    assert main(argv(data_dir, mine)) == 8
    assert main(argv(data_dir, mine, "--force")) == 0


def test_verify_needs_an_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    assert main(["verify", "--report", "-"]) == 2
    assert "give --prefix DIR or --python EXE" in capsys.readouterr().err
