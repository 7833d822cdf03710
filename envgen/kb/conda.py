"""Typed view of `conda.toml`: conda channels, how CUDA and cuDNN are spelled as conda specs per
CUDA line, and the facts about conda-forge's GPU TensorFlow builds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.cuda_arch import opt_version, req_version
from envgen.kb.rows import no_unknown_keys, req_str, rows, str_list
from envgen.versions import is_dotted, major_minor, parse_dotted

FILE = "conda.toml"


def _versions(row: dict[str, Any], key: str, where: str, *, bare_major: bool) -> tuple[str, ...]:
    """A non-empty list of "X.Y" versions ("X" too where `bare_major`: every X.y)."""
    values = str_list(row, key, where)
    ok = all(is_dotted(v, parts=2) or (bare_major and is_dotted(v, parts=1)) for v in values)
    if not values or not ok:
        shape = "'X.Y' or 'X'" if bare_major else "'X.Y'"
        raise KnowledgeBaseError(f"{where}: {key} must list {shape} versions, got {values!r}")
    return tuple(values)


def _covers(versions: tuple[str, ...], cuda: str) -> bool:
    mm = major_minor(cuda)
    return any(v == mm or v == mm.split(".")[0] for v in versions)


@dataclass(frozen=True)
class Channel:
    name: str
    url: str
    source: str


@dataclass(frozen=True)
class CudaScheme:
    """How one range of CUDA lines is requested: `cudatoolkit=X.Y` or `cuda-version=X.Y`."""

    scheme: str
    channel: str
    cuda: tuple[str, ...]
    specs: tuple[str, ...]
    runtime: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class CudnnPackage:
    channel: str
    cuda: tuple[str, ...]
    cudnn: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class TensorflowCuda:
    """conda-forge built tensorflow `first`..`last` (major.minor) with these CUDA variants."""

    first: str
    last: str
    cuda: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class CondaTensorflow:
    gpu_platforms: tuple[str, ...]
    gpu_spec: str
    cpu_spec: str
    virtual_package: str
    override_env: str
    source: str


@dataclass(frozen=True)
class CondaTable:
    channels: tuple[Channel, ...]
    schemes: tuple[CudaScheme, ...]
    cudnn_packages: tuple[CudnnPackage, ...]
    tensorflow: CondaTensorflow
    tensorflow_cuda: tuple[TensorflowCuda, ...]

    def channel(self, name: str) -> Channel | None:
        return next((c for c in self.channels if c.name == name), None)

    def scheme_for(self, cuda: str) -> CudaScheme | None:
        """The packaging scheme that carries CUDA `cuda` (X.Y), or None if conda has no such line."""
        mm = major_minor(cuda)
        return next((s for s in self.schemes if mm in s.cuda), None)

    def cudnn_lines(self, cuda: str, channel: str = "conda-forge") -> list[str]:
        """Confirmed `cudnn` package lines (A.B) for CUDA `cuda` on `channel`, oldest first."""
        found = {
            line
            for p in self.cudnn_packages
            if p.channel == channel and _covers(p.cuda, cuda)
            for line in p.cudnn
        }
        return sorted(found, key=parse_dotted)

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

    def tensorflow_cuda_variants(self, tensorflow: str) -> tuple[str, ...]:
        """CUDA lines conda-forge built tensorflow `tensorflow` with; () if no GPU build is known."""
        have = parse_dotted(major_minor(tensorflow))
        for row in self.tensorflow_cuda:
            if parse_dotted(row.first) <= have <= parse_dotted(row.last):
                return row.cuda
        return ()

    def cuda_versions(self) -> set[str]:
        named = {v for s in self.schemes for v in s.cuda}
        named |= {v for p in self.cudnn_packages for v in p.cuda}
        named |= {v for t in self.tensorflow_cuda for v in t.cuda}
        return named


def load_conda() -> CondaTable:
    doc = load_toml(FILE)
    channels = []
    for i, row in enumerate(rows(doc, "channel", FILE)):
        where = f"{FILE}: channel[{i}]"
        no_unknown_keys(row, {"name", "url", "source"}, where)
        url = req_str(row, "url", where)
        if not url.startswith("https://"):
            raise KnowledgeBaseError(f"{where}: url must be https, got {url!r}")
        channels.append(Channel(req_str(row, "name", where), url, req_str(row, "source", where)))
    names = {c.name for c in channels}

    def known_channel(row: dict[str, Any], where: str) -> str:
        name = req_str(row, "channel", where)
        if name not in names:
            raise KnowledgeBaseError(f"{where}: channel {name!r} is not a [[channel]]")
        return name

    schemes = []
    for i, row in enumerate(rows(doc, "cuda-scheme", FILE)):
        where = f"{FILE}: cuda-scheme[{i}]"
        no_unknown_keys(row, {"scheme", "channel", "cuda", "specs", "runtime", "source"}, where)
        specs = str_list(row, "specs", where)
        if not specs or not all("{cuda}" in s for s in specs[:1]):
            raise KnowledgeBaseError(f"{where}: specs must start with a spec naming {{cuda}}")
        schemes.append(
            CudaScheme(
                scheme=req_str(row, "scheme", where),
                channel=known_channel(row, where),
                cuda=_versions(row, "cuda", where, bare_major=False),
                specs=tuple(specs),
                runtime=tuple(str_list(row, "runtime", where, default=[])),
                source=req_str(row, "source", where),
            )
        )
    packages = []
    for i, row in enumerate(rows(doc, "cudnn-package", FILE)):
        where = f"{FILE}: cudnn-package[{i}]"
        no_unknown_keys(row, {"channel", "cuda", "cudnn", "source"}, where)
        packages.append(
            CudnnPackage(
                channel=known_channel(row, where),
                cuda=_versions(row, "cuda", where, bare_major=True),
                cudnn=_versions(row, "cudnn", where, bare_major=False),
                source=req_str(row, "source", where),
            )
        )
    tf = doc.get("tensorflow")
    if not isinstance(tf, dict):
        raise KnowledgeBaseError(f"{FILE}: missing [tensorflow]")
    where = f"{FILE}: tensorflow"
    no_unknown_keys(
        tf,
        {"gpu-platforms", "gpu-spec", "cpu-spec", "virtual-package", "override-env", "source"},
        where,
    )
    tensorflow = CondaTensorflow(
        gpu_platforms=tuple(str_list(tf, "gpu-platforms", where)),
        gpu_spec=req_str(tf, "gpu-spec", where),
        cpu_spec=req_str(tf, "cpu-spec", where),
        virtual_package=req_str(tf, "virtual-package", where),
        override_env=req_str(tf, "override-env", where),
        source=req_str(tf, "source", where),
    )
    tf_cuda = []
    for i, row in enumerate(rows(doc, "tensorflow-cuda", FILE)):
        where = f"{FILE}: tensorflow-cuda[{i}]"
        no_unknown_keys(row, {"tensorflow", "through", "cuda", "source"}, where)
        first = req_version(row, "tensorflow", where, parts=2)
        tf_cuda.append(
            TensorflowCuda(
                first=first,
                last=opt_version(row, "through", where, parts=2) or first,
                cuda=_versions(row, "cuda", where, bare_major=False),
                source=req_str(row, "source", where),
            )
        )
    return CondaTable(tuple(channels), tuple(schemes), tuple(packages), tensorflow, tuple(tf_cuda))
