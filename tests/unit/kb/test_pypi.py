"""The PyPI client of `envgen kb update`: bounded reads, errors as ExternalToolError, a 404 as an
answer, each page and METADATA read once."""

from __future__ import annotations

import io
import urllib.request
from collections.abc import Mapping
from typing import Any

import pytest

from envgen.errors import ExternalToolError
from envgen.kb import pypi


class _Answer(io.BytesIO):
    """What urlopen returns: a readable body usable as a context manager."""


def test_an_answer_over_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pypi, "MAX_BYTES", 1000)
    reads: list[int] = []

    class Endless(_Answer):
        def read(self, size: int | None = -1) -> bytes:
            reads.append(-1 if size is None else size)
            return b"x" * (size if size is not None and size >= 0 else 10_000)

    monkeypatch.setattr(urllib.request, "urlopen", lambda *_a, **_k: Endless())
    with pytest.raises(ExternalToolError, match=r"over the 1000-byte limit"):
        pypi.urllib_fetch("https://pypi.org/simple/tensorflow/", {})
    assert reads == [1001]  # never more than the limit and one byte


def test_only_https_is_fetched() -> None:
    with pytest.raises(ExternalToolError, match="non-HTTPS"):
        pypi.urllib_fetch("http://pypi.org/simple/tensorflow/", {})


def test_reads_each_page_once_and_a_missing_project_is_empty() -> None:
    asked: list[tuple[str, dict[str, str]]] = []

    def fetch(url: str, headers: Mapping[str, str]) -> bytes:
        asked.append((url, dict(headers)))
        if "nothing-here" in url:
            raise pypi.ResourceNotFoundError(url)
        if url.endswith(".metadata"):
            return b"Metadata-Version: 2.1\nName: tensorflow\n"
        return b'{"files": []}'

    client = pypi.PyPI(fetch)
    assert client.simple("tensorflow") == client.simple("tensorflow") == b'{"files": []}'
    assert client.simple("nothing-here") == b'{"files": []}'
    url = "https://files.example/tensorflow-2.21.0-cp311-none-any.whl"
    assert client.metadata(url, 10).startswith("Metadata-Version")
    client.metadata(url, 10)
    accept: Any = {"Accept": pypi.SIMPLE_ACCEPT}
    assert asked == [
        ("https://pypi.org/simple/tensorflow/", accept),
        ("https://pypi.org/simple/nothing-here/", accept),
        (url + ".metadata", {}),
    ]


def test_a_server_that_ignores_range_is_an_external_failure() -> None:
    def fetch(url: str, _headers: Mapping[str, str]) -> bytes:
        if url.endswith(".metadata"):
            raise pypi.ResourceNotFoundError(url)
        return b"PK\x05\x06" + b"\x00" * 4  # an end record cut short

    with pytest.raises(ExternalToolError, match="not a zip archive"):
        pypi.PyPI(fetch).metadata("https://files.example/w.whl", 100)
