"""`envgen doctor` without running anything: real logs, probe reports, profiles, the CLI envelope.

Logs come from `tests/data/logs/` (quoted from public issues, first line = the link) and
`tests/data/logs/captured/` (produced on the development machine, including the qemu Westmere
SIGILL run). Environments are probe reports written as the probe prints them; the integration tests
(`tests/integration/test_doctor_envs.py`) produce the same reports from real broken environments.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from envgen import doctor_probe
from envgen.cli import main
from envgen.detect import load_or_detect
from envgen.doctor import Diagnosis, Environment, diagnose, diagnose_log, parse_probe
from envgen.errors import ExternalToolError, VerificationError
from envgen.kb import load_kb
from envgen.kb.doctor_checks import load_doctor_checks
from envgen.profile import GPU, HardwareProfile, NvidiaDriver

DATA = Path(__file__).parents[1] / "data"
LOGS = DATA / "logs"
CAPTURED = LOGS / "captured"
WESTMERE = DATA / "profiles" / "westmere-x5650-noavx.toml"
H100 = DATA / "profiles" / "issue-example-h100.toml"


def _codes(d: Diagnosis) -> dict[str, str]:
    return {f.code: f.severity for f in d.findings}


def _profile(path: Path) -> HardwareProfile:
    return load_or_detect(str(path), environ={})


def _cpu_only() -> HardwareProfile:
    """The H100 example without its driver and GPU: a CPU-only machine with AVX2."""
    return dataclasses.replace(_profile(H100), nvidia=None, gpus=())


def _with_gpu(cc: str, driver: str = "580.159.04", cuda: str = "13.0") -> HardwareProfile:
    return dataclasses.replace(
        _profile(H100),
        nvidia=NvidiaDriver(driver=driver, cuda=cuda),
        gpus=(GPU(name=f"Test GPU cc {cc}", compute_capability=cc),),
    )


def _probe(
    tensorflow: str | None = "2.15.1",
    *,
    python: str = "3.11.7",
    packages: dict[str, str] | None = None,
    imp: dict[str, Any] | None = None,
) -> Environment:
    """A probe report as `doctor_probe.py` prints it."""
    pkgs = dict(packages or {})
    if tensorflow is not None:
        pkgs.setdefault("tensorflow", tensorflow)
    report: dict[str, Any] = {
        "schema": doctor_probe.SCHEMA,
        "python": python,
        "implementation": "CPython",
        "executable": "/env/bin/python",
        "prefix": "/env",
        "platform": "linux",
        "machine": "x86_64",
        "packages": pkgs,
    }
    if tensorflow is not None:
        report["import"] = {
            "ok": True,
            "returncode": 0,
            "signal": None,
            "stderr": "",
            "version": tensorflow,
            **(imp or {}),
        }
    return parse_probe("some noise\n" + json.dumps(report) + "\n", "test")


# --- logs ----------------------------------------------------------------------------------------

PUBLIC_LOGS = [
    ("windows-dll-illegal-instruction.log", "dll-load-illegal-instruction", "-1073741795"),
    ("cudnn-mismatch-9.1.0-vs-9.3.0.log", "cudnn-version-mismatch", "9.3.0"),
    ("cudart-missing-11.0.log", "cudart-missing", "11.0"),
]


@pytest.mark.parametrize(("name", "code", "number"), PUBLIC_LOGS)
def test_public_log_gives_its_cause_with_the_numbers(name: str, code: str, number: str) -> None:
    d = diagnose_log((LOGS / name).read_text(encoding="utf-8"), load_kb())
    finding = next(f for f in d.findings if f.code == code)
    assert number in finding.cause + finding.fix
    assert finding.evidence.startswith("line ")
    assert finding.source.startswith("https://")
    assert finding.command == "envgen create --target auto"


def test_error_log_is_not_ok_and_errors_come_first() -> None:
    d = diagnose_log((LOGS / "cudnn-mismatch-9.1.0-vs-9.3.0.log").read_text(), load_kb())
    assert not d.ok
    severities = [f.severity for f in d.findings]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)


def test_qemu_westmere_sigill_log() -> None:
    text = (CAPTURED / "qemu-westmere-import-tensorflow-sigill.log").read_text()
    assert "exit status: 132" in text
    d = diagnose_log(text, load_kb(), _profile(WESTMERE), "westmere.toml")
    assert _codes(d) == {"illegal-instruction": "error"}
    (finding,) = d.findings
    assert "Illegal instruction" in finding.evidence
    assert "AVX" in finding.cause
    assert finding.command == "envgen create --target cpu --profile westmere.toml"
    assert not d.ok


def test_numpy2_log_captured_here() -> None:
    d = diagnose_log((CAPTURED / "tf2.15-numpy2-import.log").read_text(), load_kb())
    assert _codes(d)["numpy-2-abi"] == "error"
    assert "2.0.2" in next(f.cause for f in d.findings if f.code == "numpy-2-abi")


def test_no_driver_log_is_ok_and_only_informational_on_a_cpu_machine() -> None:
    text = (CAPTURED / "tf2.21-no-driver.log").read_text()
    without_profile = diagnose_log(text, load_kb())
    assert without_profile.ok
    assert _codes(without_profile)["cuda-drivers-not-found"] == "warning"
    on_cpu = diagnose_log(text, load_kb(), _cpu_only())
    assert on_cpu.ok
    assert set(_codes(on_cpu).values()) == {"info"}
    assert {"cuda-drivers-not-found", "cuinit-failed"} <= set(_codes(on_cpu))
    assert all(f.command is None for f in on_cpu.findings)


def test_avx2_build_note_alone_is_not_an_error() -> None:
    line = (
        "2019-09-18 17:49:33.476640: I tensorflow/core/platform/cpu_feature_guard.cc:142] Your "
        "CPU supports instructions that this TensorFlow binary was not compiled to use: AVX2 FMA"
    )
    d = diagnose_log(line, load_kb())
    assert d.ok
    assert _codes(d) == {"cpu-instructions-unused": "info"}


def test_clean_log_has_no_findings() -> None:
    d = diagnose_log("Epoch 1/10\n100/100 - loss: 0.1\n", load_kb())
    assert d.ok
    assert d.findings == ()


# --- environments --------------------------------------------------------------------------------


def test_no_avx_profile_with_sigill_import() -> None:
    env = _probe(
        "2.21.0",
        imp={
            "ok": False,
            "returncode": -4,
            "signal": "SIGILL",
            "stderr": "qemu: uncaught target signal 4 (Illegal instruction) - core dumped\n",
            "version": None,
        },
    )
    d = diagnose(load_kb(), environment=env, profile=_profile(WESTMERE), profile_path="w.toml")
    codes = _codes(d)
    assert codes["tensorflow-cpu-features"] == "error"
    assert codes["import-sigill"] == "error"
    sigill = next(f for f in d.findings if f.code == "import-sigill")
    assert "lacks avx" in sigill.cause
    assert sigill.command == "envgen plan --target cpu --why-not --profile w.toml"
    assert not d.ok


def test_no_avx_profile_flags_a_tensorflow_that_never_ran_here() -> None:
    """From the profile alone: the environment imported fine elsewhere, this CPU would fail."""
    d = diagnose(load_kb(), environment=_probe("2.15.1"), profile=_profile(WESTMERE))
    finding = next(f for f in d.findings if f.code == "tensorflow-cpu-features")
    assert "lacks avx" in finding.cause
    assert "sse4_2" in finding.evidence


def test_numpy2_under_tf215() -> None:
    env = _probe("2.15.1", packages={"numpy": "2.0.2", "keras": "2.15.0"})
    d = diagnose(load_kb(), environment=env, profile=_cpu_only())
    finding = next(f for f in d.findings if f.code == "numpy-incompatible")
    assert finding.severity == "error"
    assert "numpy<2" in finding.cause
    assert finding.command == "envgen create --target cpu --tensorflow 2.15"


def test_keras3_under_tf215() -> None:
    env = _probe("2.15.1", packages={"numpy": "1.26.4", "keras": "3.6.0"}, imp={"keras": "3.6.0"})
    d = diagnose(load_kb(), environment=env, profile=_cpu_only())
    finding = next(f for f in d.findings if f.code == "keras-mismatch")
    assert "Keras 3 needs TensorFlow 2.16" in finding.cause
    assert finding.command == "envgen create --target cpu --tensorflow 2.15 --keras 2"


def test_matching_stack_on_cpu_machine_is_ok() -> None:
    env = _probe(
        "2.21.0",
        packages={"numpy": "2.4.6", "keras": "3.15.1"},
        imp={
            "build_info": {"is_cuda_build": True, "cuda_version": "12.5.1"},
            "gpus": [],
            "stderr": (CAPTURED / "tf2.21-no-driver.log").read_text(),
        },
    )
    d = diagnose(load_kb(), environment=env, profile=_cpu_only())
    assert d.ok, d.findings
    assert _codes(d)["cuda-build-without-gpu"] == "info"
    assert d.suggested == "envgen create --target cpu"


def test_tensorflow_missing() -> None:
    d = diagnose(load_kb(), environment=_probe(None, packages={"numpy": "2.0.0"}))
    assert _codes(d) == {"tensorflow-missing": "error"}


def test_import_failure_without_known_message_is_reported_verbatim() -> None:
    env = _probe(
        "2.21.0",
        imp={"ok": False, "returncode": 1, "stderr": "Traceback...\nImportError: libfoo.so.3\n"},
    )
    d = diagnose(load_kb(), environment=env, profile=_cpu_only())
    finding = next(f for f in d.findings if f.code == "import-failed")
    assert "ImportError: libfoo.so.3" in finding.cause


def test_driver_too_old_for_the_build() -> None:
    env = _probe("2.15.1", imp={"build_info": {"is_cuda_build": True, "cuda_version": "12.2"}})
    d = diagnose(load_kb(), environment=env, profile=_with_gpu("8.6", "470.57.02", "11.4"))
    finding = next(f for f in d.findings if f.code == "driver-too-old")
    assert "CUDA up to 11.4" in finding.cause
    assert finding.command == "envgen create --target gpu"


def test_gpu_below_the_build_minimum() -> None:
    env = _probe("2.15.1", imp={"build_info": {"is_cuda_build": True}})
    d = diagnose(load_kb(), environment=env, profile=_with_gpu("3.5"))
    assert _codes(d)["gpu-below-minimum"] == "warning"


def test_gpu_without_kernel_image() -> None:
    """TF 2.3: SASS 3.5-7.0 without 5.0, PTX only 7.0: a 5.0 GPU has neither (tf#42467)."""
    env = _probe("2.3.0", imp={"build_info": {"is_cuda_build": True}})
    d = diagnose(load_kb(), environment=env, profile=_with_gpu("5.0"))
    assert _codes(d)["gpu-no-kernel"] == "error"


def test_build_info_architectures_win_over_the_table() -> None:
    info = {"is_cuda_build": True, "cuda_compute_capabilities": ["sm_50", "sm_60", "sm_70"]}
    env = _probe("2.15.1", imp={"build_info": info, "gpus": ["/physical_device:GPU:0"]})
    d = diagnose(load_kb(), environment=env, profile=_with_gpu("9.0"))
    assert _codes(d)["gpu-no-kernel"] == "error"


def test_gpu_machine_with_cpu_build_and_with_missing_cuda_libraries() -> None:
    cpu_build = _probe("2.15.1", imp={"build_info": {"is_cuda_build": False}})
    d = diagnose(load_kb(), environment=cpu_build, profile=_with_gpu("9.0"))
    assert _codes(d)["gpu-unused-cpu-build"] == "warning"
    no_libs = _probe("2.15.1", imp={"build_info": {"is_cuda_build": True}, "gpus": []})
    d = diagnose(load_kb(), environment=no_libs, profile=_with_gpu("9.0"))
    finding = next(f for f in d.findings if f.code == "gpu-not-visible")
    assert "tensorflow[and-cuda]==2.15.1" in finding.fix


def test_python_without_wheels_and_mismatched_cuda_wheel() -> None:
    env = _probe(
        "2.21.0",
        python="3.9.18",
        packages={"nvidia-cudnn-cu12": "8.9.7.29", "numpy": "1.26.4", "keras": "3.15.1"},
    )
    d = diagnose(load_kb(), environment=env, profile=_cpu_only())
    codes = _codes(d)
    assert codes["python-unsupported"] == "warning"
    assert codes["cuda-wheel-mismatch"] == "warning"
    finding = next(f for f in d.findings if f.code == "python-unsupported")
    assert finding.command == "envgen create --target cpu --python 3.13"


def test_bad_probe_output_is_an_external_tool_error() -> None:
    with pytest.raises(ExternalToolError):
        parse_probe("Traceback: something\n", "python")


# --- the knowledge rows --------------------------------------------------------------------------


def test_doctor_checks_are_sorted_sourced_and_used() -> None:
    table = load_doctor_checks()
    codes = list(table.checks)
    assert codes == sorted(codes)
    signature_codes = {s.code for s in load_kb().signatures.signatures}
    assert not set(codes) & signature_codes, "a check code must not reuse a signature code"
    assert set(table.without_gpu) <= signature_codes
    source = (Path(__file__).parents[2] / "envgen" / "doctor.py").read_text()
    for code in codes:
        assert f'"{code}"' in source, f"{code}: no code path raises this check"
    for check in table.checks.values():
        names = set(re.findall(r"\{(\w+)\}", check.cause + check.fix + (check.command or "")))
        assert "?" not in names


# --- the probe's pure parts ----------------------------------------------------------------------


@pytest.mark.parametrize(("code", "name"), [(-4, "SIGILL"), (132, "SIGILL"), (-11, "SIGSEGV")])
def test_probe_names_the_signal(code: int, name: str) -> None:
    assert doctor_probe._signal_name(code) == name


def test_probe_exit_statuses_that_are_not_signals() -> None:
    assert doctor_probe._signal_name(0) is None
    assert doctor_probe._signal_name(1) is None


# --- CLI -----------------------------------------------------------------------------------------


def test_cli_log_json_envelope_and_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "--json", "--log", str(CAPTURED / "tf2.15-numpy2-import.log")])
    out = json.loads(capsys.readouterr().out)
    assert code == VerificationError.exit_code == 6
    assert out["schema"] == "envgen.doctor/1"
    assert out["ok"] is False
    first = out["findings"][0]
    assert {"code", "severity", "evidence", "cause", "fix", "command"} <= set(first)
    assert first["severity"] == "error"


def test_cli_informational_log_from_stdin_exits_zero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO((CAPTURED / "tf2.21-no-driver.log").read_text()))
    code = main(["doctor", "--log", "-", "--profile", str(WESTMERE)])
    out = capsys.readouterr().out
    assert code == 0
    assert "note: [cuda-drivers-not-found]" in out
    assert "0 error(s)" in out


def test_cli_environment_uses_the_probe_and_the_profile(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[list[str]] = []

    def fake_read(python: list[str], *, import_timeout: float) -> Environment:
        seen.append(python)
        assert import_timeout == 30.0
        return _probe("2.15.1", packages={"numpy": "2.0.2", "keras": "2.15.0"})

    monkeypatch.setattr("envgen.doctor.read_environment", fake_read)
    code = main(
        ["doctor", "--python", "qemu-x86_64 -cpu Westmere /env/bin/python", "--timeout", "30",
         "--profile", str(WESTMERE)]
    )  # fmt: skip
    err = capsys.readouterr()
    assert seen == [["qemu-x86_64", "-cpu", "Westmere", "/env/bin/python"]]
    assert code == 6
    text = err.out + err.err
    assert "ERROR: [tensorflow-cpu-features]" in text
    assert "ERROR: [numpy-incompatible]" in text
    assert "A working environment for this machine: envgen create --target cpu" in text


def test_cli_needs_something_to_diagnose(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    assert main(["doctor"]) == 2
    assert "nothing to diagnose" in capsys.readouterr().err


def test_cli_prefix_without_python_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", "--prefix", str(tmp_path)]) == 3
    assert "no Python interpreter found" in capsys.readouterr().err
