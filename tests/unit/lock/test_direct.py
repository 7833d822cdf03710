"""A direct-URL wheel in a lock: downloaded, checked against its git object id, recorded by the
sha256 of its bytes at its URL (envgen.lock.direct), and read back by the lock readers.

The download is fed by an opener over bytes (unit tests reach no network;
tests/integration/test_community_lock.py serves the file over HTTPS for real). uv's answers for a
plan resolved from a downloaded copy are real output (tests/data/uv/direct-url-*)."""

from __future__ import annotations

import hashlib
import io
import urllib.error
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from envgen.errors import ExternalToolError
from envgen.lock import direct
from envgen.lock.pip import install_files, parse_pylock, parse_requirements, pip_lock

UV = Path(__file__).resolve().parents[2] / "data" / "uv"
URL = "https://example.org/files/tensorflow_gpu-2.0.0-cp37-cp37m-win_amd64.whl"
BYTES = b"PK\x03\x04 a wheel's bytes"


def _git_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _opener(data: bytes | Exception, seen: list[str] | None = None) -> Any:
    @contextmanager
    def open_(request: Any, _timeout: float) -> Iterator[io.BytesIO]:
        if seen is not None:
            seen.append(request.full_url)
        if isinstance(data, Exception):
            raise data
        yield io.BytesIO(data)

    return open_


def test_git_blob_id_is_gits(tmp_path: Path) -> None:
    # `printf 'hello\n' | git hash-object --stdin` (git's documented example object).
    path = tmp_path / "f"
    path.write_bytes(b"hello\n")
    assert direct.git_blob_id(path) == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_fetch_checks_the_git_id_and_reuses_the_cache(tmp_path: Path) -> None:
    seen: list[str] = []
    got = direct.fetch(URL, _git_id(BYTES), tmp_path, opener=_opener(BYTES, seen))
    assert got.sha256 == hashlib.sha256(BYTES).hexdigest()
    assert (got.size, got.reused, got.path.read_bytes()) == (len(BYTES), False, BYTES)
    again = direct.fetch(URL, _git_id(BYTES), tmp_path, opener=_opener(OSError("offline")))
    assert again.reused
    assert again.sha256 == got.sha256
    assert seen == [URL]


def test_another_file_is_refused_and_not_kept(tmp_path: Path) -> None:
    with pytest.raises(ExternalToolError, match="not the file the knowledge base records"):
        direct.fetch(URL, _git_id(b"other"), tmp_path, opener=_opener(BYTES))
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_a_file_over_the_limit_is_cut_off(tmp_path: Path) -> None:
    with pytest.raises(ExternalToolError, match="sent more than 8 bytes"):
        direct.fetch(URL, _git_id(BYTES), tmp_path, opener=_opener(BYTES), limit=8)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


@pytest.mark.parametrize(
    "failure",
    [
        urllib.error.URLError(OSError(-2, "Name or service not known")),
        urllib.error.HTTPError(URL, 404, "Not Found", {}, None),  # type: ignore[arg-type]
        ConnectionResetError(104, "Connection reset by peer"),
    ],
)
def test_no_network_is_one_line_exit_5(tmp_path: Path, failure: Exception) -> None:
    with pytest.raises(ExternalToolError) as exc:
        direct.fetch(URL, _git_id(BYTES), tmp_path, opener=_opener(failure))
    assert exc.value.exit_code == 5
    assert "\n" not in str(exc.value)
    assert URL in str(exc.value)


def test_a_url_that_names_no_plain_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExternalToolError, match="not a file a lock can pin"):
        direct.fetch("https://example.org/a%0Ab.whl", _git_id(BYTES), tmp_path)


def _answers(local: Path) -> tuple[str, str]:
    text = {}
    for fmt in ("requirements.txt", "pylock.toml"):
        raw = (UV / f"direct-url-py3.7-win-64.{fmt}").read_text(encoding="utf-8")
        text[fmt] = raw.replace("{local}", str(local))
    return text["pylock.toml"], text["requirements.txt"]


def test_uvs_answers_for_a_downloaded_copy_become_the_urls(tmp_path: Path) -> None:
    local = tmp_path / "cache" / "tensorflow_gpu-2.0.0-cp37-cp37m-win_amd64.whl"
    pylock, requirements = _answers(local)
    # uv's own answers, as it wrote them, read by the strict readers.
    copy = pip_lock("win-64", "3.7", pylock, requirements)
    assert copy.versions()["tensorflow-gpu"] == "2.0.0"
    sha = "2401ac442ec4f4629bbe8ddc7eabb0292eda8cae31201120ed2ed13ac29d704a"
    found = direct.DirectFile(URL, local, sha, 1234, reused=False)
    lock = direct.canonical(copy, [found])
    assert str(tmp_path) not in lock.pylock_body + lock.requirements_body
    assert f"tensorflow-gpu @ {URL} \\\n    --hash=sha256:{sha}" in lock.requirements_body
    files = {f.name: f for f in install_files(lock.pylock_body, "3.7")}
    wheel = files["tensorflow-gpu"]
    assert (wheel.url, wheel.sha256, wheel.size) == (URL, sha, 1234)
    assert parse_requirements(lock.requirements_body)["tensorflow-gpu"] == (
        "2.0.0",
        frozenset({f"sha256:{sha}"}),
    )
    assert {p.name for p in parse_pylock(lock.pylock_body)} == {"numpy", "six", "tensorflow-gpu"}
