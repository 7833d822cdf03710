"""`envgen create`: every stage in one go — plan, render, lock, build, verify — idempotently.

Each stage is the same code its own subcommand runs; this module only sequences them and decides
what can be skipped: a lock set whose variant for this machine already matches the plan is used
as is (no resolve), a prefix built from the same lock is reused (no install), files whose content
would not change are not rewritten. A second run with nothing changed therefore only re-verifies.

Interruption and concurrency: build and verify run under the prefix's lock
(`envgen.backends.prefix_lock`), so a second `create` into the same prefix waits for the first (up
to `wait` seconds) and then finds it built; a build that is interrupted or killed never leaves a
prefix that looks ready (envgen/backends/__init__.py), and a verification cut short leaves no
report, so the next run builds or verifies again.

`from_bundle` installs from a bundle (`envgen bundle`) instead of the project's lock set, with no
network: the archive is unpacked beside the project and checked file by file, its lock set is
used as a committed one (the same variant choice, the same modes), the backend installs from its
wheels alone, and the unpacked copy is removed. The team's files are not rendered from it: they
belong with the lock set the bundle was made from.

Progress goes through a callback so that only the CLI prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from envgen.errors import StaleLockError
from envgen.kb import KnowledgeBase
from envgen.plan import Plan, Request
from envgen.profile import HardwareProfile
from envgen.team_files import LOCK_DIR

if TYPE_CHECKING:
    from envgen.backends import Backend
    from envgen.bundle import OpenedBundle
    from envgen.lock.index import LockIndex
    from envgen.mirrors import MirrorChoice

Progress = Callable[[str], None]

DEFAULT_PREFIX = ".venv"


@dataclass(frozen=True)
class CreateOptions:
    project: Path = Path()
    prefix: Path | None = None
    """Where the environment goes (default: `.venv` in the project)."""
    backend: str = "venv"
    mirror: str = "pypi"
    locked: bool = False
    """Fail when the lock no longer matches the plan (uv's --locked)."""
    frozen: bool = False
    """Install the committed lock as it is, without resolving (uv's --frozen)."""
    force: bool = False
    verify: bool = True
    full_verify: bool = False
    """Run the verification probe even where the record of the last full one still holds."""
    progress: bool = False
    """Let long steps (the install) show their own progress on the terminal."""
    command: str = "envgen create"
    base_image: str | None = None
    """The container backend's `BASE_IMAGE` build argument (a registry mirror, a local image)."""
    wait: float | None = None
    """Seconds to wait for another envgen building the same prefix (None: until it is done)."""
    relock: bool = False
    """Re-resolve the committed lock set (and rewrite the team's files from it)."""
    request_given: tuple[str, ...] = ()
    """The request options the user set (flag, ENVGEN_* or [tool.envgen]); with a committed
    set present, only these override the set's own request."""
    from_bundle: Path | None = None
    """Install offline from this bundle (its lock set, as committed, and its wheels)."""
    mirror_source: str = "--mirror"
    """Where the mirror was named (flag, ENVGEN_MIRROR, config key), for the explanation."""
    mirror_given: bool = False
    torch_mirror: str | None = None
    """A mirror of the PyTorch index for torch builds only it serves (`--torch-mirror`)."""


@dataclass
class CreateResult:
    plan: Plan | None
    """The chosen variant's plan (for the set's machine); None where it no longer plans."""
    prefix: Path
    python: Path
    lock: Path
    variant: str
    steps: list[tuple[str, str, float]] = field(default_factory=list)
    """(stage, what happened, seconds)."""
    files: list[tuple[str, bool]] = field(default_factory=list)
    """(path, changed) of the files a team commits."""
    report: dict[str, object] | None = None
    report_path: Path | None = None
    image: str | None = None
    """The container backend's image tag."""
    choice: str = ""
    """Why this machine got this variant, in one line."""
    notes: list[str] = field(default_factory=list)
    """What the lock stage said (a stale set installed as committed, ...)."""
    locked_changed: list[str] = field(default_factory=list)
    """Lock files written by this run (none when the committed set was used as it is)."""
    bundle: str | None = None
    """The bundle installed from (its archive and sha256); `lock` is then a path inside it."""
    build: dict[str, object] | None = None
    """The install's phases (resolve, download, install, bytecode) and what it fetched."""

    def to_dict(self) -> dict[str, object]:
        return {
            "plan": self.plan.to_dict() if self.plan is not None else None,
            "choice": self.choice,
            "notes": list(self.notes),
            "locks-changed": list(self.locked_changed),
            "prefix": str(self.prefix),
            "python": str(self.python),
            "lock": str(self.lock),
            "variant": self.variant,
            "steps": [{"stage": s, "result": r, "seconds": t} for s, r, t in self.steps],
            "files": [{"path": p, "changed": c} for p, c in self.files],
            "verify": self.report,
            "verify-report": str(self.report_path) if self.report_path else None,
            **({"image": self.image} if self.image else {}),
            **({"bundle": self.bundle} if self.bundle else {}),
            **({"build": self.build} if self.build else {}),
        }


class Clock:
    """Times each stage into the result and says it through `progress`."""

    def __init__(self, result: CreateResult, progress: Progress) -> None:
        self.result, self.progress = result, progress

    def step(self, stage: str, start: float, what: str) -> None:
        seconds = round(time.perf_counter() - start, 2)
        self.result.steps.append((stage, what, seconds))
        self.progress(f"{stage:<7} {what} ({seconds:.1f} s)")


def _check_outputs(project: Path, prefix: Path | None) -> None:
    """Refuse an output directory or prefix that cannot be written before any slow stage."""
    from envgen.files import check_writable_dir

    check_writable_dir(project, what="output directory", hint="choose another --output-dir")
    if prefix is not None:
        check_writable_dir(prefix, what="prefix", hint="choose another --prefix")
        check_writable_dir(
            prefix.parent, what="the prefix's directory", hint="choose another --prefix"
        )


def create(
    profile: HardwareProfile,
    kb: KnowledgeBase,
    request: Request,
    options: CreateOptions,
    progress: Progress,
) -> CreateResult:
    """Run every stage; raise the stage's error (no solution, tool failure, verification).

    Without a lock set in the project (a lead's first run), plan for this machine, lock that
    variant, write the team's files. With one (a teammate's clone), the set is the contract:
    this machine's variant is installed from it as committed, the team's files are left as they
    are (only a missing one is written, from the set's own request), and nothing committed is
    rewritten unless `relock` asks for it.
    """
    from envgen.backends import get_backend
    from envgen.bundle import LOCKS, offline_ready, unpacked
    from envgen.kb.mirrors import DEFAULT
    from envgen.mirrors import choose, explain

    prefix = options.prefix or options.project / DEFAULT_PREFIX
    backend = get_backend(options.backend, check=True)
    if options.from_bundle is not None:
        offline_ready(backend, relock=options.relock)
    _check_outputs(options.project, prefix if backend.makes_prefix else None)
    start = time.perf_counter()
    if options.from_bundle is None:
        # First: a bad mirror is refused before anything is resolved or written. Its login (if
        # any) goes to the installer through the environment only (envgen.backends), never a
        # file.
        mirror = choose(options.mirror, kb.mirrors)
        for line in explain(mirror, options.mirror_source, options.mirror_given):
            progress(f"mirror  {line}")
        return _create(
            profile, kb, request, options, progress, backend=backend, mirror=mirror, start=start
        )
    # A bundle carries every file: no index is read (not even probed, for `auto`).
    if options.mirror_given:
        progress(f"mirror  {options.mirror_source} not used: the bundle carries every file")
    with unpacked(options.from_bundle, options.project) as bundle:
        progress(f"bundle  {bundle.archive}: every file checked (sha256 {bundle.sha256})")
        mirror = choose(DEFAULT, kb.mirrors)
        out = _create(
            profile, kb, request, options, progress,
            backend=backend, mirror=mirror, start=start, bundle=bundle,
        )  # fmt: skip
    # The unpacked copy is gone: the lock is named as the bundle holds it.
    out.lock = Path(LOCKS, out.lock.name)
    return out


def _create(
    profile: HardwareProfile,
    kb: KnowledgeBase,
    request: Request,
    options: CreateOptions,
    progress: Progress,
    *,
    backend: Backend,
    mirror: MirrorChoice,
    start: float,
    bundle: OpenedBundle | None = None,
) -> CreateResult:
    """`create` once the backend, the mirror (or the unpacked bundle) are settled."""
    from envgen import create_build, install, team_files
    from envgen.environment import venv_python
    from envgen.lock import team

    prefix = options.prefix or options.project / DEFAULT_PREFIX
    directory = bundle.locks if bundle is not None else options.project / LOCK_DIR
    index = team.existing(directory)
    explicit = team.explicit_request(request, options.request_given, index)
    out = CreateResult(None, prefix, venv_python(prefix), Path(), "")
    if bundle is not None:
        out.bundle = f"{bundle.archive} (sha256 {bundle.sha256})"
    clock = Clock(out, progress)
    made_here = bundle is None and (index is None or options.relock)
    if made_here:
        if index is None and (options.frozen or options.locked):
            raise StaleLockError(
                f"{directory / 'envgen-lock.toml'} does not exist: nothing to install as locked",
                hint="run `envgen lock` (or create without --frozen/--locked) first",
            )
        out.locked_changed = _lock_here(
            profile=profile,
            kb=kb,
            request=request,
            explicit=explicit,
            options=options,
            index=index,
            directory=directory,
            clock=clock,
            progress=progress,
            start=start,
        )
        start = time.perf_counter()
    mode = "frozen" if options.frozen or made_here else "locked" if options.locked else "default"
    use = team.use(
        directory,
        profile,
        kb,
        mode=mode,
        target=str(request.target),
        request=explicit,
        force=options.force,
        # Advice names the folder the bundle's set came from, not its unpacked copy.
        label=LOCK_DIR if bundle is not None else None,
    )
    out.lock, out.variant, out.choice = use.lock, use.choice.variant.name, use.choice.reason
    out.notes = list(use.notes)
    for note in use.notes:
        progress(f"lock    note: {note}")
    how = "just locked" if made_here else "as committed"
    if bundle is not None:
        how = "from the bundle, as committed"
    clock.step("lock", start, f"{out.variant} {how}: {use.choice.reason}")
    out.plan = team_files.variant_plan(use, kb, explicit)

    if bundle is None:
        start = time.perf_counter()
        out.files = team_files.write(
            use,
            kb,
            mirror,
            project=options.project,
            command=options.command,
            force=options.force,
            torch_mirror=options.torch_mirror,
            rewrite=made_here,
        )
        changed = sum(1 for _, c in out.files if c)
        clock.step("render", start, f"{len(out.files)} files, {changed} changed")

    # Build and verify are one step for the prefix: nobody swaps it while it is being verified.
    with install.held(
        backend, prefix, wait=options.wait, on_wait=lambda line: progress(f"build   {line}")
    ):
        create_build.build_and_verify(
            out,
            use=use,
            backend=backend,
            profile=profile,
            kb=kb,
            options=options,
            mirror=mirror,
            clock=clock,
            progress=progress,
            bundle=bundle,
        )
    return out


def _lock_here(
    *,
    profile: HardwareProfile,
    kb: KnowledgeBase,
    request: Request,
    explicit: Request | None,
    options: CreateOptions,
    index: LockIndex | None,
    directory: Path,
    clock: Clock,
    progress: Progress,
    start: float,
) -> list[str]:
    """Make the project's lock set (first run: this machine's plan) or re-lock it (`relock`:
    the set's own request, machine, platforms and variants, with the options the user set)."""
    from envgen.lock import team
    from envgen.resolve import resolve
    from envgen.tools import find_uv

    if index is None:
        result = resolve(profile, kb, request)
        if not isinstance(result, Plan):
            raise result.to_error()
        pins = f"{result.tensorflow.requirement()} on Python {result.python}"
        clock.step("plan", start, f"{result.target.upper()}: {pins}")
        ask = team.Ask(
            directory,
            request=request,
            machine=profile,
            platforms=(kb.lock_platforms.get(result.platform).name,),
            variants=team.single(result),
        )
        what = f"{result.platform}, Python {result.python}"
    else:
        ask = team.Ask(directory, request=explicit)
        what = f"the committed set's {', '.join(index.platforms)}"
    progress(f"lock    resolving with uv (hashes, {what})")
    _made, changed = team.lock(
        ask,
        kb,
        command=f"{options.command} (lock stage)",
        uv=lambda: find_uv() or "uv",
        detect=lambda: profile,
        force=options.force,
    )
    return changed
