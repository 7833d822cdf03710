"""Typed view of conda-forge's TensorFlow: `conda-forge-tensorflow.toml` (what the feedstock built,
variant by variant) and `conda-forge-records.toml` (real channel records).

Two files because their facts have different origins, as the PyPI tables: the builds are read
from the feedstock's recipe and build scripts (by hand, with the commit of each), the records
from the channel itself (quoted in public threads, or written by `envgen kb update --family
conda-forge` from the channel's repodata). A build variant is *published* where a record of it is
known; the resolver plans unpublished ones too (the conda lock's solve settles it) and says so.
"""

from __future__ import annotations

import fnmatch
import itertools
from dataclasses import dataclass, field

from packaging.version import Version

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.cuda_arch import CC
from envgen.kb.fields import Ascending, Contains, NonEmpty, RowError, key, one_of, parts
from envgen.kb.rows import DataFile, Table
from envgen.versions import DottedVersion

FILE = "conda-forge-tensorflow.toml"
RECORDS_FILE = "conda-forge-records.toml"

# The conda subdirs conda-forge built TensorFlow 2.x for (no win-64: meta.yaml skips Windows).
SUBDIRS = ("linux-64", "linux-aarch64", "osx-64", "osx-arm64")
QUALITIES = ("full", "conda-list", "repodata", "staging", "unverified")
PROOF = ("full", "conda-list", "repodata")
"""Record qualities that prove a build is on the channel (staging and unverified ones do not)."""
PYTHONS = (parts(2), Ascending(), NonEmpty())
CC_LIST = (CC, Ascending())


@dataclass(frozen=True)
class Variant:
    """One build of one release: a platform, CUDA (or the CPU) and x86-64 level."""

    platform: str = field(metadata=key(one_of(SUBDIRS)))
    cuda: DottedVersion | None = field(metadata=key(parts(2), doc="absent: a CPU build"))
    cudnn: str | None = field(metadata=key(doc="the cudnn variant key: a major, or major.minor"))
    microarch_level: int | None = field(metadata=key())
    python: tuple[DottedVersion, ...] = field(metadata=key(*PYTHONS))
    build_number: int = field(metadata=key())
    build_string: str = field(metadata=key(Contains("{py}")))
    cpu_features: tuple[str, ...] = field(metadata=key())
    baseline: str = field(metadata=key())
    baseline_source: str = field(metadata=key())
    glibc: DottedVersion | None = field(metadata=key(parts(2)))
    macos: DottedVersion | None = field(metadata=key(parts(1, 2)))
    compiler: str = field(metadata=key())
    min_compute_capability: DottedVersion | None = field(metadata=key(CC))
    sass: tuple[DottedVersion, ...] = field(metadata=key(*CC_LIST, default=()))
    ptx: tuple[DottedVersion, ...] = field(metadata=key(*CC_LIST, default=()))
    compute_capabilities_source: str | None = field(metadata=key())
    built_with_cuda: bool = field(metadata=key(default=True))
    built_with_cuda_source: str | None = field(metadata=key())
    source: str = field(metadata=key())

    def check_row(self) -> None:
        if not self.build_string.endswith(f"_{self.build_number}"):
            raise RowError("build-string", f"must end with _{self.build_number} (build-number)")
        prefix = "cpu_" if self.cuda is None else f"cuda{self.cuda.replace('.', '')}"
        if not self.build_string.startswith(prefix):
            raise RowError("build-string", f"must start with {prefix!r} for this variant")
        gpu_keys = {
            "cudnn": self.cudnn,
            "min-compute-capability": self.min_compute_capability,
            "compute-capabilities-source": self.compute_capabilities_source,
        }
        for name, value in gpu_keys.items():
            if (value is None) != (self.cuda is None):
                raise RowError(name, "required for a CUDA variant, and only there")
        if self.cuda is None and (self.sass or self.ptx or not self.built_with_cuda):
            raise RowError("sass", "a CPU variant has no GPU architectures")
        if not self.built_with_cuda and self.built_with_cuda_source is None:
            raise RowError("built-with-cuda-source", "required where built-with-cuda is false")
        floor_key = "glibc" if self.platform.startswith("linux") else "macos"
        for name in ("glibc", "macos"):
            if getattr(self, name) is not None and name != floor_key:
                raise RowError(name, f"does not apply to {self.platform}")

    @property
    def x86_64(self) -> bool:
        return self.platform in ("linux-64", "osx-64")

    @property
    def compiled_for(self) -> str:
        """The baseline as a message says it (`-march=nocona`; arm64's compiler default)."""
        return self.baseline if self.baseline != "none" else f"the {self.platform} default"

    @property
    def tag(self) -> str:
        """`cpu`, `cuda128`; with `-v3` for an x86-64-v3 build."""
        base = "cpu" if self.cuda is None else f"cuda{self.cuda.replace('.', '')}"
        return base + (f"-v{self.microarch_level}" if (self.microarch_level or 1) > 1 else "")

    def build_spec(self, python: str) -> str:
        """The build-string match for CPython `python` ("3.11"): `cuda128py311h*_203`."""
        return self.build_string.format(py=python.replace(".", ""))

    # What the wheel rules (rules.python_wheel, rules.glibc) read of a set of wheels.
    @property
    def install_name(self) -> str:
        return "tensorflow"

    def supports_python(self, python: str) -> bool:
        return python in self.python


@dataclass(frozen=True)
class Build:
    """One (version, base build number) of the feedstock's main branch, with its variants."""

    version: Version = field(metadata=key())
    build_number_base: int = field(metadata=key())
    commit: str = field(metadata=key())
    date: str = field(metadata=key())
    variants: tuple[Variant, ...] = field(metadata=key(NonEmpty(), name="variant"))
    source: str = field(metadata=key())

    @property
    def minor(self) -> str:
        return f"{self.version.major}.{self.version.minor}"


@dataclass(frozen=True)
class Record:
    """A package record of the channel (repodata's fields, those the source shows)."""

    name: str = field(metadata=key())
    version: str = field(metadata=key())
    build: str = field(metadata=key())
    build_number: int | None = field(metadata=key())
    subdir: str | None = field(metadata=key(one_of((*SUBDIRS, "noarch"))))
    depends: tuple[str, ...] = field(metadata=key(default=()))
    track_features: tuple[str, ...] = field(metadata=key(default=()))
    md5: str | None = field(metadata=key())
    url: str | None = field(metadata=key())
    timestamp: str | None = field(metadata=key())
    quality: str = field(metadata=key(one_of(QUALITIES)))
    note: str | None = field(metadata=key())
    source: str = field(metadata=key())

    def check_row(self) -> None:
        if self.build_number is not None and not self.build.endswith(f"_{self.build_number}"):
            raise RowError("build", f"must end with _{self.build_number} (build-number)")

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.subdir or "", self.name, self.version, self.build)


BUILDS = DataFile(
    FILE,
    "conda-forge's TensorFlow builds per release and variant, read from its feedstock",
    (Table("build", Build, label="version"),),
)
RECORDS = DataFile(
    RECORDS_FILE,
    "Real channel records of conda-forge's TensorFlow packages",
    (Table("record", Record, label="build"),),
)


@dataclass(frozen=True)
class CondaForgeTable:
    builds: tuple[Build, ...]
    """Sorted by version, then base build number."""
    records: tuple[Record, ...]

    def newest_first(self, subdir: str) -> list[tuple[Build, Variant]]:
        """Every (build, variant) on `subdir`, newest release first, then newest base build."""
        ordered = sorted(self.builds, key=lambda b: (b.version, b.build_number_base), reverse=True)
        return [(b, v) for b in ordered for v in b.variants if v.platform == subdir]

    def records_of(self, build: Build, variant: Variant) -> tuple[Record, ...]:
        """The records of this variant's packages (tensorflow and its sibling outputs, any
        Python), by version and build-string pattern."""
        pattern = variant.build_string.replace("{py}", "*")
        return tuple(
            r
            for r in self.records
            if r.name.startswith("tensorflow")
            and Version(r.version) == build.version
            and r.subdir in (None, variant.platform)
            and fnmatch.fnmatchcase(r.build, pattern)
        )

    def published(self, build: Build, variant: Variant) -> bool:
        """Whether a record proves this variant is on the channel."""
        return any(r.quality in PROOF for r in self.records_of(build, variant))

    def find(self, version: str, subdir: str, build_spec: str) -> tuple[Build, Variant] | None:
        """The variant a plan pins: `tensorflow=<version>=<build_spec>` on `subdir`."""
        for build, variant in self.newest_first(subdir):
            if str(build.version) != version:
                continue
            for python in variant.python:
                if variant.build_spec(python) == build_spec:
                    return build, variant
        return None

    def cuda_lines(self, version: str) -> tuple[DottedVersion, ...]:
        """The CUDA lines conda-forge built TensorFlow `version` (a release or "X.Y") with, and
        compiled with CUDA (2.15.0 builds 0/1 were not); () when it built no GPU variant."""
        parts_ = Version(version).release
        found = {
            v.cuda
            for b in self.builds
            if b.version.release[: len(parts_)] == parts_
            for v in b.variants
            if v.cuda is not None and v.built_with_cuda
        }
        return tuple(sorted(found))


def load_conda_forge() -> CondaForgeTable:
    """Both files, validated; builds sorted, each (build, variant) told apart."""
    builds = BUILDS.open(load_toml(FILE)).rows(Build)
    for i, (before, build) in enumerate(itertools.pairwise(builds), start=1):
        if (build.version, build.build_number_base) <= (before.version, before.build_number_base):
            raise KnowledgeBaseError(
                f"{FILE}: build[{i}]: {build.version} base {build.build_number_base} must come "
                f"after {before.version} base {before.build_number_base}"
            )
    for i, build in enumerate(builds):
        seen: set[tuple[str, str]] = set()
        for j, variant in enumerate(build.variants):
            twin = (variant.platform, variant.tag)
            if twin in seen:
                raise KnowledgeBaseError(
                    f"{FILE}: build[{i}].variant[{j}]: a second {variant.tag} variant on "
                    f"{variant.platform}"
                )
            seen.add(twin)
    records = RECORDS.open(load_toml(RECORDS_FILE)).rows(Record)
    keys = [r.key for r in records]
    for i, k in enumerate(keys):
        if k in keys[:i]:
            raise KnowledgeBaseError(f"{RECORDS_FILE}: record[{i}]: {k[1]} {k[3]} twice")
    return CondaForgeTable(builds, records)
