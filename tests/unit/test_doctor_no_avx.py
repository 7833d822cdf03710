"""The doctor on a CPU without AVX: the Windows texts map to it and name the build that runs.

The logs are issue 18's real ones (tests/data/logs/real/windows-dll/windows-no-avx--*.log, each
header citing its thread); the profiles say what the CPU has, which the Windows 10 text alone
cannot (it is also a missing VC++ runtime: tensorflow/tensorflow#35618's four causes)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from envgen.detect import load_or_detect
from envgen.doctor import diagnose_log
from envgen.doctor.no_avx import NO_AVX_LOOKUPS
from envgen.kb import load_kb
from envgen.profile import CPUInfo, HardwareProfile

DATA = Path(__file__).resolve().parent.parent / "data"
REAL = DATA / "logs" / "real" / "windows-dll"
KB = load_kb()


def _body(name: str) -> str:
    lines = (REAL / name).read_text(encoding="utf-8").split("\n")
    return "\n".join(line for line in lines if not line.startswith("# "))


def _profile(name: str) -> HardwareProfile:
    return load_or_detect(str(DATA / "profiles" / name), environ={})


def _avx_only(profile: HardwareProfile) -> HardwareProfile:
    # A Sandy Bridge CPU (AVX, no AVX2): fo40225/tensorflow-windows-wheel#48's machine.
    flags = ("avx", "popcnt", "sse4_1", "sse4_2", "ssse3", "pni")
    return dataclasses.replace(profile, cpu=CPUInfo(flags=flags))


def _finding(log: str, code: str, profile: HardwareProfile | None = None) -> tuple[str, str, str]:
    d = diagnose_log(_body(log), KB, profile)
    f = next(f for f in d.findings if f.code == code)
    return f.cause, f.fix, f.command or ""


def test_windows_7_code_names_the_community_build_for_the_logs_python() -> None:
    # tensorflow#22847: Windows 7, Python 3.6; fo40225's newest Python 3.6 build without AVX.
    row = next(
        w
        for w in KB.community.newest_first("windows-x86_64")
        if w.python == "3.6" and w.kind == "CPU" and not w.cpu_features and w.wheel_file()
    )
    cause, fix, command = _finding("windows-no-avx--5.log", "dll-load-illegal-instruction")
    assert "STATUS_ILLEGAL_INSTRUCTION (-1073741795 = 0xC000001D)" in cause
    assert f"TensorFlow {row.release} for Python 3.6 ({row.label}, third-party)" in fix
    assert command == "envgen create --target auto --python 3.6 --allow-community-builds"


def test_windows_10_text_with_a_no_avx_profile_says_no_avx() -> None:
    profile = _profile("windows7-gtx650-noavx-py37-driver425.toml")
    cause, fix, _ = _finding("windows-no-avx--9.log", "dll-init-failed", profile)
    assert "this CPU has no AVX (hardware profile)" in cause
    assert "Visual C++" not in cause  # the profile settled which of the two causes it is
    assert "fo40225 2.0.0\\py37\\CPU\\sse2" in fix
    assert "envgen create --allow-community-builds" in fix


def test_windows_10_text_with_avx_but_no_avx2_names_the_avx2_build() -> None:
    profile = _avx_only(_profile("windows7-gtx650-noavx-py37-driver425.toml"))
    cause, fix, _ = _finding("windows-no-avx--11.log", "dll-init-failed", profile)
    assert "this CPU has AVX but no AVX2" in cause
    assert "avx2" in cause
    assert "an official wheel (it needs AVX only)" in fix


def test_windows_10_text_without_a_profile_keeps_both_causes() -> None:
    cause, fix, _ = _finding("windows-no-avx--10.log", "dll-init-failed")
    assert "Visual C++" in cause
    assert "AVX" in cause
    # The build without AVX is still named, for the case the flags show no AVX.
    assert "TensorFlow 1.12.0 for Python 3.6" in fix


@pytest.mark.parametrize(
    "text",
    [
        # tensorflow#66588 (Russian UI), Dimsmary/Ossas_ChatBot#22 (Chinese UI): the same error
        # 1114 in the system's language.
        (
            "ImportError: DLL load failed while importing _pywrap_tf2: Произошел сбой в "
            "программе инициализации библиотеки динамической компоновки (DLL)."
        ),
        "ImportError: DLL load failed: 动态链接库(DLL)初始化例程失败。",
    ],
)
def test_localized_windows_texts(text: str) -> None:
    d = diagnose_log(text, KB)
    assert [f.code for f in d.findings] == ["dll-init-failed"]


def test_a_linux_sigill_names_conda_forges_build() -> None:
    # tensorflow#19104's line, on a Python 3.11 machine: conda-forge's newest nocona build.
    log = "Python 3.11.4 (main) [GCC 11.4.0] on linux\n>>> import tensorflow\nIllegal instruction (core dumped)\n"
    d = diagnose_log(log, KB)
    f = next(f for f in d.findings if f.code == "illegal-instruction")
    assert "conda-forge's cpu_py311h*_3, -march=nocona" in f.fix
    assert "`envgen create --channel conda`" in f.fix


def test_the_lookups_are_registered_and_declared() -> None:
    declared = {k.kind for k in KB.signatures.lookups.values()}
    assert set(NO_AVX_LOOKUPS) <= declared
