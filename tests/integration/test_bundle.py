"""`envgen bundle` for real: a TensorFlow CPU bundle made from PyPI, installed with no network.

One bundle per session (tensorflow-cpu 2.21 on Python 3.11, linux-64, ~335 MB; its downloads
are cached under ENVGEN_TEST_BUNDLE_CACHE so only the first run on a machine fetches them). It
is then installed inside a network namespace with no interface up (`unshare --net`, root),
once with the bundle's own `install.sh` and once with `envgen create --from-bundle`, and
TensorFlow must compute in both. Tampered copies (a wheel with one byte changed, a manifest
edited to match it) are refused, naming the file, before anything is installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TF_CHECK = (
    "import tensorflow as tf; "
    "x = tf.random.normal([256, 256]); "
    "print('TF-COMPUTES', tf.__version__, float(tf.reduce_sum(tf.matmul(x, tf.eye(256)) - x)))"
)
INSTALL_TIMEOUT_S = 900


def _bundle_cache() -> Path:
    default = Path.home() / ".cache/envgen-tests/bundle"
    return Path(os.environ.get("ENVGEN_TEST_BUNDLE_CACHE") or default)


def _offline() -> list[str]:
    """The prefix that runs a command with no network at all (a new, empty network namespace)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) for a network namespace")
    return ["unshare", "--net"]


def _envgen(
    *args: str, cwd: Path, prefix: list[str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [*(prefix or []), sys.executable, "-m", "envgen", *args]
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="session")
def tf_bundle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The committed lock set's cpu/linux-64 lock bundled twice: the second run reuses the cache
    and must give the same bytes."""
    work = tmp_path_factory.mktemp("bundle")
    shutil.copytree(ROOT / "locks", work / "locks")
    runs = []
    for name in ("first.tar", "second.tar"):
        done = _envgen(
            "bundle", "--json", "--variants", "cpu", "--platform", "linux-64",
            "--cache-dir", str(_bundle_cache()), "--output", name,
            cwd=work,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        runs.append(json.loads(done.stdout))
    return {"dir": work, "archive": work / "first.tar", "runs": runs}


def test_bundle_holds_every_wheel_of_the_lock_and_reuses_the_cache(
    tf_bundle: dict[str, object],
) -> None:
    first, second = (r["bundle"] for r in tf_bundle["runs"])  # type: ignore[attr-defined]
    assert first["package-files"] == 32
    assert first["targets"][0]["variant"] == "cpu"
    # The archive is its wheels plus headers, locks and installers: under 1 % more.
    assert first["package-bytes"] < first["size"] < first["package-bytes"] * 1.01
    # Nothing downloaded the second time, and the same lock gives the same bytes.
    assert second["reused"] == 32
    assert second["downloaded-bytes"] == 0
    assert second["sha256"] == first["sha256"]
    with tarfile.open(tf_bundle["archive"]) as tar:  # type: ignore[call-overload]
        names = tar.getnames()
    assert "envgen-bundle/manifest.json" in names
    assert "envgen-bundle/install.sh" in names
    assert any(n.startswith("envgen-bundle/wheels/tensorflow_cpu-2.21.0-") for n in names)


def test_install_sh_installs_offline_and_tensorflow_computes(
    tf_bundle: dict[str, object], tmp_path: Path
) -> None:
    offline = _offline()
    with tarfile.open(tf_bundle["archive"]) as tar:  # type: ignore[call-overload]
        tar.extractall(tmp_path, filter="data")
    prefix = tmp_path / "env"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    install = subprocess.run(
        [*offline, "sh", str(tmp_path / "envgen-bundle/install.sh"), str(prefix)],
        capture_output=True, text=True, env=env, timeout=INSTALL_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    computed = subprocess.run(
        [*offline, str(prefix / "bin/python"), "-c", TF_CHECK],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert computed.returncode == 0, computed.stderr[-3000:]
    line = next(ln for ln in computed.stdout.splitlines() if ln.startswith("TF-COMPUTES"))
    _, version, residual = line.split()
    assert version == "2.21.0"
    assert abs(float(residual)) < 1e-2


def test_create_from_bundle_offline_builds_and_verifies(
    tf_bundle: dict[str, object], tmp_path: Path
) -> None:
    offline = _offline()
    done = _envgen(
        "create", "--json", "--from-bundle", str(tf_bundle["archive"]),
        cwd=tmp_path, prefix=offline,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert out["verify"]["ok"] is True
    checks = {c["name"] for c in out["verify"]["checks"] if c["ok"]}
    assert {"tensorflow:import", "tensorflow:reduce-sum"} <= checks
    stages = {s["stage"]: s["result"] for s in out["steps"]}
    assert "from the bundle" in stages["lock"]
    assert "sha256" in out["bundle"]
    # The unpacked copy is gone; the project keeps only what a team commits and the env.
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".envgen-bundle-")]


def _tampered(archive: Path, dest: Path, *, member: str, manifest_too: bool) -> str:
    """A copy of `archive` with one byte of `member` flipped (and the manifest edited to match
    when `manifest_too`); returns the member's path inside the bundle."""
    import hashlib

    with tarfile.open(archive) as src, tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as out:
        infos = src.getmembers()
        bodies = {i.name: src.extractfile(i).read() for i in infos if i.isfile()}  # type: ignore[union-attr]
        name = next(n for n in bodies if n.startswith(f"envgen-bundle/wheels/{member}"))
        body = bytearray(bodies[name])
        body[len(body) // 2] ^= 0xFF
        bodies[name] = bytes(body)
        if manifest_too:
            doc = json.loads(bodies["envgen-bundle/manifest.json"])
            for entry in doc["files"]:
                if "envgen-bundle/" + entry["path"] == name:
                    entry["sha256"] = hashlib.sha256(body).hexdigest()
            bodies["envgen-bundle/manifest.json"] = json.dumps(doc).encode()
        for info in infos:
            data = bodies[info.name]
            info.size = len(data)
            out.addfile(info, __import__("io").BytesIO(data))
    return name.removeprefix("envgen-bundle/")


@pytest.mark.parametrize("manifest_too", [False, True], ids=["wheel", "wheel-and-manifest"])
def test_a_tampered_bundle_is_refused_naming_the_file(
    tf_bundle: dict[str, object], tmp_path: Path, manifest_too: bool
) -> None:
    bad = tmp_path / "bad.tar"
    member = _tampered(tf_bundle["archive"], bad, member="six-", manifest_too=manifest_too)  # type: ignore[arg-type]
    named = "manifest.json" if manifest_too else member
    done = _envgen("create", "--from-bundle", str(bad), "--no-verify", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert named in done.stderr
    assert not (tmp_path / ".venv").exists()
    # The bundle's own installer refuses it too, before any venv is made.
    with tarfile.open(bad) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    install = subprocess.run(
        ["sh", str(tmp_path / "x/envgen-bundle/install.sh"), str(tmp_path / "env")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert install.returncode == 3, install.stderr
    assert named in install.stderr
    assert not (tmp_path / "env").exists()
