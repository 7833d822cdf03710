"""`envgen doctor` without running anything: real logs, probe reports, profiles, the CLI envelope.

Logs come from `tests/data/logs/` (quoted from public issues, first line = the link) and
`tests/data/logs/captured/` (produced on the development machine, including the qemu Westmere
SIGILL run). Environments are verify-probe reports (`envgen/verify/probe.py --quick`) built as the
probe builds them: each `import tensorflow` child goes through the probe's own `parse_child`. The
integration tests (`tests/integration/test_doctor_envs.py`) produce the same reports from real
broken environments, and `tests/data/verify/` holds captured ones.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from envgen.cli import main
from envgen.detect import load_or_detect
from envgen.doctor import (
    PROBE_ARGS,
    Diagnosis,
    Environment,
    diagnose,
    diagnose_log,
    parse_probe,
    read_environment,
)
from envgen.errors import ExternalToolError, VerificationError
from envgen.kb import load_kb
from envgen.kb.doctor_checks import load_doctor_checks
from envgen.proc import Completed
from envgen.profile import GPU, HardwareProfile, NvidiaDriver
from envgen.verify import PROBE
from envgen.verify import probe as verify_probe

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


def _child(
    version: str | None,
    *,
    returncode: int = 0,
    stderr: str = "",
    error: str | None = None,
    build_info: dict[str, Any] | None = None,
    gpus: list[str] | None = None,
    keras: str | None = None,
    keras_error: str | None = None,
) -> dict[str, Any]:
    """The probe's entry for the `import tensorflow` child, made by the probe's `parse_child`.

    A child killed by a signal prints no result; otherwise it reports the steps it got to: an
    import error with its traceback, or the quick mode's build info, GPUs and Keras import.
    """
    stdout = ""
    if returncode == 0:
        steps: dict[str, Any] = {}
        for name, value in (("build_info", build_info), ("gpus", gpus)):
            if value is not None:
                steps[name] = {"ok": True, "value": value, "seconds": 0.0}
        if keras is not None:
            steps["keras_import"] = {"ok": True, "value": {"keras": keras}, "seconds": 0.0}
        if keras_error is not None:
            steps["keras_import"] = {"ok": False, "error": keras_error, "seconds": 0.0}
        payload: dict[str, Any] = {"framework": "tensorflow", "steps": steps, "warnings": []}
        if error is not None:
            payload["error"] = error
            payload["traceback"] = ["Traceback (most recent call last):", error]
        else:
            payload["version"] = version
        stdout = "noise\n" + verify_probe.MARKER + json.dumps(payload) + "\n"
    return verify_probe.parse_child(returncode, stdout, stderr, log_lines=0)


def _probe(
    tensorflow: str | None = "2.15.1",
    *,
    python: str = "3.11.7",
    packages: dict[str, str] | None = None,
    child: dict[str, Any] | None = None,
) -> Environment:
    """A report as `probe.py --quick` prints it; `child` replaces the default successful import."""
    pkgs = {"pip": "24.0", **(packages or {})}  # pip: not of the stack, the doctor leaves it out
    if tensorflow is not None:
        pkgs.setdefault("tensorflow", tensorflow)
    tf_child = {"status": "absent"}
    if tensorflow is not None:
        tf_child = child if child is not None else _child(tensorflow)
    report: dict[str, Any] = {
        "schema": verify_probe.SCHEMA,
        "python": {
            "executable": "/env/bin/python",
            "version": python,
            "implementation": "CPython",
            "prefix": "/env",
            "base_prefix": "/usr",
            "virtualenv": True,
            "platform": "linux",
            "machine": "x86_64",
        },
        "packages": pkgs,
        "missing": [],
        "quick": True,
        "frameworks": {"tensorflow": tf_child},
    }
    return parse_probe("some noise\n" + json.dumps(report, indent=2) + "\n", "test")


# --- logs ----------------------------------------------------------------------------------------

# A CPU without AVX on Windows (the log's Python 3.5 has no community build without AVX): the
# newest community build that has one, for its Python, with the option that plans it.
NO_AVX_COMMAND = "envgen create --target auto --python 3.7 --allow-community-builds"
PUBLIC_LOGS = [
    (
        "windows-dll-illegal-instruction.log",
        "dll-load-illegal-instruction",
        "-1073741795",
        NO_AVX_COMMAND,
    ),
    (
        "cudnn-mismatch-9.1.0-vs-9.3.0.log",
        "cudnn-version-mismatch",
        "9.3.0",
        "envgen create --target auto",
    ),
    ("cudart-missing-11.0.log", "cudart-missing", "11.0", "envgen create --target auto"),
]


@pytest.mark.parametrize(("name", "code", "number", "command"), PUBLIC_LOGS)
def test_public_log_gives_its_cause_with_the_numbers(
    name: str, code: str, number: str, command: str
) -> None:
    d = diagnose_log((LOGS / name).read_text(encoding="utf-8"), load_kb())
    finding = next(f for f in d.findings if f.code == code)
    assert number in finding.cause + finding.fix
    assert finding.evidence.startswith("line ")
    assert finding.source.startswith("https://")
    assert finding.command == command


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
    stderr = "qemu: uncaught target signal 4 (Illegal instruction) - core dumped\n"
    env = _probe("2.21.0", child=_child(None, returncode=-4, stderr=stderr))
    assert env.tensorflow_import is not None
    assert env.tensorflow_import.signal == "SIGILL"
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
    env = _probe(
        "2.15.1",
        packages={"numpy": "1.26.4", "keras": "3.6.0"},
        child=_child("2.15.1", keras="3.6.0"),
    )
    assert env.tensorflow_import is not None
    assert env.tensorflow_import.keras == "3.6.0"
    d = diagnose(load_kb(), environment=env, profile=_cpu_only())
    finding = next(f for f in d.findings if f.code == "keras-mismatch")
    assert "Keras 3 needs TensorFlow 2.16" in finding.cause
    assert finding.command == "envgen create --target cpu --tensorflow 2.15 --keras 2"


def test_matching_stack_on_cpu_machine_is_ok() -> None:
    env = _probe(
        "2.21.0",
        packages={"numpy": "2.4.6", "keras": "3.15.1"},
        child=_child(
            "2.21.0",
            build_info={"is_cuda_build": True, "cuda_version": "12.5.1"},
            gpus=[],
            stderr=(CAPTURED / "tf2.21-no-driver.log").read_text(),
        ),
    )
    d = diagnose(load_kb(), environment=env, profile=_cpu_only())
    assert d.ok, d.findings
    assert _codes(d)["cuda-build-without-gpu"] == "info"
    assert d.suggested == "envgen create --target cpu"


def test_tensorflow_missing() -> None:
    d = diagnose(load_kb(), environment=_probe(None, packages={"numpy": "2.0.0"}))
    assert _codes(d) == {"tensorflow-missing": "error"}


@pytest.mark.parametrize(
    "child",
    [
        # The probe's child caught the exception: its traceback is in the result.
        _child("2.21.0", error="ImportError: libfoo.so.3"),
        # The child died without a result: its stderr is all there is.
        _child(None, returncode=1, stderr="Traceback...\nImportError: libfoo.so.3\n"),
    ],
    ids=["caught", "exit-1"],
)
def test_import_failure_without_known_message_is_reported_verbatim(child: dict[str, Any]) -> None:
    env = _probe("2.21.0", child=child)
    d = diagnose(load_kb(), environment=env, profile=_cpu_only())
    finding = next(f for f in d.findings if f.code == "import-failed")
    assert "ImportError: libfoo.so.3" in finding.cause
    assert "(exit status 1)" in finding.cause


def test_driver_too_old_for_the_build() -> None:
    info = {"is_cuda_build": True, "cuda_version": "12.2"}
    env = _probe("2.15.1", child=_child("2.15.1", build_info=info))
    d = diagnose(load_kb(), environment=env, profile=_with_gpu("8.6", "470.57.02", "11.4"))
    finding = next(f for f in d.findings if f.code == "driver-too-old")
    assert "CUDA up to 11.4" in finding.cause
    assert finding.command == "envgen create --target gpu"


def test_gpu_below_the_build_minimum() -> None:
    env = _probe("2.15.1", child=_child("2.15.1", build_info={"is_cuda_build": True}))
    d = diagnose(load_kb(), environment=env, profile=_with_gpu("3.5"))
    # Issue 14: the machine has an NVIDIA GPU, so the GPU being ignored is the failure.
    assert _codes(d)["gpu-below-minimum"] == "error"


def test_gpu_without_kernel_image() -> None:
    """TF 2.3: SASS 3.5-7.0 without 5.0, PTX only 7.0: a 5.0 GPU has neither (tf#42467)."""
    env = _probe("2.3.0", child=_child("2.3.0", build_info={"is_cuda_build": True}))
    d = diagnose(load_kb(), environment=env, profile=_with_gpu("5.0"))
    assert _codes(d)["gpu-no-kernel"] == "error"


def test_build_info_architectures_win_over_the_table() -> None:
    info = {"is_cuda_build": True, "cuda_compute_capabilities": ["sm_50", "sm_60", "sm_70"]}
    env = _probe("2.15.1", child=_child("2.15.1", build_info=info, gpus=["/physical_device:GPU:0"]))
    d = diagnose(load_kb(), environment=env, profile=_with_gpu("9.0"))
    assert _codes(d)["gpu-no-kernel"] == "error"


def test_gpu_machine_with_cpu_build_and_with_missing_cuda_libraries() -> None:
    cpu_build = _probe("2.15.1", child=_child("2.15.1", build_info={"is_cuda_build": False}))
    d = diagnose(load_kb(), environment=cpu_build, profile=_with_gpu("9.0"))
    assert _codes(d)["gpu-unused-cpu-build"] == "warning"
    no_libs = _probe("2.15.1", child=_child("2.15.1", build_info={"is_cuda_build": True}, gpus=[]))
    d = diagnose(load_kb(), environment=no_libs, profile=_with_gpu("9.0"))
    finding = next(f for f in d.findings if f.code == "gpu-not-visible")
    assert "tensorflow[and-cuda]==2.15.1" in finding.fix


def test_and_cuda_wheels_installed_but_not_found_gets_the_symlink_fix() -> None:
    # tensorflow[and-cuda] 2.16.1 in a venv lists no GPU (tensorflow#63362): the nvidia-* wheels
    # are there, TensorFlow did not look in them; TensorFlow's guide links them (pip.md step 6).
    wheels = {"nvidia-cudnn-cu12": "8.9.7.29", "nvidia-cuda-runtime-cu12": "12.3.101"}
    env = _probe(
        "2.16.1",
        packages=wheels,
        child=_child("2.16.1", build_info={"is_cuda_build": True}, gpus=[]),
    )
    d = diagnose(load_kb(), environment=env, profile=_with_gpu("8.6", "550.54.15", "12.4"))
    finding = next(f for f in d.findings if f.code == "gpu-not-visible-and-cuda")
    assert finding.severity == "error"  # the machine has a GPU: this is why it is unused
    assert "nvidia-cudnn-cu12 8.9.7.29" in finding.cause
    assert "ln -svf ../nvidia/*/lib/*.so* ." in finding.fix
    assert "bin/ptxas" in finding.fix
    assert "tensorflow/docs site/en/install/pip.md" in finding.source


def test_windows_gpu_not_visible_speaks_of_dlls() -> None:
    env = _probe("2.10.1", child=_child("2.10.1", build_info={"is_cuda_build": True}, gpus=[]))
    windows = load_or_detect(str(DATA / "profiles" / "windows10-rtx3060-py310.toml"), environ={})
    d = diagnose(load_kb(), environment=env, profile=windows)
    finding = next(f for f in d.findings if f.code.startswith("gpu-not-visible"))
    assert finding.code == "gpu-not-visible-windows"
    assert "DLL" in finding.cause
    assert "PATH" in finding.fix
    assert "LD_LIBRARY_PATH" not in finding.cause + finding.fix
    assert ".so" not in finding.cause + finding.fix


# Verbatim lines of a Windows TensorFlow 2.4 session (RTX 3060 Laptop, 2021-04-13; a public
# write-up held in the code index, id 40666617507): the DLLs were installed but not on PATH.
_WINDOWS_DSO = (
    (
        "2021-04-13 20:17:36.191941: W tensorflow/stream_executor/platform/default/dso_loader.cc:60] "
        "Could not load dynamic library 'cublas64_11.dll'; dlerror: cublas64_11.dll not found"
    ),
    (
        "2021-04-13 20:17:36.193765: W tensorflow/stream_executor/platform/default/dso_loader.cc:60] "
        "Could not load dynamic library 'cudnn64_8.dll'; dlerror: cudnn64_8.dll not found"
    ),
)


@pytest.mark.parametrize(
    ("line", "dll"), [(_WINDOWS_DSO[0], "cublas64_11.dll"), (_WINDOWS_DSO[1], "cudnn64_8.dll")]
)
def test_windows_library_messages_speak_of_dlls(line: str, dll: str) -> None:
    finding = diagnose_log(line, load_kb()).findings[0]
    assert dll in finding.cause
    assert "PATH" in finding.fix
    assert "LD_LIBRARY_PATH" not in finding.cause + finding.fix


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


# --- ranking GPU findings by what the machine is for (issue 14 §4) ----------------------------

NO_DRIVER = DATA / "profiles" / "linux-rtx3060-nodriver-py312.toml"


@pytest.mark.parametrize(
    ("log", "code"),
    [
        ("cudart-missing-11.0.log", "cudart-missing"),
        ("gpu-capability-6.1-gtx1070.log", "gpu-capability-too-low"),
        ("captured/tf2.21-no-driver.log", "cuda-drivers-not-found"),
    ],
)
def test_gpu_blocking_findings_rank_by_the_machine(log: str, code: str) -> None:
    text = (LOGS / log).read_text()
    kb = load_kb()
    # A GPU in the profile (with or without a working driver) or --target gpu: the failure.
    assert _codes(diagnose(kb, log=text, profile=_with_gpu("8.6")))[code] == "error"
    assert _codes(diagnose(kb, log=text, profile=_profile(NO_DRIVER)))[code] == "error"
    assert _codes(diagnose(kb, log=text, target="gpu"))[code] == "error"
    assert _codes(diagnose(kb, log=text, profile=_cpu_only(), target="gpu"))[code] == "error"
    # A CPU-only host, or --target cpu: a note.
    if code in load_doctor_checks().without_gpu:
        assert _codes(diagnose(kb, log=text, profile=_cpu_only()))[code] == "info"
        assert _codes(diagnose(kb, log=text, profile=_with_gpu("8.6"), target="cpu"))[code] == (
            "info"
        )
    # Nothing says: the signature's own severity.
    own = kb.signatures.get(code)
    assert own is not None
    assert _codes(diagnose(kb, log=text))[code] == own.severity


def test_a_raised_finding_says_why() -> None:
    text = (LOGS / "cudart-missing-11.0.log").read_text()
    finding = next(f for f in diagnose(load_kb(), log=text, target="gpu").findings)
    assert finding.severity == "error"
    assert "NVIDIA GPU (or the target is the GPU)" in finding.cause


def test_doctor_takes_target_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    log = str(LOGS / "cudart-missing-11.0.log")
    assert main(["doctor", "--log", log, "--target", "gpu"]) == VerificationError.exit_code
    assert "ERROR: [cudart-missing]" in capsys.readouterr().err  # a failing run reports there
    assert main(["doctor", "--log", log, "--target", "cpu"]) == 0


# --- the classic standalone-Keras errors, mapped to the pairing (issue 14 §1) -----------------

REAL = LOGS / "real" / "keras-classic"


def _real(name: str) -> str:
    """A real log's text without its `# key: value` header."""
    lines = (REAL / name).read_text().splitlines()
    return "\n".join(ln for ln in lines if not ln.startswith("# ")) + "\n"


def _keras_env(tensorflow: str, keras: str, log: str) -> Environment:
    """An environment with TensorFlow and a standalone keras whose `import keras` printed `log`
    (the last line of a real traceback is what the probe's step records)."""
    error = log.strip().splitlines()[-1]
    child = _child(tensorflow, build_info={"is_cuda_build": False}, keras_error=error)
    return _probe(tensorflow, python="3.7.16", packages={"keras": keras}, child=child)


def test_keras_needs_tf22_names_the_versions_and_the_pin() -> None:
    # rolux/stylegan2encoder#26: TF 1.x with the keras 2.4 pip pulled; settled with an older keras.
    env = _keras_env("1.14.0", "2.4.3", _real("keras-requires-tf22--3.log"))
    d = diagnose(load_kb(), environment=env, profile=_cpu_only())
    finding = next(f for f in d.findings if f.code == "keras-needs-tf22")
    assert "keras 2.4.3 requires TensorFlow ≥ 2.2, < 2.5" in finding.cause
    assert "TensorFlow 1.14.0" in finding.cause
    assert 'pip install "keras==2.2.5"' in finding.fix
    assert finding.command == "envgen create --target cpu --tensorflow 1.14 --keras 2"
    assert any("the environment" in line for line in finding.inferred)
    # The environment check says the same from the installed versions alone.
    line = next(f for f in d.findings if f.code == "keras-line-mismatch")
    assert line.severity == "error"
    assert "keras==2.2.5" in line.fix


def test_keras_needs_tf22_from_a_log_with_pip_list_lines() -> None:
    # The same real message, with the `pip list` lines a reporter pastes beside it.
    text = _real("keras-requires-tf22--3.log") + "tensorflow-gpu      1.15.0\nKeras        2.4.3\n"
    finding = next(
        f for f in diagnose_log(text, load_kb()).findings if f.code == "keras-needs-tf22"
    )
    assert "keras 2.4.3 requires TensorFlow ≥ 2.2" in finding.cause
    assert 'pip install "keras==2.3.1"' in finding.fix
    assert finding.command == "envgen create --target auto --tensorflow 1.15 --keras 2"


def test_keras_needs_tf22_without_versions_still_names_the_pairing() -> None:
    finding = diagnose_log(_real("keras-requires-tf22--2.log"), load_kb()).findings[0]
    assert finding.code == "keras-needs-tf22"
    assert "keras 2.3.1 (the last multi-backend Keras)" in finding.fix


def test_tensorflow_python_eager_names_the_pin_for_the_old_tensorflow() -> None:
    # YCG09/chinese_ocr#300: TF 1.3.0 and the newest keras; the fix is the keras of TF 1.3.
    env = _keras_env("1.3.0", "2.3.1", _real("keras-tf-eager-mismatch--1.log"))
    d = diagnose(load_kb(), environment=env, profile=_cpu_only())
    finding = next(f for f in d.findings if f.code == "keras-tf-eager-missing")
    assert "keras 2.3.1 is newer than TensorFlow 1.3.0" in finding.cause
    assert "≥ 1.13, < 2.3" in finding.cause
    assert 'pip install "keras==2.0.6"' in finding.fix


def test_is_tf_1_is_two_kerases_mixed() -> None:
    # keras-team/keras#13352: `_is_tf_1` exists only in keras 2.3's backend; the fix that
    # worked was uninstalling every keras and installing one.
    log = "AttributeError: module 'keras.backend.tensorflow_backend' has no attribute '_is_tf_1'"
    env = _keras_env("1.14.0", "2.2.4", log)
    finding = next(
        f
        for f in diagnose(load_kb(), environment=env, profile=_cpu_only()).findings
        if f.code == "keras-tf1-backend"
    )
    assert "Two Keras releases are mixed" in finding.cause
    assert "Uninstall every keras" in finding.fix
    assert 'pip install "keras==2.2.5"' in finding.fix


def test_np_utils_names_the_keras_found_and_the_last_with_it() -> None:
    # lukas/ml-class#76 (real log) in an environment with TensorFlow 2.15 and its keras 2.15.0.
    env = _keras_env("2.15.1", "2.15.0", _real("keras-np-utils--1.log"))
    finding = next(
        f
        for f in diagnose(load_kb(), environment=env, profile=_cpu_only()).findings
        if f.code == "keras-np-utils"
    )
    assert "keras 2.15.0 (beside TensorFlow 2.15.1)" in finding.cause
    assert "keras.utils.to_categorical" in finding.fix
    assert "keras 2.12.0" in finding.fix


# --- the knowledge rows --------------------------------------------------------------------------


def test_doctor_checks_are_sorted_sourced_and_used() -> None:
    table = load_doctor_checks()
    codes = list(table.checks)
    assert codes == sorted(codes)
    signature_codes = {s.code for s in load_kb().signatures.signatures}
    assert not set(codes) & signature_codes, "a check code must not reuse a signature code"
    assert set(table.without_gpu) <= signature_codes
    assert set(table.with_gpu) <= signature_codes | set(codes)
    package = Path(__file__).parents[2] / "envgen" / "doctor"
    source = "\n".join(f.read_text() for f in sorted(package.glob("*.py")))
    for code in codes:
        assert f'"{code}"' in source, f"{code}: no code path raises this check"
    for check in table.checks.values():
        names = set(re.findall(r"\{(\w+)\}", check.cause + check.fix + (check.command or "")))
        assert "?" not in names


# --- the probe's pure parts and how the doctor reads it -----------------------------------------


@pytest.mark.parametrize(("code", "name"), [(-4, "SIGILL"), (132, "SIGILL"), (-11, "SIGSEGV")])
def test_probe_names_the_signal(code: int, name: str) -> None:
    assert verify_probe.signal_name(code) == name
    assert verify_probe.parse_child(code, "", "")["signal"] == name


def test_probe_exit_statuses_that_are_not_signals() -> None:
    assert verify_probe.signal_name(0) is None
    assert verify_probe.signal_name(1) is None
    assert "signal" not in verify_probe.parse_child(1, "", "")


def test_segfault_in_import_is_a_crash_finding() -> None:
    env = _probe("2.15.1", child=_child(None, returncode=-11, stderr="Segmentation fault\n"))
    d = diagnose(load_kb(), environment=env, profile=_cpu_only())
    finding = next(f for f in d.findings if f.code == "import-crashed")
    assert "SIGSEGV" in finding.evidence


def test_timed_out_and_unstartable_children() -> None:
    timed_out = {"status": "timeout", "error": "no result within 300 s", "log": [], "seconds": 300}
    d = diagnose(load_kb(), environment=_probe("2.15.1", child=timed_out), profile=_cpu_only())
    assert _codes(d)["import-timed-out"] == "error"
    never = {"status": "crashed", "error": "could not start qemu: [Errno 2]", "log": []}
    d = diagnose(load_kb(), environment=_probe("2.15.1", child=never), profile=_cpu_only())
    finding = next(f for f in d.findings if f.code == "import-failed")
    assert "could not start qemu" in finding.evidence


def test_doctor_reads_a_captured_full_verify_probe(data_dir: Path) -> None:
    """The verify probe's default output (computations included) reads as well as `--quick`."""
    text = (data_dir / "verify" / "probe-tf-2.21-cpu.json").read_text()
    env = parse_probe(text, "captured")
    assert env.tensorflow() == ("tensorflow-cpu", "2.21.0")
    assert env.python_minor == "3.11"
    assert "numpy" in env.packages
    assert all(n.startswith(("tensorflow", "keras", "numpy", "ml-dtypes")) for n in env.packages)
    imp = env.tensorflow_import
    assert imp is not None
    assert imp.ok
    assert imp.gpus == ()
    assert imp.build_info["is_cuda_build"] is False
    assert "cpu_feature_guard" in imp.stderr
    d = diagnose(load_kb(), environment=env, profile=_cpu_only())
    assert d.ok, d.findings


def test_read_environment_runs_the_verify_probe_quick_with_the_wrapper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[list[str], float]] = []
    report = {"schema": 1, "python": {"version": "3.11.2"}, "packages": {}, "frameworks": {}}

    def fake_run(argv: list[str], *, timeout: float, check: bool, env: dict[str, str]) -> Completed:
        assert not check
        assert "PYTHONPATH" not in env  # envgen's own path must not reach the target
        seen.append((argv, timeout))
        return Completed(tuple(argv), 0, json.dumps(report, indent=2), "")

    monkeypatch.setattr("envgen.proc.run", fake_run)
    wrapper = ["qemu-x86_64", "-cpu", "Westmere", "/env/bin/python"]
    env = read_environment(wrapper, import_timeout=30)
    ((argv, timeout),) = seen
    assert argv == [*wrapper, str(PROBE), *PROBE_ARGS, "--timeout", "30", "--python", *wrapper]
    assert "--quick" in PROBE_ARGS
    assert timeout > 30
    assert env.python == "3.11.2"
    assert env.tensorflow_import is None


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
    # Standard input as a terminal or a pipe gives it: bytes under a text layer.
    log = (CAPTURED / "tf2.21-no-driver.log").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(log)))
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


def _real_log(name: str, tmp_path: Path) -> Path:
    """The log of tests/data/logs/real/<name>.log without its citation header, as a user has it."""
    lines = (LOGS / "real" / f"{name}.log").read_text(encoding="utf-8").split("\n")
    body = [ln for ln in lines if not re.match(r"# [a-z-]+: ", ln)]
    path = tmp_path / "error.log"
    path.write_text("\n".join(body), encoding="utf-8")
    return path


def test_cli_shows_what_was_inferred_and_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _real_log("cuda-libraries/cudart-lib-missing--1", tmp_path)  # tensorflow#57103
    assert main(["doctor", "--log", str(log)]) == 0  # a warning: TensorFlow runs on the CPU
    out = capsys.readouterr().out
    assert "WARNING: [cudart-missing-windows] TensorFlow 2.9.1's Windows GPU build" in out
    assert "  inferred: TensorFlow 2.9.1, from line 4: TensorFlow version: 2.9.1" in out
    assert "  fix: Install CUDA 11.2 and cuDNN 8.1" in out
    main(["doctor", "--json", "--log", str(log)])
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert finding["inferred"] == ["TensorFlow 2.9.1, from line 4: TensorFlow version: 2.9.1"]


def test_cli_says_an_informational_log_has_no_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _real_log("informational/informational-only--1", tmp_path)  # LlamaFactory#3673
    assert main(["doctor", "--log", str(log)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("No failure: every known message here is informational.")
    assert "note: [tf-trt-warning]" in out
    assert "0 error(s), 0 warning(s), 2 note(s)." in out
