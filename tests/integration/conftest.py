"""Integration tests do real things: uv resolves and installs from PyPI, TensorFlow imports.

Every test here shares one uv cache (`ENVGEN_TEST_UV_CACHE`, default
`~/.cache/envgen-tests/uv`), so only the first run downloads wheels; later runs hard-link them.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest


def uv_cache_dir() -> str:
    return os.environ.get("ENVGEN_TEST_UV_CACHE") or str(Path.home() / ".cache/envgen-tests/uv")


@pytest.fixture(autouse=True)
def _shared_uv_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_CACHE_DIR", uv_cache_dir())


# --- uv environments: built once per session, shared by every test that names one ---------------

UV_ENV_PYTHON = "3.11"  # TensorFlow 2.15 and 2.21 both have cp311 wheels
UV_INSTALL_TIMEOUT_S = 900


@pytest.fixture(scope="session")
def uv() -> str:
    """The uv executable (on PATH, or next to this interpreter); skips the test without one."""
    found = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(found).is_file():
        pytest.skip("uv is not installed (pip install uv)")
    return found


@pytest.fixture(scope="session")
def uv_env(uv: str, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """`uv_env(name, [install args], ..., override=None, python="3.11")`: a virtualenv's root.

    Each step is one `uv pip install`; `override` is a line for uv's `--override` (how a pin that
    TensorFlow's metadata forbids gets in). An environment is built once per session under its
    name, and asking for a name again with other steps is an error. `--compile-bytecode` matters:
    with PYTHONDONTWRITEBYTECODE set, `import tensorflow` from source files alone takes ~15 s.
    """
    root = tmp_path_factory.mktemp("uv-envs")
    env = {**os.environ, "UV_CACHE_DIR": uv_cache_dir()}
    env.pop("VIRTUAL_ENV", None)
    built: dict[str, tuple[object, Path]] = {}

    def uv_run(*args: str) -> None:
        subprocess.run([uv, *args], env=env, check=True, timeout=UV_INSTALL_TIMEOUT_S)

    def make(
        name: str, *steps: Sequence[str], override: str | None = None, python: str = UV_ENV_PYTHON
    ) -> Path:
        spec = ([list(step) for step in steps], override, python)
        if name in built:
            if built[name][0] != spec:
                raise ValueError(f"uv_env {name!r} was built with other steps: {built[name][0]}")
            return built[name][1]
        prefix = root / name
        uv_run("venv", "-q", "-p", python, str(prefix))
        extra: list[str] = []
        if override:
            (root / f"{name}-override.txt").write_text(override + "\n")
            extra = ["--override", str(root / f"{name}-override.txt")]
        target = str(prefix / "bin" / "python")
        for step in steps:
            uv_run("pip", "install", "-q", "--compile-bytecode", "-p", target, *step, *extra)
        built[name] = (spec, prefix)
        return prefix

    return make


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


# --- podman: a local base image, since no registry is reachable (lab report §4) -------------------

PODMAN_BASE = "localhost/envgen-base:bookworm"
PODMAN_DIR = "/var/tmp/envgen-podman"
# podman 4.3 refuses a longer --runroot ("the specified runroot is longer than 50 characters"),
# which an ENVGEN_PODMAN_DIR under a deep folder reaches easily.
PODMAN_RUNROOT_MAX = 50


class PodmanStore:
    """podman storage kept between runs ($ENVGEN_PODMAN_DIR) holding the debootstrap base.

    Nothing here may rely on an earlier run: the folder may not exist yet, a debootstrap may have
    been interrupted half-way, and another test session (another checkout) may be setting the
    same default store up at this moment.
    """

    def __init__(self, work: Path) -> None:
        self.work = work
        self.base = PODMAN_BASE
        self.runroot = work / "runroot"
        if len(str(self.runroot)) > PODMAN_RUNROOT_MAX:
            # Transient state only (locks, mounts): any short private path will do.
            digest = hashlib.sha256(str(work).encode()).hexdigest()[:8]
            self.runroot = Path(tempfile.gettempdir()) / f"envgen-podman-{digest}"
        self.argv = ["podman", "--root", str(work / "storage"), "--runroot", str(self.runroot)]
        # For the podman that envgen starts itself (podman reads CONTAINERS_STORAGE_CONF); written
        # by `write_storage_conf` once the store exists and its driver is known.
        self.storage_conf = work / "storage.conf"

    def write_storage_conf(self) -> None:
        """Name the driver the store was made with: podman picks one when it creates a store
        (overlay where the file system allows it, else vfs), and a conf naming another driver
        makes every later command fail."""
        info = [*self.argv, "info", "--format", "{{.Store.GraphDriverName}}"]
        driver = subprocess.run(
            info, capture_output=True, text=True, check=True, timeout=120
        ).stdout.strip()
        self.storage_conf.write_text(
            f'[storage]\ndriver = "{driver}"\n'
            f'graphroot = "{self.work / "storage"}"\nrunroot = "{self.runroot}"\n'
        )


def _checked(argv: list[str], timeout: float, **kw: object) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kw)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{argv[:4]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def _debootstrap(rootfs: Path) -> None:
    """A Debian bookworm root file system at `rootfs`, made in a side folder and renamed into
    place only when debootstrap succeeded: an interrupted run leaves no half-made rootfs that a
    later run would take for finished (its python3 is unpacked long before the packages are
    configured)."""
    partial = rootfs.with_name(rootfs.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    _checked(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=python3,python3-venv,ca-certificates",
            "bookworm",
            str(partial),
            "http://deb.debian.org/debian",
        ],
        timeout=600,
    )
    partial.rename(rootfs)


@pytest.fixture(scope="session")
def podman_store() -> PodmanStore:
    """Opt-in (ENVGEN_TEST_PODMAN=1): podman storage with a Debian bookworm base made by
    debootstrap (75 s, then kept); needs root, podman, runc and debootstrap."""
    if os.environ.get("ENVGEN_TEST_PODMAN") != "1":
        pytest.skip("opt-in: ENVGEN_TEST_PODMAN=1")
    for tool in ("podman", "runc", "debootstrap"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install podman runc debootstrap)")
    store = PodmanStore(Path(os.environ.get("ENVGEN_PODMAN_DIR") or PODMAN_DIR))
    # A fresh machine has no store yet: nothing here may rely on an earlier run's folders.
    store.work.mkdir(parents=True, exist_ok=True)
    # The default store is shared by every checkout on the machine: one session sets it up while
    # another waits, instead of two debootstraps writing into one rootfs.
    with (store.work / ".setup.lock").open("w") as lock:
        if sys.platform != "win32":  # podman runs on Linux; the guard is for mypy's other platforms
            fcntl.flock(lock, fcntl.LOCK_EX)
        exists = [*store.argv, "image", "exists", store.base]
        found = subprocess.run(exists, capture_output=True, text=True, check=False, timeout=120)
        # 1 is "no such image"; anything else is podman failing, which a build would only repeat.
        assert found.returncode in (0, 1), f"{exists}: {found.stderr.strip()}"
        if found.returncode == 1:
            rootfs = store.work / "rootfs"
            if not rootfs.is_dir():
                _debootstrap(rootfs)
            with subprocess.Popen(
                ["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE
            ) as tar:
                _checked([*store.argv, "import", "-", store.base], timeout=300, stdin=tar.stdout)
            assert tar.returncode == 0
        store.write_storage_conf()
    return store
