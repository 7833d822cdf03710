"""Table-driven real-world scenarios for the resolver (issue 3's proof).

Each scenario names a profile under `tests/data/profiles/`, a request, and the stack the sources
say is right for that machine, with the source of the expectation. The expectations were derived
from the researched notes (`../shared/reference/kb-tensorflow.md`, `kb-platform.md`: TensorFlow's
tested-build tables, wheel file lists and METADATA, build_info, release notes, NVIDIA's tables)
and GitHub issues, not from the resolver's output. Where the resolver disagrees and the source
holds, the scenario is marked `xfail(strict=True)` with what the resolver gets wrong.

Short names used in `source`:
  D-SRC   tensorflow/docs site/en/install/source.md, tested build configurations (Linux, macOS)
  D-WIN   tensorflow/docs site/en/install/source_windows.md (CPU + GPU tables)
  D-PIP   tensorflow/docs site/en/install/pip.md (driver floors, WSL2, Windows 2.10 conda recipe)
  D-GPU   tensorflow/docs site/en/install/gpu.md, 2018-2021 revisions ("CUDA X requires N.x")
  PyPI    https://pypi.org/project/<package>/<version>/ file lists and wheel METADATA
  W-BI    build_info.py inside the wheels (CUDA/cuDNN, compute capabilities)
  REL-x   https://github.com/tensorflow/tensorflow/releases/tag/vx
  NV-T3   NVIDIA CUDA toolkit release notes, Table 3 (toolkit driver minimums)
  NV-MVC  https://docs.nvidia.com/deploy/cuda-compatibility/minor-version-compatibility.html
  kb-tf / kb-pf §N   sections of the two reference notes
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envgen import rules
from envgen.detect import load_or_detect
from envgen.kb import KnowledgeBase, load_kb
from envgen.plan import Channel, Pin, Plan, Request, Target
from envgen.profile import HardwareProfile, NvidiaDriver, complete
from envgen.resolve import NoSolution, Remedy, resolve
from envgen.versions import parse_dotted

PROFILES = Path(__file__).resolve().parent.parent / "data" / "profiles"
ANY = "*"
"""Do not check this field."""
CPU_LINUX = ("tensorflow", "tensorflow-cpu")
"""A CPU plan on Linux x86_64 may use the full wheel or its CPU-only twin (kb-tf §2.3)."""


@dataclass(frozen=True)
class PinSpec:
    """What a package pin must allow, independent of how the resolver spells it.

    An exact pin admits a version when it is that version or a prefix of it (conda `11.2` =
    `11.2.*`); a specifier pin admits what the specifier contains.
    """

    admits: tuple[str, ...] = ()
    rejects: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    """At least one of these must be admitted (sources that leave a choice)."""


@dataclass(frozen=True)
class Fits:
    """The plan the sources call right."""

    target: str
    name: str | tuple[str, ...]
    version: str
    """Exact ("2.21.0") or a PEP 440 specifier ("==2.18.*", ">=2.11,<2.15")."""
    python: str
    cuda: str | None = None
    """Dotted prefix ("12.5" matches "12.5" and "12.5.1"), ANY, or None for a CPU plan."""
    cudnn: str | None = None
    """Dotted prefix, a specifier (">=8.6,<9"), ANY, or None."""
    channel: str | None = None
    extras: tuple[str, ...] | str = ()
    """The TensorFlow pin's extras, or ANY."""
    pins: dict[str, PinSpec] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    no_warnings: tuple[str, ...] = ()
    platform: str | None = None
    no_pins: tuple[str, ...] = ()
    """Packages the plan must not pin."""
    family: str = "pypi"
    """Where the TensorFlow pin comes from (families.toml)."""
    build: str | None = None
    """The conda build-string match a conda-forge pin must carry."""


@dataclass(frozen=True)
class NoFit:
    """No official stack fits; each pattern must match some remedy (regex, case-insensitive)."""

    remedies: tuple[str, ...]
    message: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    id: str
    profile: str
    expect: Fits | NoFit
    source: str
    target: str = "auto"
    python: str | None = None
    tensorflow: str | None = None
    keras: str | None = None
    channel: str = "auto"
    xfail: str | None = None
    """Set when the resolver is wrong: what it gets wrong (the lead fixes the resolver)."""
    allow_community_builds: bool = False

    def request(self) -> Request:
        return Request(
            target=Target(self.target),
            python=self.python,
            tensorflow=self.tensorflow,
            keras=self.keras,
            channel=Channel(self.channel),
            allow_community_builds=self.allow_community_builds,
        )


# --- common expectations ---------------------------------------------------------------------------

KERAS_2_21 = PinSpec(admits=("3.12.0",), rejects=("3.11.3", "2.15.0"))
NUMPY_2_21 = PinSpec(admits=("1.26.0", "2.2.6"), rejects=("1.25.2",))
KERAS_2_20 = PinSpec(admits=("3.10.0",), rejects=("3.9.2",))
NUMPY_2_20 = PinSpec(admits=("1.26.0", "2.2.6"), rejects=("1.25.2",))
NUMPY_LT2 = PinSpec(rejects=("2.0.0",))
KERAS_2_13 = PinSpec(admits=("2.13.1",), rejects=("2.12.0", "2.14.0"))
NUMPY_2_13 = PinSpec(admits=("1.22.0", "1.24.3"), rejects=("1.21.6", "1.24.4", "2.0.0"))
CUDNN_CU12_9_3 = PinSpec(admits=("9.3.0.75",))

H100 = "issue-example-h100.toml"
GPU_2_21 = {
    "keras": KERAS_2_21,
    "numpy": NUMPY_2_21,
    "nvidia-cudnn-cu12": CUDNN_CU12_9_3,
}
SRC_2_21_GPU = (
    "D-SRC 2.21.0 row: Python 3.10-3.13, CUDA 12.5, cuDNN 9.3; kb-tf §3 [and-cuda] pins "
    "nvidia-cudnn-cu12>=9.3.0.75,<10; §8.1 SASS 6.0/7.0/8.0/8.9/9.0 (min 6.0); D-PIP driver "
    ">= 525.60.13 (Linux) / 528.33 (WSL); PyPI 2.21.0 METADATA keras>=3.12.0, numpy>=1.26.0"
)


def _gpu_2_21(python: str, *, warnings: tuple[str, ...] = (), **kw: object) -> Fits:
    return Fits(
        target="gpu",
        name="tensorflow",
        version="2.21.0",
        python=python,
        cuda="12.5",
        cudnn="9.3",
        channel="pip",
        extras=("and-cuda",),
        pins=GPU_2_21,
        warnings=warnings,
        platform="linux-x86_64",
        **kw,  # type: ignore[arg-type]
    )


def _cpu(version: str, python: str, name: str | tuple[str, ...] = CPU_LINUX, **kw: object) -> Fits:
    return Fits(target="cpu", name=name, version=version, python=python, **kw)  # type: ignore[arg-type]


# --- the scenarios ---------------------------------------------------------------------------------

SCENARIOS: tuple[Scenario, ...] = (
    # Linux x86_64 GPU servers and desktops -------------------------------------------------------
    Scenario(
        "h100-issue-example",
        H100,
        _gpu_2_21("3.11", no_warnings=("ptx-jit",)),
        "issue 3 proof ('with the H100 profile … picks TF 2.21 with and-cuda'); " + SRC_2_21_GPU,
    ),
    Scenario(
        "a100-driver535-py310",
        "linux-a100-driver535-py310.toml",
        _gpu_2_21("3.10", warnings=("driver-below-toolkit",)),
        SRC_2_21_GPU + "; 535.104.05 < 555.42.02 (NV-T3 CUDA 12.5) -> warn (issue 3 policy); "
        "kb-tf §6.4: keras 3.12.x is the last line for Python 3.10",
    ),
    Scenario(
        "v100-driver470-py38",
        "linux-v100-driver470-py38.toml",
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.13.1",
            python="3.8",
            cuda="11.8",
            cudnn=">=8.6,<9",
            channel="conda",
            pins={"keras": KERAS_2_13, "numpy": NUMPY_2_13},
            warnings=("driver-below-toolkit",),
        ),
        "REL-2.14.0 (3.8 dropped; 2.13.1 keeps it); D-SRC 2.13: CUDA 11.8, cuDNN 8.6; CUDA 12 "
        "builds need >= 525.60.13 (D-PIP); CUDA 11.x runs on >= 450.80.02 (NV-MVC) but 470 < "
        "520.61.05 (NV-T3 11.8) -> warn; no [and-cuda] before 2.14 (kb-tf §3) -> conda; cuDNN "
        "'matching major, equal or higher minor' (docs commit 0fc1acda9); PyPI 2.13.1 pins",
    ),
    Scenario(
        "t4-driver550-py312",
        "linux-t4-driver550-py312.toml",
        _gpu_2_21("3.12", warnings=("driver-below-toolkit",), no_warnings=("ptx-jit",)),
        SRC_2_21_GPU + "; T4 = 7.5 (kb-pf §2.3) runs the sm_70 SASS (same major); "
        "550.54.15 < 555.42.02 (NV-T3)",
    ),
    Scenario(
        "p100-driver535-py311",
        "linux-p100-driver535-py311.toml",
        _gpu_2_21("3.11", warnings=("driver-below-toolkit",), no_warnings=("ptx-jit",)),
        SRC_2_21_GPU + "; P100 = 6.0, exactly the 2.17-2.21 floor (REL-2.17.0, W-BI)",
    ),
    Scenario(
        "k80-driver470-py39",
        "linux-k80-driver470-py39.toml",
        Fits(
            target="gpu",
            name="tensorflow",
            version=">=2.11,<2.15",
            python="3.9",
            cuda=ANY,
            cudnn=ANY,
            channel=ANY,
            extras=ANY,
            no_warnings=("ptx-jit",),
        ),
        "kb-tf §8.2: K80 (3.7) native in 1.0-2.14 (sm_35), ignored from 2.15 (min 5.0, W-BI); "
        "R470 = CUDA 11.4 < the CUDA-12 floor 525.60.13 (D-PIP); cuDNN 8.x for CUDA 11 is SM 3.5+ "
        "up to 8.5 (cuDNN 8.5.0 support matrix) and 8.9 lists 5.0+, so the exact release is left "
        "open: any of 2.11-2.14",
    ),
    Scenario(
        "k80-tf215-gpu",
        "linux-k80-driver470-py39.toml",
        NoFit(remedies=(r"2\.1[1-4]\.\d", r"cpu")),
        "kb-tf §8.1: 2.15 min compute capability 5.0 (W-BI) and CUDA 12.2 needs >= 525.60.13 "
        "(D-PIP); remedies: an older TF that targets Kepler, or the CPU",
        target="gpu",
        tensorflow="2.15",
    ),
    Scenario(
        "rtx4090-driver550-py312",
        "linux-rtx4090-driver550-py312.toml",
        _gpu_2_21("3.12", warnings=("driver-below-toolkit",), no_warnings=("ptx-jit",)),
        SRC_2_21_GPU + "; REL-2.17.0: compute capability 8.9 added (native sm_89)",
    ),
    Scenario(
        "rtx3090-driver525-py310",
        "linux-rtx3090-driver525-py310.toml",
        _gpu_2_21("3.10", warnings=("driver-below-toolkit",), no_warnings=("ptx-jit",)),
        SRC_2_21_GPU + "; RTX 3090 = 8.6 (kb-pf §2.3, looked up by name) runs sm_80; "
        "525.147.05 >= 525.60.13",
    ),
    Scenario(
        "rtx2080-driver470-py311",
        "linux-rtx2080-driver470-py311.toml",
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.14.1",
            python="3.11",
            cuda="11.8",
            cudnn="8.7",
            channel="pip",
            extras=("and-cuda",),
            pins={
                "keras": PinSpec(admits=("2.14.0",), rejects=("2.15.0",)),
                "numpy": PinSpec(admits=("1.23.5", "1.26.4"), rejects=("2.0.0",)),
                "nvidia-cudnn-cu11": PinSpec(admits=("8.7.0.84",)),
            },
            warnings=("driver-below-toolkit",),
        ),
        "CUDA-12 builds (>= 2.15) need >= 525.60.13 (D-PIP); 2.14.1 = CUDA 11.8 / cuDNN 8.7 via "
        "[and-cuda] nvidia-*-cu11 (kb-tf §3, PyPI 2.14.1); TF states no driver for 11.8 (kb-tf §9) "
        "so NVIDIA's 11.x minor-version floor 450.80.02 applies (NV-MVC) with a warning below "
        "520.61.05 (NV-T3); 2.14.1 declares numpy<2.0.0,>=1.23.5, keras<2.15,>=2.14.0",
    ),
    Scenario(
        "gtx1080ti-driver535-py311",
        "linux-gtx1080ti-driver535-py311.toml",
        _gpu_2_21("3.11", warnings=("driver-below-toolkit",), no_warnings=("ptx-jit",)),
        SRC_2_21_GPU + "; GTX 1080 Ti = 6.1 (kb-pf §2.3) runs sm_60",
    ),
    Scenario(
        "gtx970-driver535-py311",
        "linux-gtx970-driver535-py311.toml",
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.16.2",
            python="3.11",
            cuda="12.3",
            cudnn="8.9",
            channel="pip",
            extras=("and-cuda",),
            pins={
                "keras": PinSpec(admits=("3.0.0", "3.10.0")),
                "numpy": PinSpec(admits=("1.23.5", "1.26.4"), rejects=("2.0.0",)),
                "nvidia-cudnn-cu12": PinSpec(admits=("8.9.7.29",)),
            },
            warnings=("driver-below-toolkit",),
        ),
        "REL-2.17.0: compute capability 5.x removed; 2.16 SASS 5.0 (W-BI) runs on 5.2; D-SRC "
        "2.16.1: CUDA 12.3, cuDNN 8.9; [and-cuda] 2.16.2 pins cuDNN 8.9.7.29 (kb-tf §3); "
        "535 >= 525.60.13 (D-PIP), < 545.23.06 (NV-T3 12.3)",
    ),
    Scenario(
        "gtx750ti-driver550-py312",
        "linux-gtx750ti-driver550-py312.toml",
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.16.2",
            python="3.12",
            cuda="12.3",
            cudnn="8.9",
            channel="pip",
            extras=("and-cuda",),
            pins={"numpy": PinSpec(admits=("1.26.0",), rejects=("1.25.2", "2.0.0"))},
            no_warnings=("ptx-jit",),
        ),
        "kb-tf §8.2: GTX 750 Ti (5.0) native in 2.4-2.16, ignored from 2.17 (REL-2.17.0); "
        "PyPI 2.16.2: numpy<2.0.0,>=1.26.0 on Python >= 3.12",
    ),
    Scenario(
        "940mx-driver470-py38",
        "linux-940mx-driver470-py38.toml",
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.13.1",
            python="3.8",
            cuda="11.8",
            cudnn=">=8.6,<9",
            channel="conda",
            pins={"numpy": NUMPY_2_13},
            no_warnings=("ptx-jit",),
        ),
        "kb-tf §8.1: 2.4-2.14 carry SASS 5.0 (W-BI); Python 3.8 stops at 2.13.1 (REL-2.14.0); "
        "R470 excludes CUDA 12 (D-PIP 525.60.13); conda because [and-cuda] starts at 2.14",
    ),
    Scenario(
        "940mx-tf23-no-kernel",
        "linux-940mx-driver470-py38.toml",
        NoFit(remedies=(r"2\.13\.1", r"source")),
        "tensorflow/tensorflow#42467 (940MX on 2.3.0: 'no kernel image is available'); "
        "REL-2.3.0: 'TF 2.3 includes PTX kernels only for compute capability 7.0'; W-BI 2.3: "
        "sm_35/37/52/60/61 + compute_70, nothing for 5.0",
        target="gpu",
        tensorflow="2.3",
    ),
    Scenario(
        "rtx5090-gpu",
        "linux-rtx5090-driver570-py312.toml",
        NoFit(remedies=(r"cpu", r"source")),
        "kb-tf §8.2/§12 #16: compute capability 12.0 has no SASS in any official wheel and the "
        "PTX JIT fails (tensorflow/tensorflow#90291, #97387, #99592, #101746): unsupported",
        target="gpu",
        channel="pip",  # PyPI's wheels only: test_scenarios_families.py has auto
    ),
    Scenario(
        "rtx5090-auto-falls-back-to-cpu",
        "linux-rtx5090-driver570-py312.toml",
        _cpu("2.21.0", "3.12", warnings=("auto-cpu",), pins={"numpy": NUMPY_2_21}),
        "issue 3: auto = gpu when a usable NVIDIA GPU exists, else cpu; the 5090 is not usable "
        "(tensorflow/tensorflow#101746); PyPI 2.21.0 cp312 manylinux_2_27 (glibc 2.39)",
        channel="pip",  # PyPI's wheels only: test_scenarios_families.py has auto
    ),
    Scenario(
        "gtx970-plus-rtx3090",
        "linux-gtx970-rtx3090-driver550-py311.toml",
        _gpu_2_21("3.11", warnings=("gpu-ignored",)),
        SRC_2_21_GPU + "; GPU-DEV: devices below the minimum are logged 'Ignoring visible gpu "
        "device' and the rest are used, so the 3090 (8.6) carries 2.21 and the 970 (5.2) is "
        "ignored",
    ),
    Scenario(
        "wsl2-rtx4070",
        "linux-wsl2-rtx4070-py311.toml",
        _gpu_2_21("3.11", no_warnings=("ptx-jit",)),
        SRC_2_21_GPU + "; D-PIP: WSL2 on Windows 10 19044+, driver >= 528.33, then "
        "pip install tensorflow[and-cuda]; 560.94 >= 555.85 (NV-T3 Windows 12.5)",
    ),
    Scenario(
        "centos7-a100",
        "linux-centos7-a100-driver535-py311.toml",
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.20.0",
            python="3.11",
            cuda="12.5",
            cudnn="9.3",
            channel="pip",
            extras=("and-cuda",),
            pins={"keras": KERAS_2_20, "numpy": NUMPY_2_20, "nvidia-cudnn-cu12": CUDNN_CU12_9_3},
        ),
        "kb-tf §0 rule 13: 2.21.0 wheels are manylinux_2_27 (glibc >= 2.27), 2.9-2.20 "
        "manylinux2014 (glibc >= 2.17); D-SRC 2.20.0: CUDA 12.5 / cuDNN 9.3; PyPI 2.20.0 "
        "keras>=3.10.0, numpy>=1.26.0",
    ),
    Scenario(
        "centos7-cpu",
        "linux-centos7-cpu-py311.toml",
        _cpu("2.20.0", "3.11", pins={"keras": KERAS_2_20, "numpy": NUMPY_2_20}),
        "kb-tf §0 rule 13 (manylinux_2_27 for 2.21.0 vs glibc 2.17); PyPI 2.20.0 cp311 "
        "manylinux2014",
    ),
    Scenario(
        "centos7-tf221",
        "linux-centos7-cpu-py311.toml",
        NoFit(remedies=(r"2\.20\.0",), message=(r"glibc",)),
        "kb-tf §0 rule 13: 'a glibc-2.17 system cannot install it' (2.21.0 manylinux_2_27)",
        tensorflow="2.21",
    ),
    Scenario(
        "gtx1080ti-driver418-py37",
        "linux-gtx1080ti-driver418-py37.toml",
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.3.4",
            python="3.7",
            cuda="10.1",
            cudnn="7.6",
            channel=ANY,
            pins={"numpy": PinSpec(admits=("1.16.0", "1.18.5"), rejects=("1.19.0",))},
        ),
        "D-GPU: 'CUDA 10.1 requires 418.x or higher', 'CUDA 11.0 requires 450.x'; D-SRC 2.3.0: "
        "CUDA 10.1 / cuDNN 7.6; 2.1+ `tensorflow` carries the GPU build (REL-2.1.0); PyPI 2.3.4 "
        "cp37, numpy<1.19.0,>=1.16.0; sm_61 in 2.3 (W-BI)",
    ),
    Scenario(
        "gtx1080-driver384-py36",
        "linux-gtx1080-driver384-py36.toml",
        Fits(
            target="gpu",
            name="tensorflow-gpu",
            version="1.12.3",
            python="3.6",
            cuda="9.0",
            cudnn="7",
            channel=ANY,
            pins={"numpy": PinSpec(admits=("1.13.3",))},
        ),
        "D-GPU 2018: 'CUDA 9.0 requires 384.x or higher'; CUDA 10.0 (1.13+) requires 410.x; "
        "D-SRC 1.12.0: tensorflow_gpu, CUDA 9, cuDNN 7; PyPI tensorflow-gpu 1.12.3 cp36 "
        "(kb-tf §2.2); TF <= 2.0 GPU builds are `tensorflow-gpu` (kb-tf §0 rule 2)",
    ),
    # Issue 14 audit: driver floors are NVIDIA's exact minimum per toolkit release, not a branch.
    Scenario(
        "gtx1080-driver384.59-stops-at-cuda8",
        "linux-gtx1080-driver384.59-py36.toml",
        Fits(
            target="gpu",
            name="tensorflow-gpu",
            version="==1.4.*",
            python="3.6",
            cuda="8.0",
            cudnn="6",
            channel=ANY,
            pins={"nvidia-driver": PinSpec(admits=("375.26",), rejects=("367.47",))},
        ),
        "NV-T3 (13.2 Update 2 edition): 'CUDA 9.0 (9.0.76) >= 384.81', 'CUDA 8.0 GA2 (8.0.61) >= "
        "375.26', 'CUDA 8.0 (8.0.44) >= 367.48'; D-SRC: 1.5-1.12 CUDA 9, 1.3-1.4 CUDA 8 / cuDNN 6; "
        "D-GPU 2018's '384.x' names the branch, whose first releases (384.59) predate 9.0.76",
    ),
    Scenario(
        "gtx1080ti-driver410.40-stops-at-cuda9",
        "linux-gtx1080ti-driver410.40-py36.toml",
        Fits(
            target="gpu",
            name="tensorflow-gpu",
            version="1.12.3",
            python="3.6",
            cuda="9.0",
            cudnn="7",
            channel=ANY,
        ),
        "NV-T3: 'CUDA 10.0.130 >= 410.48', 'CUDA 9.0 (9.0.76) >= 384.81'; D-SRC: 1.13-2.0 CUDA "
        "10.0, 1.12 CUDA 9.0; CUDA <= 10 has no minor-version compatibility (NV-MVC); PyPI "
        "tensorflow-gpu 1.12.3 cp36",
    ),
    Scenario(
        "gtx1080ti-driver450.36-rc-not-cuda11",
        "linux-gtx1080ti-driver450.36-py38.toml",
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.3.4",
            python="3.8",
            cuda="10.1",
            cudnn="7.6",
            channel=ANY,
        ),
        "NV-T3: 'CUDA 11.0.1 RC >= 450.36.06', 'CUDA 11.0.2 GA >= 450.51.05'; NV-MVC 11.x floor "
        "450.80.02; D-SRC 2.4.0: CUDA 11.0 (the GA), 2.3.0: CUDA 10.1 / cuDNN 7.6 ('418.39' for "
        "10.1.105, NV-T3); PyPI 2.3.4 cp38",
    ),
    Scenario(
        "driver410-py38-remedy-quotes-its-release",
        "linux-gtx1080ti-driver410-py38.toml",
        NoFit(
            remedies=(
                r"upgrade the NVIDIA driver to 450\.80\.02 or newer: TensorFlow 2\.13\.1 needs CUDA 11\.8$",
                r"use Python 3\.7: TensorFlow 2\.0\.4",
            ),
        ),
        "issue 14 audit: the remedy said '525.60.13 ... TensorFlow 2.13.1 needs CUDA 12.5'; D-SRC "
        "2.13.0: CUDA 11.8 (kb-tf §1.1), whose floor is NVIDIA's 11.x minor-version floor "
        "450.80.02 (NV-MVC; D-PIP of the 11.8 era says 450.80.02); REL-2.14.0: 2.13.1 is the last "
        "with Python 3.8; D-SRC 2.0: CUDA 10.0 (NV-T3 10.0.130: 410.48), cp37",
        target="gpu",
    ),
    Scenario(
        "t4-driver450-py38",
        "linux-t4-driver450-py38.toml",
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.4.4",
            python="3.8",
            cuda="11.0",
            cudnn=">=8.0,<9",
            channel=ANY,
            pins={"numpy": PinSpec(admits=("1.19.2", "1.19.5"), rejects=("1.20.0",))},
        ),
        "D-GPU 2021: 'CUDA 11.0 requires 450.x', 'CUDA 11.2 requires 460.x'; 450.51.06 is "
        "below NVIDIA's 11.x minor-version floor 450.80.02 (NV-MVC), so 11.8 is out too; "
        "D-SRC 2.4.0: CUDA 11.0 / cuDNN 8.0, and TF loads any cuDNN 8 with minor >= 8.0 ('matching "
        "major version and equal or higher minor', docs commit 0fc1acda9); PyPI 2.4.4 cp38, "
        "numpy~=1.19.2",
    ),
    Scenario(
        "rtx3060-no-driver-gpu",
        "linux-rtx3060-nodriver-py312.toml",
        NoFit(remedies=(r"driver", r"cpu")),
        "REL-2.14.0: '[and-cuda] … As long as the Nvidia driver is already installed'; the "
        "concrete remedy for a visible GPU without a driver is installing the NVIDIA driver "
        "(>= 525.60.13 for CUDA 12 builds, D-PIP)",
        target="gpu",
    ),
    Scenario(
        "rtx3060-no-driver-auto",
        "linux-rtx3060-nodriver-py312.toml",
        _cpu("2.21.0", "3.12", pins={"numpy": NUMPY_2_21}),
        "issue 3: auto = gpu only when a usable NVIDIA GPU *and driver* exist, else cpu; "
        "PyPI 2.21.0 cp312",
    ),
    Scenario(
        "gh200-aarch64-gpu",
        "linux-aarch64-gh200-driver550-py311.toml",
        NoFit(remedies=(r"cpu",)),
        "kb-tf §0 rule 7: 'No official CUDA aarch64 wheels in any release' (W-BI: aarch64 "
        "wheels 2.16.1-2.21.0 are CPU-only)",
        target="gpu",
    ),
    Scenario(
        "gh200-aarch64-auto",
        "linux-aarch64-gh200-driver550-py311.toml",
        _cpu("2.21.0", "3.11", name="tensorflow", platform="linux-aarch64"),
        "kb-tf §2.1: 2.21.0 aarch64 cp310-cp313 manylinux_2_27 (real CPU wheels since 2.16.1); "
        "no GPU build on aarch64, so auto gives the CPU",
    ),
    # Requests ---------------------------------------------------------------------------------------
    Scenario(
        "h100-tf215-py310",
        H100,
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.15.1",
            python="3.10",
            cuda="12.2",
            cudnn="8.9",
            channel="pip",
            extras=("and-cuda",),
            pins={
                "keras": PinSpec(admits=("2.15.0",), rejects=("2.16.0", "3.0.0")),
                "numpy": PinSpec(admits=("1.23.5", "1.26.4"), rejects=("2.0.0",)),
                "nvidia-cudnn-cu12": PinSpec(admits=("8.9.4.25",)),
            },
            warnings=("ptx-jit",),
        ),
        "D-SRC 2.15.0: CUDA 12.2, cuDNN 8.9 (docs commit 0fc1acda9); newest 2.15 patch is 2.15.1 "
        "(PyPI); [and-cuda] nvidia-cudnn-cu12==8.9.4.25 (kb-tf §3); kb-tf §8.2: H100 (9.0) on "
        "2.4-2.15 runs PTX 8.0 only (JIT); PyPI 2.15.1 keras<2.16,>=2.15.0, numpy<2.0.0",
        python="3.10",
        tensorflow="2.15",
    ),
    Scenario(
        "h100-keras2-tf-keras",
        H100,
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.21.0",
            python="3.11",
            cuda="12.5",
            cudnn="9.3",
            channel="pip",
            extras=("and-cuda",),
            pins={
                "tf-keras": PinSpec(admits=("2.21.0",), rejects=("2.20.1", "2.22.0")),
                "numpy": NUMPY_2_21,
            },
            environment={"TF_USE_LEGACY_KERAS": "1"},
        ),
        SRC_2_21_GPU + "; REL-2.16.1: Keras 2 on TF >= 2.16 = `pip install tf-keras~=2.N` + "
        "TF_USE_LEGACY_KERAS=1; kb-tf §6.2: tf-keras 2.21.0 requires tensorflow<2.22,>=2.21",
        keras="2",
    ),
    Scenario(
        "cpu-keras2-tf-keras",
        "linux-cpu-py312.toml",
        _cpu(
            "2.21.0",
            "3.12",
            name="tensorflow",
            pins={"tf-keras": PinSpec(admits=("2.21.0",), rejects=("2.20.1",))},
            environment={"TF_USE_LEGACY_KERAS": "1"},
        ),
        "REL-2.16.1 (Keras 2 = tf-keras~=2.N + TF_USE_LEGACY_KERAS=1); kb-tf §6.2: tf-keras "
        "2.16.0+ requires `tensorflow<2.(N+1),>=2.N`, so next to the `tensorflow-cpu` twin it would "
        "pull the full `tensorflow` wheel into the same site-packages: plan `tensorflow` itself",
        keras="2",
    ),
    Scenario(
        "keras3-with-tf215",
        H100,
        NoFit(remedies=(r"keras 2", r"2\.(1[6-9]|2\d)\.\d")),
        "kb-tf §12 #15: Keras 3 README minimum TensorFlow 2.16.1; TF 2.15 pins keras<2.16; "
        "remedies: Keras 2 with 2.15, or Keras 3 with >= 2.16",
        keras="3",
        tensorflow="2.15",
    ),
    Scenario(
        "h100-pip-tf213",
        H100,
        NoFit(remedies=(r"conda",)),
        "kb-tf §3: no [and-cuda] extra before 2.14.0; D-PIP for <= 2.13-era GPU: CUDA/cuDNN from "
        "conda (`cudatoolkit`, `cudnn`) or the system; the request is one flag away from working",
        target="gpu",
        tensorflow="2.13",
        channel="pip",
    ),
    Scenario(
        "h100-conda-tf213",
        H100,
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.13.1",
            python="3.11",
            cuda="11.8",
            cudnn=">=8.6,<9",
            channel="conda",
            pins={"cudatoolkit": PinSpec(admits=("11.8.0",)), "numpy": NUMPY_2_13},
            warnings=("ptx-jit",),
        ),
        "D-SRC 2.13.0: CUDA 11.8, cuDNN 8.6; kb-pf §3.3: cudatoolkit for CUDA <= 11.x on conda; "
        "kb-tf §8.2: H100 on <= 2.15 via PTX 8.0 (JIT)",
        tensorflow="2.13",
        channel="conda",
    ),
    Scenario(
        "h100-conda-tf221",
        H100,
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.21.0",
            python="3.11",
            cuda="12.5",
            cudnn="9.3",
            channel="conda",
            pins={
                "cuda-version": PinSpec(admits=("12.5",)),
                "cudnn": PinSpec(admits=("9.3.0",)),
                # CUDA 12 on conda-forge is split: cuda-version only constrains, these install.
                "cuda-cudart": PinSpec(),
                "libcublas": PinSpec(),
                "libcufft": PinSpec(),
                "libcurand": PinSpec(),
                "libcusolver": PinSpec(),
                "libcusparse": PinSpec(),
                "cuda-nvrtc": PinSpec(),
                "cuda-cupti": PinSpec(),
                "libnvjitlink": PinSpec(),
            },
            warnings=("conda-library-path",),
        ),
        "kb-pf §0 rule 7 / §3.3: `cudatoolkit` only for <= 11.x, CUDA >= 12 is `cuda-version` + "
        "split packages (https://conda-forge.org/docs/user/cuda/; cuda-version is a "
        "constraint-only metapackage); the pip wheel without [and-cuda] dlopens libcudart.so.12, "
        "libcublas, libcufft, libcusolver, libcusparse, libcurand (the [and-cuda] list, kb-tf §3); "
        "kb-pf §7: conda's lib directory must be on LD_LIBRARY_PATH (tensorflow/tensorflow#45930, "
        "#56413, #53362)",
        channel="conda",
    ),
    # Keras pairing (issue 14 §1; keras.toml) ------------------------------------------------------
    Scenario(
        "tf1.14-keras2-pins-keras-2.2.5",
        "linux-cpu-py36.toml",
        _cpu("1.14.0", "3.6", name="tensorflow", pins={"keras": PinSpec(admits=("2.2.5",))}),
        "issue 14: '--tensorflow 1.14 --keras 2' pinned no keras; TKassis/OrgaQuant#7 ('pip "
        "install tensorflow==1.14 / pip install keras==2.2.5' fixed 'Keras requires TensorFlow "
        "2.2 or higher'); keras 2.2.5 release notes: 'the last release to only support "
        "TensorFlow 1'; PyPI 1.14.0 cp36",
        tensorflow="1.14",
        keras="2",
    ),
    Scenario(
        "tf1.15-keras2-pins-keras-2.3.1",
        "linux-cpu-py37.toml",
        _cpu("1.15.5", "3.7", name="tensorflow", pins={"keras": PinSpec(admits=("2.3.1",))}),
        "keras 2.3.0 release notes (TF 1.13/1.14/2.0; last multi-backend release); "
        "onnx/keras-onnx#527 ('Pin keras==2.3.1 for tensorflow 1.x'); PyPI 1.15.5 cp37",
        tensorflow="1.15",
        keras="2",
    ),
    Scenario(
        "tf2.1-keras2-pins-keras-2.3.1",
        "linux-cpu-py37.toml",
        _cpu("2.1.4", "3.7", pins={"keras": PinSpec(admits=("2.3.1",), rejects=("2.4.3",))}),
        "keras 2.3.x uses tf_ops._TensorLike, present in TF 2.1/2.2, removed in 2.3 (TF wheels; "
        "tensorflow#38589); fizyr/keras-retinanet#1402 ('better luck with 2.3.1'); PyPI 2.1.4",
        tensorflow="2.1",
        keras="2",
    ),
    Scenario(
        "tf2.2-keras2-pins-keras-2.4.3",
        "linux-cpu-py38.toml",
        _cpu("2.2.3", "3.8", pins={"keras": PinSpec(admits=("2.4.3",), rejects=("2.3.1",))}),
        "issue 14: '--tensorflow 2.2 --keras 2' pinned no keras; keras 2.4.0 release notes "
        "('simply redirects all APIs ... to tf.keras'), 2.4.0 METADATA Requires-Dist "
        "tensorflow (>=2.2.0); keras commit 7b76bed70c (2.4.2+ import guard: TF >= 2.2)",
        tensorflow="2.2",
        keras="2",
    ),
    Scenario(
        "tf1.15-keras2.4-refused",
        "linux-cpu-py37.toml",
        NoFit(
            remedies=(r"--keras 2\).*1\.15\.5.*keras==2\.3\.1", r"another TensorFlow: 2\.4\.4"),
            message=(r"Keras 2\.4 requires TensorFlow ≥ 2\.2",),
        ),
        "issue 14: '--keras 2.4 with TF 1.15: \"Keras 2.4 requires TensorFlow ≥ 2.2\", exit 4'; "
        "keras-team/keras#14129 ('Keras 2.4 release adds dependency on tensorflow>=2.2.0, which "
        "breaks earlier installs'); keras 2.4.0 METADATA",
        tensorflow="1.15",
        keras="2.4",
    ),
    Scenario(
        "keras2.2-picks-the-line-for-tf1",
        "linux-cpu-py37.toml",
        _cpu("1.15.5", "3.7", name="tensorflow", pins={"keras": PinSpec(admits=("2.2.5",))}),
        "keras 2.2.5 release notes ('the last release of Keras that implements the 2.2.* API ... "
        "only support TensorFlow 1'); CI tensorflow==1.13.1 (.travis.yml @2.2.5); a Keras 2.2 "
        "line rules out TF 2 (no TF 2 support before 2.3.0)",
        keras="2.2",
    ),
    Scenario(
        "keras2.2.4-exact",
        "linux-cpu-py36.toml",
        _cpu("1.15.5", "3.6", name="tensorflow", pins={"keras": PinSpec(admits=("2.2.4",))}),
        "keras 2.2.4 CI with tensorflow==1.9 (.travis.yml @2.2.4), TF 1.x only; PyPI 1.15.5 cp36",
        keras="2.2.4",
    ),
    Scenario(
        "keras-tf-pins-no-keras",
        "linux-cpu-py312.toml",
        _cpu("2.21.0", "3.12", no_pins=("keras", "tf-keras")),
        "issue 14: '--keras tf' = tf.keras only, no standalone package; TF 2.21 brings its own "
        "keras>=3.12.0 (PyPI METADATA)",
        keras="tf",
    ),
    Scenario(
        "keras3.10-stops-at-tf2.20",
        "linux-cpu-py312.toml",
        _cpu("2.20.0", "3.12", pins={"keras": PinSpec(admits=("3.10.0",), rejects=("3.9.2",))}),
        "PyPI tensorflow 2.21.0 METADATA 'keras>=3.12.0', 2.20.0 'keras>=3.10.0'; keras 3.10.0 "
        "Requires-Python >=3.9",
        keras="3.10",
    ),
    Scenario(
        "keras3.13-needs-python-3.11",
        "linux-cpu-py312.toml",
        NoFit(remedies=(r"use Python 3\.1[1-3]",), message=(r"Keras 3\.13 needs Python >=3\.11",)),
        "PyPI keras 3.13.0 METADATA 'Requires-Python: >=3.11' (read live 2026-12-02)",
        keras="3.13",
        python="3.10",
    ),
    Scenario(
        "keras2.16-is-tf-keras",
        "linux-cpu-py311.toml",
        _cpu(
            "2.16.2",
            "3.11",
            name="tensorflow",
            pins={"tf-keras": PinSpec(admits=("2.16.0",))},
            environment={"TF_USE_LEGACY_KERAS": "1"},
        ),
        "REL-2.16.1 ('pip install tf-keras~=2.16 ... TF_USE_LEGACY_KERAS=1'); PyPI tf-keras "
        "2.16.0 METADATA 'Requires-Dist: tensorflow <2.17,>=2.16'",
        keras="2.16",
    ),
    # Windows ----------------------------------------------------------------------------------------
    Scenario(
        "win10-rtx3060-py310",
        "windows10-rtx3060-py310.toml",
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.10.1",
            python="3.10",
            cuda="11.2",
            cudnn="8.1",
            channel="conda",
            pins={
                "cudatoolkit": PinSpec(admits=("11.2.2",)),
                "cudnn": PinSpec(admits=("8.1.0",)),
                "keras": PinSpec(admits=("2.10.0",), rejects=("2.11.0",)),
                "numpy": NUMPY_LT2,
            },
            platform="windows-x86_64",
        ),
        "REL-2.11.1 / D-WIN: native-Windows GPU ends at 2.10 (CUDA 11.2, cuDNN 8.1); PyPI 2.10.1 "
        "win_amd64 cp310 GPU build (cudart64_112.dll, W-BI); D-PIP: `conda install -c "
        "conda-forge cudatoolkit=11.2 cudnn=8.1.0`; kb-tf §5.1: numpy < 2 for TF <= 2.17",
    ),
    Scenario(
        "win10-rtx3060-conda-tf210-py39",
        "windows10-rtx3060-py310.toml",
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.10.1",
            python="3.9",
            cuda="11.2",
            cudnn="8.1",
            channel="conda",
            pins={"cudatoolkit": PinSpec(admits=("11.2.2",)), "cudnn": PinSpec(admits=("8.1.0",))},
        ),
        "D-PIP (Windows native, TF 2.10): `conda install -c conda-forge cudatoolkit=11.2 "
        "cudnn=8.1.0`; PyPI 2.10.1 win_amd64 cp39",
        python="3.9",
        tensorflow="2.10",
        channel="conda",
    ),
    Scenario(
        "win10-rtx3060-tf215-gpu",
        "windows10-rtx3060-py310.toml",
        NoFit(remedies=(r"wsl2",)),
        "REL-2.11.1: 'Starting with TensorFlow 2.11, you will need to install TensorFlow in WSL2'",
        target="gpu",
        tensorflow="2.15",
    ),
    Scenario(
        "win11-cpu-py312",
        "windows11-cpu-py312.toml",
        _cpu("2.21.0", "3.12", platform="windows-x86_64", pins={"numpy": NUMPY_2_21}),
        "kb-tf §0 rule 5: from 2.18.1 the Windows `tensorflow` wheel is a real CPU wheel; "
        "PyPI 2.21.0 win_amd64 cp312",
    ),
    Scenario(
        "win10-cpu-py38",
        "windows10-cpu-py38.toml",
        _cpu("2.13.0", "3.8", name=("tensorflow", "tensorflow-intel")),
        "kb-tf §1.2: '2.13.1 shim cp38-cp311 but intel cp39-cp311 -> no 3.8' (PyPI file lists "
        "of tensorflow and tensorflow-intel); tensorflow-intel 2.13.0 has cp38",
    ),
    Scenario(
        "win7-gtx650-noavx-py36",
        "windows7-gtx650-noavx-py36.toml",
        Fits(
            target="gpu",
            name="tensorflow-gpu",
            version="1.4.0",
            python="3.6",
            cuda="8.0",
            cudnn="6",
            channel=ANY,
        ),
        "issue 3 classic case: 'TensorFlow-GPU <= 1.4 on Python 3.5/3.6'; kb-tf §1.2: Windows "
        "1.4.0 tensorflow-gpu cp35/cp36, cudart64_80.dll + cudnn64_6.dll, SASS+PTX 3.0 "
        "(W-FATBIN); 1.4.1 has no Windows wheel; 1.5+ ignores 3.0 (#17445); no AVX before 1.6",
    ),
    Scenario(
        "win7-gtx650-noavx-py35",
        "windows7-gtx650-noavx-py35.toml",
        Fits(
            target="gpu",
            name="tensorflow-gpu",
            version="1.4.0",
            python="3.5",
            cuda="8.0",
            cudnn="6",
            channel=ANY,
        ),
        "issue 3 classic case (Python 3.5); kb-tf §2.2 tensorflow-gpu 1.4.0 Windows cp35",
    ),
    Scenario(
        "win7-gtx650-noavx-py37",
        "windows7-gtx650-noavx-py37.toml",
        NoFit(remedies=(r"3\.6",)),
        "issue 3 classic case: 'or nothing official on 3.7' (Windows cp37 wheels start at 1.13, "
        "which needs AVX and cc >= 3.5); remedy: Python 3.6 -> tensorflow-gpu 1.4.0",
    ),
    Scenario(
        "win7-gtx650-noavx-py36-cpu",
        "windows7-gtx650-noavx-py36.toml",
        _cpu("1.5.1", "3.6", name="tensorflow", platform="windows-x86_64"),
        "REL-1.6.0: AVX from 1.6, so 1.5 is the last official CPU build for this CPU; PyPI "
        "tensorflow 1.5.1 win_amd64 cp35/cp36",
        target="cpu",
    ),
    Scenario(
        "win7-gtx650-tf15-gpu",
        "windows7-gtx650-noavx-py36.toml",
        NoFit(remedies=(r"1\.4\.0",)),
        "tensorflow/tensorflow#17445: 1.5+/1.6 'The minimum required Cuda capability is 3.5'; "
        "kb-tf §8.1 (1.5-2.2 SASS from 3.5)",
        target="gpu",
        tensorflow="1.5",
    ),
    Scenario(
        "win7-gtx650-noavx-py37-headline-names-windows",
        "windows7-gtx650-noavx-py37.toml",
        NoFit(
            remedies=(r"Python 3\.6: TensorFlow 1\.4\.0",),
            message=(
                (
                    r"newest candidate 2\.\d+\.\d+: native Windows GPU support ended at "
                    r"TensorFlow 2\.10; later releases use an NVIDIA GPU only under WSL2$"
                ),
            ),
        ),
        "issue 14 audit: the headline names the blocker of the newest release (native Windows GPU "
        "support, REL-2.11.0: 'TensorFlow 2.10 was the last TensorFlow release that supported GPU "
        "on native-Windows'; D-PIP: 'Starting with TensorFlow 2.11, you will need to install "
        "TensorFlow in WSL2'), not the AVX of an older one",
        target="gpu",
    ),
    Scenario(
        "rtx5090-remedy-ngc",
        "linux-rtx5090-driver570-py312.toml",
        NoFit(remedies=(r"NGC", r"cpu")),
        "kb-tf §8.2/§12 #16 (no official wheel runs compute capability 12.0); tensorflow#97387 "
        "('the only way I can get it to work is by using NVIDIA's NGC container'); "
        "jupyter/docker-stacks#2288 (NGC TensorFlow 25.02 on the RTX 5090)",
        target="gpu",
        channel="pip",  # PyPI's wheels only: test_scenarios_families.py has auto
    ),
    Scenario(
        "gh200-remedy-ngc",
        "linux-aarch64-gh200-driver550-py311.toml",
        NoFit(remedies=(r"NGC.*linux/arm64", r"cpu")),
        "kb-tf §0 rule 7 (no CUDA aarch64 wheels in any release); NVIDIA's TensorFlow containers "
        "are built for ARM SBSA too (NGC release notes rel_21-10: components 'for ARM SBSA Linux')",
        target="gpu",
    ),
    # macOS ------------------------------------------------------------------------------------------
    Scenario(
        "m1-cpu-py311",
        "macos-arm64-m1-py311.toml",
        _cpu("2.21.0", "3.11", name="tensorflow", platform="macos-arm64"),
        "kb-tf §0 rule 6 / §2.1: real `tensorflow` arm64 wheels from 2.15.1 (macosx_12_0); "
        "2.21.0 cp310-cp313; Apple: 'For TensorFlow version 2.13 or later: pip install tensorflow'",
    ),
    Scenario(
        "m2-metal-py311",
        "macos-arm64-m2-py311.toml",
        Fits(
            target="gpu",
            name="tensorflow",
            version=">=2.18",
            python="3.11",
            pins={"tensorflow-metal": PinSpec(admits=("1.2.0",), rejects=("1.1.0",))},
            platform="macos-arm64",
        ),
        "tensorflow-metal PyPI description: 1.2.0 'Fixes compatibility with 2.18+ TF versions'; "
        "1.1.0 breaks on 2.18 (tensorflow/tensorflow#81987 'Symbol not found', #84167 'Broken "
        "compatibility with tensorflow-metal in 2.18'); 2.19-2.21 with 1.2.0 rests on Apple's "
        "'2.18+' only (kb-pf §8 #8)",
        target="gpu",
    ),
    Scenario(
        "m2-metal-tf218",
        "macos-arm64-m2-py311.toml",
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.18.1",
            python="3.11",
            pins={"tensorflow-metal": PinSpec(admits=("1.2.0",), rejects=("1.1.0",))},
        ),
        "tensorflow/tensorflow#84167 (M2 Max: metal 1.1.0 works with 2.17, fails with 2.18) and "
        "#81987; 1.2.0 'Fixes compatibility with 2.18+' (PyPI tensorflow-metal); PyPI 2.18.1 "
        "macosx_12_0_arm64 cp311",
        target="gpu",
        tensorflow="2.18",
    ),
    Scenario(
        "m2-metal-tf217",
        "macos-arm64-m2-py311.toml",
        Fits(
            target="gpu",
            name="tensorflow",
            version="2.17.1",
            python="3.11",
            pins={"tensorflow-metal": PinSpec(admits=("1.1.0",))},
        ),
        "tensorflow-metal PyPI table: TF 2.14-2.17 -> 1.1.0 (kb-tf §10); #84167: 2.17 + 1.1.0 "
        "lists the GPU",
        target="gpu",
        tensorflow="2.17",
    ),
    Scenario(
        "m3-metal-py313",
        "macos-arm64-m3-py313.toml",
        NoFit(remedies=(r"3\.12", r"cpu")),
        "kb-tf §10: tensorflow-metal 1.2.0 has cp39-cp312 wheels only, 'so TF 2.20/2.21 on "
        "Python 3.13 cannot use Metal'",
        target="gpu",
    ),
    Scenario(
        "m1-bigsur-metal",
        "macos-arm64-m1-bigsur-py39.toml",
        NoFit(
            remedies=(r"upgrade macOS to 12\.1 .*TensorFlow 2\.20\.0", r"cpu"),
            message=(r"macOS >= 12",),
        ),
        "kb-tf §10 / kb-pf §6.1: the tensorflow-metal table pairs every release with macOS 12.0+ "
        "(12.1+ from 0.5.0 / TF 2.9), and Apple's requirements say 'macOS 12.0 or later'; the "
        "tensorflow-macos 2.5-2.9 wheels install on macOS 11, the Metal plugin does not work there",
        target="gpu",
    ),
    Scenario(
        "m1-bigsur-cpu",
        "macos-arm64-m1-bigsur-py39.toml",
        _cpu("2.9.2", "3.9", name="tensorflow-macos", platform="macos-arm64"),
        "kb-tf §2.1 / PyPI tensorflow-macos: 2.9.x arm64 wheels are macosx_11_0 (cp38-cp310); "
        "from 2.10 they need macOS 12.0",
    ),
    Scenario(
        "intel-mac-py311",
        "macos-x86_64-intel-py311.toml",
        _cpu(
            "2.16.2",
            "3.11",
            name="tensorflow",
            platform="macos-x86_64",
            pins={"numpy": PinSpec(admits=("1.26.4",), rejects=("2.0.0",))},
        ),
        "REL-2.16.1: 'Mac x86 builds … will no longer be released as a Pip package from TF 2.17'; "
        "PyPI 2.16.2 macosx_10_15_x86_64 cp311",
    ),
    Scenario(
        "intel-mac-py313",
        "macos-x86_64-intel-py313.toml",
        NoFit(remedies=(r"3\.12",)),
        "kb-tf §4: macOS x86_64 wheels end with 2.16 (cp39-cp312); 3.13 wheels start at 2.20",
    ),
    Scenario(
        "rosetta-python-on-m1",
        "macos-rosetta-m1-py39.toml",
        NoFit(remedies=(r"arm64",)),
        "Apple 'About the Rosetta translation environment': AVX/AVX2/AVX-512 are not translated; "
        "x86-64 TF >= 1.6 needs AVX (REL-1.6.0); the fix is a native arm64 Python (Apple "
        "tensorflow-plugin page: `pip install tensorflow` on Apple silicon)",
        channel="pip",  # PyPI's wheels only: test_scenarios_families.py has auto
    ),
    # Linux aarch64 and armv7l -----------------------------------------------------------------------
    Scenario(
        "rpi4-aarch64-py311",
        "linux-aarch64-rpi4-py311.toml",
        _cpu("2.21.0", "3.11", name="tensorflow", platform="linux-aarch64"),
        "kb-tf §2.1: 2.21.0 aarch64 cp311 manylinux_2_27 (Debian 12 glibc 2.36); BAZELRC "
        "-march=armv8-a runs on the Pi 4's Cortex-A72",
    ),
    Scenario(
        "rpi4-armv7l",
        "linux-armv7l-rpi4-py39.toml",
        NoFit(remedies=(r"64-bit",)),
        "PyPI tensorflow file lists: no armv7l (32-bit ARM) wheel in any release",
    ),
    Scenario(
        "graviton2-py310",
        "linux-aarch64-graviton2-py310.toml",
        _cpu("2.21.0", "3.10", name="tensorflow", platform="linux-aarch64"),
        "kb-tf §2.1: 2.21.0 aarch64 cp310 manylinux_2_27 (Ubuntu 22.04 glibc 2.35)",
    ),
    Scenario(
        "graviton-amazon-linux-2",
        "linux-aarch64-graviton-al2-py310.toml",
        _cpu("2.20.0", "3.10", name="tensorflow", platform="linux-aarch64"),
        "kb-tf §0 rule 13: '2.21.0 manylinux_2_27_aarch64' vs Amazon Linux 2 glibc 2.26; 2.20.0 "
        "aarch64 is manylinux2014 (glibc >= 2.17)",
    ),
    Scenario(
        "graviton3-py39",
        "linux-aarch64-graviton3-py39.toml",
        _cpu("2.20.0", "3.9", name="tensorflow", platform="linux-aarch64"),
        "REL-2.21.0: 'Support for Python 3.9 has been removed'; PyPI 2.20.0 aarch64 cp39",
    ),
    # Linux x86_64 CPU: Python versions and instruction sets ----------------------------------------
    Scenario(
        "cpu-py313",
        "linux-cpu-py313.toml",
        _cpu("2.21.0", "3.13", pins={"keras": KERAS_2_21, "numpy": NUMPY_2_21}),
        "D-SRC 2.21.0: Python 3.10-3.13; PyPI 2.21.0 cp313 manylinux_2_27",
    ),
    Scenario(
        "cpu-py314",
        "linux-cpu-py314.toml",
        NoFit(remedies=(r"3\.13",)),
        "kb-tf §4: newest wheels (2.21.0) are cp310-cp313; nothing for 3.14",
    ),
    Scenario(
        "cpu-py312",
        "linux-cpu-py312.toml",
        _cpu("2.21.0", "3.12", pins={"numpy": NUMPY_2_21}),
        "PyPI 2.21.0 cp312 manylinux_2_27 (Ubuntu 24.04 glibc 2.39)",
    ),
    Scenario(
        "cpu-py38",
        "linux-cpu-py38.toml",
        _cpu("2.13.1", "3.8", pins={"keras": KERAS_2_13, "numpy": NUMPY_2_13}),
        "REL-2.14.0: 'The TensorFlow 2.13.1 patch release will still have Python 3.8 support'; "
        "PyPI 2.13.1 keras<2.14,>=2.13.1, numpy<=1.24.3,>=1.22",
    ),
    Scenario(
        "cpu-py37",
        "linux-cpu-py37.toml",
        _cpu(
            "2.11.0",
            "3.7",
            pins={
                "keras": PinSpec(admits=("2.11.0",), rejects=("2.12.0",)),
                "numpy": PinSpec(admits=("1.20.0", "1.21.6"), rejects=("2.0.0",)),
            },
        ),
        "kb-tf §0 rule 1: '2.11.1 no 3.7' (PyPI 2.11.1 cp38-cp310), 2.12 needs >= 3.8; PyPI "
        "2.11.0 numpy>=1.20 (capped < 2: kb-tf §5.1)",
    ),
    Scenario(
        "cpu-py36",
        "linux-cpu-py36.toml",
        _cpu(
            "2.6.2",
            "3.6",
            pins={
                "keras": PinSpec(admits=("2.6.0",), rejects=("2.7.0",)),
                "numpy": PinSpec(admits=("1.19.2", "1.19.5"), rejects=("1.20.0",)),
            },
        ),
        "kb-tf §0 rule 1: '2.5.3/2.6.3+ no 3.6'; PyPI 2.6.2 cp36 (3.6-3.9), keras<2.7,>=2.6.0, "
        "numpy~=1.19.2; 2.7 needs >= 3.7",
    ),
    Scenario(
        "westmere-noavx-py36",
        "linux-westmere-x5650-py36.toml",
        _cpu("1.5.1", "3.6", name="tensorflow", pins={"numpy": PinSpec(admits=("1.12.1",))}),
        "REL-1.6.0: 'Prebuilt binaries will use AVX instructions'; tensorflow/tensorflow#17411 "
        "and #19104 (users without AVX stay on 1.5); PyPI 1.5.1 cp36 manylinux1, numpy>=1.12.1",
    ),
    Scenario(
        "westmere-noavx-py38",
        "linux-westmere-x5650-py38.toml",
        NoFit(
            remedies=(r"3\.6", r"conda-forge's build cpu_py38h\*_1\).*--channel conda"),
            message=(r"avx",),
        ),
        "REL-1.6.0 (AVX from 1.6); 1.5.x wheels stop at cp36 (PyPI); tensorflow/tensorflow#19104; "
        "issue 18: the remedy names conda-forge's -march=nocona build for Python 3.8 (2.13.1, the "
        "last release the feedstock built for cp38: conda-forge-tensorflow.toml)",
        channel="pip",  # PyPI's wheels only: test_scenarios_families.py has auto
    ),
    Scenario(
        "core2-noavx-py35",
        "linux-core2-py35.toml",
        _cpu("1.5.1", "3.5", name="tensorflow"),
        "REL-1.6.0 (AVX from 1.6); PyPI 1.5.1 cp35 manylinux1",
    ),
    Scenario(
        "sandybridge-py38",
        "linux-sandybridge-py38.toml",
        _cpu("2.13.1", "3.8", pins={"numpy": NUMPY_2_13}),
        "kb-tf §7: 2.5-2.21 need AVX only (BAZELRC -mavx); Python 3.8 ends at 2.13.1",
    ),
    Scenario(
        "sandybridge-tf24",
        "linux-sandybridge-py38.toml",
        NoFit(remedies=(r"2\.13\.1",), message=(r"avx2",)),
        "tensorflow/tensorflow#45744: 'we accidentally built the official wheels using AVX2' "
        "(2.4.0); kb-tf §12 #10: treat all 2.4.x as AVX2",
        tensorflow="2.4",
        channel="pip",  # PyPI's wheels only: test_scenarios_families.py has auto
    ),
    Scenario(
        "sandybridge-tf23-to-24",
        "linux-sandybridge-py38.toml",
        _cpu("2.3.4", "3.8"),
        "tensorflow/tensorflow#45866 (2.4 regression on AVX-only CPUs, 2.3.1 fine); PyPI 2.3.4 "
        "cp38",
        tensorflow=">=2.3,<2.5",
    ),
)


# --- checks ---------------------------------------------------------------------------------------


def _parts(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def _prefix_match(expected: str, actual: str | None) -> bool:
    """ "12.5" matches "12.5" and "12.5.1"; "8" matches "8.0" and "8"."""
    if actual is None:
        return False
    want, have = _parts(expected), _parts(actual)
    padded = have + (0,) * max(0, len(want) - len(have))
    return padded[: len(want)] == want


def _version_ok(expected: str, actual: str | None) -> bool:
    if expected == ANY:
        return True
    if actual is None:
        return False
    if expected[:1].isdigit():
        return _prefix_match(expected, actual)
    return Version(actual) in SpecifierSet(expected)


def _admits(pin: Pin, version: str) -> bool:
    if pin.exact:
        return _prefix_match(pin.version, version)
    return Version(version) in SpecifierSet(pin.version)


def _check_pin(pin: Pin, spec: PinSpec) -> list[str]:
    problems = []
    for v in spec.admits:
        if not _admits(pin, v):
            problems.append(f"{pin.name} {pin.version!r} should admit {v}")
    for v in spec.rejects:
        if _admits(pin, v):
            problems.append(f"{pin.name} {pin.version!r} should reject {v}")
    if spec.any_of and not any(_admits(pin, v) for v in spec.any_of):
        problems.append(f"{pin.name} {pin.version!r} should admit one of {spec.any_of}")
    return problems


def _check_plan(plan: Plan, want: Fits) -> list[str]:
    p: list[str] = []
    names = (want.name,) if isinstance(want.name, str) else want.name
    if plan.target != want.target:
        p.append(f"target {plan.target} != {want.target}")
    if plan.tensorflow.name not in names:
        p.append(f"package {plan.tensorflow.name} not in {names}")
    if not _version_ok(want.version, plan.tensorflow.version):
        p.append(f"tensorflow {plan.tensorflow.version} != {want.version}")
    if plan.python != want.python:
        p.append(f"python {plan.python} != {want.python}")
    if want.platform is not None and plan.platform != want.platform:
        p.append(f"platform {plan.platform} != {want.platform}")
    if want.extras != ANY and tuple(plan.tensorflow.extras) != want.extras:
        p.append(f"extras {plan.tensorflow.extras} != {want.extras}")
    for label, exp, got in (("cuda", want.cuda, plan.cuda), ("cudnn", want.cudnn, plan.cudnn)):
        if exp is None:
            if got is not None:
                p.append(f"{label} {got} should be None")
        elif not _version_ok(exp, got):
            p.append(f"{label} {got} != {exp}")
    if want.channel not in (ANY, plan.cuda_channel):
        p.append(f"cuda channel {plan.cuda_channel} != {want.channel}")
    if plan.framework.family != want.family:
        p.append(f"family {plan.framework.family} != {want.family}")
    if want.build is not None and plan.framework.build != want.build:
        p.append(f"build {plan.framework.build} != {want.build}")
    pins = {pin.name: pin for pin in plan.packages}
    for name, spec in want.pins.items():
        if name not in pins:
            p.append(f"no {name} pin (have {sorted(pins)})")
        else:
            p.extend(_check_pin(pins[name], spec))
    p.extend(f"unexpected pin {pins[n].requirement()}" for n in want.no_pins if n in pins)
    env = dict(plan.environment)
    for key, value in want.environment.items():
        if env.get(key) != value:
            p.append(f"environment {key}={env.get(key)!r}, want {value!r}")
    codes = {w.code for w in plan.warnings}
    p.extend(f"missing warning {c} (have {sorted(codes)})" for c in want.warnings if c not in codes)
    p.extend(f"unexpected warning {c}" for c in want.no_warnings if c in codes)
    return p


def _check_no_solution(result: NoSolution, want: NoFit) -> list[str]:
    p = []
    for pattern in want.remedies:
        if not any(re.search(pattern, r, re.IGNORECASE) for r in result.remedies):
            p.append(f"no remedy matches {pattern!r}: {list(result.remedies)}")
    for pattern in want.message:
        if not re.search(pattern, result.message, re.IGNORECASE):
            p.append(f"message does not match {pattern!r}: {result.message}")
    if not result.remedies:
        p.append("no remedies at all")
    return p


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb()


def _params() -> list[object]:
    out: list[object] = []
    for s in SCENARIOS:
        marks = [pytest.mark.xfail(strict=True, reason=s.xfail)] if s.xfail else []
        out.append(pytest.param(s, id=s.id, marks=marks))
    return out


@pytest.mark.parametrize("scenario", _params())
def test_scenario(scenario: Scenario, kb: KnowledgeBase) -> None:
    profile = load_or_detect(str(PROFILES / scenario.profile), environ={})
    result = resolve(profile, kb, scenario.request())
    if isinstance(scenario.expect, NoFit):
        if isinstance(result, Plan):
            pytest.fail(
                f"expected no solution ({scenario.source}); got {result.tensorflow.name}"
                f"=={result.tensorflow.version} {result.target} py{result.python}"
            )
        problems = _check_no_solution(result, scenario.expect)
    else:
        if isinstance(result, NoSolution):
            pytest.fail(f"expected a plan ({scenario.source}); got no solution: {result.message}")
        problems = _check_plan(result, scenario.expect)
    assert not problems, f"{scenario.id} ({scenario.source}):\n  " + "\n  ".join(problems)


# Each remedy's numbers come from the release it names (issue 14 audit): the relaxation it
# describes, re-planned here independently, gives exactly that release, and the driver, CUDA,
# Python and platform it quotes are that release's facts in the knowledge base.
def _request_change(code: str, f: dict[str, str]) -> dict[str, object]:
    """The request a remedy asks for, as remedies.py would change it."""
    changes: dict[str, dict[str, object]] = {
        "other-python": {"python": f.get("python")},
        "target-cpu": {"target": Target.CPU},
        "other-channel": {"channel": Channel(f["channel"]) if "channel" in f else None},
        "other-keras": {"keras": f.get("keras")},
        "other-tensorflow": {"tensorflow": None},
        "other-backend": {
            "keras_backend": f.get("backend"),
            "tensorflow": None,
            "keras": "3" if f.get("backend") == "tensorflow" else None,
        },
        "conda-forge-build": {"channel": Channel.CONDA},
        "community-build": {"allow_community_builds": True},
    }
    return changes.get(code, {})


def _relaxed_profile(profile: HardwareProfile, code: str, f: dict[str, str]) -> HardwareProfile:
    if code in ("upgrade-driver", "install-driver"):
        driver = NvidiaDriver(driver=f["driver"], source="test")
        return complete(dataclasses.replace(profile, nvidia=driver), load_kb())
    if code == "use-wsl2":
        wsl = dataclasses.replace(profile.os, name="linux", wsl=True, glibc=None)
        return dataclasses.replace(profile, os=wsl)
    if code == "upgrade-macos":
        return dataclasses.replace(profile, os=dataclasses.replace(profile.os, release=f["macos"]))
    if code == "native-arm64":
        native = dataclasses.replace(profile.os, arch="arm64", rosetta=False)
        return dataclasses.replace(profile, os=native)
    return profile


def _remedy_problems(kb: KnowledgeBase, s: Scenario, r: Remedy) -> list[str]:
    f = dict(r.fields)
    if "tensorflow" not in f:
        return []  # advice that names no release (build from source, a community build, NGC)
    if r.code == "other-backend":
        return _other_backend_problems(kb, s, r)
    if r.plan is not None and r.plan.framework.family != "pypi":
        return _family_problems(kb, s, r)
    release = kb.tensorflow.release(f["tensorflow"])
    if release is None:
        return [f"{r.text}: names {f['tensorflow']}, which the knowledge base does not have"]
    profile = load_or_detect(str(PROFILES / s.profile), environ={})
    request = dataclasses.replace(s.request(), **_request_change(r.code, f))  # type: ignore[arg-type]
    again = resolve(_relaxed_profile(profile, r.code, f), kb, request)
    problems = []
    if not isinstance(again, Plan) or again.tensorflow.version != f["tensorflow"]:
        got = again.tensorflow.version if isinstance(again, Plan) else "no solution"
        problems.append(f"{r.text}: re-planned independently it gives {got}")
    if r.code in ("upgrade-driver", "install-driver"):
        floor = rules.driver_floor(kb, release.build, profile.os).driver
        if floor is None or parse_dotted(f["driver"]) < parse_dotted(floor):
            problems.append(f"{r.text}: TensorFlow {release.version} needs driver {floor}")
        if "cuda" in f and f["cuda"] != release.cuda:
            problems.append(f"{r.text}: TensorFlow {release.version} was built with {release.cuda}")
    if r.code == "other-python":
        wheels = release.gpu_wheel(f["platform"]) if s.target == "gpu" else None
        wheels = wheels or release.wheel(f["platform"])
        if wheels is None or not wheels.supports_python(f["python"]):
            problems.append(f"{r.text}: no {f['platform']} wheel of it for Python {f['python']}")
    return problems


def _other_backend_problems(kb: KnowledgeBase, s: Scenario, r: Remedy) -> list[str]:
    """Keras 3 on JAX or PyTorch: re-planned independently with that backend, the same build."""
    f = dict(r.fields)
    profile = load_or_detect(str(PROFILES / s.profile), environ={})
    request = dataclasses.replace(s.request(), **_request_change(r.code, f))  # type: ignore[arg-type]
    again = resolve(profile, kb, request)
    if not isinstance(again, Plan) or again.framework.version != f["tensorflow"]:
        got = again.framework.version if isinstance(again, Plan) else "no solution"
        return [f"{r.text}: re-planned independently it gives {got}"]
    if again.keras_backend != f["backend"] or r.plan is None or r.plan.framework != again.framework:
        return [f"{r.text}: names another plan than {again.framework.requirement()}"]
    return []


def _family_problems(kb: KnowledgeBase, s: Scenario, r: Remedy) -> list[str]:
    """A build of another family (conda-forge's, a community wheel): re-planned independently
    with the relaxation the remedy names, the same build; a driver it quotes is that build's."""
    assert r.plan is not None
    f = dict(r.fields)
    profile = load_or_detect(str(PROFILES / s.profile), environ={})
    request = dataclasses.replace(s.request(), **_request_change(r.code, f))  # type: ignore[arg-type]
    if r.code == "community-build" and s.channel not in ("auto", "system"):
        request = dataclasses.replace(request, channel=Channel.AUTO)
    again = resolve(_relaxed_profile(profile, r.code, f), kb, request)
    if not isinstance(again, Plan) or again.framework != r.plan.framework:
        got = again.framework.requirement() if isinstance(again, Plan) else "no solution"
        return [f"{r.text}: re-planned independently it gives {got}"]
    problems = []
    if r.code in ("upgrade-driver", "install-driver") and again.cuda is not None:
        floor = rules.cuda_driver_floor(kb, again.cuda, profile.os).driver
        if floor is None or parse_dotted(f["driver"]) < parse_dotted(floor):
            problems.append(f"{r.text}: CUDA {again.cuda} needs driver {floor}")
    return problems


def _no_fits() -> list[object]:
    return [pytest.param(s, id=s.id) for s in SCENARIOS if isinstance(s.expect, NoFit)]


@pytest.mark.parametrize("scenario", _no_fits())
def test_every_remedy_quotes_the_release_it_names(scenario: Scenario, kb: KnowledgeBase) -> None:
    profile = load_or_detect(str(PROFILES / scenario.profile), environ={})
    result = resolve(profile, kb, scenario.request())
    assert isinstance(result, NoSolution)
    assert [r.text for r in result.found] == list(result.remedies)
    problems = [p for r in result.found for p in _remedy_problems(kb, scenario, r)]
    assert not problems, "\n".join(problems)


def test_suite_size() -> None:
    """Issue 3: at least 40 scenarios, no-solution cases with remedies among them."""
    assert len(SCENARIOS) >= 40
    assert sum(isinstance(s.expect, NoFit) for s in SCENARIOS) >= 8
    assert len({s.id for s in SCENARIOS}) == len(SCENARIOS)
    for s in SCENARIOS:
        assert (PROFILES / s.profile).is_file(), s.profile
        assert s.source.strip(), s.id
