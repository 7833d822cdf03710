"""`team.use` on a copy of a lock set (a bundle unpacked for one install): its advice names the
folder the set came from, never the temporary copy that is gone once the install ends."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from envgen.errors import NoSolutionError, StaleLockError
from envgen.kb import load_kb
from envgen.lock import team
from envgen.lock.fresh import team_request
from envgen.plan import Request
from envgen.profile import load_profile

REFERENCE = Path(__file__).resolve().parents[3] / "locks"
PROFILES = Path(__file__).resolve().parents[2] / "data" / "profiles"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(REFERENCE, tmp_path / ".envgen-bundle-x1y2" / "locks"))


def _other_python(copy: Path) -> Request:
    index = team.existing(copy)
    assert index is not None
    return dataclasses.replace(team_request(index), python="3.12")


def test_a_stale_copy_is_installed_with_advice_naming_the_label(copy: Path) -> None:
    profile = load_profile(PROFILES / "linux-cpu-py311.toml")
    kb = load_kb()
    used = team.use(copy, profile, kb, target="cpu", request=_other_python(copy), label="locks")
    assert used.lock.parent == copy  # installed from the copy ...
    (note,) = (n for n in used.notes if "stale" in n)
    assert note.endswith("re-lock with `envgen lock --output-dir locks`")  # ... advised as locks/
    assert ".envgen-bundle-" not in " ".join(used.notes)
    with pytest.raises(StaleLockError) as info:
        team.use(copy, profile, kb, mode="locked", request=_other_python(copy), label="locks")
    assert "--output-dir locks " in info.value.hint
    assert ".envgen-bundle-" not in info.value.message + info.value.hint


def test_a_platform_the_copy_lacks_names_the_label(copy: Path) -> None:
    profile = load_profile(PROFILES / "linux-aarch64-graviton3-py39.toml")
    with pytest.raises(NoSolutionError) as info:
        team.use(copy, profile, load_kb(), mode="frozen", label="locks")
    assert any("--output-dir locks" in r for r in info.value.remedies)
    assert ".envgen-bundle-" not in " ".join(info.value.remedies)
