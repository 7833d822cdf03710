"""`envgen verify` end to end through the CLI, with the probe's answer replayed from a capture."""

from __future__ import annotations

import json
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


@pytest.fixture(autouse=True)
def venv(tmp_path: Path) -> Path:
    """The environment verified: a virtualenv's layout (the replayed probe stands for Python)."""
    prefix = tmp_path / "venv"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "python").write_text("")
    (prefix / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (prefix / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    return prefix


def argv(data_dir: Path, report: Path, *extra: str) -> list[str]:
    profile = data_dir / "profiles" / "issue-example-h100.toml"
    return [
        "verify",
        "--python",
        str(report.parent / "venv" / "bin" / "python"),
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


@pytest.mark.usefixtures("replay")
def test_a_rerun_with_nothing_changed_is_quick_and_full_is_a_flag_away(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "verify-report.json"
    assert main(argv(data_dir, report, "--json")) == 0
    assert json.loads(capsys.readouterr().out)["report"]["mode"] == "full"
    assert (tmp_path / "venv" / ".envgen-verified.json").is_file()
    assert main(argv(data_dir, report, "--json")) == 0
    quick = json.loads(capsys.readouterr().out)["report"]
    assert quick["mode"] == "quick"
    assert quick["proof"]["checks"][0]["name"] == "interpreter"
    assert main(argv(data_dir, report)) == 0
    assert "(target cpu, quick)" in capsys.readouterr().out
    assert main(argv(data_dir, report, "--full", "--json")) == 0
    full = json.loads(capsys.readouterr().out)["report"]
    assert full["mode"] == "full"
    assert full["proof"]["quick"] == "not tried: a full verification was asked for"


@pytest.mark.usefixtures("replay")
def test_a_failed_full_verification_forgets_the_record(data_dir: Path, tmp_path: Path) -> None:
    assert main(argv(data_dir, tmp_path / "r.json")) == 0
    assert main(argv(data_dir, tmp_path / "r.json", "--target", "gpu")) == 6
    assert not (tmp_path / "venv" / ".envgen-verified.json").exists()


def test_the_keras_backend_names_its_source_when_bad(
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(argv(data_dir, tmp_path / "r.json", "--keras-backend", "mxnet")) == 2
    monkeypatch.setenv("ENVGEN_KERAS_BACKEND", "mxnet")
    assert main(argv(data_dir, tmp_path / "r.json")) == 2
    assert "ENVGEN_KERAS_BACKEND: expected one of tensorflow, jax, torch, got 'mxnet'" in (
        capsys.readouterr().err
    )
    monkeypatch.delenv("ENVGEN_KERAS_BACKEND")
    (tmp_path / "pyproject.toml").write_text('[tool.envgen]\nkeras-backend = "mxnet"\n')
    assert main(argv(data_dir, tmp_path / "r.json")) == 3
    assert "tool.envgen.keras-backend" in capsys.readouterr().err


def test_a_named_keras_backend_probes_only_its_framework(
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The H200 capture of `--keras-backend jax`, replayed: the probe is asked for JAX alone."""
    capture = json.loads((data_dir / "verify" / "h200-keras3" / "verify-jax.json").read_text())
    asked: list[dict[str, Any]] = []

    def fake_run_probe(_python: Path, **kw: Any) -> Observation:
        asked.append(kw)
        return parse(capture["report"]["probe"])

    monkeypatch.setattr(envgen.verify, "run_probe", fake_run_probe)
    (tmp_path / "envgen.toml").write_text('keras-backend = "jax"\n')
    assert main(argv(data_dir, tmp_path / "r.json", "--json")) == 0
    assert asked[0]["frameworks"] == ["jax"]
    assert asked[0]["keras_backend"] == "jax"
    report = json.loads(capsys.readouterr().out)["report"]
    assert report["expectation"] == "keras-backend jax"
    assert any(c["name"] == "jax:keras-fit" and c["ok"] for c in report["checks"])
