"""`envgen kb update --family conda-forge`: what the conda channel itself says of TensorFlow.

conda-forge-tensorflow.toml holds what the feedstock built; whether each build reached the channel
only the channel's repodata tells (the feedstock is built outside CI, conda-forge-records.toml says
why). This reads the channel's records of TensorFlow's packages through py-rattler's gateway (the
client envgen's conda locks use: sharded or plain repodata, http(s) or a local `file://` channel),
and shows:

* the records the channel has that conda-forge-records.toml lacks, as rows appended to it (the
  file's unified diff; `--write` appends them, quality "repodata");
* the feedstock builds those records now confirm (published, where they were not);
* releases and build numbers the channel has that the builds table does not know yet (a new
  `[[build]]` row to read from the feedstock).

A channel that cannot be read is an `ExternalToolError` (exit 5). Prints nothing.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from envgen import escape
from envgen.errors import ExternalToolError
from envgen.kb import KnowledgeBase, data_text
from envgen.kb.conda_forge import RECORDS_FILE, SUBDIRS
from envgen.kb.update import UpdateResult, result

# The feedstock's outputs that carry a Python build string (libtensorflow* carry none).
NAMES = (
    "tensorflow",
    "tensorflow-base",
    "tensorflow-cpu",
    "tensorflow-gpu",
    "tensorflow-estimator",
)


@dataclass(frozen=True)
class ChannelRecord:
    """One record of the channel's repodata, the fields a [[record]] row keeps."""

    name: str
    version: str
    build: str
    build_number: int
    subdir: str
    depends: tuple[str, ...] = ()
    track_features: tuple[str, ...] = ()
    md5: str = ""
    url: str = ""
    timestamp: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.subdir, self.name, self.version, self.build)


Read = Callable[[str, Sequence[str]], list[ChannelRecord]]


def read_channel(
    channel: str, subdirs: Sequence[str], cache: Path | None = None
) -> list[ChannelRecord]:
    """TensorFlow's records on `channel` for `subdirs`, through py-rattler's gateway."""
    import asyncio

    import rattler
    from rattler.exceptions import (
        CacheDirError,
        FetchRepoDataError,
        GatewayError,
        InvalidChannelError,
        IoError,
    )

    from envgen.proc import summary

    async def query() -> list[ChannelRecord]:
        gateway = rattler.Gateway(cache_dir=cache)
        platforms: list[Any] = list(subdirs)  # conda subdir names, as SUBDIRS spells them
        found = await gateway.query(
            [rattler.Channel(channel)], platforms, list(NAMES), recursive=False
        )
        out = []
        for records in found:
            for r in records:
                stamp = r.timestamp.strftime("%Y-%m-%d %H:%M:%S UTC") if r.timestamp else ""
                out.append(
                    ChannelRecord(
                        name=r.name.normalized,
                        version=str(r.version),
                        build=str(r.build),
                        build_number=int(r.build_number),
                        subdir=r.subdir,
                        depends=tuple(r.depends),
                        track_features=tuple(r.track_features or ()),
                        md5=r.md5.hex() if r.md5 else "",
                        url=str(r.url),
                        timestamp=stamp,
                    )
                )
        return out

    try:
        return asyncio.run(query())
    except (
        GatewayError,
        FetchRepoDataError,
        IoError,
        CacheDirError,
        InvalidChannelError,
    ) as exc:
        raise ExternalToolError(
            f"py-rattler could not read the conda channel {channel}: {summary(str(exc))}",
            hint="check the network or proxy, or give a mirror of the channel: --conda-channel URL",
        ) from exc


@dataclass(frozen=True)
class ForgeUpdate:
    """What the channel adds: the records file's diff, and what the records mean."""

    result: UpdateResult
    channel: str
    added: tuple[ChannelRecord, ...]
    confirmed: tuple[str, ...] = ()
    """Feedstock builds a record now shows on the channel (`2.19.1 cpu_py{py}h*_3 linux-64`)."""
    unknown: tuple[str, ...] = field(default=())
    """Releases and build numbers the channel has and the builds table lacks."""


def _value(value: str | int | Sequence[str]) -> str:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return str(escape.quoted(value))
    return "[" + ", ".join(str(escape.quoted(v)) for v in value) + "]"


def render_record(r: ChannelRecord, source: str) -> str:
    """A [[record]] row for a repodata record, keys in Record's order."""
    rows: list[tuple[str, str | int | Sequence[str]]] = [
        ("name", r.name),
        ("version", r.version),
        ("build", r.build),
    ]
    # conda-build ends the build string with the build number; a record that does not is kept
    # without the number rather than written as a row the loader refuses.
    rows += [("build-number", r.build_number)] if r.build.endswith(f"_{r.build_number}") else []
    rows += [("subdir", r.subdir)]
    rows += [("depends", r.depends)] if r.depends else []
    rows += [("track-features", r.track_features)] if r.track_features else []
    rows += [(k, v) for k, v in (("md5", r.md5), ("url", r.url), ("timestamp", r.timestamp)) if v]
    rows += [("quality", "repodata"), ("source", source)]
    return "\n[[record]]\n" + "".join(f"{k} = {_value(v)}\n" for k, v in rows)


def _is_tf2(version: str) -> bool:
    try:
        return Version(version).major >= 2
    except InvalidVersion:
        return False


def update_conda_forge(
    kb: KnowledgeBase,
    channel: str,
    *,
    write: bool = False,
    read: Read | None = None,
) -> ForgeUpdate:
    """Read `channel` (through `read`, py-rattler's gateway by default) and diff what it adds."""
    table = kb.conda_forge
    fetched = (read or read_channel)(channel, SUBDIRS)
    # Rows without a subdir (a `conda list` quote) count as the same record on any subdir.
    known = {r.key for r in table.records} | {
        (s, r.name, r.version, r.build) for r in table.records if r.subdir is None for s in SUBDIRS
    }
    added = sorted(
        (r for r in fetched if r.key not in known and _is_tf2(r.version)), key=lambda r: r.key
    )
    source = f"{channel.rstrip('/')}/<subdir>/repodata.json, read by envgen kb update"
    text = data_text(RECORDS_FILE) + "".join(render_record(r, source) for r in added)
    confirmed, unknown = _meaning(kb, fetched)
    return ForgeUpdate(
        result(RECORDS_FILE, text, write=write), channel, tuple(added), confirmed, unknown
    )


def _meaning(
    kb: KnowledgeBase, fetched: Sequence[ChannelRecord]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    table = kb.conda_forge
    confirmed: list[str] = []
    matched: set[tuple[str, str, str, str]] = set()
    for build in table.builds:
        for variant in build.variants:
            pattern = variant.build_string.replace("{py}", "*")
            hits = [
                r
                for r in fetched
                if r.subdir == variant.platform
                and _is_tf2(r.version)
                and Version(r.version) == build.version
                and fnmatch.fnmatchcase(r.build, pattern)
            ]
            matched |= {r.key for r in hits}
            if hits and not table.published(build, variant):
                confirmed.append(f"{build.version} {variant.build_string} {variant.platform}")
    unknown = sorted(
        {
            f"{r.version} build {r.build_number} ({r.subdir})"
            for r in fetched
            if r.name == "tensorflow" and _is_tf2(r.version) and r.key not in matched
        }
    )
    return tuple(confirmed), tuple(unknown)
