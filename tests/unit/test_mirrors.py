"""Mirror choice: presets, URLs, http opt-in, and `auto` ranking with a stand-in prober (the real
HTTP probes run against loopback servers in tests/integration/test_mirrors_auto.py)."""

from __future__ import annotations

import pytest

from envgen.errors import UsageError
from envgen.kb import load_kb
from envgen.mirrors import Probe, choose, probe_all


def _fake(delays: dict[str, float | None]):  # type: ignore[no-untyped-def]
    def prober(name: str, url: str, timeout: float) -> Probe:
        seconds = delays.get(name)
        if seconds is None or seconds > timeout:
            return Probe(name, url, None, "URLError: refused")
        return Probe(name, url, seconds)

    return prober


def test_preset_by_name_case_insensitive() -> None:
    choice = choose("TUNA", load_kb().mirrors)
    assert choice.mirror.pypi == "https://pypi.tuna.tsinghua.edu.cn/simple"
    assert choice.spec == "tuna"
    assert choice.trusted_host is None


def test_unknown_name_lists_presets() -> None:
    with pytest.raises(UsageError) as exc:
        choose("mirrorz", load_kb().mirrors)
    assert "tuna" in exc.value.hint


def test_https_url_is_a_custom_mirror() -> None:
    choice = choose("https://pypi.corp.example/simple/", load_kb().mirrors)
    assert (choice.mirror.name, choice.spec) == ("custom", "https://pypi.corp.example/simple/")
    assert choice.mirror.conda_cloud is None


def test_other_schemes_are_refused() -> None:
    with pytest.raises(UsageError, match="only http"):
        choose("file:///srv/simple", load_kb().mirrors)


def test_auto_picks_fastest_and_records_fallbacks() -> None:
    delays: dict[str, float | None] = {"pypi": 0.9, "tuna": 0.2, "ustc": 0.4, "aliyun": None}
    choice = choose("auto", load_kb().mirrors, timeout=1.0, prober=_fake(delays))
    assert choice.mirror.name == "tuna"
    assert choice.fallbacks == ("ustc", "pypi")
    assert [p.name for p in choice.probes][:3] == ["tuna", "ustc", "pypi"]
    assert choice.to_dict()["fallbacks"] == ["ustc", "pypi"]


def test_auto_with_nothing_answering_keeps_the_upstream() -> None:
    choice = choose("auto", load_kb().mirrors, timeout=0.1, prober=_fake({}))
    assert choice.mirror.name == "pypi"
    assert choice.fallbacks == ()
    assert all(p.error for p in choice.probes)


def test_probe_all_of_nothing() -> None:
    assert probe_all([]) == []
