"""A lock set: every variant's locks for every platform, plus `envgen-lock.toml`, their index.

Layout of a lock directory (file names are PEP 751's `pylock.<name>.toml` form):

    envgen-lock.toml                       index: variants, what hardware each needs, input hash
    pylock.<variant>-<platform>.toml       PEP 751 lock      (uv pip install -r …)
    requirements.<variant>-<platform>.txt  hashed pins       (pip install --require-hashes -r …)
    conda-lock.<variant>.yml               conda-lock format (conda-lock install …), when a plan
                                           has conda packages or conda channels were given

The index's input hash covers what the locks were made from (request, platforms, variants, the
knowledge base's content hash, envgen's version); `check_lock_set` compares it, each plan's digest
and each file's sha256 with what is on disk, and checks every plan pin against the locked
versions, without network, so CI can run it on every commit.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envgen import __version__, escape
from envgen.digest import of_json, sha256
from envgen.documents import Table, is_plain_name, is_sha256, parse_toml, shown
from envgen.errors import InputFileError, NoSolutionError, UsageError
from envgen.files import LOCK_FILE, read_text
from envgen.kb import KnowledgeBase
from envgen.kb.lock_platforms import LockPlatform, load_lock_platforms
from envgen.lock import conda as conda_lock
from envgen.lock import pip as pip_lock
from envgen.plan import Plan, Request
from envgen.profile import HardwareProfile
from envgen.versions import parse_dotted

INDEX = "envgen-lock.toml"
SCHEMA = 1
# How many plans are locked at once (each runs two uv processes).
_PARALLEL = 4


def variant_name(plan: Plan) -> str:
    """`cpu`; `cuda<major>` for a CUDA plan (the major decides which drivers can run it); `gpu`
    for a GPU plan without CUDA (tensorflow-metal on Apple silicon)."""
    if plan.target != "gpu":
        return "cpu"
    return "gpu" if plan.cuda is None else f"cuda{plan.cuda.split('.')[0]}"


def input_hash(
    request: Request,
    *,
    platforms: Sequence[str],
    variants: Sequence[str],
    conda_channels: Sequence[str],
    kb_version: str,
    envgen_version: str,
) -> str:
    return of_json(
        {
            "request": request.to_dict(),
            "platforms": sorted(platforms),
            "variants": sorted(variants),
            "conda-channels": list(conda_channels),
            "kb": kb_version,
            "envgen": envgen_version,
        },
    )


# --- the index -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlatformLock:
    """One variant's lock for one platform."""

    platform: str
    os: str
    arch: str
    python: str
    tensorflow: str
    plan_digest: str
    packages: int
    pylock: str | None
    requirements: str | None


@dataclass(frozen=True)
class Variant:
    """A variant and the hardware it needs."""

    name: str
    target: str
    cuda: str | None
    cudnn: str | None
    cuda_channel: str | None
    min_compute_capability: str | None
    min_driver: tuple[tuple[str, str], ...]
    """(kind, driver): `linux`, `wsl` (the Windows driver under WSL2), `windows`."""
    conda_lock: str | None
    locks: tuple[PlatformLock, ...]

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(lk.platform for lk in self.locks)

    def lock_for(self, platform: str) -> PlatformLock | None:
        return next((lk for lk in self.locks if lk.platform == platform), None)


@dataclass(frozen=True)
class LockIndex:
    envgen_version: str
    kb_version: str
    input_hash: str
    request: dict[str, Any]
    platforms: tuple[str, ...]
    variants: tuple[Variant, ...]
    files: tuple[tuple[str, str], ...] = ()
    """(file name, sha256) of every lock file, sorted."""
    conda_channels: tuple[str, ...] = ()

    def variant(self, name: str) -> Variant | None:
        return next((v for v in self.variants if v.name == name), None)


def _v(value: Any) -> str:
    """A TOML value: strings as JSON strings (valid TOML basic strings), lists inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_v(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_v(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value), ensure_ascii=False)


def _table(pairs: Sequence[tuple[str, Any]]) -> list[str]:
    return [f"{k} = {_v(v)}" for k, v in pairs if v is not None]


def render_index(index: LockIndex, header: Sequence[str]) -> str:
    """Deterministic TOML: fixed key order, variants and platforms in the order they were asked."""
    out = [f"# {h}" for h in header]
    out += _table(
        [
            ("schema", SCHEMA),
            ("envgen-version", index.envgen_version),
            ("kb-version", index.kb_version),
            ("input-hash", index.input_hash),
            ("platforms", list(index.platforms)),
            ("conda-channels", list(index.conda_channels) or None),
        ]
    )
    out += ["", "[request]"]
    out += _table(sorted((k, v) for k, v in index.request.items()))
    for var in index.variants:
        out += ["", "[[variant]]"]
        out += _table(
            [
                ("name", var.name),
                ("target", var.target),
                ("cuda", var.cuda),
                ("cudnn", var.cudnn),
                ("cuda-channel", var.cuda_channel),
                ("min-compute-capability", var.min_compute_capability),
                ("min-driver", dict(var.min_driver) or None),
                ("platforms", list(var.platforms)),
                ("conda-lock", var.conda_lock),
            ]
        )
        for lk in var.locks:
            out += ["", "[[variant.lock]]"]
            out += _table(
                [
                    ("platform", lk.platform),
                    ("os", lk.os),
                    ("arch", lk.arch),
                    ("python", lk.python),
                    ("tensorflow", lk.tensorflow),
                    ("plan-digest", lk.plan_digest),
                    ("packages", lk.packages),
                    ("pylock", lk.pylock),
                    ("requirements", lk.requirements),
                ]
            )
    out += ["", "[files]"]
    out += [f"{_v(name)} = {_v(digest)}" for name, digest in index.files]
    return "\n".join(out) + "\n"


_HINT = "regenerate the lock set with `envgen lock`"


def parse_index(text: str, origin: str = INDEX) -> LockIndex:
    """Read an index back, naming the exact key on any error.

    Every value is type-checked, and every file name it holds (a lock's `pylock` and
    `requirements`, a variant's `conda-lock`, each `[files]` key) must be a plain name inside
    the lock folder, so no reader can be sent elsewhere (`requirements = "../../etc/passwd"`).
    Unknown keys are ignored: an index a newer envgen wrote stays readable.
    """
    doc = Table(parse_toml(text, origin), "", origin, hint=_HINT)
    schema = doc.get("schema")
    if type(schema) is not int or schema != SCHEMA:  # `true == 1` in Python
        raise doc.fail("schema", f"expected {SCHEMA}, got {shown(schema)}")
    variants = []
    for row in doc.tables("variant"):
        locks = [
            PlatformLock(
                platform=lk.text("platform"),
                os=lk.text("os"),
                arch=lk.text("arch"),
                python=lk.text("python"),
                tensorflow=lk.text("tensorflow"),
                plan_digest=lk.text("plan-digest"),
                packages=lk.integer("packages") or 0,
                pylock=lk.file_name("pylock"),
                requirements=lk.file_name("requirements"),
            )
            for lk in row.tables("lock")
        ]
        variants.append(
            Variant(
                name=row.text("name"),
                target=row.text("target"),
                cuda=row.string("cuda"),
                cudnn=row.string("cudnn"),
                cuda_channel=row.string("cuda-channel"),
                min_compute_capability=row.string("min-compute-capability", dotted=True),
                min_driver=tuple(sorted(row.mapping("min-driver").items())),
                conda_lock=row.file_name("conda-lock"),
                locks=tuple(locks),
            )
        )
    files = doc.mapping("files")
    for name, digest in files.items():
        if not is_plain_name(name):
            raise doc.fail("files", f"expected file names in this folder, got {shown(name)}")
        if not is_sha256(digest):
            raise doc.fail(
                "files", f"{shown(name)}: expected a sha256 hex digest, got {shown(digest)}"
            )
    return LockIndex(
        envgen_version=doc.text("envgen-version"),
        kb_version=doc.text("kb-version"),
        input_hash=doc.text("input-hash"),
        request=doc.mapping("request"),
        platforms=doc.strings("platforms"),
        variants=tuple(variants),
        files=tuple(sorted(files.items())),
        conda_channels=doc.strings("conda-channels"),
    )


def load_index(path: Path) -> LockIndex:
    """The index at `path`: a regular UTF-8 file of at most SMALL_FILE bytes; see `parse_index`."""
    return parse_index(read_text(path, what="lock index"), str(path))


def lock_path(directory: Path, name: str) -> Path:
    """The lock file `name` (a plain name, checked when the index was read) of `directory`,
    refused where a symbolic link leads it out of the folder."""
    path = directory / name
    if path.resolve().parent != directory.resolve():
        raise InputFileError(f"{path} leads outside {directory}", hint=_HINT)
    return path


def read_lock_file(directory: Path, name: str) -> str:
    """The text of the lock file `name` of `directory` (see `lock_path`), bounded like every lock."""
    return read_text(lock_path(directory, name), what="lock file", limit=LOCK_FILE)


# --- making a lock set ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LockSet:
    index: LockIndex
    files: dict[str, str] = field(default_factory=dict)
    """File name -> content, the index included."""


def _sha(text: str) -> str:
    return file_digest(text.encode())


def _needs(plan: Plan, os_name: str, kb: KnowledgeBase) -> tuple[str | None, dict[str, str]]:
    """(min compute capability, {driver kind: min driver}) for a GPU plan on `os_name`.

    TensorFlow's documented minimum for the build wins where the knowledge base has one (2.21:
    525.60.13, CUDA 12 minor-version compatibility); NVIDIA's toolkit table is the fallback.
    A Linux lock also runs under WSL2, where the Windows driver is the one that counts, so it
    gets a `wsl` minimum too.
    """
    if plan.target != "gpu" or plan.cuda is None:
        return None, {}
    release = kb.tensorflow.release(plan.tensorflow.version) if plan.tensorflow.exact else None
    cc = release.min_compute_capability if release is not None else None
    documented = {
        "linux": release.build.driver_linux if release is not None else None,
        "wsl": release.build.driver_wsl if release is not None else None,
    }
    kinds = ("linux", "wsl") if os_name == "linux" else (os_name,)
    out: dict[str, str] = {}
    for kind in kinds:
        table_os = "windows" if kind == "wsl" else kind
        found = documented.get(kind) or kb.drivers.toolkit_minimum(plan.cuda, table_os)
        if found is not None:
            out[kind] = found
    return cc, out


def _plan_platform(plan: Plan) -> LockPlatform:
    return load_lock_platforms().get(plan.platform)


def _inputs(
    plans: Sequence[Plan], request: Request, conda_channels: Sequence[str], kb: KnowledgeBase
) -> tuple[list[LockPlatform], list[str], list[str], str]:
    """Each plan's platform and variant name, the conda channels, and the input hash."""
    plats = [_plan_platform(p) for p in plans]
    names = [variant_name(p) for p in plans]
    channels = list(conda_channels)
    if not channels and any(p.conda_packages() for p in plans):
        # The canonical URL, never a mirror's: locks stay mirror-neutral.
        forge = kb.conda.channel("conda-forge")
        channels = [forge.url] if forge is not None else []
    digest = input_hash(
        request,
        platforms=list(dict.fromkeys(p.name for p in plats)),
        variants=list(dict.fromkeys(names)),
        conda_channels=channels,
        kb_version=kb.digest,
        envgen_version=__version__,
    )
    return plats, names, channels, digest


def make_lock_set(
    plans: Sequence[Plan],
    request: Request,
    kb: KnowledgeBase,
    *,
    command: str,
    conda_channels: Sequence[str] = (),
    uv: str = "uv",
    environ: Mapping[str, str] | None = None,
) -> LockSet:
    """Lock every plan (one per variant and platform); nothing is written here."""
    # The command lands in `#` header lines of every file: one line, whatever it holds.
    command = escape.visible(command)
    plats, names, channels, digest = _inputs(plans, request, conda_channels, kb)
    stems = [f"{n}-{p.name}" for n, p in zip(names, plats, strict=True)]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        raise UsageError(f"two plans for the same variant and platform: {', '.join(twice)}")
    platform_names = list(dict.fromkeys(p.name for p in plats))
    variant_names = list(dict.fromkeys(names))

    def header(kind: str, variant: str, platform: str | None, install: str) -> list[str]:
        where = f"variant {variant}" + (f", platform {platform}" if platform else "")
        return [
            f"generated by envgen {__version__}: {kind}, {where}; do not edit",
            f"input hash {digest}; regenerate with: {command}",
            f"install: {install}",
        ]

    env = os.environ if environ is None else environ
    with ThreadPoolExecutor(max_workers=_PARALLEL) as pool:
        futures = [
            pool.submit(pip_lock.compile_pip, plan, plat, uv=uv, environ=env)
            if plan.pip_packages()
            else None
            for plan, plat in zip(plans, plats, strict=True)
        ]
        pips = [f.result() if f is not None else None for f in futures]

    files: dict[str, str] = {}
    variants = []
    for name in variant_names:
        members = [i for i, n in enumerate(names) if n == name]
        locks = []
        drivers: dict[str, str] = {}
        min_cc: str | None = None
        for i in members:
            plan, plat, pip = plans[i], plats[i], pips[i]
            stem = f"{name}-{plat.name}"
            pylock_name = req_name = None
            if pip is not None:
                problems = pip_lock.unmet_pins(plan, pip.versions())
                if problems:
                    raise NoSolutionError(
                        f"the {stem} lock does not honour the plan: {problems[0]}",
                        remedies=problems[1:],
                    )
                pylock_name, req_name = f"pylock.{stem}.toml", f"requirements.{stem}.txt"
                tool = {"variant": name, "platform": plat.name, "input-hash": digest}
                files[pylock_name] = pip_lock.render_pylock(
                    pip,
                    header("PEP 751 lock", name, plat.name, f"uv pip install -r {pylock_name}"),
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
                    ),
                )
            cc, needs = _needs(plan, plat.os_name, kb)
            min_cc = cc or min_cc
            drivers.update(needs)
            locks.append(
                PlatformLock(
                    platform=plat.name,
                    os=plat.os_name,
                    arch=plat.arch,
                    python=plan.python,
                    tensorflow=plan.tensorflow.requirement(),
                    plan_digest=plan.digest(),
                    packages=len(pip.packages) if pip is not None else 0,
                    pylock=pylock_name,
                    requirements=req_name,
                )
            )
        conda_name = None
        if channels:
            conda_name = f"conda-lock.{name}.yml"
            files[conda_name] = _conda_file(
                [plans[i] for i in members],
                [plats[i] for i in members],
                [pips[i] for i in members],
                channels,
                kb,
                header=header(
                    "conda-lock unified lock", name, None, f"conda-lock install {conda_name}"
                ),
                custom={"envgen-variant": name, "envgen-input-hash": digest},
            )
        first = plans[members[0]]
        variants.append(
            Variant(
                name=name,
                target=first.target,
                cuda=first.cuda,
                cudnn=first.cudnn,
                cuda_channel=first.cuda_channel,
                min_compute_capability=min_cc,
                min_driver=tuple(sorted(drivers.items())),
                conda_lock=conda_name,
                locks=tuple(locks),
            )
        )
    index = LockIndex(
        envgen_version=__version__,
        kb_version=kb.digest,
        input_hash=digest,
        request={k: v for k, v in request.to_dict().items() if v is not None},
        platforms=tuple(platform_names),
        variants=tuple(variants),
        files=tuple(sorted((n, _sha(t)) for n, t in files.items())),
        conda_channels=tuple(channels),
    )
    files[INDEX] = render_index(
        index,
        [
            f"generated by envgen {__version__}: lock-set index; do not edit",
            f"regenerate with: {command}",
            "check with: envgen lock --check (same options)",
        ],
    )
    return LockSet(index, files)


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


# --- writing and checking ------------------------------------------------------------------------


def write_lock_set(lock_set: LockSet, directory: Path, *, force: bool = False) -> list[str]:
    """Write every file; returns the names whose content changed. Files of an earlier lock set
    that this one no longer has are removed only if envgen generated them."""
    from envgen.files import is_generated, write_text

    previous = _previous_files(directory)
    changed = [
        name
        for name, text in sorted(lock_set.files.items())
        if write_text(directory / name, text, force=force)
    ]
    for old in previous:
        if old not in lock_set.files and is_generated(directory / old):
            (directory / old).unlink()
            changed.append(f"{old} (removed)")
    return changed


def _previous_files(directory: Path) -> list[str]:
    path = directory / INDEX
    if not path.is_file():
        return []
    try:
        index = load_index(path)
    except InputFileError:
        return []
    return [name for name, _ in index.files]


def file_digest(data: bytes) -> str:
    """The sha256 the index records of a lock file. CRLF counts as LF, so a checkout with git's
    autocrlf (Windows) is not an edit; every other byte counts."""
    return sha256(data.replace(b"\r\n", b"\n"))


@dataclass(frozen=True)
class FileProblem:
    """A lock file that is not what the index recorded: its name in the lock folder, and why."""

    name: str
    why: str
    readable: bool = True
    """False where the file could not be read as text at all (not a regular file, not UTF-8)."""

    def __str__(self) -> str:
        return f"{self.name} {self.why}"


def verify_files(
    index: LockIndex, directory: Path, names: Collection[str] | None = None
) -> list[FileProblem]:
    """Each lock file of `index` (or only `names`) whose bytes no longer match the sha256 the
    index recorded; [] when every one is intact.

    uv and pip accept a requirement when *any* of its `--hash` values matches the download, so
    one edited hash of two installs without a word: only this digest, taken when envgen wrote
    the file, notices. A file the variants name but `[files]` does not list cannot be checked,
    and counts as a problem too. Offline, and reads only the files the index names.
    """
    from envgen.files import LOCK_FILE, read_bytes

    recorded = dict(index.files)
    named = {
        name
        for var in index.variants
        for name in (
            var.conda_lock,
            *(n for lk in var.locks for n in (lk.pylock, lk.requirements)),
        )
        if name is not None
    }
    problems = [
        FileProblem(name, "is named by the index but has no sha256 in its [files] table")
        for name in sorted(named - recorded.keys())
        if names is None or name in names
    ]
    for name, digest in sorted(recorded.items()):
        if names is not None and name not in names:
            continue
        path = directory / name
        if not path.exists() and not path.is_symlink():
            problems.append(FileProblem(name, "is missing"))
            continue
        try:
            data = read_bytes(lock_path(directory, name), what="lock file", limit=LOCK_FILE)
            data.decode("utf-8")  # every lock format is UTF-8 text
        except InputFileError as exc:
            problems.append(FileProblem(name, f"cannot be checked ({exc.message})", False))
            continue
        except UnicodeDecodeError as exc:
            problems.append(FileProblem(name, f"is not UTF-8 text (byte {exc.start})", False))
            continue
        if file_digest(data) != digest:
            problems.append(FileProblem(name, "was edited (sha256 differs from the index)"))
    return problems


def require_intact(index: LockIndex, directory: Path, names: Collection[str] | None = None) -> None:
    """`verify_files`, refusing (InputFileError, exit 3) with the first problem: a lock that is
    not what `envgen lock` wrote is a bad input file, and nothing may be installed from it."""
    problems = verify_files(index, directory, names)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputFileError(
            f"{directory / first.name} {first.why}{more}: refusing to install from this lock set",
            hint=f"restore {directory} from version control, or regenerate it with `envgen lock`"
            " (`envgen lock --check` lists every difference)",
        )


def verify_beside(lock: Path) -> None:
    """Refuse `lock` when the lock set it belongs to (an index in the same folder that lists
    it) says it was edited. A lock with no index beside it carries only its own hashes."""
    index_path = lock.parent / INDEX
    if not index_path.is_file():
        return
    index = load_index(index_path)
    if lock.name in dict(index.files):
        require_intact(index, lock.parent, {lock.name})


def check_lock_set(
    directory: Path,
    plans: Sequence[Plan],
    request: Request,
    *,
    conda_channels: Sequence[str] = (),
    kb: KnowledgeBase,
) -> list[str]:
    """What no longer matches between `directory` and these inputs; [] when it is current.

    Offline: compares hashes and plan pins, never re-resolves (a new transitive release on PyPI
    is not a reason to fail CI; a changed request, knowledge base or edited file is).
    """
    path = directory / INDEX
    if not path.is_file():
        return [f"{path} is missing: run envgen lock"]
    index = load_index(path)
    plats, names, _, wanted = _inputs(plans, request, conda_channels, kb)
    diffs = []
    if index.input_hash != wanted:
        why = [
            f"{label} {old} -> {new}"
            for label, old, new in (
                ("knowledge base", index.kb_version, kb.digest),
                ("envgen", index.envgen_version, __version__),
            )
            if old != new
        ]
        if index.request != {k: v for k, v in request.to_dict().items() if v is not None}:
            why.append("request changed")
        diffs.append(
            f"input hash {index.input_hash} -> {wanted}"
            + (f" ({'; '.join(why)})" if why else " (platforms, variants or channels changed)")
        )
    for plan, plat, name in zip(plans, plats, names, strict=True):
        var = index.variant(name)
        lock = var.lock_for(plat.name) if var is not None else None
        if lock is None:
            diffs.append(f"no {name} lock for {plat.name}")
            continue
        if lock.plan_digest != plan.digest():
            diffs.append(
                f"{name}/{plat.name}: plan changed ({lock.plan_digest} -> {plan.digest()})"
            )
        if lock.pylock is not None and (directory / lock.pylock).is_file():
            locked = pip_lock.parse_pylock(read_lock_file(directory, lock.pylock), lock.pylock)
            diffs += [
                f"{lock.pylock}: {p}"
                for p in pip_lock.unmet_pins(plan, {p.name: p.version for p in locked})
            ]
    problems = verify_files(index, directory)
    unreadable = [p for p in problems if not p.readable]
    if unreadable:
        # Not a stale lock but a broken file: a bad input file, as every reader reports it.
        raise InputFileError(f"{directory / unreadable[0].name} {unreadable[0].why}")
    return diffs + [str(p) for p in problems]


# --- choosing a variant for a machine ------------------------------------------------------------

# Apple and Linux name the same 64-bit ARM architecture differently (arm64 / aarch64).
_ARCH_ALIASES = {"arm64": "aarch64"}


def _same_arch(a: str, b: str) -> bool:
    return _ARCH_ALIASES.get(a, a) == _ARCH_ALIASES.get(b, b)


@dataclass(frozen=True)
class Choice:
    """The variant that fits a machine, its lock, and why each other variant did not."""

    variant: Variant
    lock: PlatformLock
    reason: str
    rejected: tuple[tuple[str, str], ...]


def _gpu_misfit(variant: Variant, profile: HardwareProfile) -> str | None:
    """Why a GPU variant cannot run on `profile`, or None when it can."""
    if variant.cuda is None:
        return None  # Metal: the lock exists only where the resolver found a GPU build
    if profile.nvidia is None or not profile.gpus:
        return "no NVIDIA GPU with a working driver"
    # WSL2 runs CUDA through the Windows driver, which has its own minimum.
    driver_os = "wsl" if profile.os.wsl else profile.os.name
    minimum = dict(variant.min_driver).get(driver_os)
    if minimum is not None and parse_dotted(profile.nvidia.driver) < parse_dotted(minimum):
        return f"driver {profile.nvidia.driver} is older than the {minimum} it needs"
    if variant.min_compute_capability is not None:
        ccs = [g.compute_capability for g in profile.gpus if g.compute_capability]
        if not ccs:
            return "the GPUs' compute capability is unknown"
        need = parse_dotted(variant.min_compute_capability)
        if max(parse_dotted(c) for c in ccs) < need:
            return (
                f"GPU compute capability {max(ccs, key=parse_dotted)} is below "
                f"{variant.min_compute_capability}"
            )
    return None


def pick_variant(index: LockIndex, profile: HardwareProfile, target: str = "auto") -> Choice:
    """The variant of `index` that fits `profile`: a GPU variant when one runs there (newest CUDA
    first) unless `target` is "cpu", else the CPU one. NoSolutionError says why none fits."""
    rejected: list[tuple[str, str]] = []
    fitting: list[tuple[Variant, PlatformLock]] = []
    for var in index.variants:
        lock = next(
            (
                lk
                for lk in var.locks
                if lk.os == profile.os.name and _same_arch(lk.arch, profile.os.arch)
            ),
            None,
        )
        if lock is None:
            rejected.append((var.name, f"no lock for {profile.os.name}-{profile.os.arch}"))
        elif target not in ("auto", var.target):
            rejected.append((var.name, f"target {target} was asked for"))
        elif var.target == "gpu" and (why := _gpu_misfit(var, profile)) is not None:
            rejected.append((var.name, why))
        else:
            fitting.append((var, lock))
    if not fitting:
        raise NoSolutionError(
            f"no variant of this lock set fits {profile.os.name}-{profile.os.arch}",
            remedies=[f"{name}: {why}" for name, why in rejected],
            hint="add the platform or variant with envgen lock --platform/--variants",
        )

    def rank(item: tuple[Variant, PlatformLock]) -> tuple[int, tuple[int, ...]]:
        var = item[0]
        return (var.target == "gpu", parse_dotted(var.cuda) if var.cuda else ())

    var, lock = max(fitting, key=rank)
    reason = (
        f"{var.name}: {lock.platform}, GPU variant fits the driver and GPUs"
        if var.target == "gpu"
        else f"{var.name}: {lock.platform}"
        + (f" (GPU variants rejected: {'; '.join(w for _, w in rejected)})" if rejected else "")
    )
    return Choice(var, lock, reason, tuple(rejected))
