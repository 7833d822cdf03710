"""`tensorflow-distributions.toml`: which PyPI distributions are TensorFlow, read by kb update,
doctor and verify from the one table (they used to keep three lists of their own)."""

from __future__ import annotations

from pathlib import Path

from envgen.doctor import Environment
from envgen.kb import load_kb
from envgen.kb.distributions import load_distributions
from envgen.verify.expect import from_lock


def test_the_table() -> None:
    table = load_distributions()
    assert table.names == (
        "tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel",
        "tensorflow-cpu-aws", "tensorflow-macos",
    )  # fmt: skip
    assert table.only("main") == "tensorflow"
    assert table.only("cpu-twin") == "tensorflow-cpu"
    assert table.only("gpu-package") == "tensorflow-gpu"
    assert set(table.with_role("shim-target")) == {
        "tensorflow-intel", "tensorflow-macos", "tensorflow-cpu-aws",
    }  # fmt: skip
    assert table.alternates == {
        "linux-aarch64": "tensorflow-cpu-aws",
        "macos-arm64": "tensorflow-macos",
    }
    assert "tensorflow-estimator" in table.satellites
    assert load_kb().distributions is not None


def test_every_gpu_package_a_build_names_is_a_distribution() -> None:
    table = load_distributions()
    named = {b.gpu_package for b in load_kb().tensorflow.builds}
    assert named <= {table.only("main"), table.only("gpu-package")}


def _environment(packages: dict[str, str]) -> Environment:
    return Environment("3.11.9", "/env/bin/python", "/env", "linux", "x86_64", packages, None)


def test_doctor_names_the_installed_tensorflow() -> None:
    # The shim and the wheel it installs: the first listed names the install.
    env = _environment({"tensorflow-intel": "2.15.1", "tensorflow": "2.15.1"})
    assert env.tensorflow() == ("tensorflow", "2.15.1")
    # An add-on is not TensorFlow; the Apple build is.
    env = _environment({"tensorflow-estimator": "2.12.0", "tensorflow-macos": "2.12.0"})
    assert env.tensorflow() == ("tensorflow-macos", "2.12.0")
    assert _environment({"tensorflow-hub": "0.16.1"}).tensorflow() is None


def test_verify_recognises_a_lock_of_the_separate_gpu_package(tmp_path: Path) -> None:
    """A TF <= 2.0 GPU plan pins `tensorflow-gpu`: its lock must still be checked as TensorFlow
    (verify's own list lacked it, so `import tensorflow` went unchecked)."""
    lock = tmp_path / "requirements.lock"
    lock.write_text("tensorflow-gpu==1.15.5 \\\n    --hash=sha256:aaaa\nnumpy==1.18.5\n")
    assert from_lock(lock).framework == "tensorflow"
