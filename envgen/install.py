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
) -> BuildRequest:
    """What to build for the chosen lock: every input a backend may need (each takes its own:
    the conda backend the variant's conda-lock file, the container backend the project as its
    build context), the mirror applied at install time, and what this machine chose."""
    from envgen.kb.mirrors import DEFAULT
    from envgen.lock.index import lock_path

    variant, lock = use.choice.variant, use.choice.lock
    directory = use.lock.parent
    return BuildRequest(
        prefix=prefix,
        python=lock.python,
        lock=use.lock,
        index_url=None if mirror.mirror.name == DEFAULT else mirror.install_url,
        force=force,
        conda_lock=lock_path(directory, variant.conda_lock) if variant.conda_lock else None,
        context=project,
        base_image=base_image,
        gpu=variant.target == "gpu",
        chosen=(("variant", variant.name), ("why", use.choice.reason)),
        environment=variant.environment,
        progress=progress,
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


def build(backend: Backend, request: BuildRequest) -> BuildResult:
    """Build (or reuse) what `request` asks for; the backend raises what went wrong."""
    return backend.build(request)
