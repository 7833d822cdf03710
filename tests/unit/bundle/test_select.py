"""What a bundle carries, chosen from the committed lock set (envgen's own `locks/`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from envgen.bundle import default_output, manifest_text, render_installers
from envgen.bundle.select import select
from envgen.errors import InputFileError, OptionError

LOCKS = Path(__file__).resolve().parents[3] / "locks"


def test_one_wheel_per_package_of_the_cpu_linux_lock() -> None:
    chosen = select(LOCKS, "cpu", "linux-64")
    (target,) = chosen.targets
    assert (target.variant, target.platform, target.python) == ("cpu", "linux-64", "3.11")
    assert target.requirements == "locks/requirements.cpu-linux-64.txt"
    assert len(chosen.files) == len(target.files) == 32
    tf = next(f for f in chosen.files if f.package == "tensorflow-cpu")
    assert tf.name.startswith("tensorflow_cpu-2.21.0-cp311-cp311-manylinux")
    assert tf.url.startswith("https://files.pythonhosted.org/")
    assert all(f.kind == "wheel" and f.size for f in chosen.files)
    # The sum the benchmark compares the archive with: ~335 MB for TF CPU 2.21.
    assert 300e6 < chosen.wheel_bytes < 400e6
    assert "envgen-lock.toml" in chosen.lock_files
    assert default_output(chosen) == Path("envgen-bundle-cpu-linux-64.tar")


def test_a_file_two_targets_share_is_carried_once() -> None:
    cpu = select(LOCKS, "cpu", "linux-64")
    both = select(LOCKS, "cpu,cuda12", "linux-64")
    assert len(both.targets) == 2
    shared = set(both.targets[0].files) & set(both.targets[1].files)
    assert any("numpy" in p for p in shared)
    assert len(both.files) == len({f.path for f in both.files})
    assert len(both.files) < len(cpu.files) + len(both.targets[1].files)


def test_every_target_by_default() -> None:
    chosen = select(LOCKS)
    assert {(t.variant, t.platform) for t in chosen.targets} >= {
        ("cpu", "linux-64"),
        ("cpu", "win-64"),
        ("cpu", "osx-arm64"),
    }


@pytest.mark.parametrize(
    ("variants", "platforms", "option"),
    [("rocm", None, "variants"), (None, "linux-ppc64le", "platform")],
)
def test_what_the_lock_set_lacks_is_a_usage_error(
    variants: str | None, platforms: str | None, option: str
) -> None:
    with pytest.raises(OptionError) as exc:
        select(LOCKS, variants, platforms)
    assert exc.value.option == option
    assert "available:" in exc.value.hint


def test_an_edited_lock_is_not_bundled(tmp_path: Path) -> None:
    shutil.copytree(LOCKS, tmp_path / "locks")
    lock = tmp_path / "locks/requirements.cpu-linux-64.txt"
    lock.write_text(lock.read_text().replace("six==1.17.0", "six==1.16.0"))
    with pytest.raises(InputFileError, match=r"requirements.cpu-linux-64.txt was edited"):
        select(tmp_path / "locks", "cpu", "linux-64")


def test_manifest_and_installers_hold_no_raw_line_break() -> None:
    chosen = select(LOCKS, "cpu", "linux-64")
    text = manifest_text(
        chosen, [{"path": "x", "sha256": "0" * 64, "size": 1, "note": "a\nb\u2028"}]
    )
    assert text.isascii()
    assert "a\nb" not in text
    scripts = render_installers(chosen)
    assert set(scripts) == {"install.sh", "install.ps1"}
    assert "'python3.11'" in scripts["install.sh"]
    assert "@('-3.11')" in scripts["install.ps1"]
    for body in scripts.values():
        assert all(line.isprintable() for line in body.splitlines())
        assert "--require-hashes" in body
        assert "--no-index" in body
