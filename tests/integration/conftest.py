"""Integration tests do real things: uv resolves and installs from PyPI, TensorFlow imports.

Every test here shares one uv cache (`ENVGEN_TEST_UV_CACHE`, default
`~/.cache/envgen-tests/uv`), so only the first run downloads wheels; later runs hard-link them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def uv_cache_dir() -> str:
    return os.environ.get("ENVGEN_TEST_UV_CACHE") or str(Path.home() / ".cache/envgen-tests/uv")


@pytest.fixture(autouse=True)
def _shared_uv_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_CACHE_DIR", uv_cache_dir())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


# --- podman: a local base image, since no registry is reachable (lab report §4) -------------------

PODMAN_BASE = "localhost/envgen-base:bookworm"


class PodmanStore:
    """podman storage kept between runs ($ENVGEN_PODMAN_DIR) holding the debootstrap base."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.base = PODMAN_BASE
        self.argv = ["podman", "--root", str(work / "storage"), "--runroot", str(work / "runroot")]
        # The same storage for commands envgen starts itself (podman reads this variable).
        driver = "vfs" if (work / "storage" / "vfs").is_dir() else "overlay"
        self.storage_conf = work / "storage.conf"
        self.storage_conf.write_text(
            f'[storage]\ndriver = "{driver}"\n'
            f'graphroot = "{work / "storage"}"\nrunroot = "{work / "runroot"}"\n'
        )


def _checked(argv: list[str], timeout: float, **kw: object) -> None:
    import subprocess

    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kw)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{argv[:4]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.fixture(scope="session")
def podman_store() -> PodmanStore:
    """Opt-in (ENVGEN_TEST_PODMAN=1): podman storage with a Debian bookworm base made by
    debootstrap (75 s, then kept); needs root, podman, runc and debootstrap."""
    import shutil
    import subprocess

    if os.environ.get("ENVGEN_TEST_PODMAN") != "1":
        pytest.skip("opt-in: ENVGEN_TEST_PODMAN=1")
    for tool in ("podman", "runc", "debootstrap"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install podman runc debootstrap)")
    store = PodmanStore(Path(os.environ.get("ENVGEN_PODMAN_DIR", "/var/tmp/envgen-podman")))
    exists = [*store.argv, "image", "exists", store.base]
    if subprocess.run(exists, check=False).returncode == 0:
        return store
    rootfs = store.work / "rootfs"
    if not (rootfs / "usr/bin/python3").exists():
        _checked(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=python3,python3-venv,ca-certificates",
                "bookworm",
                str(rootfs),
                "http://deb.debian.org/debian",
            ],
            timeout=600,
        )
    with subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE) as tar:
        _checked([*store.argv, "import", "-", store.base], timeout=300, stdin=tar.stdout)
    assert tar.returncode == 0
    return store
