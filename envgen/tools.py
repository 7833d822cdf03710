"""The one place that finds the external programs envgen runs.

Every lookup of an executable goes through `which` (PATH as the caller's environment has it, so
tests and `ENVGEN_*`-driven runs see the same), and the programs envgen needs by name have one
finder each: uv (on PATH, else beside this interpreter, where `pip install envgen` put it) and a
Python for the pip fallback. Running them is `envgen.proc`'s job; this module only locates.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path


def which(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """`name` on the PATH of `environ` (this process's environment by default)."""
    env = os.environ if environ is None else environ
    return shutil.which(name, path=env.get("PATH"))


def find_uv(environ: Mapping[str, str] | None = None) -> str | None:
    """uv on PATH or next to this interpreter (pip install uv puts it there), if it runs."""
    from envgen.errors import ExternalToolError
    from envgen.proc import run

    candidate = which("uv", environ) or str(Path(sys.executable).with_name("uv"))
    if not Path(candidate).is_file():
        return None
    try:
        run([candidate, "--version"], timeout=30)
    except ExternalToolError:
        return None
    return candidate


def find_python(version: str, environ: Mapping[str, str] | None = None) -> str | None:
    """An interpreter for the pip fallback: a path as given, else pythonX.Y on PATH."""
    if Path(version).is_file():
        return version
    return which(f"python{version}", environ)
