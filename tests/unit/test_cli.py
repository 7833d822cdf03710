"""The CLI in-process: envelopes, exit codes, one-line errors, and live detection here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envgen.cli import main
from envgen.errors import FileConflictError, InputFileError, UsageError


def test_detect_json_envelope_from_profile(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["detect", "--json", "--profile", str(data_dir / "profiles/issue-example-h100.toml")]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["schema"] == "envgen.detect/1"
    assert out["ok"] is True
    assert out["profile"]["gpu"][0]["compute-capability"] == "9.0"


def test_bad_profile_is_one_line_with_distinct_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('schema = 1\n[os]\narch = "sparc"\n')
    code = main(["detect", "--profile", str(bad)])
    err = capsys.readouterr().err
    assert code == InputFileError.exit_code == 3
    assert err.splitlines()[0] == (
        f"envgen: error: {bad}: os.arch: expected one of x86_64, aarch64, arm64, armv7l, got 'sparc'"
    )
    assert "Traceback" not in err


def test_error_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["detect", "--json", "--profile", str(tmp_path / "none.toml")])
    out = json.loads(capsys.readouterr().out)
    assert code == 3
    assert out["ok"] is False
    assert out["error"]["code"] == "bad-input"


def test_bad_override_variable_is_usage_error(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENVGEN_OS", "plan9")
    code = main(["detect", "--profile", str(data_dir / "profiles/issue-example-h100.toml")])
    assert code == UsageError.exit_code
    assert "ENVGEN_OS" in capsys.readouterr().err


def test_live_detection_here_never_mistakes_a_toolkit_for_a_gpu(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """This runs detection on the test machine itself, with subprocesses forbidden.

    envgen's development and CI machines have a CUDA toolkit but no driver: detection must report
    the toolkit and no GPU, and must not need any subprocess to do so on Linux.
    """
    code = main(["detect", "--json"])
    p = json.loads(capsys.readouterr().out)["profile"]
    assert code == 0
    assert p["schema"] == 1
    if Path("/proc/driver/nvidia/version").exists():
        pytest.skip("this machine has an NVIDIA driver")
    assert "nvidia" not in p
    assert p["gpu"] == []
    if Path("/usr/local/cuda/include/cuda.h").exists():
        assert p["cuda-toolkit"], "the installed toolkit is reported"
    assert p["python"]["version"].count(".") == 1


def test_output_file_written_and_not_overwritten_if_foreign(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p.toml"
    profile = str(data_dir / "profiles/issue-example-h100.toml")
    assert main(["detect", "--profile", profile, "--output", str(out)]) == 0
    first = out.read_bytes()
    assert main(["detect", "--profile", profile, "--output", str(out)]) == 0
    assert out.read_bytes() == first  # byte-identical, rewritten in place
    foreign = tmp_path / "mine.toml"
    foreign.write_text("# my notes\n")
    assert (
        main(["detect", "--profile", profile, "--output", str(foreign)])
        == FileConflictError.exit_code
    )
    assert foreign.read_text() == "# my notes\n"
    assert main(["detect", "--profile", profile, "--output", str(foreign), "--force"]) == 0
    capsys.readouterr()


def test_plan_json_schema(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", "--json", "--profile", str(data_dir / "nvidia/h100/profile.toml")])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["schema"] == "envgen.plan/1"
    assert out["ok"] is True
    plan = out["plan"]
    assert plan["target"] == "gpu"
    assert plan["python"] == "3.12"
    assert plan["tensorflow"] == {"name": "tensorflow", "version": "2.21.0", "extras": ["and-cuda"]}
    assert (plan["cuda"], plan["cudnn"]) == ("12.5", "9.3")
    assert {"name", "version", "channel", "reason"} <= set(plan["packages"][0])
    assert isinstance(out["warnings"], list)
    assert isinstance(out["rejections"], list)


def test_plan_here_is_cpu(capsys: pytest.CaptureFixture[str]) -> None:
    if Path("/proc/driver/nvidia/version").exists():
        pytest.skip("this machine has an NVIDIA driver")
    assert main(["plan", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)["plan"]
    assert plan["target"] == "cpu"
    assert plan["cuda"] is None
    assert plan["cudnn"] is None


def test_plan_no_solution_exit_code_and_json(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["plan", "--json", "--profile", str(data_dir / "profiles/windows7-gtx650-core2.toml")]
    code = main([*args, "--python", "3.7"])
    out = json.loads(capsys.readouterr().out)
    assert code == 4
    assert out["ok"] is False
    assert out["error"]["code"] == "no-solution"
    assert out["error"]["remedies"][0].startswith("use Python 3.6")


def test_plan_why_not(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = str(data_dir / "profiles/windows7-gtx650-core2.toml")
    assert main(["plan", "--profile", profile, "--why-not", "tensorflow==1.6.0"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("tensorflow==1.6.0: does not fit")
    assert "lacks AVX" in text


def test_plan_bad_flag_value_is_usage_error(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "plan",
            "--profile",
            str(data_dir / "profiles/issue-example-h100.toml"),
            "--python",
            "three",
        ]
    )
    assert code == 2
    assert capsys.readouterr().err.startswith(
        "envgen: error: --python: expected a version like 3.11"
    )


def test_env_twin_of_a_flag(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENVGEN_TARGET", "cpu")
    assert main(["plan", "--json", "--profile", str(data_dir / "nvidia/h100/profile.toml")]) == 0
    assert json.loads(capsys.readouterr().out)["plan"]["target"] == "cpu"


def test_kb_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "check", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tensorflow-releases"] >= 100
    assert len(out["hash"]) == 16


def test_kb_check_loads_every_data_file(capsys: pytest.CaptureFixture[str]) -> None:
    """No orphan data file: each one has a typed loader, and `envgen kb check` runs them all."""
    from envgen.cli.kb import TABLES
    from envgen.kb import KnowledgeBase, data_files

    kb_dir = Path(__file__).resolve().parents[2] / "envgen" / "kb"
    loaders = "".join(p.read_text() for p in kb_dir.glob("*.py"))
    assert [f for f in data_files() if f'"{f}"' not in loaders] == []
    tables = {name for name, value in vars(KnowledgeBase).items() if hasattr(value, "func")}
    assert tables == set(TABLES)
    assert main(["kb", "check"]) == 0
    assert f"{len(data_files())} files valid" in capsys.readouterr().out


def test_create_wait_takes_seconds_from_the_flag_or_its_twin(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["create", "--wait", "soon"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "envgen: error: --wait: expected a number of seconds >= 0, got 'soon'"
    monkeypatch.setenv("ENVGEN_WAIT", "-1")
    profile = str(data_dir / "profiles" / "issue-example-h100.toml")
    assert main(["create", "--profile", profile, "--target", "cpu"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "envgen: error: ENVGEN_WAIT: expected a number of seconds >= 0, got '-1'"
