"""`--mirror auto` against real HTTP servers on 127.0.0.1: different delays, and one port that
refuses connections. Bounded: every server is a daemon thread stopped in teardown, and the probe
timeout caps the test at about a second."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from envgen.kb.mirrors import Mirror, MirrorTable
from envgen.mirrors import choose

pytestmark = pytest.mark.integration


def _handler(delay: float) -> type[http.server.BaseHTTPRequestHandler]:
    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay)
            body = b"<html><a href='pip-24.0.tar.gz'>pip</a></html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:  # quiet test output
            pass

    return Slow


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """name -> simple-index URL: fast (0.05 s), slow (0.3 s), hung (past the timeout), refused."""
    # urllib sends every request through $http_proxy unless $no_proxy names the host, and no
    # proxy reaches these servers: a CI runner behind a proxy must still talk to them directly.
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(var, "127.0.0.1")
    started = []
    urls = {}
    for name, delay in (("fast", 0.05), ("slow", 0.3), ("hung", 5.0)):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(delay))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        urls[name] = f"http://127.0.0.1:{server.server_address[1]}/simple"
    # A port that was free a moment ago and has no listener: connect() is refused at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    urls["refused"] = f"http://127.0.0.1:{port}/simple"
    yield urls
    for server in started:
        server.shutdown()
        server.server_close()


def test_auto_picks_the_fastest_that_answers(servers: dict[str, str]) -> None:
    template = Mirror("pypi", "upstream", "", None, None, (), "test")
    # Named so that alphabetical order differs from speed order.
    pairs = (("a-slow", "slow"), ("b-hung", "hung"), ("c-refused", "refused"), ("pypi", "fast"))
    table = MirrorTable(tuple(replace(template, name=n, pypi=servers[k]) for n, k in pairs))
    start = time.monotonic()
    choice = choose("auto", table, timeout=1.0)
    elapsed = time.monotonic() - start
    assert choice.mirror.name == "pypi"
    assert choice.fallbacks == ("a-slow",)
    by_name = {p.name: p for p in choice.probes}
    assert by_name["b-hung"].seconds is None
    assert "timed out" in (by_name["b-hung"].error or "")
    assert by_name["c-refused"].seconds is None
    assert "refused" in (by_name["c-refused"].error or "").lower()
    assert by_name["pypi"].seconds is not None
    assert by_name["a-slow"].seconds is not None
    assert by_name["pypi"].seconds < by_name["a-slow"].seconds
    # Concurrent: one timeout in total, not one per mirror.
    assert elapsed < 2.0
