"""The venv backend: `uv venv` + `uv pip install --compile-bytecode`, plain pip as the fallback.

uv is the pip-side engine (DESIGN.md): 30 s cold / 2.5 s warm against ~60 s for venv + pip for
TensorFlow 2.21 (lab report §1). Bytecode is compiled at install time because this kind of machine
sets PYTHONDONTWRITEBYTECODE, and TensorFlow then imports in 15 s instead of 5 s (lab report §0).
With a lock, hashes are required (`--require-hashes`), so what is installed is exactly what was
locked. The index (a mirror, perhaps with a login) reaches uv or pip through the environment. pip is used only when uv cannot run at all; an install that fails under uv fails the build,
since retrying with pip would hide the real error.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from envgen.build import (
    BuildRequest,
    BuildResult,
    index_env,
    install_hint,
    is_up_to_date,
    refuse_edited_locks,
    staged_prefix,
    write_marker,
)
from envgen.environment import venv_python
from envgen.errors import ExternalToolError, UsageError

# Creating a venv is sub-second with uv, ~8 s with ensurepip; installs download hundreds of MB.
VENV_TIMEOUT_S = 120.0
INSTALL_TIMEOUT_S = 1800.0


def _sources(request: BuildRequest) -> list[str]:
    """Installer arguments naming what to install (the index goes by `index_env`)."""
    args: list[str] = []
    if request.offline:
        args.append("--no-index")
    if request.find_links is not None:
        args += ["--find-links", str(request.find_links)]
    if request.lock is not None:
        args += ["--require-hashes", "-r", str(request.lock)]
    args += list(request.requirements)
    return args


def uv_commands(uv: str, request: BuildRequest, staging: Path) -> list[list[str]]:
    """The uv command lines that build `request` into `staging` (pure, for tests)."""
    # --offline: uv touches no network, neither an index nor a Python download.
    offline = ["--offline"] if request.offline else []
    return [
        [uv, "venv", "--quiet", *offline, "--python", request.python, str(staging)],
        [
            uv,
            "pip",
            "install",
            *offline,
            *(() if request.progress else ("--quiet",)),
            "--compile-bytecode",
            "--python",
            str(venv_python(staging)),
            *_sources(request),
        ],
    ]


def pip_commands(python: str, request: BuildRequest, staging: Path) -> list[list[str]]:
    """The stdlib venv + pip command lines (pip compiles bytecode by default)."""
    return [
        [python, "-m", "venv", str(staging)],
        [
            str(venv_python(staging)),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *_sources(request),
        ],
    ]


def find_uv() -> str | None:
    """uv on PATH or next to this interpreter (pip install uv puts it there), if it runs."""
    from envgen.proc import run

    candidate = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(candidate).is_file():
        return None
    try:
        run([candidate, "--version"], timeout=30)
    except ExternalToolError:
        return None
    return candidate


def find_python(version: str) -> str | None:
    """An interpreter for the pip fallback: a path as given, else pythonX.Y on PATH."""
    if Path(version).is_file():
        return version
    return shutil.which(f"python{version}")


class VenvBackend:
    name = "venv"

    def unavailable(self) -> str | None:
        return None  # uv, or the stdlib venv module of a matching Python; checked in build()

    def build(self, request: BuildRequest) -> BuildResult:
        from envgen.proc import run

        if request.lock is None and not request.requirements:
            raise UsageError("nothing to install: give a lock or requirements")
        refuse_edited_locks(request.lock)
        start = time.perf_counter()
        input_hash = request.input_hash()
        prefix = request.prefix.absolute()
        if is_up_to_date(prefix, input_hash) and not request.force:
            return BuildResult(
                self.name, prefix, venv_python(prefix), "none", input_hash, True, 0.0
            )
        uv = find_uv()
        python: str | None = None
        if uv is None:
            python = find_python(request.python)
            if python is None:
                raise ExternalToolError(
                    f"neither uv nor python{request.python} is available",
                    hint="pip install uv, or install that Python",
                )
        with staged_prefix(prefix, force=request.force) as staging:
            if uv is not None:
                commands, installer = uv_commands(uv, request, staging), "uv"
            else:
                assert python is not None  # checked above, before touching the prefix
                commands, installer = pip_commands(python, request, staging), "pip"
            venv_hint = (
                f"install Python {request.python}, or let uv download it (that needs the network)"
            )
            steps = ((VENV_TIMEOUT_S, venv_hint), (INSTALL_TIMEOUT_S, install_hint(request)))
            env = index_env(request, installer)
            for argv, (timeout, hint) in zip(commands, steps, strict=True):
                run(argv, timeout=timeout, show_progress=request.progress, hint=hint, env=env)
            write_marker(
                staging,
                {
                    "backend": self.name,
                    "installer": installer,
                    "input-hash": input_hash,
                    "python": request.python,
                    "lock": str(request.lock) if request.lock else None,
                    "requirements": list(request.requirements),
                },
            )
        return BuildResult(
            self.name,
            prefix,
            venv_python(prefix),
            installer,
            input_hash,
            False,
            round(time.perf_counter() - start, 3),
        )
