"""The pip side on captured real uv 0.13.9 output (tests/data/uv): parsing, joining, writing."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from envgen.errors import ExternalToolError, InputFileError
from envgen.kb.lock_platforms import load_lock_platforms
from envgen.lock import pip
from envgen.proc import Completed
from tests.reference_plans import cpu_2_15, cpu_2_21, gpu_2_21


def _lock(
    data_dir: Path, stem: str, platform: str = "linux-64", python: str = "3.11"
) -> pip.PipLock:
    uv = data_dir / "uv"
    return pip.pip_lock(
        platform,
        python,
        (uv / f"{stem}.pylock.toml").read_text(),
        (uv / f"{stem}.requirements.txt").read_text(),
    )


def test_requirements_in_keeps_exact_and_cuda_pins() -> None:
    text = pip.requirements_in(gpu_2_21())
    assert text.splitlines()[0] == "tensorflow[and-cuda]==2.21.0"
    assert "nvidia-cudnn-cu12==9.3.0.75" in text.splitlines()
    assert pip.requirements_in(cpu_2_15()).splitlines() == [
        "tensorflow-cpu==2.15.1",
        "keras<2.16,>=2.15.0",
        "numpy<2.0.0,>=1.23.5",
    ]


def test_uv_argv_is_per_platform_and_mirror_neutral() -> None:
    plat = load_lock_platforms().get("win-64")
    argv = pip.uv_argv("uv", cpu_2_15("windows-x86_64"), plat, fmt="requirements", index="I")
    assert "--universal" not in argv
    assert argv[argv.index("--python-platform") + 1] == "x86_64-pc-windows-msvc"
    assert argv[argv.index("--python-version") + 1] == "3.10"
    assert {"--no-config", "--generate-hashes", "--no-header"} <= set(argv)
    assert "--emit-index-url" not in argv
    pylock = pip.uv_argv("uv", cpu_2_21(), plat, fmt="pylock", index="I")
    assert pylock[-2:] == ["--format", "pylock.toml"]


def test_uv_environment_drops_index_variables() -> None:
    env = pip.uv_environment({"UV_INDEX_URL": "x", "UV_CACHE_DIR": "c", "PATH": "/bin"})
    assert env == {"UV_CACHE_DIR": "c", "PATH": "/bin"}


def test_tf2_21_cpu_linux_joins_both_answers(data_dir: Path) -> None:
    lock = _lock(data_dir, "tf2.21-cpu-py3.11-linux-64")
    versions = lock.versions()
    assert versions["tensorflow-cpu"] == "2.21.0"
    assert len(lock.packages) == 32
    # the requirements file hashes every file of a version; the pylock lists the target's only
    charset = next(p for p in lock.packages if p.name == "charset-normalizer")
    assert charset.hashes > charset.files
    assert pip.unmet_pins(cpu_2_21(), versions) == []


def test_tf2_15_windows_has_tensorflow_intel(data_dir: Path) -> None:
    lock = _lock(data_dir, "tf2.15-cpu-py3.10-win-64", "win-64", "3.10")
    versions = lock.versions()
    assert versions["tensorflow-intel"] == "2.15.1"
    assert versions["tensorflow-io-gcs-filesystem"] == "0.31.0"  # the last with Windows wheels
    assert versions["numpy"].startswith("1.")
    assert pip.unmet_pins(cpu_2_15("windows-x86_64"), versions) == []


def test_and_cuda_lock_honours_the_plan(data_dir: Path) -> None:
    lock = _lock(data_dir, "tf2.21-cuda12-py3.11-linux-64")
    assert pip.unmet_pins(gpu_2_21(), lock.versions()) == []
    moved = {**lock.versions(), "nvidia-cudnn-cu12": "9.30.0.1"}
    assert pip.unmet_pins(gpu_2_21(), moved) == [
        "nvidia-cudnn-cu12 is locked at 9.30.0.1, the plan asks for ==9.3.0.75"
    ]
    assert pip.unmet_pins(
        cpu_2_15("windows-x86_64"), {"tensorflow": "2.15.1", "keras": "2.15.0"}
    ) == ["numpy is not in the lock"]


def test_disagreeing_answers_are_refused(data_dir: Path) -> None:
    uv = data_dir / "uv"
    pylock = (uv / "tf2.21-cpu-py3.11-linux-64.pylock.toml").read_text()
    reqs = (uv / "tf2.21-cpu-py3.11-linux-64.requirements.txt").read_text()
    with pytest.raises(ExternalToolError, match="disagree on numpy"):
        pip.pip_lock("linux-64", "3.11", pylock, reqs.replace("numpy==2.4.6", "numpy==2.4.5"))


def test_pylock_without_hash_is_refused() -> None:
    text = (
        'lock-version = "1.0"\ncreated-by = "uv"\n\n[[packages]]\nname = "six"\n'
        'version = "1.17.0"\nwheels = [{ url = "https://x/six.whl", hashes = {} }]\n'
    )
    # PEP 751 itself wants a hash (packaging.pylock says so); envgen wants a sha256.
    with pytest.raises(InputFileError, match="hash must be provided"):
        pip.parse_pylock(text, "p")
    md5 = text.replace("hashes = {}", 'hashes = { md5 = "0" }').replace(
        "six.whl", "six-1.17.0-py2.py3-none-any.whl"
    )
    with pytest.raises(InputFileError, match="no sha256"):
        pip.parse_pylock(md5, "p")


def test_requirements_parser_names_the_line() -> None:
    with pytest.raises(InputFileError, match=r"r:2: expected"):
        pip.parse_requirements("six==1.17.0 \\\nsix>=1\n", "r")


def test_no_solution_is_one_line(data_dir: Path) -> None:
    stderr = (data_dir / "uv" / "no-solution-tf2.21-cpu-osx-arm64.stderr.txt").read_text()
    err = pip.uv_failure(stderr, "osx-arm64, Python 3.11")
    assert "\n" not in err.message
    assert err.message.startswith("uv found no solution for osx-arm64, Python 3.11: Because")
    assert "manylinux_2_27_x86_64" in err.hint
    other = pip.uv_failure("error: Failed to fetch: `https://pypi.org/simple/x/`\n", "linux-64")
    assert (
        other.message
        == "uv pip compile failed for linux-64: Failed to fetch: `https://pypi.org/simple/x/`"
    )


def test_render_pylock_adds_environments_and_tool_table(data_dir: Path) -> None:
    lock = _lock(data_dir, "tf2.15-cpu-py3.10-win-64", "win-64", "3.10")
    plat = load_lock_platforms().get("win-64")
    text = pip.render_pylock(
        lock, ["generated by envgen", "x"], plat.environment, {"variant": "cpu"}
    )
    assert text.startswith("# generated by envgen\n# x\nlock-version")
    doc = tomllib.loads(text)
    assert doc["environments"] == ["sys_platform == 'win32' and platform_machine == 'AMD64'"]
    assert doc["tool"]["envgen"] == {"variant": "cpu"}
    assert len(doc["packages"]) == len(lock.packages)
    assert pip.render_pylock(lock, ["x"], plat.environment, {}) == pip.render_pylock(
        lock, ["x"], plat.environment, {}
    )
    reqs = pip.render_requirements(lock, ["generated by envgen"])
    assert "--index-url" not in reqs
    assert "file://" not in reqs
    assert reqs.count("--hash=sha256:") > 700


def _fake_run(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, offline_rc: int
) -> list[tuple[str, ...]]:
    """Answer `uv pip compile` from captured output; records each argv."""
    uv = data_dir / "uv"
    calls: list[tuple[str, ...]] = []

    def run(argv: list[str], **_: object) -> Completed:
        calls.append(tuple(argv))
        stem = "tf2.21-cpu-py3.11-linux-64"
        if "--format" in argv:
            if "--offline" in argv and offline_rc:
                return Completed(tuple(argv), offline_rc, "", "error: not in the cache")
            return Completed(tuple(argv), 0, (uv / f"{stem}.pylock.toml").read_text(), "")
        return Completed(tuple(argv), 0, (uv / f"{stem}.requirements.txt").read_text(), "")

    monkeypatch.setattr(pip, "run", run)
    return calls


def test_pylock_run_is_offline_after_the_hashed_run(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    calls = _fake_run(monkeypatch, data_dir, offline_rc=0)
    plat = load_lock_platforms().get("linux-64")
    lock = pip.compile_pip(cpu_2_21(), plat, environ={})
    assert lock.versions()["tensorflow-cpu"] == "2.21.0"
    assert ["--offline" in c for c in calls] == [False, True]


def test_cache_miss_repeats_the_pylock_run_online(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    calls = _fake_run(monkeypatch, data_dir, offline_rc=2)
    plat = load_lock_platforms().get("linux-64")
    pip.compile_pip(cpu_2_21(), plat, environ={})
    assert ["--offline" in c for c in calls] == [False, True, False]
