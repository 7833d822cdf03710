"""The team's files of a committed lock set: environment.yml, requirements.txt and a Dockerfile.

`envgen create` writes them from the set's own request for its primary variant (the GPU box a
team renders for, else its CPU variant), re-planned for the machine the set records, never for
the machine create runs on: a teammate's clone gets the files the lead committed. Written where
the set was just made or re-locked; otherwise only a missing file is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from envgen.plan import Plan

if TYPE_CHECKING:
    from envgen.kb import KnowledgeBase
    from envgen.lock.index import LockIndex
    from envgen.lock.team import Use
    from envgen.mirrors import MirrorChoice
    from envgen.plan import Request

LOCK_DIR = "locks"
"""The project's lock set folder."""
RENDERED = ("environment.yml", "requirements.txt", "Dockerfile")
"""The files a team commits beside it."""


def variant_plan(use: Use, kb: KnowledgeBase, explicit: Request | None) -> Plan | None:
    """The plan of the chosen lock, re-planned for the set's machine (what the team's files and
    the summary describe); None where today's knowledge base no longer plans it."""
    from envgen.lock.fresh import replan, team_request

    index = use.index
    if index.machine is None:
        return None
    found = replan(
        kb,
        index.machine.profile(kb),
        explicit or team_request(index),
        use.choice.lock.platform,
        use.choice.variant.target,
    )
    return found if isinstance(found, Plan) else None


def _primary(index: LockIndex) -> tuple[str, str] | None:
    """(variant target, platform) the team's files describe: the first GPU variant where the set
    has one (the GPU box is what a team renders for), else its CPU variant; on Linux first."""
    ranked = sorted(
        ((v, lk) for v in index.variants for lk in v.locks),
        key=lambda vl: (vl[0].target != "gpu", not vl[1].platform.startswith("linux")),
    )
    if not ranked:
        return None
    variant, lock = ranked[0]
    return variant.target, lock.platform


def write(
    use: Use,
    kb: KnowledgeBase,
    mirror: MirrorChoice,
    *,
    project: Path,
    command: str,
    force: bool,
    torch_mirror: str | None,
    rewrite: bool,
) -> list[tuple[str, bool]]:
    """The team's environment.yml, requirements.txt and Dockerfile, rendered from the set's own
    request for its primary variant (never from this machine). Written where the set was just
    made or re-locked; otherwise only a missing file is written: committed files are the team's."""
    from envgen.files import write_text
    from envgen.lock.fresh import replan, team_request
    from envgen.render import RenderOptions, render

    index = use.index
    primary = _primary(index)
    if primary is None or index.machine is None:
        return []
    target, platform = primary
    plan = replan(kb, index.machine.profile(kb), team_request(index), platform, target)
    if not isinstance(plan, Plan):
        return []  # a stale set: its files stay as committed
    variant = next(v for v in index.variants if v.target == target and v.lock_for(platform))
    lock = variant.lock_for(platform)
    lockfile = f"{LOCK_DIR}/{lock.requirements}" if lock is not None and lock.requirements else None
    rendered = render(
        plan,
        RenderOptions(
            mirror=mirror,
            formats=RENDERED,
            command=command,
            lockfile=lockfile,
            torch_mirror=torch_mirror,
        ),
    )
    out = []
    for f in rendered.files:
        path = project / f.name
        if rewrite or not path.exists():
            out.append((str(path), write_text(path, f.text, force=force)))
        else:
            out.append((str(path), False))
    return out
