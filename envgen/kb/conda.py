"""Typed view of `conda.toml`: conda channels, how CUDA and cuDNN are spelled as conda specs per
CUDA line, and how conda-forge's GPU TensorFlow builds are asked for (their variants, release by
release, are `conda_forge.py`'s)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.fields import Contains, NonEmpty, Prefix, RowError, key, parts
from envgen.kb.rows import DataFile, Table
from envgen.versions import DottedVersion, major_minor

FILE = "conda.toml"

# CUDA lines: "X.Y"; where a bare major is allowed it means every X.y.
CUDA_LINES = (parts(2), NonEmpty())
CUDA_LINES_OR_MAJOR = (parts(1, 2), NonEmpty())


def _covers(versions: tuple[str, ...], cuda: str) -> bool:
    mm = major_minor(cuda)
    return any(v == mm or v == mm.split(".")[0] for v in versions)


@dataclass(frozen=True)
class Channel:
    name: str
    url: str = field(metadata=key(Prefix("https://")))
    source: str = field(metadata=key())


@dataclass(frozen=True)
class CudaScheme:
    """How one range of CUDA lines is requested: `cudatoolkit=X.Y` or `cuda-version=X.Y`."""

    scheme: str
    channel: str
    cuda: tuple[DottedVersion, ...] = field(metadata=key(*CUDA_LINES))
    specs: tuple[str, ...] = field(metadata=key(NonEmpty(), doc="the first names {cuda}"))
    runtime: tuple[str, ...] = field(metadata=key(default=()))
    source: str = field(metadata=key())

    def check_row(self) -> None:
        problem = Contains("{cuda}").problem(self.specs[0])
        if problem is not None:
            raise RowError("specs", f"the first spec {problem}")


@dataclass(frozen=True)
class CudnnPackage:
    channel: str
    cuda: tuple[DottedVersion, ...] = field(metadata=key(*CUDA_LINES_OR_MAJOR))
    cudnn: tuple[DottedVersion, ...] = field(metadata=key(*CUDA_LINES))
    source: str = field(metadata=key())


@dataclass(frozen=True)
class CondaTensorflow:
    gpu_platforms: tuple[str, ...]
    gpu_spec: str
    cpu_spec: str
    virtual_package: str
    override_env: str
    source: str


@dataclass(frozen=True)
class Variable:
    """An environment variable a pip TensorFlow over conda's CUDA needs, on these OSes."""

    name: str
    value: str
    os: tuple[str, ...] = field(metadata=key(NonEmpty()))
    source: str = field(metadata=key())
    at_start: bool = field(
        metadata=key(
            default=False,
            doc="read by the dynamic loader only when a program starts: set by activation, "
            "ENV or environment.yml, never by the interpreter's own .pth",
        )
    )

    def check_row(self) -> None:
        # It becomes a shell variable, a Dockerfile ENV name and a YAML key.
        if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", self.name):
            raise RowError("name", "an environment variable name: A-Z, 0-9 and _")


SCHEMA = DataFile(
    FILE,
    "conda channels, CUDA and cuDNN as conda specs, and how conda-forge's TensorFlow is asked for",
    (
        Table("channel", Channel, label="name"),
        Table("cuda-scheme", CudaScheme, label="scheme"),
        Table("cudnn-package", CudnnPackage, label="channel"),
        Table("tensorflow", CondaTensorflow, many=False),
        Table("variable", Variable, label="name"),
    ),
)


@dataclass(frozen=True)
class CondaTable:
    channels: tuple[Channel, ...]
    schemes: tuple[CudaScheme, ...]
    cudnn_packages: tuple[CudnnPackage, ...]
    tensorflow: CondaTensorflow
    variables: tuple[Variable, ...] = ()

    def environment(self, os_name: str) -> tuple[tuple[str, str], ...]:
        """The variables a pip TensorFlow needs over conda's CUDA on `os_name` (linux, ...)."""
        return tuple((v.name, v.value) for v in self.variables if os_name in v.os)

    def at_start(self) -> frozenset[str]:
        """Names of the variables that must be set before a program starts (`at-start`)."""
        return frozenset(v.name for v in self.variables if v.at_start)

    def channel(self, name: str) -> Channel | None:
        return next((c for c in self.channels if c.name == name), None)

    def scheme_for(self, cuda: str) -> CudaScheme | None:
        """The packaging scheme that carries CUDA `cuda` (X.Y), or None if conda has no such line."""
        mm = major_minor(cuda)
        return next((s for s in self.schemes if mm in s.cuda), None)

    def cudnn_lines(self, cuda: str, channel: str = "conda-forge") -> list[DottedVersion]:
        """Confirmed `cudnn` package lines (A.B) for CUDA `cuda` on `channel`, oldest first."""
        found = {
            line
            for p in self.cudnn_packages
            if p.channel == channel and _covers(p.cuda, cuda)
            for line in p.cudnn
        }
        return sorted(found)

    def why_not(self, cuda: str, cudnn: str | None = None) -> str | None:
        """Why `specs_for(cuda, cudnn)` has no answer; None when it has one."""
        scheme = self.scheme_for(cuda)
        if scheme is None:
            known = ", ".join(v for s in self.schemes for v in s.cuda)
            return f"no conda package carries CUDA {major_minor(cuda)} (known: {known})"
        if cudnn is not None and major_minor(cudnn) not in self.cudnn_lines(cuda, scheme.channel):
            lines = ", ".join(self.cudnn_lines(cuda, scheme.channel)) or "none"
            return (
                f"{scheme.channel} has no confirmed cudnn {major_minor(cudnn)} for CUDA "
                f"{major_minor(cuda)} (confirmed: {lines})"
            )
        return None

    def specs_for(
        self, cuda: str, cudnn: str | None = None, *, runtime: bool = False
    ) -> list[str] | None:
        """Conda specs for CUDA `cuda` and optionally cuDNN `cudnn`; None if they do not exist.

        `("11.2", "8.1")` -> `["cudatoolkit=11.2", "cudnn=8.1"]`;
        `("12.5", "9.3")` -> `["cuda-version=12.5", "cudnn=9.3"]`. `runtime=True` adds the split
        CUDA libraries (12+) that a pip-installed framework needs. `why_not` says what is missing.
        """
        scheme = self.scheme_for(cuda)
        if scheme is None or self.why_not(cuda, cudnn) is not None:
            return None
        specs = [s.format(cuda=major_minor(cuda)) for s in scheme.specs]
        if runtime:
            specs.extend(scheme.runtime)
        if cudnn is not None:
            specs.append(f"cudnn={major_minor(cudnn)}")
        return specs

    def cuda_versions(self) -> set[str]:
        named: set[str] = {v for s in self.schemes for v in s.cuda}
        named |= {v for p in self.cudnn_packages for v in p.cuda}
        return named


def load_conda() -> CondaTable:
    rows = SCHEMA.open(load_toml(FILE))
    channels = rows.rows(Channel)
    names = {c.name for c in channels}
    schemes, packages = rows.rows(CudaScheme), rows.rows(CudnnPackage)
    # A scheme or cuDNN package names a channel of the same file.
    named = [("cuda-scheme", s.channel) for s in schemes]
    named += [("cudnn-package", p.channel) for p in packages]
    for table, channel in named:
        if channel not in names:
            i = [c for t, c in named if t == table].index(channel)
            raise KnowledgeBaseError(
                f"{FILE}: {table}[{i}].channel: {channel!r} is not a [[channel]]"
            )
    return CondaTable(
        channels,
        schemes,
        packages,
        rows.one(CondaTensorflow),
        rows.rows(Variable),
    )
