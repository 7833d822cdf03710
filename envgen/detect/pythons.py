"""Python interpreters: the running one, and the `python3.X` executables on PATH.

Versions of the others come from their names (`python3.10` is 3.10) rather than from running
each one: a pyenv shim costs ~50 ms a call and detection must stay fast. The name is also what a
user types, so it is the useful fact when choosing `--python`.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from envgen.profile import Interpreter, PythonInfo

_NAME = re.compile(r"python(\d)\.(\d+)(?:\.exe)?", re.IGNORECASE)


def parse_interpreter_names(entries: list[tuple[str, str]]) -> tuple[Interpreter, ...]:
    """From `(directory, file name)` pairs in PATH order, the first interpreter of each version."""
    found: dict[str, Interpreter] = {}
    for directory, name in entries:
        match = _NAME.fullmatch(name)
        if match:
            version = f"{match.group(1)}.{match.group(2)}"
            found.setdefault(version, Interpreter(version, str(Path(directory) / name)))
    return tuple(sorted(found.values(), key=lambda i: tuple(map(int, i.version.split(".")))))


def _path_entries(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    for directory in environ.get("PATH", "").split(os.pathsep):
        try:
            with os.scandir(directory or ".") as it:
                names = sorted(e.name for e in it if _NAME.fullmatch(e.name))
        except OSError:
            continue
        entries.extend((directory, n) for n in names if os.access(Path(directory) / n, os.X_OK))
    return entries


def detect_pythons(environ: Mapping[str, str]) -> PythonInfo:
    return PythonInfo(
        version=f"{sys.version_info.major}.{sys.version_info.minor}",
        executable=sys.executable or None,
        implementation=platform.python_implementation().lower(),
        found=parse_interpreter_names(_path_entries(environ)),
    )
