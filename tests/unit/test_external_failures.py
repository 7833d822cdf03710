"""External failures (uv, py-rattler, podman, the network) are exit 5 with one line and a hint,
and every failure under --json, a bug included, is still an envelope on stdout.

The tool outputs are verbatim captures (tests/data/README.md says where each came from); the
programs themselves run in tests/integration.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import urllib.request
from pathlib import Path
from typing import Any, NoReturn

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envgen import proc
from envgen.cli import main
from envgen.errors import ExternalToolError, UsageError
from envgen.kb import load_kb
from envgen.kb.lock_platforms import load_lock_platforms
from envgen.lock import conda as conda_lock
from envgen.lock import uv as uv_lock

H100 = "profiles/issue-example-h100.toml"


# --- one line out of many ------------------------------------------------------------------------


@given(st.text())
def test_summary_is_always_one_line(text: str) -> None:
    line = proc.summary(text)
    assert line.splitlines() == [line]


def test_summary_keeps_the_headline_and_the_root_cause(data_dir: Path) -> None:
    text = (data_dir / "rattler/gateway-connection-refused.txt").read_text()
    assert proc.summary(text) == (
        "error sending request for url "
        "(http://127.0.0.1:9/conda-forge/win-64/repodata_shards.msgpack.zst)"
        " … Caused by: Connection refused (os error 111)"
    )


def test_a_program_that_cannot_run_is_an_external_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def denied(*_: Any, **__: Any) -> NoReturn:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(subprocess, "run", denied)
    with pytest.raises(ExternalToolError, match=r"^cannot run /x/uv: Permission denied$"):
        proc.run(["/x/uv", "--version"], timeout=5)


# --- uv ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "cause"),
    [
        ("failed-fetch-connection-refused", "Connection refused (os error 111)"),
        ("failed-fetch-dns-no-network", "Temporary failure in name resolution"),
    ],
)
def test_uv_cannot_reach_the_index(data_dir: Path, sample: str, cause: str) -> None:
    stderr = (data_dir / "uv" / f"{sample}.stderr.txt").read_text()
    err = uv_lock.uv_failure(stderr, "linux-64, Python 3.11", "https://pypi.org/simple")
    # Not "no solution": nothing was resolved at all.
    assert err.message.startswith(
        "uv pip compile failed for linux-64, Python 3.11: Request failed after 3 retries"
    )
    assert err.message.endswith(cause)
    assert "\n" not in err.message
    assert "https://pypi.org/simple" in err.hint
    assert err.exit_code == 5


# --- py-rattler ----------------------------------------------------------------------------------


def _failing_solve(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    import rattler

    async def solve(**_: Any) -> NoReturn:
        raise exc

    monkeypatch.setattr(rattler, "solve", solve)


@pytest.mark.parametrize(
    ("sample", "cause"),
    [
        ("gateway-connection-refused", "Connection refused (os error 111)"),
        ("gateway-dns-no-network", "Temporary failure in name resolution"),
        ("gateway-404-not-a-channel", "(404 Not Found) for url"),
    ],
)
def test_an_unreadable_conda_channel_is_an_external_failure(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, sample: str, cause: str
) -> None:
    from rattler.exceptions import GatewayError

    text = (data_dir / "rattler" / f"{sample}.txt").read_text()
    _failing_solve(monkeypatch, GatewayError(text))
    channel = "https://conda.anaconda.org/conda-forge"
    platform = load_lock_platforms().get("win-64")
    with pytest.raises(ExternalToolError) as caught:
        conda_lock.solve(["python=3.11"], [channel], platform, [], mirrors=load_kb().mirrors)
    err = caught.value
    assert err.message.startswith(f"py-rattler could not read the conda channel(s) {channel}")
    assert cause in err.message
    assert "\n" not in err.message
    # A mirror of the same channel from mirrors.toml, and the way around conda altogether.
    assert "--conda-channel https://mirrors." in err.hint
    assert err.hint.endswith("/conda-forge") or "conda-forge (also mirrored by" in err.hint
    assert "--channel pip" in err.hint


def test_channel_hint_names_a_mirror_only_where_one_serves_the_channel() -> None:
    mirrors = load_kb().mirrors
    hint = conda_lock.channel_hint(["https://conda.anaconda.org/conda-forge"], mirrors)
    first = next(m for m in mirrors.mirrors if m.name != "pypi" and m.serves("conda-forge"))
    assert hint.startswith(f"try a mirror: --conda-channel {first.channel_url('conda-forge')}")
    local = conda_lock.channel_hint(["file:///srv/my-channel"], mirrors)
    assert local.startswith("check the network or proxy; ")


def test_rattler_install_failure_is_one_line_naming_the_channel(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, tmp_path: Path
) -> None:
    import rattler
    from rattler.exceptions import InstallerError

    from envgen.backends.conda import rattler_install
    from envgen.backends.conda_lock import LockedPackage

    text = (data_dir / "rattler/install-connection-refused.txt").read_text()

    async def install(*_: Any, **__: Any) -> NoReturn:
        raise InstallerError(text)

    monkeypatch.setattr(rattler, "install", install)
    url = "http://127.0.0.1:9/conda-forge/linux-64/zlib-1.3.1-h4ab18f5_1.conda"
    pkg = LockedPackage("zlib", "1.3.1", "conda", "linux-64", url, (("sha256", "0" * 64),))
    with pytest.raises(ExternalToolError) as caught:
        rattler_install([pkg], tmp_path / "p", tmp_path / "p")
    assert caught.value.message == (
        "py-rattler could not install the conda lock: failed to fetch zlib-1.3.1-h4ab18f5_1.conda"
        " … Caused by: Connection refused (os error 111)"
    )
    assert "http://127.0.0.1:9/conda-forge" in caught.value.hint


# --- the network through urllib ------------------------------------------------------------------


def _urlopen_raising(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    def urlopen(*_: Any, **__: Any) -> NoReturn:
        raise exc

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)


def test_kb_update_fetch_failures_are_external(monkeypatch: pytest.MonkeyPatch) -> None:
    from envgen.kb.pypi import urllib_fetch

    # http.client's errors are not OSErrors: a body cut short used to escape as a bug.
    _urlopen_raising(monkeypatch, http.client.IncompleteRead(b"par", 10))
    with pytest.raises(ExternalToolError, match=r"^GET https://pypi\.org/simple/x/: Incomplete"):
        urllib_fetch("https://pypi.org/simple/x/", {})


def test_a_mirror_probe_that_breaks_mid_answer_is_an_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from envgen.mirrors import probe_one

    _urlopen_raising(monkeypatch, http.client.BadStatusLine("garbage"))
    probe = probe_one("tuna", "https://mirror.example/simple", 1.0)
    assert probe.seconds is None
    assert probe.error is not None
    assert probe.error.startswith("BadStatusLine")


# --- every failure is an envelope under --json ---------------------------------------------------


def _envelope(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_an_internal_error_is_an_envelope(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_: Any, **__: Any) -> NoReturn:
        raise RuntimeError("first line\nsecond line")

    monkeypatch.setattr("envgen.detect.load_or_detect", broken)
    code = main(["plan", "--json", "--profile", str(data_dir / H100)])
    out = _envelope(capsys)
    assert code == 1
    assert out["schema"] == "envgen.plan/1"
    assert out["ok"] is False
    assert out["error"]["code"] == "internal"
    assert out["error"]["message"] == "internal error: RuntimeError: first line"
    assert "--debug" in out["error"]["hint"]


def test_an_interrupt_is_an_envelope(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*_: Any, **__: Any) -> NoReturn:
        raise KeyboardInterrupt

    monkeypatch.setattr("envgen.detect.load_or_detect", interrupted)
    assert main(["plan", "--json", "--profile", str(data_dir / H100)]) == 130
    assert _envelope(capsys)["error"]["code"] == "interrupted"


def test_a_bad_command_line_is_an_envelope(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lock", "--json", "--no-such-flag"]) == UsageError.exit_code
    out = _envelope(capsys)
    assert out["schema"] == "envgen.lock/1"
    assert out["error"] == {
        "code": "usage",
        "message": "unrecognized arguments: --no-such-flag",
        "hint": "see envgen lock --help",
    }


def test_a_bad_command_line_without_json_is_argparse_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["lock", "--no-such-flag"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("usage: envgen")
    assert captured.err.endswith("envgen: error: unrecognized arguments: --no-such-flag\n")
