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
