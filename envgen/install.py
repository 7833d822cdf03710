"""The build stage as an API: this machine's variant of a committed lock set, built.

`envgen build` runs it alone (no planning, no rendering, no verification); `envgen create` runs
it between render and verify. The backend says what it makes: a prefix on this machine (venv,
conda), held under the prefix lock while it is built (and, by create, verified), or an image that
carries its own check (container); nothing here names a backend.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from envgen.backends import Backend, BuildRequest, BuildResult

if TYPE_CHECKING:
    from envgen.backends.installlog import Fetched
    from envgen.lock.team import Use
    from envgen.mirrors import MirrorChoice


def request_for(
    use: Use,
    *,
    project: Path,
    prefix: Path,
    mirror: MirrorChoice,
    force: bool = False,
    base_image: str | None = None,
    progress: bool = False,
    offline_from: Path | None = None,
    origin: str | None = None,
) -> BuildRequest:
    """What to build for the chosen lock: every input a backend may need (each takes its own:
    the conda backend the variant's conda-lock file, the container backend the project as its
    build context), the mirror applied at install time, and what this machine chose.

    `offline_from` installs from that folder of files alone (a bundle's `wheels/`): no index,
    no mirror, no network; `origin` (the bundle's archive) is recorded with the choice."""
    from envgen.kb.mirrors import DEFAULT
    from envgen.lock.index import lock_path

    variant, lock = use.choice.variant, use.choice.lock
    directory = use.lock.parent
    chosen = (("variant", variant.name), ("why", use.choice.reason))
    offline = offline_from is not None
    return BuildRequest(
        prefix=prefix,
        python=lock.python,
        lock=use.lock,
        pylock=lock_path(directory, lock.pylock) if lock.pylock else None,
        index_url=None if mirror.mirror.name == DEFAULT or offline else mirror.install_url,
        force=force,
        conda_lock=lock_path(directory, variant.conda_lock) if variant.conda_lock else None,
        context=project,
        base_image=base_image,
        gpu=variant.target == "gpu",
        chosen=(*chosen, ("from", origin)) if origin else chosen,
        progress=progress,
        find_links=offline_from,
        offline=offline,
    )


@contextlib.contextmanager
def held(
    backend: Backend, prefix: Path, *, wait: float | None, on_wait: Callable[[str], None]
) -> Iterator[None]:
    """The prefix lock while `backend` builds on this machine; nothing for one that does not."""
    from envgen.backends import prefix_lock

    if not backend.makes_prefix:
        yield
        return
    with prefix_lock(prefix, wait=wait, on_wait=on_wait):
        yield


def where(backend: Backend, request: BuildRequest) -> str:
    """What the build makes, for the progress line."""
    if backend.makes_prefix:
        return f"at {request.prefix}"
    context = request.context or Path()
    return f"image from {context / 'Dockerfile'}"


def fetched(built: BuildResult, use: Use, request: BuildRequest) -> Fetched | None:
    """What the build's install fetched, and from where: uv's summary, with the bytes of the
    chosen lock's own file sizes (its pylock records them)."""
    from urllib.parse import urlsplit

    from envgen.backends.installlog import fetched as count
    from envgen.errors import InputFileError
    from envgen.lock.index import lock_path, read_lock_file
    from envgen.lock.pip import install_files

    if built.install_log is None:
        return None
    lock = use.choice.lock
    sizes: dict[str, int] = {}
    if lock.pylock:
        where = lock_path(use.lock.parent, lock.pylock)
        try:
            text = read_lock_file(use.lock.parent, lock.pylock)
            files = install_files(text, lock.python, str(where))
        except InputFileError:
            files = ()  # the set was checked before the build; a count must not fail it now
        sizes = {f.name: f.size for f in files if f.size is not None}
    if request.offline:
        source = f"{request.find_links} (offline)"
    elif request.index_url:
        # The mirror's host only: its URL may carry a login.
        source = urlsplit(request.index_url).hostname or "the mirror"
    elif request.direct_from_pylock:
        source = "files.pythonhosted.org (the pylock's URLs)"
    else:
        source = "pypi.org"
    return count(built.install_log, sizes, source)


def build(backend: Backend, request: BuildRequest) -> BuildResult:
    """Build (or reuse) what `request` asks for; the backend raises what went wrong."""
    return backend.build(request)
