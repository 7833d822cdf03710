"""conda-lock's unified lock file (version 1), read for the conda backend and the bundle.

Each `package:` row becomes a `LockedPackage` (name, version, manager, platform, URL, hashes);
a malformed row is an InputFileError naming its key, and a row with a control character in a
field is refused where it enters (it would reach an `@EXPLICIT` file and a requirements file).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from envgen.documents import bad_char, shown
from envgen.errors import InputFileError
from envgen.files import LOCK_FILE, read_text


@dataclass(frozen=True)
class LockedPackage:
    """One row of a conda-lock file (unified format, version 1)."""

    name: str
    version: str
    manager: str
    """"conda" or "pip"."""
    platform: str
    url: str
    hashes: tuple[tuple[str, str], ...]
    """(algorithm, hex digest), e.g. ("md5", …), ("sha256", …)."""
    dependencies: tuple[tuple[str, str], ...] = ()

    def hash(self, algorithm: str) -> str | None:
        return dict(self.hashes).get(algorithm)

    @property
    def file_name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def build(self) -> str:
        """The build string, from the archive name `<name>-<version>-<build>.conda|.tar.bz2`."""
        stem = self.file_name.removesuffix(".conda").removesuffix(".tar.bz2")
        return stem.removeprefix(f"{self.name}-{self.version}-")

    @property
    def subdir(self) -> str:
        """The channel subdirectory the URL names (`…/linux-64/x.conda`)."""
        parts = self.url.rstrip("/").rsplit("/", 2)
        return parts[-2] if len(parts) == 3 else self.platform

    @property
    def channel(self) -> str:
        return self.url.rstrip("/").rsplit("/", 2)[0]


# --- reading the lock ----------------------------------------------------------------------------


def parse_conda_lock(text: str, where: str) -> list[LockedPackage]:
    """The `package:` rows of a conda-lock.yml; InputFileError names the offending key."""
    import yaml  # ~50 ms: only the conda backend pays for it

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        # PyYAML's messages span lines ("while parsing ...\n  in ..."): keep the first.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputFileError(f"{where}: not YAML: {shown(first)}") from exc
    except RecursionError as exc:
        raise InputFileError(f"{where}: nested too deeply to read") from exc
    if not isinstance(doc, dict) or doc.get("version") != 1:
        raise InputFileError(
            f"{where}: not a conda-lock unified lock (version: 1)",
            hint="regenerate it with `envgen lock` or conda-lock >= 2",
        )
    rows = doc.get("package")
    if not isinstance(rows, list):
        raise InputFileError(f"{where}: `package` must be a list")
    out = []
    for i, row in enumerate(rows):
        key = f"{where}: package[{i}]"
        if not isinstance(row, dict):
            raise InputFileError(f"{key} must be a mapping")
        for field in ("name", "version", "manager", "platform", "url"):
            if not isinstance(row.get(field), str | int | float) or row.get(field) == "":
                raise InputFileError(f"{key}.{field} is missing or not a string")
            if bad_char(str(row[field])) is not None:
                raise InputFileError(
                    f"{key}.{field}: holds a control character: {shown(row[field])}"
                )
        hashes = row.get("hash")
        if not isinstance(hashes, dict) or not hashes:
            raise InputFileError(f"{key}.hash is missing (a lock without hashes is not a lock)")
        deps = row.get("dependencies") or {}
        if not isinstance(deps, dict):
            raise InputFileError(f"{key}.dependencies must be a mapping")
        out.append(
            LockedPackage(
                name=str(row["name"]),
                version=str(row["version"]),
                manager=str(row["manager"]),
                platform=str(row["platform"]),
                url=str(row["url"]),
                hashes=tuple(sorted((str(k), str(v)) for k, v in hashes.items() if v)),
                dependencies=tuple(sorted((str(k), str(v)) for k, v in deps.items())),
            )
        )
    return out


def read_conda_lock(path: Path) -> list[LockedPackage]:
    return parse_conda_lock(read_text(path, what="conda lock", limit=LOCK_FILE), str(path))


def for_platform(
    packages: Sequence[LockedPackage], platform: str, where: str
) -> tuple[list[LockedPackage], list[LockedPackage]]:
    """(conda rows, pip rows) locked for `platform`; InputFileError when it has none."""
    mine = [p for p in packages if p.platform == platform]
    if not mine:
        locked = sorted({p.platform for p in packages})
        raise InputFileError(
            f"{where} has no packages for {platform} (locked: {', '.join(locked) or 'none'})",
            hint=f"lock for this machine: envgen lock --platform {platform}",
        )
    return [p for p in mine if p.manager == "conda"], [p for p in mine if p.manager == "pip"]
