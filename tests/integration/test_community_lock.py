"""A community wheel in a real lock: `envgen lock` downloads it over HTTPS, checks it against the
git object id the knowledge base records (computed here by git itself), and pins its URL by the
sha256 of the bytes; uv resolves its dependencies from the downloaded copy against PyPI.

The file is served by a local HTTPS server (a self-signed certificate for 127.0.0.1, trusted
through SSL_CERT_FILE), because the machines these tests run on reach no GitHub: the knowledge
base's row for fo40225's 2.0.0 GPU wheel is copied with its URL pointing there, and the wheel is a
stand-in (same file name, METADATA requiring numpy and six), not fo40225's 300 MB file. Without
network the real row's lock is an external failure (exit 5) in one line, and nothing is written.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import os
import shutil
import ssl
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from envgen.errors import ExternalToolError
from envgen.kb import KnowledgeBase
from envgen.kb.community import CommunityTable
from envgen.lock.index import parse_index
from envgen.lock.integrity import verify_files
from envgen.lock.make import make_lock_set, write_lock_set
from envgen.plan import Channel, Plan, Request, Target
from envgen.resolve import resolve
from tests.reference_plans import PROFILES

pytestmark = pytest.mark.integration

WIN7 = PROFILES / "windows7-gtx650-noavx-py37-driver425.toml"
FOLDER = "2.0.0\\py37\\GPU\\cuda101cudnn76sse2"
NAME = "tensorflow_gpu-2.0.0-cp37-cp37m-win_amd64.whl"


def _stand_in(path: Path) -> bytes:
    """A minimal valid wheel under fo40225's file name."""
    info = "tensorflow_gpu-2.0.0.dist-info"
    files = {
        "tensorflow/__init__.py": b"",
        f"{info}/METADATA": (
            b"Metadata-Version: 2.1\nName: tensorflow-gpu\nVersion: 2.0.0\n"
            b"Requires-Dist: numpy (<2.0,>=1.16.0)\nRequires-Dist: six (>=1.10.0)\n"
        ),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\n"
        b"Tag: cp37-cp37m-win_amd64\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in {**files, f"{info}/RECORD": record.encode()}.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2019, 10, 1, 0, 0, 0)), data)
    return path.read_bytes()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """(base URL, served folder, certificate) of a local HTTPS server."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl(1) makes the test's certificate")
    root = tmp_path_factory.mktemp("https")
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    served = root / "www"
    served.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(served))
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", served, cert
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _kb_with(url: str, git_id: str) -> KnowledgeBase:
    """The knowledge base with fo40225's 2.0.0 GPU row pointing at `url`."""
    kb = KnowledgeBase()
    row = next(w for w in kb.community.wheels if w.folder == FOLDER)
    wheel = row.wheel_file()
    assert wheel is not None
    moved = dataclasses.replace(wheel, url=url, git_blob_sha1=git_id)
    kb.__dict__["community"] = CommunityTable((dataclasses.replace(row, files=(moved,)),), ())
    return kb


def _plan(kb: KnowledgeBase) -> Plan:
    from envgen.detect import load_or_detect

    request = Request(target=Target.GPU, channel=Channel.AUTO, allow_community_builds=True)
    found = resolve(load_or_detect(str(WIN7), environ={}), kb, request)
    assert isinstance(found, Plan), getattr(found, "message", "")
    return found


def _uv() -> str:
    found = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(found).exists():
        pytest.skip("uv is not installed")
    return found


def test_the_lock_pins_the_downloads_sha256_at_its_url(
    https: tuple[str, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, served, cert = https
    folder = served / "raw" / "2.0.0" / "py37" / "GPU" / "cuda101cudnn76sse2"
    folder.mkdir(parents=True)
    data = _stand_in(folder / NAME)
    git_id = subprocess.run(
        ["git", "hash-object", str(folder / NAME)], capture_output=True, text=True, check=True
    ).stdout.strip()
    url = f"{base}/raw/2.0.0/py37/GPU/cuda101cudnn76sse2/{NAME}"
    kb = _kb_with(url, git_id)
    plan = _plan(kb)
    assert plan.framework.url == url
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    cache = tmp_path / "cache"
    made = make_lock_set([plan], plan.request, kb, command="envgen lock", uv=_uv(), cache=cache)
    sha = hashlib.sha256(data).hexdigest()
    requirements = made.files["requirements.cuda10-win-64.txt"]
    assert f"tensorflow-gpu @ {url} \\\n    --hash=sha256:{sha}" in requirements
    pylock = made.files["pylock.cuda10-win-64.toml"]
    assert f'url = "{url}"' in pylock
    assert f'sha256 = "{sha}"' in pylock
    assert f"size = {len(data)}" in pylock
    for text in made.files.values():
        assert "file://" not in text
        assert str(cache) not in text
    assert "numpy==1." in requirements  # resolved from the copy's metadata, against PyPI
    # Every file that installs it says it is third-party.
    for name in ("requirements.cuda10-win-64.txt", "pylock.cuda10-win-64.toml"):
        assert (
            f"# third-party (not TensorFlow's own build): tensorflow-gpu@{url}\n"
            in (made.files[name])
        )
    assert "(community; third-party)" in made.files["envgen-lock.toml"]
    write_lock_set(made, tmp_path / "locks")
    index = parse_index((tmp_path / "locks" / "envgen-lock.toml").read_text())
    assert verify_files(index, tmp_path / "locks") == []
    assert index.request["allow-community-builds"] is True
    # A second lock finds the file in the cache: the same bytes without the server's copy.
    (folder / NAME).unlink()
    again = make_lock_set([plan], plan.request, kb, command="envgen lock", uv=_uv(), cache=cache)
    assert again.files == made.files


def test_a_file_that_is_not_the_recorded_one_is_refused(
    https: tuple[str, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, served, cert = https
    (served / "other").mkdir()
    _stand_in(served / "other" / NAME)
    kb = _kb_with(f"{base}/other/{NAME}", "0" * 40)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    plan = _plan(kb)
    with pytest.raises(ExternalToolError, match="is not the file the knowledge base records"):
        make_lock_set([plan], plan.request, kb, command="envgen lock", cache=tmp_path / "c")
    assert not (tmp_path / "c" / "direct" / ("0" * 40) / NAME).exists()


def test_without_network_the_lock_is_exit_5_in_one_line(tmp_path: Path) -> None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) for a network namespace")
    done = subprocess.run(
        ["unshare", "--net", sys.executable, "-m", "envgen", "lock", "--profile", str(WIN7),
         "--allow-community-builds", "--platform", "win-64", "--output-dir", "locks"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "ENVGEN_CACHE_DIR": str(tmp_path / "cache")},
    )  # fmt: skip
    assert done.returncode == 5, done.stdout + done.stderr
    first, *rest = done.stderr.strip().splitlines()
    assert first.startswith("envgen: error: cannot download https://github.com/fo40225/")
    assert NAME in first
    assert all(line.startswith("hint:") for line in rest)
    assert not (tmp_path / "locks").exists()  # never an unhashed pin
