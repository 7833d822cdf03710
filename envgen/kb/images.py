"""Typed view of `images.toml`: container base images for the rendered Dockerfiles.

Lookups answer "which tag carries CUDA X.Y with cuDNN N" and "which slim Python image has X.Y";
they return None rather than composing a tag nobody has seen, so render can say what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from envgen.kb import load_toml
from envgen.kb.fields import Contains, NonEmpty, Prefix, key, parts
from envgen.kb.rows import DataFile, Table
from envgen.versions import DottedVersion, major_minor

FILE = "images.toml"


@dataclass(frozen=True)
class CudaImage:
    cuda: DottedVersion = field(metadata=key(parts(2)))
    """major.minor"""
    cudnn: DottedVersion = field(metadata=key(parts(1)))
    """major only: the tag names no finer cuDNN version."""
    tag: str = field(metadata=key(Prefix("nvidia/cuda:")))
    os_python: DottedVersion = field(metadata=key(parts(2)))
    source: str = field(metadata=key())


@dataclass(frozen=True)
class PythonImage:
    form: str = field(metadata=key(Contains("{python}")))
    pythons: tuple[DottedVersion, ...] = field(metadata=key(parts(2), NonEmpty(), name="python"))
    source: str = field(metadata=key())


@dataclass(frozen=True)
class MicromambaImage:
    tag: str
    user: str
    uid: int
    """Numeric, so that `USER` needs no lookup in the image (hadolint DL3066)."""
    prefix: str
    source: str


SCHEMA = DataFile(
    FILE,
    "Container base images for the rendered Dockerfiles",
    (
        Table("cuda-image", CudaImage, label="tag"),
        Table("python-image", PythonImage, label="form"),
        Table("micromamba-image", MicromambaImage, label="tag", exactly=1),
    ),
)


@dataclass(frozen=True)
class ImageTable:
    cuda: tuple[CudaImage, ...]
    python: tuple[PythonImage, ...]
    micromamba: MicromambaImage

    def cuda_image(self, cuda: str, cudnn: str) -> CudaImage | None:
        """The runtime image with CUDA `cuda` (X.Y[.Z]) and cuDNN `cudnn` (any precision)."""
        want = (major_minor(cuda), cudnn.split(".", maxsplit=1)[0])
        return next((i for i in self.cuda if (i.cuda, i.cudnn) == want), None)

    def python_image(self, python: str) -> str | None:
        """`python:3.11-slim-bookworm` for "3.11"; None where no slim image has that Python."""
        mm = major_minor(python)
        for row in self.python:
            if mm in row.pythons:
                return row.form.format(python=mm)
        return None


def load_images() -> ImageTable:
    rows = SCHEMA.open(load_toml(FILE))
    (micromamba,) = rows.rows(MicromambaImage)
    return ImageTable(rows.rows(CudaImage), rows.rows(PythonImage), micromamba)
