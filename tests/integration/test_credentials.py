"""A private index's login, for real: uv installs from a loopback index that demands HTTP Basic
authentication, the login reaching it only through the environment; and envgen.proc keeps the
login out of its log and its errors whatever the program printed (issue 11 §3).

The index is a ThreadingHTTPServer on 127.0.0.1 serving one tiny wheel built here, so the test
needs no network and ends in seconds.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import logging
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from envgen.backends import COMPLETE_MARKER, BuildRequest, get_backend
from envgen.errors import ExternalToolError
from envgen.proc import run

pytestmark = pytest.mark.integration

SECRET = "s3cret-Tok3n"
WHEEL = "envgentiny-1.0-py3-none-any.whl"


def _wheel() -> bytes:
    """A minimal, valid pure-Python wheel (PEP 427: METADATA, WHEEL, RECORD)."""
    files = {
        "envgentiny/__init__.py": b"VALUE = 42\n",
        "envgentiny-1.0.dist-info/METADATA": (
            b"Metadata-Version: 2.1\nName: envgentiny\nVersion: 1.0\n"
        ),
        "envgentiny-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: envgen-tests\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("envgentiny-1.0.dist-info/RECORD,,")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr("envgentiny-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    return buffer.getvalue()


class Index:
    def __init__(self) -> None:
        self.wheel = _wheel()
        self.authorized: list[str] = []
        self.refused: list[str] = []
        expected = "Basic " + base64.b64encode(f"user:{SECRET}".encode()).decode()
        sha = hashlib.sha256(self.wheel).hexdigest()
        page = f'<html><a href="/files/{WHEEL}#sha256={sha}">{WHEEL}</a></html>'.encode()
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(body=True)

            def do_HEAD(self) -> None:  # uv asks before a wheel download (range support)
                self._answer(body=False)

            def _answer(self, *, body: bool) -> None:
                if self.headers.get("Authorization") != expected:
                    index.refused.append(self.path)
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="private"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                index.authorized.append(self.path)
                if self.path.rstrip("/") == "/simple/envgentiny":
                    data, kind = page, "text/html"
                elif self.path == f"/files/{WHEEL}":
                    data, kind = index.wheel, "application/octet-stream"
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def log_message(self, *_: object) -> None:  # quiet test output
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def url(self, password: str) -> str:
        return f"http://user:{password}@127.0.0.1:{self.port}/simple"


@pytest.fixture
def index() -> Iterator[Index]:
    served = Index()
    threading.Thread(target=served.server.serve_forever, daemon=True).start()
    yield served
    served.server.shutdown()
    served.server.server_close()


def _no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text


def test_uv_gets_the_login_through_its_environment(
    index: Index, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="envgen")
    request = BuildRequest(
        prefix=tmp_path / "env",
        python=f"{sys.version_info.major}.{sys.version_info.minor}",
        requirements=("envgentiny==1.0",),
        index_url=index.url(SECRET),
        force=True,
    )
    built = get_backend("venv").build(request)
    assert built.installer == "uv"
    assert any(path.startswith("/simple/envgentiny") for path in index.authorized)
    assert f"/files/{WHEEL}" in index.authorized
    done = run([str(built.python), "-c", "import envgentiny; print(envgentiny.VALUE)"], timeout=60)
    assert done.stdout.strip() == "42"
    # The log shows every command envgen ran, and none carries the login.
    assert "uv" in caplog.text
    _no_secret(caplog.text, (built.prefix / COMPLETE_MARKER).read_text())


def test_a_refused_login_fails_without_showing_it(
    index: Index, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="envgen")
    wrong = "wr0ng-" + SECRET
    request = BuildRequest(
        prefix=tmp_path / "env",
        python=f"{sys.version_info.major}.{sys.version_info.minor}",
        requirements=("envgentiny==1.0",),
        index_url=index.url(wrong),
    )
    with pytest.raises(ExternalToolError) as exc:
        get_backend("venv").build(request)
    assert index.refused
    assert "envgentiny" in exc.value.message or "401" in exc.value.message
    _no_secret(exc.value.message, exc.value.hint, caplog.text)
    assert not (tmp_path / "env").exists()


def test_proc_redacts_logins_in_argv_and_in_what_the_program_printed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="envgen")
    url = f"https://user:{SECRET}@mirror.example/simple"
    script = f"import sys; print('fetching {url}/six/', file=sys.stderr); sys.exit(3)"
    with pytest.raises(ExternalToolError) as exc:
        run([sys.executable, "-c", script, url], timeout=60)
    message = exc.value.message
    assert "exit code 3" in message
    assert "https://***@mirror.example/simple/six/" in message
    assert "https://***@mirror.example" in caplog.text
    _no_secret(message, caplog.text)


def test_shown_progress_is_redacted_and_still_read(capfd: pytest.CaptureFixture[str]) -> None:
    """`show_progress` copies a program's stderr to envgen's as it comes (uv's download lines)
    and keeps it for the caller (uv's summary): a login in it is redacted on the way out."""
    url = f"https://user:{SECRET}@mirror.example/simple"
    script = (
        "import sys; print('Downloading numpy (16.1MiB) from ' + sys.argv[1], file=sys.stderr); "
        "print('Prepared 1 package in 2.73s', file=sys.stderr); print('out')"
    )
    done = run([sys.executable, "-c", script, url], timeout=60, show_progress=True)
    shown = capfd.readouterr().err
    assert "Downloading numpy (16.1MiB) from https://***@mirror.example/simple" in shown
    assert "Prepared 1 package in 2.73s" in done.stderr
    assert done.stdout == "out\n"
    _no_secret(shown)
