"""Build a small local conda channel of real packages, since no conda channel is reachable here.

Each package is a genuine archive: `.tar.bz2` (a bzip2 tar of `info/` and the payload) or `.conda`
(an uncompressed zip of `metadata.json`, `info-*.tar.zst` and `pkg-*.tar.zst`, the CEP 2 layout
conda-package-handling writes). `info/index.json`, `info/paths.json` and `info/files` follow what
conda-build writes; rattler indexes the channel (lab report §5 shows the steps).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

# A fixed mtime keeps the archives, and so the lock's hashes, identical from run to run.
_MTIME = 1_700_000_000


@dataclass(frozen=True)
class Pkg:
    name: str
    version: str
    subdir: str  # "noarch" or a platform
    depends: tuple[str, ...] = ()
    build: str = "0"
    fmt: str = ".tar.bz2"
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def stem(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"


def _tar(members: dict[str, bytes], mode: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:  # type: ignore[call-overload]
        for name, data in sorted(members.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = _MTIME
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _zst(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor(level=3).compress(data)


def build_package(pkg: Pkg, channel: Path) -> Path:
    payload_path = f"share/envgen-demo/{pkg.name}.txt"
    payload = f"{pkg.name} {pkg.version}\n".encode()
    index: dict[str, object] = {
        "name": pkg.name,
        "version": pkg.version,
        "build": pkg.build,
        "build_number": 0,
        "depends": list(pkg.depends),
        "subdir": pkg.subdir,
        "license": "MIT",
        "timestamp": _MTIME * 1000,
        **pkg.extra,
    }
    if pkg.subdir == "noarch":
        index["noarch"] = "generic"
    paths = {
        "paths_version": 1,
        "paths": [
            {
                "_path": payload_path,
                "path_type": "hardlink",
                "sha256": hashlib.sha256(payload).hexdigest(),
                "size_in_bytes": len(payload),
            }
        ],
    }
    info = {
        "info/index.json": json.dumps(index, indent=2, sort_keys=True).encode(),
        "info/paths.json": json.dumps(paths, indent=2).encode(),
        "info/files": (payload_path + "\n").encode(),
    }
    out = channel / pkg.subdir / (pkg.stem + pkg.fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    if pkg.fmt == ".tar.bz2":
        out.write_bytes(_tar({**info, payload_path: payload}, "w:bz2"))
        return out
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in (
            ("metadata.json", json.dumps({"conda_pkg_format_version": 2}).encode()),
            (f"info-{pkg.stem}.tar.zst", _zst(_tar(info, "w"))),
            (f"pkg-{pkg.stem}.tar.zst", _zst(_tar({payload_path: payload}, "w"))),
        ):
            zi = zipfile.ZipInfo(name, date_time=(2023, 11, 14, 22, 13, 20))
            zf.writestr(zi, data)
    out.write_bytes(buf.getvalue())
    return out


def build_channel(channel: Path, packages: list[Pkg]) -> Path:
    """Write every package and index the channel with rattler; returns the channel directory."""
    import rattler.index

    for pkg in packages:
        build_package(pkg, channel)
    subdirs = {p.subdir for p in packages} | {"noarch"}
    for subdir in subdirs:
        (channel / subdir).mkdir(parents=True, exist_ok=True)
    asyncio.run(rattler.index.index_fs(channel, write_zst=False, write_shards=False, force=True))
    return channel
