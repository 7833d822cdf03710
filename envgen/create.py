"""`envgen create`: every stage in one go — plan, render, lock, build, verify — idempotently.

Each stage is the same code its own subcommand runs; this module only sequences them and decides
what can be skipped: a lock set whose variant for this machine already matches the plan is used
as is (no resolve), a prefix built from the same lock is reused (no install), files whose content
would not change are not rewritten. A second run with nothing changed therefore only re-verifies.

Progress goes through a callback so that only the CLI prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from envgen.errors import FileConflictError, NoSolutionError, VerificationError
from envgen.kb import KnowledgeBase
from envgen.plan import Plan, Request
from envgen.profile import HardwareProfile

if TYPE_CHECKING:
    from envgen.bundle import OpenedBundle

Progress = Callable[[str], None]

LOCK_DIR = "locks"
DEFAULT_PREFIX = ".venv"
RENDERED = ("environment.yml", "requirements.txt", "Dockerfile")


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
    progress: bool = False
    """Let long steps (the install) show their own progress on the terminal."""
    command: str = "envgen create"
    base_image: str | None = None
    """The container backend's `BASE_IMAGE` build argument (a registry mirror, a local image)."""
    bundle: OpenedBundle | None = None
    """Install offline from this unpacked, checked bundle: its lock set (as committed, never
    re-resolved) and its wheels, no index."""
    mirror_source: str = "--mirror"
    """Where the mirror was named (flag, ENVGEN_MIRROR, config key), for the explanation."""
    mirror_given: bool = False


@dataclass
class CreateResult:
    plan: Plan
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
    bundle: str | None = None
    """The bundle installed from (`create --from-bundle`): its locks are not the project's."""

    def to_dict(self) -> dict[str, object]:
        return {
            "plan": self.plan.to_dict(),
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
        }


class _Clock:
    def __init__(self, result: CreateResult, progress: Progress) -> None:
        self.result, self.progress = result, progress

    def step(self, stage: str, start: float, what: str) -> None:
        seconds = round(time.perf_counter() - start, 2)
        self.result.steps.append((stage, what, seconds))
        self.progress(f"{stage:<7} {what} ({seconds:.1f} s)")


def _requirements_lock(
    plan: Plan,
    *,
    request: Request,
    profile: HardwareProfile,
    kb: KnowledgeBase,
    options: CreateOptions,
    progress: Progress,
) -> tuple[Path, str, str]:
    """The hashed requirements lock for this machine's variant: (path, variant, what happened)."""
    from envgen.build.venv import find_uv
    from envgen.lock.lockset import (
        INDEX,
        load_index,
        lock_path,
        make_lock_set,
        pick_variant,
        require_intact,
        variant_name,
        write_lock_set,
    )

    bundled = options.bundle is not None
    directory = options.bundle.locks if options.bundle is not None else options.project / LOCK_DIR
    index_path = directory / INDEX
    wanted = variant_name(plan)
    if index_path.is_file():
        index = load_index(index_path)
        try:
            choice = pick_variant(index, profile, plan.target)
        except NoSolutionError:
            choice = None
        if choice is not None and choice.lock.requirements:
            path = lock_path(directory, choice.lock.requirements)
            current = choice.lock.plan_digest == plan.digest() and path.is_file()
            if current or options.frozen or bundled:
                # Installing from the committed set: every file must be what `envgen lock`
                # wrote (uv takes a requirement when any one of its hashes matches).
                require_intact(index, directory)
                note = "as committed" if current else "as committed (--frozen: not re-resolved)"
                if bundled:
                    note = "from the bundle (as committed, not re-resolved)"
                return path, choice.variant.name, f"{choice.variant.name} {note}: {choice.reason}"
            if options.locked:
                raise VerificationError(
                    f"{index_path}: the {choice.variant.name} lock no longer matches the plan "
                    f"({choice.lock.plan_digest} -> {plan.digest()})",
                    hint="run without --locked to refresh it, or `envgen lock`",
                )
        if options.frozen or bundled:
            raise VerificationError(
                f"{index_path} has no lock that fits this machine",
                hint="run `envgen lock` (or create without --frozen)",
            )
        others = [v.name for v in index.variants if v.name != wanted]
        if others and not options.force:
            raise FileConflictError(
                f"{directory} holds the lock set of `envgen lock` with variants "
                f"{', '.join(v.name for v in index.variants)}; create would replace it with {wanted}",
                hint="refresh it with `envgen lock --variants ...`, or pass --force",
            )
    elif options.frozen or options.locked:
        raise VerificationError(f"{index_path} does not exist", hint="run `envgen lock` first")
    progress(f"lock    resolving {wanted} with uv (hashes, {plan.platform}, Python {plan.python})")
    made = make_lock_set(
        [plan], request, kb, command=f"{options.command} (lock stage)", uv=find_uv() or "uv"
    )
    write_lock_set(made, directory, force=options.force)
    lock = made.index.variants[0].locks[0]
    assert lock.requirements is not None  # a pip plan always has a requirements lock
    return directory / lock.requirements, wanted, f"{wanted} locked ({lock.packages} packages)"


def _conda_lock(lock: Path, variant: str) -> Path | None:
    """The conda-lock file the lock set beside `lock` has for `variant`, if any."""
    from envgen.lock.lockset import INDEX, load_index, lock_path

    index_path = lock.parent / INDEX
    if not index_path.is_file():
        return None
    index = load_index(index_path)
    for v in index.variants:
        if v.name == variant and v.conda_lock:
            return lock_path(lock.parent, v.conda_lock)
    return None


def create(
    profile: HardwareProfile,
    kb: KnowledgeBase,
    request: Request,
    options: CreateOptions,
    progress: Progress,
) -> CreateResult:
    """Run every stage; raise the stage's error (no solution, tool failure, verification)."""
    from envgen.build import BuildRequest, get_backend, install_hint
    from envgen.environment import venv_python
    from envgen.errors import ExternalToolError
    from envgen.kb.mirrors import DEFAULT
    from envgen.mirrors import choose, explain, next_mirror_hint
    from envgen.render import RenderOptions, render, write
    from envgen.resolve import resolve
    from envgen.verify import verify
    from envgen.verify.expect import from_lock

    start = time.perf_counter()
    # First: a bad mirror is refused before anything is resolved or written. Its login (if
    # any) goes to the installer through the environment only (envgen.build), never a file.
    mirror = choose(options.mirror, kb.mirrors)
    if options.bundle is None:
        for line in explain(mirror, options.mirror_source, options.mirror_given):
            progress(f"mirror  {line}")
    result = resolve(profile, kb, request)
    if not isinstance(result, Plan):
        raise result.to_error()
    plan = result
    prefix = options.prefix or options.project / DEFAULT_PREFIX
    out = CreateResult(plan, prefix, venv_python(prefix), Path(), "")
    if options.bundle is not None:
        out.bundle = f"{options.bundle.archive} (sha256 {options.bundle.sha256[:16]})"
    clock = _Clock(out, progress)
    pins = f"{plan.tensorflow.requirement()} on Python {plan.python}"
    clock.step("plan", start, f"{plan.target.upper()}: {pins}")

    start = time.perf_counter()
    lock, variant, what = _requirements_lock(
        plan, request=request, profile=profile, kb=kb, options=options, progress=progress
    )
    out.lock, out.variant = lock, variant
    clock.step("lock", start, what)

    start = time.perf_counter()
    rendered = render(
        plan,
        RenderOptions(
            mirror=mirror,
            formats=RENDERED,
            command=options.command,
            lockfile=lock.relative_to(options.project).as_posix()
            if lock.is_relative_to(options.project)
            else None,
        ),
    )
    written = write(rendered, options.project, force=options.force)
    out.files = [*written.written]
    changed = sum(1 for _, c in written.written if c)
    clock.step("render", start, f"{len(written.written)} files, {changed} changed")

    start = time.perf_counter()
    container = options.backend == "container"
    where = f"image from {options.project / 'Dockerfile'}" if container else f"at {prefix}"
    progress(f"build   {options.backend} {where}")
    bundle = options.bundle
    build_request = BuildRequest(
        prefix=prefix,
        python=plan.python,
        lock=lock,
        index_url=None if mirror.mirror.name == DEFAULT or bundle else mirror.install_url,
        find_links=bundle.wheels if bundle is not None else None,
        offline=bundle is not None,
        force=options.force,
        conda_lock=_conda_lock(lock, variant) if options.backend == "conda" else None,
        context=options.project if container else None,
        base_image=options.base_image,
        gpu=plan.target == "gpu",
        progress=options.progress,
    )
    try:
        built = get_backend(options.backend, check=True).build(build_request)
    except ExternalToolError as exc:
        # The venv backend's install step fails with `install_hint` as its hint: that step is
        # the one that needs the index, so the hint becomes the next mirror to try, named.
        if bundle is not None or exc.hint != install_hint(build_request):
            raise
        raise ExternalToolError(exc.message, hint=next_mirror_hint(mirror, kb.mirrors)) from exc
    out.python = built.python
    if built.image is not None:
        # The image's own check ran inside it (build() raises when it fails): that is the
        # verification; the host-side probe cannot see into the image.
        out.image = built.image
        how = "reused (same inputs)" if built.reused else f"built with {built.installer}"
        clock.step("build", start, f"{built.image} {how}")
        out.report = {"ok": True, "image": built.image, "check": built.check}
        clock.step("verify", time.perf_counter(), f"image check passed: {built.check}")
        return out
    how = "reused (same lock)" if built.reused else f"installed with {built.installer}"
    clock.step("build", start, f"{prefix} {how}")

    if options.verify:
        start = time.perf_counter()
        progress("verify  importing TensorFlow and computing in the new environment")
        report = verify(
            built.python,
            target=plan.target,
            expect=from_lock(lock),
            cpu_flags=profile.cpu.flags,
            kb=kb,
            profile_hash=plan.inputs.get("profile"),
        )
        from envgen.files import write_text

        out.report_path = prefix / "verify-report.json"
        write_text(out.report_path, report.to_json(), force=True)
        out.report = report.to_dict()
        failed = report.failures
        clock.step("verify", start, "passed" if not failed else f"{len(failed)} check(s) failed")
        if failed:
            details = "; ".join(f"{c.name}: {c.detail}" for c in failed)
            raise VerificationError(
                f"the environment at {prefix} was built but does not work: {details}",
                hint=f"details in {out.report_path}; `envgen doctor --prefix {prefix}` explains",
            )
    return out
