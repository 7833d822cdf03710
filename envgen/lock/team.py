"""The lock stage's policy: a committed lock set is the team's contract.

`lock()` makes or refreshes a set, `check()` says whether it is current, `use()` picks what this
machine installs from it (create's `--frozen`, `--locked` and default modes). Each takes what the
caller asks for now (`Ask`) and fills every part left out from the set's own index: the team's
request, its machine, its platforms and variants. So a teammate's `envgen create`, CI's `envgen
lock --check` and a pre-commit hook need no option at all, and the lead's laptop re-locks the GPU
variant for the GPU box the set was made for, not for the laptop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from envgen.errors import InputFileError, OptionError, StaleLockError, UsageError
from envgen.kb import KnowledgeBase
from envgen.lock.choose import Choice, pick_variant
from envgen.lock.fresh import Freshness, stale_error, team_request
from envgen.lock.fresh import check as check_set
from envgen.lock.index import INDEX, LockIndex, load_index, lock_path
from envgen.lock.integrity import require_intact
from envgen.lock.machine import Machine
from envgen.lock.make import LockSet, make_lock_set, variant_name, write_lock_set
from envgen.plan import Plan, Request
from envgen.profile import HardwareProfile

VARIANTS = ("cpu", "gpu")
MODES = ("default", "locked", "frozen")


@dataclass(frozen=True)
class Ask:
    """What the caller asks for now; None or empty: whatever the set (or this machine) says."""

    directory: Path
    request: Request | None = None
    machine: HardwareProfile | None = None
    """A profile given on purpose (`--profile`): the machine to plan the set for."""
    platforms: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    conda_channels: tuple[str, ...] = ()


def existing(directory: Path) -> LockIndex | None:
    """The set's index in `directory`, if there is one (a write cut short is finished first)."""
    from envgen.files import recover_set

    if directory.is_dir():
        recover_set(directory)
    path = directory / INDEX
    return load_index(path) if path.is_file() else None


@dataclass(frozen=True)
class Inputs:
    request: Request
    machine: HardwareProfile
    platforms: tuple[str, ...]
    variants: tuple[str, ...]


def inputs(
    ask: Ask,
    index: LockIndex | None,
    kb: KnowledgeBase,
    detect: Callable[[], HardwareProfile],
) -> Inputs:
    """Each input from the ask, else the index, else this machine (`detect`)."""
    from envgen.resolve import platform_of

    request = ask.request or (team_request(index) if index is not None else Request())
    machine = ask.machine
    if machine is None and index is not None and index.machine is not None:
        machine = index.machine.profile(kb)
    if machine is None:
        machine = detect()
    platforms = ask.platforms or (index.platforms if index is not None else ())
    if not platforms:
        own = platform_of(machine, kb)
        if own is None:
            # No official platform here (an armv7l board): the resolver says why, with remedies.
            from envgen.resolve import resolve

            found = resolve(machine, kb, request)
            if not isinstance(found, Plan):
                raise found.to_error()
        platforms = (own or "",)
    try:
        names = tuple(kb.lock_platforms.get(p).name for p in platforms)
    except UsageError as exc:
        raise OptionError("platform", exc.message, hint=exc.hint) from exc
    variants = ask.variants or (index.requested_variants if index is not None else ())
    if not variants:
        variants = ("gpu" if machine.has_nvidia_gpu else "cpu",)
    for v in variants:
        if v not in VARIANTS:
            raise OptionError("variants", f"unknown variant {v!r}", hint="available: cpu, gpu")
    return Inputs(request, machine, names, tuple(variants))


def lock(
    ask: Ask,
    kb: KnowledgeBase,
    *,
    command: str,
    uv: Callable[[], str],
    detect: Callable[[], HardwareProfile],
    force: bool = False,
) -> tuple[LockSet, list[str]]:
    """Make (or refresh) the set in `ask.directory` and write it; (the set, files changed).
    Locks the earlier set already holds for the same plan are kept without resolving. `uv`
    finds the uv executable, asked only once everything has been planned."""
    from envgen.resolve.platforms import plans_for

    index = existing(ask.directory)
    got = inputs(ask, index, kb, detect)
    platforms = [kb.lock_platforms.get(p) for p in got.platforms]
    plans = plans_for(got.machine, kb, got.request, platforms, list(got.variants))
    made = make_lock_set(
        plans,
        got.request,
        kb,
        command=command,
        machine=Machine.of(got.machine, kb),
        variants=got.variants,
        conda_channels=ask.conda_channels or (index.conda_channels if index else ()),
        uv=uv(),
        previous=(index, ask.directory) if index is not None else None,
        directory=str(ask.directory),
    )
    return made, write_lock_set(made, ask.directory, force=force)


def check(ask: Ask, kb: KnowledgeBase) -> Freshness:
    """Whether the set in `ask.directory` is current; StaleLockError (exit 9) when it is not."""
    index = existing(ask.directory)
    where = str(ask.directory)
    if index is None:
        raise StaleLockError(
            f"{ask.directory / INDEX} is missing: there is no lock set to check",
            hint="make one with `envgen lock`",
        )
    found = check_set(
        index,
        ask.directory,
        kb,
        request=ask.request,
        machine=ask.machine,
        platforms=ask.platforms,
        variants=ask.variants,
    )
    if not found.current:
        raise stale_error(found, index, where)
    return found


@dataclass(frozen=True)
class Use:
    """What this machine installs from the committed set, and what the stage found."""

    lock: Path
    choice: Choice
    index: LockIndex
    freshness: Freshness | None
    """None under --frozen (not checked)."""
    notes: tuple[str, ...] = field(default=())


def use(
    directory: Path,
    profile: HardwareProfile,
    kb: KnowledgeBase,
    *,
    mode: str = "default",
    target: str = "auto",
    request: Request | None = None,
    force: bool = False,
    label: str | None = None,
) -> Use:
    """The committed set's lock for this machine (`profile`), under `mode`:

    * frozen: as committed, nothing re-planned;
    * locked: refused with the stale-lock error (exit 9) when the set is not current;
    * default: installed as committed; a stale set is said, never rewritten.

    Every file is checked against the index's sha256 first (exit 3 when one was edited): uv
    takes a requirement when any one of its hashes matches. `label` is the folder the advice
    names (the `envgen lock --output-dir` that re-locks or adds a platform) where `directory`
    is a copy that will be gone (a bundle unpacked for one install); `directory` by default.
    """
    shown = str(directory) if label is None else label
    index = existing(directory)
    if index is None:
        raise StaleLockError(
            f"{directory / INDEX} does not exist", hint="run `envgen lock` (or create) first"
        )
    # A tampered set is refused whatever the mode (exit 3), before anything else is said of it.
    require_intact(index, directory)
    freshness = None
    notes: list[str] = []
    if mode != "frozen":
        freshness = check_set(index, directory, kb, request=request)
        if not freshness.current:
            if mode == "locked":
                raise stale_error(freshness, index, shown)
            notes.append(
                f"the committed lock set is stale ({freshness.changes[0]}); installing it as "
                f"committed: re-lock with `envgen lock --output-dir {shown}`"
            )
        notes += list(freshness.notes)
    choice = pick_variant(index, profile, target, force=force, directory=shown)
    if choice.lock.requirements is None:
        raise InputFileError(
            f"{directory / INDEX}: the {choice.variant.name} lock for {choice.lock.platform} "
            "has no requirements file (a conda-only lock)",
            hint="build it with --backend conda",
        )
    return Use(
        lock_path(directory, choice.lock.requirements),
        choice,
        index,
        freshness,
        tuple(notes),
    )


def single(plan: Plan) -> tuple[str, ...]:
    """The variants a set made for one plan asks for."""
    return ("cpu" if variant_name(plan) == "cpu" else "gpu",)


def explicit_request(
    request: Request, given: Sequence[str], index: LockIndex | None
) -> Request | None:
    """The request in force when the user set some of its options (`given`: the option names set
    by a flag, a variable or the project's configuration): the set's own request with those
    replaced (or `request` itself where there is no set yet). None when none was set: the set's
    own request stands."""
    import dataclasses

    from envgen.lock.fresh import REQUEST_KEYS

    changed = {k: getattr(request, k) for k in REQUEST_KEYS if k in given}
    if not changed:
        return None
    if index is None:
        return request
    return dataclasses.replace(team_request(index), **changed)
