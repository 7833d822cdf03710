"""What a bundle carries: for each chosen variant and platform, the file each locked package
installs from, taken from the committed lock set (never re-resolved).

The pip side comes from each lock's PEP 751 pylock: exact URLs and sha256, and
`lock.pip.install_files` picks the one file an installer takes for the lock's platform and
Python (the best wheel, else the sdist). The conda side, where a variant has a conda-lock file,
comes from its `manager: conda` rows for the platform. The same file needed by several targets
(numpy for cpu and cuda12 on linux-64) is carried once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from envgen.documents import is_plain_name, is_sha256, shown
from envgen.errors import InputFileError, OptionError
from envgen.lock.index import INDEX, LockIndex, read_lock_file
from envgen.lock.integrity import require_intact

# Where each kind of file sits inside the bundle.
WHEELS = "wheels"
CONDA = "conda"
LOCKS = "locks"


@dataclass(frozen=True)
class BundleFile:
    """One package file the bundle carries."""

    path: str
    """Inside the bundle: `wheels/<file>` or `conda/<subdir>/<file>`."""
    url: str
    """The canonical URL the lock records (a mirror may serve the same bytes elsewhere)."""
    sha256: str
    size: int | None
    kind: str
    """wheel, sdist or conda."""
    package: str
    version: str

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Target:
    """One variant on one platform: the lock that installs it and the files it needs."""

    variant: str
    platform: str
    python: str
    requirements: str
    """The hashed requirements lock, as a path inside the bundle (`locks/requirements....txt`)."""
    pylock: str | None
    conda_lock: str | None
    files: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "variant": self.variant,
            "platform": self.platform,
            "python": self.python,
            "requirements": self.requirements,
            "files": list(self.files),
        }
        if self.pylock:
            out["pylock"] = self.pylock
        if self.conda_lock:
            out["conda-lock"] = self.conda_lock
        return out


@dataclass(frozen=True)
class Selection:
    index: LockIndex
    directory: Path
    targets: tuple[Target, ...]
    files: tuple[BundleFile, ...]
    lock_files: tuple[str, ...]
    """Every file of the lock set (the index included), by name in the lock folder."""
    warnings: tuple[str, ...] = ()

    @property
    def wheel_bytes(self) -> int:
        return sum(f.size or 0 for f in self.files)


def _names(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _chosen(option: str, asked: list[str], available: Sequence[str]) -> list[str]:
    """The names asked for (all when none was), each of them one the lock set has."""
    for name in asked:
        if name not in available:
            raise OptionError(
                option,
                f"the lock set has no {shown(name)}",
                hint=f"available: {', '.join(available)}",
            )
    return [name for name in available if not asked or name in asked]


def _conda_files(directory: Path, name: str, platform: str) -> list[BundleFile]:
    """The conda packages a variant's conda-lock file locks for `platform`."""
    from envgen.backends.conda_lock import for_platform, parse_conda_lock

    where = str(directory / name)
    conda, _pip = for_platform(
        parse_conda_lock(read_lock_file(directory, name), where), platform, where
    )
    out = []
    for row in conda:
        digest = row.hash("sha256")
        if digest is None or not is_sha256(digest) or not is_plain_name(row.file_name):
            raise InputFileError(f"{where}: {row.name}: no sha256, or a URL without a file name")
        if not is_plain_name(row.subdir):
            raise InputFileError(f"{where}: {row.name}: URL names no channel subdirectory")
        out.append(
            BundleFile(
                f"{CONDA}/{row.subdir}/{row.file_name}",
                row.url,
                digest,
                None,
                "conda",
                row.name,
                row.version,
            )
        )
    return out


def select(directory: Path, variants: str | None = None, platforms: str | None = None) -> Selection:
    """The files a bundle of `directory`'s lock set needs for these variants and platforms (both
    comma-separated; all of the lock set's when None). The lock set must be intact."""
    from envgen.lock.pip import install_files
    from envgen.lock.team import existing

    index = existing(directory)
    if index is None:
        raise InputFileError(
            f"{directory / INDEX} does not exist: there is no lock set to bundle",
            hint="make one with `envgen lock` (or point --lock-dir at it)",
        )
    # Bundling an edited lock would ship what `envgen lock` never wrote.
    require_intact(index, directory)
    names = _chosen("variants", _names(variants), [v.name for v in index.variants])
    wanted_platforms = _chosen("platform", _names(platforms), list(index.platforms))
    by_path: dict[str, BundleFile] = {}
    targets = []
    warnings = []
    for variant in (v for v in index.variants if v.name in names):
        for lock in variant.locks:
            if lock.platform not in wanted_platforms or lock.requirements is None:
                continue
            members: list[BundleFile] = []
            if lock.pylock is not None:
                origin = str(directory / lock.pylock)
                text = read_lock_file(directory, lock.pylock)
                for f in install_files(text, lock.python, origin):
                    file_name = f.url.rsplit("/", 1)[-1]
                    if not is_plain_name(file_name):
                        raise InputFileError(
                            f"{origin} ({f.name}): URL names no file: {shown(f.url)}"
                        )
                    kind = "wheel" if file_name.endswith(".whl") else "sdist"
                    if kind == "sdist":
                        warnings.append(
                            f"{f.name} {f.version} has no wheel for {lock.platform}: the bundle "
                            "carries its sdist, and building it offline needs its build tools"
                        )
                    members.append(
                        BundleFile(
                            f"{WHEELS}/{file_name}",
                            f.url,
                            f.sha256,
                            f.size,
                            kind,
                            f.name,
                            f.version,
                        )
                    )
            if variant.conda_lock is not None:
                members += _conda_files(directory, variant.conda_lock, lock.platform)
            for member in members:
                known = by_path.setdefault(member.path, member)
                if known.sha256 != member.sha256:
                    raise InputFileError(
                        f"{directory}: two locks name {member.path} with different sha256",
                        hint="regenerate the lock set with `envgen lock`",
                    )
            targets.append(
                Target(
                    variant=variant.name,
                    platform=lock.platform,
                    python=lock.python,
                    requirements=f"{LOCKS}/{lock.requirements}",
                    pylock=f"{LOCKS}/{lock.pylock}" if lock.pylock else None,
                    conda_lock=f"{LOCKS}/{variant.conda_lock}" if variant.conda_lock else None,
                    files=tuple(sorted({m.path for m in members})),
                )
            )
    if not targets:
        raise OptionError(
            "platform",
            f"the lock set has no lock for variants {', '.join(names)} on {', '.join(wanted_platforms)}",
            hint="see envgen-lock.toml for what it holds",
        )
    lock_files = tuple(sorted({INDEX, *(name for name, _ in index.files)}))
    return Selection(
        index,
        directory,
        tuple(targets),
        tuple(sorted(by_path.values(), key=lambda f: f.path)),
        lock_files,
        tuple(dict.fromkeys(warnings)),
    )
