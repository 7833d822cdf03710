"""The venv backend: `uv venv` + `uv pip install --compile-bytecode`, plain pip as the fallback.

uv is the pip-side engine (DESIGN.md): 30 s cold / 2.5 s warm against ~60 s for venv + pip for
TensorFlow 2.21 (lab report §1). Bytecode is compiled at install time because this kind of machine
sets PYTHONDONTWRITEBYTECODE, and TensorFlow then imports in 15 s instead of 5 s (lab report §0).
With a lock, hashes are required (`--require-hashes`), so what is installed is exactly what was
locked. The index (a mirror, perhaps with a login) reaches uv or pip through the environment. pip is used only when uv cannot run at all; an install that fails under uv fails the build,
since retrying with pip would hide the real error.
"""

from __future__ import annotations

import time
from pathlib import Path

from envgen.backends import (
    BuildRequest,
    BuildResult,
    from_index,
    index_env,
    install_hint,
    is_up_to_date,
    prefix_lock,
    refuse_edited_locks,
    staged_prefix,
    write_marker,
)
from envgen.backends.installlog import read_uv_install
from envgen.environment import venv_python
from envgen.errors import ExternalToolError, UsageError
from envgen.tools import find_python, find_uv

# Creating a venv is sub-second with uv, ~8 s with ensurepip; installs download hundreds of MB.
VENV_TIMEOUT_S = 120.0
INSTALL_TIMEOUT_S = 1800.0


def _sources(request: BuildRequest, installer: str = "pip") -> list[str]:
    """Installer arguments naming what to install (the index goes by `index_env`)."""
    if installer == "uv" and request.direct_from_pylock and request.pylock is not None:
        # uv 0.13 reads PEP 751 as a preview feature and warns unless it is named.
        return ["--preview-features", "pylock", "-r", str(request.pylock)]
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
            # No --quiet: its summary lines time each phase (envgen.backends.installlog).
            "--compile-bytecode",
            "--python",
            str(venv_python(staging)),
            *_sources(request, "uv"),
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


class VenvBackend:
    name = "venv"
    # It builds a prefix on this machine (held under the prefix lock, verified by the probe).
    makes_prefix = True
    # uv --offline --no-index --find-links (pip --no-index): a bundle's wheels alone.
    installs_offline = True

    def unavailable(self) -> str | None:
        return None  # uv, or the stdlib venv module of a matching Python; checked in build()

    def build(self, request: BuildRequest) -> BuildResult:
        if request.lock is None and not request.requirements:
            raise UsageError("nothing to install: give a lock or requirements")
        refuse_edited_locks(request.lock, request.pylock)
        prefix = request.prefix.absolute()
        # The reuse check and the build are one step: another envgen may be finishing this very
        # prefix, and after waiting for it there is nothing left to do.
        with prefix_lock(prefix):
            return self._build(request, prefix)

    def _build(self, request: BuildRequest, prefix: Path) -> BuildResult:
        from envgen.proc import run

        start = time.perf_counter()
        input_hash = request.input_hash()
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
            make_venv, install = commands
            env = index_env(request, installer)
            show = request.progress
            run(make_venv, timeout=VENV_TIMEOUT_S, show_progress=show, hint=venv_hint, env=env)
            with from_index(request):
                hint = install_hint(request)
                done = run(
                    install, timeout=INSTALL_TIMEOUT_S, show_progress=show, hint=hint, env=env
                )
            log = read_uv_install(done.stderr) if installer == "uv" else None
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
                request.chosen,
            )
        return BuildResult(
            self.name,
            prefix,
            venv_python(prefix),
            installer,
            input_hash,
            False,
            round(time.perf_counter() - start, 3),
            install_log=log,
        )
