"""images.toml: schema, canonical order, and the lookups render relies on."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from envgen.errors import KnowledgeBaseError
from envgen.kb import images, load_toml
from envgen.versions import parse_dotted


def test_lookups() -> None:
    table = images.load_images()
    found = table.cuda_image("12.3.2", "9.0")
    assert found is not None
    assert found.tag == "nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04"
    assert table.cuda_image("12.2", "8.9") is None
    assert table.python_image("3.11") == "python:3.11-slim-bookworm"
    assert table.python_image("3.7.16") == "python:3.7-slim-bullseye"
    assert table.python_image("3.6") is None
    assert table.micromamba.uid == 57439


def test_rows_sorted_and_unique() -> None:
    keys = [(parse_dotted(r.cuda), int(r.cudnn)) for r in images.load_images().cuda]
    assert keys == sorted(set(keys)), "images.toml: sort cuda-image by cuda, then cudnn"


def test_tag_form_follows_the_cudnn_naming_switch() -> None:
    # Up to 12.3 the tag names the cuDNN major (cudnn8/cudnn9); from 12.4 it does not.
    for row in images.load_images().cuda:
        named = f"-cudnn{row.cudnn}-" in row.tag
        assert named == (parse_dotted(row.cuda) <= (12, 3)), row.tag
        assert row.tag.startswith(f"nvidia/cuda:{row.cuda}.")


@pytest.mark.parametrize(
    ("table", "key", "value", "message"),
    [
        ("cuda-image", "cuda", "12", r"cuda-image\[0\]\.cuda: must be 'X.Y'"),
        ("cuda-image", "tag", "ubuntu:22.04", "tag: must start 'nvidia/cuda:'"),
        ("cuda-image", "source", None, r"cuda-image\[0\]\.source: missing"),
        ("python-image", "form", "python:slim", "must contain {python}"),
        ("micromamba-image", "uid", "57439", "uid: must be an integer"),
    ],
)
def test_broken_rows_name_the_key(
    monkeypatch: pytest.MonkeyPatch, table: str, key: str, value: Any, message: str
) -> None:
    doc = copy.deepcopy(load_toml(images.FILE))
    row = doc[table][0]
    if value is None:
        del row[key]
    else:
        row[key] = value
    monkeypatch.setattr(images, "load_toml", lambda _name: doc)
    with pytest.raises(KnowledgeBaseError, match=message):
        images.load_images()
