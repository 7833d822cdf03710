"""[tool.envgen]: found, validated naming the key, written back with comments intact, and ranked
below flags and ENVGEN_* variables by options.resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

from envgen import config
from envgen.errors import InputFileError
from envgen.options import resolve

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


def test_pyproject_table_is_found_and_flattened_for_the_options(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    found = config.load(tmp_path)
    assert found.path == tmp_path / "pyproject.toml"
    assert found.flag_values() == {
        "target": "gpu",
        "tensorflow": "2.15",
        "outputs": "environment.yml,Dockerfile",
    }


def test_precedence_flag_then_env_then_config_then_default(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    project = config.load(tmp_path)
    given = {"tensorflow": "2.16"}
    opts = resolve(
        "render", given, {"ENVGEN_TARGET": "cpu"}, project.flag_values(), project.labels()
    )
    assert (opts.target, opts.tensorflow, opts.mirror) == ("cpu", "2.16", "pypi")
    assert opts.format == "environment.yml,Dockerfile"
    assert [opts.source(d).kind for d in ("target", "tensorflow", "mirror", "format")] == [
        "env",
        "flag",
        "default",
        "config",
    ]
    assert opts.label("format") == f"{tmp_path / 'pyproject.toml'}: tool.envgen.outputs"


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
