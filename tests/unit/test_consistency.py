"""Every command tells the same story: one profile digest, one no-solution shape, one exit code.

Issue 12 found them disagreeing: `verify` and `create` hashed the same profile differently,
`plan`, `render` and `create` printed a no-solution three ways, `lock` called "no plan on any
platform" a usage error (exit 2), and `verify` skipped the ENVGEN_* overrides.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import envgen.verify
from envgen.cli import main
from envgen.detect import load_or_detect
from envgen.errors import NoSolutionError
from envgen.kb import load_kb
from envgen.plan import Plan, Request, Target
from envgen.resolve import resolve
from envgen.verify.observation import Observation, parse

DATA = Path(__file__).parents[1] / "data"
H100 = DATA / "profiles" / "issue-example-h100.toml"
# An armv7l board: no official wheels at all, so every command meets a no-solution.
RPI = DATA / "profiles" / "linux-armv7l-rpi4-py39.toml"


@pytest.fixture
def replay(monkeypatch: pytest.MonkeyPatch) -> None:
    probe = json.loads((DATA / "verify" / "probe-tf-2.21-cpu.json").read_text())

    def fake_run_probe(_python: Path, **_: Any) -> Observation:
        return parse(probe)

    monkeypatch.setattr(envgen.verify, "run_probe", fake_run_probe)


@pytest.mark.usefixtures("replay")
@pytest.mark.parametrize("driver", [None, "470.82.01"])
def test_verify_hashes_the_machine_as_plans_do(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    driver: str | None,
) -> None:
    if driver is not None:
        # verify applies the ENVGEN_* overrides as every command does.
        monkeypatch.setenv("ENVGEN_CUDA_DRIVER", driver)
    report = tmp_path / "r.json"
    # A virtualenv's layout of its own (the replayed probe stands for its Python): verify
    # records a pass inside the environment it verified, which must not be the test runner's.
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    argv = ["verify", "--python", str(python), "--profile", str(H100), "--report", str(report)]
    assert main(argv) == 0
    capsys.readouterr()
    plan = resolve(load_or_detect(str(H100)), load_kb(), Request(target=Target.CPU))
    assert isinstance(plan, Plan)
    assert json.loads(report.read_text())["profile-hash"] == plan.inputs["profile"]


def _no_solution(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = main([*argv, "--json", "--profile", str(RPI)])
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == NoSolutionError.exit_code == 4, out
    return out


@pytest.mark.parametrize(
    "argv",
    [
        ["plan"],
        ["render", "--output-dir", "out"],
        ["lock", "--output-dir", "locks"],
        ["create", "--output-dir", "proj", "--no-verify"],
    ],
    ids=lambda a: a[0],
)
def test_a_no_solution_has_one_shape_and_exit_4_everywhere(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    out = _no_solution(argv, capsys)
    assert out["schema"] == f"envgen.{argv[0]}/1"
    assert out["ok"] is False
    assert set(out) == {"schema", "ok", "error", "rejections"}
    error = out["error"]
    assert error["code"] == "no-solution"
    assert set(error) == {"code", "message", "hint", "remedies"}
    assert error["remedies"], error  # the same ways out, whichever command met it
    assert "armv7l" in error["message"]
    assert not any(tmp_path.iterdir()), "nothing may be written"


def test_plan_and_render_print_the_same_remedies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    plan = _no_solution(["plan"], capsys)
    render = _no_solution(["render"], capsys)
    assert plan["error"]["remedies"] == render["error"]["remedies"]
    assert plan["error"]["message"] == render["error"]["message"]
