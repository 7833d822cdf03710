"""Where a Python environment keeps its interpreter: the one home of prefix -> python.

A virtualenv has `bin/python` on POSIX and `Scripts/python.exe` on Windows; a conda prefix has
`bin/python` on POSIX and `python.exe` at its root on Windows (conda's own layout). Builders ask
where the interpreter of a prefix they make will be (`venv_python`, `conda_python`); doctor and
verify look for the interpreter of a prefix someone hands them (`interpreter_in`) or of the
environment that is active in the shell (`active_interpreter`).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath

from envgen.errors import InputFileError

# Looked for in this order in an existing prefix: virtualenv/conda on POSIX (python3 where a tool
# made no `python` link), virtualenv on Windows, conda on Windows.
_CANDIDATES = ("bin/python", "bin/python3", "Scripts/python.exe", "python.exe")
# The variables the shell hooks of virtualenv and conda set for the active environment.
ACTIVE_VARIABLES = ("VIRTUAL_ENV", "CONDA_PREFIX")


def _windows(windows: bool | None) -> bool:
    return sys.platform == "win32" if windows is None else windows


def venv_python(prefix: Path, *, windows: bool | None = None) -> Path:
    """The interpreter of a virtualenv made at `prefix` on this (or the given) OS."""
    return prefix / ("Scripts/python.exe" if _windows(windows) else "bin/python")


def activate_command(prefix: Path, *, windows: bool | None = None) -> str:
    """What a user types to activate the virtualenv at `prefix`, quoted for the shell of that OS:
    `source <prefix>/bin/activate` in a POSIX shell, `& '<prefix>\\Scripts\\Activate.ps1'` in
    PowerShell (virtualenv's and venv's script names on each)."""
    import shlex

    from envgen.escape import ps1

    if _windows(windows):
        return f"& {ps1(str(PureWindowsPath(prefix, 'Scripts', 'Activate.ps1')))}"
    return f"source {shlex.quote(str(PurePosixPath(prefix, 'bin', 'activate')))}"


def conda_python(prefix: Path, *, windows: bool | None = None) -> Path:
    """The interpreter of a conda prefix on this (or the given) OS."""
    return prefix / ("python.exe" if _windows(windows) else "bin/python")


def site_packages(prefix: Path, *, windows: bool | None = None) -> Path:
    """The site-packages folder of a virtualenv or conda prefix: `Lib/site-packages` on Windows,
    `lib/pythonX.Y/site-packages` on POSIX (the one such folder the prefix has)."""
    if _windows(windows):
        return prefix / "Lib" / "site-packages"
    found = sorted(prefix.glob("lib/python3*/site-packages"))
    if len(found) != 1:
        raise InputFileError(
            f"{prefix}: expected one lib/python3*/site-packages, found {len(found)}",
            hint="rebuild the environment (--force)",
        )
    return found[0]


def interpreter_in(prefix: str | Path) -> Path:
    """The interpreter of an existing virtualenv or conda prefix, whichever layout it has."""
    root = Path(prefix)
    for rel in _CANDIDATES:
        candidate = root / rel
        if candidate.is_file():
            return candidate
    raise InputFileError(
        f"{root}: no Python interpreter found (looked for {', '.join(_CANDIDATES)})",
        hint="give the environment's root (the directory holding bin/ or Scripts/), or --python",
    )


def active_interpreter(environ: Mapping[str, str]) -> Path | None:
    """The interpreter of the shell's active environment ($VIRTUAL_ENV, then $CONDA_PREFIX)."""
    for var in ACTIVE_VARIABLES:
        if environ.get(var):
            return interpreter_in(environ[var])
    return None


def prefix_of(python: Path) -> Path:
    """The root of the environment an interpreter path belongs to, by the layouts above
    (`<prefix>/bin/python`, `<prefix>/Scripts/python.exe`, a conda `<prefix>/python.exe`); the
    path is not resolved, so a virtualenv's link to its base interpreter stays in the venv."""
    parent = python.absolute().parent
    return parent.parent if parent.name in ("bin", "Scripts") else parent


def is_environment(prefix: Path) -> bool:
    """Is `prefix` the root of a virtualenv or a conda environment (not a system Python)?"""
    return (prefix / "pyvenv.cfg").is_file() or (prefix / "conda-meta").is_dir()
