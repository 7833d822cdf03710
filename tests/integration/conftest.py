"""Integration tests do real things: uv resolves and installs from PyPI, TensorFlow imports.

Every test here shares one uv cache (`ENVGEN_TEST_UV_CACHE`, default
`~/.cache/envgen-tests/uv`), so only the first run downloads wheels; later runs hard-link them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def uv_cache_dir() -> str:
    return os.environ.get("ENVGEN_TEST_UV_CACHE") or str(Path.home() / ".cache/envgen-tests/uv")


@pytest.fixture(autouse=True)
def _shared_uv_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_CACHE_DIR", uv_cache_dir())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)
