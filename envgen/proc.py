"""The one gate through which envgen starts external programs.

Every subprocess goes through `run()`: it applies a timeout, logs the command, and turns the ways a
program can fail (missing, timed out, non-zero exit) into `ExternalToolError` with the tail of its
output. What it logs or quotes is redacted first (envgen.credentials): a URL's login, in an
argument or in what the program printed, never reaches a log line or an error. Unit tests forbid
subprocesses by patching `subprocess.Popen` in one autouse fixture; this module is the only
production caller, so the guard covers everything.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Mapping, Sequence
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
    cut = [ln if len(ln) <= _TAIL_CHARS // 2 else ln[: _TAIL_CHARS // 2] + "…" for ln in lines]
    return cut[0] if len(cut) == 1 else f"{cut[0]} … {cut[-1]}"


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
