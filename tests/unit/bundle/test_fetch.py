"""Downloads (resume, the lock's sha256 while streaming, bounded reads, the cache) and where they
come from (canonical URLs, a mirror's simple index page, a mirror's conda channel).

The network here is an in-process stand-in for `urlopen` that answers as an HTTP server would
(Range requests, a server that ignores them, one that serves other bytes); real HTTP servers on
loopback are in tests/integration/test_bundle_mirror.py."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envgen.bundle.download import cache_dir, cached_path, fetch_all, fetch_one
from envgen.bundle.select import BundleFile
from envgen.bundle.sources import Sources, parse_simple_page
from envgen.errors import ExternalToolError
from envgen.kb import load_kb

DATA = Path(__file__).resolve().parents[2] / "data" / "pypi" / "simple-pages"
BODY = bytes(range(256)) * 40
SIX = "six-1.17.0-py2.py3-none-any.whl"
SIX_SHA = "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"


def _file(
    body: bytes = BODY, size: int | None = None, name: str = "pkg-1.0-py3-none-any.whl"
) -> BundleFile:
    return BundleFile(
        f"wheels/{name}",
        f"https://files.pythonhosted.org/packages/ab/cd/{name}",
        hashlib.sha256(body).hexdigest(),
        len(body) if size is None else size,
        "wheel",
        "pkg",
        "1.0",
    )


class _Response(io.BytesIO):
    def __init__(self, body: bytes, status: int = 200, content_type: str = "") -> None:
        super().__init__(body)
        self.status = status
        self.headers = {"Content-Type": content_type}
        self.url = ""


class _Server:
    """Serves `body` for every URL; honours `Range` unless told not to; may cut the body."""

    def __init__(self, body: bytes, *, ranges: bool = True, cut: int | None = None) -> None:
        self.body, self.ranges, self.cut = body, ranges, cut
        self.seen: list[dict[str, str]] = []

    def __call__(self, request: Any, _timeout: float) -> _Response:
        headers = dict(request.header_items())
        self.seen.append(headers)
        body, status = self.body, 200
        wanted = headers.get("Range")
        if wanted and self.ranges:
            body, status = body[int(wanted.removeprefix("bytes=").rstrip("-")) :], 206
        if self.cut is not None:
            body, self.cut = body[: self.cut], None  # only the first answer is cut short
        return _Response(body, status)


def _noop(_f: BundleFile, _n: int) -> None:
    pass


def test_download_lands_in_the_content_addressed_cache(tmp_path: Path) -> None:
    f = _file()
    server = _Server(BODY)
    got = fetch_one(f, tmp_path, Sources(opener=server), _noop)
    assert got.path == cached_path(tmp_path, f) == tmp_path / "files" / f.sha256 / f.name
    assert got.path.read_bytes() == BODY
    assert (got.reused, got.downloaded) == (False, len(BODY))
    again = fetch_one(f, tmp_path, Sources(opener=server), _noop)
    assert again.reused
    assert len(server.seen) == 1


def test_an_interrupted_download_resumes_with_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("envgen.bundle.download.time.sleep", lambda _s: None)
    f = _file()
    server = _Server(BODY, cut=4000)
    got = fetch_one(f, tmp_path, Sources(opener=server), _noop)
    assert got.path.read_bytes() == BODY
    assert "Range" not in server.seen[0]
    assert server.seen[1]["Range"] == "bytes=4000-"
    assert got.downloaded == len(BODY)


def test_a_server_that_ignores_range_is_read_from_the_start(tmp_path: Path) -> None:
    f = _file()
    part = cached_path(tmp_path, f).with_name(f.name + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(BODY[:3000])
    got = fetch_one(f, tmp_path, Sources(opener=_Server(BODY, ranges=False)), _noop)
    assert got.path.read_bytes() == BODY
    assert not part.exists()


def test_other_bytes_are_discarded_and_named(tmp_path: Path) -> None:
    f = _file()
    evil = bytes(reversed(BODY))
    with pytest.raises(ExternalToolError, match=r"does not match the lock") as exc:
        fetch_one(f, tmp_path, Sources(opener=_Server(evil)), _noop)
    assert f.name in exc.value.message
    assert not list(tmp_path.rglob("*.whl*"))


def test_a_server_sending_more_than_the_lock_records_is_cut_off(tmp_path: Path) -> None:
    f = _file(size=100)
    with pytest.raises(ExternalToolError, match=r"sent more than the 100 bytes"):
        fetch_one(f, tmp_path, Sources(opener=_Server(BODY)), _noop)


def test_a_cached_file_that_changed_is_fetched_again(tmp_path: Path) -> None:
    f = _file()
    dest = cached_path(tmp_path, f)
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"x" * len(BODY))
    got = fetch_one(f, tmp_path, Sources(opener=_Server(BODY)), _noop)
    assert not got.reused
    assert dest.read_bytes() == BODY


def test_fetch_all_reports_the_real_failure(tmp_path: Path) -> None:
    good, bad = (
        _file(name="good-1.0-py3-none-any.whl"),
        _file(b"other", name="bad-1.0-py3-none-any.whl"),
    )
    counted: list[int] = []
    with pytest.raises(ExternalToolError, match=r"bad-1.0"):
        fetch_all(
            [good, bad],
            tmp_path,
            Sources(opener=_Server(BODY)),
            on_bytes=lambda _f, n: counted.append(n),
            workers=1,
        )
    assert sum(counted) >= len(BODY)


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("linux", {"HOME": "/home/u"}, "/home/u/.cache/envgen/bundle"),
        ("linux", {"HOME": "/home/u", "XDG_CACHE_HOME": "/c"}, "/c/envgen/bundle"),
        ("darwin", {"HOME": "/Users/u"}, "/Users/u/Library/Caches/envgen/bundle"),
        (
            "win32",
            {"LOCALAPPDATA": "C:/Users/u/AppData/Local"},
            "C:/Users/u/AppData/Local/envgen/bundle",
        ),
        ("linux", {"ENVGEN_CACHE_DIR": "/x"}, "/x"),
    ],
)
def test_cache_dir_per_os(platform: str, environ: dict[str, str], expected: str) -> None:
    assert cache_dir(environ, platform).as_posix() == expected


# --- sources -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "content_type"),
    [("six.html", "text/html"), ("six.json", "application/vnd.pypi.simple.v1+json")],
)
def test_simple_pages_of_both_formats(page: str, content_type: str) -> None:
    links = parse_simple_page(
        (DATA / page).read_bytes(), content_type, "https://pypi.org/simple/six/"
    )
    url, digest = links[SIX]
    assert url.startswith("https://files.pythonhosted.org/packages/b7/ce/")
    assert url.endswith("/" + SIX)
    assert digest == SIX_SHA
    assert "six-1.17.0.tar.gz" in links


def test_a_mirror_page_gives_the_mirror_url_and_a_login_stays_on_its_host() -> None:
    tuna = load_kb().mirrors.get("tuna")
    page = (
        (DATA / "six.html")
        .read_bytes()
        .replace(b"https://files.pythonhosted.org/packages/", b"../../packages/")
    )
    asked: list[str] = []

    def opener(request: Any, _timeout: float) -> _Response:
        asked.append(request.full_url)
        resp = _Response(page, content_type="text/html")
        resp.url = request.full_url
        return resp

    sources = Sources(mirror=tuna, headers={"Authorization": "Basic eA=="}, opener=opener)
    six = BundleFile(
        f"wheels/{SIX}",
        f"https://files.pythonhosted.org/packages/b7/ce/x/{SIX}",
        SIX_SHA,
        11050,
        "wheel",
        "six",
        "1.17.0",
    )
    url = sources.url_for(six)
    assert asked == ["https://pypi.tuna.tsinghua.edu.cn/simple/six/"]
    assert url.startswith("https://pypi.tuna.tsinghua.edu.cn/packages/")
    assert sources.headers_for(url) == {"Authorization": "Basic eA=="}
    assert sources.headers_for("https://files.pythonhosted.org/x") == {}
    wrong = BundleFile(six.path, six.url, "0" * 64, 11050, "wheel", "six", "1.17.0")
    with pytest.raises(
        ExternalToolError, match=r"has no six-1.17.0-py2.py3-none-any.whl with the lock's sha256"
    ):
        sources.url_for(wrong)


def test_conda_packages_come_from_the_mirrors_channel_copy() -> None:
    table = load_kb().mirrors
    pkg = BundleFile(
        "conda/linux-64/zlib-1.3.1-h4ab18f5_1.conda",
        "https://conda.anaconda.org/conda-forge/linux-64/zlib-1.3.1-h4ab18f5_1.conda",
        "0" * 64,
        None,
        "conda",
        "zlib",
        "1.3.1",
    )
    assert Sources(mirror=table.get("tuna")).url_for(pkg) == (
        "https://mirrors.tuna.tsinghua.edu.cn/anaconda/cloud/conda-forge/linux-64/zlib-1.3.1-h4ab18f5_1.conda"
    )
    # huawei mirrors no conda channel: the canonical URL stays.
    assert Sources(mirror=table.get("huawei")).url_for(pkg) == pkg.url
    assert Sources().url_for(pkg) == pkg.url


@given(body=st.binary(max_size=300), kind=st.sampled_from(["text/html", "application/json"]))
@settings(max_examples=300, deadline=None)
def test_any_page_body_gives_links_or_none(body: bytes, kind: str) -> None:
    links = parse_simple_page(body, kind, "https://mirror.example/simple/x/")
    assert all(isinstance(url, str) for url, _ in links.values())
