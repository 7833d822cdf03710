"""`envgen render` in-process: files written from a profile, config precedence, exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from envgen.cli import main
from envgen.errors import FileConflictError, UsageError

H100 = Path(__file__).parent.parent / "data" / "profiles" / "issue-example-h100.toml"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("ENVGEN_"):
            monkeypatch.delenv(name)
    return tmp_path


def test_render_writes_three_files_and_is_byte_stable(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["render", "--profile", str(H100), "--mirror", "tuna", "-o", "out"]
    assert main(argv) == 0
    first = {p.name: p.read_bytes() for p in (project / "out").iterdir()}
    assert sorted(first) == ["Dockerfile", "environment.yml", "requirements.txt"]
    assert b"FROM ${BASE_IMAGE}" in first["Dockerfile"]
    assert b"--mirror tuna" in first["requirements.txt"].splitlines()[1]
    capsys.readouterr()
    assert main(argv) == 0
    assert "unchanged" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in (project / "out").iterdir()} == first


def test_config_sets_the_request_and_flags_override_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.envgen]\ntarget = "cpu"\nmirror = "ustc"\noutputs = ["requirements.txt"]\n'
    )
    assert main(["--json", "render", "--profile", str(H100), "--mirror", "aliyun"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["schema"] == "envgen.render/1"
    assert out["plan"]["target"] == "cpu"
    assert out["mirror"]["name"] == "aliyun"
    assert [f["name"] for f in out["render"]["files"]] == ["requirements.txt"]


def test_save_config_records_the_request(project: Path) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "demo"  # mine\n')
    argv = ["render", "--profile", str(H100), "--target", "cpu", "--save-config"]
    assert main([*argv, "--format", "requirements.txt"]) == 0
    text = (project / "pyproject.toml").read_text()
    assert text.startswith('[project]\nname = "demo"  # mine\n')
    assert '[tool.envgen]\ntarget = "cpu"' in text


def test_edited_file_is_a_conflict(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["render", "--profile", str(H100), "--format", "requirements.txt"]
    assert main(argv) == 0
    path = project / "requirements.txt"
    path.write_text(path.read_text() + "pandas\n")
    assert main(argv) == FileConflictError.exit_code
    assert "edited by hand" in capsys.readouterr().err
    assert main([*argv, "--force"]) == 0


def test_http_mirror_without_opt_in_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["render", "--profile", str(H100), "--mirror", "http://10.0.0.1/simple"])
    assert code == UsageError.exit_code
    assert "--allow-insecure-mirror" in capsys.readouterr().err
    assert not list(project.iterdir())


@pytest.mark.usefixtures("project")
def test_unknown_format_is_a_usage_error() -> None:
    assert main(["render", "--profile", str(H100), "--format", "Makefile"]) == 2


# --- --lock: a file inside the build context, or a usage error ---------------------------------


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("../outside.txt", "leaves the build context"),
        ("locks/../../outside.txt", "leaves the build context"),
        ("/etc/hostname", "an absolute path"),
        ("C:/locks/x.txt", "an absolute path"),
        ("locks/a b.txt", "a COPY path takes"),
        # Refused where it enters, before the COPY-path rule: no value may hold a line break.
        ("locks/x.txt\nRUN id", "contains a line break"),
        ("--from=other/x.txt", "a COPY path takes"),
        ("$HOME/x.txt", "a COPY path takes"),
        ("locks/*.txt", "a COPY path takes"),
    ],
)
def test_lock_outside_the_build_context_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str], value: str, why: str
) -> None:
    # Each of these exists, or would exist, as a file: existence alone let `../x` through.
    (project / "outside.txt").write_text("not in the context\n")
    (project / "out" / "locks").mkdir(parents=True)
    (project / "out" / "locks" / "a b.txt").write_text("x\n")
    argv = ["render", "--json", "--profile", str(H100), "--target", "cpu", "-o", "out"]
    code = main([*argv, "--format", "Dockerfile", f"--lock={value}"])
    out = json.loads(capsys.readouterr().out)
    assert code == UsageError.exit_code == 2
    assert out["error"]["code"] == "usage"
    message = out["error"]["message"]
    assert message.startswith((f"--lock {value!r}: {why}", f"--lock: {value!r} {why}"))
    assert "\n" not in message
    assert not (project / "out" / "Dockerfile").exists()


def test_lock_through_a_link_out_of_the_context_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "outside.txt").write_text("not in the context\n")
    (project / "out").mkdir()
    (project / "out" / "lock.txt").symlink_to(project / "outside.txt")
    argv = ["render", "--profile", str(H100), "--target", "cpu", "-o", "out", "--lock", "lock.txt"]
    assert main(argv) == 2
    assert "a link to a file outside the build context" in capsys.readouterr().err


@pytest.mark.usefixtures("project")
def test_lock_from_the_variable_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENVGEN_LOCK", "../x.txt")
    assert main(["render", "--profile", str(H100), "--target", "cpu", "-o", "out"]) == 2
    assert capsys.readouterr().err.startswith("envgen: error: ENVGEN_LOCK '../x.txt': leaves")


def test_lock_inside_the_context_is_copied(project: Path) -> None:
    lock = project / "out" / "locks" / "requirements.cpu-linux-64.txt"
    lock.parent.mkdir(parents=True)
    lock.write_text("six==1.17.0 --hash=sha256:" + "0" * 64 + "\n")
    argv = ["render", "--profile", str(H100), "--target", "cpu", "-o", "out"]
    assert main([*argv, "--format", "Dockerfile", "--lock", "locks/" + lock.name]) == 0
    dockerfile = (project / "out" / "Dockerfile").read_text()
    assert f"COPY locks/{lock.name} /tmp/envgen/requirements.txt\n" in dockerfile
