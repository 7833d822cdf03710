"""Running uv for a lock set (envgen.lock.uv): its commands, its errors, and which runs go online.

uv itself is replaced by `FakeUv`, which answers from real uv 0.13.9 output (tests/data/uv) and
models uv's cache: an offline run answers only from pages an earlier run stored (else uv's real
"not found in the cache" failure), and from a stale page it gives the older answer.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from envgen.errors import ExternalToolError
from envgen.kb.lock_platforms import LockPlatform, load_lock_platforms
from envgen.lock import pip, uv
from envgen.plan import Plan
from envgen.proc import Completed
from tests.reference_plans import cpu_2_15, cpu_2_21, gpu_2_21

LINUX = "x86_64-manylinux_2_28"


def _stem(argv: list[str], text: str) -> str:
    target = argv[argv.index("--python-platform") + 1]
    if target == "x86_64-pc-windows-msvc":
        return "tf2.15-cpu-py3.10-win-64"
    if target == "aarch64-apple-darwin":
        return "tf2.21-cpu-py3.11-osx-arm64"
    return (
        "tf2.21-cpu-py3.11-linux-64"
        if "tensorflow-cpu" in text
        else "tf2.21-cuda12-py3.11-linux-64"
    )


class FakeUv:
    """`uv pip compile` from captured answers, with a cache of index pages (package names)."""

    def __init__(self, data_dir: Path, cached: set[str], stale: frozenset[str] = frozenset()):
        self.data = data_dir / "uv"
        self.cached, self.stale = set(cached), set(stale)
        self.calls: list[tuple[str, str, bool]] = []  # (stem, format, offline)
        self.miss = (self.data / "offline-cache-miss.stderr.txt").read_text()
        self._lock = threading.Lock()
        # The first online run answers only once an offline run has: the early pylock reads
        # the cache as it was before this lock, every time (no race between the two threads).
        self._offline_seen = threading.Event()

    def answer(self, stem: str, fmt: str) -> str:
        suffix = "pylock.toml" if fmt == "pylock" else "requirements.txt"
        return (self.data / f"{stem}.{suffix}").read_text()

    def __call__(self, argv: list[str], *, input_text: str = "", **_: object) -> Completed:
        stem = _stem(argv, input_text)
        fmt = "pylock" if "--format" in argv else "requirements"
        offline = "--offline" in argv
        names = set(pip.parse_requirements(self.answer(stem, "requirements")))
        text = self.answer(stem, fmt)
        if not offline:
            self._offline_seen.wait(timeout=10)
        with self._lock:
            self.calls.append((stem, fmt, offline))
            if not offline:
                self.cached |= names
                self.stale -= names
                return Completed(tuple(argv), 0, text, "")
            self._offline_seen.set()
            if not names <= self.cached:
                return Completed(tuple(argv), 1, "", self.miss)
            if "numpy" in self.stale and "tf2.21" in stem:
                # yesterday's page: numpy 2.4.5 was the newest then
                text = (
                    text.replace("numpy==2.4.6", "numpy==2.4.5")
                    .replace(
                        'name = "numpy"\nversion = "2.4.6"', 'name = "numpy"\nversion = "2.4.5"'
                    )
                    .replace("/numpy-2.4.6", "/numpy-2.4.5")
                )
            return Completed(tuple(argv), 0, text, "")

    def online(self) -> list[tuple[str, str]]:
        return [(stem, fmt) for stem, fmt, offline in self.calls if not offline]


def _fake(monkeypatch: pytest.MonkeyPatch, fake: FakeUv) -> FakeUv:
    monkeypatch.setattr(uv, "run", fake)
    return fake


def _platform(name: str) -> LockPlatform:
    return load_lock_platforms().get(name)


def _everything(data_dir: Path) -> set[str]:
    return {
        name
        for stem in (
            "tf2.21-cpu-py3.11-linux-64",
            "tf2.21-cuda12-py3.11-linux-64",
            "tf2.21-cpu-py3.11-osx-arm64",
            "tf2.15-cpu-py3.10-win-64",
        )
        for name in pip.parse_requirements(
            (data_dir / "uv" / f"{stem}.requirements.txt").read_text()
        )
    }


# --- one plan --------------------------------------------------------------------------------------


def test_warm_cache_one_online_run(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    fake = _fake(monkeypatch, FakeUv(data_dir, _everything(data_dir)))
    (lock,) = uv.lock_plans([(cpu_2_21(), _platform("linux-64"))], environ={})
    assert lock.versions()["tensorflow-cpu"] == "2.21.0"
    # the pylock came from the cache beside the online run: two uv runs, one of them online
    assert fake.online() == [("tf2.21-cpu-py3.11-linux-64", "requirements")]
    assert len(fake.calls) == 2


def test_cold_cache_pylock_offline_after_the_online_run(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    fake = _fake(monkeypatch, FakeUv(data_dir, cached=set()))
    (lock,) = uv.lock_plans([(cpu_2_21(), _platform("linux-64"))], environ={})
    assert len(lock.packages) == 32
    assert fake.online() == [("tf2.21-cpu-py3.11-linux-64", "requirements")]
    # the early pylock found the cache empty; the second read it once the online run filled it
    assert [offline for _, fmt, offline in fake.calls if fmt == "pylock"] == [True, True]


def test_stale_page_is_not_locked(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    """The early offline pylock read yesterday's numpy page; the online run saw 2.4.6."""
    fake = _fake(monkeypatch, FakeUv(data_dir, _everything(data_dir), frozenset({"numpy"})))
    (lock,) = uv.lock_plans([(cpu_2_21(), _platform("linux-64"))], environ={})
    assert lock.versions()["numpy"] == "2.4.6"
    assert "numpy==2.4.6" in lock.requirements_body
    assert "numpy-2.4.5" not in lock.pylock_body
    assert fake.online() == [("tf2.21-cpu-py3.11-linux-64", "requirements")]
    assert len(fake.calls) == 3  # the stale early pylock was read, refused and read again


def test_the_index_failing_is_uv_s_own_words(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    stderr = (data_dir / "uv" / "failed-fetch-dns-no-network.stderr.txt").read_text()

    def run(argv: list[str], **_: object) -> Completed:
        return Completed(tuple(argv), 2, "", stderr)

    monkeypatch.setattr(uv, "run", run)
    with pytest.raises(ExternalToolError, match=r"^uv pip compile failed for linux-64, Python"):
        uv.lock_plans([(cpu_2_21(), _platform("linux-64"))], environ={})


# --- several plans ---------------------------------------------------------------------------------


def test_leads_are_the_plans_that_ask_for_something_new() -> None:
    plans: list[Plan] = [cpu_2_21(), gpu_2_21(), cpu_2_21("macos-arm64")]
    # the GPU plan pins the most; tensorflow-cpu is new beside it; macOS asks for nothing new
    assert uv._leads(plans) == [0, 1]
    assert uv._leads([cpu_2_21("macos-arm64"), cpu_2_21("windows-x86_64")]) == [0]


def test_followers_resolve_offline_from_the_leads_pages(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    fake = _fake(monkeypatch, FakeUv(data_dir, cached=set()))
    jobs = [(gpu_2_21(), _platform("linux-64")), (cpu_2_21("macos-arm64"), _platform("osx-arm64"))]
    gpu, mac = uv.lock_plans(jobs, environ={})
    assert gpu.platform == "linux-64"
    assert mac.platform == "osx-arm64"
    assert mac.versions()["tensorflow"] == "2.21.0"
    # every package macOS pins, the GPU lead revalidated: macOS never went online
    assert fake.online() == [("tf2.21-cuda12-py3.11-linux-64", "requirements")]


def test_a_follower_pinning_something_new_goes_online(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    """TF 2.15 on Windows pins tensorflow-intel, which no Linux lead read: its cached page could
    be stale, so Windows resolves online (it asks for nothing new, so it was no lead)."""
    fake = _fake(monkeypatch, FakeUv(data_dir, _everything(data_dir)))
    jobs = [(gpu_2_21(), _platform("linux-64")), (cpu_2_15("windows-x86_64"), _platform("win-64"))]
    assert uv._leads([p for p, _ in jobs]) == [0]
    _, win = uv.lock_plans(jobs, environ={})
    assert win.versions()["tensorflow-intel"] == "2.15.1"
    assert ("tf2.15-cpu-py3.10-win-64", "requirements") in fake.online()
    assert len(fake.online()) == 2


def test_uv_argv_is_per_platform_and_mirror_neutral() -> None:
    plat = _platform("win-64")
    argv = uv.uv_argv("uv", cpu_2_15("windows-x86_64"), plat, fmt="requirements", index="I")
    assert "--universal" not in argv
    assert argv[argv.index("--python-platform") + 1] == "x86_64-pc-windows-msvc"
    assert argv[argv.index("--python-version") + 1] == "3.10"
    assert {"--no-config", "--generate-hashes", "--no-header"} <= set(argv)
    assert "--emit-index-url" not in argv
    pylock = uv.uv_argv("uv", cpu_2_21(), plat, fmt="pylock", index="I")
    assert pylock[-2:] == ["--format", "pylock.toml"]


def test_uv_environment_drops_index_and_offline_variables() -> None:
    env = uv.uv_environment(
        {"UV_INDEX_URL": "x", "UV_OFFLINE": "1", "UV_CACHE_DIR": "c", "PATH": "/bin"}
    )
    assert env == {"UV_CACHE_DIR": "c", "PATH": "/bin"}


def test_no_solution_is_one_line(data_dir: Path) -> None:
    stderr = (data_dir / "uv" / "no-solution-tf2.21-cpu-osx-arm64.stderr.txt").read_text()
    err = uv.uv_failure(stderr, "osx-arm64, Python 3.11")
    assert "\n" not in err.message
    assert err.message.startswith("uv found no solution for osx-arm64, Python 3.11: Because")
    assert "manylinux_2_27_x86_64" in err.hint
    other = uv.uv_failure("error: Failed to fetch: `https://pypi.org/simple/x/`\n", "linux-64")
    assert (
        other.message
        == "uv pip compile failed for linux-64: Failed to fetch: `https://pypi.org/simple/x/`"
    )
