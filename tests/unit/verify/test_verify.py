"""`envgen verify` on captured real probe outputs: the H100 machine, a TF CPU env, a SIGILL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from envgen.environment import interpreter_in
from envgen.errors import VerificationError
from envgen.files import MARKER
from envgen.kb import load_kb
from envgen.plan import Channel, ExactVersion, Pin, Plan, Request, Target, VersionSpec
from envgen.verify import Expectation, evaluate
from envgen.verify import probe as probe_module
from envgen.verify.observation import Observation, parse, parse_output
from envgen.verify.probe import canonical, driver_version_text, parse_child

H100 = "verify/h100"


def load(data_dir: Path, name: str) -> Observation:
    return parse(json.loads((data_dir / "verify" / name).read_text()))


def h100_probe(data_dir: Path, name: str = "verify-report.json") -> Observation:
    report: dict[str, Any] = json.loads((data_dir / H100 / name).read_text())
    return parse(report["probe"])


def failed(report: Any) -> set[str]:
    return {c.name for c in report.failures}


def test_h100_torch_and_jax_compute_on_the_gpu(data_dir: Path) -> None:
    report = evaluate(h100_probe(data_dir), kb=load_kb())
    assert report.target == "gpu"  # auto: the driver sees a GPU
    assert report.ok, failed(report)
    checks = {c.name: c for c in report.checks}
    assert "NVIDIA H100 80GB HBM3 (compute capability 9.0" in checks["driver"].detail
    assert checks["driver"].detail.startswith("libcuda 13.0")
    for name in ("torch:matmul-gpu0", "jax:matmul-gpu0", "torch:fit", "torch:gpus", "jax:gpus"):
        assert checks[name].ok, name
        assert checks[name].required, name
    assert "PyTorch 2.11.0+cu130" in checks["torch:import"].detail
    assert "tensorflow:import" not in checks  # absent there, and reported as such
    assert report.probe["frameworks"]["tensorflow"] == {"status": "absent"}


def test_h100_cli_report_matches_a_fresh_evaluation(data_dir: Path) -> None:
    saved = json.loads((data_dir / H100 / "verify-report.json").read_text())
    again = evaluate(parse(saved["probe"]), kb=load_kb()).to_dict()
    assert [c["name"] for c in again["checks"]] == [c["name"] for c in saved["checks"]]
    assert again["ok"] is saved["ok"] is True


def test_h100_with_no_visible_gpu_fails_honestly(data_dir: Path) -> None:
    probe = h100_probe(data_dir, "verify-report-no-visible-gpu.json")
    report = evaluate(probe, target="gpu")
    assert not report.ok
    assert failed(report) == {"driver", "torch:gpus", "jax:gpus"}
    assert "CUDA_ERROR_NO_DEVICE" in next(c.detail for c in report.checks if c.name == "driver")
    # The same probe passes as a CPU environment: the frameworks do compute there.
    assert evaluate(probe, target="cpu").ok
    # auto follows the driver, which saw no device.
    assert evaluate(probe).target == "cpu"


def test_h100_driver_probe(data_dir: Path) -> None:
    driver = json.loads((data_dir / H100 / "driver.json").read_text())["driver"]
    assert driver["ok"]
    assert driver["cuda_version"] == driver_version_text(13000) == "13.0"
    (device,) = driver["devices"]
    assert device["compute_capability"] == "9.0"
    assert device["roundtrip_ok"] is True


def test_tensorflow_cpu_env(data_dir: Path) -> None:
    probe = load(data_dir, "probe-tf-2.21-cpu.json")
    report = evaluate(probe, kb=load_kb())
    assert report.target == "cpu"
    assert report.ok, failed(report)
    checks = {c.name: c for c in report.checks}
    assert "Keras 3.15.1" in checks["tensorflow:keras-fit"].detail
    assert checks["driver"].ok
    assert not checks["driver"].required
    # The oneDNN note and the AVX2/FMA build note are explained, not failed on.
    assert [n.code for n in report.notes] == ["onednn-custom-ops", "cpu-instructions-available"]
    assert {n.severity for n in report.notes} == {"info"}
    assert any("cpu_feature_guard" in line for line in dict(report.log)["tensorflow"])


def test_tensorflow_cpu_env_fails_a_gpu_target(data_dir: Path) -> None:
    report = evaluate(load(data_dir, "probe-tf-2.21-cpu.json"), target="gpu")
    assert failed(report) == {"driver", "tensorflow:gpus"}


def test_torch_jax_without_tensorflow(data_dir: Path) -> None:
    probe = load(data_dir, "probe-torch-jax-cpu.json")
    report = evaluate(probe)
    assert report.ok
    assert {c.name for c in report.checks} >= {"torch:fit", "jax:reduce-sum"}
    # A lock naming TensorFlow makes the same environment fail: its framework is missing.
    expect = Expectation(
        source="lock x", packages=(("tensorflow", "2.21.0"),), framework="tensorflow"
    )
    report = evaluate(probe, expect=expect)
    assert failed(report) == {"packages", "framework"}
    # Frameworks other than the expected one are still reported, but no longer required.
    assert all(not c.required for c in report.checks if c.name.startswith(("torch:", "jax:")))


def test_packages_against_a_lock(data_dir: Path) -> None:
    probe = load(data_dir, "probe-tf-2.21-cpu.json")
    good = Expectation(
        source="lock r.txt",
        digest="abc",
        packages=(("keras", "3.15.1"), ("numpy", ">=2"), ("tensorflow-cpu", "2.21")),
        framework="tensorflow",
    )
    report = evaluate(probe, expect=good)
    assert report.ok
    assert report.lock_hash == "abc"
    assert report.plan_hash is None
    bad = Expectation(source="lock r.txt", packages=(("numpy", "1.26.4"), ("tf-keras", "2.21.0")))
    check = next(c for c in evaluate(probe, expect=bad).checks if c.name == "packages")
    assert not check.ok
    assert check.detail == (
        "numpy: installed 2.4.6, want 1.26.4; tf-keras: not installed (want 2.21.0)"
    )


def _plan(target: str, cuda: str | None, cudnn: str | None, python: str = "3.11") -> Plan:
    tf = Pin("tensorflow-cpu", ExactVersion("2.21.0"), Channel.PIP, "newest TF for this machine")
    return Plan(
        request=Request(target=Target(target)),
        target=Target(target),
        platform="linux-x86_64",
        python=python,
        tensorflow=tf,
        cuda=cuda,
        cudnn=cudnn,
        cuda_channel=Channel.PIP if cuda else None,
        packages=(tf, Pin("numpy", VersionSpec(">=1.26.0,<3"), Channel.PIP, "TF 2.21 declares it")),
    )


def test_plan_expectation(data_dir: Path) -> None:
    from envgen.verify.expect import from_plan

    probe = load(data_dir, "probe-tf-2.21-cpu.json")
    plan = _plan("cpu", None, None)
    report = evaluate(probe, expect=from_plan(plan))
    assert report.ok, failed(report)
    assert report.plan_hash == plan.digest()
    # A GPU plan: the installed CPU-only build contradicts the CUDA the plan chose.
    report = evaluate(probe, target="cpu", expect=from_plan(_plan("gpu", "12.5", "9.3")))
    build = next(c for c in report.checks if c.name == "tensorflow:build")
    assert not build.ok
    assert "CPU-only build, but the plan chose CUDA 12.5" in build.detail
    wrong_python = evaluate(probe, expect=from_plan(_plan("cpu", None, None, python="3.12")))
    assert failed(wrong_python) == {"python-version"}


def test_sigill_child_says_which_instruction(data_dir: Path) -> None:
    captured = json.loads(
        (data_dir / "verify" / "child-tensorflow-sigill-westmere.json").read_text()
    )
    child = parse_child(captured["returncode"], captured["stdout"], captured["stderr"])
    assert child["status"] == "illegal-instruction"
    assert child["log"] == ["qemu: uncaught target signal 4 (Illegal instruction) - core dumped"]
    raw = json.loads((data_dir / "verify" / "probe-tf-2.21-cpu.json").read_text())
    raw["frameworks"]["tensorflow"] = child
    westmere = ("sse4_2", "popcnt", "ssse3")
    report = evaluate(parse(raw), cpu_flags=westmere, kb=load_kb())
    check = next(c for c in report.checks if c.name == "tensorflow:import")
    assert not check.ok
    assert check.detail == (
        "TensorFlow was killed by SIGILL on import: this CPU lacks avx, "
        "which tensorflow-cpu 2.21.0 needs (needs: avx)"
    )
    assert [n.code for n in report.notes] == ["illegal-instruction"]


@pytest.mark.parametrize("code", [-4, 132])
def test_sigill_codes(code: int) -> None:
    assert parse_child(code, "", "")["status"] == "illegal-instruction"


def test_child_crash_and_import_error() -> None:
    assert parse_child(-11, "", "Segmentation fault")["status"] == "crashed"
    payload = {"framework": "tensorflow", "steps": {}, "error": "ImportError: numpy.core"}
    out = parse_child(1, "noise\nENVGEN-PROBE-RESULT " + json.dumps(payload) + "\n", "")
    assert out["status"] == "import-error"
    assert out["error"] == "ImportError: numpy.core"


def test_parse_probe_output_errors() -> None:
    with pytest.raises(VerificationError, match="no valid JSON"):
        parse_output("Traceback", "python", error=VerificationError)
    with pytest.raises(VerificationError, match="unknown form"):
        parse_output('{"schema": 99}', "python", error=VerificationError)
    assert parse_output('noise\n{"schema": 1}', "python").frameworks == {}


def test_report_json_is_marked_as_generated(data_dir: Path) -> None:
    text = evaluate(load(data_dir, "probe-tf-2.21-cpu.json")).to_json()
    assert MARKER in text[:200]
    assert json.loads(text)["schema"] == "envgen.verify-report/1"


def test_canonical_names() -> None:
    assert canonical("Tensorflow_CPU") == "tensorflow-cpu"
    assert canonical("zope.interface") == "zope-interface"


def test_interpreter_in(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").write_text("")
    assert interpreter_in(tmp_path) == tmp_path / "bin" / "python"
    with pytest.raises(Exception, match="no Python interpreter"):
        interpreter_in(tmp_path / "nothing")


def test_probe_quick_child_runs_under_the_wrapper_with_its_whole_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`envgen doctor`'s use: the child starts through an emulator wrapper, keeps all its stderr."""
    seen: list[list[str]] = []
    payload = {"framework": "tensorflow", "version": "2.21.0", "steps": {}, "warnings": []}

    def fake_run(argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        seen.append(argv)
        stdout = probe_module.MARKER + json.dumps(payload) + "\n"
        return subprocess.CompletedProcess(argv, 0, stdout, "note\n" * 300)

    monkeypatch.setattr(subprocess, "run", fake_run)
    wrapper = ["qemu-x86_64", "-cpu", "Westmere", "/env/bin/python"]
    out = probe_module.probe_framework("tensorflow", 5, command=wrapper, quick=True, log_lines=0)
    (argv,) = seen
    assert argv[:4] == wrapper
    assert argv[4:] == [str(probe_module.CHILD), "tensorflow", "--marker", probe_module.MARKER,
                        "--quick"]  # fmt: skip
    assert out["status"] == "ok"
    assert len(out["log"]) == 300
    # The default keeps verify's bound.
    assert len(probe_module.probe_framework("tensorflow", 5)["log"]) == probe_module.MAX_LOG_LINES
    assert seen[-1][0] == sys.executable
    assert "--quick" not in seen[-1]


def test_probe_main_takes_everything_after_python_as_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    def fake_probe_framework(name: str, _timeout: float, **kw: Any) -> dict[str, Any]:
        calls.append((name, kw))
        return {"status": "ok"}

    monkeypatch.setattr(probe_module, "present", lambda _name: True)
    monkeypatch.setattr(probe_module, "probe_framework", fake_probe_framework)
    argv = ["--quick", "--no-driver", "--frameworks", "tensorflow", "--log-lines", "0"]
    wrapper = ["qemu-x86_64", "-cpu", "Westmere", "/env/bin/python", "-X", "utf8"]
    assert probe_module.main([*argv, "--python", *wrapper]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["quick"] is True
    assert "driver" not in report
    assert calls == [
        ("tensorflow", {"command": wrapper, "quick": True, "keras_backend": None, "log_lines": 0})
    ]
    # Present but not asked for: listed, and no child started for it.
    assert report["frameworks"]["jax"] == {"status": "not-probed"}
    calls.clear()
    assert probe_module.main(["--no-driver", "--frameworks", "jax", "--keras-backend", "jax"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "quick" not in report
    assert report["keras_backend"] == "jax"
    assert calls == [
        ("jax", {"command": None, "quick": False, "keras_backend": "jax", "log_lines": 200})
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/maps is Linux's")
def test_the_probe_lists_the_cuda_libraries_really_loaded(tmp_path: Path) -> None:
    # Issue 14 §2: which CUDA libraries the process mapped, and from where. A copy of a system
    # library loaded under a CUDA runtime's file name stands in for it (no GPU here); the list
    # comes from this process's own /proc/self/maps.
    import ctypes

    from envgen.verify import probe_frameworks

    libz = next((p for p in Path("/lib/x86_64-linux-gnu").glob("libz.so.1.*")), None)
    if libz is None:
        pytest.skip("no libz to stand in")
    stand_in = tmp_path / "nvidia" / "cuda_runtime" / "lib" / "libcudart.so.12"
    stand_in.parent.mkdir(parents=True)
    stand_in.write_bytes(libz.read_bytes())
    ctypes.CDLL(str(stand_in))
    found = probe_frameworks.loaded_cuda_libraries()
    assert {"name": "libcudart.so.12", "path": str(stand_in)} in found
    assert probe_frameworks.loaded_cuda_libraries(str(tmp_path / "no-such-maps")) == []


def test_loaded_libraries_are_reported_with_their_paths() -> None:
    from envgen.verify.framework_checks import summary as _summary

    value = [
        {
            "name": "libcudart.so.12",
            "path": "/env/lib/python3.12/site-packages/nvidia/cuda_runtime/lib/libcudart.so.12",
        },
        {"name": "libcudnn.so.9", "path": "/env/lib/libcudnn.so.9"},
    ]
    text = _summary("cuda_libraries", value)
    assert text.startswith("libcudart.so.12 from /env/lib/python3.12/site-packages/nvidia/")
    assert "libcudnn.so.9 from /env/lib/libcudnn.so.9" in text
    assert _summary("cuda_libraries", []) == "none loaded"
