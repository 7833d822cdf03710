"""Making a lock set: every (variant, platform) plan locked with hashes, plus its index.

Layout of a lock directory (file names are PEP 751's `pylock.<name>.toml` form):

    envgen-lock.toml                       index: request, machine, variants, plans, file hashes
    pylock.<variant>-<platform>.toml       PEP 751 lock      (uv pip install -r …)
    requirements.<variant>-<platform>.txt  hashed pins       (pip install --require-hashes -r …)
    conda-lock.<variant>.yml               conda-lock format (conda-lock install …), when a plan
                                           has conda packages or conda channels were given

A lock that an earlier set already holds for the same resolved plan, intact, is kept byte for
byte (no uv run, no network): adding a platform or a variant resolves only what is new. The lock
files' headers name neither the set's other platforms nor its input hash for the same reason;
the index carries both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from envgen import __version__, escape
from envgen.digest import of_json, sha256
from envgen.errors import InputFileError, NoSolutionError, UsageError
from envgen.kb import KnowledgeBase
from envgen.kb.lock_platforms import LockPlatform
from envgen.kb.tensorflow import Release
from envgen.lock import conda as conda_lock
from envgen.lock import direct as direct_lock
from envgen.lock import pip as pip_lock
from envgen.lock import uv as uv_lock
from envgen.lock.index import (
    INDEX,
    LockIndex,
    PlatformLock,
    Variant,
    load_index,
    read_lock_file,
    render_index,
)
from envgen.lock.integrity import verify_files
from envgen.lock.machine import Machine
from envgen.plan import DEFAULT_BACKEND, Plan, Request
from envgen.versions import DottedVersion


def variant_name(plan: Plan) -> str:
    """`cpu`; `cuda<major>` for a CUDA plan (the major decides which drivers can run it); `gpu`
    for a GPU plan without CUDA (tensorflow-metal on Apple silicon)."""
    if plan.target != "gpu":
        return "cpu"
    return "gpu" if plan.cuda is None else f"cuda{plan.cuda.split('.')[0]}"


def request_record(request: Request, variants: Sequence[str]) -> dict[str, object]:
    """The team's request as the index records it: mirror-neutral, the variants asked for (the
    Keras backend only where it is not TensorFlow: `Request.to_dict`)."""
    out: dict[str, object] = {
        k: v if isinstance(v, bool) else str(v)
        for k, v in request.to_dict().items()
        if v is not None
    }
    out["variants"] = list(dict.fromkeys(variants))
    return out


def input_hash(
    request: Mapping[str, object],
    *,
    platforms: Sequence[str],
    machine: Machine | None,
    conda_channels: Sequence[str],
    kb_version: str,
) -> str:
    """What the set was made from: the request, platforms, machine, channels and knowledge base
    (not envgen's version: a new envgen that plans the same is no reason to re-lock)."""
    return of_json(
        {
            "request": dict(request),
            "platforms": list(platforms),
            "machine": machine.to_dict() if machine is not None else None,
            "conda-channels": list(conda_channels),
            "kb": kb_version,
        }
    )


@dataclass(frozen=True)
class LockSet:
    index: LockIndex
    files: dict[str, str] = field(default_factory=dict)
    """File name -> content, the index included."""
    reused: tuple[str, ...] = ()
    """`variant-platform` stems kept from the earlier set without resolving."""


def _needs(plan: Plan, os_name: str, kb: KnowledgeBase) -> tuple[str | None, dict[str, str]]:
    """(min compute capability, {driver kind: min driver}) for a GPU plan on `os_name`.

    The rule book's floor for the build (TensorFlow's documented minimum where at least NVIDIA's,
    else NVIDIA's; JAX's documented minimum likewise): a Linux lock also runs under WSL2, where
    the Windows driver is the one that counts, so it gets a `wsl` minimum too.
    """
    from envgen import rules
    from envgen.profile import OSInfo
    from envgen.resolve.families import build_facts
    from envgen.resolve.frameworks import build_of

    if plan.target != "gpu" or plan.cuda is None:
        return None, {}
    facts = build_facts(kb, plan)
    release = None if facts is not None else _tensorflow_release(plan, kb)
    found = build_of(kb, plan) if plan.keras_backend != DEFAULT_BACKEND else None
    cc: str | None = release.min_compute_capability if release is not None else None
    if facts is not None:
        cc = facts.min_compute_capability
    if found is not None and found.arch is not None:
        cc = min((*found.arch.sass, *found.arch.ptx), key=DottedVersion)
    kinds = {"linux": OSInfo(name="linux"), "wsl": OSInfo(name="linux", wsl=True)}
    if os_name != "linux":
        kinds = {os_name: OSInfo(name=os_name)}
    out: dict[str, str] = {}
    for kind, os_info in kinds.items():
        if release is not None:
            floor = rules.driver_floor(kb, release.build, os_info)
        elif facts is not None and facts.cuda is not None:
            floor = rules.cuda_driver_floor(kb, facts.cuda, os_info)
        else:
            documented = found.driver_documented if found is not None else None
            floor = rules.cuda_driver_floor(
                kb, plan.cuda, os_info, documented=documented if kind == "linux" else None
            )
        if floor.driver is not None:
            out[kind] = str(floor.driver)
    return (str(cc) if cc is not None else None), out


def _tensorflow_release(plan: Plan, kb: KnowledgeBase) -> Release | None:
    """The TensorFlow release a TensorFlow plan pins exactly; None for other frameworks."""
    if plan.keras_backend != DEFAULT_BACKEND or not plan.framework.exact:
        return None
    return kb.tensorflow.release(plan.framework.version)


def _cpu_features(plan: Plan, kb: KnowledgeBase) -> tuple[str, ...]:
    """The x86-64 features the plan's framework build needs (AVX for TensorFlow and jaxlib)."""
    from envgen.resolve.families import build_facts
    from envgen.resolve.frameworks import build_of

    facts = build_facts(kb, plan)
    if facts is not None:
        return facts.cpu_features  # conda-forge's or a community build's, not PyPI's wheel's
    release = _tensorflow_release(plan, kb)
    if release is not None:
        return tuple(release.cpu_features or ())
    found = build_of(kb, plan) if plan.keras_backend != DEFAULT_BACKEND else None
    return found.cpu_features if found is not None else ()


def _third_party(plan: Plan) -> list[str]:
    """Header lines naming the plan's third-party pins: every file that installs one says so."""
    return [
        f"third-party (not TensorFlow's own build): {escape.visible(p.requirement())}"
        for p in plan.pip_packages()
        if p.third_party
    ]


def _reusable(previous: tuple[LockIndex, Path] | None) -> dict[tuple[str, str], dict[str, str]]:
    """(variant, platform) -> {file name: text} of the earlier set's intact locks, with their
    plan digest under the key "" (compared with the new plan before a lock is kept)."""
    if previous is None:
        return {}
    index, directory = previous
    out: dict[tuple[str, str], dict[str, str]] = {}
    broken = {p.name for p in verify_files(index, directory)}
    for var in index.variants:
        for lk in var.locks:
            names = [n for n in (lk.pylock, lk.requirements) if n is not None]
            if not names or any(n in broken for n in names):
                continue
            try:
                texts = {n: read_lock_file(directory, n) for n in names}
            except InputFileError:
                continue
            out[(var.name, lk.platform)] = {"": lk.plan_digest, **texts}
    return out


def make_lock_set(
    plans: Sequence[Plan],
    request: Request,
    kb: KnowledgeBase,
    *,
    command: str,
    machine: Machine | None = None,
    variants: Sequence[str] = (),
    conda_channels: Sequence[str] = (),
    uv: str = "uv",
    environ: Mapping[str, str] | None = None,
    previous: tuple[LockIndex, Path] | None = None,
    directory: str = "locks",
    cache: Path | None = None,
) -> LockSet:
    """Lock every plan (one per variant and platform); nothing is written here. A plan the
    `previous` set (index, folder) already locked, intact and for the same resolved request,
    keeps its files as they are."""
    # The command lands in `#` header lines of every file: one line, whatever it holds.
    command = escape.visible(command)
    plats = [kb.lock_platforms.get(p.platform) for p in plans]
    names = [variant_name(p) for p in plans]
    stems = [f"{n}-{p.name}" for n, p in zip(names, plats, strict=True)]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        raise UsageError(f"two plans for the same variant and platform: {', '.join(twice)}")
    channels = list(conda_channels)
    if not channels and any(p.conda_packages() for p in plans):
        # The canonical URL, never a mirror's: locks stay mirror-neutral.
        forge = kb.conda.channel("conda-forge")
        channels = [forge.url] if forge is not None else []
    platform_names = list(dict.fromkeys(p.name for p in plats))
    asked = list(variants) or list(dict.fromkeys("cpu" if n == "cpu" else "gpu" for n in names))
    recorded = request_record(request, asked)
    digest = input_hash(
        recorded,
        platforms=platform_names,
        machine=machine,
        conda_channels=channels,
        kb_version=kb.digest,
    )
    regenerate = escape.visible(f"envgen lock --output-dir {directory}")

    def header(kind: str, variant: str, platform: str | None, install: str) -> list[str]:
        where = f"variant {variant}" + (f", platform {platform}" if platform else "")
        return [
            f"generated by envgen {__version__}: {kind}, {where}; do not edit",
            f"the lock set's request is in {INDEX}; regenerate with: {regenerate}",
            f"install: {install}",
        ]

    old = _reusable(previous)
    kept = {
        i
        for i, (plan, stem) in enumerate(zip(plans, stems, strict=True))
        if old.get((names[i], plats[i].name), {}).get("") == plan.resolved_digest()
        and f"requirements.{stem}.txt" in old[(names[i], plats[i].name)]
    }
    todo = [i for i, plan in enumerate(plans) if plan.pip_packages() and i not in kept]
    # A direct-URL pin (a community wheel) is downloaded first: its sha256 is what the lock
    # records, and uv resolves its dependencies from the copy (envgen.lock.direct).
    direct = direct_lock.fetch_pins([plans[i] for i in todo], kb, environ, cache)
    local = {url: f.path.resolve().as_uri() for url, f in direct.items()}
    locked = uv_lock.lock_plans(
        [(plans[i], plats[i]) for i in todo], uv=uv, environ=environ, local=local
    )
    for j, i in enumerate(todo):
        own = [direct[p.url] for p in plans[i].pip_packages() if p.url is not None]
        if own:
            locked[j] = direct_lock.canonical(locked[j], own)
    found = dict(zip(todo, locked, strict=True))
    pips = [found.get(i) for i in range(len(plans))]

    files: dict[str, str] = {}
    out_variants = []
    for name in dict.fromkeys(names):
        members = [i for i, n in enumerate(names) if n == name]
        locks = []
        drivers: dict[str, str] = {}
        min_cc: str | None = None
        for i in members:
            plan, plat, pip, stem = plans[i], plats[i], pips[i], stems[i]
            pylock_name = req_name = None
            packages = 0
            if i in kept:
                texts = old[(name, plat.name)]
                pylock_name, req_name = f"pylock.{stem}.toml", f"requirements.{stem}.txt"
                files[pylock_name], files[req_name] = texts[pylock_name], texts[req_name]
                packages = len(pip_lock.parse_requirements(texts[req_name], req_name))
            elif pip is not None:
                problems = pip_lock.unmet_pins(plan, pip.versions())
                if problems:
                    raise NoSolutionError(
                        f"the {stem} lock does not honour the plan: {problems[0]}",
                        remedies=problems[1:],
                    )
                pylock_name, req_name = f"pylock.{stem}.toml", f"requirements.{stem}.txt"
                tool = {"variant": name, "platform": plat.name}
                marked = _third_party(plan)
                files[pylock_name] = pip_lock.render_pylock(
                    pip,
                    header("PEP 751 lock", name, plat.name, f"uv pip install -r {pylock_name}")
                    + marked,
                    plat.environment,
                    tool,
                )
                files[req_name] = pip_lock.render_requirements(
                    pip,
                    header(
                        "hashed requirements",
                        name,
                        plat.name,
                        f"pip install --require-hashes --no-deps -r {req_name}",
                    )
                    + marked,
                )
                packages = len(pip.packages)
            cc, needs = _needs(plan, plat.os_name, kb)
            min_cc = cc or min_cc
            drivers.update(needs)
            locks.append(
                PlatformLock(
                    platform=plat.name,
                    os=plat.os_name,
                    arch=plat.arch,
                    python=plan.python,
                    framework=plan.framework.requirement(),
                    plan_digest=plan.resolved_digest(),
                    packages=packages,
                    pylock=pylock_name,
                    requirements=req_name,
                    plan=plan.pin_lines(),
                    indexes=plan.indexes,
                )
            )
        conda_name = None
        if channels:
            conda_name = f"conda-lock.{name}.yml"
            member_pips = [
                pips[i]
                if pips[i] is not None
                else pip_lock.pip_lock(
                    plats[i].name,
                    plans[i].python,
                    files[f"pylock.{stems[i]}.toml"],
                    files[f"requirements.{stems[i]}.txt"],
                )
                if plans[i].pip_packages()
                else None
                for i in members
            ]
            files[conda_name] = _conda_file(
                [plans[i] for i in members],
                [plats[i] for i in members],
                member_pips,
                channels,
                kb,
                header=header(
                    "conda-lock unified lock", name, None, f"conda-lock install {conda_name}"
                ),
                custom={"envgen-variant": name, "envgen-input-hash": digest},
            )
        first = plans[members[0]]
        out_variants.append(
            Variant(
                name=name,
                target=str(first.target),
                cuda=first.cuda,
                cudnn=first.cudnn,
                cuda_channel=None if first.cuda_channel is None else str(first.cuda_channel),
                min_compute_capability=min_cc,
                min_driver=tuple(sorted(drivers.items())),
                conda_lock=conda_name,
                locks=tuple(locks),
                cpu_features=_cpu_features(first, kb),
                environment=tuple(sorted(first.environment)),
            )
        )
    index = LockIndex(
        envgen_version=__version__,
        kb_version=kb.digest,
        input_hash=digest,
        request=recorded,
        platforms=tuple(platform_names),
        variants=tuple(out_variants),
        files=tuple(sorted((n, sha256(t)) for n, t in files.items())),
        conda_channels=tuple(channels),
        machine=machine,
        command=command,
    )
    files[INDEX] = render_index(
        index,
        [
            f"generated by envgen {__version__}: lock-set index; do not edit",
            f"regenerate with: {command}",
            "check with: envgen lock --check (in CI, or as a pre-commit hook)",
        ],
    )
    reused = tuple(stems[i] for i in sorted(kept))
    return LockSet(index, files, reused)


def _conda_file(
    plans: Sequence[Plan],
    plats: Sequence[LockPlatform],
    pips: Sequence[pip_lock.PipLock | None],
    channels: Sequence[str],
    kb: KnowledgeBase,
    *,
    header: Sequence[str],
    custom: Mapping[str, str],
) -> str:
    """The variant's conda-lock file: the conda solve per platform plus that platform's pip lock
    (the file an installer takes of each pinned package), so `conda-lock install` needs nothing
    else."""
    solved = {}
    pip_rows = {}
    for plan, plat, pip in zip(plans, plats, pips, strict=True):
        specs = conda_lock.specs_for(plan)
        virtual = conda_lock.virtual_packages(plat, plan.cuda if plan.target == "gpu" else None)
        records = conda_lock.solve(specs, channels, plat, virtual, mirrors=kb.mirrors)
        pip_specs = pip_lock.requirements_in(plan).splitlines()
        solved[plat.name] = (conda_lock.content_hash(specs, channels, virtual, pip_specs), records)
        if pip is not None:
            where = f"uv pylock for {plat.name}"
            pip_rows[plat.name] = pip_lock.install_files(pip.pylock_body, plan.python, where)
    return conda_lock.render_conda_lock(
        header, channels, solved, ["envgen plan"], custom, pip=pip_rows
    )


def write_lock_set(lock_set: LockSet, directory: Path, *, force: bool = False) -> list[str]:
    """Write every file, all or nothing (envgen.files.write_set: a run killed mid-write leaves
    the old set or the new one, never a mix); returns the names whose content changed. Files of
    an earlier set that this one no longer has are removed only if envgen generated them."""
    from envgen.files import write_set

    return write_set(
        directory,
        dict(lock_set.files),
        force=force,
        remove=tuple(_previous_files(directory)),
        last=INDEX,
    )


def _previous_files(directory: Path) -> list[str]:
    path = directory / INDEX
    if not path.is_file():
        return []
    try:
        index = load_index(path)
    except InputFileError:
        return []
    return [name for name, _ in index.files]
