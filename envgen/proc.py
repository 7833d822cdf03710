"""The one gate through which envgen starts external programs.

Every subprocess goes through `run()`: it applies a timeout, logs the command, and turns the ways a
program can fail (missing, timed out, non-zero exit) into `ExternalToolError` with the tail of its
output. What it logs or quotes is redacted first (envgen.credentials): a URL's login, in an
argument or in what the program printed, never reaches a log line or an error. Unit tests forbid
subprocesses by patching `subprocess.Popen` in one autouse fixture; this module is the only
production caller, so the guard covers everything.

On Linux every child is asked to die with envgen (`PR_SET_PDEATHSIG`): when envgen is killed
(SIGKILL, the OOM killer, a CI job cancelled), an installer it started must not keep writing
into a staging directory that the next run deletes and rebuilds. Ctrl-C needs no help:
`subprocess.run` kills the child itself when KeyboardInterrupt interrupts the wait.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from envgen.credentials import redact
from envgen.errors import ExternalToolError

log = logging.getLogger(__name__)

# How much of a failing command's output to quote in the one-line error: enough for the last
# meaningful line of pip/uv/podman output, short enough to stay readable.
_TAIL_CHARS = 400


@dataclass(frozen=True)
class Completed:
    """What a finished command left behind."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def summary(text: str) -> str:
    """A program's output as one line: its first line (the headline: uv's `error: …`, podman's
    `Error: …`) and its last (the root cause that uv's `cause:` and rattler's `Caused by:`
    chains end with), each cut to a readable length; an error message must stay one line."""
    # Redacted before it is cut, so that a cut cannot split a URL from its `://`.
    lines = [" ".join(line.split()) for line in redact(text).splitlines() if line.strip()]
    if not lines:
        return "no output"
    half = _TAIL_CHARS // 2
    first = lines[0] if len(lines[0]) <= half else lines[0][:half] + "…"
    if len(lines) == 1:
        return first
    # The root cause sits at the end of the last line ("... No space left on device").
    last = lines[-1] if len(lines[-1]) <= half else "…" + lines[-1][-half:]
    return f"{first} … {last}"


# prctl(2) option: the signal a process receives when the thread that started it ends.
_PR_SET_PDEATHSIG = 1


@functools.cache
def _die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` giving the child PR_SET_PDEATHSIG = SIGKILL (Linux only; else None).

    prctl is looked up here, in the parent, so that the child between fork and exec makes one
    foreign call and nothing else. The parent's pid is checked after the call: had envgen died
    before it, no signal would ever come.
    """
    # The Linux half sits inside one `if`, with no early return before it: mypy --platform
    # darwin/win32 then skips it instead of calling the rest of the function unreachable.
    found: Callable[[], None] | None = None
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            return None

        def preexec() -> None:
            parent = os.getppid()
            prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGKILL)

        found = preexec
    return found


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    input_text: str | None = None,
    show_progress: bool = False,
    hint: str = "",
) -> Completed:
    """Run `argv` to completion and capture its text output.

    `check=False` returns non-zero exits to the caller (detectors treat them as "no answer");
    a missing program or a timeout always raises, because the caller cannot act on partial output.
    `show_progress` also copies stderr to envgen's own, line by line as it comes (redacted), so
    a long download or install (uv) shows what it is doing while the caller still reads its
    summary. `hint` is the caller's advice for a failed run (the index or channel to try
    instead), shown under the one-line error.
    """
    log.debug("run: %s", redact(" ".join(argv)))
    options: dict[str, Any] = {
        "stdout": subprocess.PIPE,
        "stderr": subprocess.PIPE,
        "text": True,
        "errors": "replace",
        "env": None if env is None else dict(env),
        "cwd": cwd,
        # One prctl call between fork and exec (see _die_with_parent); safe with threads.
        "preexec_fn": _die_with_parent(),
    }
    try:
        if show_progress:
            proc = _echoing(argv, options, timeout=timeout, input_text=input_text)
        else:
            proc = subprocess.run(
                list(argv), **options, timeout=timeout, input=input_text, check=False
            )
    except FileNotFoundError as exc:
        raise ExternalToolError(
            f"{redact(argv[0])} is not installed or not on PATH", hint="install it, or check PATH"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise ExternalToolError(
            f"{redact(argv[0])} did not finish within {timeout:g} s",
            hint=hint or "it may be hung; retry or kill it",
        ) from exc
    except OSError as exc:
        # Found but not runnable: no execute permission, a wrong architecture, a bad interpreter.
        raise ExternalToolError(
            f"cannot run {redact(argv[0])}: {exc.strerror or exc}",
            hint="check the file and its permissions",
        ) from exc
    done = Completed(tuple(argv), proc.returncode, proc.stdout, proc.stderr or "")
    if check and proc.returncode != 0:
        name = redact(" ".join([PurePath(argv[0]).name, *argv[1:3]]))
        raise ExternalToolError(
            f"{name} failed with exit code {proc.returncode}: "
            f"{summary(proc.stderr or proc.stdout)}",
            hint=hint,
        )
    return done


def _echoing(
    argv: Sequence[str], options: dict[str, Any], *, timeout: float, input_text: str | None
) -> subprocess.CompletedProcess[str]:
    """`subprocess.run` whose stderr is shown as it comes and kept: one thread per pipe (so
    neither fills and blocks the child), the child killed on a timeout or an interrupt."""
    stdin = subprocess.PIPE if input_text is not None else None
    out: list[str] = []
    err: list[str] = []
    # The context closes every pipe, whatever happens below.
    with subprocess.Popen(list(argv), stdin=stdin, **options) as proc:

        def read_out() -> None:
            assert proc.stdout is not None
            out.append(proc.stdout.read())

        def read_err() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                err.append(line)
                sys.stderr.write(redact(line))
                sys.stderr.flush()

        readers = [threading.Thread(target=f, daemon=True) for f in (read_out, read_err)]
        for reader in readers:
            reader.start()
        try:
            if input_text is not None and proc.stdin is not None:
                with proc.stdin:
                    proc.stdin.write(input_text)
            proc.wait(timeout=timeout)
        except BaseException as exc:
            proc.kill()
            proc.wait()
            if isinstance(exc, subprocess.TimeoutExpired):
                raise subprocess.TimeoutExpired(list(argv), timeout) from None
            raise
        finally:
            for reader in readers:
                reader.join(timeout=5)
    return subprocess.CompletedProcess(list(argv), proc.returncode, "".join(out), "".join(err))
