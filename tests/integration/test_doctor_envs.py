"""`envgen doctor` on real broken environments, built with uv from PyPI.

* TensorFlow 2.15.1 with numpy 2 forced in (the NumPy 1.x/2.x ABI error at import);
* TensorFlow 2.15.1 with Keras 3 forced in (imports, but the pairing is wrong);
* TensorFlow 2.21.0, the CUDA build, on whatever this machine is (on a machine without a driver:
  "Could not find cuda drivers" and a failed cuInit are notes, not a failure);
* the 2.21.0 environment under `qemu-x86_64 -cpu Westmere`, a CPU without AVX: `import tensorflow`
  dies with SIGILL, and the doctor says why, from the run and from a no-AVX profile.

The environments come from `uv_env` (tests/integration/conftest.py): built once per session,
from uv's shared wheel cache, so a warm run spends its time unpacking and byte-compiling.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
WESTMERE = ROOT / "tests" / "data" / "profiles" / "westmere-x5650-noavx.toml"


def _doctor(*args: str) -> tuple[int, dict[str, Any]]:
    """`envgen doctor --json ...` as a user runs it; returns the exit status and the envelope."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "envgen", "doctor", "--json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.stdout.strip(), done.stderr
    return done.returncode, json.loads(done.stdout)


def _by_code(out: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["code"]: f for f in out["findings"]}


def test_tf215_with_numpy2(uv_env: Callable[..., Path]) -> None:
    prefix = uv_env("tf215-numpy2", ["tensorflow==2.15.1"], ["numpy==2.0.2"])
    code, out = _doctor("--prefix", str(prefix))
    found = _by_code(out)
    assert code == 6
    assert out["ok"] is False
    assert out["environment"]["import"]["ok"] is False
    assert found["numpy-incompatible"]["severity"] == "error"
    assert "numpy<2" in found["numpy-incompatible"]["cause"]
    assert "--tensorflow 2.15" in found["numpy-incompatible"]["command"]
    # The import's own message, matched in its stderr.
    assert found["numpy-2-abi"]["severity"] == "error"
    assert "2.0.2" in found["numpy-2-abi"]["cause"]


def test_tf215_with_keras3(uv_env: Callable[..., Path]) -> None:
    prefix = uv_env("tf215-keras3", ["tensorflow==2.15.1", "keras==3.6.0"], override="keras==3.6.0")
    code, out = _doctor("--prefix", str(prefix))
    found = _by_code(out)
    assert code == 6
    # It imports: only the cross-check with the knowledge base sees the problem.
    assert out["environment"]["import"]["ok"] is True
    assert out["environment"]["packages"]["keras"] == "3.6.0"
    mismatch = found["keras-mismatch"]
    assert mismatch["severity"] == "error"
    assert "keras<2.16,>=2.15.0" in mismatch["cause"]
    assert "--keras 2" in mismatch["command"]


def test_tf221_cuda_build_on_this_machine(uv_env: Callable[..., Path]) -> None:
    prefix = uv_env("tf221", ["tensorflow==2.21.0"])
    code, out = _doctor("--prefix", str(prefix))
    found = _by_code(out)
    assert out["environment"]["import"]["ok"] is True
    assert out["environment"]["import"]["build-info"]["is_cuda_build"] is True
    gpus = out["environment"]["import"]["gpus"]
    if gpus:
        pytest.skip("this machine has a working GPU: the no-driver case does not apply")
    # No driver here: the CUDA start-up messages are notes and the environment is fine.
    assert code == 0, out["findings"]
    assert out["ok"] is True
    assert not [f for f in out["findings"] if f["severity"] == "error"]
    assert found["cuda-drivers-not-found"]["severity"] == "info"
    assert found["cuda-build-without-gpu"]["severity"] == "info"


@pytest.fixture(scope="session")
def qemu() -> str:
    found = shutil.which("qemu-x86_64")
    if found is None:
        pytest.skip("qemu-x86_64 is not installed (Debian: apt-get install qemu-user)")
    return found


def test_cpu_without_avx_under_qemu(uv_env: Callable[..., Path], qemu: str) -> None:
    prefix = uv_env("tf221", ["tensorflow==2.21.0"])
    python = str(prefix / "bin" / "python")
    # The plain run first: the interpreter starts, `import tensorflow` dies by SIGILL.
    alive = subprocess.run(
        [qemu, "-cpu", "Westmere", python, "-c", "print('ok')"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert alive.returncode == 0, alive.stderr
    died = subprocess.run(
        [qemu, "-cpu", "Westmere", python, "-c", "import tensorflow"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert died.returncode == -4  # SIGILL; 132 when a shell reports it
    assert "Illegal instruction" in died.stderr

    # From the run itself: the probe and its import child both run under the emulator.
    code, out = _doctor("--python", f"{qemu} -cpu Westmere {python}", "--profile", str(WESTMERE))
    found = _by_code(out)
    assert code == 6
    assert out["environment"]["import"]["signal"] == "SIGILL"
    assert "lacks avx" in found["import-sigill"]["cause"]
    assert found["tensorflow-cpu-features"]["severity"] == "error"

    # From the profile alone: the same environment, run natively, checked against no-AVX flags.
    code, out = _doctor("--prefix", str(prefix), "--profile", str(WESTMERE))
    found = _by_code(out)
    assert code == 6
    assert out["environment"]["import"]["ok"] is True
    assert "lacks avx" in found["tensorflow-cpu-features"]["cause"]
    assert found["tensorflow-cpu-features"]["command"].startswith("envgen plan --target cpu")

    # From the captured log of the run.
    log = (
        ROOT / "tests" / "data" / "logs" / "captured" / "qemu-westmere-import-tensorflow-sigill.log"
    )
    code, out = _doctor("--log", str(log), "--profile", str(WESTMERE))
    assert code == 6
    assert _by_code(out)["illegal-instruction"]["severity"] == "error"
