"""What uv said about an install: the time of each phase, and which files it fetched.

`uv pip install` (0.13.9) ends with one summary line per phase on stderr, verbatim:

    Resolved 32 packages in 250ms          (index pages, for a requirements file)
    Prepared 32 packages in 4.75s          (download and unpack into uv's cache)
    Installed 32 packages in 296ms         (link or copy into the environment)
    Bytecode compiled 4415 files in 5.90s

and names each download of a large file as it starts: `Downloading tensorflow-cpu (261.1MiB)`
(small files are fetched without a line). A phase with nothing to do prints no line: a warm
cache prepares nothing. `read_uv_install` turns that text into an `InstallReport`; `fetched`
adds the bytes, from the lock's own file sizes where the lock records them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from packaging.utils import canonicalize_name

# uv's own wording of each phase -> envgen's name for it.
PHASES = {
    "Resolved": "resolve",
    "Prepared": "download",
    "Installed": "install",
    "Bytecode compiled": "bytecode",
}
_PHASE_RE = re.compile(
    r"^(Resolved|Prepared|Installed|Bytecode compiled) (\d+) (?:packages?|files?) in "
    r"((?:\d+m )?\d+(?:\.\d+)?(?:ms|s|m))$"
)
_DURATION_RE = re.compile(r"^(?:(\d+)m )?(\d+(?:\.\d+)?)(ms|s|m)$")
_DOWNLOAD_RE = re.compile(
    r"^Downloading ([A-Za-z0-9][A-Za-z0-9._-]*) \((\d+(?:\.\d+)?)(B|KiB|MiB|GiB)\)$"
)
_UNIT = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
# More lines than any install prints; a runaway output is not read to its end.
_MAX_LINES = 100_000


@dataclass(frozen=True)
class Phase:
    name: str
    """resolve, download, install or bytecode."""
    count: int
    """Packages (files, for bytecode) uv handled in it."""
    seconds: float


@dataclass(frozen=True)
class InstallReport:
    phases: tuple[Phase, ...] = ()
    large: tuple[tuple[str, int], ...] = ()
    """(distribution, bytes as uv rounded them) of each download uv named, in its order."""

    def phase(self, name: str) -> Phase | None:
        return next((p for p in self.phases if p.name == name), None)

    def to_dict(self) -> dict[str, object]:
        return {p.name: {"count": p.count, "seconds": p.seconds} for p in self.phases}

    def describe(self) -> str:
        """`download 2.7 s, install 0.2 s, bytecode 5.9 s (4415 files)`: the phases uv ran."""
        parts = [f"{p.name} {p.seconds:.1f} s" for p in self.phases]
        compiled = self.phase("bytecode")
        if compiled is not None:
            parts[-1] += f" ({compiled.count} files)"
        return ", ".join(parts)


def _seconds(text: str) -> float:
    found = _DURATION_RE.match(text)
    if found is None:  # the phase pattern admits only what this one reads
        raise ValueError(text)
    minutes, number, unit = found.groups()
    value = float(number) * {"ms": 0.001, "s": 1.0, "m": 60.0}[unit]
    return round(value + 60.0 * int(minutes or 0), 3)


def read_uv_install(text: str) -> InstallReport:
    """The phases and named downloads of uv's install output; lines it does not know (the
    `+ name==version` list, warnings, progress) are skipped."""
    phases: list[Phase] = []
    large: list[tuple[str, int]] = []
    for number, raw in enumerate(text.splitlines()):
        if number >= _MAX_LINES:
            break
        line = raw.strip()
        if found := _PHASE_RE.match(line):
            word, count, duration = found.groups()
            phases.append(Phase(PHASES[word], int(count), _seconds(duration)))
        elif found := _DOWNLOAD_RE.match(line):
            name, size, unit = found.groups()
            large.append((name, round(float(size) * _UNIT[unit])))
    return InstallReport(tuple(phases), tuple(large))


@dataclass(frozen=True)
class Fetched:
    """What an install fetched, and from where."""

    packages: int
    bytes: int
    exact: bool
    """True when `bytes` is the lock's own sizes of every file fetched; else a lower bound
    (uv's rounded sizes of the large files it named)."""
    source: str

    def to_dict(self) -> dict[str, object]:
        return {
            "packages": self.packages,
            "bytes": self.bytes,
            "exact": self.exact,
            "from": self.source,
        }

    def describe(self) -> str:
        if not self.packages:
            return "nothing fetched (all in uv's cache)"
        size = f"{self.bytes / (1 << 20):.1f} MiB"
        return f"fetched {self.packages} package(s), {'' if self.exact else '>= '}{size} from {self.source}"


def fetched(report: InstallReport, sizes: Mapping[str, int], source: str) -> Fetched | None:
    """What `report`'s install fetched. `sizes` are the lock's file sizes by canonical name
    (empty when unknown). uv prepares exactly the packages its cache lacks, so when it
    prepared every package of the lock the sum of the lock's sizes is exact."""
    prepared = report.phase("download")
    if prepared is None:
        return None if report.phase("install") is None else Fetched(0, 0, True, source)
    if sizes and prepared.count == len(sizes):
        return Fetched(prepared.count, sum(sizes.values()), True, source)
    named = {canonicalize_name(name): size for name, size in report.large}
    total = sum(sizes.get(name, size) for name, size in named.items())
    return Fetched(prepared.count, total, False, source)
