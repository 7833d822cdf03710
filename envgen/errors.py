"""One error hierarchy, one exit code per class.

Every failure a user can cause or meet is an `EnvgenError` subclass with its own exit code, so scripts
can tell "your profile file is malformed" from "no TensorFlow fits this machine" without parsing text.
The CLI prints `message` as one line and `hint` as a second; a traceback only with `--debug`.
Codes 1 (unexpected bug) and 130 (interrupted) are reserved for the CLI itself; under `--json`
they too are an envelope on stdout (error codes "internal" and "interrupted"), as is a command
line argparse refuses (exit 2, "usage").
"""

from __future__ import annotations

import re
from typing import Any

# Characters no value may carry into an output, and no message may print raw: C0 and C1 control
# characters (tab, CR and LF among them, and the escape that starts terminal sequences), DEL,
# Unicode's line and paragraph separators (line breaks to some editors and YAML), and lone
# surrogates (which cannot be encoded as UTF-8 when printed). Readers refuse values holding one
# (envgen.documents); a message quoting a path or value holding one shows it escaped, so it stays
# one line whatever reached it.
UNSAFE_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def one_line(text: str) -> str:
    """`text` with every unsafe character escaped as repr() writes it (`\\n`, `\\x1b`)."""
    return UNSAFE_CHARS.sub(lambda m: repr(m.group())[1:-1], text)


class EnvgenError(Exception):
    """Base class: a failure with a stable code, a one-line message and an actionable hint."""

    exit_code = 1
    code = "error"

    def __init__(self, message: str, *, hint: str = "") -> None:
        message, hint = one_line(message), one_line(hint)
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(EnvgenError):
    """The command line (or an ENVGEN_* variable standing in for a flag) is invalid."""

    exit_code = 2
    code = "usage"


class OptionError(UsageError):
    """One option's value is invalid. `option` is its name (the argparse dest); the CLI reports
    it under the name the value was set by (flag, ENVGEN_* variable or [tool.envgen] key, see
    `settings.named`), so validators need not know where a value came from."""

    def __init__(self, option: str, problem: str, *, hint: str = "") -> None:
        super().__init__(f"--{option.replace('_', '-')}: {problem}", hint=hint)
        self.option = option
        self.problem = problem


class InputFileError(EnvgenError):
    """A file the user gave us (profile, config, lock, log) cannot be read or is malformed.

    A lock file whose sha256 differs from the one its index (`envgen-lock.toml`) recorded is
    one too: it is not the file `envgen lock` wrote, so nothing is installed from it. (A lock
    that is intact but no longer matches the plan is a stale lock: `VerificationError`.)
    """

    exit_code = 3
    code = "bad-input"


class NoSolutionError(EnvgenError):
    """No candidate satisfies every hard constraint; `remedies` lists ways out, cheapest first,
    `rejections` every candidate refused with its reasons ({"candidate", "reasons"}). Every
    command reports it the same way: one JSON shape, one human form, exit 4."""

    exit_code = 4
    code = "no-solution"

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        remedies: list[str] | None = None,
        rejections: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.remedies = list(remedies or [])
        self.rejections = list(rejections or [])


class ExternalToolError(EnvgenError):
    """Something outside envgen failed: a program it runs (uv, pip, podman, nvidia-smi, ...)
    failed or timed out, py-rattler could not read a conda channel or fetch a package, or a
    network resource (a package index, PyPI's JSON) did not answer. The hint names what to try
    instead (another --mirror, a mirror's --conda-channel, --channel pip)."""

    exit_code = 5
    code = "external-tool"
    from_index = False
    """True where the step that failed was installing packages from an index (PyPI or a
    mirror): set by that step (`envgen.backends.from_index`), so a caller can name another
    mirror to try without reading the hint's words."""


class VerificationError(EnvgenError):
    """An environment was built or found but does not pass verification."""

    exit_code = 6
    code = "verification-failed"


class KnowledgeBaseError(EnvgenError):
    """A knowledge-base data file violates its schema; this is a bug in envgen's data."""

    exit_code = 7
    code = "knowledge-base"


class StaleLockError(EnvgenError):
    """A committed lock set no longer matches its inputs (the request, the knowledge base's plan,
    an edited file); `changes` names each difference. Distinct from a failed verification."""

    exit_code = 9
    code = "stale-lock"

    def __init__(self, message: str, *, hint: str = "", changes: list[str] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.changes = list(changes or [])


class FileConflictError(EnvgenError):
    """envgen would overwrite a file or directory that a person wrote or edited."""

    exit_code = 8
    code = "file-conflict"
