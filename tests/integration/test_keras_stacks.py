"""Standalone Keras stacks for real (issue 14 §1): `envgen create` plans, locks and builds TF 2.2 +
Keras 2.4 and TF 1.15 + Keras 2.3.1 on a Python they support, the environment imports `keras` and
fits a model; then the doctor, given the same environment with the wrong Keras, names the pair.

The Pythons come from pyenv (`pyenv root`; uv cannot download interpreters on these machines).
`--no-verify`: the verification probe computes with TensorFlow 2 APIs (eager tensors), which
TensorFlow 1.15 lacks; the fit below is the proof asked for, with the Keras these users import.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import uv_cache_dir

pytestmark = pytest.mark.integration

PROFILES = Path(__file__).resolve().parents[1] / "data" / "profiles"
CREATE_TIMEOUT_S = 900

# Keras's own API of the multi-backend years (keras.models, keras.layers), the way the users of
# these stacks wrote it: a small classifier that must learn.
FIT = """
import json, numpy as np
import keras
import tensorflow as tf
from keras.models import Sequential
from keras.layers import Dense
rng = np.random.RandomState(0)
x = rng.normal(size=(256, 8)).astype("float32")
y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
model = Sequential([Dense(16, activation="relu", input_shape=(8,)), Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy")
losses = model.fit(x, y, epochs=8, batch_size=32, verbose=0).history["loss"]
print("RESULT " + json.dumps({"keras": keras.__version__, "tensorflow": tf.__version__,
                              "losses": [float(v) for v in losses]}))
"""


def _pyenv_bin(version: str) -> Path:
    """The bin/ of pyenv's newest CPython `version` (3.7, 3.8); skips where there is none."""
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        pytest.skip("pyenv is not installed")
    root = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=True)
    found = sorted(
        Path(root.stdout.strip(), "versions").glob(f"{version}.*"),
        key=lambda p: [int(x) for x in p.name.split(".") if x.isdigit()],
    )
    if not found:
        pytest.skip(f"no Python {version} under pyenv")
    return found[-1] / "bin"


def _envgen(args: list[str], cwd: Path, python_bin: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{python_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    env["UV_CACHE_DIR"] = uv_cache_dir()
    env.pop("VIRTUAL_ENV", None)
    env.update({"ENVGEN_NO_PYPI_CHECK": "1"})
    return subprocess.run(
        [sys.executable, "-m", "envgen", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=CREATE_TIMEOUT_S,
        check=False,
    )


@pytest.mark.parametrize(
    ("python", "profile", "request_args", "keras", "tensorflow"),
    [
        pytest.param(
            "3.8",
            "linux-cpu-py38.toml",
            ["--tensorflow", "2.2", "--keras", "2.4"],
            "2.4.3",
            "2.2.3",
            id="tf2.2-keras2.4",
        ),
        pytest.param(
            "3.7",
            "linux-cpu-py37.toml",
            ["--tensorflow", "1.15", "--keras", "2"],
            "2.3.1",
            "1.15.5",
            id="tf1.15-keras2.3.1",
        ),
    ],
)
def test_a_standalone_keras_stack_builds_imports_and_fits(
    tmp_path: Path,
    *,
    python: str,
    profile: str,
    request_args: list[str],
    keras: str,
    tensorflow: str,
) -> None:
    python_bin = _pyenv_bin(python)
    prefix = tmp_path / "env"
    created = _envgen(
        [
            "create",
            "--profile",
            str(PROFILES / profile),
            "--target",
            "cpu",
            "--python",
            python,
            *request_args,
            "--prefix",
            str(prefix),
            "--no-verify",
            "--yes",
        ],
        tmp_path,
        python_bin,
    )
    assert created.returncode == 0, created.stderr[-2000:]
    lock = (tmp_path / "locks" / "requirements.cpu-linux-64.txt").read_text()
    assert f"\nkeras=={keras} " in lock
    assert f"=={tensorflow} " in lock
    # The plan's reason for the Keras pin is in the rendered requirements file's comments.
    fit = subprocess.run(
        [str(prefix / "bin" / "python"), "-c", FIT],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert fit.returncode == 0, fit.stderr[-3000:]
    result = json.loads(next(ln for ln in fit.stdout.splitlines() if ln.startswith("RESULT "))[7:])
    assert result["keras"] == keras
    assert result["tensorflow"] == tensorflow
    losses = result["losses"]
    assert losses[-1] < losses[0], losses


def test_the_doctor_names_the_pair_for_a_wrong_keras(tmp_path: Path, uv: str) -> None:
    """TF 1.15 with keras 2.4.3 (what `pip install keras` gave TF 1.x users from 2020-06): import
    keras fails with "Keras requires TensorFlow 2.2 or higher", and the doctor names keras 2.4.3,
    TensorFlow 1.15.5 and the pin that fixes it, keras==2.3.1."""
    python_bin = _pyenv_bin("3.7")
    prefix = tmp_path / "env"
    env = {**os.environ, "UV_CACHE_DIR": uv_cache_dir()}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run(
        [uv, "venv", "-q", "-p", str(python_bin / "python3.7"), str(prefix)],
        env=env,
        check=True,
        timeout=120,
    )
    subprocess.run(
        [
            uv, "pip", "install", "-q", "--compile-bytecode", "-p", str(prefix / "bin" / "python"),
            "tensorflow==1.15.5", "protobuf<3.20", "keras==2.4.3",
        ],
        env=env,
        check=True,
        timeout=CREATE_TIMEOUT_S,
    )  # fmt: skip
    done = _envgen(
        [
            "doctor",
            "--prefix",
            str(prefix),
            "--profile",
            str(PROFILES / "linux-cpu-py37.toml"),
            "--json",
        ],
        tmp_path,
        python_bin,
    )
    assert done.returncode == 6, done.stderr[-2000:]
    findings = json.loads(done.stdout)["findings"]
    by_code = {f["code"]: f for f in findings}
    assert "keras-needs-tf22" in by_code, sorted(by_code)
    needs = by_code["keras-needs-tf22"]
    assert needs["severity"] == "error"
    assert "keras 2.4.3" in needs["cause"]
    assert "TensorFlow 1.15.5" in needs["cause"]
    assert 'pip install "keras==2.3.1"' in needs["fix"]
    line = by_code["keras-line-mismatch"]
    assert "keras==2.3.1" in line["fix"]
    assert line["command"].startswith("envgen create --target cpu --tensorflow 1.15 --keras 2")
