"""`envgen create --keras-backend jax|torch` for real: Keras 3 on another framework, from PyPI.

JAX on the CPU is planned, locked with uv against PyPI, built into a venv and verified by create
itself through `envgen verify` on the planned backend: JAX imports and computes and Keras 3 fits
on JAX, and no TensorFlow is asked for. The environment is then checked directly too: jax, jaxlib
and keras at the locked pins, and a Keras 3 fit on JAX with KERAS_BACKEND set by the caller and
without it (the environment sets it at interpreter start). A second create finds the set, the
prefix and the record of the first verification as they were: it proves the environment quickly,
on the backend the lock index records.

PyTorch's CPU build comes from the PyTorch index (PyPI's Linux wheel is a multi-GB CUDA build):
opt-in with ENVGEN_TEST_TORCH=1 where download.pytorch.org answers.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest

from envgen.cli import main
from envgen.lock.pip import parse_requirements
from envgen.proc import run

FIT = (
    "import json, keras, numpy as np; "
    "m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)]); "
    "m.compile(optimizer='sgd', loss='mse'); "
    "h = m.fit(np.ones((32, 4)), np.ones((32, 1)), epochs=3, verbose=0); "
    "print(json.dumps({'backend': keras.config.backend(), 'loss': h.history['loss']}))"
)
VERSIONS = (
    "import json, importlib.metadata as m; "
    "print(json.dumps({d.metadata['Name'].lower(): d.version for d in m.distributions()}))"
)


def _create(capsys: pytest.CaptureFixture[str], *args: str, verify: bool = True) -> dict[str, Any]:
    code = main(["create", "--json", *([] if verify else ["--no-verify"]), *args])
    out = capsys.readouterr().out
    result: dict[str, Any] = json.loads(out)
    assert code == 0, result
    return result


def _python(project: Path, code: str, environ: dict[str, str]) -> Any:
    done = run([str(project / ".venv/bin/python"), "-c", code], timeout=300, env=environ)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_create_jax_cpu_fits_keras_on_jax(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    out = _create(capsys, "--keras-backend", "jax", "--target", "cpu")
    plan = out["plan"]
    assert plan["keras-backend"] == "jax"
    assert plan["framework"]["name"] == "jax"
    assert plan["environment"] == {"KERAS_BACKEND": "jax"}

    # create verified what it planned: JAX imported and computed, Keras 3 fitted on JAX.
    report = out["verify"]
    assert report["ok"] is True, report
    assert report["mode"] == "full"
    checks = {c["name"]: c for c in report["checks"]}
    for name in ("jax:import", "jax:reduce-sum", "jax:keras-fit"):
        assert checks[name]["ok"] is True, checks[name]
        assert checks[name]["required"] is True
    assert checks["jax:keras-fit"]["detail"].startswith("Keras 3.")
    assert " on jax: " in checks["jax:keras-fit"]["detail"]
    assert not [n for n in checks if n.startswith("tensorflow:")]

    # Installed exactly as locked; the lock honours the plan's pins.
    locked = {
        name: version
        for name, (version, _) in parse_requirements(
            (tmp_path / "locks/requirements.cpu-linux-64.txt").read_text(encoding="utf-8")
        ).items()
    }
    clean = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    installed = _python(tmp_path, VERSIONS, clean)
    version = plan["framework"]["version"]
    assert locked["jax"] == locked["jaxlib"] == installed["jax"] == installed["jaxlib"] == version
    assert installed["keras"] == locked["keras"]
    assert installed["keras"].startswith("3.")

    # Keras 3 trains on JAX: told so by the caller, and by the environment itself.
    told = _python(tmp_path, FIT, {**clean, "KERAS_BACKEND": "jax"})
    own = _python(tmp_path, FIT, clean)
    for result in (told, own):
        assert result["backend"] == "jax"
        assert len(result["loss"]) == 3
        assert result["loss"][-1] < result["loss"][0]

    # The team's files say so too, and the lock set records the request.
    index = tomllib.loads((tmp_path / "locks/envgen-lock.toml").read_text(encoding="utf-8"))
    assert index["request"]["keras-backend"] == "jax"
    assert 'KERAS_BACKEND: "jax"' in (tmp_path / "environment.yml").read_text(encoding="utf-8")
    assert "KERAS_BACKEND=jax" in (tmp_path / "Dockerfile").read_text(encoding="utf-8")

    # Again, with no option: the committed set's backend (its index) is what is proved, and
    # nothing changed since the full verification, so the proof is quick.
    again = _create(capsys)
    assert again["verify"]["ok"] is True
    assert again["verify"]["mode"] == "quick"
    assert {c["name"] for c in again["verify"]["checks"]} == {"proof", "files"}
    recorded = json.loads((tmp_path / ".venv/.envgen-verified.json").read_text(encoding="utf-8"))
    assert "jax:keras-fit" in {c["name"] for c in recorded["checks"]}


@pytest.mark.skipif(
    os.environ.get("ENVGEN_TEST_TORCH") != "1",
    reason="opt-in (ENVGEN_TEST_TORCH=1): torch's CPU build comes from download.pytorch.org",
)
def test_create_torch_cpu_from_the_pytorch_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    out = _create(capsys, "--keras-backend", "torch", "--target", "cpu")
    assert out["plan"]["indexes"] == ["https://download.pytorch.org/whl/cpu"]
    clean = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    installed = _python(tmp_path, VERSIONS, clean)
    assert installed["torch"] == out["plan"]["framework"]["version"]
    result = _python(tmp_path, FIT, clean)
    assert result["backend"] == "torch"
