"""The pip side of a lock: uv's two answers per plan and platform, read, joined and written.

For each (plan, platform) uv answers twice on the same input (envgen.lock.uv runs it):

* `--format pylock.toml` gives the PEP 751 lock: every file of each pinned version that fits the
  target platform, with its canonical PyPI URL, size and sha256. An installer picks from exactly
  those files.
* `--generate-hashes` (requirements format) gives the pins with the hashes of *every* file of each
  version. pip picks a file from whatever index it is pointed at (a mirror included), so the hash
  list must cover the file pip will choose on the real machine (a newer manylinux tag than the
  lock's target, say); one file per platform would make `pip --require-hashes` fail there.

Per platform, never `--universal`: TF <= 2.15 wheels carry different metadata per platform
(tensorflow-intel on Windows, tensorflow-cpu-aws on aarch64) and a universal resolve reads one
(lab report §2). uv ignores pip's configuration; `--no-config` and a scrubbed environment keep a
user's uv.toml or UV_INDEX_URL out too, so the lock depends only on the inputs envgen hashes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from envgen.documents import MAX_PACKAGES, bad_char, is_sha256, parse_toml, shown
from envgen.errors import ExternalToolError, InputFileError
from envgen.plan import Plan

_PIN_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?:\s*;\s*(.+?))?\s*\\?$")
# A direct-URL pin as uv writes it (`name @ https://.../name-1.0-cp37-cp37m-win_amd64.whl \`):
# its version is the wheel file name's.
_URL_PIN_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*) ?@ ?((?:https|file)://\S+?\.whl)\s*\\?$")
_HASH_RE = re.compile(r"--hash=(sha256:[0-9a-f]{64})")
# What other tools write: extras, `===`, spaces around the operator, a marker after `;`.
_LOOSE_PIN_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s;\\]+)")


@dataclass(frozen=True)
class LockedPackage:
    """One pinned distribution of a pip lock."""

    name: str
    version: str
    marker: str | None
    files: int
    """Files the pylock lists for the target platform (wheels + sdist)."""
    hashes: int
    """Hashes the requirements file lists (every file of the version)."""


@dataclass(frozen=True)
class LockedFile:
    """The one file of a pinned distribution an installer takes on the lock's platform."""

    name: str
    version: str
    url: str
    sha256: str
    size: int | None = None
    """The size the lock records (PEP 751 `size`), when it records one."""


@dataclass(frozen=True)
class PipLock:
    """uv's two answers for one plan on one platform, checked against each other."""

    platform: str
    python: str
    pylock_body: str
    requirements_body: str
    packages: tuple[LockedPackage, ...]

    def versions(self) -> dict[str, str]:
        return {p.name: p.version for p in self.packages}


# --- inputs --------------------------------------------------------------------------------------


def requirements_in(plan: Plan, local: Mapping[str, str] | None = None) -> str:
    """The plan's pip packages as uv's input, one requirement a line, in the plan's order.

    Exact pins stay exact, so a release whose `and-cuda` extra uses ranges (2.20+) locks the
    CUDA wheels the plan judged, not whatever the range admits later. A direct-URL pin whose
    file `local` maps to a downloaded copy (`file://...`) is resolved from that copy
    (envgen.lock.direct): uv reads its metadata without the network.
    """
    local = local or {}
    lines = []
    for p in plan.pip_packages():
        if p.url is not None and p.url in local:
            lines.append(f"{p.name} @ {local[p.url]}")
        else:
            lines.append(p.requirement())
    return "".join(line + "\n" for line in lines)


# --- parsing uv's answers ------------------------------------------------------------------------


def parse_requirements(
    text: str, origin: str = "requirements", *, strict: bool = True
) -> dict[str, tuple[str, frozenset[str]]]:
    """`name==version` pins of a hashed requirements file -> {name: (version, its hashes)}.

    The one reader of requirements locks. `strict` (uv's own output, which envgen writes): every
    line is a pin or its `--hash` continuation. Not strict (a lock a user brings to `verify`,
    from pip-compile or by hand): option lines (`--index-url`), comments and requirements that
    are no exact pin are skipped."""
    pins: dict[str, tuple[str, frozenset[str]]] = {}
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip() if not strict else raw.strip()
        if not line or line.startswith("#"):
            continue
        if raw[:1].isspace() or line.startswith("--hash"):
            hashes = _HASH_RE.findall(line)
            if current is not None and hashes:
                version, known = pins[current]
                pins[current] = (version, known | set(hashes))
                continue
            if strict:
                raise InputFileError(f"{origin}:{number}: unexpected line {shown(line)}")
            continue
        direct = _URL_PIN_RE.match(line)
        if direct is not None:
            current = canonicalize_name(direct.group(1))
            pins[current] = (_wheel_version(direct.group(2), origin, number), frozenset())
            continue
        found = _PIN_RE.match(line) or (None if strict else _LOOSE_PIN_RE.match(line))
        if found is None:
            if strict:
                raise InputFileError(
                    f"{origin}:{number}: expected `name==version \\`, got {shown(line)}"
                )
            current = None
            continue
        if bad_char(line) is not None:
            raise InputFileError(f"{origin}:{number}: holds a control character: {shown(line)}")
        current = canonicalize_name(found.group(1))
        pins[current] = (found.group(2), frozenset(_HASH_RE.findall(line)))
    return pins


def _wheel_version(url: str, origin: str, number: int) -> str:
    try:
        return str(parse_wheel_filename(url.rsplit("/", 1)[-1])[1])
    except InvalidWheelFilename as exc:
        raise InputFileError(f"{origin}:{number}: {exc}") from exc


@dataclass(frozen=True)
class _PylockFile:
    """A wheel or sdist of a pylock package: its file name, URL and sha256."""

    name: str
    url: str
    sha256: str
    size: int | None = None


def _pylock_file(
    name: str | None, url: str | None, hashes: Any, where: str, size: int | None = None
) -> _PylockFile:
    sha256 = hashes.get("sha256") if isinstance(hashes, Mapping) else None
    if sha256 is None:
        raise InputFileError(f"{where}.hashes: a file has no sha256: {shown(url)}")
    if not is_sha256(sha256):
        raise InputFileError(f"{where}.hashes.sha256: expected 64 hex digits, got {shown(sha256)}")
    file_name = name or (url or "").rsplit("/", 1)[-1]
    if size is not None and (type(size) is not int or size < 0):
        raise InputFileError(f"{where}.size: expected a byte count, got {shown(size)}")
    return _PylockFile(file_name, url or "", sha256, size)


def _read_pylock(
    text: str, origin: str, *, strict: bool = True
) -> list[tuple[LockedPackage, list[_PylockFile], _PylockFile | None]]:
    """Every package of a PEP 751 lock with its wheels and sdist.

    The document is validated by `packaging.pylock` (PEP 751's own model, naming the key that
    is wrong). `strict` adds envgen's rule for a lock it installs from: every package has an
    exact version and a file, every file a sha256, so nothing installs unhashed. Not strict
    (a lock `verify` only compares versions with), packages without a version are skipped."""
    from packaging.pylock import Pylock, PylockValidationError

    doc = parse_toml(text, origin)
    packages = doc.get("packages")
    if isinstance(packages, list) and len(packages) > MAX_PACKAGES:
        raise InputFileError(f"{origin}: packages: more than {MAX_PACKAGES} entries")
    try:
        lock = Pylock.from_dict(doc)
    except PylockValidationError as exc:
        raise InputFileError(f"{origin}: {exc}", hint="run envgen lock again") from exc
    out: list[tuple[LockedPackage, list[_PylockFile], _PylockFile | None]] = []
    for i, pkg in enumerate(lock.packages):
        where = f"{origin}: packages[{i}]"
        if pkg.version is None:
            if not strict:
                continue  # a directory or VCS package: no version to compare
            raise InputFileError(f"{where}.version: missing (envgen locks only exact versions)")
        for value in (pkg.name, str(pkg.version), pkg.marker and str(pkg.marker)):
            if value and bad_char(value) is not None:
                raise InputFileError(f"{where}: holds a control character: {shown(value)}")
        if not strict:
            out.append(
                (LockedPackage(canonicalize_name(pkg.name), str(pkg.version), None, 0, 0), [], None)
            )
            continue
        wheels = [
            _pylock_file(w.name, w.url or w.path, w.hashes, f"{where}.wheels[{j}]", w.size)
            for j, w in enumerate(pkg.wheels or ())
        ]
        archive = pkg.archive
        if archive is not None:
            # A direct-URL wheel (a community build): the one file of the package.
            where_archive = f"{where}.archive"
            location = archive.url or (str(archive.path) if archive.path else None)
            wheels.append(_pylock_file(None, location, archive.hashes, where_archive, archive.size))
        sdist = (
            None
            if pkg.sdist is None
            else _pylock_file(
                pkg.sdist.name,
                pkg.sdist.url or pkg.sdist.path,
                pkg.sdist.hashes,
                f"{where}.sdist",
                pkg.sdist.size,
            )
        )
        if not wheels and sdist is None:
            raise InputFileError(f"{where}: {pkg.name}: no wheels and no sdist")
        marker = str(pkg.marker) if pkg.marker is not None else None
        name = canonicalize_name(pkg.name)
        files = len(wheels) + (sdist is not None)
        out.append((LockedPackage(name, str(pkg.version), marker, files, 0), wheels, sdist))
    return out


def parse_pylock(
    text: str, origin: str = "pylock", *, strict: bool = True
) -> tuple[LockedPackage, ...]:
    """The packages of a PEP 751 lock; `strict` refuses any file without a sha256."""
    return tuple(locked for locked, _, _ in _read_pylock(text, origin, strict=strict))


def _platform_key(platform: str) -> tuple[tuple[int, ...], int]:
    """Sort key of a wheel platform tag: newest first (manylinux_2_28 before manylinux_2_17,
    macosx_12_0 before macosx_11_0), then the architecture's own build before a fat one."""
    legacy = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
    version: tuple[int, ...] = next(
        (v for k, v in legacy.items() if platform.startswith(k + "_")), ()
    )
    if not version:
        version = tuple(int(n) for n in re.findall(r"(?<=_)\d+(?=_)", platform)[:2])
    fat = platform.endswith(("_universal2", "_universal", "_intel", "_fat", "_fat3", "_fat64"))
    return tuple(-n for n in version), int(fat)


def _tag_order(python: str, platforms: set[str]) -> dict[Tag, int]:
    """pip's and uv's preference among the tags of CPython `python` on `platforms`."""
    version = tuple(int(n) for n in python.split(".")[:2])
    ordered = sorted(platforms, key=lambda p: (_platform_key(p), p))
    abi = "cp" + "".join(str(n) for n in version)
    # CPython before 3.8 built with pymalloc carries the `m` ABI flag (cp37-cp37m-win_amd64,
    # PEP 3149): the tag its wheels, fo40225's among them, are named with.
    abis = [abi + "m", abi] if version < (3, 8) else [abi]
    tags = [
        *cpython_tags(version, abis, ordered),
        *compatible_tags(version, abi, ordered),
    ]
    return {tag: i for i, tag in reversed(list(enumerate(tags)))}


def install_files(pylock: str, python: str, origin: str = "pylock") -> tuple[LockedFile, ...]:
    """For each package of a single-platform pylock, the file an installer takes: the wheel whose
    best tag ranks first (pip's and uv's order: `cpXY-cpXY`, then `abi3`, then `py3-none`; a
    platform wheel before `any`), else the sdist. Sorted by name.

    uv already lists only the files that fit the lock's platform and Python, so this only
    orders them; a package with none that fits is refused."""
    out = []
    for locked, wheels, sdist in _read_pylock(pylock, origin):
        name, version = locked.name, locked.version
        tagged: list[tuple[frozenset[Tag], _PylockFile]] = []
        for wheel in wheels:
            try:
                tags = parse_wheel_filename(wheel.name)[3]
            except InvalidWheelFilename as exc:
                raise InputFileError(f"{origin} ({name}): {exc}") from exc
            tagged.append((tags, wheel))
        order = _tag_order(python, {t.platform for tags, _ in tagged for t in tags} - {"any"})
        ranked = sorted(
            (min(order.get(t, len(order)) for t in tags), w.url, i)
            for i, (tags, w) in enumerate(tagged)
        )
        chosen: _PylockFile
        if ranked and ranked[0][0] < len(order):
            chosen = tagged[ranked[0][2]][1]
        elif sdist is not None:
            chosen = sdist
        else:
            raise InputFileError(
                f"{origin} ({name}): no wheel for CPython {python} and no sdist",
                hint="run envgen lock again",
            )
        if not chosen.url:
            raise InputFileError(f"{origin} ({name}): a file has no url")
        out.append(LockedFile(name, version, chosen.url, chosen.sha256, chosen.size))
    return tuple(sorted(out, key=lambda f: f.name))


def pip_lock(platform: str, python: str, pylock: str, requirements: str) -> PipLock:
    """Join uv's two answers; they resolved the same input, so they must pin the same versions
    and every file of the pylock must be one the requirements hash. Any disagreement (a bug, or
    the index publishing between the two runs) is refused rather than written."""
    pins = parse_requirements(requirements, f"uv requirements for {platform}")
    joined = []
    for pkg, wheels, sdist in _read_pylock(pylock, f"uv pylock for {platform}"):
        version, hashes = pins.get(pkg.name, ("", frozenset()))
        unknown = [f.name for f in (*wheels, sdist) if f and f"sha256:{f.sha256}" not in hashes]
        if version != pkg.version or not hashes or unknown:
            theirs = f"requirements {version or 'absent'}"
            raise ExternalToolError(
                f"uv's two answers for {platform} disagree on {pkg.name}: pylock {pkg.version}"
                + (f" with {unknown[0]}, which the requirements do not hash" if unknown else "")
                + f", {theirs}",
                hint="run envgen lock again",
            )
        joined.append(LockedPackage(pkg.name, pkg.version, pkg.marker, pkg.files, len(hashes)))
    extra = sorted(set(pins) - {p.name for p in joined})
    if extra:
        raise ExternalToolError(
            f"uv's requirements for {platform} pin what its pylock lacks: {', '.join(extra)}",
            hint="run envgen lock again",
        )
    return PipLock(
        platform, python, pylock.strip() + "\n", requirements.strip() + "\n", tuple(joined)
    )


# --- checking a lock against its plan ------------------------------------------------------------


def unmet_pins(plan: Plan, versions: Mapping[str, str]) -> list[str]:
    """Each pip pin of `plan` that the locked `versions` do not satisfy, as a sentence."""
    problems = []
    for pin in plan.pip_packages():
        name = canonicalize_name(pin.name)
        have = versions.get(name)
        if have is None:
            problems.append(f"{pin.name} is not in the lock")
            continue
        spec_text = f"=={pin.version}" if pin.exact else pin.version
        try:
            ok = Version(have) in SpecifierSet(spec_text)
        except (InvalidSpecifier, InvalidVersion):
            ok = have == pin.version
        if not ok:
            problems.append(f"{pin.name} is locked at {have}, the plan asks for {spec_text}")
    return problems


# --- writing -------------------------------------------------------------------------------------


def render_pylock(
    lock: PipLock, header: list[str], environment: str, tool: Mapping[str, str]
) -> str:
    """uv's PEP 751 document with envgen's header, `environments` and a `[tool.envgen]` table,
    each written by tomlkit (uv's own formatting kept, every added value escaped by the writer).

    `environments` makes an installer refuse the lock on another platform (PEP 751: installers
    must check it); `created-by` stays "uv", the tool that resolved it. Only uv's top-level
    keys are parsed and edited: the `[[packages]]` that follow are kept as uv wrote them, since
    parsing them with tomlkit costs more than uv's own offline resolve (the same document
    results: a test compares it with editing the whole of it).
    """
    import tomlkit

    body = lock.pylock_body
    cut = body.find("\n[[packages]]")
    head, packages = (body, "") if cut < 0 else (body[: cut + 1], body[cut + 1 :])
    doc = tomlkit.parse(head)
    doc.add("environments", [environment])
    table = tomlkit.table()
    for key, value in sorted(tool.items()):
        table.add(key, value)
    holder = tomlkit.table(is_super_table=True)
    holder.add("envgen", table)
    extra = tomlkit.document()
    extra.add("tool", holder)
    comments = "".join(f"# {line}\n" for line in header)
    top = tomlkit.dumps(doc).rstrip("\n") + "\n"
    rest = packages.rstrip("\n") + "\n\n" if packages.strip() else ""
    return (
        comments + top + ("\n" + rest if rest else "\n") + tomlkit.dumps(extra).strip("\n") + "\n"
    )


def render_requirements(lock: PipLock, header: list[str]) -> str:
    """uv's hashed pins (sorted, no index URLs) with envgen's header: `pip --require-hashes` ready."""
    comments = "".join(f"# {line}\n" for line in header)
    return comments + lock.requirements_body
