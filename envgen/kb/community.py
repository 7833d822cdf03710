"""Typed view of `community-builds.toml`: third-party TensorFlow builds (fo40225's Windows wheels),
each with its Python, SIMD level, exact CUDA and cuDNN, compute capabilities and files.

Only a row with a `.whl` file for its platform is installable (pip takes it from its URL, pinned by
the sha256 `envgen lock` computes); rows split into 7-Zip volumes are facts the resolver names,
never a plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import Version

from envgen.kb import load_toml
from envgen.kb.cuda_arch import CC
from envgen.kb.fields import Ascending, NonEmpty, Prefix, RowError, key, one_of, parts
from envgen.kb.lock_platforms import kb_platforms
from envgen.kb.rows import DataFile, Table
from envgen.versions import DottedVersion

FILE = "community-builds.toml"

KINDS = ("CPU", "GPU", "CPU+GPU")
FORMATS = ("whl", "7z-volume", "7z")
ARCHES = ("win_amd64", "win32")
# The wheel tag each knowledge-base platform installs (PEP 425).
PLATFORM_TAGS = {"windows-x86_64": "win_amd64"}
CC_LIST = (CC, Ascending())
_GIT_SHA1 = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class File:
    """One file of a build's folder: a wheel, or a 7-Zip volume of one."""

    name: str = field(metadata=key())
    arch: str = field(metadata=key(one_of(ARCHES)))
    format: str = field(metadata=key(one_of(FORMATS)))
    git_blob_sha1: str = field(metadata=key(doc="git's object id of the file (not a sha256)"))
    url: str = field(metadata=key(Prefix("https://")))

    def check_row(self) -> None:
        if not _GIT_SHA1.fullmatch(self.git_blob_sha1):
            raise RowError("git-blob-sha1", f"expected 40 hex digits, got {self.git_blob_sha1!r}")
        if not self.url.endswith("/" + self.name):
            raise RowError("url", f"must end with the file name {self.name!r}")
        if self.format == "whl":
            try:
                parse_wheel_filename(self.name)
            except InvalidWheelFilename as exc:
                raise RowError("name", f"not a wheel file name: {exc}") from None


@dataclass(frozen=True)
class Wheel:
    """One row of the provider's table: a release built for one Python, kind and SIMD level."""

    provider: str = field(metadata=key())
    release: Version = field(metadata=key())
    python: DottedVersion = field(metadata=key(parts(2)))
    platform: str = field(metadata=key(one_of(kb_platforms)))
    kind: str = field(metadata=key(one_of(KINDS)))
    simd: str = field(metadata=key(doc="the README's SIMD column, verbatim"))
    folder: str = field(metadata=key(doc="the README's Path column, verbatim"))
    cpu_features: tuple[str, ...] = field(metadata=key())
    compiler: str = field(metadata=key())
    cuda: DottedVersion | None = field(metadata=key(parts(3, 4)))
    cuda_installer_driver: DottedVersion | None = field(metadata=key())
    cudnn: DottedVersion | None = field(metadata=key(parts(3, 4)))
    compute: str | None = field(metadata=key(doc="the README's compute capabilities, verbatim"))
    sass: tuple[DottedVersion, ...] = field(metadata=key(*CC_LIST, default=()))
    ptx: tuple[DottedVersion, ...] = field(metadata=key(*CC_LIST, default=()))
    min_compute_capability: DottedVersion | None = field(metadata=key(CC))
    files: tuple[File, ...] = field(metadata=key(NonEmpty()))
    readme_first_commit: str = field(metadata=key())
    source: str = field(metadata=key())

    def check_row(self) -> None:
        gpu = self.kind != "CPU"
        for name in ("cuda", "cudnn", "compute", "min_compute_capability"):
            if (getattr(self, name) is None) == gpu:
                raise RowError(name.replace("_", "-"), "required for a GPU build, and only there")
        if gpu and not (self.sass or self.ptx):
            raise RowError("sass", "a GPU build names its architectures")
        wheel = self.wheel_file()
        if wheel is not None:
            name, version, _, tags = parse_wheel_filename(wheel.name)
            if version != self.release:
                raise RowError("files", f"{wheel.name} is not release {self.release}")
            tag = "cp" + self.python.replace(".", "")
            if not any(t.interpreter == tag for t in tags):
                raise RowError("files", f"{wheel.name} is not for Python {self.python}")
            if gpu != (name != "tensorflow" or self.kind == "CPU+GPU"):
                raise RowError("files", f"{wheel.name} does not hold a {self.kind} build")

    @property
    def gpu(self) -> bool:
        return self.kind != "CPU"

    @property
    def minor(self) -> str:
        return f"{self.release.major}.{self.release.minor}"

    def wheel_file(self) -> File | None:
        """The `.whl` file pip installs on the row's platform; None where the build is only in
        7-Zip volumes (or only for another architecture)."""
        arch = PLATFORM_TAGS.get(self.platform)
        return next((f for f in self.files if f.format == "whl" and f.arch == arch), None)

    @property
    def install_name(self) -> str:
        """The distribution the wheel holds (`tensorflow-gpu`, `tensorflow`)."""
        wheel = self.wheel_file()
        name = parse_wheel_filename(wheel.name)[0] if wheel is not None else "tensorflow"
        return str(name)

    @property
    def label(self) -> str:
        """How outputs name the build: its provider and folder (`fo40225 2.0.0\\py37\\GPU\\...`)."""
        return f"{self.provider} {self.folder}"


@dataclass(frozen=True)
class Folder:
    """A folder of builds the provider's README does not list: known, never planned."""

    provider: str = field(metadata=key())
    folder: str = field(metadata=key())
    release: str = field(metadata=key())
    python: DottedVersion | None = field(metadata=key(parts(2)))
    kind: str | None = field(metadata=key(one_of(KINDS)))
    simd_folder: str | None = field(metadata=key())
    files: tuple[File, ...] = field(metadata=key(NonEmpty()))
    commit_message: str | None = field(metadata=key())
    source: str = field(metadata=key())


SCHEMA = DataFile(
    FILE,
    "Community TensorFlow builds (third-party): release, Python, SIMD, exact CUDA/cuDNN, files",
    (Table("wheel", Wheel, label="folder"), Table("folder", Folder, label="folder")),
)


@dataclass(frozen=True)
class CommunityTable:
    wheels: tuple[Wheel, ...]
    folders: tuple[Folder, ...]

    def newest_first(self, platform: str) -> list[Wheel]:
        """The rows for `platform`, newest release first (the table's order within one)."""
        rows = [w for w in self.wheels if w.platform == platform]
        return sorted(rows, key=lambda w: w.release, reverse=True)

    def find(self, url: str) -> Wheel | None:
        """The row whose wheel a plan's direct URL names."""
        return next(
            (w for w in self.wheels if (f := w.wheel_file()) is not None and f.url == url), None
        )


def load_community() -> CommunityTable:
    rows = SCHEMA.open(load_toml(FILE))
    return CommunityTable(rows.rows(Wheel), rows.rows(Folder))
