"""The TensorFlow knowledge base: schema, invariants, canonical form, the update command, spot facts.

The update command runs here on PyPI answers recorded in `tests/data/pypi/` (the simple index of
each project trimmed to four releases, and the METADATA headers of the wheels it reads).
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import tomllib
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from envgen.errors import KnowledgeBaseError
from envgen.kb import KnowledgeBase, data_text, derive, load_kb, load_toml, pypi, update
from envgen.kb import tensorflow as tf_kb
from envgen.kb.lock_platforms import kb_platforms
from envgen.kb.tensorflow import TensorFlowTable, load_tensorflow
from envgen.versions import parse_dotted

RECORDED = ("1.15.2", "2.13.1", "2.16.1", "2.21.0")


@pytest.fixture(scope="module")
def table() -> TensorFlowTable:
    return load_tensorflow()


# ---------------------------------------------------------------------------------------------
# Schema


def test_loader_accepts_the_packaged_data(table: TensorFlowTable) -> None:
    assert len(table.builds) == 38
    assert load_kb().tensorflow.releases == table.releases


def _broken(
    monkeypatch: pytest.MonkeyPatch, name: str, table: str, *, index: int, key: str, value: Any
) -> None:
    doc = copy.deepcopy(load_toml(name))
    if value is None:
        del doc[table][index][key]
    else:
        doc[table][index][key] = value
    real = load_toml

    def fake(requested: str) -> dict[str, Any]:
        return doc if requested == name else real(requested)

    monkeypatch.setattr(tf_kb, "load_toml", fake)


@pytest.mark.parametrize(
    ("name", "table", "key", "value"),
    [
        ("tensorflow-builds.toml", "build", "cuda", None),
        ("tensorflow-builds.toml", "build", "cuda", "12"),
        ("tensorflow-builds.toml", "build", "sass", ["sm_35"]),
        ("tensorflow-builds.toml", "build", "keras-kind", "keras4"),
        ("tensorflow-builds.toml", "build", "gpu-platforms", ["linux-riscv64"]),
        ("tensorflow-builds.toml", "build", "numpy-cap", "<<2"),
        ("tensorflow-builds.toml", "build", "colour", "blue"),
        ("tensorflow-releases.toml", "release", "version", None),
        ("tensorflow-releases.toml", "release", "version", "2.99.0rc1"),
        ("tensorflow-releases.toml", "release", "numpy", ["scipy>=1"]),
        ("tensorflow-releases.toml", "release", "linux-x86_64", {"package": "tensorflow"}),
        (
            "tensorflow-releases.toml",
            "release",
            "linux-x86_64",
            {"package": "tensorflow", "python": ["3.10", "3.9"]},
        ),
        (
            "tensorflow-releases.toml",
            "release",
            "windows-x86_64",
            {"package": "tensorflow", "python": ["3.5"], "glibc": "2.17"},
        ),
    ],
)
def test_a_bad_row_names_file_row_and_key(
    monkeypatch: pytest.MonkeyPatch, name: str, table: str, key: str, value: Any
) -> None:
    _broken(monkeypatch, name, table, index=3, key=key, value=value)
    with pytest.raises(KnowledgeBaseError) as info:
        load_tensorflow()
    message = str(info.value)
    assert name in message
    assert f"{table}[3]" in message
    assert "\n" not in message
    wanted = "unknown key" if key == "colour" else key
    assert wanted in message


# ---------------------------------------------------------------------------------------------
# Invariants


def test_every_minor_from_1_0_to_2_21_has_one_build_row(table: TensorFlowTable) -> None:
    expected = [f"1.{n}" for n in range(16)] + [f"2.{n}" for n in range(22)]
    assert [b.minor for b in table.builds] == expected


def test_releases_sorted_unique_and_span_1_0_0_to_2_21_0(table: TensorFlowTable) -> None:
    versions = [r.version for r in table.releases]
    assert versions == sorted(set(versions))
    assert versions[0] == Version("1.0.0")
    assert versions[-1] == Version("2.21.0")
    assert not any(v.is_prerelease for v in versions)
    assert {r.minor for r in table.releases} == {b.minor for b in table.builds}


def test_every_build_cuda_has_a_driver_row(table: TensorFlowTable) -> None:
    known = {t.cuda for t in load_kb().drivers.toolkits}
    assert {b.cuda for b in table.builds} <= known


def test_documented_driver_floors_are_exact_nvidia_minimums(table: TensorFlowTable) -> None:
    """A documented floor is a driver release NVIDIA's tables name (Table 3, or the Table 2
    minor-version floor), never a branch: "384" let 384.59 run CUDA 9.0 (issue 14 audit)."""
    drivers = load_kb().drivers
    exact = {t.linux for t in drivers.toolkits} | {m.linux for m in drivers.minor_compat}
    exact_windows = {t.windows for t in drivers.toolkits if t.windows} | {
        m.windows for m in drivers.minor_compat if m.windows
    }
    for b in table.builds:
        if b.driver_linux is not None:
            assert b.driver_linux in exact, (b.minor, b.driver_linux)
            # Not below NVIDIA's own minimum for the build's CUDA (GA and updates only).
            floor = drivers.toolkit_minimum(b.cuda, "linux")
            compat = drivers.minor_compat_minimum(int(b.cuda.split(".")[0]), "linux")
            assert floor is not None
            assert b.driver_linux >= min(x for x in (floor, compat) if x is not None), b.minor
        if b.driver_wsl is not None:
            assert b.driver_wsl in exact_windows, (b.minor, b.driver_wsl)


def test_a_release_candidate_row_is_no_driver_floor() -> None:
    # NVIDIA Table 3 lists CUDA 11.0.1 RC at 450.36.06; the GA (450.51.05) is the floor.
    drivers = load_kb().drivers
    rc = [t for t in drivers.toolkits if t.prerelease]
    assert [t.release for t in rc] == ["11.0.1 RC"]
    assert drivers.toolkit_minimum("11.0", "linux") == "450.51.05"
    assert drivers.toolkit_minimum("11.0", "windows") == "451.48"


def test_python_lists_are_well_formed(table: TensorFlowTable) -> None:
    for release in table.releases:
        assert release.wheels or release.gpu_wheels, release.version
        for wheels in (*release.wheels.values(), *release.gpu_wheels.values()):
            assert wheels.platform in kb_platforms()
            assert wheels.python, (release.version, wheels.platform)
            for python in wheels.python:
                major, minor = parse_dotted(python)
                assert (major, minor) == (2, 7) or (major == 3 and 3 <= minor <= 14), python
            if release.requires_python is not None:
                assert all(f"{p}.0" in release.requires_python for p in wheels.python)


def test_and_cuda_exactly_from_2_14(table: TensorFlowTable) -> None:
    for release in table.releases:
        has = release.and_cuda is not None
        assert has == (release.version >= Version("2.14.0")), release.version


def test_numpy_below_2_up_to_2_17_and_declared_caps_after(table: TensorFlowTable) -> None:
    for release in table.releases:
        wheels = release.wheel("linux-x86_64") or next(iter(release.wheels.values()))
        for python in wheels.python:
            allows_2 = "2.0.0" in release.numpy_effective(python)
            if release.version < Version("2.18"):
                assert not allows_2, (release.version, python)
            else:
                assert release.build.numpy_cap is None
                assert release.numpy_effective(python) == release.numpy_declared(python)


def test_keras3_only_from_2_16(table: TensorFlowTable) -> None:
    for build in table.builds:
        is_keras3 = build.keras.kind == "keras3"
        assert is_keras3 == (parse_dotted(build.minor) >= (2, 16)), build.minor
        assert (build.keras.tf_keras is not None) == is_keras3


def test_min_compute_capability_is_the_lowest_sass(table: TensorFlowTable) -> None:
    for build in table.builds:
        assert build.min_compute_capability is not None, (
            build.minor
        )  # the packaged rows are reviewed
        cc = parse_dotted(build.min_compute_capability)
        assert all(cc <= parse_dotted(s) for s in build.sass), build.minor
        assert build.min_compute_capability == build.sass[0]
        assert parse_dotted(build.ptx[-1]) <= parse_dotted(build.sass[-1])


def test_every_release_has_a_linux_gpu_build(table: TensorFlowTable) -> None:
    for release in table.releases:
        if release.build.gpu_package == "tensorflow":
            assert not release.gpu_wheels, release.version
        assert release.gpu_wheel("linux-x86_64") is not None, release.version
        assert release.gpu_wheel("linux-aarch64") is None  # no official CUDA aarch64 wheels


# ---------------------------------------------------------------------------------------------
# Canonical form and the update command


def test_packaged_release_file_is_canonical() -> None:
    text = data_text(update.FILE)
    assert update.render_releases(tomllib.loads(text)["release"]) == text


def _recorded_fetch(data_dir: Path) -> pypi.Fetch:
    root = data_dir / "pypi"

    def fetch(url: str, headers: Mapping[str, str]) -> bytes:
        if url.startswith("https://pypi.org/simple/"):
            assert headers.get("Accept") == pypi.SIMPLE_ACCEPT
            name = url.rstrip("/").rsplit("/", 1)[1]
            return (root / "simple" / f"{name}.json").read_bytes()
        if url.endswith(".metadata"):
            path = root / "metadata" / url.rsplit("/", 1)[1]
            if path.exists():
                return path.read_bytes()
        raise pypi.ResourceNotFoundError(url)

    return fetch


def test_update_rederives_the_packaged_rows(data_dir: Path) -> None:
    result = update.update_releases(_recorded_fetch(data_dir))
    derived = {r["version"]: r for r in tomllib.loads(result.new_text)["release"]}
    packaged = {r["version"]: r for r in tomllib.loads(result.old_text)["release"]}
    assert sorted(derived, key=Version) == list(RECORDED)
    for version in RECORDED:
        assert derived[version] == packaged[version], version
    assert result.changed  # the recording holds 4 of 100 releases
    assert result.diff.startswith("--- a/envgen/kb/tensorflow-releases.toml")
    assert not result.written
    assert result.skipped == ()


def test_update_is_deterministic(data_dir: Path) -> None:
    first = update.update_releases(_recorded_fetch(data_dir)).new_text
    assert update.update_releases(_recorded_fetch(data_dir)).new_text == first


def test_metadata_falls_back_to_zip_range_reads() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        wheel.writestr("tensorflow/__init__.py", "x = 1\n" * 500)
        wheel.writestr(
            "tensorflow-9.9.9.dist-info/METADATA", "Name: tensorflow\nRequires-Dist: numpy>=2\n"
        )
        wheel.writestr("tensorflow-9.9.9.dist-info/RECORD", "")
    body = buffer.getvalue()
    ranges = []

    def fetch(url: str, headers: Mapping[str, str]) -> bytes:
        assert url.endswith(".whl")
        start, end = headers["Range"].removeprefix("bytes=").split("-")
        ranges.append((int(start), int(end)))
        return body[int(start) : int(end) + 1]

    raw = pypi.zip_member_by_range(
        fetch, "https://x.invalid/w.whl", len(body), ".dist-info/METADATA"
    )
    assert derive.parse_metadata(raw.decode()).requires_dist == ("numpy>=2",)
    assert len(ranges) <= 3  # tail, local header, member: never the whole wheel


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("manylinux_2_17_x86_64.manylinux2014_x86_64", {"linux-x86_64": "2.17"}),
        ("manylinux1_x86_64", {"linux-x86_64": "2.5"}),
        ("manylinux2010_x86_64", {"linux-x86_64": "2.12"}),
        ("manylinux_2_27_aarch64", {"linux-aarch64": "2.27"}),
        ("macosx_10_6_intel", {"macos-x86_64": "10.6"}),
        ("macosx_12_0_arm64", {"macos-arm64": "12.0"}),
        ("win_amd64", {"windows-x86_64": None}),
        ("linux_x86_64", {}),
    ],
)
def test_platform_tags(tag: str, expected: dict[str, str | None]) -> None:
    assert derive.platform_floors(tag, kb_platforms()) == expected


def test_python_tags() -> None:
    assert derive.python_versions("cp310") == {"3.10"}
    assert derive.python_versions("cp27") == {"2.7"}
    assert derive.python_versions("py3") == frozenset()


def test_recorded_data_stays_small(data_dir: Path) -> None:
    total = sum(p.stat().st_size for p in (data_dir / "pypi").rglob("*") if p.is_file())
    assert total < 1_000_000
    for path in (data_dir / "pypi" / "simple").glob("*.json"):
        assert json.loads(path.read_text())["files"]


# ---------------------------------------------------------------------------------------------
# Spot facts from the reference notes (kb-tensorflow.md)


def test_2_21_0_linux_x86_64(table: TensorFlowTable) -> None:
    release = table.release("2.21.0")
    assert release is not None
    wheels = release.wheel("linux-x86_64")
    assert wheels is not None
    assert wheels.python == ("3.10", "3.11", "3.12", "3.13")
    assert wheels.glibc == "2.27"  # manylinux_2_27 (§0 rule 13)
    assert release.gpu_wheel("linux-x86_64") == wheels
    assert release.cuda == "12.5"
    assert release.and_cuda is not None
    assert "nvidia-cudnn-cu12<10.0,>=9.3.0.75" in release.and_cuda


def test_2_15_1_cudnn_8_9(table: TensorFlowTable) -> None:
    release = table.release("2.15.1")
    assert release is not None
    assert (release.cuda, release.cudnn) == ("12.2", "8.9")
    assert release.and_cuda is not None
    assert "nvidia-cudnn-cu12==8.9.4.25" in release.and_cuda
    assert not any(r.startswith("tensorrt") for r in release.and_cuda)  # dropped after 2.15.0


def test_2_10_is_the_last_native_windows_gpu(table: TensorFlowTable) -> None:
    windows_gpu = [b.minor for b in table.builds if b.windows_gpu]
    assert windows_gpu[-1] == "2.10"
    last = table.release("2.10.1")
    assert last is not None
    assert last.gpu_wheel("windows-x86_64") is not None
    nxt = table.release("2.11.0")
    assert nxt is not None
    assert nxt.gpu_wheel("windows-x86_64") is None
    windows = nxt.wheel("windows-x86_64")
    assert windows is not None
    assert (windows.package, windows.shim) == ("tensorflow-intel", True)


def test_1_15_2_gpu_is_tensorflow_gpu(table: TensorFlowTable) -> None:
    release = table.release("1.15.2")
    assert release is not None
    gpu = release.gpu_wheel("linux-x86_64")
    assert gpu is not None
    assert gpu.package == "tensorflow-gpu"
    assert gpu.python == ("3.5", "3.6", "3.7")
    assert (release.cuda, release.cudnn) == ("10.0", "7.4")


def test_2_4_needs_avx2_and_1_5_needs_no_avx(table: TensorFlowTable) -> None:
    assert table.releases_of("2.4")[0].cpu_features == ("avx", "avx2")
    build_1_5 = table.build("1.5")
    assert build_1_5 is not None
    assert build_1_5.cpu_features == ()
    build_1_6 = table.build("1.6")
    assert build_1_6 is not None
    assert build_1_6.cpu_features == ("avx",)


def test_2_17_min_compute_capability_6_0(table: TensorFlowTable) -> None:
    build = table.build("2.17")
    assert build is not None
    assert build.min_compute_capability == "6.0"
    assert "8.9" in build.sass


def test_2_13_1_windows_has_no_python_3_8(table: TensorFlowTable) -> None:
    # The shim has cp38, tensorflow-intel 2.13.1 does not (§1.2): installable = intersection.
    release = table.release("2.13.1")
    assert release is not None
    windows = release.wheel("windows-x86_64")
    assert windows is not None
    assert windows.python == ("3.9", "3.10", "3.11")
    assert not windows.supports_python("3.8")


def test_numpy_markers_of_2_16(table: TensorFlowTable) -> None:
    release = table.release("2.16.1")
    assert release is not None
    assert "1.24.0" in release.numpy_effective("3.11")
    assert "1.24.0" not in release.numpy_effective("3.12")
    assert release.keras.requirement == "keras>=3.0.0"
    assert release.keras.tf_keras == "tf-keras~=2.16.0"


def test_derivation_asks_the_projects_the_distribution_table_names(data_dir: Path) -> None:
    """Shim targets come from tensorflow-distributions.toml, not from code: without them the
    Apple-silicon shim of 2.13.1 is taken for a real `tensorflow` wheel."""
    facts = update.facts()
    rows = derive.derive_releases(pypi.PyPI(_recorded_fetch(data_dir)), facts).rows
    by_version = {r["version"]: r for r in rows}
    assert by_version["2.13.1"]["macos-arm64"]["package"] == "tensorflow-macos"
    assert by_version["2.13.1"]["macos-arm64"]["shim"] is True
    table = facts.distributions
    no_shims = dataclasses.replace(
        table,
        distributions=tuple(d for d in table.distributions if d.role != "shim-target"),
    )
    facts = dataclasses.replace(facts, distributions=no_shims)
    rows = derive.derive_releases(pypi.PyPI(_recorded_fetch(data_dir)), facts).rows
    entry = {r["version"]: r for r in rows}["2.13.1"]["macos-arm64"]
    assert (entry["package"], entry.get("shim")) == ("tensorflow", None)


# ---------------------------------------------------------------------------------------------
# The next release (issue 14 §3): kb update --pre on the recorded 2.22.0rc0 (PyPI, 2026-12-02)


def test_update_leaves_pre_releases_out_without_pre(data_dir: Path) -> None:
    result = update.update_releases(_recorded_fetch(data_dir))
    assert "2.22.0rc0" not in result.new_text
    assert result.builds == ()


def test_update_pre_derives_2_22_rc0_from_pypi(data_dir: Path) -> None:
    result = update.update_releases(_recorded_fetch(data_dir), pre=True)
    rows = {r["version"]: r for r in tomllib.loads(result.new_text)["release"]}
    rc = rows["2.22.0rc0"]
    # Python and platforms from the wheel tags, the glibc floor from manylinux_2_27.
    assert rc["linux-x86_64"] == {
        "package": "tensorflow",
        "python": ["3.10", "3.11", "3.12", "3.13", "3.14"],
        "glibc": "2.27",
    }
    assert rc["linux-aarch64"]["glibc"] == "2.27"
    assert rc["macos-arm64"]["macos"] == "12.0"
    assert rc["requires-python"] == ">=3.10"
    assert "nvidia-cudnn-cu12<10.0,>=9.10.2.21" in rc["and-cuda"]
    # The new minor's build row: CUDA and cuDNN from the and-cuda pins, Keras from
    # Requires-Dist; compute capabilities (and the rest PyPI lacks) unknown, not guessed.
    (build,) = result.builds
    assert build["minor"] == "2.22"
    assert (build["cuda"], build["cudnn"]) == ("12.5", "9.10")
    assert build["keras-kind"] == "keras3"
    assert build["keras"] == "keras-nightly>=3.12.0.dev"
    assert "tf-keras" not in build  # no tf-keras 2.22 on PyPI
    assert "min-compute-capability" not in build
    assert "cpu-features" not in build
    assert set(build["review"]) >= {"min-compute-capability", "sass", "ptx", "cpu-features"}
    assert "+[[build]]" in result.diff
    assert '+version = "2.22.0rc0"' in result.diff


def test_a_glibc_2_26_machine_does_not_get_2_21(data_dir: Path) -> None:
    # The derivation reads the floor from the tag: 2.21.0 manylinux_2_27, 2.20.0 manylinux_2_17.
    rows = {
        r["version"]: r
        for r in tomllib.loads(update.update_releases(_recorded_fetch(data_dir)).new_text)[
            "release"
        ]
    }
    assert rows["2.21.0"]["linux-x86_64"]["glibc"] == "2.27"
    assert rows["2.16.1"]["linux-x86_64"]["glibc"] == "2.17"


def _kb_with(monkeypatch: pytest.MonkeyPatch, result: update.UpdateResult) -> KnowledgeBase:
    """The knowledge base `kb update --pre --write` would leave: the packaged rows, the new
    release rows and the derived build row (read through the same loader)."""
    from envgen.kb import tensorflow as tf_module

    packaged = tomllib.loads(data_text(update.FILE))["release"]
    new = [r for r in tomllib.loads(result.new_text)["release"] if "rc" in r["version"]]
    texts = {
        tf_module.RELEASES_FILE: update.render_releases([*packaged, *new]),
        tf_module.BUILDS_FILE: data_text(tf_module.BUILDS_FILE) + result.builds_text,
    }
    monkeypatch.setattr(tf_module, "load_toml", lambda name: tomllib.loads(texts[name]))
    return KnowledgeBase()


def test_what_kb_update_pre_writes_loads_and_plans_only_on_request(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envgen.detect import load_or_detect
    from envgen.plan import Plan, Request, Target
    from envgen.resolve import NoSolution, resolve

    kb = _kb_with(monkeypatch, update.update_releases(_recorded_fetch(data_dir), pre=True))
    assert [str(r.version) for r in kb.tensorflow.prereleases] == ["2.22.0rc0"]
    assert str(kb.tensorflow.releases[-1].version) == "2.21.0"
    cpu = load_or_detect(str(data_dir / "profiles" / "linux-cpu-py312.toml"), environ={})
    # Nobody gets a release candidate unless they name it (as pip treats pre-releases).
    default = resolve(cpu, kb, Request(target=Target.CPU))
    assert isinstance(default, Plan)
    assert default.tensorflow.version == "2.21.0"
    asked = resolve(cpu, kb, Request(target=Target.CPU, tensorflow="2.22.0rc0", python="3.14"))
    assert isinstance(asked, Plan), getattr(asked, "message", "")
    assert asked.tensorflow.version == "2.22.0rc0"
    pins = {p.name: p.requirement() for p in asked.packages}
    assert pins["keras-nightly"] == "keras-nightly>=3.12.0.dev"
    assert "cpu-build-unknown" in {w.code for w in asked.warnings}
    # The GPU build awaits review: no GPU plan from it, and the refusal says why.
    h100 = load_or_detect(str(data_dir / "profiles" / "issue-example-h100.toml"), environ={})
    gpu = resolve(h100, kb, Request(target=Target.GPU, tensorflow="2.22.0rc0"))
    assert isinstance(gpu, NoSolution)
    assert "awaits review" in gpu.message
