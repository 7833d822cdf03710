"""The conda backend: install a conda-lock file into a prefix, then its pip part with uv.

Two engines, chosen by what the machine has:
- a conda, mamba or micromamba executable: `conda-lock install` semantics — the locked records of
  this platform become an `@EXPLICIT` file (url#md5, no solving) for `<exe> create --prefix`;
- none (the usual case on CI boxes and on envgen's lab machine, lab report §5): py-rattler links
  the locked records in-process. rattler downloads and verifies each archive against the lock's
  sha256, exactly as conda would, so a user with no conda at all still gets a conda prefix.

The pip part is installed by uv into the prefix's own Python with hashes required: the
requirements lock the lock stage wrote when one is given (the same resolution as the conda-lock
file's `manager: pip` rows, but hashing every file of each version, so a mirror's index works),
else the `manager: pip` rows themselves (direct PyPI URLs, as `conda-lock install` uses them). A lock
without Python (only a test channel has such) gets a venv overlaid on the prefix for it.

conda packages embed their prefix in files (shebangs, sysconfig, pkg-config), so a prefix cannot
be built elsewhere and renamed like a venv: rattler writes into the staging directory but patches
the final path in (`alternative_target_prefix`); an executable builds in place, after the old
prefix is moved aside, and the completion marker is still written last.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from envgen.backends import (
    BuildRequest,
    BuildResult,
    building_in_place,
    check_replaceable,
    discard,
    from_index,
    index_env,
    install_hint,
    is_up_to_date,
    prefix_lock,
    read_marker,
    recover,
    refuse_edited_locks,
    staged_prefix,
    write_environment,
    write_marker,
)
from envgen.backends.conda_lock import LockedPackage, for_platform, read_conda_lock
from envgen.backends.venv import INSTALL_TIMEOUT_S, VENV_TIMEOUT_S
from envgen.environment import venv_python
from envgen.errors import ExternalToolError, UsageError
from envgen.files import cannot_write
from envgen.proc import summary
from envgen.tools import find_uv, which

# Preference order when several are installed: micromamba and mamba solve nothing here either
# (explicit files), but they link faster than conda.
CONDA_EXECUTABLES = ("micromamba", "mamba", "conda")


def current_platform() -> str:
    import rattler

    return str(rattler.Subdir.current())


# --- what the engines are given ------------------------------------------------------------------


def explicit_file(conda: Sequence[LockedPackage]) -> str:
    """conda's `@EXPLICIT` list, as `conda-lock install` renders it: url#md5, in lock order."""
    lines = ["@EXPLICIT"]
    for pkg in conda:
        md5 = pkg.hash("md5")
        lines.append(f"{pkg.url}#{md5}" if md5 else pkg.url)
    return "\n".join(lines) + "\n"


def pip_requirements(pip: Sequence[LockedPackage]) -> str:
    """The conda-lock file's pip rows as a hashed requirements file (direct URLs, no resolving)."""
    lines = []
    for pkg in pip:
        hashes = " ".join(f"--hash={alg}:{digest}" for alg, digest in pkg.hashes)
        lines.append(f"{pkg.name} @ {pkg.url} {hashes}".rstrip())
    return "\n".join(lines) + ("\n" if lines else "")


def create_argv(exe: str, explicit: Path, prefix: Path) -> list[str]:
    """`<conda|mamba|micromamba> create` of an explicit file: the three accept the same flags."""
    return [exe, "create", "--yes", "--prefix", str(prefix), "--file", str(explicit)]


def pip_argv(
    uv: str, python: Path, request: BuildRequest, lock_files: Sequence[Path]
) -> list[str] | None:
    """uv installing the pip part into `python`; None when there is no pip part. The index goes
    to uv through its environment (envgen.backends.index_env), never argv."""
    if not lock_files and not request.requirements:
        return None
    argv = [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(python)]
    if lock_files:
        argv.append("--require-hashes")
    for lock in lock_files:
        argv += ["-r", str(lock)]
    return [*argv, *request.requirements]


def prefix_python(prefix: Path) -> Path:
    """Where a conda prefix keeps its interpreter (python.exe at the root on Windows)."""
    from envgen.environment import conda_python

    return conda_python(prefix)


def find_conda(environ: Mapping[str, str] | None = None) -> str | None:
    """A conda-like executable: $ENVGEN_CONDA_EXE, then $MAMBA_EXE/$CONDA_EXE (set by their
    shell hooks), then micromamba, mamba, conda on PATH."""
    env = os.environ if environ is None else environ
    for var in ("ENVGEN_CONDA_EXE", "MAMBA_EXE", "CONDA_EXE"):
        value = env.get(var)
        if value and Path(value).is_file():
            return value
    for name in CONDA_EXECUTABLES:
        found = which(name, env)
        if found is not None:
            return found
    return None


# --- the two engines -----------------------------------------------------------------------------


def _rattler_records(conda: Sequence[LockedPackage]) -> list[Any]:
    """RepoDataRecords rebuilt from lock rows: enough to fetch, verify and link each archive.

    The lock keeps no build number and no noarch kind; rattler reads both from the archive's own
    info/index.json when it links, so only the identity, the URL and the hashes matter here."""
    import rattler

    out = []
    for pkg in conda:
        sha256, md5 = pkg.hash("sha256"), pkg.hash("md5")
        build = pkg.build
        number = build.rsplit("_", 1)[-1]
        record = rattler.PackageRecord(
            name=pkg.name,
            version=pkg.version,
            build=rattler.BuildString(build),
            build_number=int(number) if number.isdigit() else 0,
            subdir=pkg.subdir,
            depends=[f"{n} {s}".strip() if s != "*" else n for n, s in pkg.dependencies],
            sha256=bytes.fromhex(sha256) if sha256 else None,
            md5=bytes.fromhex(md5) if md5 else None,
        )
        out.append(rattler.RepoDataRecord(record, pkg.file_name, pkg.url, pkg.channel))
    return out


def rattler_install(conda: Sequence[LockedPackage], staging: Path, final: Path) -> None:
    """Link the locked records into `staging`, patching `final` into prefix-bearing files."""
    import asyncio

    import rattler
    from rattler.exceptions import (
        CacheDirError,
        ExtractError,
        InstallerError,
        IoError,
        LinkError,
        TransactionError,
    )

    records = _rattler_records(conda)
    try:
        asyncio.run(
            rattler.install(
                records,
                target_prefix=staging,
                alternative_target_prefix=final,
                show_progress=False,
                execute_link_scripts=False,  # conda-lock's default too: link scripts run unsandboxed
            )
        )
    except (
        CacheDirError,
        ExtractError,
        InstallerError,
        IoError,
        LinkError,
        TransactionError,
    ) as exc:
        # rattler's message is a chain of "Caused by:" lines: what failed first, why last.
        channels = ", ".join(sorted({pkg.channel for pkg in conda}))
        raise ExternalToolError(
            f"py-rattler could not install the conda lock: {summary(str(exc))}",
            hint=f"its packages come from {channels}: check that it answers from here "
            "(network, or a proxy in HTTPS_PROXY), or build with --backend venv",
        ) from exc


@contextlib.contextmanager
def in_place_prefix(prefix: Path, *, force: bool) -> Iterator[Path]:
    """Build at `prefix` itself (a conda executable cannot relocate), old prefix moved aside.

    Same guarantees as `staged_prefix`: the marker is written last by the caller; on failure the
    partial prefix is removed and the previous one restored. A `building` sibling stands while
    the build runs, so that after a kill (no cleanup runs) the next build knows the prefix for
    half-made rather than refusing it as a directory envgen did not build (`recover`)."""
    prefix = prefix.absolute()
    with prefix_lock(prefix):
        recover(prefix)
        check_replaceable(prefix, force=force)
        old = None
        try:
            if prefix.exists():
                old = Path(
                    tempfile.mkdtemp(prefix=f".{prefix.name}.envgen-old-", dir=prefix.parent)
                )
                old.rmdir()
                prefix.rename(old)
            building = building_in_place(prefix)
        except OSError as exc:
            raise cannot_write(prefix.parent, exc) from exc
        try:
            yield prefix
            if read_marker(prefix) is None:
                raise RuntimeError("a backend finished without writing the completion marker")
        except BaseException:
            discard(prefix)
            if old is not None:
                old.rename(prefix)
            building.unlink(missing_ok=True)
            raise
        building.unlink(missing_ok=True)
        if old is not None:
            discard(old)


def _after_start(environment: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """The variables a running interpreter can still set for itself (not conda.toml's
    `at-start` ones)."""
    if not environment:
        return environment
    from envgen.kb import load_kb

    at_start = load_kb().conda.at_start()
    return tuple((name, value) for name, value in environment if name not in at_start)


def write_activation(
    prefix: Path, environment: tuple[tuple[str, str], ...], *, windows: bool | None = None
) -> list[Path]:
    """The plan's variables as etc/conda/activate.d and deactivate.d scripts of `prefix`: conda,
    mamba and micromamba source them on (de)activation (POSIX shells; a Windows prefix finds
    conda's DLLs through PATH, which activation sets itself)."""
    from envgen.render import activation_scripts

    if sys.platform == "win32" if windows is None else windows:
        return []
    written = []
    for relative, text in activation_scripts(environment).items():
        path = prefix / "etc" / "conda" / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise cannot_write(path.parent, exc) from exc
        written.append(path)
    return written


class CondaBackend:
    name = "conda"
    # It builds a prefix on this machine (held under the prefix lock, verified by the probe).
    makes_prefix = True
    # Its conda packages come from their channels (a bundle carries them, but no engine here
    # installs from a folder of them yet).
    installs_offline = False

    def unavailable(self) -> str | None:
        if find_conda() is not None:
            return None
        try:
            import rattler  # noqa: F401
        except ImportError:
            return "no conda, mamba or micromamba on PATH, and py-rattler is not installed"
        return None

    def build(self, request: BuildRequest) -> BuildResult:
        if request.conda_lock is None:
            raise UsageError(
                "the conda backend needs a conda-lock file, and this lock set has none",
                hint="plans without conda packages lock no conda side: use --backend venv",
            )
        refuse_edited_locks(request.conda_lock, request.lock)
        prefix = request.prefix.absolute()
        with prefix_lock(prefix):  # the reuse check and the build are one step (venv.py)
            return self._build(request, request.conda_lock, prefix)

    def _build(self, request: BuildRequest, conda_lock: Path, prefix: Path) -> BuildResult:
        from envgen.proc import run

        start = time.perf_counter()
        input_hash = request.input_hash()
        if is_up_to_date(prefix, input_hash) and not request.force:
            return BuildResult(
                self.name, prefix, prefix_python(prefix), "none", input_hash, True, 0.0
            )
        where = str(conda_lock)
        conda, pip = for_platform(read_conda_lock(conda_lock), current_platform(), where)
        exe = find_conda()
        if request.lock is not None:
            pip = []  # the requirements lock is the pip part (BuildRequest.conda_lock)
        has_pip = bool(pip or request.lock is not None or request.requirements)
        uv = find_uv() if has_pip else None
        if uv is None and has_pip:
            raise ExternalToolError("uv is needed for the pip part", hint="pip install uv")
        engine = Path(exe).name if exe else "py-rattler"
        build_in = (
            in_place_prefix(prefix, force=request.force)
            if exe
            else staged_prefix(prefix, force=request.force)
        )
        with build_in as target, tempfile.TemporaryDirectory(prefix="envgen-conda-") as tmp:
            if exe:
                explicit = Path(tmp) / "explicit.txt"
                explicit.write_text(explicit_file(conda), encoding="utf-8")
                channels = ", ".join(sorted({pkg.channel for pkg in conda}))
                run(
                    create_argv(exe, explicit, target),
                    timeout=INSTALL_TIMEOUT_S,
                    hint=f"its packages come from {channels}: check that it answers from here",
                )
            else:
                rattler_install(conda, target, prefix)
            python, overlay = prefix_python(target), False
            locks = [request.lock] if request.lock is not None else []
            if pip:
                extra = Path(tmp) / "conda-lock-pip.txt"
                extra.write_text(pip_requirements(pip), encoding="utf-8")
                locks.append(extra)
            if uv is not None:
                if not python.exists():
                    # No Python in the lock: the pip part goes into a venv laid over the prefix.
                    argv = [uv, "venv", "--quiet", "--allow-existing", "--python"]
                    run([*argv, request.python, str(target)], timeout=VENV_TIMEOUT_S)
                    python, overlay = venv_python(target), True
                pip_cmd = pip_argv(uv, python, request, locks)
                assert pip_cmd is not None  # there is a pip part: checked just above
                with from_index(request):
                    run(
                        pip_cmd,
                        timeout=INSTALL_TIMEOUT_S,
                        env=index_env(request, "uv"),
                        hint=install_hint(request),
                    )
            # Both ways in: an activated shell runs activate.d (LD_LIBRARY_PATH for conda's
            # CUDA), the prefix's interpreter run without activation reads the .pth
            # (KERAS_BACKEND); each sets a variable only where it is not set already. What the
            # loader reads only at start-up (conda.toml `at-start`) stays out of the .pth: set
            # there it would reach child processes but never this interpreter's dlopen.
            write_activation(target, request.environment)
            if python.exists():
                write_environment(target, _after_start(request.environment))
            write_marker(
                target,
                {
                    "backend": self.name,
                    "installer": engine,
                    "input-hash": input_hash,
                    "python": request.python,
                    "conda-lock": str(request.conda_lock),
                    "lock": str(request.lock) if request.lock else None,
                    "conda-packages": len(conda),
                    "venv-overlay": overlay,
                },
                request.chosen,
            )
        final_python = venv_python(prefix) if overlay else prefix_python(prefix)
        return BuildResult(
            self.name,
            prefix,
            final_python,
            engine + ("+uv" if has_pip else ""),
            input_hash,
            False,
            round(time.perf_counter() - start, 3),
        )
