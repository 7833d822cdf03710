"""`envgen bundle`: a committed lock set turned into one archive that installs with no network.

    envgen bundle [--variants cpu] [--platform linux-64] [--mirror tuna] [--output FILE]

The archive (`envgen-bundle/` inside a plain tar) holds, for each chosen variant and platform,
every file its lock installs (wheels; conda packages where a variant has a conda-lock), the lock
set itself, `manifest.json` (each file's path, size and sha256, and which files each target
needs), `check.py` (the checker, standard library only) and two installers that need nothing but
Python: `install.sh` and `install.ps1` (`pip install --no-index --find-links wheels
--require-hashes -r <lock>`). `envgen create --from-bundle FILE` installs it too, choosing the
variant for the machine as `create` does.

Files are downloaded through `envgen.bundle.download` (parallel, resumable, checked against the
lock while they stream) into a cache that a second run reuses; a mirror serves the same files
(`envgen.bundle.sources`) and the lock's hashes decide. Only the CLI prints: progress reaches it
through a callback.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envgen import __version__
from envgen.bundle import check
from envgen.bundle.archive import Member, extract, write_archive
from envgen.bundle.download import OnBytes, cached_path, fetch_all
from envgen.bundle.select import LOCKS, Selection, select
from envgen.bundle.sources import Sources
from envgen.digest import sha256
from envgen.errors import InputFileError, UsageError
from envgen.files import MARKER, read_bytes

if TYPE_CHECKING:
    from envgen.backends import Backend

MANIFEST = check.MANIFEST
INSTALLERS = ("install.sh", "install.ps1")
_PYTHON = re.compile(r"[0-9]+\.[0-9]+")


@dataclass(frozen=True)
class BundleResult:
    path: Path
    sha256: str
    size: int
    selection: Selection
    reused: int
    """Files the cache already held."""
    downloaded: int
    """Bytes that came over the network."""
    seconds: float
    sources: str
    """Where the files came from: `pypi` or the mirror's name."""
    package_bytes: int
    """The package files' sizes added up: what the archive costs over its payload is the rest."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "size": self.size,
            "package-files": len(self.selection.files),
            "package-bytes": self.package_bytes,
            "reused": self.reused,
            "downloaded-bytes": self.downloaded,
            "seconds": self.seconds,
            "source": self.sources,
            "input-hash": self.selection.index.input_hash,
            "targets": [t.to_dict() for t in self.selection.targets],
            "warnings": list(self.selection.warnings),
        }


def default_output(selection: Selection) -> Path:
    """`envgen-bundle-<variants>-<platforms>.tar`: names from the lock set (plain names)."""
    variants = "+".join(dict.fromkeys(t.variant for t in selection.targets))
    platforms = "+".join(dict.fromkeys(t.platform for t in selection.targets))
    return Path(f"envgen-bundle-{variants}-{platforms}.tar")


def manifest_text(selection: Selection, entries: list[dict[str, Any]]) -> str:
    """The manifest: deterministic JSON (sorted keys, ASCII only, so no value can hold a raw
    line break or a character an editor shows as one)."""
    doc = {
        "schema": check.SCHEMA,
        "generator": f"{MARKER} {__version__}",
        "lock-input-hash": selection.index.input_hash,
        "targets": [t.to_dict() for t in selection.targets],
        "files": sorted(entries, key=lambda e: str(e["path"])),
    }
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


def render_installers(selection: Selection) -> dict[str, str]:
    """install.sh and install.ps1 for this selection, through the escaping layer."""
    from envgen.render import templates

    pythons = sorted({t.python for t in selection.targets if _PYTHON.fullmatch(t.python)})
    python = pythons[0] if len(pythons) == 1 else "3"
    candidates = (
        [f"python{python}", "python3", "python"] if python != "3" else ["python3", "python"]
    )
    context = {
        "marker": MARKER,
        "version": __version__,
        "bundle_id": selection.index.input_hash,
        "python": python,
        "variants": list(dict.fromkeys(t.variant for t in selection.targets)),
        "candidates": list(dict.fromkeys(candidates)),
    }
    env = templates()
    return {name: env.get_template(f"{name}.j2").render(**context) for name in INSTALLERS}


def make_bundle(
    locks: Path,
    output: Path | None,
    *,
    variants: str | None,
    platforms: str | None,
    sources: Sources,
    cache: Path,
    on_start: Callable[[Selection], None] | None = None,
    on_bytes: OnBytes | None = None,
) -> BundleResult:
    """Download what `locks`' chosen targets need (or take it from `cache`) and write the archive.

    `on_start` sees the selection before the first download (the CLI sizes its progress bar)."""
    start = time.perf_counter()
    selection = select(locks, variants, platforms)
    if on_start is not None:
        on_start(selection)
    fetched = fetch_all(selection.files, cache, sources, on_bytes=on_bytes)
    entries: list[dict[str, Any]] = []
    members: list[Member] = []
    for got in fetched:
        f = got.file
        size = got.path.stat().st_size
        entries.append(
            {
                "path": f.path,
                "sha256": f.sha256,
                "size": size,
                "kind": f.kind,
                "package": f.package,
                "version": f.version,
                "url": f.url,
            }
        )
        members.append(Member(f.path, source=got.path, sha256=f.sha256))
    texts: dict[str, tuple[bytes, bool]] = {}
    for name in selection.lock_files:
        data = read_bytes(locks / name, what="lock file", limit=16 << 20)
        texts[f"{LOCKS}/{name}"] = (data, False)
    for name, text in render_installers(selection).items():
        texts[name] = (text.encode("utf-8"), name.endswith(".sh"))
    texts["check.py"] = (Path(check.__file__).read_bytes(), False)
    for path, (data, executable) in texts.items():
        kind = "lock" if path.startswith(LOCKS + "/") else "installer"
        entries.append({"path": path, "sha256": sha256(data), "size": len(data), "kind": kind})
        members.append(Member(path, data=data, executable=executable))
    members.append(Member(MANIFEST, data=manifest_text(selection, entries).encode("ascii")))
    dest = output or default_output(selection)
    digest, size = write_archive(dest, members)
    return BundleResult(
        path=dest,
        sha256=digest,
        size=size,
        selection=selection,
        reused=sum(1 for g in fetched if g.reused),
        downloaded=sum(g.downloaded for g in fetched),
        seconds=round(time.perf_counter() - start, 2),
        sources="pypi" if sources.canonical or sources.mirror is None else sources.mirror.name,
        package_bytes=sum(
            int(e["size"]) for e in entries if e.get("kind") not in ("lock", "installer")
        ),
    )


@dataclass(frozen=True)
class OpenedBundle:
    """A bundle unpacked and checked: where its locks and package files are."""

    archive: Path
    sha256: str
    root: Path
    manifest: Mapping[str, Any]

    @property
    def locks(self) -> Path:
        return self.root / LOCKS

    @property
    def wheels(self) -> Path:
        return self.root / "wheels"


def open_bundle(archive: Path, into: Path) -> OpenedBundle:
    """Unpack `archive` into `into` and check it before anything is installed: every file against
    the manifest, every wheel against its lock, the lock set against its index. InputFileError
    (exit 3) names the first file that is not what `envgen bundle` wrote."""
    from envgen.bundle.archive import archive_sha256
    from envgen.lock.index import INDEX, load_index
    from envgen.lock.integrity import require_intact

    root = extract(archive, into)
    try:
        manifest, problems = check.check_bundle(str(root))
    except check.BundleProblem as exc:
        problems, manifest = [exc], {}
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputFileError(
            f"{archive}: {first.path}: {first.why}{more}: refusing to install from this bundle",
            hint="make the bundle again with `envgen bundle`, or copy an intact one",
        )
    locks = root / LOCKS
    require_intact(load_index(locks / INDEX), locks)
    return OpenedBundle(archive, archive_sha256(archive), root, manifest)


def offline_ready(backend: Backend, *, relock: bool) -> None:
    """Refuse (UsageError) what would reach the network with a bundle: a backend that installs
    from channels or registries, or re-resolving its lock set. Checked before it is unpacked."""
    if relock:
        raise UsageError(
            "--from-bundle installs the bundle's lock set as it was made; --relock would "
            "re-resolve it against an index",
            hint="re-lock where the set lives (`envgen lock`), then make the bundle again",
        )
    if not backend.installs_offline:
        raise UsageError(
            f"--from-bundle installs with no network; the {backend.name} backend would still "
            "reach its channels or registry",
            hint="drop --backend (a virtualenv), or install with the bundle's install.sh",
        )


@contextlib.contextmanager
def unpacked(archive: Path, beside: Path) -> Iterator[OpenedBundle]:
    """`open_bundle` into a temporary folder in `beside` (the project, where there is room for
    it, not a small /tmp), removed afterwards whatever happened."""
    import tempfile

    beside.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".envgen-bundle-", dir=beside) as work:
        yield open_bundle(archive, Path(work))


__all__ = [
    "LOCKS",
    "BundleResult",
    "OpenedBundle",
    "Sources",
    "cached_path",
    "default_output",
    "make_bundle",
    "offline_ready",
    "open_bundle",
    "unpacked",
]
