"""The conda side of a lock: solve in-process with py-rattler, write conda-lock's unified format.

conda-lock needs a conda, mamba or micromamba executable, and none can be installed on machines
like envgen's lab (lab report §5); py-rattler solves without one and without network for a local
channel. The file written is conda-lock's `version: 1` unified format, so `conda-lock install`
installs it without envgen (a test parses it with conda-lock's own parser). The plan's pip
packages are in it too, as conda-lock writes them (`manager: pip`, the wheel for the platform,
its sha256), so the file alone installs the whole environment.

A lock is made for another machine: the virtual packages come from `lock-platforms.toml` (the
same defaults conda-lock assumes) and `__cuda` from the variant's plan, so a GPU lock can be made
on a CPU-only runner and needs no newer driver than the lock index states.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from envgen import escape
from envgen.digest import sha256
from envgen.errors import ExternalToolError, NoSolutionError, UsageError
from envgen.kb.lock_platforms import LockPlatform
from envgen.kb.mirrors import DEFAULT, MirrorTable
from envgen.lock.pip import LockedFile
from envgen.plan import Plan
from envgen.proc import summary


@dataclass(frozen=True)
class CondaRecord:
    """One solved conda package, reduced to what a lock records."""

    name: str
    version: str
    build: str
    subdir: str
    url: str
    md5: str
    sha256: str
    depends: tuple[str, ...]


def specs_for(plan: Plan) -> list[str]:
    """Python at the plan's X.Y plus the plan's conda packages, as match specs.

    A pin of one build (conda-forge's `tensorflow=2.19.1=cpu_py311h*_3`, the form conda and
    environment.yml take) is given to the solver as `tensorflow ==2.19.1 cpu_py311h*_3`:
    py-rattler's strict parser, which its solve uses, refuses the `=version=build` form."""
    specs = [f"python={plan.python}"]
    for p in plan.conda_packages():
        specs.append(p.conda_spec() if p.build is None else f"{p.name} =={p.version} {p.build}")
    return specs


def virtual_packages(platform: LockPlatform, cuda: str | None) -> list[tuple[str, str, str]]:
    """(name, version, build) the solver assumes for `platform`; `__cuda` only for GPU plans."""
    out = []
    for name, spec in platform.virtual_packages:
        version, _, build = spec.partition(" ")
        out.append((name, version, build or "0"))
    if cuda is not None:
        out.append(("__cuda", cuda, "0"))
    return sorted(out)


def content_hash(
    specs: Sequence[str],
    channels: Sequence[str],
    virtual: Sequence[tuple[str, str, str]],
    pip_specs: Sequence[str] = (),
) -> str:
    """What conda-lock's `content_hash` stands for: a hash of everything the solve depended on
    (the pip requirements too, as conda-lock's does, when there are any)."""
    parts: list[object] = [list(specs), list(channels), [list(v) for v in virtual]]
    if pip_specs:
        parts.append(list(pip_specs))
    text = json.dumps(parts)
    return sha256(text)


def channel_hint(channels: Sequence[str], mirrors: MirrorTable | None) -> str:
    """What to try when a channel does not answer: the first mirror in mirrors.toml that serves
    a channel of that name (`…/conda-forge`), or a lock without the conda side."""
    tips = []
    for url in channels:
        name = url.rstrip("/").rsplit("/", 1)[-1]
        serving = [
            m
            for m in (mirrors.mirrors if mirrors is not None else ())
            if m.name != DEFAULT and m.channel_url(name) not in (None, url.rstrip("/"))
        ]
        if serving:
            others = f" (also mirrored by {', '.join(m.name for m in serving[1:])})"
            tips.append(
                f"--conda-channel {serving[0].channel_url(name)}"
                + (others if len(serving) > 1 else "")
            )
    first = f"try a mirror: {'; '.join(tips)}" if tips else "check the network or proxy"
    return f"{first}; or lock the pip side only: --channel pip, without --conda-channel"


def solve(
    specs: Sequence[str],
    channels: Sequence[str],
    platform: LockPlatform,
    virtual: Sequence[tuple[str, str, str]],
    *,
    mirrors: MirrorTable | None = None,
) -> tuple[CondaRecord, ...]:
    """Solve `specs` for `platform` with rattler; sorted by name so output is deterministic.

    A channel that cannot be read (unreachable, no such channel, a cache that cannot be written)
    is an external failure (exit 5) whose hint names a mirror from `mirrors`; a solve that finds
    no answer is a no-solution (exit 4)."""
    import rattler  # 0.1-0.2 s to import: only the conda path pays for it
    from rattler.exceptions import (
        CacheDirError,
        FetchRepoDataError,
        GatewayError,
        InvalidChannelError,
        IoError,
        SolverError,
    )

    vps = [
        rattler.GenericVirtualPackage(
            rattler.PackageName(n), rattler.Version(v), rattler.BuildString(b)
        )
        for n, v, b in virtual
    ]
    import asyncio  # only a conda solve needs an event loop (and its 15 ms of imports)

    try:
        records = asyncio.run(
            rattler.solve(
                sources=list(channels),
                specs=list(specs),
                platforms=[platform.name, "noarch"],  # type: ignore[list-item]
                virtual_packages=vps,
            )
        )
    except SolverError as exc:
        # rattler's report is multi-line; its first line names the conflict.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no solution"
        raise NoSolutionError(
            f"no conda solution for {platform.name}: {first}",
            hint=f"specs: {', '.join(specs)}; channels: {', '.join(channels)}",
        ) from exc
    except InvalidChannelError as exc:
        raise UsageError(
            f"--conda-channel: not a channel: {summary(str(exc))}",
            hint="give a channel URL (https://…/conda-forge) or a local channel (file://…)",
        ) from exc
    except (GatewayError, FetchRepoDataError, IoError, CacheDirError) as exc:
        # rattler's message is a chain of "Caused by:" lines; the first says what it fetched,
        # the last why it failed (refused, DNS, 404).
        raise ExternalToolError(
            f"py-rattler could not read the conda channel(s) {', '.join(channels)} "
            f"for {platform.name}: {summary(str(exc))}",
            hint=channel_hint(channels, mirrors),
        ) from exc
    out = [
        CondaRecord(
            name=r.name.normalized,
            version=str(r.version),
            build=str(r.build),
            subdir=r.subdir,
            url=str(r.url),
            md5=r.md5.hex() if r.md5 else "",
            sha256=r.sha256.hex() if r.sha256 else "",
            depends=tuple(r.depends),
        )
        for r in records
    ]
    return tuple(sorted(out, key=lambda r: r.name))


# --- writing conda-lock's format -----------------------------------------------------------------


def _q(value: str) -> str:
    # The one double-quoted YAML/TOML writer (envgen.escape.quoted): no ambiguity ("1.10" stays
    # a string, never the float 1.1), and no value can break its line.
    return str(escape.quoted(value))


def _dependencies(depends: Sequence[str]) -> list[tuple[str, str]]:
    """conda-lock's `dependencies` mapping: name -> spec ("*" when the spec names no version).

    A name listed twice keeps its specs joined with "," (both must hold)."""
    merged: dict[str, list[str]] = {}
    for dep in depends:
        name, _, spec = dep.strip().partition(" ")
        merged.setdefault(name, [])
        if spec.strip():
            merged[name].append(spec.strip())
    return sorted((n, ",".join(s) or "*") for n, s in merged.items())


def render_conda_lock(
    header: Sequence[str],
    channels: Sequence[str],
    solved: Mapping[str, tuple[str, tuple[CondaRecord, ...]]],
    sources: Sequence[str],
    custom: Mapping[str, str],
    *,
    pip: Mapping[str, Sequence[LockedFile]] | None = None,
) -> str:
    """conda-lock.yml (unified format, version 1) for `solved`: platform -> (content hash, records),
    with `pip`: platform -> the pip lock's files, as `manager: pip` rows.

    Per platform the conda rows come first, then the pip rows (conda-lock's own order: pip
    installs into the conda environment's Python), each by name, dependencies by name, so a
    diff between two locks shows only what changed. The pip rows' `dependencies` are empty: a
    PEP 751 lock from uv records none, and `conda-lock install` does not read them.
    """
    lines = [f"# {h}" for h in header]
    lines += ["version: 1", "metadata:", "  content_hash:"]
    platforms = sorted(solved)
    lines += [f"    {p}: {_q(solved[p][0])}" for p in platforms]
    lines.append("  channels:")
    for url in channels:
        lines += [f"  - url: {_q(url)}", "    used_env_vars: []"]
    lines.append("  platforms:")
    lines += [f"  - {p}" for p in platforms]
    lines.append("  sources:")
    lines += [f"  - {_q(s)}" for s in sources]
    if custom:
        lines.append("  custom_metadata:")
        lines += [f"    {k}: {_q(v)}" for k, v in sorted(custom.items())]
    lines.append("package:")
    for platform in platforms:
        for rec in solved[platform][1]:
            if rec.name.startswith("__"):
                continue  # virtual packages are never installed (conda-lock filters them too)
            deps = _dependencies(rec.depends)
            lines += [
                f"- name: {_q(rec.name)}",
                f"  version: {_q(rec.version)}",
                "  manager: conda",
                f"  platform: {platform}",
                "  dependencies:" + ("" if deps else " {}"),
            ]
            lines += [f"    {_q(n)}: {_q(s)}" for n, s in deps]
            lines += [
                f"  url: {_q(rec.url)}",
                "  hash:",
                f"    md5: {_q(rec.md5)}",
                f"    sha256: {_q(rec.sha256)}",
                "  category: main",
                "  optional: false",
            ]
        for f in sorted((pip or {}).get(platform, ()), key=lambda f: f.name):
            lines += [
                f"- name: {_q(f.name)}",
                f"  version: {_q(f.version)}",
                "  manager: pip",
                f"  platform: {platform}",
                "  dependencies: {}",
                f"  url: {_q(f.url)}",
                "  hash:",
                f"    sha256: {_q(f.sha256)}",
                "  category: main",
                "  optional: false",
            ]
    return "\n".join(lines) + "\n"
