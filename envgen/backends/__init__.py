"""`envgen build`: execute a lock into an environment, behind a small backend interface.

A backend (venv, conda, container) turns a `BuildRequest` into a ready prefix (an image tag for
the container backend).
Backends are chosen by name (`get_backend("venv")`) and imported only when chosen, so a missing
optional tool costs nothing until it is asked for (pipx backends, repo2docker engines).

Every backend that builds on this machine shares the prefix discipline (`prefix.py`):
- build into a temporary directory next to the prefix, then rename it into place, and write the
  completion marker last: an interrupted or failed build never leaves something that looks ready;
- a prefix carrying the marker for the same inputs is reused (a re-run does no work);
- an existing directory that envgen did not build is never replaced without `force`;
- one envgen at a time builds, swaps or verifies a prefix (`prefix_lock`, an advisory lock on a
  file beside it); a second one waits, or gives up after its `wait` with one line naming the
  holder. The kernel drops the lock with its holder, so a killed envgen never blocks the next;
- what a killed run left (a staging directory, a half-made in-place prefix, the old prefix set
  aside during a swap) is recognised by its name and cleaned up, or put back, by the next run.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from envgen.backends.installlog import InstallReport
from envgen.backends.prefix import (
    COMPLETE_MARKER,
    building_in_place,
    check_replaceable,
    discard,
    is_up_to_date,
    prefix_lock,
    read_marker,
    recover,
    remove_leftovers,
    retarget,
    sibling,
    staged_prefix,
    write_marker,
)
from envgen.credentials import split_login
from envgen.digest import SHORT
from envgen.errors import ExternalToolError, UsageError
from envgen.files import LOCK_FILE, read_bytes

# name -> "module:attribute"; imported on demand.
BACKENDS: dict[str, str] = {
    "conda": "envgen.backends.conda:CondaBackend",
    "container": "envgen.backends.container:ContainerBackend",
    "venv": "envgen.backends.venv:VenvBackend",
}


@dataclass(frozen=True)
class BuildRequest:
    """What to build, where. Exactly one of `lock` and `requirements` is normally given."""

    prefix: Path
    python: str
    """A version ("3.11") for the installer to find, or an interpreter path."""
    lock: Path | None = None
    """A hashed requirements lock (installed with --require-hashes)."""
    pylock: Path | None = None
    """The PEP 751 lock of the same plan and platform, beside `lock`. With no mirror and no
    offline folder, uv installs from it (`direct_from_pylock`): every file's URL and sha256 are
    in it, so downloads start at once, without reading an index page first."""
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
    """The container's check needs the GPUs passed through."""
    progress: bool = False
    """Let the installer draw its progress on the terminal (the CLI sets it on a TTY); not an
    input of the build, so it is not hashed."""
    chosen: tuple[tuple[str, str], ...] = ()
    """What this machine chose and why (the variant of a team's lock set): recorded in the
    completion marker beside the environment, never in a committed file; not hashed."""
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
        # The pylock counts only when it is what gets installed (the locks name the same files).
        pylock = self.pylock if self.direct_from_pylock else None
        for path in (self.lock, pylock, self.conda_lock, *extra):
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

    @property
    def direct_from_pylock(self) -> bool:
        """Install the pylock's own files: only from PyPI itself (a mirror serves other URLs,
        an offline bundle a folder), and only where a pylock was given."""
        return (
            self.pylock is not None
            and self.index_url is None
            and not self.extra_index_urls
            and not self.offline
            and self.find_links is None
        )


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
    install_log: InstallReport | None = None
    """What uv said about each phase of the install (None: reused, or not uv)."""

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
        if self.install_log is not None:
            out["phases"] = self.install_log.to_dict()
            out["check"] = self.check
        return out


class Backend(Protocol):
    name: str
    makes_prefix: bool
    """True: builds an environment on this machine (a prefix to lock and to probe); False:
    builds something elsewhere (an image) that carries its own check."""
    installs_offline: bool
    """True: honours `BuildRequest.offline`, installing from `find_links` alone with no network
    (a bundle); False: would still reach a channel or a registry."""

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


@contextlib.contextmanager
def from_index(request: BuildRequest) -> Iterator[None]:
    """Around the step that installs from `request`'s index: an `ExternalToolError` it raises
    says so (`from_index`), unless the request installs offline, where no index is read."""
    try:
        yield
    except ExternalToolError as exc:
        exc.from_index = not request.offline
        raise


def refuse_edited_locks(*locks: Path | None) -> None:
    """Refuse (InputFileError) a lock given to a backend that its lock set's index says was
    edited since `envgen lock` wrote it; checked before anything is installed. A lock without
    an index beside it is taken as it is: its own hashes are all there is to check."""
    from envgen.lock.integrity import verify_beside

    for lock in locks:
        if lock is not None:
            verify_beside(lock)


__all__ = [
    "BACKENDS",
    "COMPLETE_MARKER",
    "Backend",
    "BuildRequest",
    "BuildResult",
    "available_backends",
    "building_in_place",
    "check_replaceable",
    "discard",
    "from_index",
    "get_backend",
    "index_env",
    "install_hint",
    "is_up_to_date",
    "prefix_lock",
    "read_marker",
    "recover",
    "refuse_edited_locks",
    "remove_leftovers",
    "retarget",
    "sibling",
    "staged_prefix",
    "write_marker",
]
