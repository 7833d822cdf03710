"""Keras 3 on JAX and PyTorch: the probe's answers from a real H200, evaluated through the checks.

`tests/data/verify/h200-keras3/` holds what `envgen verify --keras-backend jax|torch` printed on
the lent GPU machine (README there): the probe's raw output is in each report, so every test here
re-evaluates those real observations with today's checks instead of trusting the stored verdict.
The architecture lists are real too: the H200's torch wheel (research notes, device check) and
the GTX 1080 Ti case of uv#14742.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from envgen.kb import load_kb
from envgen.verify import evaluate
from envgen.verify import probe as probe_module
from envgen.verify.expect import Expectation, for_backend, framework_of, from_lock
from envgen.verify.framework_checks import check_arch, check_keras_fit
from envgen.verify.observation import Observation, parse

CAPTURE = "verify/h200-keras3"
KB = load_kb()


def captured(data_dir: Path, name: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads((data_dir / CAPTURE / name).read_text())
    return out


def probe_of(data_dir: Path, name: str) -> Observation:
    return parse(captured(data_dir, name)["report"]["probe"])


def checks_of(report: Any) -> dict[str, Any]:
    return {c.name: c for c in report.checks}


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_keras_fits_on_the_h200_with_each_backend(data_dir: Path, backend: str) -> None:
    observed = probe_of(data_dir, f"verify-{backend}.json")
    report = evaluate(observed, expect=for_backend(None, backend), kb=KB)
    assert report.target == "gpu"  # auto: libcuda sees the H200
    assert report.ok, list(report.failures)
    checks = checks_of(report)
    fit = checks[f"{backend}:keras-fit"]
    assert fit.required
    assert f"Keras 3.15.1 on {backend}: 3 epochs on cuda:0" in fit.detail
    assert "NVIDIA H200" in checks[f"{backend}:gpus"].detail
    assert "matmul matches the CPU" in checks[f"{backend}:matmul-gpu0"].detail
    # One framework probed; the other is installed and named, but no interpreter was started.
    other = {"jax": "PyTorch", "torch": "JAX"}[backend]
    assert f"also installed, not probed: {other}" in checks["framework"].detail
    assert observed.not_probed() == [{"jax": "torch", "torch": "jax"}[backend]]


def test_the_torch_build_carries_the_h200s_architecture(data_dir: Path) -> None:
    report = evaluate(probe_of(data_dir, "verify-torch.json"), kb=KB)
    arch = checks_of(report)["torch:arch"]
    assert arch.ok
    assert arch.detail == (
        "NVIDIA H200: compute capability 9.0 has native kernels in PyTorch's build "
        "(sm_75 sm_80 sm_86 sm_90 sm_100 sm_120)"
    )


def test_a_gpu_missing_from_the_arch_list_fails_before_any_kernel_runs() -> None:
    """uv#14742: torch 2.7 from the cu128 index on a GTX 1080 Ti (sm_61); the arch list is the
    one PyTorch printed there."""
    listed = ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120", "compute_120"]
    value = {"arch_list": listed, "devices": [{"name": "NVIDIA GeForce GTX 1080 Ti", "cc": "6.1"}]}
    check = check_arch("torch", value, KB, True, None)
    assert not check.ok
    assert "compute capability 6.1 is not in PyTorch's build" in check.detail
    assert "no kernel image is available" in check.detail
    # The same list's PTX (compute_120) covers a GPU of a newer major through the driver's JIT.
    value["devices"] = [{"name": "a GPU newer than every sm_ entry", "cc": "13.0"}]
    check = check_arch("torch", value, KB, True, None)
    assert check.ok
    assert "through PTX the driver compiles" in check.detail


def test_keras_on_the_cpu_of_a_gpu_target_fails() -> None:
    value = {"keras": "3.15.1", "backend": "torch", "device": "cpu", "losses": [0.7, 0.6]}
    args: dict[str, Any] = {"target": "gpu", "words": KB.wording, "required": True}
    check = check_keras_fit("torch", value, gpus=True, seconds=None, **args)
    assert not check.ok
    assert "trained on cpu, not on a GPU" in check.detail
    # No GPU seen by the framework: its own GPU check fails instead; the fit is no second failure.
    assert check_keras_fit("torch", value, gpus=False, seconds=None, **args).ok


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_no_visible_gpu_fails_the_gpu_target(data_dir: Path, backend: str) -> None:
    """`CUDA_VISIBLE_DEVICES=` on the H200: the driver and the framework see no GPU; Keras still
    fits, on the CPU, which a GPU target does not accept."""
    observed = probe_of(data_dir, f"verify-novisible-{backend}.json")
    report = evaluate(observed, target="gpu", expect=for_backend(None, backend), kb=KB)
    failed = {c.name for c in report.failures}
    assert failed == {"driver", f"{backend}:gpus"}
    assert "CUDA_ERROR_NO_DEVICE" in checks_of(report)["driver"].detail
    assert evaluate(observed, target="cpu", expect=for_backend(None, backend), kb=KB).ok


def test_a_keras_backend_whose_fit_did_not_run_fails(data_dir: Path) -> None:
    # The JAX capture asked for no torch fit: held to torch, the fit is missing.
    observed = probe_of(data_dir, "verify-jax.json")
    report = evaluate(observed, expect=for_backend(None, "torch"), kb=KB)
    assert {c.name for c in report.failures} == {"framework"}  # torch was not probed there
    held = Expectation(source="test", framework="jax", keras_backend="jax")
    stripped = json.loads(json.dumps(observed.raw))
    del stripped["frameworks"]["jax"]["result"]["steps"]["keras_fit"]
    report = evaluate(parse(stripped), expect=held, kb=KB)
    assert {c.name for c in report.failures} == {"jax:keras-fit"}


def test_quick_reports_from_the_device_name_what_they_rest_on(data_dir: Path) -> None:
    for backend in ("jax", "torch"):
        report = captured(data_dir, f"verify-quick-{backend}.json")["report"]
        assert report["mode"] == "quick"
        assert report["ok"] is True
        assert [c["name"] for c in report["checks"]] == ["proof", "files"]
        assert report["proof"]["checks"]  # the full verification's own checks
        assert report["probe"] == {}  # no interpreter was started


# --- what the probe is asked, and what an expectation holds ------------------------------------


def test_only_the_named_framework_fits_keras(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[list[str], dict[str, str]]] = []

    def fake_run(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        seen.append((argv, kw["env"]))
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")  # the user's shell: overridden per child
    probe_module.probe_framework("jax", 5, keras_backend="jax")
    probe_module.probe_framework("torch", 5, keras_backend="jax")
    (jax_argv, jax_env), (torch_argv, torch_env) = seen
    assert jax_argv[-2:] == ["--keras-backend", "jax"]
    assert "--keras-backend" not in torch_argv
    assert (jax_env["KERAS_BACKEND"], torch_env["KERAS_BACKEND"]) == ("jax", "torch")
    assert os.environ["KERAS_BACKEND"] == "tensorflow"


def test_a_lock_names_its_framework(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("jax==0.12.0.1\njaxlib==0.12.0.1\nkeras==3.15.1\nnumpy==2.5.5\n")
    expect = from_lock(lock)
    assert (expect.framework, expect.keras_backend) == ("jax", "jax")
    lock.write_text("torch==2.11.0\nnumpy==2.5.5\n")
    assert (from_lock(lock).framework, from_lock(lock).keras_backend) == ("torch", None)
    assert framework_of({"tensorflow-cpu", "torch"}) == "tensorflow"
    held = for_backend(from_lock(lock), "torch")
    assert (held.framework, held.keras_backend, held.packages) == ("torch", "torch",
                                                                   from_lock(lock).packages)  # fmt: skip
