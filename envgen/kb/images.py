"""Typed view of `images.toml`: container base images for the rendered Dockerfiles.

Lookups answer "which tag carries CUDA X.Y with cuDNN N" and "which slim Python image has X.Y";
they return None rather than composing a tag nobody has seen, so render can say what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.rows import no_unknown_keys, req_int, req_str, rows, str_list
from envgen.versions import is_dotted, major_minor

FILE = "images.toml"


@dataclass(frozen=True)
class CudaImage:
    cuda: str
    """major.minor"""
    cudnn: str
    """major only: the tag names no finer cuDNN version."""
    tag: str
    os_python: str
    source: str


@dataclass(frozen=True)
class PythonImage:
    form: str
    pythons: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class MicromambaImage:
    tag: str
    user: str
    uid: int
    """Numeric, so that `USER` needs no lookup in the image (hadolint DL3066)."""
    prefix: str
    source: str


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
    doc = load_toml(FILE)
    cuda = []
    for i, row in enumerate(rows(doc, "cuda-image", FILE)):
        where = f"{FILE}: cuda-image[{i}]"
        no_unknown_keys(row, {"cuda", "cudnn", "tag", "os-python", "source"}, where)
        version = req_str(row, "cuda", where)
        cudnn = req_str(row, "cudnn", where)
        os_python = req_str(row, "os-python", where)
        if not (is_dotted(version, parts=2) and is_dotted(cudnn, parts=1)):
            raise KnowledgeBaseError(f"{where}: cuda must be 'X.Y' and cudnn 'N'")
        if not is_dotted(os_python, parts=2):
            raise KnowledgeBaseError(f"{where}: os-python must be 'X.Y', got {os_python!r}")
        tag = req_str(row, "tag", where)
        if not tag.startswith("nvidia/cuda:"):
            raise KnowledgeBaseError(f"{where}: tag must be an nvidia/cuda image, got {tag!r}")
        cuda.append(CudaImage(version, cudnn, tag, os_python, req_str(row, "source", where)))
    python = []
    for i, row in enumerate(rows(doc, "python-image", FILE)):
        where = f"{FILE}: python-image[{i}]"
        no_unknown_keys(row, {"form", "python", "source"}, where)
        form = req_str(row, "form", where)
        if "{python}" not in form:
            raise KnowledgeBaseError(f"{where}: form must contain {{python}}, got {form!r}")
        pythons = str_list(row, "python", where)
        if not pythons or not all(is_dotted(p, parts=2) for p in pythons):
            raise KnowledgeBaseError(f"{where}: python must list 'X.Y' versions")
        python.append(PythonImage(form, tuple(pythons), req_str(row, "source", where)))
    mm_rows = rows(doc, "micromamba-image", FILE)
    if len(mm_rows) != 1:
        raise KnowledgeBaseError(f"{FILE}: exactly one [[micromamba-image]] expected")
    row = mm_rows[0]
    where = f"{FILE}: micromamba-image[0]"
    no_unknown_keys(row, {"tag", "user", "uid", "prefix", "source"}, where)
    micromamba = MicromambaImage(
        tag=req_str(row, "tag", where),
        user=req_str(row, "user", where),
        uid=req_int(row, "uid", where),
        prefix=req_str(row, "prefix", where),
        source=req_str(row, "source", where),
    )
    return ImageTable(tuple(cuda), tuple(python), micromamba)
