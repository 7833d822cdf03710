"""conda-forge's own TensorFlow through a real py-rattler solve: `envgen lock` against a local
conda channel whose TensorFlow records copy real ones, and `envgen kb update --family
conda-forge` reading that channel's repodata over HTTP.

No conda channel is reachable from this machine, so the channel is built here
(tests/integration/conda_channel.py: genuine .tar.bz2 packages, indexed by rattler). Its
`tensorflow`, `tensorflow-base` and `tensorflow-estimator` records are conda-forge's real 2.10.0
ones (name, version, build string, build number, depends) as conda-forge-records.toml quotes them
(`conda search --info` output, CPU and CUDA 11.2, Python 3.10). Every package they depend on is a
stub that satisfies the depends (a real archive whose payload is one text file), and one
tensorflow 2.19.1 CPU record is rebuilt from the feedstock's recipe at 2cc3b129 (its run
requirements), its PKG_HASH invented (`h0000000`: the recipe cannot tell it), to lock the plan a
Python 3.11 machine gets. What this cannot prove: that conda-forge's channel holds these builds
today, and that the nocona build runs on a CPU without AVX (no such CPU or channel here).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from envgen.kb import load_kb
from tests.integration.conda_channel import Pkg, build_channel

pytestmark = pytest.mark.integration

PROFILES = Path(__file__).resolve().parents[1] / "data" / "profiles"
WESTMERE = PROFILES / "linux-westmere-x5650-py311.toml"
WESTMERE_GPU = PROFILES / "linux-westmere-gtx1080ti-driver570-py311.toml"
INVENTED = "h0000000"
"""The PKG_HASH of the rebuilt 2.19.1 record: invented, as the research says it must be."""

# tensorflow 2.19.1 build 3, linux-64 CPU, microarch level 1: the `tensorflow` output's run
# requirements at conda-forge/tensorflow-feedstock@2cc3b129 recipe/meta.yaml, with the
# tensorflow-base it pins; tensorflow-base's own run requirements reduced to what a solve needs
# to reach (its run exports' exact pins are unknown: the research lists them as such).
REBUILT = (
    Pkg(
        "tensorflow",
        "2.19.1",
        "linux-64",
        depends=(
            "python >=3.11,<3.12.0a0",
            "python_abi 3.11.* *_cp311",
            f"tensorflow-base 2.19.1 cpu_py311{INVENTED}_3",
            f"tensorflow-estimator 2.19.1 cpu_py311{INVENTED}_3",
        ),
        build=f"cpu_py311{INVENTED}_3",
        extra={"build_number": 3, "track_features": "tensorflow-cpu"},
    ),
    Pkg(
        "tensorflow-base",
        "2.19.1",
        "linux-64",
        depends=(
            "python >=3.11,<3.12.0a0",
            "python_abi 3.11.* *_cp311",
            "packaging",
            "absl-py >=1.0.0",
            "keras >=3.5",
            "numpy >=1.26",
        ),
        build=f"cpu_py311{INVENTED}_3",
        extra={"build_number": 3},
    ),
    Pkg(
        "tensorflow-estimator",
        "2.19.1",
        "linux-64",
        depends=("python >=3.11,<3.12.0a0", f"tensorflow-base 2.19.1 cpu_py311{INVENTED}_3"),
        build=f"cpu_py311{INVENTED}_3",
        extra={"build_number": 3},
    ),
)


def _stub_version(spec: str) -> tuple[str, str]:
    """A (version, build) that satisfies one conda depends entry (`grpcio 1.47.*`,
    `icu >=70.1,<71.0a0`, `libabseil 20220623.0 cxx17*`, `python_abi 3.10.* *_cp310`)."""
    words = spec.split()
    build = words[2].replace("*", "0") if len(words) > 2 else "0"
    if len(words) == 1:
        return "1.0", build
    version = words[1].split(",")[0].split("|")[0]
    version = re.sub(r"^(>=|==|=|<=)", "", version).removesuffix(".*")
    if version.startswith("<"):
        return "0.1", build
    return version, build


def _channel(root: Path) -> Path:
    records = [r for r in load_kb().conda_forge.records if r.quality == "full" and r.depends]
    packages = [
        Pkg(
            r.name,
            r.version,
            r.subdir or "linux-64",
            depends=r.depends,
            build=r.build,
            extra={
                "build_number": r.build_number or 0,
                **({"track_features": " ".join(r.track_features)} if r.track_features else {}),
            },
        )
        for r in records
    ]
    packages += REBUILT
    names = {p.name for p in packages}
    stubs: dict[tuple[str, str], Pkg] = {}
    for p in list(packages):
        for dep in p.depends:
            name = dep.split()[0]
            if name.startswith("__") or name in names:
                continue
            version, build = _stub_version(dep)
            # python itself: one per line the records ask for.
            stubs[(name, version)] = Pkg(name, version, "linux-64", build=build)
    # What the stubs cannot guess: the Pythons, their ABI markers, CUDA behind __cuda.
    special = {
        "python": [
            Pkg("python", "3.10.14", "linux-64", depends=("__glibc >=2.17",)),
            Pkg("python", "3.11.9", "linux-64", depends=("__glibc >=2.17",)),
        ],
        "python_abi": [
            Pkg("python_abi", "3.10", "linux-64", build="4_cp310"),
            Pkg("python_abi", "3.11", "linux-64", build="4_cp311"),
        ],
        "cudatoolkit": [Pkg("cudatoolkit", "11.2.2", "linux-64", depends=("__cuda >=11.2",))],
        "cudnn": [Pkg("cudnn", "8.4.1.50", "linux-64", depends=("cudatoolkit >=11.2,<12",))],
    }
    plain = [p for (name, _), p in sorted(stubs.items()) if name not in special]
    return build_channel(root, [*packages, *plain, *(p for ps in special.values() for p in ps)])


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("rattler")
    return _channel(tmp_path_factory.mktemp("conda-forge"))


def _envgen(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envgen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _conda_rows(path: Path) -> dict[str, tuple[str, str]]:
    with warnings.catch_warnings():
        # conda-lock's vendored conda warns about its own deprecated APIs on import.
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        from conda_lock.lockfile import parse_conda_lock_file

        parsed = parse_conda_lock_file(path)
    rows = {p.name: (p.version, p.url.rsplit("/", 1)[-1]) for p in parsed.package}
    assert all(p.manager == "conda" for p in parsed.package)  # no PyPI package mixed in
    return rows


@pytest.mark.parametrize(
    ("profile", "extra", "variant", "expected"),
    [
        pytest.param(
            WESTMERE,
            ("--python", "3.10", "--tensorflow", "2.10"),
            "cpu",
            {
                "tensorflow": "tensorflow-2.10.0-cpu_py310hd1aba9c_0.tar.bz2",
                "tensorflow-base": "tensorflow-base-2.10.0-cpu_py310hc537a0e_0.tar.bz2",
                "tensorflow-estimator": "tensorflow-estimator-2.10.0-cpu_py310had6d012_0.tar.bz2",
            },
            id="real-2.10.0-cpu-py310",
        ),
        pytest.param(
            WESTMERE_GPU,
            ("--python", "3.10", "--tensorflow", "2.10"),
            "cuda11",
            {
                "tensorflow": "tensorflow-2.10.0-cuda112py310he87a039_0.tar.bz2",
                "tensorflow-base": "tensorflow-base-2.10.0-cuda112py310hf679b68_0.tar.bz2",
                "cudatoolkit": "cudatoolkit-11.2.2-0.tar.bz2",
                "cudnn": "cudnn-8.4.1.50-0.tar.bz2",
            },
            id="real-2.10.0-cuda112-py310",
        ),
        pytest.param(
            WESTMERE,
            (),
            "cpu",
            {"tensorflow": f"tensorflow-2.19.1-cpu_py311{INVENTED}_3.tar.bz2"},
            id="rebuilt-2.19.1-cpu-py311",
        ),
    ],
)
def test_envgen_lock_pins_conda_forges_build(  # noqa: PLR0917 -- pytest's parameters
    channel: Path,
    tmp_path: Path,
    profile: Path,
    extra: tuple[str, ...],
    variant: str,
    expected: dict[str, str],
) -> None:
    done = _envgen(
        "lock",
        "--profile",
        str(profile),
        "--channel",
        "conda",
        "--platform",
        "linux-64",
        "--conda-channel",
        channel.as_uri(),
        "--output-dir",
        "locks",
        *extra,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    locks = tmp_path / "locks"
    # A plan without pip packages has no pip lock: no PyPI TensorFlow beside conda-forge's.
    assert not list(locks.glob("requirements.*")), sorted(p.name for p in locks.iterdir())
    rows = _conda_rows(locks / f"conda-lock.{variant}.yml")
    for name, file in expected.items():
        assert rows[name][1] == file, (name, rows[name])
    index = (locks / "envgen-lock.toml").read_text()
    # The index records the family build's CPU needs: conda-forge's nocona (SSE3), not AVX.
    assert 'cpu-features = ["pni"]' in index
    assert "conda-forge" in index
    # And the lock set is current, checked as CI checks it.
    again = _envgen(
        "lock", "--profile", str(profile), "--channel", "conda", "--platform", "linux-64",
        "--conda-channel", channel.as_uri(), "--output-dir", "locks", "--check", *extra,
        cwd=tmp_path,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def served(channel: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(channel))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_kb_update_reads_a_channels_repodata_over_http(served: str, tmp_path: Path) -> None:
    done = _envgen(
        "kb", "update", "--family", "conda-forge", "--conda-channel", served, "--json",
        cwd=tmp_path, env={"XDG_CACHE_HOME": str(tmp_path / "cache")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    result = payload["conda-forge"]
    # The real 2.10.0 records are known; the rebuilt 2.19.1 ones are what the channel adds,
    # and they confirm the feedstock's 2.19.1 build 3 variant.
    assert sorted(result["added"]) == sorted(f"linux-64/{p.name}-2.19.1-{p.build}" for p in REBUILT)
    assert "2.19.1 cpu_py{py}h*_3 linux-64" in result["confirmed"]
    assert result["unknown"] == []
    assert not payload["written"]


def test_kb_update_without_a_channel_is_exit_5(tmp_path: Path) -> None:
    done = _envgen(
        "kb", "update", "--family", "conda-forge", "--conda-channel", "http://127.0.0.1:9/",
        cwd=tmp_path, env={"XDG_CACHE_HOME": str(tmp_path / "cache")},
    )  # fmt: skip
    assert done.returncode == 5, done.stdout + done.stderr
    assert done.stderr.startswith("envgen: error: py-rattler could not read the conda channel")
