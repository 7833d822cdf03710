"""`envgen doctor` on JAX and PyTorch: their failure messages in logs and in environments.

The logs are real (`tests/data/logs/real/jax-*`, `torch-arch/` are checked with the rest of the
corpus in test_doctor_real_logs.py; here the one captured on the lent H200). The environments are
the probe outputs `envgen verify --keras-backend jax|torch` captured on that H200
(`tests/data/verify/h200-keras3/`), read by the doctor as it reads its own probe's output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from envgen.doctor import diagnose, diagnose_log, parse_probe
from envgen.kb import load_kb

KB = load_kb()
CAPTURE = "verify/h200-keras3"


def _environment(data_dir: Path, name: str, edit: Any = None) -> Any:
    probe = json.loads((data_dir / CAPTURE / name).read_text())["report"]["probe"]
    if edit is not None:
        edit(probe)
    return parse_probe(json.dumps(probe), name)


def test_the_jax_plugin_failing_on_a_hidden_gpu_is_explained(data_dir: Path) -> None:
    text = data_dir / "logs" / "captured" / "jax-0.11.2-cuda13-plugin-no-visible-device.log"
    d = diagnose_log(text.read_text(), KB)
    finding = next(f for f in d.findings if f.code == "jax-cuda-plugin-failed")
    assert finding.severity == "warning"
    assert "xla_cuda13" in finding.cause
    assert "cuInit returned CUDA_ERROR_NO_DEVICE" in finding.cause
    assert "misleading" in finding.cause
    assert finding.command == "envgen create --target gpu --keras-backend jax"
    assert any("cuInit failed with CUDA_ERROR_NO_DEVICE, from line" in i for i in finding.inferred)


def test_a_jax_environment_is_not_a_missing_tensorflow(data_dir: Path) -> None:
    env = _environment(data_dir, "verify-jax.json")
    assert env.tensorflow() is None
    assert set(env.backends) == {"jax"}  # PyTorch was installed but not probed there
    assert "jax" in env.packages
    d = diagnose(KB, environment=env)
    assert d.ok
    assert not any(f.code == "tensorflow-missing" for f in d.findings)
    assert env.to_dict()["backends"]["jax"]["gpus"] == ["NVIDIA H200:0"]


def test_the_hidden_gpu_shows_in_the_jax_import(data_dir: Path) -> None:
    env = _environment(data_dir, "verify-novisible-jax.json")
    codes = {f.code: f for f in diagnose(KB, environment=env).findings}
    assert codes["jax-cuda-plugin-failed"].origin == "import"


def test_the_torch_build_covers_the_h200(data_dir: Path) -> None:
    env = _environment(data_dir, "verify-torch.json")
    assert env.backends["torch"].arch is not None
    assert not [f for f in diagnose(KB, environment=env).findings if f.severity == "error"]


def test_a_torch_build_without_the_gpus_architecture_is_an_error(data_dir: Path) -> None:
    """The H200 capture with uv#14742's GPU and arch list put in its place (the GTX 1080 Ti
    under a cu128 build: sm_75 and newer only)."""

    def gtx_1080_ti(probe: dict[str, Any]) -> None:
        arch = probe["frameworks"]["torch"]["result"]["steps"]["arch"]["value"]
        arch["arch_list"] = ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120", "compute_120"]
        arch["devices"] = [{"name": "NVIDIA GeForce GTX 1080 Ti", "cc": "6.1"}]

    env = _environment(data_dir, "verify-torch.json", gtx_1080_ti)
    d = diagnose(KB, environment=env)
    finding = next(f for f in d.findings if f.code == "backend-gpu-no-kernel")
    assert not d.ok
    assert "PyTorch 2.11.0+cu130 carries kernels for sm_75" in finding.cause
    assert "GTX 1080 Ti has compute capability 6.1" in finding.cause
    assert finding.command == "envgen create --target gpu --keras-backend torch"


def test_a_failed_backend_import_with_no_known_message_is_reported(data_dir: Path) -> None:
    def broken(probe: dict[str, Any]) -> None:
        probe["frameworks"]["jax"] = {
            "status": "import-error",
            "returncode": 0,
            "error": "ImportError: cannot import name 'xla_client'",
            "log": [],
            "result": {"error": "ImportError: cannot import name 'xla_client'", "steps": {},
                       "traceback": ["ImportError: cannot import name 'xla_client'"]},
        }  # fmt: skip

    d = diagnose(KB, environment=_environment(data_dir, "verify-jax.json", broken))
    finding = next(f for f in d.findings if f.code == "backend-import-failed")
    assert finding.cause == (
        "import JAX failed (exit status 1): ImportError: cannot import name 'xla_client'"
    )
    assert finding.command == "envgen create --target auto --keras-backend jax"


def test_the_doctor_on_the_h200_saw_both_backends(data_dir: Path) -> None:
    """`envgen doctor --prefix` on the device: JAX and PyTorch imported, each on the H200; with
    no visible GPU, JAX's plugin failure is the one finding, read from its import."""
    seen = json.loads((data_dir / CAPTURE / "doctor.json").read_text())
    assert seen["ok"] is True
    assert seen["findings"] == []
    backends = seen["environment"]["backends"]
    assert backends["jax"]["gpus"] == ["NVIDIA H200:0"]
    assert backends["torch"]["gpus"] == ["NVIDIA H200 (sm_90)"]
    hidden = json.loads((data_dir / CAPTURE / "doctor-novisible.json").read_text())
    assert [(f["code"], f["origin"]) for f in hidden["findings"]] == [
        ("jax-cuda-plugin-failed", "import")
    ]
    assert "cuInit returned CUDA_ERROR_NO_DEVICE" in hidden["findings"][0]["cause"]
