"""Mirrors that explain themselves: what `auto` probed, each latency, why one won; and on a
failure, the next mirror to try, named (probes stand in for the network here; real HTTP probes
are in tests/integration/test_mirrors_auto.py)."""

from __future__ import annotations

from collections.abc import Mapping

from envgen.kb import load_kb
from envgen.mirrors import Probe, choose, explain, next_mirror_hint


def _prober(delays: Mapping[str, float]):  # type: ignore[no-untyped-def]
    def prober(name: str, url: str, timeout: float) -> Probe:
        seconds = delays.get(name)
        if seconds is None or seconds > timeout:
            return Probe(name, url, None, "URLError: [Errno -2] Name or service not known")
        return Probe(name, url, seconds)

    return prober


def test_auto_says_what_it_probed_and_why_the_winner_won() -> None:
    table = load_kb().mirrors
    delays = {"tuna": 0.08, "aliyun": 0.12, "pypi": 0.31}
    choice = choose("auto", table, prober=_prober(delays))
    lines = explain(choice, "ENVGEN_MIRROR")
    assert lines[0].startswith("tuna (tuna): fastest of the 3 of ")
    assert "ENVGEN_MIRROR auto" in lines[0]
    assert lines[1] == "answered: tuna 0.08 s, aliyun 0.12 s, pypi 0.31 s"
    assert lines[2].startswith("no answer: bfsu ([Errno -2] Name or service not known)")


def test_a_named_mirror_says_where_it_was_named() -> None:
    table = load_kb().mirrors
    assert explain(choose("tuna", table), "--mirror") == ["tuna (tuna): named by --mirror"]
    assert explain(choose("pypi", table), "--mirror", given=False) == [
        "pypi (pypi): the default (no --mirror given)"
    ]


def test_no_answer_at_all_keeps_the_canonical_index_and_says_so() -> None:
    choice = choose("auto", load_kb().mirrors, prober=_prober({}))
    assert "no mirror answered" in explain(choice)[0]


def test_a_failed_mirror_names_the_fastest_other_that_answers_now() -> None:
    table = load_kb().mirrors
    hint = next_mirror_hint(
        choose("tuna", table), table, prober=_prober({"aliyun": 0.2, "pypi": 0.1})
    )
    assert "pypi answered in 0.10 s: retry with --mirror pypi" in hint
    assert "--mirror auto" in hint


def test_after_auto_the_next_fastest_is_named_without_probing_again() -> None:
    table = load_kb().mirrors
    choice = choose("auto", table, prober=_prober({"aliyun": 0.2, "pypi": 0.1}))

    def refuse(*_: object) -> Probe:
        raise AssertionError("probed again")

    assert "retry with --mirror aliyun" in next_mirror_hint(choice, table, prober=refuse)


def test_with_no_network_at_all_the_way_out_is_a_bundle() -> None:
    table = load_kb().mirrors
    hint = next_mirror_hint(choose("tuna", table), table, prober=_prober({}))
    assert hint.startswith("tuna did not work and no other index answered from here (probed ")
    assert "envgen create --from-bundle FILE" in hint


def test_a_custom_index_is_named_by_its_url_without_its_login() -> None:
    table = load_kb().mirrors
    choice = choose("https://ci:s3cret@pypi.example.org/simple", table, prober=_prober({}))
    hint = next_mirror_hint(choice, table, prober=_prober({"pypi": 0.1}))
    assert hint.startswith("https://***@pypi.example.org/simple did not work from here; pypi")
    assert "s3cret" not in hint
