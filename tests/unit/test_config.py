"""[tool.envgen]: found, validated naming the key, written back with comments intact, and ranked
below flags and ENVGEN_* variables by settings.resolve."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from envgen import config
from envgen.errors import InputFileError
from envgen.settings import resolve

PYPROJECT = """\
# the team's project
[project]
name = "demo"  # keep this comment

[tool.envgen]
# GPU by default: the lab machines all have one
target = "gpu"
tensorflow = "2.15"
outputs = ["environment.yml", "Dockerfile"]
"""


def test_pyproject_table_is_found_and_flattened_for_settings(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    found = config.load(tmp_path)
    assert found.path == tmp_path / "pyproject.toml"
    assert found.options() == {
        "target": "gpu",
        "tensorflow": "2.15",
        "format": "environment.yml,Dockerfile",
    }


def test_precedence_flag_then_env_then_config_then_default(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    options = config.load(tmp_path).options()
    defaults = {"target": "auto", "tensorflow": None, "mirror": "pypi", "format": "x"}
    args = argparse.Namespace(target=None, tensorflow="2.16", mirror=None, format=None)
    resolve(args, defaults, {"ENVGEN_TARGET": "cpu"}, options)
    assert (args.target, args.tensorflow, args.mirror) == ("cpu", "2.16", "pypi")
    assert args.format == "environment.yml,Dockerfile"


def test_envgen_toml_top_level_when_pyproject_has_no_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    (tmp_path / "envgen.toml").write_text('mirror = "tuna"\n')
    found = config.load(tmp_path)
    assert found.path == tmp_path / "envgen.toml"
    assert found.values == {"mirror": "tuna"}


def test_no_config_is_empty(tmp_path: Path) -> None:
    assert config.load(tmp_path) == config.ProjectConfig(None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('channel = "apt"', "tool.envgen.channel: expected one of pip, conda, system, auto"),
        ("python = 3.11", "tool.envgen.python: expected a quoted string, got the number 3.11"),
        ('outputs = "Dockerfile"', "tool.envgen.outputs: expected a list of strings"),
        ('gpu = "yes"', "tool.envgen.gpu: unknown key"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.envgen]\n{body}\n")
    with pytest.raises(InputFileError, match=message.replace(".", r"\.")):
        config.load(tmp_path)


def test_save_keeps_comments_and_formatting(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT)
    assert config.save(tmp_path, {"mirror": "tuna", "tensorflow": None}) == path
    text = path.read_text()
    assert text.startswith('# the team\'s project\n[project]\nname = "demo"  # keep this comment\n')
    assert "# GPU by default: the lab machines all have one\n" in text
    assert 'mirror = "tuna"' in text
    assert "tensorflow" not in text
    assert config.load(tmp_path).values["mirror"] == "tuna"


def test_save_creates_envgen_toml_without_pyproject(tmp_path: Path) -> None:
    path = config.save(tmp_path, {"target": "cpu", "outputs": ["Dockerfile"]})
    assert path == tmp_path / "envgen.toml"
    assert config.load(tmp_path).values == {"target": "cpu", "outputs": ["Dockerfile"]}


def test_save_refuses_bad_values(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="keras"):
        config.save(tmp_path, {"keras": "4"})
    assert not (tmp_path / "envgen.toml").exists()
