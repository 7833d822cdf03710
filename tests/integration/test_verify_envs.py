"""`envgen verify` on a real TensorFlow CPU environment, built with uv from PyPI.

The environment comes from `uv_env` (tests/integration/conftest.py): built once per session from
uv's wheel cache shared with the other integration tests, so a warm run costs unpacking and
byte-compiling only (with `--compile-bytecode`: from sources alone TensorFlow imports in ~15 s,
lab report §0).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
PROFILE = ROOT / "tests" / "data" / "profiles" / "issue-example-h100.toml"
TENSORFLOW = "tensorflow-cpu==2.21.0"


@pytest.fixture(scope="session")
def tf_env(uv_env: Callable[..., Path]) -> Path:
    return uv_env("tf-cpu-2.21", [TENSORFLOW])


# Keras 3 on JAX (CPU wheels from PyPI): the newest JAX line that still has Python 3.11 wheels.
JAX_KERAS = ("jax==0.10.2", "keras==3.15.1")


@pytest.fixture(scope="session")
def jax_env(uv_env: Callable[..., Path]) -> Path:
    return uv_env("jax-keras3-cpu", list(JAX_KERAS))


def _verify(*args: str) -> tuple[int, dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "envgen", "verify", "--json", "--profile", str(PROFILE), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.stdout, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    return done.returncode, out


def _checks(out: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in out["report"]["checks"]}


def test_tensorflow_cpu_env_computes(tf_env: Path) -> None:
    code, out = _verify("--prefix", str(tf_env), "--target", "cpu")
    assert code == 0, out
    checks = _checks(out)
    for name in ("tensorflow:import", "tensorflow:reduce-sum", "tensorflow:keras-fit"):
        assert checks[name]["ok"], checks[name]
    assert "TensorFlow 2.21.0" in checks["tensorflow:import"]["detail"]
    # Written into the prefix by default.
    saved = json.loads((tf_env / "verify-report.json").read_text())
    assert saved["ok"] is True
    assert saved["probe"]["packages"]["tensorflow-cpu"] == "2.21.0"


def test_lock_is_compared(tf_env: Path, uv: str, tmp_path: Path) -> None:
    freeze = subprocess.run(
        [uv, "pip", "freeze", "-p", str(tf_env / "bin" / "python")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    good = tmp_path / "requirements.lock"
    good.write_text(freeze)
    code, out = _verify(
        "--python",
        str(tf_env / "bin" / "python"),
        "--lock",
        str(good),
        "--report",
        str(tmp_path / "good.json"),
    )
    assert code == 0, _checks(out)
    assert _checks(out)["packages"]["ok"]
    assert out["report"]["lock-hash"]
    stale = tmp_path / "stale.lock"
    stale.write_text(freeze.replace("numpy==", "numpy==1.26.4\n# was numpy=="))
    code, out = _verify(
        "--python",
        str(tf_env / "bin" / "python"),
        "--lock",
        str(stale),
        "--report",
        str(tmp_path / "stale.json"),
    )
    assert code == 6
    assert "numpy: installed 2." in _checks(out)["packages"]["detail"]


def test_gpu_target_fails_without_a_driver(tf_env: Path, tmp_path: Path) -> None:
    if Path("/proc/driver/nvidia/version").exists():
        pytest.skip("this machine has an NVIDIA driver")
    code, out = _verify(
        "--prefix", str(tf_env), "--target", "gpu", "--report", str(tmp_path / "r.json")
    )
    assert code == 6
    assert {c["name"] for c in out["report"]["checks"] if not c["ok"]} == {
        "driver",
        "tensorflow:gpus",
    }


def test_keras_fits_on_jax_then_a_rerun_is_quick(jax_env: Path) -> None:
    """issue 15 on the CPU: a Keras 3 fit with KERAS_BACKEND=jax in JAX's own child; issue 17: the
    re-run proves it from the record of that verification and the installed files alone."""
    args = ("--prefix", str(jax_env), "--target", "cpu", "--keras-backend", "jax", "--report", "-")
    code, out = _verify(*args, "--full")
    assert code == 0, out
    report = out["report"]
    assert report["mode"] == "full"
    checks = _checks(out)
    assert "Keras 3.15.1 on jax: 3 epochs on cpu:0" in checks["jax:keras-fit"]["detail"]
    assert checks["files"]["ok"], checks["files"]
    assert report["proof"]["record"] == str(jax_env / ".envgen-verified.json")

    code, again = _verify(*args)
    assert code == 0, again
    assert again["report"]["mode"] == "quick"
    assert again["report"]["probe"] == {}  # no interpreter started
    assert [c["name"] for c in again["report"]["checks"]] == ["proof", "files"]

    # An installed file edited: the quick check names it and the probe runs again, reporting
    # the file as no longer what its RECORD says.
    edited = next((jax_env / "lib").glob("python3.*/site-packages/keras/__init__.py"))
    original = edited.read_bytes()
    try:
        edited.write_bytes(original + b"\n# edited\n")
        code, third = _verify(*args)
        assert code == 0, third
        assert third["report"]["mode"] == "full"
        assert "keras/__init__.py" in third["report"]["proof"]["quick"]
        files = _checks(third)["files"]
        assert not files["ok"]
        assert not files["required"]
        assert "'keras/__init__.py'" in files["detail"]
    finally:
        edited.write_bytes(original)
