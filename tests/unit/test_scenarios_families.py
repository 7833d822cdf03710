"""Issue 18's proof: machines the official wheels leave behind get a build of another family.

Each scenario names a profile under tests/data/profiles/, a request and the plan the sources call
right, with the source of the expectation (the harness is test_scenarios.py's). Sources:

  FS-<commit>  conda-forge/tensorflow-feedstock at that commit (recipe/meta.yaml, .ci_support/,
               recipe/build.sh or build_common.sh: CC_OPT_FLAGS, the compute capabilities)
  FO           fo40225/tensorflow-windows-wheel README.md @ 8b3704bd (the CUDA/cuDNN column)
  REL-1.6.0    https://github.com/tensorflow/tensorflow/releases/tag/v1.6.0 (AVX from 1.6)
  NV-T3        NVIDIA CUDA toolkit release notes, Table 3 (driver minimums)
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from envgen.detect import load_or_detect
from envgen.kb import KnowledgeBase, load_kb
from envgen.plan import Channel, Plan, Request, Target
from envgen.resolve import NoSolution, resolve, why_not
from tests.unit.test_scenarios import (
    PROFILES,
    Fits,
    NoFit,
    Scenario,
    _check_no_solution,
    _check_plan,
    _family_problems,
)

WIN7 = "windows7-gtx650-noavx-py37-driver425.toml"
WESTMERE = "linux-westmere-x5650-py311.toml"
WESTMERE_GPU = "linux-westmere-gtx1080ti-driver570-py311.toml"
FO_2_0_0_GPU = (
    "https://github.com/fo40225/tensorflow-windows-wheel/raw/"
    "8b3704bd783f7964951b85ec5f635436e4a916ad/2.0.0/py37/GPU/cuda101cudnn76sse2/"
    "tensorflow_gpu-2.0.0-cp37-cp37m-win_amd64.whl"
)

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "win7-gtx650-py37-community-gpu",
        WIN7,
        Fits(
            target="gpu",
            name="tensorflow-gpu",
            version="2.0.0",
            python="3.7",
            cuda="10.1.243",
            cudnn="7.6.4.38",
            channel="system",
            family="community",
            platform="windows-x86_64",
            warnings=("third-party", "system-cuda"),
        ),
        "issue 18: the community GPU build for cc 3.0 with its exact CUDA and cuDNN; FO row "
        "2.0.0\\py37\\GPU\\cuda101cudnn76sse2 (VS2019 16.3, 10.1.243_426.00/7.6.4.38, x86_64, "
        "Python 3.7/Compute 3.0): the newest py37 row without AVX that is a wheel (2.1.0 and "
        "2.2.0 are 7-Zip volumes); NV-T3: CUDA 10.1 runs from 418.96 on Windows (driver 425.25)",
        target="gpu",
        allow_community_builds=True,
    ),
    Scenario(
        "win7-gtx650-py37-refusal-names-the-build",
        WIN7,
        NoFit(
            remedies=(
                (
                    r"--allow-community-builds.*TensorFlow 2\.0\.0 \(third-party community "
                    r"build fo40225 2\.0\.0\\py37\\GPU\\cuda101cudnn76sse2\).*envgen create "
                    r"--target gpu --allow-community-builds"
                ),
                r"Python 3\.6: TensorFlow 1\.4\.0",
            ),
        ),
        "issue 18: without the flag, the refusal names the exact community build that would run "
        "and the flag; REL-1.6.0 (AVX), tensorflow/tensorflow#17445 (cc 3.0 ignored from 1.5)",
        target="gpu",
    ),
    Scenario(
        "win7-gtx650-py37-community-cpu",
        WIN7,
        Fits(
            target="cpu",
            name="tensorflow",
            version="2.0.0",
            python="3.7",
            family="community",
            platform="windows-x86_64",
        ),
        "FO row 2.0.0\\py37\\CPU\\sse2 (x86_64: no AVX), a wheel",
        target="cpu",
        allow_community_builds=True,
    ),
    Scenario(
        "westmere-py311-conda-forge-cpu",
        WESTMERE,
        Fits(
            target="cpu",
            name="tensorflow",
            version="2.19.1",
            python="3.11",
            family="conda-forge",
            build="cpu_py311h*_3",
            warnings=("forge-unconfirmed",),
            no_pins=("numpy", "keras"),
        ),
        "issue 18: a Linux no-AVX machine on Python 3.11 with --channel conda gets conda-forge's "
        "TensorFlow 2.x; FS-2cc3b129 build_common.sh#L86 (microarch_level 1: CC_OPT_FLAGS "
        "'-O2 -march=nocona -mtune=haswell'), .ci_support/linux_64_cuda_compiler_versionNone"
        "microarch_level1.yaml (Python 3.10-3.12, build number 3)",
        channel="conda",
    ),
    Scenario(
        "westmere-py311-auto-takes-conda-forge",
        WESTMERE,
        Fits(
            target="cpu",
            name="tensorflow",
            version="2.19.1",
            python="3.11",
            family="conda-forge",
            build="cpu_py311h*_3",
        ),
        "issue 18: under auto conda-forge is weighed where it is the only family that runs "
        "(REL-1.6.0: no PyPI wheel without AVX; 1.5 stops at cp36)",
    ),
    Scenario(
        "westmere-py311-pip-refuses-naming-conda-forge",
        WESTMERE,
        NoFit(remedies=(r"conda-forge's build cpu_py311h\*_3\).*--channel conda",)),
        "issue 18: remedies become concrete (family, release, command)",
        channel="pip",
    ),
    Scenario(
        "westmere-gtx1080ti-py311-conda-forge-cuda",
        WESTMERE_GPU,
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.19.1",
            python="3.11",
            cuda="12.8",
            cudnn="9",
            channel="conda",
            family="conda-forge",
            build="cuda128py311h*_203",
        ),
        "issue 18: with a supported GPU and driver, the CUDA build; FS-2cc3b129 build_common.sh"
        "#L123 (HERMETIC_CUDA_COMPUTE_CAPABILITIES sm_60 ... sm_120: the GTX 1080 Ti's 6.1 runs "
        "sm_60), linux_64_cuda_compiler_version12.8microarch_level1.yaml (build 203); NV-T3 / "
        "minor-version compatibility: CUDA 12.x from 525.60.13 (driver 570.86.15)",
        channel="conda",
    ),
    Scenario(
        "westmere-py38-auto-conda-forge-2.13.1",
        "linux-westmere-x5650-py38.toml",
        Fits(
            target="cpu",
            name="tensorflow",
            version="2.13.1",
            python="3.8",
            family="conda-forge",
            build="cpu_py38h*_1",
        ),
        "FS-96c00ed5 / conda-forge-tensorflow.toml: 2.13.1 build 1 is the last release the "
        "feedstock built for Python 3.8 (2.14.0 starts at 3.9); its CPU build has no -march in "
        "CC_OPT_FLAGS, the toolchain's -march=nocona applies",
    ),
    Scenario(
        "sandybridge-tf24-auto-conda-forge",
        "linux-sandybridge-py38.toml",
        Fits(
            target="cpu",
            name="tensorflow",
            version="2.4.3",
            python="3.8",
            family="conda-forge",
            build="cpu_py38h*_0",
        ),
        "tensorflow/tensorflow#45744 (2.4's PyPI wheels need AVX2); FS-88121112: conda-forge's "
        "2.4.3 CPU build passes CC_OPT_FLAGS=${CFLAGS} (-march=nocona): it runs on AVX alone",
        tensorflow="2.4",
    ),
    Scenario(
        "rtx5090-auto-conda-forge-sm120",
        "linux-rtx5090-driver570-py312.toml",
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.19.1",
            python="3.12",
            cuda="12.8",
            cudnn="9",
            channel="conda",
            family="conda-forge",
            build="cuda128py312h*_203",
        ),
        "FS-13015ae (2025-11-09, 2.19.1 build 1 on; the build row's last commit 2cc3b129): HERMETIC_CUDA_COMPUTE_CAPABILITIES adds sm_100,sm_120,"
        "compute_120 for CUDA 12.8; no PyPI wheel runs cc 12.0 (tensorflow/tensorflow#97387)",
        target="gpu",
    ),
)


def _params() -> list[object]:
    return [pytest.param(s, id=s.id) for s in SCENARIOS]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb()


@pytest.mark.parametrize("scenario", _params())
def test_scenario(scenario: Scenario, kb: KnowledgeBase) -> None:
    profile = load_or_detect(str(PROFILES / scenario.profile), environ={})
    result = resolve(profile, kb, scenario.request())
    if isinstance(scenario.expect, NoFit):
        assert isinstance(result, NoSolution), f"expected no solution ({scenario.source})"
        problems = _check_no_solution(result, scenario.expect)
        problems += [p for r in result.found if r.plan for p in _family_problems(kb, scenario, r)]
    else:
        assert isinstance(result, Plan), getattr(result, "message", "")
        problems = _check_plan(result, scenario.expect)
    assert not problems, f"{scenario.id} ({scenario.source}):\n  " + "\n  ".join(problems)


def _plan(profile: str, **request: object) -> Plan:
    found = resolve(
        load_or_detect(str(PROFILES / profile), environ={}),
        load_kb(),
        Request(**request),  # type: ignore[arg-type]
    )
    assert isinstance(found, Plan), getattr(found, "message", "")
    return found


def test_the_community_pin_is_a_third_party_direct_url() -> None:
    plan = _plan(WIN7, target=Target.GPU, channel=Channel.AUTO, allow_community_builds=True)
    pin = plan.framework
    assert pin.url == FO_2_0_0_GPU
    assert pin.third_party
    assert pin.requirement() == f"tensorflow-gpu@{FO_2_0_0_GPU}"
    assert pin.to_dict()["family"] == "community"
    assert pin.to_dict()["third-party"] is True
    # Every pin says its family; the Keras/numpy/protobuf beside it come from PyPI.
    assert {p.name: p.to_dict()["family"] for p in plan.packages}["numpy"] == "pypi"
    assert "(community; third-party)" in plan.pin_lines()[0]


def test_a_conda_forge_plan_mixes_in_no_pypi_tensorflow() -> None:
    plan = _plan(WESTMERE_GPU, channel=Channel.CONDA)
    assert plan.pip_packages() == ()
    assert plan.framework.conda_spec() == "tensorflow=2.19.1=cuda128py311h*_203"
    assert [p.conda_spec() for p in plan.conda_packages()] == [
        "tensorflow=2.19.1=cuda128py311h*_203",
        "cuda-version=12.8",
    ]
    assert all(p.family == "conda-forge" for p in plan.conda_packages())


def test_2_15_0_builds_0_and_1_are_never_a_gpu_plan() -> None:
    """conda-forge/tensorflow-feedstock#365: 2.15.0's cuda120 builds 0/1 have no CUDA."""
    profile = load_or_detect(str(PROFILES / WESTMERE_GPU), environ={})
    rows = why_not(profile, load_kb(), Request(channel=Channel.CONDA), "2.15.0")
    forge = {r.candidate: r.reasons for r in rows if r.candidate.startswith("conda-forge::")}
    assert any("compiled without it" in " ".join(t) for c, t in forge.items() if c.endswith("_1"))
    assert any("compiled without it" in " ".join(t) for c, t in forge.items() if c.endswith("_0"))
    assert any(not t for c, t in forge.items() if c.endswith("_3")), forge
    plan = _plan(WESTMERE_GPU, channel=Channel.CONDA, tensorflow="2.15.0")
    assert plan.framework.build == "cuda120py311h*_3"


def test_why_not_lists_the_community_build_and_its_opt_in() -> None:
    profile = load_or_detect(str(PROFILES / WIN7), environ={})
    rows = why_not(profile, load_kb(), Request(target=Target.GPU), "2.0.0")
    mine = [r for r in rows if "cuda101cudnn76sse2" in r.candidate]
    assert len(mine) == 1
    assert mine[0].candidate.startswith("tensorflow-gpu==2.0.0 (fo40225 2.0.0\\py37\\GPU\\")
    assert any("--allow-community-builds" in t for t in mine[0].reasons)


def test_a_7z_split_build_is_never_planned() -> None:
    profile = load_or_detect(str(PROFILES / WIN7), environ={})
    rows = why_not(
        profile, load_kb(), Request(target=Target.GPU, allow_community_builds=True), "2.1.0"
    )
    volumes = [r for r in rows if "7-Zip volumes" in " ".join(r.reasons)]
    assert volumes
    assert all(re.search(r"cuda102cudnn76(sse2|avx2)", r.candidate) for r in volumes)


def test_plans_made_before_families_keep_their_digest() -> None:
    """A PyPI pin fingerprints as it always did: committed locks stay current."""
    plan = _plan("issue-example-h100.toml", python="3.11")
    for pin in plan.packages:
        assert pin.fingerprint() == [pin.name, str(pin.version), str(pin.channel), list(pin.extras)]
    flagged = dataclasses.replace(plan.request, allow_community_builds=True)
    assert "allow-community-builds" not in plan.request.to_dict()
    assert flagged.to_dict()["allow-community-builds"] is True
