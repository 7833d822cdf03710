"""Outputs of JAX and PyTorch plans: KERAS_BACKEND in every file a team commits and in the built
environment, the PyTorch index (or the mirror of it asked for) wherever a torch build needs it,
the framework's own check in the Dockerfile, and every value escaped for its format."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
import yaml

from envgen.backends import BuildRequest, write_environment
from envgen.detect import load_or_detect
from envgen.errors import OptionError, UsageError
from envgen.kb import load_kb
from envgen.mirrors import MirrorChoice, through_mirror, torch_index_mirror
from envgen.plan import Plan, Request, Target
from envgen.render import ALL_FORMATS, RenderOptions, render
from envgen.resolve import resolve

PROFILES = Path(__file__).resolve().parent.parent / "data" / "profiles"
TORCH = "https://download.pytorch.org/whl"


def _plan(profile: str, **request: object) -> Plan:
    found = resolve(
        load_or_detect(str(PROFILES / profile), environ={}),
        load_kb(),
        Request(**request),  # type: ignore[arg-type]
    )
    assert isinstance(found, Plan)
    return found


def _files(plan: Plan, **options: object) -> dict[str, str]:
    choice = MirrorChoice(load_kb().mirrors.get("pypi"))
    opts = RenderOptions(choice, formats=ALL_FORMATS, command="envgen render", **options)  # type: ignore[arg-type]
    return {f.name: f.text for f in render(plan, opts).files}


def test_a_jax_plan_sets_keras_backend_in_every_file() -> None:
    files = _files(_plan("linux-cpu-py312.toml", target=Target.CPU, keras_backend="jax"))
    env = yaml.safe_load(files["environment.yml"])
    assert env["variables"] == {"KERAS_BACKEND": "jax"}
    assert env["name"] == "jax0.12-cpu"
    assert "jax==0.12.0.1" in env["dependencies"][-1]["pip"]
    assert "\n    KERAS_BACKEND=jax" in files["Dockerfile"]
    assert "import jax, keras" in files["Dockerfile"]
    assert "keras.config.backend()" in files["Dockerfile"]
    assert "#   KERAS_BACKEND=jax" in files["requirements.txt"]
    assert files["requirements.txt"].splitlines()[3].startswith("# JAX 0.12.0.1 for linux-x86_64")
    assert "--extra-index-url" not in files["requirements.txt"]


def test_a_torch_gpu_plan_names_its_index_everywhere() -> None:
    plan = _plan("linux-gtx1080ti-driver535-py311.toml", keras_backend="torch")
    files = _files(plan)
    index = f"{TORCH}/cu126"
    assert f"--extra-index-url {index}" in files["requirements.txt"].splitlines()
    assert "torch==2.14.1+cu126" in files["requirements.txt"].splitlines()
    pip = yaml.safe_load(files["environment.yml"])["dependencies"][-1]["pip"]
    assert pip[0] == f"--extra-index-url {index}"
    docker = files["Dockerfile"]
    assert f"ARG PIP_EXTRA_INDEX_URL={index}" in docker
    assert '--extra-index-url "${PIP_EXTRA_INDEX_URL}"' in docker
    assert "torch.cuda.device_count()" in docker
    assert "assert gpus, 'no GPU visible" in docker
    assert "cuDNN None" not in docker


def test_a_mirror_of_the_pytorch_index_replaces_it_without_its_login() -> None:
    plan = _plan("linux-gtx1080ti-driver535-py311.toml", keras_backend="torch")
    files = _files(plan, torch_mirror="https://me:s3cret@mirror.example/pytorch/whl/")
    assert "--extra-index-url https://mirror.example/pytorch/whl/cu126" in files["requirements.txt"]
    assert all("s3cret" not in text for text in files.values())
    # Only the pin's reason (a comment) still says where the build is published.
    used = [ln for text in files.values() for ln in text.splitlines() if not ln.startswith("#")]
    assert not [ln for ln in used if "download.pytorch.org" in ln]


def test_a_tensorflow_plan_renders_as_before() -> None:
    files = _files(_plan("linux-cpu-py312.toml", target=Target.CPU))
    assert "KERAS_BACKEND" not in "".join(files.values())
    assert "import tensorflow as tf" in files["Dockerfile"]
    assert yaml.safe_load(files["environment.yml"])["name"].startswith("tf2.")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://mirror.example/whl", "must be https"),
        ("https://mirror.example/whl extra", "whitespace"),
        ("ftp://mirror.example/whl", "only http"),
    ],
)
def test_a_bad_pytorch_mirror_is_the_options_error(value: str, message: str) -> None:
    with pytest.raises(OptionError, match=message) as info:
        torch_index_mirror(value)
    assert info.value.option == "torch_mirror"


def test_through_mirror_maps_only_the_pytorch_index() -> None:
    urls = (f"{TORCH}/cu126", "https://other.example/simple")
    assert through_mirror(urls, TORCH, None) == urls
    assert through_mirror(urls, TORCH, "https://m.example/whl/") == (
        "https://m.example/whl/cu126",
        "https://other.example/simple",
    )


def test_the_environment_file_sets_each_variable_unless_set(tmp_path: Path) -> None:
    site = tmp_path / "lib" / "python3.12" / "site-packages"
    site.mkdir(parents=True)
    hostile = "jax'; import shutil #\\"
    written = write_environment(tmp_path, (("KERAS_BACKEND", "jax"), ("ODD", hostile)))
    assert written == site / "envgen-environment.pth"
    lines = written.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# ")
    assert lines[1].startswith("import os; ")
    # One statement line whose only calls are os.environ.setdefault with two string literals.
    tree = ast.parse(lines[1])
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert [ast.unparse(c.func) for c in calls] == ["os.environ.setdefault"] * 2
    values = [[ast.literal_eval(a) for a in c.args] for c in calls]
    assert values == [["KERAS_BACKEND", "jax"], ["ODD", hostile]]
    assert write_environment(tmp_path, ()) is None


def test_a_variable_with_a_line_break_is_refused(tmp_path: Path) -> None:
    (tmp_path / "lib" / "python3.12" / "site-packages").mkdir(parents=True)
    with pytest.raises(UsageError):
        write_environment(tmp_path, (("KERAS_BACKEND", "jax\nimport os"),))


def test_the_environment_is_an_input_of_the_build() -> None:
    plain = BuildRequest(prefix=Path("p"), python="3.12", requirements=("jax==0.12.0.1",))
    jax = dataclasses.replace(plain, environment=(("KERAS_BACKEND", "jax"),))
    torch = dataclasses.replace(plain, environment=(("KERAS_BACKEND", "torch"),))
    assert len({plain.input_hash(), jax.input_hash(), torch.input_hash()}) == 3
