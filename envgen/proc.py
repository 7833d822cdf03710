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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath

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
    `show_progress` leaves stderr on the terminal, so a long download or install (uv) shows its
    own progress bars; the error message then cannot quote it. `hint` is the caller's advice
    for a failed run (the index or channel to try instead), shown under the one-line error.
    """
    log.debug("run: %s", redact(" ".join(argv)))
    try:
        proc = subprocess.run(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=None if show_progress else subprocess.PIPE,
            text=True,
            errors="replace",
            timeout=timeout,
            env=None if env is None else dict(env),
            cwd=cwd,
            input=input_text,
            check=False,
            # One prctl call between fork and exec (see _die_with_parent); safe with threads.
            preexec_fn=_die_with_parent(),
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
