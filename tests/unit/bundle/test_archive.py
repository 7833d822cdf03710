"""The bundle archive: the same members give the same bytes; reading refuses anything that could
write outside the folder (`..`, absolute names, links, devices)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envgen.bundle.archive import TOP, Member, extract, write_archive
from envgen.errors import InputFileError


def _members(tmp_path: Path) -> list[Member]:
    wheel = tmp_path / "cache-six.whl"
    wheel.write_bytes(b"wheel body" * 1000)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return [
        Member("manifest.json", data=b"{}\n"),
        Member("install.sh", data=b"#!/bin/sh\n", executable=True),
        Member("wheels/six-1.17.0-py3-none-any.whl", source=wheel, sha256=digest),
    ]


def test_same_members_same_bytes_and_a_round_trip(tmp_path: Path) -> None:
    first = write_archive(tmp_path / "a.tar", _members(tmp_path))
    second = write_archive(tmp_path / "b.tar", list(reversed(_members(tmp_path))))
    assert first == second
    root = extract(tmp_path / "a.tar", tmp_path / "out")
    assert root == tmp_path / "out" / TOP
    assert (root / "wheels/six-1.17.0-py3-none-any.whl").read_bytes() == b"wheel body" * 1000
    assert (root / "install.sh").stat().st_mode & 0o111
    assert not (root / "manifest.json").stat().st_mode & 0o111
    with tarfile.open(tmp_path / "a.tar") as tar:
        infos = tar.getmembers()
    assert [i.name for i in infos] == sorted(i.name for i in infos)
    assert {(i.mtime, i.uid, i.gid) for i in infos} == {(0, 0, 0)}


def test_a_source_changed_since_it_was_checked_aborts_the_write(tmp_path: Path) -> None:
    members = _members(tmp_path)
    (tmp_path / "cache-six.whl").write_bytes(b"changed")
    with pytest.raises(InputFileError, match="changed since it was checked"):
        write_archive(tmp_path / "a.tar", members)
    assert not (tmp_path / "a.tar").exists()
    assert not (tmp_path / "a.tar.part").exists()


def _tar(path: Path, *infos: tuple[tarfile.TarInfo, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for info, data in infos:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def _info(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.mark.parametrize(
    ("info", "why"),
    [
        (_info(f"{TOP}/../escape.txt"), "plain name"),
        (_info("/etc/cron.d/x"), "plain name"),
        (_info("elsewhere/x"), "plain name"),
        (_info(f"{TOP}/wheels/link", tarfile.SYMTYPE, "/etc/passwd"), "link or special"),
        (_info(f"{TOP}/wheels/hard", tarfile.LNKTYPE, f"{TOP}/manifest.json"), "link or special"),
        (_info(f"{TOP}/dev", tarfile.CHRTYPE), "link or special"),
        (_info(f"{TOP}/fifo", tarfile.FIFOTYPE), "link or special"),
    ],
)
def test_a_member_that_could_leave_the_folder_is_refused(
    tmp_path: Path, info: tarfile.TarInfo, why: str
) -> None:
    archive = _tar(tmp_path / "bad.tar", (info, b"x"))
    with pytest.raises(InputFileError, match=why) as exc:
        extract(archive, tmp_path / "out")
    assert repr(info.name)[1:-1] in exc.value.message
    assert not (tmp_path / "escape.txt").exists()


def test_not_a_tar_and_a_duplicate_member_are_refused(tmp_path: Path) -> None:
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all" * 100)
    with pytest.raises(InputFileError, match="not a tar archive"):
        extract(tmp_path / "junk.tar", tmp_path / "out")
    twice = _tar(tmp_path / "twice.tar", (_info(f"{TOP}/a"), b"1"), (_info(f"{TOP}/a"), b"2"))
    with pytest.raises(InputFileError):
        extract(twice, tmp_path / "out2")


_NAME = st.text(st.sampled_from("ab./\\:-_~\n\x00"), min_size=1, max_size=12)


@given(name=_NAME)
@settings(max_examples=200, deadline=None)
def test_whatever_a_member_is_called_nothing_lands_outside(
    tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    work = tmp_path_factory.mktemp("x")
    archive = _tar(work / "t.tar", (_info(f"{TOP}/{name}"), b"data"))
    out = work / "out"
    out.mkdir()
    with contextlib.suppress(InputFileError):
        extract(archive, out)
    written = [p for p in work.rglob("*") if p.is_file() and p.name != "t.tar"]
    assert all(out in p.parents for p in written)
