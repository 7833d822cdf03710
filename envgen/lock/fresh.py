"""Is a committed lock set still current? Decided on what matters, and said in words.

Each lock is re-planned from what the index records (the team's request, the machine it was
planned for, the lock's platform and variant) with today's knowledge base, and compared with the
plan it locked by the digest of the resolved request (Plan.fingerprint): the pins, CUDA, cuDNN,
Python. The machine running the check does not enter (a teammate with other CPU flags, a CPU-only
CI runner checking the GPU variant), nor does envgen's own version, nor a knowledge-base change
that plans the same. What changed is named package by package ("tensorflow 2.20.1 -> 2.21.0"),
with the knowledge base's change where it is the cause, and the command that re-locks. Offline:
nothing is resolved against an index (a new transitive release on PyPI is not a reason to fail
CI; a changed request, knowledge base or edited file is).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from envgen.errors import StaleLockError
from envgen.kb import KnowledgeBase
from envgen.lock import pip as pip_lock
from envgen.lock.index import LockIndex, read_lock_file
from envgen.lock.integrity import verify_files
from envgen.plan import Plan, Request, Target
from envgen.profile import HardwareProfile

# The request keys a lock set holds the team to (the target only picks among its variants), as
# Request's attributes; the index writes them in kebab case (`keras-backend`).
REQUEST_KEYS = (
    "python",
    "tensorflow",
    "keras",
    "channel",
    "keras_backend",
    "allow_community_builds",
)
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?)\s*(.*)$")


@dataclass(frozen=True)
class Freshness:
    changes: tuple[str, ...] = ()
    """What no longer matches, one line each; none when the set is current."""
    notes: tuple[str, ...] = ()
    """What changed without changing any lock (a knowledge-base edit that plans the same)."""

    @property
    def current(self) -> bool:
        return not self.changes


def team_request(index: LockIndex) -> Request:
    """The request the set was made from."""
    fields = {k.replace("-", "_"): v for k, v in index.request.items()}
    return Request(**{k: v for k, v in fields.items() if k in (*REQUEST_KEYS, "target")})


def _pins(lines: Sequence[str]) -> dict[str, str]:
    out = {}
    for line in lines:
        found = _NAME.match(line.strip())
        if found:
            out[found.group(1)] = found.group(2).removeprefix("==").strip()
    return out


def pin_changes(old: Sequence[str], new: Sequence[str]) -> list[str]:
    """`name a -> b`, `name added (b)`, `name removed (a)` between two plans' pins."""
    before, after = _pins(old), _pins(new)
    out = []
    for name in dict.fromkeys([*before, *after]):
        a, b = before.get(name), after.get(name)
        if a == b:
            continue
        if a is None:
            out.append(f"{name} added ({b})")
        elif b is None:
            out.append(f"{name} removed ({a})")
        else:
            out.append(f"{name} {a} -> {b}")
    return out


def replan(
    kb: KnowledgeBase,
    machine: HardwareProfile,
    request: Request,
    platform: str,
    variant_target: str,
) -> Plan | str:
    """The plan for one lock of the set today; the no-solution's message where none exists."""
    from envgen.resolve import resolve
    from envgen.resolve.platforms import for_platform

    plat = kb.lock_platforms.get(platform)
    wanted = dataclasses.replace(request, target=Target(variant_target))
    found = resolve(for_platform(machine, plat, variant_target), kb, wanted)
    return found if isinstance(found, Plan) else found.message


def check(
    index: LockIndex,
    directory: Path,
    kb: KnowledgeBase,
    *,
    request: Request | None = None,
    machine: HardwareProfile | None = None,
    platforms: Sequence[str] = (),
    variants: Sequence[str] = (),
) -> Freshness:
    """What no longer matches between the set in `directory` and its inputs; nothing is run.

    `request`, `machine`, `platforms` and `variants` are what the caller asks for now (a lock
    command's options); each left out is the index's own."""
    from envgen.lock.make import variant_name

    changes: list[str] = []
    notes: list[str] = []
    if machine is None:
        if index.machine is None:
            old = (
                f"{directory}: made by an older envgen that recorded no machine; re-lock it "
                "once (envgen lock --profile FILE ...)"
            )
            return Freshness((old,))
        machine = index.machine.profile(kb)
    recorded = team_request(index)
    if request is not None:
        for key in REQUEST_KEYS:
            was: object = getattr(recorded, key)
            now: object = getattr(request, key)
            # A flag (allow-community-builds) left out of the index is the flag off.
            if isinstance(was, bool) or isinstance(now, bool):
                was, now = str(bool(was)), str(bool(now))
            if (None if was is None else str(was)) != (None if now is None else str(now)):
                changes.append(f"request changed: {key} {was or 'any'} -> {now or 'any'}")
    else:
        request = recorded
    if platforms and list(platforms) != list(index.platforms):
        changes.append(f"platforms {', '.join(index.platforms)} -> {', '.join(platforms)}")
    if variants and list(variants) != list(index.requested_variants):
        changes.append(f"variants {', '.join(index.requested_variants)} -> {', '.join(variants)}")
    planned: list[str] = []
    for var in index.variants:
        for lk in var.locks:
            where = f"{var.name}/{lk.platform}"
            found = replan(kb, machine, request, lk.platform, var.target)
            if isinstance(found, str):
                planned.append(f"{where}: no plan any more: {found}")
                continue
            if variant_name(found) != var.name:
                planned.append(f"{where}: now planned as {variant_name(found)}")
            if found.resolved_digest() != lk.plan_digest:
                diff = pin_changes(lk.plan, found.pin_lines()) or ["its plan changed"]
                planned.append(f"{where}: {'; '.join(diff)}")
            if lk.pylock is not None and (directory / lk.pylock).is_file():
                locked = pip_lock.parse_pylock(read_lock_file(directory, lk.pylock), lk.pylock)
                versions = {p.name: p.version for p in locked}
                planned += [f"{lk.pylock}: {p}" for p in pip_lock.unmet_pins(found, versions)]
    if index.kb_version != kb.digest:
        what = f"knowledge base changed ({index.kb_version} -> {kb.digest})"
        if planned:
            changes.append(what + ", which changes these locks:")
        else:
            notes.append(what + "; every lock plans the same")
    changes += planned
    problems = verify_files(index, directory)
    unreadable = [p for p in problems if not p.readable]
    if unreadable:
        from envgen.errors import InputFileError

        # Not a stale lock but a broken file: a bad input file, as every reader reports it.
        raise InputFileError(f"{directory / unreadable[0].name} {unreadable[0].why}")
    changes += [str(p) for p in problems]
    return Freshness(tuple(changes), tuple(notes))


def relock_command(index: LockIndex, directory: str) -> str:
    """The command that re-locks the set with its own request, platforms and variants."""
    import shlex

    argv = ["envgen", "lock", "--output-dir", directory]
    argv += ["--platform", ",".join(index.platforms)]
    argv += ["--variants", ",".join(index.requested_variants)]
    return shlex.join(argv)


def stale_error(freshness: Freshness, index: LockIndex, directory: str) -> StaleLockError:
    """The stale-lock error (exit 9): the first change in the message, all of them listed."""
    more = len(freshness.changes) - 1
    return StaleLockError(
        f"{directory}: the committed lock set is stale: {freshness.changes[0]}"
        + (f" (and {more} more)" if more > 0 else ""),
        hint=f"re-lock with: {relock_command(index, directory)}",
        changes=list(freshness.changes),
    )
