"""The pip side of conda-lock.yml: one `manager: pip` row per locked package and platform, the
file an installer takes, in conda-lock's own format (tests/integration/test_lock.py parses a real
one with conda-lock's own parser; its import starts a subprocess, which unit tests forbid)."""

from __future__ import annotations

from pathlib import Path

import pytest

from envgen.backends import conda as conda_backend
from envgen.backends import conda_lock
from envgen.errors import InputFileError
from envgen.lock import conda, pip

PY = conda.CondaRecord(
    name="python",
    version="3.11.9",
    build="0",
    subdir="linux-64",
    url="https://conda.anaconda.org/conda-forge/linux-64/python-3.11.9-0.conda",
    md5="0" * 32,
    sha256="1" * 64,
    depends=("__glibc >=2.17",),
)


def _files(data_dir: Path, stem: str, python: str = "3.11") -> tuple[pip.LockedFile, ...]:
    return pip.install_files((data_dir / "uv" / f"{stem}.pylock.toml").read_text(), python)


def _name(f: pip.LockedFile) -> str:
    return f.url.rsplit("/", 1)[-1]


def test_one_file_per_package_the_one_an_installer_takes(data_dir: Path) -> None:
    files = _files(data_dir, "tf2.21-cpu-py3.11-linux-64")
    assert len(files) == 32
    assert [f.name for f in files] == sorted(f.name for f in files)
    by = {f.name: f for f in files}
    # cp311-cp311 before cp37-abi3 before py3-none-any, as pip and uv rank them
    assert _name(by["charset-normalizer"]).startswith("charset_normalizer-3.5.2-cp311-cp311-manyl")
    assert (
        _name(by["tensorflow-cpu"]) == "tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl"
    )
    assert _name(by["absl-py"]) == "absl_py-2.5.1-py3-none-any.whl"  # a wheel, not the sdist
    assert by["absl-py"].sha256 == (
        "721200f2f0e9960f2ca9dc3a2a706b201f5f75d812c158f059cbbe29eeafbdb8"
    )
    assert all(f.url.startswith("https://files.pythonhosted.org/") for f in files)


def test_windows_python_3_10_gets_its_own_wheels(data_dir: Path) -> None:
    by = {f.name: f for f in _files(data_dir, "tf2.15-cpu-py3.10-win-64", "3.10")}
    assert _name(by["tensorflow-intel"]).endswith("-cp310-cp310-win_amd64.whl")
    assert _name(by["numpy"]).endswith("-cp310-cp310-win_amd64.whl")


def test_sdist_only_and_no_fitting_file() -> None:
    sha = "a" * 64
    # PEP 751 names are normalised (packaging.pylock refuses "Foo_Bar").
    head = 'lock-version = "1.0"\ncreated-by = "uv"\n\n[[packages]]\nname = "foo-bar"\n'
    sdist = head + (
        'version = "1.0"\nsdist = { url = "https://x/foo_bar-1.0.tar.gz", '
        f'hashes = {{ sha256 = "{sha}" }} }}\n'
    )
    assert pip.install_files(sdist, "3.11") == (
        pip.LockedFile("foo-bar", "1.0", "https://x/foo_bar-1.0.tar.gz", sha),
    )
    wrong = head + (
        'version = "1.0"\nwheels = [{ url = "https://x/foo_bar-1.0-cp312-cp312-win_amd64.whl", '
        f'hashes = {{ sha256 = "{sha}" }} }}]\n'
    )
    with pytest.raises(InputFileError, match=r"no wheel for CPython 3\.11"):
        pip.install_files(wrong, "3.11")


def test_conda_lock_has_the_pip_rows_and_the_conda_backend_reads_them(
    data_dir: Path, tmp_path: Path
) -> None:
    files = _files(data_dir, "tf2.21-cuda12-py3.11-linux-64")
    text = conda.render_conda_lock(
        ["test"],
        ["https://conda.anaconda.org/conda-forge"],
        {"linux-64": ("h", (PY,))},
        ["envgen plan"],
        {},
        pip={"linux-64": files},
    )
    assert text == conda.render_conda_lock(
        ["test"],
        ["https://conda.anaconda.org/conda-forge"],
        {"linux-64": ("h", (PY,))},
        ["envgen plan"],
        {},
        pip={"linux-64": tuple(reversed(files))},
    ), "rows are sorted whatever order they come in"
    cudnn = next(f for f in files if f.name == "nvidia-cudnn-cu12")
    row = (
        '- name: "nvidia-cudnn-cu12"\n'
        '  version: "9.3.0.75"\n'
        "  manager: pip\n"
        "  platform: linux-64\n"
        "  dependencies: {}\n"
        f'  url: "{cudnn.url}"\n'
        "  hash:\n"
        f'    sha256: "{cudnn.sha256}"\n'
        "  category: main\n"
        "  optional: false\n"
    )
    assert row in text
    path = tmp_path / "conda-lock.yml"
    path.write_text(text)

    # envgen's own conda backend reads the same rows into a hashed direct-URL requirements file
    rows = conda_lock.read_conda_lock(path)
    _, pip_rows = conda_lock.for_platform(rows, "linux-64", str(path))
    reqs = conda_backend.pip_requirements(pip_rows)
    assert f"nvidia-cudnn-cu12 @ {cudnn.url} --hash=sha256:{cudnn.sha256}\n" in reqs
    assert len(reqs.splitlines()) == len(files)
