"""The knowledge of Keras 3's other backends: keras-backends.toml, JAX's and PyTorch's tables.

Loaders, invariants across the files (every CUDA a build names has a driver row, every PyPI CUDA
wheel has a build row, Keras' minimums exist), the generated release tables in canonical form
and re-derived from recorded PyPI answers (tests/data/pypi: the simple index of jax, jaxlib, the
CUDA plugins and torch for four releases, with their wheels' METADATA), and spot facts from the
research notes (wheel METADATA, build scripts, jax's .bazelrc and changelog).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from envgen.errors import KnowledgeBaseError
from envgen.kb import KnowledgeBase, data_text, load_kb, load_toml, pypi
from envgen.kb.derive_frameworks import built_cuda
from envgen.kb.jax import JaxRelease, JaxTable
from envgen.kb.keras_backends import KERAS_BACKENDS
from envgen.kb.pytorch import TorchRelease, TorchTable
from envgen.kb.update import render_rows
from envgen.kb.update_frameworks import JAX_HEADER, TORCH_HEADER, update_jax, update_torch


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb()


@pytest.fixture(scope="module")
def jax(kb: KnowledgeBase) -> JaxTable:
    return kb.jax


@pytest.fixture(scope="module")
def torch(kb: KnowledgeBase) -> TorchTable:
    return kb.torch


# --- invariants --------------------------------------------------------------------------------


def test_every_keras_backend_has_a_row_and_its_minimum_exists(kb: KnowledgeBase) -> None:
    table = kb.keras_backends
    assert tuple(b.name for b in table.backends) == KERAS_BACKENDS
    assert kb.jax.release(table.get("jax").minimum) is not None
    assert kb.torch.release(table.get("torch").minimum) is not None
    assert kb.tensorflow.release(table.get("tensorflow").minimum) is not None
    # Keras lines: oldest first, each floor at least the last.
    floors = [line.requires_python for line in table.lines]
    assert [str(f) for f in floors] == [">=3.9", ">=3.10", ">=3.11"]


def test_keras_line_for_a_python(kb: KnowledgeBase) -> None:
    table = kb.keras_backends
    assert table.newest_line("3.8") is None
    line = table.newest_line("3.10")
    assert line is not None
    assert str(line.since) == "3.11.0"
    line = table.newest_line("3.12")
    assert line is not None
    assert str(line.since) == "3.13.0"


def test_every_cuda_a_build_names_has_a_driver_row(kb: KnowledgeBase) -> None:
    cudas = {c.cuda for line in kb.jax.lines for c in line.cuda}
    cudas |= {v.cuda for v in kb.torch.variants}
    known = {t.cuda for t in kb.drivers.toolkits}
    assert cudas - known == set()
    majors = {int(c.split(".")[0]) for c in cudas}
    assert majors <= {row.major for row in kb.drivers.minor_compat}


def test_every_pypi_cuda_wheel_has_its_build_row(torch: TorchTable) -> None:
    for release in torch.releases:
        for platform, wheel in release.wheels.items():
            if wheel.cuda is not None:
                assert torch.pypi_variant(release, platform) is not None, (
                    release.version,
                    platform,
                )


def test_pypi_rows_read_from_wheels_agree_with_the_build_rows(torch: TorchTable) -> None:
    # A row marked pypi-wheel is the CUDA some PyPI wheel of its minor really has.
    for v in torch.variants:
        if v.evidence != "pypi-wheel":
            continue
        wheels = [r.wheel(p) for r in torch.releases if r.minor == v.minor for p in v.platforms]
        assert any(w is not None and w.cuda == v.cuda for w in wheels), (v.minor, v.tag)


def test_jax_plugins_exist_only_where_the_line_builds_that_cuda(jax: JaxTable) -> None:
    for release in jax.releases:
        for plugin in release.plugins.values():
            assert release.line.build(plugin.major) is not None
            assert plugin.platform in release.line.gpu_platforms
            assert plugin.package == f"jax-cuda{plugin.major}-plugin"


def test_releases_sorted_and_start_at_keras_minimums(jax: JaxTable, torch: TorchTable) -> None:
    for releases in (jax.releases, torch.releases):
        versions = [r.version for r in releases]
        assert versions == sorted(set(versions))
    assert str(jax.releases[0].version) == "0.4.20"
    assert str(torch.releases[0].version) == "2.0.0"


def test_a_plugin_key_for_a_cuda_the_line_lacks_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from envgen import kb as kb_package
    from envgen.kb import jax as jax_kb

    doc = load_toml(jax_kb.RELEASES_FILE)
    bad = {**doc, "release": [dict(r) for r in doc["release"]]}
    first = bad["release"][0]  # 0.4.20: a line without CUDA builds
    first["cuda12-linux-x86_64"] = {"package": "jax-cuda12-plugin", "python": ["3.11"]}
    real = kb_package.load_toml

    def fake(name: str) -> dict[str, Any]:
        return bad if name == jax_kb.RELEASES_FILE else real(name)

    monkeypatch.setattr(jax_kb, "load_toml", fake)
    with pytest.raises(KnowledgeBaseError, match=r"release\[0\]\.cuda12-linux-x86_64: its line"):
        jax_kb.load_jax()


# --- generated tables: canonical, and re-derived from PyPI --------------------------------------


@pytest.mark.parametrize(
    ("file", "header", "row"),
    [
        ("jax-releases.toml", JAX_HEADER, JaxRelease),
        ("torch-releases.toml", TORCH_HEADER, TorchRelease),
    ],
)
def test_packaged_release_file_is_canonical(file: str, header: str, row: type) -> None:
    text = data_text(file)
    assert render_rows(tomllib.loads(text)["release"], header=header, row=row) == text


def _recorded(data_dir: Path) -> pypi.PyPI:
    root = data_dir / "pypi"

    def fetch(url: str, headers: Mapping[str, str]) -> bytes:
        if url.startswith("https://pypi.org/simple/"):
            assert headers.get("Accept") == pypi.SIMPLE_ACCEPT
            path = root / "simple" / f"{url.rstrip('/').rsplit('/', 1)[1]}.json"
            if path.exists():
                return path.read_bytes()
        elif url.endswith(".metadata"):
            path = root / "metadata" / url.rsplit("/", 1)[1]
            if path.exists():
                return path.read_bytes()
        raise pypi.ResourceNotFoundError(url)

    return pypi.PyPI(fetch)


@pytest.mark.parametrize(
    ("update", "recorded"),
    [(update_jax, ("0.7.0", "0.12.0.1")), (update_torch, ("2.7.1", "2.11.0"))],
)
def test_update_rederives_the_packaged_rows(
    data_dir: Path, update: object, recorded: tuple[str, ...]
) -> None:
    assert callable(update)
    result = update(_recorded(data_dir))
    derived = {r["version"]: r for r in tomllib.loads(result.new_text)["release"]}
    packaged = {r["version"]: r for r in tomllib.loads(result.old_text)["release"]}
    assert sorted(derived, key=Version) == list(recorded)
    for version in recorded:
        assert derived[version] == packaged[version], version
    assert not result.written
    # Deterministic: the same answers give the same bytes.
    assert update(_recorded(data_dir)).new_text == result.new_text


def test_built_cuda_reads_the_runtime_pin_for_the_platform(data_dir: Path) -> None:
    # Verbatim Requires-Dist of torch 2.7.1 (x86_64 cu126) and 2.11.0 (cuda-toolkit 13.0).
    def requires(name: str) -> list[str]:
        text = (data_dir / "pypi" / "metadata" / name).read_text(encoding="utf-8")
        return [
            ln.split(":", 1)[1].strip()
            for ln in text.splitlines()
            if ln.startswith("Requires-Dist:")
        ]

    runtime = load_kb().torch.index.runtime_packages
    linux = {"platform_system": "Linux", "sys_platform": "linux", "python_version": "3.13"}
    old = requires("torch-2.7.1-cp313-cp313t-manylinux_2_28_x86_64.whl.metadata")
    assert built_cuda(old, runtime, {**linux, "platform_machine": "x86_64"}) == "12.6"
    assert built_cuda(old, runtime, {**linux, "platform_machine": "aarch64"}) is None
    new = requires("torch-2.11.0-cp314-cp314t-manylinux_2_28_aarch64.whl.metadata")
    assert built_cuda(new, runtime, {**linux, "platform_machine": "aarch64"}) == "13.0"
    windows = {"platform_system": "Windows", "sys_platform": "win32", "platform_machine": "AMD64"}
    assert built_cuda(new, runtime, {**windows, "python_version": "3.13"}) is None


# --- spot facts ----------------------------------------------------------------------------------


def test_jax_0_7_0_declares_cuda13_without_a_plugin(jax: JaxTable) -> None:
    # The cuda13 extra appeared in 0.7.0; the first jax-cuda13-plugin on PyPI is 0.7.2.
    release = jax.release("0.7.0")
    assert release is not None
    assert "cuda13" in release.extras
    assert release.plugin("13", "linux-x86_64") is None
    newest = jax.release("0.7.2")
    assert newest is not None
    assert newest.plugin("13", "linux-x86_64") is not None


def test_jax_cuda13_starts_at_turing_cuda12_keeps_maxwell(jax: JaxTable) -> None:
    line = jax.releases[-1].line
    cuda12, cuda13 = line.build("12"), line.build("13")
    assert cuda12 is not None
    assert cuda13 is not None
    assert str(cuda12.min_compute_capability) == "5.0"
    assert str(cuda13.min_compute_capability) == "7.5"
    assert "12.0" in cuda12.ptx


def test_torch_pypi_cuda_per_release(torch: TorchTable) -> None:
    def cuda(version: str, platform: str = "linux-x86_64") -> str | None:
        release = torch.release(version)
        assert release is not None
        wheel = release.wheel(platform)
        assert wheel is not None
        return wheel.cuda

    assert cuda("2.0.1") == "11.7"
    assert cuda("2.7.1") == "12.6"
    assert cuda("2.8.0") == "12.8"
    assert cuda("2.11.0") == "13.0"
    assert cuda("2.15.0") == "13.2"
    assert cuda("2.10.0", "linux-aarch64") is None  # CPU up to 2.10
    assert cuda("2.11.0", "linux-aarch64") == "13.0"
    assert cuda("2.15.0", "windows-x86_64") is None


def test_torch_builds_of_a_release(torch: TorchTable) -> None:
    release = torch.release("2.14.1")
    assert release is not None
    builds = torch.gpu_builds(release, "linux-x86_64")
    assert [b.pin for b in builds] == ["2.14.1", "2.14.1+cu132", "2.14.1+cu126"]
    assert builds[0].on_pypi
    assert builds[1].index == "https://download.pytorch.org/whl/cu132"
    cpu = torch.cpu_build(release, "linux-x86_64")
    assert cpu is not None
    assert (cpu.pin, cpu.index) == ("2.14.1+cpu", "https://download.pytorch.org/whl/cpu")
    mac = torch.cpu_build(release, "macos-arm64")
    assert mac is not None
    assert (mac.on_pypi, mac.pin) == (True, "2.14.1")


def test_pascal_is_gone_from_the_default_build_from_2_8(torch: TorchTable) -> None:
    # uv#14742: cu128 builds have no sm_61; PyPI's 2.8 wheel is cu128 (release notes).
    for version, pascal in (("2.7.1", True), ("2.8.0", False), ("2.11.0", False)):
        release = torch.release(version)
        assert release is not None
        variant = torch.pypi_variant(release, "linux-x86_64")
        assert variant is not None
        assert ("6.0" in variant.sass) is pascal, version


@given(
    st.lists(st.text(max_size=80), max_size=8),
    st.dictionaries(st.text(max_size=12), st.text(max_size=12)),
)
def test_built_cuda_reads_any_requires_dist_without_raising(
    lines: list[str], env: dict[str, str]
) -> None:
    # Requires-Dist lines are a wheel's own text: any of them, with any marker values.
    runtime = ("cuda-toolkit", "nvidia-cuda-runtime-cu12")
    found = built_cuda(lines, runtime, env)
    assert found is None or found.count(".") == 1
    # A marker comparing a version with a value that is none.
    marked = ['nvidia-cuda-runtime-cu12==12.1.105; python_version < "3.15"', *lines]
    odd = built_cuda(marked, runtime, {**env, "python_version": "not-a-version"})
    assert odd is None or odd.count(".") == 1


@given(st.text(max_size=200))
def test_cuda_extras_of_any_metadata(text: str) -> None:
    from envgen.kb.derive import parse_metadata
    from envgen.kb.derive_frameworks import _cuda_extras

    extras = _cuda_extras(parse_metadata(text))
    assert all(e.startswith("cuda") and e[4:].isdigit() for e in extras)
