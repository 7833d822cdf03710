"""The conda backend for real: a conda-lock file the lock stage wrote against a local channel of
real packages, installed by py-rattler (no conda executable exists here, lab report §5), then a
pip part installed by uv; a re-run reuses the prefix; a lock for another platform is refused.

The channel's `python` is a stand-in archive (no interpreter inside), so the pip half goes into
the venv the backend lays over a Python-less prefix. The CUDA packages of conda-forge cannot be
installed here: no conda channel is reachable from this machine.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from envgen.backends import COMPLETE_MARKER, BuildRequest, get_backend
from envgen.errors import InputFileError
from envgen.kb import load_kb
from envgen.lock.make import make_lock_set, write_lock_set
from tests.integration.conda_channel import Pkg, build_channel
from tests.reference_plans import gpu_conda_2_15

pytestmark = pytest.mark.integration


def _uv() -> str:
    found = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(found).exists():
        pytest.skip("uv is not installed")
    return found


@pytest.fixture
def conda_lock(tmp_path: Path) -> Path:
    """conda-lock.cuda12.yml for the conda half of a GPU plan, solved against a local channel."""
    pytest.importorskip("rattler")
    channel = build_channel(
        tmp_path / "chan",
        [
            Pkg("python", "3.10.14", "linux-64", depends=("__glibc >=2.17",)),
            Pkg("cuda-version", "12.2", "noarch", depends=("__cuda >=12.2",), fmt=".conda"),
            Pkg("cudnn", "8.9.7.29", "linux-64", depends=("cuda-version >=12,<13",)),
        ],
    )
    full = gpu_conda_2_15()
    # the conda half only, and of it what the local channel carries: CUDA and cuDNN themselves
    # (the plan's unversioned runtime libraries come with them from conda-forge)
    conda = tuple(p for p in full.conda_packages() if p.name in ("cuda-version", "cudnn"))
    plan = dataclasses.replace(full, packages=conda)
    made = make_lock_set(
        [plan],
        plan.request,
        load_kb(),
        command="envgen lock",
        conda_channels=[channel.as_uri()],
        uv=_uv(),
    )
    write_lock_set(made, tmp_path / "locks")
    return tmp_path / "locks" / "conda-lock.cuda12.yml"


@pytest.fixture(autouse=True)
def _no_conda_executable(monkeypatch: pytest.MonkeyPatch) -> None:
    # The py-rattler engine is the one under test, even where a conda happens to be installed.
    for var in ("ENVGEN_CONDA_EXE", "MAMBA_EXE", "CONDA_EXE"):
        monkeypatch.delenv(var, raising=False)
    path = os.environ.get("PATH", "").split(os.pathsep)
    kept = [
        d for d in path if not any((Path(d) / n).exists() for n in ("conda", "mamba", "micromamba"))
    ]
    monkeypatch.setenv("PATH", os.pathsep.join(kept))


@pytest.mark.skipif(sys.platform != "linux", reason="the channel is locked for linux-64")
def test_rattler_installs_the_lock_then_uv_the_pip_part(tmp_path: Path, conda_lock: Path) -> None:
    backend = get_backend("conda", check=True)
    prefix = tmp_path / "env"
    request = BuildRequest(
        prefix=prefix, python="3.11", conda_lock=conda_lock, requirements=("six==1.17.0",)
    )
    first = backend.build(request)
    assert not first.reused
    assert first.installer == "py-rattler+uv"
    # Every locked conda package is linked, with its payload and its conda-meta record.
    metas = sorted(p.name for p in (prefix / "conda-meta").glob("*.json"))
    assert metas == [
        "cuda-version-12.2-0.json",
        "cudnn-8.9.7.29-0.json",
        "python-3.10.14-0.json",
    ]
    record = json.loads((prefix / "conda-meta" / "cudnn-8.9.7.29-0.json").read_text())
    assert record["url"].startswith("file://")
    assert (prefix / "share/envgen-demo/cudnn.txt").read_text() == "cudnn 8.9.7.29\n"
    # The stand-in python has no interpreter: the pip part went into a venv over the prefix.
    marker = json.loads((prefix / COMPLETE_MARKER).read_text())
    assert marker["venv-overlay"] is True
    assert marker["conda-packages"] == 3
    out = subprocess.run(
        [str(first.python), "-c", "import six, sys; print(six.__version__, sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["1.17.0", str(prefix)]
    # Nothing is left beside the prefix; a second build is a no-op.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chan", "env", "locks"]
    again = backend.build(request)
    assert again.reused
    assert again.python == first.python


def test_a_lock_for_another_platform_is_refused(tmp_path: Path, conda_lock: Path) -> None:
    text = conda_lock.read_text().replace("platform: linux-64", "platform: osx-arm64")
    other = tmp_path / "conda-lock.other.yml"
    other.write_text(text)
    request = BuildRequest(prefix=tmp_path / "env", python="3.11", conda_lock=other)
    with pytest.raises(InputFileError, match="no packages for"):
        get_backend("conda").build(request)
    assert not (tmp_path / "env").exists()


@pytest.mark.skipif(sys.platform != "linux", reason="activation scripts and ld.so: Linux")
def test_a_built_prefix_finds_its_libraries_through_the_activation_script(
    tmp_path: Path, conda_lock: Path
) -> None:
    """Issue 14 §2: a conda GPU plan's prefix sets LD_LIBRARY_PATH=$ORIGIN/../lib when it is
    activated (conda, mamba and micromamba source etc/conda/activate.d/*.sh) and undoes it on
    deactivation; the dynamic loader then finds a library in the prefix's lib/ for a program in
    its bin/ (the CUDA libraries a pip TensorFlow dlopens by soname)."""
    plan = gpu_conda_2_15()
    prefix = tmp_path / "env"
    request = BuildRequest(
        prefix=prefix, python="3.11", conda_lock=conda_lock, environment=plan.environment
    )
    result = get_backend("conda", check=True).build(request)
    assert result.installer == "py-rattler"
    activate = prefix / "etc/conda/activate.d/envgen-variables.sh"
    deactivate = prefix / "etc/conda/deactivate.d/envgen-variables.sh"
    assert activate.is_file()
    assert deactivate.is_file()
    # As conda's shell hook does it: source the activation scripts, run, source deactivation.
    script = (
        f'export CONDA_PREFIX="{prefix}"; export LD_LIBRARY_PATH=/opt/before; '
        f'. "{activate}"; echo "active=$LD_LIBRARY_PATH"; '
        f'. "{deactivate}"; echo "after=$LD_LIBRARY_PATH"; '
        f'unset LD_LIBRARY_PATH; . "{activate}"; . "{deactivate}"; '
        'echo "unset=${LD_LIBRARY_PATH-none}"'
    )
    out = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["active=$ORIGIN/../lib", "after=/opt/before", "unset=none"]
    # What the value does: a program in the prefix's bin/ loads a library from its lib/ by
    # soname. A copy of the system's python3 stands for the prefix's interpreter (the test
    # channel's `python` is an empty stand-in), a copy of libz for a CUDA library.
    system_python = shutil.which("python3", path="/usr/bin:/bin")
    libz = next((p for p in Path("/lib/x86_64-linux-gnu").glob("libz.so.1*") if p.is_file()), None)
    if system_python is None or libz is None:
        pytest.skip("no system python3 or libz to stand in")
    (prefix / "bin").mkdir(exist_ok=True)
    shutil.copy2(system_python, prefix / "bin" / "envgen-python")
    (prefix / "lib").mkdir(exist_ok=True)
    shutil.copy2(libz, prefix / "lib" / "libenvgen-stand-in.so")
    probe = "import ctypes; ctypes.CDLL('libenvgen-stand-in.so'); print('loaded')"
    script = f'. "{activate}"; "{prefix}/bin/envgen-python" -c "{probe}"'
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    loaded = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert loaded.stdout.strip() == "loaded", loaded.stderr
    # Without the activation the same program does not find it.
    missing = subprocess.run(
        [str(prefix / "bin" / "envgen-python"), "-c", probe],
        check=False,
        capture_output=True,
        text=True,
        env=env,
    )
    assert missing.returncode != 0
    assert "libenvgen-stand-in.so" in missing.stderr
