"""Keras 3 on JAX and PyTorch: the resolver against real-world machines (issue 15's scenarios).

Each scenario is a profile under `tests/data/profiles/` (a machine variant made with the
`ENVGEN_*` overrides a user has too), a request, and what the sources say the newest working build
is. The expectations come from the research notes (`scenarios.md`: wheel METADATA and arch
strings read from PyPI's wheels, jax's .bazelrc and docs, PyTorch's RELEASE.md and build scripts,
NVIDIA's driver tables) and the issues they cite, not from the resolver's output.

Short names used in `source`:
  SC-n     research notes backends/scenarios.md, machine n
  JAX-INST https://github.com/jax-ml/jax/blob/jax-v0.11.0/docs/installation.md
  PT-REL   https://github.com/pytorch/pytorch/blob/main/RELEASE.md (compatibility matrices)
  NV-T3    NVIDIA CUDA toolkit release notes, Table 3; NV-MVC minor-version compatibility
  TF-BW    tensorflow/tensorflow#90291, #97387, #99592, #101746 (no pip TF <= 2.21 on cc 12.x)
  UV-14742 https://github.com/astral-sh/uv/issues/14742 (cu128 wheels on a GTX 1080 Ti)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from envgen.detect import load_or_detect
from envgen.kb import KnowledgeBase, load_kb
from envgen.plan import Plan, Request, Target
from envgen.resolve import NoSolution, resolve, why_not
from envgen.versions import parse_dotted
from tests.unit.test_scenarios import PROFILES

TORCH_INDEX = "https://download.pytorch.org/whl/"


@dataclass(frozen=True)
class Fits:
    target: str
    requirement: str
    """The framework pin as pip writes it: `jax[cuda12]==0.12.0.1`, `torch==2.11.0+cu128`."""
    python: str
    cuda: str | None = None
    index: str | None = None
    warnings: tuple[str, ...] = ()
    no_warnings: tuple[str, ...] = ()
    pins: tuple[str, ...] = ()
    """Other pins the plan must hold, as written (`jaxlib==0.12.0.1`)."""


@dataclass(frozen=True)
class NoFit:
    remedies: tuple[str, ...]
    message: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    id: str
    profile: str
    backend: str
    expect: Fits | NoFit
    source: str
    target: str = "auto"
    environ: dict[str, str] = field(default_factory=dict)
    python: str | None = None


BLACKWELL = "linux-rtx5090-driver570-py312.toml"
PASCAL = "linux-gtx1080ti-driver535-py311.toml"
K80_470 = "linux-k80-driver470-py39.toml"
M1 = "macos-arm64-m1-py311.toml"
WINDOWS_GPU = "windows10-rtx3060-py310.toml"
DRIVER_580 = {"ENVGEN_CUDA_DRIVER": "580.95.05"}

SCENARIOS: tuple[Scenario, ...] = (
    # 1. Blackwell (cc 12.0): TensorFlow refused, JAX and PyTorch planned ---------------------------
    Scenario(
        "blackwell-tensorflow-refused-names-jax-and-torch",
        BLACKWELL,
        "tensorflow",
        NoFit(
            remedies=(r"--keras-backend jax\): JAX \S+", r"--keras-backend torch\): PyTorch \S+"),
            message=(r"compute capability 12\.0",),
        ),
        "TF-BW (tensorflow-gpu-issues.toml); SC-1: current JAX and PyTorch builds run there",
        target="gpu",
    ),
    Scenario(
        "blackwell-driver570-jax-cuda12",
        BLACKWELL,
        "jax",
        Fits(
            "gpu",
            "jax[cuda12]==0.12.0.1",
            "3.12",
            cuda="12.9",
            warnings=("driver-below-toolkit",),
            pins=("jaxlib==0.12.0.1", "jax-cuda12-plugin==0.12.0.1", "keras>=3.0.0"),
        ),
        "SC-1: jax[cuda12] >= 0.6.0 carries sm_120 (cuobjdump), newest 0.12.0.1, built with CUDA "
        "12.9.1 > the 12.8 driver (warning); jax[cuda13] needs >= 580 (JAX-INST, NV-MVC)",
        target="gpu",
    ),
    Scenario(
        "blackwell-driver570-torch-cu128-index",
        BLACKWELL,
        "torch",
        Fits("gpu", "torch==2.11.0+cu128", "3.12", cuda="12.8", index=TORCH_INDEX + "cu128"),
        "SC-1: PyPI 2.11+ are cu130/cu132 (need R580, NV-MVC); cu128 is in 2.11's matrix and not "
        "after (PT-REL); cu126 lacks sm_120",
        target="gpu",
    ),
    Scenario(
        "blackwell-driver580-jax-cuda13",
        BLACKWELL,
        "jax",
        Fits("gpu", "jax[cuda13]==0.12.0.1", "3.12", cuda="13.0"),
        "SC-1: with >= 580 jax[cuda13] 0.12.0.1 (CUDA 13 plugin, sm_120 SASS; JAX-INST >= 580)",
        target="gpu",
        environ=DRIVER_580,
    ),
    Scenario(
        "blackwell-driver580-torch-pypi",
        BLACKWELL,
        "torch",
        Fits("gpu", "torch==2.15.0", "3.12", cuda="13.2", warnings=("driver-below-toolkit",)),
        "SC-1: 2.15.0 PyPI cu132 runs on >= 580 through CUDA 13 minor-version compatibility "
        "(NV-MVC; 13.2 GA is 595.45.04 by NV-T3: a warning)",
        target="gpu",
        environ=DRIVER_580,
    ),
    # 2. Pascal GTX 1080 Ti (cc 6.1) with the newest PyTorch -----------------------------------------
    Scenario(
        "pascal-torch-cu126-index",
        PASCAL,
        "torch",
        Fits(
            "gpu",
            "torch==2.14.1+cu126",
            "3.11",
            cuda="12.6",
            index=TORCH_INDEX + "cu126",
            warnings=("fw-build-evidence", "driver-below-toolkit"),
        ),
        "SC-2, UV-14742: PyPI 2.8-2.10 are cu128 without sm_60, 2.11+ cu130 from sm_75; cu126 keeps "
        "Maxwell/Pascal through 2.14 (PT-REL); driver 535 runs 12.6 through NV-MVC (warning)",
        target="gpu",
    ),
    Scenario(
        "pascal-jax-cuda12-python311",
        PASCAL,
        "jax",
        Fits("gpu", "jax[cuda12]==0.10.2", "3.11", cuda="12.9"),
        "SC-2: the CUDA 12 plugin keeps sm_60 SASS (cuobjdump of 0.12.0.1), CUDA 13 starts at "
        "sm_75; jax >= 0.11.0 needs Python >= 3.12, so 0.10.2 on 3.11",
        target="gpu",
    ),
    # 3. A driver below CUDA 12's floor (470) ---------------------------------------------------------
    Scenario(
        "driver470-torch-cu118-index",
        K80_470,
        "torch",
        Fits("gpu", "torch==2.7.1+cu118", "3.9", cuda="11.8", index=TORCH_INDEX + "cu118"),
        "SC-3: the last cu118 build is 2.7 (PT-REL 2.7 stable matrix); CUDA 11.x runs on >= "
        "450.80.02 (NV-MVC); cu118 keeps sm_37 (pytorch/builder build_cuda.sh)",
        target="gpu",
    ),
    Scenario(
        "driver470-jax-refused-names-the-driver-and-torch",
        "linux-rtx2080-driver470-py311.toml",
        "jax",
        NoFit(
            remedies=(r"upgrade the NVIDIA driver to 525\.60\.13", r"--keras-backend torch"),
            message=(r"no JAX GPU build fits",),
        ),
        "SC-3: every CUDA 12 build needs >= 525.60.13 (NV-MVC), CUDA 13 >= 580; CUDA 11 JAX was "
        "Google-storage only (jax-builds.toml)",
        target="gpu",
    ),
    # 4. macOS arm64 ---------------------------------------------------------------------------------
    Scenario(
        "macos-arm64-jax-cpu-says-metal-is-experimental",
        M1,
        "jax",
        Fits("cpu", "jax==0.10.2", "3.11", warnings=("jax-metal",)),
        "SC-4: jaxlib macOS arm64 wheels; 0.10.2 is the newest for Python 3.11; jax-metal "
        "experimental, dropped from JAX's docs",
    ),
    Scenario(
        "macos-arm64-jax-gpu-refused",
        M1,
        "jax",
        NoFit(remedies=(r"--target cpu",), message=(r"jax-metal", r"experimental")),
        "SC-4: no supported Apple GPU build of JAX",
        target="gpu",
    ),
    Scenario(
        "macos-arm64-torch-cpu-from-pypi",
        M1,
        "torch",
        Fits("cpu", "torch==2.15.0", "3.11", no_warnings=("jax-metal",)),
        "SC-4: 2.15.0 PyPI (CPU + MPS) on macOS >= 14 (wheel tag 14.0 since 2.12); this Mac "
        "runs 14.5",
    ),
    # 5. Windows -------------------------------------------------------------------------------------
    Scenario(
        "windows-jax-gpu-only-through-wsl2",
        WINDOWS_GPU,
        "jax",
        NoFit(remedies=(r"use WSL2",), message=(r"Linux-only",)),
        "SC-5, JAX-INST: NVIDIA GPU on Windows 'no', WSL2 'experimental'",
        target="gpu",
    ),
    Scenario(
        "windows-jax-auto-plans-the-cpu-and-names-wsl2",
        WINDOWS_GPU,
        "jax",
        Fits("cpu", "jax==0.6.2", "3.10", warnings=("auto-cpu",)),
        "SC-5: native Windows jaxlib wheels are CPU-only; 0.6.2 is the last for Python 3.10",
    ),
    Scenario(
        "windows-torch-gpu-from-the-index",
        WINDOWS_GPU,
        "torch",
        Fits("gpu", "torch==2.14.1+cu126", "3.10", cuda="12.6", index=TORCH_INDEX + "cu126"),
        "SC-5: PyPI Windows wheels are CPU builds; CUDA only from the PyTorch index; NVIDIA lists "
        "no Windows driver for CUDA 13 (NV-T3 'N/A'), so the newest CUDA 12 build",
        target="gpu",
    ),
    # The CPU: jax from PyPI, torch from the CPU index (PyPI's Linux wheel is a CUDA build) ------
    Scenario(
        "linux-cpu-torch-from-the-cpu-index",
        "linux-cpu-py312.toml",
        "torch",
        Fits("cpu", "torch==2.15.0+cpu", "3.12", index=TORCH_INDEX + "cpu"),
        "torch-releases.toml (PyPI's Linux x86_64 2.15.0 wheel pins CUDA 13.2); "
        "https://pytorch.org/get-started/locally/ (CPU: --index-url .../whl/cpu)",
    ),
    Scenario(
        "linux-cpu-jax-from-pypi",
        "linux-cpu-py312.toml",
        "jax",
        Fits("cpu", "jax==0.12.0.1", "3.12", pins=("jaxlib==0.12.0.1", "keras>=3.0.0")),
        "jax-releases.toml: jaxlib 0.12.0.1 manylinux_2_27 wheels for 3.12",
    ),
)


def _check(plan: Plan, want: Fits) -> list[str]:
    p = []
    if str(plan.target) != want.target:
        p.append(f"target {plan.target} != {want.target}")
    if plan.framework.requirement() != want.requirement:
        p.append(f"framework {plan.framework.requirement()} != {want.requirement}")
    if plan.python != want.python:
        p.append(f"python {plan.python} != {want.python}")
    if plan.cuda != want.cuda:
        p.append(f"cuda {plan.cuda} != {want.cuda}")
    if plan.indexes != ((want.index,) if want.index else ()):
        p.append(f"indexes {plan.indexes} != {want.index}")
    if dict(plan.environment).get("KERAS_BACKEND") != plan.request.keras_backend:
        p.append(f"environment {plan.environment} lacks KERAS_BACKEND")
    lines = plan.pin_lines()
    p += [f"no pin {pin} in {lines}" for pin in want.pins if pin not in lines]
    codes = {w.code for w in plan.warnings}
    p += [f"missing warning {c} (have {sorted(codes)})" for c in want.warnings if c not in codes]
    p += [f"unexpected warning {c}" for c in want.no_warnings if c in codes]
    return p


def _check_no_fit(result: NoSolution, want: NoFit) -> list[str]:
    p = []
    for pattern in want.remedies:
        if not any(re.search(pattern, r) for r in result.remedies):
            p.append(f"no remedy matches {pattern!r}: {list(result.remedies)}")
    p += [
        f"message does not match {pattern!r}: {result.message}"
        for pattern in want.message
        if not re.search(pattern, result.message)
    ]
    return p


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_scenario(scenario: Scenario, kb: KnowledgeBase) -> None:
    profile = load_or_detect(str(PROFILES / scenario.profile), environ=scenario.environ)
    request = Request(
        target=Target(scenario.target), python=scenario.python, keras_backend=scenario.backend
    )
    result = resolve(profile, kb, request)
    if isinstance(scenario.expect, NoFit):
        if isinstance(result, Plan):
            pytest.fail(f"expected no solution ({scenario.source}); got {result.pin_lines()}")
        problems = _check_no_fit(result, scenario.expect)
    else:
        if isinstance(result, NoSolution):
            pytest.fail(f"expected a plan ({scenario.source}); got: {result.message}")
        problems = _check(result, scenario.expect)
    assert not problems, f"{scenario.id} ({scenario.source}):\n  " + "\n  ".join(problems)


def test_the_suite_covers_the_issue_machines() -> None:
    ids = " ".join(s.id for s in SCENARIOS)
    for machine in ("blackwell", "pascal", "driver470", "macos-arm64", "windows"):
        assert machine in ids
    for s in SCENARIOS:
        assert (PROFILES / s.profile).is_file()
        assert s.source.strip()


def test_why_not_explains_a_torch_build_the_gpu_cannot_run(kb: KnowledgeBase) -> None:
    # UV-14742: the cu128 builds carry no Pascal code; PyPI's 2.8.0 wheel is one of them.
    profile = load_or_detect(str(PROFILES / PASCAL), environ={})
    request = Request(target=Target.GPU, keras_backend="torch")
    found = {r.candidate: r.reasons for r in why_not(profile, kb, request, "torch==2.8.0")}
    assert set(found) == {"torch==2.8.0", "torch==2.8.0+cu129", "torch==2.8.0+cu126"}
    assert any("compute capability 6.1" in text for text in found["torch==2.8.0"])
    assert found["torch==2.8.0+cu126"] == ()  # the cu126 build fits


def _no_fits() -> list[object]:
    return [pytest.param(s, id=s.id) for s in SCENARIOS if isinstance(s.expect, NoFit)]


@pytest.mark.parametrize("scenario", _no_fits())
def test_every_remedy_quotes_the_plan_it_names(scenario: Scenario, kb: KnowledgeBase) -> None:
    """The issue-14 audit on JAX and PyTorch requests: a remedy's framework version, driver and
    CUDA are those of the plan its relaxation found (JAX's CUDA 12 plugin, not its CUDA 13 one)."""
    profile = load_or_detect(str(PROFILES / scenario.profile), environ=scenario.environ)
    request = Request(
        target=Target(scenario.target), python=scenario.python, keras_backend=scenario.backend
    )
    result = resolve(profile, kb, request)
    assert isinstance(result, NoSolution)
    assert [r.text for r in result.found] == list(result.remedies)
    problems = []
    for remedy in result.found:
        fields, plan = dict(remedy.fields), remedy.plan
        if plan is None:
            continue
        if fields.get("tensorflow") != plan.framework.version:
            problems.append(f"{remedy.text}: the plan pins {plan.framework.requirement()}")
        if remedy.code in ("upgrade-driver", "install-driver"):
            pin = next((p.version for p in plan.packages if p.name == "nvidia-driver"), None)
            floor = str(pin).removeprefix(">=") if pin is not None else None
            if floor is None or parse_dotted(fields["driver"]) < parse_dotted(floor):
                problems.append(f"{remedy.text}: the plan needs the driver {floor}")
        if "cuda" in fields and fields["cuda"] != plan.cuda:
            problems.append(f"{remedy.text}: the plan's CUDA is {plan.cuda}")
        if remedy.code == "other-backend" and not _keras3(plan):
            problems.append(f"{remedy.text}: the plan pins no Keras 3 ({plan.pin_lines()})")
    assert not problems, "\n".join(problems)


def _keras3(plan: Plan) -> bool:
    """Whether the plan installs Keras 3: a `keras` pin whose lowest allowed release is 3.x."""
    from packaging.requirements import Requirement

    for line in plan.pin_lines():
        req = Requirement(line)
        if req.name == "keras":
            floors = [s.version for s in req.specifier if s.operator in (">=", "==", "~=")]
            return any(parse_dotted(v) >= parse_dotted("3") for v in floors)
    return False


@pytest.mark.parametrize(
    ("profile", "backend"),
    [(K80_470, "jax"), ("linux-rtx2080-driver470-py311.toml", "jax"), (M1, "jax"), (M1, "torch")],
)
def test_keras3_on_tensorflow_is_offered_only_with_keras3(
    profile: str, backend: str, kb: KnowledgeBase
) -> None:
    """ "Run Keras 3 on TensorFlow" names a TensorFlow paired with Keras 3 (keras.toml: 2.16+),
    never TF 2.14 with its Keras 2, which a driver 470 still runs; on an M1 TF 2.21 does."""
    machine = load_or_detect(str(PROFILES / profile), environ={})
    result = resolve(machine, kb, Request(target=Target.GPU, keras_backend=backend))
    assert isinstance(result, NoSolution)
    offered = [
        r for r in result.found if r.code == "other-backend" and r.get("backend") == "tensorflow"
    ]
    if profile == M1:
        (remedy,) = offered
        assert remedy.plan is not None
        assert _keras3(remedy.plan)
    else:
        assert offered == [], [r.text for r in offered]
