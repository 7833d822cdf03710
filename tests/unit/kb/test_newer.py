"""`envgen plan` says when PyPI has a TensorFlow the knowledge base does not know (issue 14 §3).

PyPI's answers are the recorded simple-index page (tests/data/pypi); the unit guard forbids
connections, which is what "offline" looks like to the check.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from envgen.cli import main
from envgen.kb import newer


def _page(data_dir: Path, extra: tuple[str, ...] = ()) -> bytes:
    doc = json.loads((data_dir / "pypi" / "simple" / "tensorflow.json").read_text())
    for version in extra:
        doc["files"].append({"filename": f"tensorflow-{version}-cp312-cp312-win_amd64.whl"})
    return json.dumps(doc).encode()


def test_newest_final_skips_pre_releases(data_dir: Path) -> None:
    # The recording holds 1.15.2 ... 2.21.0 and 2.22.0rc0: the newest final is 2.21.0.
    assert newer.newest_final(_page(data_dir)) == Version("2.21.0")
    assert newer.newest_final(
        json.dumps({"versions": ["2.21.0", "2.22.0", "2.23.0rc1"]}).encode()
    ) == Version("2.22.0")
    assert newer.newest_final(b"not json") is None


def test_a_newer_final_release_is_named_once_a_day(data_dir: Path, tmp_path: Path) -> None:
    calls: list[str] = []

    def fetch(url: str, _headers: Mapping[str, str]) -> bytes:
        calls.append(url)
        return _page(data_dir, ("2.22.0",))

    known = Version("2.21.0")
    assert newer.newer_release(known, fetch=fetch, cache=tmp_path, now=1000.0) == Version("2.22.0")
    # Cached for a day: no second request.
    assert newer.newer_release(known, fetch=fetch, cache=tmp_path, now=2000.0) == Version("2.22.0")
    assert calls == ["https://pypi.org/simple/tensorflow/"]
    # A day later it asks again.
    newer.newer_release(known, fetch=fetch, cache=tmp_path, now=1000.0 + newer.MAX_AGE_S + 1)
    assert len(calls) == 2


def test_nothing_to_say_when_current_offline_or_cache_broken(
    data_dir: Path, tmp_path: Path
) -> None:
    known = Version("2.21.0")
    assert newer.newer_release(known, fetch=lambda _u, _h: _page(data_dir), cache=tmp_path) is None

    def offline(_url: str, _headers: Mapping[str, str]) -> bytes:
        raise OSError("network unreachable")

    assert newer.newer_release(known, fetch=offline, cache=tmp_path / "x", now=5.0) is None
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / newer.CACHE_FILE).write_text("{not json")
    assert newer.newer_release(
        known, fetch=lambda _u, _h: _page(data_dir, ("2.22.0",)), cache=broken
    ) == Version("2.22.0")


def test_plan_says_so_in_one_line(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(newer, "newer_release", lambda _known, **_: Version("2.22.0"))
    profile = str(data_dir / "profiles" / "linux-cpu-py312.toml")
    assert main(["plan", "--profile", profile]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if "kb-behind" in ln]
    assert lines == [
        (
            "warning [kb-behind]: PyPI has TensorFlow 2.22.0, newer than this knowledge base's "
            "2.21.0: run envgen kb update to add it"
        )
    ]
    assert main(["plan", "--profile", profile, "--no-pypi-check"]) == 0
    assert "kb-behind" not in capsys.readouterr().out
    # A JAX plan does not depend on TensorFlow's releases: no line about them.
    assert main(["plan", "--profile", profile, "--keras-backend", "jax"]) == 0
    assert "kb-behind" not in capsys.readouterr().out


def test_plan_works_offline(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The unit guard refuses every connection: the plan is made, without the line.
    profile = str(data_dir / "profiles" / "linux-cpu-py312.toml")
    assert main(["plan", "--profile", profile]) == 0
    assert "kb-behind" not in capsys.readouterr().out


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)


@given(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_answer_is_a_version_or_none(body: bytes) -> None:
    # PyPI's answer is outside input: whatever comes back, the check never raises.
    assert newer.newest_final(body) is None or isinstance(newer.newest_final(body), Version)


@given(st.lists(st.text(max_size=12), max_size=8))
def test_any_versions_list_is_read(names: list[str]) -> None:
    found = newer.newest_final(json.dumps({"versions": names}).encode())
    assert found is None or not found.is_prerelease


@pytest.mark.parametrize(
    "doc", [{"files": 5}, {"files": [{"filename": 7}]}, {"files": [1, "x"]}, [1, 2], "text"]
)
def test_odd_pages_say_nothing(doc: object) -> None:
    assert newer.newest_final(json.dumps(doc).encode()) is None
