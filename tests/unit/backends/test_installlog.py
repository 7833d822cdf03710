"""uv's install summary (envgen.backends.installlog) on real uv 0.13.9 output (tests/data/uv)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from envgen.backends.installlog import Fetched, Phase, fetched, read_uv_install


def _log(data_dir: Path, name: str) -> str:
    return (data_dir / "uv" / f"install-{name}.stderr.txt").read_text()


def test_cold_install_has_every_phase_and_the_large_downloads(data_dir: Path) -> None:
    report = read_uv_install(_log(data_dir, "cold"))
    assert report.phases == (
        Phase("resolve", 32, 5.12),
        Phase("download", 32, 2.73),
        Phase("install", 32, 0.212),
        Phase("bytecode", 4415, 5.9),
    )
    assert report.large[0] == ("tensorflow-cpu", round(261.1 * 2**20))
    assert [name for name, _ in report.large] == [
        "tensorflow-cpu", "pygments", "grpcio", "numpy", "h5py", "keras", "libclang",
    ]  # fmt: skip
    assert report.describe() == (
        "resolve 5.1 s, download 2.7 s, install 0.2 s, bytecode 5.9 s (4415 files)"
    )


def test_warm_install_downloads_nothing(data_dir: Path) -> None:
    report = read_uv_install(_log(data_dir, "warm"))
    assert report.phase("download") is None
    assert report.phase("bytecode") == Phase("bytecode", 4415, 7.26)
    assert fetched(report, {"six": 1}, "pypi.org") == Fetched(0, 0, True, "pypi.org")


def test_a_pylock_install_has_no_resolve_phase(data_dir: Path) -> None:
    report = read_uv_install(_log(data_dir, "pylock-cold"))
    assert [p.name for p in report.phases] == ["download", "install"]
    assert report.phase("download") == Phase("download", 32, 11.11)


def test_bytes_are_the_lock_s_sizes_when_everything_was_fetched(data_dir: Path) -> None:
    report = read_uv_install(_log(data_dir, "cold"))
    sizes = {f"p{i}": 1000 for i in range(32)}
    assert fetched(report, sizes, "pypi.org") == Fetched(32, 32_000, True, "pypi.org")
    # Without the lock's sizes: uv's rounded sizes of the files it named, a lower bound.
    partial = fetched(report, {}, "mirrors.tuna.tsinghua.edu.cn")
    assert partial is not None
    assert not partial.exact
    assert partial.bytes == sum(size for _, size in report.large)
    assert partial.describe().startswith("fetched 32 package(s), >= 315.")


def test_uv_s_minute_format() -> None:
    # uv writes durations over a minute as `1m 05s`.
    report = read_uv_install("Prepared 3 packages in 1m 05s\nInstalled 3 packages in 999ms\n")
    assert report.phases == (Phase("download", 3, 65.0), Phase("install", 3, 0.999))


@given(st.text())
def test_any_text_reads_without_raising(text: str) -> None:
    report = read_uv_install(text)
    assert all(p.seconds >= 0 and p.count >= 0 for p in report.phases)
    assert fetched(report, {}, "x") is None or report.phases
