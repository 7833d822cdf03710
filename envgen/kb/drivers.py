"""Typed view of `cuda-drivers.toml`: which driver each CUDA toolkit needs, and the reverse."""

from __future__ import annotations

from dataclasses import dataclass

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.rows import no_unknown_keys, opt_str, req_int, req_str, rows
from envgen.versions import Dotted, parse_dotted

FILE = "cuda-drivers.toml"


@dataclass(frozen=True)
class ToolkitDriver:
    """One toolkit release (GA or update) and the driver it requires per OS."""

    cuda: str
    release: str
    linux: str
    windows: str | None
    source: str

    def minimum(self, os_name: str) -> str | None:
        # WSL uses the Windows driver; macOS has no CUDA driver of the relevant era.
        return self.windows if os_name == "windows" else self.linux


@dataclass(frozen=True)
class MinorCompat:
    """CUDA X.y apps run on any driver at or above this one (minor-version compatibility)."""

    major: int
    linux: str
    windows: str | None
    source: str


@dataclass(frozen=True)
class DriverTable:
    toolkits: tuple[ToolkitDriver, ...]
    minor_compat: tuple[MinorCompat, ...]

    def toolkit_minimum(self, cuda: str, os_name: str) -> str | None:
        """The lowest driver that NVIDIA lists for any release of CUDA `cuda` (X.Y) on this OS."""
        found = [
            m for t in self.toolkits if t.cuda == cuda and (m := t.minimum(os_name)) is not None
        ]
        return min(found, key=parse_dotted) if found else None

    def minor_compat_minimum(self, major: int, os_name: str) -> str | None:
        for row in self.minor_compat:
            if row.major == major:
                return row.windows if os_name == "windows" else row.linux
        return None

    def max_cuda(self, driver: str, os_name: str) -> str | None:
        """The newest CUDA X.Y whose toolkit minimum `driver` meets, or None if it meets none."""
        have = parse_dotted(driver)
        best: Dotted | None = None
        for t in self.toolkits:
            minimum = t.minimum(os_name)
            if minimum is not None and parse_dotted(minimum) <= have:
                cuda = parse_dotted(t.cuda)
                best = cuda if best is None or cuda > best else best
        return None if best is None else ".".join(map(str, best))


def load_drivers() -> DriverTable:
    doc = load_toml(FILE)
    toolkits = []
    for i, row in enumerate(rows(doc, "toolkit", FILE)):
        where = f"{FILE}: toolkit[{i}]"
        no_unknown_keys(row, {"cuda", "release", "linux", "windows", "source"}, where)
        t = ToolkitDriver(
            cuda=req_str(row, "cuda", where),
            release=req_str(row, "release", where),
            linux=req_str(row, "linux", where),
            windows=opt_str(row, "windows", where),
            source=req_str(row, "source", where),
        )
        for key in ("cuda", "linux", "windows"):
            value = getattr(t, key)
            try:
                if value is not None:
                    parse_dotted(value)
            except ValueError as exc:
                raise KnowledgeBaseError(f"{where}: {key}: {exc}") from exc
        toolkits.append(t)
    compat = []
    for i, row in enumerate(rows(doc, "minor-compat", FILE)):
        where = f"{FILE}: minor-compat[{i}]"
        no_unknown_keys(row, {"major", "linux", "windows", "source"}, where)
        compat.append(
            MinorCompat(
                major=req_int(row, "major", where),
                linux=req_str(row, "linux", where),
                windows=opt_str(row, "windows", where),
                source=req_str(row, "source", where),
            )
        )
    return DriverTable(tuple(toolkits), tuple(compat))
