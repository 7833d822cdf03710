"""A bundle downloads through a mirror for real: a PEP 503 index on a loopback HTTP server that
serves the same file as PyPI (found through the mirror's own page, the lock's sha256 deciding),
resumes a transfer cut short with a Range request, and refuses other bytes. And `envgen bundle`
through a mirror that does not answer exits 5 naming the next mirror to try."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from envgen.bundle.download import fetch_one
from envgen.bundle.select import BundleFile, select
from envgen.bundle.sources import Sources
from envgen.errors import ExternalToolError
from envgen.kb.mirrors import Mirror

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def six(tmp_path_factory: pytest.TempPathFactory) -> tuple[BundleFile, bytes]:
    """six's wheel as the committed lock names it, and its real bytes (from PyPI)."""
    chosen = select(ROOT / "locks", "cpu", "linux-64")
    wheel = next(f for f in chosen.files if f.package == "six")
    got = fetch_one(wheel, tmp_path_factory.mktemp("pypi"), Sources(), lambda _f, _n: None)
    return wheel, got.path.read_bytes()


class _Mirror(http.server.ThreadingHTTPServer):
    body: bytes
    name: str
    cut_next: bool = False
    requests: list[tuple[str, str | None]]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Mirror

    def do_GET(self) -> None:
        srv = self.server
        srv.requests.append((self.path, self.headers.get("Range")))
        if self.path == "/simple/six/":
            page = f'<html><body><a href="../../files/{srv.name}">{srv.name}</a></body></html>'
            self._send(200, page.encode(), "text/html")
            return
        if self.path != f"/files/{srv.name}":
            self._send(404, b"not here", "text/plain")
            return
        body, status = srv.body, 200
        wanted = self.headers.get("Range")
        if wanted:
            start = int(wanted.removeprefix("bytes=").rstrip("-"))
            body, status = body[start:], 206
        if srv.cut_next:
            # Promise the whole body, send half of it, hang up: a dropped connection.
            srv.cut_next = False
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.close()
            return
        self._send(status, body, "application/octet-stream")

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def mirror(six: tuple[BundleFile, bytes]) -> Iterator[_Mirror]:
    server = _Mirror(("127.0.0.1", 0), _Handler)
    server.body, server.name, server.requests = six[1], six[0].name, []
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _sources(server: _Mirror) -> Sources:
    url = f"http://127.0.0.1:{server.server_address[1]}/simple"
    return Sources(mirror=Mirror("local", "loopback", url, None, None, (), "test"))


def test_the_same_file_comes_from_the_mirror(
    mirror: _Mirror, six: tuple[BundleFile, bytes], tmp_path: Path
) -> None:
    got = fetch_one(six[0], tmp_path, _sources(mirror), lambda _f, _n: None)
    assert got.path.read_bytes() == six[1]
    assert got.url.endswith(f"/files/{six[0].name}")
    assert [p for p, _ in mirror.requests] == ["/simple/six/", f"/files/{six[0].name}"]


def test_a_dropped_connection_resumes_with_range(
    mirror: _Mirror, six: tuple[BundleFile, bytes], tmp_path: Path
) -> None:
    mirror.cut_next = True
    got = fetch_one(six[0], tmp_path, _sources(mirror), lambda _f, _n: None)
    assert got.path.read_bytes() == six[1]
    files = [r for p, r in mirror.requests if p.startswith("/files/")]
    assert files == [None, f"bytes={len(six[1]) // 2}-"]


def test_other_bytes_from_a_mirror_are_refused(
    mirror: _Mirror, six: tuple[BundleFile, bytes], tmp_path: Path
) -> None:
    mirror.body = six[1][:-10] + b"0123456789"
    with pytest.raises(ExternalToolError, match="does not match the lock"):
        fetch_one(six[0], tmp_path, _sources(mirror), lambda _f, _n: None)
    assert not list(tmp_path.rglob("six*"))


def test_an_unreachable_mirror_names_the_next_one(tmp_path: Path) -> None:
    # Port 9 (discard) has no listener here: the connection is refused at once.
    done = subprocess.run(
        [sys.executable, "-m", "envgen", "bundle", "--json", "--lock-dir", str(ROOT / "locks"),
         "--variants", "cpu", "--platform", "linux-64", "--cache-dir", str(tmp_path / "cache"),
         "--mirror", "http://127.0.0.1:9/simple", "--allow-insecure-mirror"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 5, done.stderr
    error = json.loads(done.stdout)["error"]
    assert "did not serve http://127.0.0.1:9/simple/" in error["message"]
    # PyPI answers from here (the only index this machine reaches): it is the one named.
    assert "retry with --mirror pypi" in error["hint"]
    assert not list(tmp_path.glob("*.tar"))


def test_create_through_an_unreachable_preset_names_the_next_mirror(tmp_path: Path) -> None:
    """`create --mirror tuna` where TUNA does not resolve (this machine reaches PyPI only): uv's
    install fails, and the hint names the mirror that answers instead of leaving the user to
    guess."""
    import shutil

    shutil.copytree(ROOT / "locks", tmp_path / "locks")
    done = subprocess.run(
        [sys.executable, "-m", "envgen", "create", "--json", "--target", "cpu", "--frozen",
         "--no-verify", "--mirror", "tuna"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 5, done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["hint"].startswith("tuna did not work from here; pypi answered in ")
    assert "--mirror pypi" in error["hint"]
    assert "mirror  tuna (tuna): named by --mirror" in done.stderr
