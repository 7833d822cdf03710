"""Invariants of the candidate families' tables: conda-forge's TensorFlow builds and records
(conda-forge-tensorflow.toml, conda-forge-records.toml), the community wheels
(community-builds.toml) and families.toml.

The expected numbers are the feedstock's and the fo40225 README's, as read from them (issue 18's
research): 39 (version, base build) states of the feedstock's main branch, 118 README rows and 27
folders the README does not list."""

from __future__ import annotations

import dataclasses

import pytest
from packaging.version import Version

from envgen.errors import KnowledgeBaseError
from envgen.kb import KnowledgeBase, load_kb
from envgen.kb.conda_forge import PROOF, CondaForgeTable
from envgen.kb.families import check_families
from envgen.versions import DottedVersion, major_minor, parse_dotted

REPO_RAW = (
    "https://github.com/fo40225/tensorflow-windows-wheel/raw/"
    "8b3704bd783f7964951b85ec5f635436e4a916ad/"
)


def test_row_counts_match_the_sources() -> None:
    kb = load_kb()
    assert len(kb.conda_forge.builds) == 39
    assert len({b.version for b in kb.conda_forge.builds}) == 22
    assert sum(len(b.variants) for b in kb.conda_forge.builds) == 199
    assert len(kb.community.wheels) == 118
    assert len(kb.community.folders) == 27


def test_conda_forge_cuda_lines_are_the_feedstocks() -> None:
    """The discrepancies the research found in conda.toml's former ranges, now read from the
    feedstock's variants (each a `.ci_support` file at the build's commit)."""
    forge = load_kb().conda_forge
    assert forge.cuda_lines("2.13") == ("11.2", "11.8")
    assert forge.cuda_lines("2.14") == ("11.8",)
    # 2.15.0 builds 0 and 1 named cuda118/cuda120 were compiled without CUDA (feedstock#365).
    assert forge.cuda_lines("2.15") == ("12.0",)
    assert forge.cuda_lines("2.18") == ("12.6", "12.8")
    assert forge.cuda_lines("2.19") == ("12.8", "12.9")
    assert forge.cuda_lines("2.9") == ("10.2", "11.0", "11.1", "11.2")
    assert forge.cuda_lines("2.10") == ("11.2",)


def test_only_2_15_0_builds_0_and_1_were_built_without_cuda() -> None:
    forge = load_kb().conda_forge
    without = sorted(
        (str(b.version), b.build_number_base, v.cuda)
        for b in forge.builds
        for v in b.variants
        if v.cuda is not None and not v.built_with_cuda
    )
    assert without == [
        ("2.15.0", 0, "11.8"),
        ("2.15.0", 0, "12.0"),
        ("2.15.0", 1, "11.8"),
        ("2.15.0", 1, "12.0"),
    ]


def test_build_numbers_follow_the_recipe() -> None:
    """PKG_BUILDNUM: the base, +200 for CUDA from 2.17.0 build 1 (meta.yaml jinja), +50 for the
    x86-64-v3 twin (25 per level above 1, 2.18.0 on)."""
    for build in load_kb().conda_forge.builds:
        offset_from = (build.version, build.build_number_base) >= (Version("2.17.0"), 1)
        for v in build.variants:
            expected = build.build_number_base
            expected += 200 if v.cuda is not None and offset_from else 0
            expected += 25 * ((v.microarch_level or 1) - 1)
            assert v.build_number == expected, (build.version, build.build_number_base, v.tag)


def test_baselines_and_cpu_features_agree() -> None:
    kb = load_kb()
    v3 = {f for level, flags in kb.cpu.levels if level in (2, 3) for f in flags}
    for build in kb.conda_forge.builds:
        for v in build.variants:
            assert set(v.cpu_features) <= kb.cpu.relevant, v.source
            if v.baseline == "-march=nocona":
                assert v.cpu_features == ("pni",), v.source  # SSE3 at most: no AVX
            elif v.baseline == "-march=x86-64-v3":
                assert set(v.cpu_features) == v3  # x86-64-v3: the v2 and v3 flag sets
                assert v.microarch_level == 3
            elif v.platform == "osx-64":
                assert v.cpu_features == ("pni", "ssse3")
            else:
                assert not v.x86_64
                assert v.cpu_features == ()
            if v.platform == "linux-64" and build.version < Version("2.18"):
                assert "avx" not in v.cpu_features  # every linux-64 build before 2.18: nocona


def test_gpu_variants_name_their_architectures_and_drivers() -> None:
    kb = load_kb()
    for build in kb.conda_forge.builds:
        for v in build.variants:
            if v.cuda is None:
                continue
            assert v.platform == "linux-64"
            assert v.min_compute_capability == min((*v.sass, *v.ptx), key=DottedVersion)
            assert kb.drivers.toolkit_minimum(v.cuda, "linux") is not None, v.cuda
            assert kb.conda.specs_for(v.cuda) is not None, v.cuda


def test_records_of_the_channel_match_a_build() -> None:
    """Every record that proves an upload names a build of the table (version and build-string
    pattern), so the table's `published` is grounded in them."""
    forge = load_kb().conda_forge
    matched = {
        (r.name, r.build) for b in forge.builds for v in b.variants for r in forge.records_of(b, v)
    }
    proof = [r for r in forge.records if r.quality in PROOF and r.name.startswith("tensorflow")]
    assert proof
    assert [r.build for r in proof if (r.name, r.build) not in matched] == []
    full = [r for r in forge.records if r.quality == "full"]
    for r in full:
        assert r.subdir
        assert r.md5
        assert r.url
        assert r.build_number is not None
        assert r.url.endswith(f"/{r.subdir}/{r.name}-{r.version}-{r.build}.tar.bz2")


def test_the_observed_2_10_0_records_are_complete() -> None:
    """The best real record set: tensorflow 2.10.0 CPU and CUDA 11.2 for Python 3.10."""
    forge = load_kb().conda_forge
    cpu = next(r for r in forge.records if r.build == "cpu_py310hd1aba9c_0")
    assert "tensorflow-base 2.10.0 cpu_py310hc537a0e_0" in cpu.depends
    gpu = next(r for r in forge.records if r.build == "cuda112py310hf679b68_0")
    assert "cudatoolkit >=11.2,<12" in gpu.depends
    assert "cudnn >=8.4.1.50,<9.0a0" in gpu.depends


def test_community_rows() -> None:
    kb = load_kb()
    for w in kb.community.wheels:
        assert all(f.url.startswith(REPO_RAW) for f in w.files), w.folder
        assert set(w.cpu_features) <= kb.cpu.relevant
        assert ("avx" in w.cpu_features) == (w.simd != "x86_64"), w.folder
        if w.gpu:
            assert w.cuda is not None
            assert w.min_compute_capability is not None
            assert kb.drivers.toolkit_minimum(major_minor(w.cuda), "windows") is not None
            assert w.min_compute_capability == min((*w.sass, *w.ptx), key=DottedVersion)
        wheel = w.wheel_file()
        volumes = [f for f in w.files if f.format == "7z-volume"]
        assert (wheel is None) == bool(volumes), w.folder
    installable = [w for w in kb.community.wheels if w.wheel_file() is not None]
    assert len(installable) == 90


def test_the_issues_gtx_650_row() -> None:
    """issue 18: `1.14.0\\py37\\GPU\\cuda101cudnn76sse2` needs CUDA 10.1.168 and cuDNN 7.6.0.64
    and runs on compute capability 3.0 (a GTX 650), without AVX."""
    row = next(
        w for w in load_kb().community.wheels if w.folder == "1.14.0\\py37\\GPU\\cuda101cudnn76sse2"
    )
    assert (row.cuda, row.cudnn, row.min_compute_capability) == ("10.1.168", "7.6.0.64", "3.0")
    assert row.cpu_features == ()
    assert row.python == "3.7"
    wheel = row.wheel_file()
    assert wheel is not None
    assert wheel.name == "tensorflow_gpu-1.14.0-cp37-cp37m-win_amd64.whl"
    assert wheel.git_blob_sha1 == "ef0d1612547b5c9f882347af273bbd8266f1c9f4"
    assert row.install_name == "tensorflow-gpu"


def test_families() -> None:
    families = load_kb().families
    assert families.ids == ("pypi", "conda-forge", "community")
    community = families.get("community")
    assert community.opt_in
    assert community.third_party
    assert community.option == "--allow-community-builds"
    assert not families.get("conda-forge").third_party
    assert families.get("conda-forge").channel == "conda-forge"


def test_python_lists_are_real_pythons() -> None:
    for build in load_kb().conda_forge.builds:
        for v in build.variants:
            assert all(parse_dotted(p)[0] == 3 for p in v.python)


def test_kb_check_refuses_a_build_whose_cuda_no_table_knows() -> None:
    """`envgen kb check` runs what spans the tables (envgen.kb.families.check_families)."""
    kb = KnowledgeBase()
    check_families(kb)
    build = kb.conda_forge.builds[-1]
    # CUDA 12.7 was never released: no driver row.
    bad = dataclasses.replace(build.variants[0], cuda=DottedVersion("12.7"))
    broken = dataclasses.replace(build, variants=(bad, *build.variants[1:]))
    kb.__dict__["conda_forge"] = CondaForgeTable((*kb.conda_forge.builds[:-1], broken), ())
    with pytest.raises(KnowledgeBaseError, match=r"build\[38\]\.variant\[0\].*CUDA 12\.7") as exc:
        check_families(kb)
    assert exc.value.exit_code == 7
