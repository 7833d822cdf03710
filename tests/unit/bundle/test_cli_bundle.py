"""`envgen bundle` and `envgen create --from-bundle` refuse bad input with one line and the
documented exit code, before any download or install."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from envgen.bundle.archive import Member, write_archive
from envgen.bundle.check import MANIFEST, SCHEMA
from envgen.cli import main

LOCKS = Path(__file__).resolve().parents[3] / "locks"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_a_variant_the_lock_set_lacks(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, err = _run(
        capsys,
        "bundle",
        "--lock-dir",
        str(LOCKS),
        "--variants",
        "rocm",
        "--cache-dir",
        str(tmp_path),
    )
    assert code == 2
    assert "--variants: the lock set has no 'rocm'" in err
    assert "available: cpu, cuda12, gpu" in err


def test_no_lock_set(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, err = _run(
        capsys, "bundle", "--lock-dir", str(tmp_path / "none"), "--cache-dir", str(tmp_path)
    )
    assert code == 3
    assert "envgen-lock.toml" in err


def test_an_output_that_is_not_a_bundle_is_kept(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    mine = tmp_path / "notes.tar"
    mine.write_text("my notes\n")
    code, err = _run(
        capsys, "bundle", "--lock-dir", str(LOCKS), "--variants", "cpu", "--platform", "linux-64",
        "--output", str(mine), "--cache-dir", str(tmp_path / "cache"),
    )  # fmt: skip
    assert code == 8
    assert "is not an envgen bundle" in err
    assert mine.read_text() == "my notes\n"
    assert not (tmp_path / "cache").exists()


def test_from_bundle_refuses_what_is_not_a_bundle(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"\x00" * 10 + b"junk" * 100)
    code, err = _run(
        capsys, "create", "--from-bundle", str(junk), "--output-dir", str(tmp_path / "p")
    )
    assert code == 3
    assert "junk.tar" in err
    # Re-resolving would reach an index: refused before the archive is even opened.
    code, err = _run(
        capsys, "create", "--from-bundle", str(junk), "--relock", "--output-dir", str(tmp_path)
    )
    assert code == 2
    assert "--relock would re-resolve it" in err


@pytest.mark.parametrize("name", ["conda", "container"])
def test_from_bundle_needs_a_backend_that_installs_offline(name: str) -> None:
    from envgen.backends import get_backend
    from envgen.bundle import offline_ready
    from envgen.errors import UsageError

    offline_ready(get_backend("venv"), relock=False)
    with pytest.raises(UsageError, match=f"the {name} backend would still reach"):
        offline_ready(get_backend(name), relock=False)


def test_from_bundle_checks_the_lock_set_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Every file matches the manifest, but the lock set has no index to check it against."""
    lock = b"six==1.17.0 \\\n    --hash=sha256:" + b"0" * 64 + b"\n"
    files = {"locks/requirements.cpu-linux-64.txt": lock}
    manifest = {
        "schema": SCHEMA,
        "targets": [{"variant": "cpu", "platform": "linux-64", "python": "3.11",
                     "requirements": "locks/requirements.cpu-linux-64.txt", "files": []}],
        "files": [{"path": p, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)} for p, d in files.items()],
    }  # fmt: skip
    archive = tmp_path / "b.tar"
    members = [Member(p, data=d) for p, d in files.items()]
    write_archive(archive, [*members, Member(MANIFEST, data=json.dumps(manifest).encode())])
    code, err = _run(
        capsys, "create", "--from-bundle", str(archive), "--output-dir", str(tmp_path / "p")
    )
    assert code == 3
    assert "envgen-lock.toml" in err
    # The unpacked copy is removed whatever happened.
    assert [p.name for p in (tmp_path / "p").iterdir()] == []


def test_the_progress_bar_draws_one_line_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from envgen.bundle.select import select
    from envgen.cli.bundle import ProgressBar

    clock = iter([0.0, 1.0, 1.1, 2.0, 3.0])
    monkeypatch.setattr("envgen.cli.bundle.time.monotonic", lambda: next(clock))
    out = io.StringIO()
    bar = ProgressBar(out)
    chosen = select(LOCKS, "cpu", "linux-64")
    bar.begin(chosen)
    half = chosen.wheel_bytes // 2
    bar.advance(chosen.files[0], half)  # drawn (1 s after the start)
    bar.advance(chosen.files[0], 1)  # not drawn: 0.1 s later
    bar.finish()
    frames = out.getvalue().split("\r")[1:]
    assert len(frames) == 2
    assert " 50% " in frames[0]
    assert frames[-1].endswith(" \n")
    assert "\n" not in frames[0]
