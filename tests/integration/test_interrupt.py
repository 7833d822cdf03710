"""`envgen create` interrupted, killed, raced and starved, for real (issue 11, section 7).

Each test starts `python -m envgen create` as a subprocess in a session of its own and acts on
what the run is really doing, never on a guess of how long it takes: the phase is read from its
stderr stage lines and from the file system (the staging directory beside the prefix, the uv
cache, site-packages, the probe process). After every interruption:

* nothing looks ready: no completion marker where the prefix is, no verification report;
* nothing is left running (every process of the run's session is gone);
* the next run recovers and, in the end, verifies a working TensorFlow environment.

The download phase needs a cold cache, so the two kill sequences (Ctrl-C, SIGKILL) each start
from an empty uv cache of their own and download TensorFlow CPU once (~330 MB); the install
phase is slowed to a copy (UV_LINK_MODE=copy, ~10 s) so that it can be caught at all, since
hard links from a warm cache install in half a second.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from envgen.backends import COMPLETE_MARKER, read_marker

pytestmark = pytest.mark.integration

# POSIX signals, process groups and root throughout (integration tests run on Linux, .ci/run);
# the assert also tells mypy --platform win32 to skip the rest of the file.
assert sys.platform != "win32"

ROOT = Path(__file__).resolve().parents[2]
PREFIX = ".venv"
REPORT = "verify-report.json"
# A generous bound for any one phase to begin, on a loaded 2-core machine with a cold cache.
PHASE_TIMEOUT_S = 600.0
POLL_S = 0.05


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}
    env.pop("VIRTUAL_ENV", None)
    return env


def _ctrl_c_as_at_a_terminal() -> None:
    # A shell starts background jobs with SIGINT ignored, and the ignoring is inherited through
    # exec (Python then installs no KeyboardInterrupt handler): a test session started that way
    # would run envgen deaf to Ctrl-C. A user at a terminal has the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Run:
    """One `envgen create` in its own session, its stderr collected line by line as it comes."""

    def __init__(
        self,
        project: Path,
        *args: str,
        env: dict[str, str] | None = None,
        wrap: tuple[str, ...] = (),
        as_json: bool = True,
    ) -> None:
        """`wrap` goes before the command (a mount namespace that makes a folder read-only);
        `as_json=False` gives the human output, where an error is a line on stderr."""
        self.project = project
        argv = [sys.executable, "-m", "envgen", "create", "--target", "cpu", *args]
        if as_json:
            argv.append("--json")
        self.proc = subprocess.Popen(
            [*wrap, *argv, "--output-dir", str(project)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env or _env(),
            start_new_session=True,  # its own process group and session: Ctrl-C goes to all
            preexec_fn=_ctrl_c_as_at_a_terminal,  # noqa: PLW1509 (one signal() call in the child)
        )
        self.lines: list[str] = []
        self.stdout = ""
        self._readers = [
            threading.Thread(target=self._read_stderr, daemon=True),
            threading.Thread(target=self._read_stdout, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        self.stdout = self.proc.stdout.read()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def said(self, start: str) -> bool:
        return any(line.startswith(start) for line in list(self.lines))

    def wait_for(self, what: str, condition: Callable[[], bool]) -> None:
        """Poll `condition` until it holds; fail (and stop the run) if the run ends first."""
        deadline = time.monotonic() + PHASE_TIMEOUT_S
        while not condition():
            if self.proc.poll() is not None:
                self.finish()
                pytest.fail(f"create ended before {what}: rc {self.proc.returncode}\n{self.text}")
            if time.monotonic() > deadline:
                self.proc.kill()
                self.finish()
                pytest.fail(f"no {what} within {PHASE_TIMEOUT_S:g} s\n{self.text}")
            time.sleep(POLL_S)

    def interrupt(self) -> None:
        """Ctrl-C as a terminal sends it: SIGINT to every process of the foreground group."""
        os.killpg(self.pid, signal.SIGINT)

    def kill(self) -> None:
        """kill -9 of envgen alone (the OOM killer, a runner cancelling a job): no cleanup runs."""
        os.kill(self.pid, signal.SIGKILL)

    def finish(self, timeout: float = PHASE_TIMEOUT_S) -> int:
        code = self.proc.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=30)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()
        return code

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def result(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.stdout)
        return data


# --- what is on disk and in the process table --------------------------------------------------


def _staging(project: Path) -> Path | None:
    """The staging directory beside the prefix (`.<name>.envgen-tmp-*`), if any.

    A killed run's leftover may sit there as well until the next run removes it; the phase
    checks below hold for the leftover of an earlier phase only where that phase is over."""
    found = sorted(project.glob(f".{PREFIX}.envgen-tmp-*"))
    return found[-1] if found else None


def _site_packages(env: Path | None) -> Path | None:
    if env is None:
        return None
    found = sorted(env.glob("lib/python3*/site-packages"))
    return found[0] if found else None


def _installed(site: Path | None) -> bool:
    """Has the installer put anything into site-packages (beyond what `uv venv` writes)?"""
    return site is not None and any(site.glob("*.dist-info"))


def _compiling(site: Path | None) -> bool:
    # uv compiles only after every package is in place; wheels ship no __pycache__ of their own.
    return site is not None and any(site.glob("*/__pycache__"))


def _size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):  # renamed into place by uv meanwhile
                total += (Path(root) / name).lstat().st_size
    return total


def _session(sid: int) -> list[str]:
    """Command lines of the live processes of session `sid` (the run and all it started)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        # After the comm field: state, ppid, pgrp, session. Zombies are dead already.
        if int(fields[3]) == sid and fields[0] != "Z":
            out.append(cmdline.replace(b"\0", b" ").decode(errors="replace").strip())
    return out


def _probing(sid: int) -> bool:
    """Is the verification probe (envgen/verify/probe.py) running in the new environment?"""
    return any("probe.py" in cmd for cmd in _session(sid))


def _nothing_left_running(sid: int) -> None:
    deadline = time.monotonic() + 10
    while (left := _session(sid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == [], f"still running after the run ended: {left}"


def _siblings(project: Path) -> list[str]:
    """What sits beside the prefix: the prefix itself, and leftovers or a lock of a build."""
    return sorted(p.name for p in project.iterdir() if p.name.lstrip(".").startswith("venv"))


def _nothing_looks_ready(project: Path) -> None:
    prefix = project / PREFIX
    assert read_marker(prefix) is None, "a killed build left a prefix that looks ready"
    assert not (prefix / REPORT).exists()
    for leftover in project.glob(f".{PREFIX}.envgen-*"):
        assert not (leftover / COMPLETE_MARKER).exists(), leftover


def _stopped(run: Run, how: str) -> None:
    """The run ended the way `how` ends it: Ctrl-C cleanly (130, one line), a kill abruptly."""
    code = run.finish()
    if how == "SIGINT":
        assert code == 130, run.text
        assert run.lines[-1] == "envgen: interrupted", run.text
        assert "Traceback" not in run.text
        # The handler cleaned up: no staging directory, no lock file.
        assert _siblings(run.project) in ([], [PREFIX]), _siblings(run.project)
    else:
        assert code == -signal.SIGKILL, run.text
    _nothing_left_running(run.pid)


# --- the kill sequences -------------------------------------------------------------------------


@pytest.fixture
def cold_cache(tmp_path: Path) -> Iterator[Path]:
    cache = tmp_path / "uv-cache"
    cache.mkdir()
    yield cache
    shutil.rmtree(cache, ignore_errors=True)


@pytest.mark.parametrize("how", ["SIGINT", "SIGKILL"])
def test_create_stopped_in_each_phase_then_a_rerun_recovers(
    how: str, tmp_path: Path, cold_cache: Path
) -> None:
    project = tmp_path / "project"
    stop = Run.interrupt if how == "SIGINT" else Run.kill
    env = _env(UV_CACHE_DIR=str(cold_cache))
    figures: dict[str, float] = {}

    # 1. Download: the installer is filling an empty cache; nothing is installed yet.
    start = time.monotonic()
    run = Run(project, env=env)
    run.wait_for(
        "the download",
        lambda: (
            run.said("envgen: build")
            and _site_packages(_staging(project)) is not None
            and _size(cold_cache) > 20 << 20
            and not _installed(_site_packages(_staging(project)))
        ),
    )
    stop(run)
    _stopped(run, how)
    _nothing_looks_ready(project)
    figures["download"] = time.monotonic() - start

    # 2. Install: packages are being copied into site-packages; nothing compiled yet. The run
    # first recovers from step 1 (its leftovers) and finishes the download.
    start = time.monotonic()
    run = Run(project, env={**env, "UV_LINK_MODE": "copy"})
    run.wait_for(
        "the install",
        lambda: (
            _installed(_site_packages(_staging(project)))
            and not _compiling(_site_packages(_staging(project)))
        ),
    )
    stop(run)
    _stopped(run, how)
    _nothing_looks_ready(project)
    figures["install"] = time.monotonic() - start

    # 3. Bytecode compilation.
    start = time.monotonic()
    run = Run(project, env=env)
    run.wait_for("bytecode compilation", lambda: _compiling(_site_packages(_staging(project))))
    stop(run)
    _stopped(run, how)
    _nothing_looks_ready(project)
    figures["compile"] = time.monotonic() - start

    # 4. Nothing stops it: the run recovers from step 3, builds and verifies.
    start = time.monotonic()
    run = Run(project, env=env)
    assert run.finish() == 0, run.text
    assert run.result()["verify"]["ok"] is True
    assert json.loads((project / PREFIX / REPORT).read_text())["ok"] is True
    figures["full run"] = time.monotonic() - start

    # 5. Verification of that environment, stopped: the build stays (its marker is the build's
    # to give), the earlier "ok" report does not: nothing claims the environment works. With
    # nothing changed a re-run would prove it quickly from step 4's record, without a probe to
    # stop; --full asks for the probe, and a full verification begun drops that record.
    start = time.monotonic()
    run = Run(project, "--full", env=env)
    run.wait_for("the verification", lambda: run.said("envgen: verify") and _probing(run.pid))
    stop(run)
    _stopped(run, how)
    assert read_marker(project / PREFIX) is not None
    assert not (project / PREFIX / REPORT).exists()
    assert not (project / PREFIX / ".envgen-verified.json").exists()
    figures["verify"] = time.monotonic() - start

    # 6. The re-run: the build is reused, the verification done; nothing is left beside it.
    start = time.monotonic()
    run = Run(project, env=env)
    assert run.finish() == 0, run.text
    result = run.result()
    steps = {s["stage"]: s["result"] for s in result["steps"]}
    assert "reused" in steps["build"]
    assert result["verify"]["ok"] is True
    assert json.loads((project / PREFIX / REPORT).read_text())["ok"] is True
    assert _siblings(project) == [PREFIX]
    figures["rerun"] = time.monotonic() - start
    print(f"figures ({how}, s):", {k: round(v, 1) for k, v in figures.items()})


def test_a_killed_envgen_takes_its_children_with_it() -> None:
    # The rule under the SIGKILL sequence, on its own: envgen.proc.run's children die with it.
    code = "from envgen.proc import run; run(['sleep', '600'], timeout=900)"
    proc = subprocess.Popen([sys.executable, "-c", code], env=_env(), start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not any(cmd.startswith("sleep") for cmd in _session(proc.pid)):
            assert time.monotonic() < deadline, "sleep never started"
            time.sleep(POLL_S)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        _nothing_left_running(proc.pid)
    finally:
        if _session(proc.pid):  # the test failed: do not leave the sleep behind
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def test_a_lock_set_that_is_not_what_its_index_records_is_never_installed(
    tmp_path: Path,
) -> None:
    """A lock set is written all or nothing (a run killed mid-write leaves the old set or the new
    one, envgen.files.write_set); a lock file that still differs from its index was edited, and
    is refused in every mode until the set is re-locked."""
    project = tmp_path / "project"
    requirements = project / "locks" / "requirements.cpu-linux-64.txt"

    def locked_then_stopped(*args: str) -> bytes:
        run = Run(project, *args, "--no-verify")
        run.wait_for("the build", lambda: run.said("envgen: build"))
        run.interrupt()
        assert run.finish() == 130, run.text
        return requirements.read_bytes()

    start = time.monotonic()
    earlier = locked_then_stopped("--tensorflow", "2.20")
    current = locked_then_stopped("--relock", "--tensorflow", "2.21")  # replaces the 2.20 set
    assert earlier != current
    requirements.write_bytes(earlier)  # an older file under the newer index
    edited = f"{requirements} was edited (sha256 differs from the index)"
    for mode in ("--locked", "--frozen"):
        _one_line_error(Run(project, mode, "--no-verify", as_json=False), 3, edited)
    _one_line_error(Run(project, "--no-verify", as_json=False), 3, edited)
    # Re-locking recovers: the set is written anew, and the build gets the right file.
    again = Run(project, "--relock", "--tensorflow", "2.21", "--no-verify")
    again.wait_for("the build", lambda: again.said("envgen: build"))
    again.interrupt()
    assert again.finish() == 130, again.text
    assert requirements.read_bytes() == current
    print("figures (s):", {"five runs": round(time.monotonic() - start, 1)})


# --- two runs into one prefix -------------------------------------------------------------------


def test_a_second_create_waits_or_refuses(tmp_path: Path) -> None:
    project = tmp_path / "project"
    first = Run(project)
    first.wait_for(
        "the build", lambda: first.said("envgen: build") and _staging(project) is not None
    )

    # --wait 0 refuses at once, in one line naming the holder, and changes nothing.
    refused = Run(project, "--wait", "0", "--no-verify", as_json=False)
    assert refused.finish(timeout=120) == 8, refused.text
    errors = [line for line in refused.lines if line.startswith("envgen: error:")]
    holder = f"another envgen (pid {first.pid})"
    assert errors == [
        f"envgen: error: {project.absolute() / PREFIX} is being built or verified by {holder}"
    ], refused.text
    assert "Traceback" not in refused.text

    # The default waits, says so once, and finds the environment built when its turn comes.
    waiting = Run(project, "--no-verify")
    waiting.wait_for("the wait", lambda: waiting.said("envgen: build   waiting for"))
    assert waiting.proc.poll() is None

    # The lock covers the verification too: nobody swaps the prefix under the probe.
    first.wait_for("the verification", lambda: first.said("envgen: verify") and _probing(first.pid))
    late = Run(project, "--wait", "0", "--no-verify", as_json=False)
    assert late.finish(timeout=120) == 8, late.text
    assert waiting.proc.poll() is None

    assert first.finish() == 0, first.text
    finished_first = time.monotonic()
    assert waiting.finish() == 0, waiting.text
    assert time.monotonic() >= finished_first
    steps = {s["stage"]: s["result"] for s in waiting.result()["steps"]}
    assert "reused" in steps["build"]
    assert sum("waiting for another envgen" in line for line in waiting.lines) == 1
    assert _siblings(project) == [PREFIX]


# --- where create cannot write ------------------------------------------------------------------


def _one_line_error(run: Run, code: int, message: str) -> None:
    assert run.finish(timeout=120) == code, run.text
    assert "Traceback" not in run.text
    errors = [line for line in run.lines if line.startswith("envgen: error:")]
    assert len(errors) == 1, run.text
    assert message in errors[0], run.text


def test_an_output_path_that_is_a_file(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    start = time.monotonic()
    _one_line_error(Run(afile, as_json=False), 8, f"output directory {afile} is a file")
    _one_line_error(Run(afile / "sub", as_json=False), 8, f"cannot be made: {afile} is a file")
    project = tmp_path / "project"
    _one_line_error(
        Run(project, "--prefix", str(afile), as_json=False), 8, f"prefix {afile} is a file"
    )
    # Refused before any stage ran: no lock resolved, nothing written, the file untouched.
    assert not project.exists()
    assert afile.read_text() == "mine\n"
    print("figures (s):", {"three refusals": round(time.monotonic() - start, 1)})


def _read_only(directory: Path) -> tuple[str, ...]:
    """A command prefix under which `directory` is read-only for envgen (and only for it)."""
    if os.geteuid() != 0:
        directory.chmod(0o555)  # ordinary users are held by permissions
        return ()
    # root ignores permissions: a read-only bind mount in a mount namespace of the run's own
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is needed to make a read-only folder as root")
    probe = ["unshare", "--mount", "--propagation", "private", "true"]
    if subprocess.run(probe, capture_output=True, check=False).returncode != 0:
        pytest.skip("mount namespaces are not allowed here")
    script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"'
    return ("unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(directory))


def test_a_read_only_output_folder(tmp_path: Path) -> None:
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    wrap = _read_only(readonly)
    reason = "Read-only file system" if wrap else "Permission denied"

    _one_line_error(
        Run(readonly, wrap=wrap, as_json=False),
        3,
        f"cannot write output directory {readonly}: {reason}",
    )
    # The environment's folder read-only, the project writable: refused before any stage too.
    project = tmp_path / "project"
    _one_line_error(
        Run(project, "--prefix", str(readonly / "env"), wrap=wrap, as_json=False),
        3,
        f"cannot write prefix {readonly / 'env'}: {reason}",
    )
    assert not project.exists()
    assert list(readonly.iterdir()) == []


# --- a full disk ----------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], None]]:
    """A tmpfs at tmp_path/disk; the fixture's value resizes it (`resize("48m")`). Root only."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "envgen-test", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")

    def resize(size: str) -> None:
        argv = ["mount", "-o", f"remount,size={size}", str(disk)]
        subprocess.run(argv, check=True, capture_output=True)

    try:
        yield resize
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False, capture_output=True)


def test_a_full_disk_then_room_again(tmp_path: Path, small_disk: Callable[[str], None]) -> None:
    project = tmp_path / "disk"
    figures: dict[str, float] = {}

    # 64 KiB: the lock set does not fit. The write that fails leaves no half file behind.
    start = time.monotonic()
    run = Run(project, as_json=False)
    _one_line_error(run, 3, "No space left on device")
    assert not [p for p in project.rglob(".*") if p.name != PREFIX], list(project.rglob("*"))
    _nothing_looks_ready(project)
    figures["lock set"] = time.monotonic() - start

    # 48 MiB: the files fit, TensorFlow does not: the installer fails, the staging goes.
    small_disk("48m")
    start = time.monotonic()
    run = Run(project, as_json=False)
    _one_line_error(run, 5, "No space left on device")
    _nothing_looks_ready(project)
    assert _siblings(project) == []
    _nothing_left_running(run.pid)
    figures["install"] = time.monotonic() - start

    # Room again: the same command recovers.
    small_disk("4g")
    start = time.monotonic()
    run = Run(project)
    assert run.finish() == 0, run.text
    assert run.result()["verify"]["ok"] is True
    assert _siblings(project) == [PREFIX]
    figures["rerun"] = time.monotonic() - start
    print("figures (s):", {k: round(v, 1) for k, v in figures.items()})
