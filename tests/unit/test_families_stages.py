"""Builds of other families through the stages after the plan: the option and its twins, render,
the lock index, verify's CPU check, and `envgen kb update --family conda-forge`.

Plans come from the real resolver on issue 18's profiles (test_scenarios_families.py holds the
expectations and their sources); the channel the update reads is fed by records copied from
conda-forge-records.toml (the integration tests read a real channel over HTTP)."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envgen.errors import InputFileError, UsageError
from envgen.kb import load_kb
from envgen.kb.conda_forge import RECORDS, Record
from envgen.kb.update_conda_forge import ChannelRecord, render_record, update_conda_forge
from envgen.lock.index import LockIndex, parse_index, render_index
from envgen.lock.make import _cpu_features, _needs, request_record
from envgen.mirrors import MirrorChoice
from envgen.options import resolve as options
from envgen.plan import Request
from envgen.render import RenderOptions, render
from envgen.verify.checks import check_build_cpu
from envgen.verify.expect import Expectation, from_lock, from_plan
from tests.reference_plans import community_win7_gpu, conda_forge_noavx_gpu

KB = load_kb()


# --- the option ------------------------------------------------------------------------------


def test_the_flag_has_its_variable_and_config_twins() -> None:
    assert options("plan", {"allow_community_builds": True}, {}).allow_community_builds is True
    env = options("plan", {}, {"ENVGEN_ALLOW_COMMUNITY_BUILDS": "1"})
    assert env.allow_community_builds is True
    assert env.source("allow_community_builds").label == "ENVGEN_ALLOW_COMMUNITY_BUILDS"
    labels = {"allow-community-builds": "pyproject.toml: tool.envgen.allow-community-builds"}
    cfg = options("plan", {}, {}, {"allow-community-builds": True}, labels)
    assert cfg.allow_community_builds is True
    assert options("plan", {}, {}).allow_community_builds is False


def test_bad_values_name_their_source() -> None:
    with pytest.raises(UsageError, match="ENVGEN_ALLOW_COMMUNITY_BUILDS: 'maybe' is not a boolean"):
        options("plan", {}, {"ENVGEN_ALLOW_COMMUNITY_BUILDS": "maybe"})
    from envgen.config import parse

    text = '[tool.envgen]\nallow-community-builds = "yes"\n'
    with pytest.raises(InputFileError, match=r"tool\.envgen\.allow-community-builds: expected"):
        parse(text, Path("pyproject.toml"))


# --- render --------------------------------------------------------------------------------------


def _texts(plan_name: str) -> dict[str, str]:
    plan = community_win7_gpu() if plan_name == "community" else conda_forge_noavx_gpu()
    choice = MirrorChoice(KB.mirrors.get("pypi"))
    formats = ("environment.yml", "requirements.txt", "Dockerfile")
    return {f.name: f.text for f in render(plan, RenderOptions(choice, formats=formats)).files}


def test_conda_forge_tensorflow_is_a_conda_dependency_with_no_pypi_tensorflow() -> None:
    texts = _texts("conda-forge")
    env = texts["environment.yml"]
    assert '  - "tensorflow=2.19.1=cuda128py311h*_203"\n' in env
    assert "pip:" not in env  # no PyPI TensorFlow mixed in
    assert "tensorflow" not in texts["requirements.txt"].split("not by pip:")[0].split("\n", 4)[-1]
    # A GPU-less image build solves the CUDA build through the virtual package's override.
    assert "ENV CONDA_OVERRIDE_CUDA=12.8\n" in texts["Dockerfile"]


def test_a_community_wheel_is_marked_third_party_in_every_file() -> None:
    texts = _texts("community")
    assert "Dockerfile" not in texts  # containers run Linux
    for name in ("environment.yml", "requirements.txt"):
        assert "THIRD-PARTY: community Windows wheels of fo40225" in texts[name], name
    assert "\ntensorflow-gpu@https://github.com/fo40225/" in texts["requirements.txt"]


# --- the lock index ------------------------------------------------------------------------------


def test_the_lock_index_records_the_family_builds_needs() -> None:
    forge = conda_forge_noavx_gpu()
    # conda-forge's nocona build needs SSE3 only, not PyPI 2.19.1's AVX.
    assert _cpu_features(forge, KB) == ("pni",)
    cc, drivers = _needs(forge, "linux", KB)
    assert cc == "6.0"
    # NVIDIA's CUDA 12.x minor-version compatibility floors (cuda-drivers.toml).
    assert drivers == {"linux": "525.60.13", "wsl": "527.41"}
    community = community_win7_gpu()
    assert _cpu_features(community, KB) == ()
    assert _needs(community, "windows", KB) == ("3.0", {"windows": "418.96"})


def test_the_flag_round_trips_through_the_index() -> None:
    request = Request(allow_community_builds=True)
    recorded = request_record(request, ["gpu"])
    assert recorded["allow-community-builds"] is True
    assert "allow-community-builds" not in request_record(Request(), ["gpu"])
    index = LockIndex(
        envgen_version="0",
        kb_version="k",
        input_hash="h",
        request=recorded,
        platforms=("win-64",),
        variants=(),
        files=(),
    )
    back = parse_index(render_index(index, ["header"]))
    from envgen.lock.fresh import team_request

    assert team_request(back).allow_community_builds is True


# --- verify -----------------------------------------------------------------------------------


def test_verify_checks_the_cpu_has_the_community_builds_simd() -> None:
    expect = from_plan(community_win7_gpu())
    assert expect.build_cpu == ()  # sse2: nothing beyond x86-64
    assert check_build_cpu(expect, ("sse2", "sse4_2"), KB).ok
    avx2 = dataclasses.replace(expect, build_cpu=("avx", "avx2"), build_label="fo40225 avx2")
    # fo40225/tensorflow-windows-wheel#48: an avx2 build on a CPU with AVX only.
    failed = check_build_cpu(avx2, ("avx", "sse4_2"), KB)
    assert not failed.ok
    assert "lacks AVX2, which fo40225 avx2 was compiled for" in failed.detail


def test_a_pypi_plan_gets_no_extra_cpu_check() -> None:
    assert Expectation("plan").build_cpu is None
    from tests.reference_plans import cpu_linux

    assert from_plan(cpu_linux()).build_cpu is None


def test_a_lock_that_installs_a_community_wheel_names_its_build(tmp_path: Path) -> None:
    row = next(w for w in KB.community.wheels if w.folder.endswith("py37\\CPU\\avx2"))
    wheel = row.wheel_file()
    assert wheel is not None
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"{row.install_name} @ {wheel.url} \\\n    --hash=sha256:{'0' * 64}\n")
    expect = from_lock(lock)
    assert expect.build_cpu == ("avx", "avx2")
    assert row.folder in (expect.build_label or "")


# --- kb update --family conda-forge ---------------------------------------------------------------


def _channel(*extra: ChannelRecord) -> list[ChannelRecord]:
    """What a channel of the known full records (copied from the records table) answers."""
    known = [
        ChannelRecord(r.name, r.version, r.build, r.build_number or 0, r.subdir or "linux-64",
                      r.depends, r.track_features, r.md5 or "", r.url or "", r.timestamp or "")
        for r in KB.conda_forge.records
        if r.quality == "full"
    ]  # fmt: skip
    return [*known, *extra]


def test_kb_update_shows_only_what_the_channel_adds() -> None:
    same = update_conda_forge(KB, "https://conda.example/conda-forge", read=lambda *_: _channel())
    assert same.added == ()
    assert not same.result.changed
    new = ChannelRecord(
        "tensorflow", "2.19.1", "cpu_py311h1234567_3", 3, "linux-64",
        ("python >=3.11,<3.12.0a0",),
    )  # fmt: skip
    later = ChannelRecord("tensorflow", "2.20.0", "cpu_py312h89abcde_0", 0, "linux-64")
    found = update_conda_forge(KB, "https://conda.example/cf", read=lambda *_: _channel(new, later))
    assert [r.build for r in found.added] == ["cpu_py311h1234567_3", "cpu_py312h89abcde_0"]
    assert '+build = "cpu_py311h1234567_3"\n' in found.result.diff
    assert '+quality = "repodata"\n' in found.result.diff
    assert found.confirmed == ("2.19.1 cpu_py{py}h*_3 linux-64",)
    assert found.unknown == ("2.20.0 build 0 (linux-64)",)
    assert not found.result.written
    # The rows it would write read back through the loader.
    rows = RECORDS.open(tomllib.loads(found.result.new_text)).rows(Record)
    assert (rows[-1].build, rows[-1].quality) == ("cpu_py312h89abcde_0", "repodata")


@settings(max_examples=100, deadline=None, database=None)
@given(
    st.text(max_size=40),
    st.lists(st.text(max_size=30), max_size=4),
    st.integers(0, 10_000),
)
def test_a_channels_record_is_written_as_toml_whatever_it_holds(
    text: str, depends: list[str], number: int
) -> None:
    """A repodata record is outside input: its values reach a TOML file, each one line."""
    record = ChannelRecord("tensorflow", text or "2", f"{text}_{number}", number, "linux-64",
                           tuple(depends), md5=text, url=text)  # fmt: skip
    row = render_record(record, "https://conda.example/<subdir>/repodata.json")
    back = tomllib.loads(row)["record"][0]
    assert (back["build"], back.get("depends", []), back.get("md5", "")) == (
        record.build,
        list(depends),
        text,
    )
    assert back.get("build-number") == number
    assert row.count("\n") == row.strip("\n").count("\n") + 2  # one line per key
