"""Mirror choice: presets, URLs, http opt-in, and `auto` ranking with a stand-in prober (the real
HTTP probes run against loopback servers in tests/integration/test_mirrors_auto.py)."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envgen.errors import OptionError, UsageError
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


# --- validation of a mirror URL (issue 11 §2, §3; the CLI side is in test_render_trust.py) -------


def test_a_login_is_split_off_and_kept_only_for_installers() -> None:
    choice = choose("https://user:t%40k@pypi.corp.example/simple", load_kb().mirrors)
    assert choice.mirror.pypi == "https://pypi.corp.example/simple"
    assert choice.spec == "https://pypi.corp.example/simple"
    assert choice.shown == "https://***@pypi.corp.example/simple"
    assert choice.install_url == "https://user:t%40k@pypi.corp.example/simple"
    assert choice.login == "user:t%40k"
    assert "t%40k" not in repr(choice) + str(choice.to_dict())


@pytest.mark.parametrize(
    "url",
    [
        "https://[::1]:8443/simple",
        "https://10.0.0.1/simple/",
        "HTTPS://Pypi.Corp.Example./simple?x=1",
        "https://internal_host:443/pypi/simple",
        "https://token@pypi.corp.example/simple",
    ],
)
def test_real_index_urls_are_accepted(url: str) -> None:
    assert choose(url, load_kb().mirrors).mirror.name == "custom"


def test_errors_are_option_errors_the_cli_names_by_their_source() -> None:
    # The CLI reports them as ENVGEN_MIRROR / tool.envgen.mirror (test_render_trust.py).
    with pytest.raises(OptionError, match=r"'https:///simple' .*no host") as no_host:
        choose("https:///simple", load_kb().mirrors)
    assert no_host.value.option == "mirror"
    with pytest.raises(OptionError, match=r"unknown mirror 'nope'") as unknown:
        choose("nope", load_kb().mirrors, option="mirror")
    assert unknown.value.message.startswith("--mirror: ")


def _nothing_answers(name: str, url: str, _timeout: float) -> Probe:
    return Probe(name, url, None, "URLError: refused")  # `auto` (any case) probes no network


# Text from every Unicode category, and text shaped like a URL whose parts are such text: the
# validator must answer both with a MirrorChoice or a UsageError, never anything else.
_ANY = st.text(max_size=120)
_PART = st.text(st.characters(codec="utf-8"), max_size=20) | st.from_regex(
    r"[A-Za-z0-9._~%!$&()*+,;=:@\[\]/?#'-]{0,20}", fullmatch=True
)
_URLISH = st.builds(
    lambda scheme, login, host, port, path: f"{scheme}://{login}{host}{port}{path}",
    st.sampled_from(["https", "http", "HTTPS", "ftp", "", "https:"]),
    st.sampled_from(["", "user:pw@", "@", "a@b@"]) | _PART.map(lambda s: s + "@"),
    st.sampled_from(["good.example", "[::1]", "", "-x", "a..b"]) | _PART,
    st.sampled_from(["", ":443", ":0", ":99999", ":x"]) | _PART.map(lambda s: ":" + s),
    st.sampled_from(["/simple", "", "/simple\nRUN id", "/s --trusted-host x"]) | _PART,
)


@given(st.one_of(_ANY, _URLISH), st.booleans())
@settings(max_examples=1500, deadline=1000)
def test_any_input_gives_a_mirror_or_a_usage_error(spec: str, insecure: bool) -> None:
    from envgen.escape import docker, ini, quoted, requirements

    table = load_kb().mirrors
    try:
        choice = choose(spec, table, allow_insecure=insecure, prober=_nothing_answers)
    except UsageError as exc:
        message = exc.message
    else:
        message = ""
    if message:
        assert message.isprintable(), message
        assert message.startswith("--mirror")
        return
    url = choice.mirror.pypi
    if choice.mirror.name == "custom":
        parts = urlsplit(url)
        assert parts.scheme in (("https", "http") if insecure else ("https",))
        assert parts.hostname
        assert parts.username is None
        assert "@" not in parts.netloc
        assert choose(choice.spec, table, allow_insecure=insecure).mirror == choice.mirror
    # Whatever passed is writable into every format as it is.
    assert docker(url) == url.replace("$", "\\$")
    assert requirements(url) == url
    assert ini(url) == url
    assert quoted(url) == json.dumps(url)


def test_validation_time_is_bounded_for_huge_input() -> None:
    table = load_kb().mirrors
    huge = ("https://" + "a-" * 1_000_000, "x" * 10**6, "https://" + "a" * 62 + "-" * 1900)
    for spec in (*huge, "https://" + "a." * 1015 + "b/s", "https://" + "a" * 63 + "." * 1900):
        start = time.perf_counter()
        message = ""
        try:
            choose(spec, table)
        except UsageError as exc:
            message = exc.message
        assert time.perf_counter() - start < 0.5
        assert len(message) < 300
