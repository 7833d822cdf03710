"""The build stage's prefix discipline and the venv backend's command lines (no processes)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from envgen.backends import (
    COMPLETE_MARKER,
    BuildRequest,
    get_backend,
    index_env,
    is_up_to_date,
    read_marker,
    staged_prefix,
    write_marker,
)
from envgen.backends.venv import VenvBackend, pip_commands, uv_commands
from envgen.errors import FileConflictError, UsageError


def _build(prefix: Path, content: str, *, force: bool = False, input_hash: str = "h1") -> None:
    with staged_prefix(prefix, force=force) as staging:
        (staging / "bin").mkdir()
        (staging / "bin" / "activate").write_text(f'VIRTUAL_ENV="{staging}"\n')
        (staging / "bin" / "tool").write_text(f"#!{staging}/bin/python\nprint('{content}')\n")
        write_marker(staging, {"input-hash": input_hash})


def test_build_swaps_into_place_and_retargets_scripts(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    _build(prefix, "one")
    assert read_marker(prefix) is not None
    assert is_up_to_date(prefix, "h1")
    assert not is_up_to_date(prefix, "h2")
    assert (prefix / "bin" / "tool").read_text().startswith(f"#!{prefix}/bin/python\n")
    assert str(prefix) in (prefix / "bin" / "activate").read_text()
    # A rebuild of an envgen prefix replaces it; no temporary siblings remain.
    _build(prefix, "two", input_hash="h2")
    assert "two" in (prefix / "bin" / "tool").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env"]


def test_interrupted_build_leaves_nothing_that_looks_ready(tmp_path: Path) -> None:
    prefix = tmp_path / "env"

    def interrupted() -> None:
        with staged_prefix(prefix, force=False) as staging:
            (staging / "half").write_text("")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert not prefix.exists()
    assert list(tmp_path.iterdir()) == []
    # A backend that forgets the marker does not get its prefix swapped in either.
    with pytest.raises(RuntimeError, match="completion marker"), staged_prefix(prefix, force=False):
        pass
    assert not prefix.exists()


def test_existing_build_survives_a_failed_rebuild(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    _build(prefix, "one")
    with pytest.raises(OSError, match="disk full"), staged_prefix(prefix, force=False):
        raise OSError("disk full")
    assert "one" in (prefix / "bin" / "tool").read_text()


def test_leftovers_of_a_killed_build_are_removed(tmp_path: Path) -> None:
    (tmp_path / ".env.envgen-tmp-abc123").mkdir()
    _build(tmp_path / "env", "one")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env"]


def test_foreign_directory_needs_force(tmp_path: Path) -> None:
    prefix = tmp_path / "myproject"
    prefix.mkdir()
    (prefix / "notes.txt").write_text("mine")
    with pytest.raises(FileConflictError, match="not built by envgen"):
        _build(prefix, "one")
    assert (prefix / "notes.txt").exists()
    _build(prefix, "one", force=True)
    assert (prefix / COMPLETE_MARKER).exists()
    # An empty directory is fine without --force.
    (tmp_path / "empty").mkdir()
    _build(tmp_path / "empty", "one")


def test_registry() -> None:
    assert isinstance(get_backend("venv"), VenvBackend)
    with pytest.raises(UsageError) as info:
        get_backend("podman")
    assert info.value.hint == "available: conda, container, venv"


def test_uv_and_pip_command_lines(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    request = BuildRequest(
        prefix=tmp_path / "env",
        python="3.11",
        lock=lock,
        index_url="https://pypi.tuna.tsinghua.edu.cn/simple",
    )
    venv, install = uv_commands("uv", request, tmp_path / "stage")
    assert venv == ["uv", "venv", "--quiet", "--python", "3.11", str(tmp_path / "stage")]
    # no --quiet: uv's summary lines time each phase of the install
    assert install[:4] == ["uv", "pip", "install", "--compile-bytecode"]
    assert "--quiet" not in install
    assert install[-3:] == ["--require-hashes", "-r", str(lock)]
    # The index reaches the installer through its environment, never argv (it may hold a login).
    assert not any("tuna" in arg for arg in install)
    env = index_env(request, "uv")
    assert env is not None
    assert env["UV_INDEX_URL"] == "https://pypi.tuna.tsinghua.edu.cn/simple"
    assert "PIP_INDEX_URL" not in env or env["PIP_INDEX_URL"] == os.environ.get("PIP_INDEX_URL")
    plain = BuildRequest(prefix=tmp_path / "env", python="3.11", requirements=("six==1.17.0",))
    _, pip_install = pip_commands("/usr/bin/python3.11", plain, tmp_path / "stage")
    assert pip_install[0] == str(tmp_path / "stage" / "bin" / "python")
    assert pip_install[-1] == "six==1.17.0"
    assert "--require-hashes" not in pip_install


def test_input_hash_follows_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "r.lock"
    lock.write_text("six==1.17.0 --hash=sha256:aa\n")
    request = BuildRequest(prefix=tmp_path / "env", python="3.11", lock=lock)
    first = request.input_hash()
    lock.write_text("six==1.16.0 --hash=sha256:bb\n")
    assert request.input_hash() != first


def test_nothing_to_install(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="nothing to install"):
        VenvBackend().build(BuildRequest(prefix=tmp_path / "env", python="3.11"))


def test_offline_command_lines_read_the_folder_alone(tmp_path: Path) -> None:
    """A bundle's install: uv reaches no network (--offline), no index (--no-index), only the
    bundle's wheels (--find-links); the fields do not change what the prefix is built from."""
    from envgen.backends import install_hint

    lock = tmp_path / "requirements.lock"
    lock.write_text("six==1.17.0 --hash=sha256:aa\n")
    wheels = tmp_path / "bundle" / "wheels"
    online = BuildRequest(prefix=tmp_path / "env", python="3.11", lock=lock)
    offline = BuildRequest(
        prefix=tmp_path / "env", python="3.11", lock=lock, find_links=wheels, offline=True
    )
    venv, install = uv_commands("uv", offline, tmp_path / "stage")
    assert venv[:4] == ["uv", "venv", "--quiet", "--offline"]
    assert install[:4] == ["uv", "pip", "install", "--offline"]
    assert install[-6:] == [
        "--no-index", "--find-links", str(wheels), "--require-hashes", "-r", str(lock),
    ]  # fmt: skip
    _, pip_install = pip_commands("/usr/bin/python3.11", offline, tmp_path / "stage")
    assert pip_install[-6:-3] == ["--no-index", "--find-links", str(wheels)]
    assert "--offline" not in uv_commands("uv", online, tmp_path / "stage")[1]
    assert offline.input_hash() == online.input_hash()
    assert "envgen bundle" in install_hint(offline)


@pytest.mark.parametrize(
    ("failing", "offline", "from_index"),
    [("install", False, True), ("install", True, False), ("venv", False, False)],
)
def test_a_failed_install_says_whether_it_read_an_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str, offline: bool, from_index: bool
) -> None:
    """The venv backend marks the error of the step that reads the index (`from_index`), so
    create names the next mirror without matching the hint's words; never when offline."""
    from envgen.errors import ExternalToolError

    def run(argv: list[str], **_: object) -> None:
        if (argv[1] == "venv") == (failing == "venv"):
            raise ExternalToolError(f"{argv[0]} {argv[1]} failed", hint="whatever it says")

    monkeypatch.setattr("envgen.backends.venv.find_uv", lambda: "uv")
    monkeypatch.setattr("envgen.proc.run", run)
    lock = tmp_path / "requirements.lock"
    lock.write_text("six==1.17.0 --hash=sha256:aa\n")
    request = BuildRequest(
        prefix=tmp_path / "env",
        python="3.11",
        lock=lock,
        find_links=tmp_path if offline else None,
        offline=offline,
    )
    with pytest.raises(ExternalToolError) as info:
        VenvBackend().build(request)
    assert info.value.from_index is from_index
    assert not (tmp_path / "env").exists()


def test_from_pypi_uv_installs_the_pylock_itself(tmp_path: Path) -> None:
    """No mirror, no bundle: uv takes the pylock's own URLs and hashes (no index page read
    before the downloads start). A mirror serves other URLs, so it gets the requirements."""
    lock, pylock = tmp_path / "requirements.cpu-linux-64.txt", tmp_path / "pylock.cpu-linux-64.toml"
    lock.write_text("six==1.17.0 --hash=sha256:" + "0" * 64 + "\n")
    pylock.write_text('lock-version = "1.0"\n')
    direct = BuildRequest(prefix=tmp_path / "env", python="3.11", lock=lock, pylock=pylock)
    _, install = uv_commands("uv", direct, tmp_path / "stage")
    assert install[-4:] == ["--preview-features", "pylock", "-r", str(pylock)]
    assert "--require-hashes" not in install
    mirrored = BuildRequest(
        prefix=tmp_path / "env",
        python="3.11",
        lock=lock,
        pylock=pylock,
        index_url="https://pypi.tuna.tsinghua.edu.cn/simple",
    )
    assert not mirrored.direct_from_pylock
    assert uv_commands("uv", mirrored, tmp_path / "stage")[1][-3:] == [
        "--require-hashes", "-r", str(lock),
    ]  # fmt: skip
    # pip cannot read PEP 751: it keeps the hashed requirements
    assert pip_commands("python3.11", direct, tmp_path / "stage")[1][-2:] == ["-r", str(lock)]
    # what is installed is hashed: an edited pylock means a rebuild
    before = direct.input_hash()
    pylock.write_text('lock-version = "1.0"\n# edited\n')
    assert direct.input_hash() != before
    assert mirrored.input_hash() == mirrored.input_hash()
