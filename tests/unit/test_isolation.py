"""The suite's clean start (tests/conftest.py): no test sees state an earlier run left behind."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

import pytest


def test_each_test_starts_in_an_empty_directory() -> None:
    # An envgen.toml or a .venv that a manual run left in the checkout is not in sight.
    assert list(Path.cwd().iterdir()) == []


def test_no_envgen_option_comes_from_the_shell() -> None:
    options = [
        name
        for name in os.environ
        if name.startswith("ENVGEN_")
        and not name.startswith("ENVGEN_TEST_")
        and name != "ENVGEN_PODMAN_DIR"
    ]
    assert options == []


def test_no_test_folder_is_skipped_by_collection(pytestconfig: pytest.Config) -> None:
    # pytest's default norecursedirs holds `build`: tests/unit/build once ran only by name.
    skipped = pytestconfig.getini("norecursedirs")
    tests = Path(__file__).resolve().parents[1]
    folders = {path.parent for path in tests.rglob("test_*.py")}
    hidden = [
        f"{folder.relative_to(tests)} (matches {pattern!r})"
        for folder in folders
        for part in folder.relative_to(tests).parts
        for pattern in skipped
        if fnmatch.fnmatch(part, pattern)
    ]
    assert hidden == []
