"""Shared fixtures: the path to captured real outputs, and a clean start for every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

# The test suite's own settings (opt-ins, where its caches live), not envgen options.
_TEST_SETTINGS = ("ENVGEN_TEST_", "ENVGEN_PODMAN_DIR")


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(autouse=True)
def _clean_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts in an empty directory with no ENVGEN_* option set.

    Every command reads the project configuration of the current directory (`[tool.envgen]`,
    envgen.toml) and the ENVGEN_* twins of its flags. Without this, an envgen.toml left in the
    checkout by an earlier run (`envgen render --save-config`), a file one test wrote into the
    working directory, or an `export ENVGEN_TARGET=gpu` in the developer's shell would silently
    change what the tests see.
    """
    for name in list(os.environ):
        if name.startswith("ENVGEN_") and not name.startswith(_TEST_SETTINGS):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
