"""Real locks: uv against PyPI for Linux, Windows and macOS arm64, CPU and GPU; rattler against a
local channel of real packages for the conda side, parsed back with conda-lock's own parser."""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import warnings
from pathlib import Path

import pytest

from envgen.kb import load_kb
from envgen.lock.index import parse_index
from envgen.lock.integrity import verify_files
from envgen.lock.make import make_lock_set, write_lock_set
from envgen.plan import Request
from envgen.proc import run
from tests.integration.conda_channel import Pkg, build_channel
from tests.reference_plans import cpu_2_15, cpu_2_21, gpu_2_21, gpu_conda_2_15

pytestmark = pytest.mark.integration


def _uv() -> str:
    found = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(found).exists():
        pytest.skip("uv is not installed")
    return found


def test_pip_locks_for_three_platforms_cpu_and_gpu(tmp_path: Path) -> None:
    uv = _uv()
    plans = [
        cpu_2_21("linux-x86_64"),
        cpu_2_21("windows-x86_64"),
        cpu_2_21("macos-arm64"),
        gpu_2_21(),
        cpu_2_15("linux-x86_64"),
        cpu_2_15("windows-x86_64"),
    ]
    request = Request(tensorflow="2.21")
    # 2.15 and 2.21 share variant names, so they go in two lock sets
    sets = {"tf221": plans[:4], "tf215": plans[4:]}
    kb = load_kb()
    for name, group in sets.items():
        first = make_lock_set(group, request, kb, command="envgen lock", uv=uv)
        second = make_lock_set(group, request, kb, command="envgen lock", uv=uv)
        assert first.files == second.files, "a second run must give byte-identical files"
        write_lock_set(first, tmp_path / name)
        index = parse_index((tmp_path / name / "envgen-lock.toml").read_text())
        assert verify_files(index, tmp_path / name) == []
        for text in first.files.values():
            assert "file://" not in text  # no index of this machine
    tf221 = tmp_path / "tf221"
    win215 = (tmp_path / "tf215" / "requirements.cpu-win-64.txt").read_text()
    assert "tensorflow-intel==2.15.1" in win215
    assert "numpy==1." in win215
    cuda = (tf221 / "requirements.cuda12-linux-64.txt").read_text()
    assert "nvidia-cudnn-cu12==9.3.0.75" in cuda
    for path in tf221.glob("requirements.*.txt"):
        pins = [ln for ln in path.read_text().splitlines() if "==" in ln]
        hashes = path.read_text().count("--hash=sha256:")
        assert hashes >= len(pins) > 20, path.name

    # plain uv accepts the Linux locks as they are
    env = {k: v for k, v in os.environ.items() if not k.startswith("UV_INDEX")}
    for lock in ("pylock.cpu-linux-64.toml", "requirements.cpu-linux-64.txt"):
        run(
            [
                uv,
                "pip",
                "install",
                "--dry-run",
                "--no-config",
                "--python-version",
                "3.11",
                "--python-platform",
                "x86_64-manylinux_2_28",
                "--target",
                str(tmp_path / "t"),
                "--require-hashes" if lock.endswith(".txt") else "--no-deps",
                "-r",
                str(tf221 / lock),
            ],
            timeout=300,
            env=env,
        )


def test_conda_lock_against_a_local_channel(tmp_path: Path) -> None:
    pytest.importorskip("rattler")
    channel = build_channel(
        tmp_path / "chan",
        [
            Pkg("python", "3.10.14", "linux-64", depends=("__glibc >=2.17",)),
            Pkg("python", "3.11.9", "linux-64", depends=("__glibc >=2.17",)),
            Pkg("cuda-version", "12.2", "noarch", depends=("__cuda >=12.2",), fmt=".conda"),
            Pkg("cuda-version", "12.9", "noarch", depends=("__cuda >=12.9",), fmt=".conda"),
            Pkg("cudnn", "8.9.7.29", "linux-64", depends=("cuda-version >=12,<13",)),
            Pkg("cudnn", "9.3.0.75", "linux-64", depends=("cuda-version >=12,<13",), fmt=".conda"),
        ],
    )
    url = channel.as_uri()
    full = gpu_conda_2_15()
    # the conda half only, and of it what the local channel carries: CUDA and cuDNN themselves
    # (the plan's unversioned runtime libraries come with them from conda-forge)
    conda = tuple(p for p in full.conda_packages() if p.name in ("cuda-version", "cudnn"))
    # and of its pip half numpy, locked by uv from PyPI: the `manager: pip` rows
    numpy = tuple(p for p in full.pip_packages() if p.name == "numpy")
    plan = dataclasses.replace(full, packages=conda + numpy)
    kb = load_kb()
    made = make_lock_set(
        [plan], plan.request, kb, command="envgen lock", conda_channels=[url], uv=_uv()
    )
    again = make_lock_set(
        [plan], plan.request, kb, command="envgen lock", conda_channels=[url], uv=_uv()
    )
    assert made.files == again.files
    write_lock_set(made, tmp_path / "locks")
    path = tmp_path / "locks" / "conda-lock.cuda12.yml"
    assert path.is_file()

    with warnings.catch_warnings():
        # conda-lock's vendored conda and its resource loading warn about their own deprecated
        # APIs on import and parse; not ours to fix.
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        from conda_lock.lockfile import parse_conda_lock_file

        parsed = parse_conda_lock_file(path)
    got = {(p.name, p.version, p.platform) for p in parsed.package if p.manager == "conda"}
    # __cuda 12.2 from the plan: cuda-version 12.9 would need a newer driver
    assert got == {
        ("python", "3.10.14", "linux-64"),
        ("cuda-version", "12.2", "linux-64"),
        ("cudnn", "8.9.7.29", "linux-64"),
    }
    for p in parsed.package:
        if p.manager == "conda":
            assert p.hash.md5
            assert p.hash.sha256
            assert p.url.startswith(url)
    # the pip half is in it too, so `conda-lock install` needs no other file: the same version
    # as the requirements lock beside it, the wheel for CPython 3.10 on manylinux x86_64
    pips = [p for p in parsed.package if p.manager == "pip"]
    assert [p.name for p in pips] == ["numpy"]
    (numpy_row,) = pips
    requirements = (tmp_path / "locks" / "requirements.cuda12-linux-64.txt").read_text()
    assert f"numpy=={numpy_row.version} " in requirements
    assert numpy_row.version.startswith("1.")
    assert numpy_row.platform == "linux-64"
    assert numpy_row.url.startswith("https://files.pythonhosted.org/")
    assert "-cp310-cp310-manylinux" in numpy_row.url
    assert numpy_row.url.endswith("x86_64.whl")
    assert numpy_row.hash.sha256
    assert numpy_row.hash.md5 is None
    assert f"--hash=sha256:{numpy_row.hash.sha256}" in requirements
    assert numpy_row.dependencies == {}
    assert numpy_row.categories == {"main"}  # conda-lock reads `category: main` into its v2 model
    assert parsed.metadata.platforms == ["linux-64"]
    assert [c.url for c in parsed.metadata.channels] == [url]
