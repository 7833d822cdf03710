"""The GitHub Actions workflow stays honest: it runs on every OS the classifiers claim, its steps
name only what the project has, and the README's first command is what it runs, word for word.

It cannot run here (no Windows or macOS); actionlint checks its syntax in .ci/run."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
RUNNERS = {
    "ubuntu-latest": "POSIX :: Linux",
    "windows-latest": "Microsoft :: Windows",
    "macos-latest": "MacOS",
}


def _workflow() -> dict[str, Any]:
    doc = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _steps(job: str) -> list[dict[str, Any]]:
    steps = _workflow()["jobs"][job]["steps"]
    assert isinstance(steps, list)
    return steps


def _readme_blocks() -> dict[str, str]:
    """The README's first command in each shell: the first ```sh and ```powershell blocks."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = {}
    for lang in ("sh", "powershell"):
        found = re.search(rf"```{lang}\n(.+?)\n```", text, re.DOTALL)
        assert found is not None, lang
        blocks[lang] = found.group(1).strip()
    return blocks


def test_every_job_runs_on_every_os_the_classifiers_claim() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    claimed = {
        c.removeprefix("Operating System :: ")
        for c in project["classifiers"]
        if c.startswith("Operating System")
    }
    assert claimed == set(RUNNERS.values())
    for name, job in _workflow()["jobs"].items():
        assert set(job["strategy"]["matrix"]["os"]) == set(RUNNERS), name
        assert job["runs-on"] == "${{ matrix.os }}", name


def test_the_readme_first_command_is_what_the_workflow_runs() -> None:
    runs = {step.get("shell"): step["run"] for step in _steps("readme") if "run" in step}
    blocks = _readme_blocks()
    assert runs["bash"] == blocks["sh"]
    assert runs["pwsh"] == blocks["powershell"]


def test_every_step_names_what_the_project_has() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    unit = {step.get("name"): step.get("run", "") for step in _steps("unit")}
    assert unit["install"] == 'python -m pip install -e ".[test]"'
    assert "test" in project["optional-dependencies"]
    words = shlex.split(unit["unit tests"])
    assert words[:3] == ["python", "-m", "pytest"]
    for word in words[3:]:
        if not word.startswith("-") and "/" in word:
            assert (ROOT / word).is_dir(), word
    assert unit["types"] == "python -m mypy"
    for job in _workflow()["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"actions/(checkout|setup-python)@v\d+", step["uses"]), step
                if "with" in step:
                    assert step["with"]["python-version"] == project[
                        "requires-python"
                    ].removeprefix(">=")
