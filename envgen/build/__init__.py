"""`envgen build`: execute a lock into an environment, behind a small backend interface.

A backend (venv, conda, container) turns a `BuildRequest` into a ready prefix (an image tag for
the container backend).
Backends are chosen by name (`get_backend("venv")`) and imported only when chosen, so a missing
optional tool costs nothing until it is asked for (pipx backends, repo2docker engines).

Every backend shares the prefix discipline implemented here:
- build into a temporary directory next to the prefix, then rename it into place, and write the
  completion marker last: an interrupted or failed build never leaves something that looks ready;
- a prefix carrying the marker for the same inputs is reused (a re-run does no work);
- an existing directory that envgen did not build is never replaced without `force`.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from envgen import __version__
from envgen.credentials import split_login
from envgen.digest import SHORT
from envgen.documents import parse_json
from envgen.errors import FileConflictError, InputFileError, UsageError
from envgen.files import LOCK_FILE, MARKER, read_bytes, read_text

# Written last, inside the prefix; its presence is what "this environment is ready" means.
COMPLETE_MARKER = ".envgen-complete.json"
# Siblings of the prefix left by an interrupted build or swap; safe to delete on the next run.
_TMP_INFIX = ".envgen-tmp-"
_OLD_INFIX = ".envgen-old-"

# name -> "module:attribute"; imported on demand.
BACKENDS: dict[str, str] = {
    "conda": "envgen.build.conda:CondaBackend",
    "container": "envgen.build.container:ContainerBackend",
    "venv": "envgen.build.venv:VenvBackend",
}


@dataclass(frozen=True)
class BuildRequest:
    """What to build, where. Exactly one of `lock` and `requirements` is normally given."""

    prefix: Path
    python: str
    """A version ("3.11") for the installer to find, or an interpreter path."""
    lock: Path | None = None
    """A hashed requirements lock (installed with --require-hashes)."""
    requirements: tuple[str, ...] = ()
    """Plain requirements, for when no lock exists yet (`Pin.requirement()` strings)."""
    index_url: str | None = None
    """A mirror's simple index, applied at install time (locks stay mirror-neutral). It may
    carry a login (`https://user:token@host/simple`): backends hand it to the installer only
    through the environment (`index_env`), never argv, and hash it without the login."""
    extra_index_urls: tuple[str, ...] = ()
    force: bool = False
    conda_lock: Path | None = None
    """conda-lock.yml (unified format) for the conda backend; `lock` is then its pip part."""
    context: Path | None = None
    """The container backend's build context: the project directory holding the Dockerfile."""
    base_image: str | None = None
    """Overrides the Dockerfile's `ARG BASE_IMAGE` (container backend; ENVGEN_BASE_IMAGE)."""
    gpu: bool = False
    progress: bool = False
    """Let the installer draw its progress on the terminal (the CLI sets it on a TTY); not an
    input of the build, so it is not hashed."""
    find_links: Path | None = None
    """A folder holding the files to install (a bundle's `wheels/`), searched besides or, with
    `offline`, instead of any index. Not hashed: it is where the locked files come from, not
    what is installed (the lock's hashes decide that), and a bundle unpacks to a new folder
    each time."""
    offline: bool = False
    """Reach no network at all: no index (uv `--offline --no-index`, pip `--no-index`), no
    Python download; only `find_links`. Not hashed, for the same reason."""

    def input_hash(self, *extra: Path) -> str:
        """What the built prefix depends on: a change means rebuild.

        The optional fields count only when set, so a venv request hashes as it always did
        (markers written by earlier versions stay valid). `extra` files (a Dockerfile and what
        it copies) are hashed with the lock."""
        digest = hashlib.sha256()
        for path in (self.lock, self.conda_lock, *extra):
            if path is not None:
                digest.update(read_bytes(path, what="build input", limit=LOCK_FILE))
        # Without logins: a new token for the same index is no reason to rebuild, and a hash
        # of a secret has no business in a marker file.
        indexes = [split_login(u)[0] for u in (self.index_url or "", *self.extra_index_urls)]
        for part in (self.python, *self.requirements, *indexes):
            digest.update(b"\0" + part.encode())
        if self.base_image is not None:
            digest.update(b"\0base:" + self.base_image.encode())
        if self.gpu:
            digest.update(b"\0gpu")
        return digest.hexdigest()[:SHORT]


@dataclass(frozen=True)
class BuildResult:
    backend: str
    prefix: Path
    python: Path
    installer: str
    """The tool that installed the packages: "uv" or "pip"."""
    input_hash: str
    reused: bool
    seconds: float
    image: str | None = None
    """The container backend's image tag (its "prefix"); `python` is then a path inside it."""
    check: str | None = None
    """What the image's own check printed (container backend); it passed, or build() raised."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "backend": self.backend,
            "prefix": str(self.prefix),
            "python": str(self.python),
            "installer": self.installer,
            "input-hash": self.input_hash,
            "reused": self.reused,
            "seconds": self.seconds,
        }
        if self.image is not None:
            out["image"] = self.image
            out["check"] = self.check
        return out


class Backend(Protocol):
    name: str

    def unavailable(self) -> str | None:
        """Why this backend cannot run here, or None when it can."""

    def build(self, request: BuildRequest) -> BuildResult:
        """Build `request.prefix` (through `staged_prefix`), or reuse it when up to date."""


def index_env(request: BuildRequest, installer: str) -> dict[str, str] | None:
    """The request's indexes as `installer`'s ("uv" or "pip") environment variables, merged
    over this process's environment; None where the request names no index.

    Index URLs travel this way, not as `--index-url` arguments, because they may carry a login:
    argv is visible to every user of the machine (`ps`) and envgen.proc logs it. uv reads
    UV_INDEX_URL and UV_EXTRA_INDEX_URL (docs.astral.sh/uv/reference/environment/), pip the
    PIP_* twins of its options (pip.pypa.io, "Environment Variables"); both split extras on
    spaces."""
    if not request.index_url and not request.extra_index_urls:
        return None
    prefix = "UV" if installer == "uv" else "PIP"
    env = dict(os.environ)
    if request.index_url:
        env[f"{prefix}_INDEX_URL"] = request.index_url
    if request.extra_index_urls:
        env[f"{prefix}_EXTRA_INDEX_URL"] = " ".join(request.extra_index_urls)
    return env


def _load(name: str) -> Backend:
    module, attr = BACKENDS[name].split(":")
    backend: Backend = getattr(importlib.import_module(module), attr)()
    return backend


def available_backends() -> dict[str, str | None]:
    """Every registered backend -> why it cannot run here (None when it can)."""
    return {name: _load(name).unavailable() for name in sorted(BACKENDS)}


def get_backend(name: str, *, check: bool = False) -> Backend:
    """The backend called `name`; with `check`, refuse one that cannot run on this machine.

    Both errors name what is available, so the user sees the way out in one line."""
    if name not in BACKENDS:
        raise UsageError(
            f"unknown build backend {name!r}", hint=f"available: {', '.join(sorted(BACKENDS))}"
        )
    backend = _load(name)
    why = backend.unavailable() if check else None
    if why is not None:
        usable = [n for n, reason in available_backends().items() if reason is None]
        raise UsageError(
            f"the {name} backend cannot run here: {why}",
            hint=f"available here: {', '.join(usable) or 'none'}",
        )
    return backend


def install_hint(request: BuildRequest) -> str:
    """The advice under a failed install: which index it used and how to pick another (a mirror
    is applied at install time, so the same lock installs from any of them)."""
    from envgen.credentials import redact

    if request.offline:
        return (
            f"installing offline from {request.find_links}: every file the lock names must be "
            "there with the lock's sha256; make the bundle again with `envgen bundle`"
        )
    # The hint is printed: a mirror's login never is.
    index = (
        redact(request.index_url) if request.index_url else "https://pypi.org/simple (the default)"
    )
    return (
        f"packages come from {index}; if it does not answer from here, pick another with "
        "--mirror NAME|URL (--mirror auto takes the fastest that answers), or set HTTPS_PROXY"
    )


def refuse_edited_locks(*locks: Path | None) -> None:
    """Refuse (InputFileError) a lock given to a backend that its lock set's index says was
    edited since `envgen lock` wrote it; checked before anything is installed. A lock without
    an index beside it is taken as it is: its own hashes are all there is to check."""
    from envgen.lock.lockset import verify_beside

    for lock in locks:
        if lock is not None:
            verify_beside(lock)


# --- the prefix discipline -----------------------------------------------------------------------


def read_marker(prefix: Path) -> dict[str, Any] | None:
    """The completion marker of an envgen-built prefix, or None (absent, unreadable)."""
    path = prefix / COMPLETE_MARKER
    try:
        data = parse_json(read_text(path, what="completion marker"), str(path))
    except InputFileError:  # absent, or a FIFO, a device or junk: not envgen's marker
        return None
    return data if isinstance(data, dict) else None


def is_up_to_date(prefix: Path, input_hash: str) -> bool:
    marker = read_marker(prefix)
    return marker is not None and marker.get("input-hash") == input_hash


def check_replaceable(prefix: Path, *, force: bool) -> None:
    """Refuse to replace a directory envgen did not build (FileConflictError) unless `force`."""
    if not prefix.exists() and not prefix.is_symlink():
        return
    if not prefix.is_dir():
        raise FileConflictError(f"{prefix} exists and is not a directory", hint="choose a prefix")
    if force or read_marker(prefix) is not None or not any(prefix.iterdir()):
        return
    raise FileConflictError(
        f"{prefix} exists and was not built by envgen",
        hint="choose another --prefix, or pass --force to replace it",
    )


def remove_leftovers(prefix: Path) -> list[Path]:
    """Delete temporary siblings of `prefix` left by an interrupted earlier build."""
    removed = []
    for infix in (_TMP_INFIX, _OLD_INFIX):
        for path in prefix.parent.glob(f".{prefix.name}{infix}*"):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def retarget(staging: Path, prefix: Path) -> None:
    """Rewrite the staging path to the final one in the scripts a venv hard-codes it into.

    `bin/activate*` and console-script shebangs hold the absolute path they were created at; after
    the rename they must name the prefix. (Byte-compiled files need nothing: importlib fixes a
    stale co_filename on load.) Only small text files under bin/ (Scripts/) and pyvenv.cfg.
    """
    old, new = str(staging).encode(), str(prefix).encode()
    candidates = [staging / "pyvenv.cfg"]
    for scripts in ("bin", "Scripts"):
        if (staging / scripts).is_dir():
            candidates.extend(p for p in (staging / scripts).iterdir() if p.is_file())
    for path in candidates:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 1 << 20:
            continue
        data = path.read_bytes()
        if old in data and b"\0" not in data[:1024]:
            mode = path.stat().st_mode
            path.write_bytes(data.replace(old, new))
            path.chmod(mode)


def write_marker(staging: Path, marker: dict[str, Any]) -> None:
    body = {"generator": f"{MARKER} {__version__}", **marker}
    (staging / COMPLETE_MARKER).write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


@contextlib.contextmanager
def staged_prefix(prefix: Path, *, force: bool) -> Iterator[Path]:
    """Yield a fresh staging directory next to `prefix`; on success, swap it into place.

    The caller builds into the staging directory and writes the marker last (`write_marker`).
    On any exception (Ctrl-C included) the staging directory is removed and `prefix` is untouched.
    """
    prefix = prefix.absolute()
    check_replaceable(prefix, force=force)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(prefix)
    staging = Path(tempfile.mkdtemp(prefix=f".{prefix.name}{_TMP_INFIX}", dir=prefix.parent))
    # mkdtemp makes the directory private (0700); an environment is shared like any other.
    staging.chmod(0o755)
    try:
        yield staging
        if read_marker(staging) is None:
            raise RuntimeError("a backend finished without writing the completion marker")
        retarget(staging, prefix)
        old = None
        if prefix.exists():
            old = prefix.with_name(f".{prefix.name}{_OLD_INFIX}{staging.name[-8:]}")
            prefix.rename(old)
        staging.rename(prefix)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


__all__ = [
    "BACKENDS",
    "COMPLETE_MARKER",
    "Backend",
    "BuildRequest",
    "BuildResult",
    "available_backends",
    "get_backend",
    "index_env",
    "install_hint",
    "is_up_to_date",
    "read_marker",
    "refuse_edited_locks",
    "staged_prefix",
    "write_marker",
]
