"""The resolver on reference profiles: the choice, the reasons, the refusals and the remedies.

The broad table of real-world machines is tests/unit/test_scenarios.py; these tests pin down the
mechanics (determinism, rejection grouping, relaxed remedies, request validation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from envgen.detect import load_or_detect
from envgen.errors import UsageError
from envgen.kb import load_kb
from envgen.plan import Channel, Plan, Request, Target
from envgen.profile import HardwareProfile
from envgen.resolve import NoSolution, resolve, tensorflow_spec, why_not

AUTO = Request(channel=Channel.AUTO)


def profile(data_dir: Path, name: str, **env: str) -> HardwareProfile:
    return load_or_detect(str(data_dir / "profiles" / name), env)


def plan_of(result: Plan | NoSolution) -> Plan:
    assert isinstance(result, Plan), getattr(result, "message", result)
    return result


def test_h100_gets_tf_221_with_pip_cuda(data_dir: Path) -> None:
    p = plan_of(
        resolve(load_or_detect(str(data_dir / "nvidia/h100/profile.toml"), {}), load_kb(), AUTO)
    )
    assert (p.target, p.python, p.cuda, p.cudnn, p.cuda_channel) == (
        "gpu",
        "3.12",
        "12.5",
        "9.3",
        "pip",
    )
    assert (p.tensorflow.name, p.tensorflow.version, p.tensorflow.extras) == (
        "tensorflow",
        "2.21.0",
        ("and-cuda",),
    )
    pins = {x.name: x for x in p.packages}
    # 2.21's [and-cuda] uses ranges; the plan pins the versions the build was made with.
    assert pins["nvidia-cudnn-cu12"].version == "9.3.0.75"
    assert pins["nvidia-cuda-runtime-cu12"].version == "12.5.82"
    assert pins["keras"].version == ">=3.12.0"
    assert pins["nvidia-driver"].version == ">=525.60.13"
    assert pins["nvidia-driver"].channel == "system"
    assert all(x.reason for x in p.packages)


def test_cpu_only_machine_with_toolkit_plans_cpu(data_dir: Path) -> None:
    prof = load_or_detect(
        str(data_dir / "profiles/issue-example-h100.toml"), {"ENVGEN_CUDA_DRIVER": "none"}
    )
    p = plan_of(resolve(prof, load_kb(), AUTO))
    assert p.target == "cpu"
    assert p.cuda is None
    assert p.cudnn is None
    assert p.tensorflow.name == "tensorflow-cpu"
    assert p.tensorflow.extras == ()


def test_deterministic(data_dir: Path) -> None:
    prof = load_or_detect(str(data_dir / "nvidia/h100/profile.toml"), {})
    first, second = resolve(prof, load_kb(), AUTO), resolve(prof, load_kb(), AUTO)
    assert isinstance(first, Plan)
    assert isinstance(second, Plan)
    assert first.to_dict() == second.to_dict()
    assert first.digest() == second.digest()


def test_old_driver_picks_older_tf_and_says_why(data_dir: Path) -> None:
    prof = profile(
        data_dir,
        "issue-example-h100.toml",
        ENVGEN_CUDA_DRIVER="470.82.01",
        ENVGEN_GPUS="NVIDIA A100-SXM4-80GB",
    )
    p = plan_of(resolve(prof, load_kb(), AUTO))
    # 470 supports CUDA <= 11.4; minor-version compatibility admits 11.x builds from 450.80.02.
    assert p.cuda is not None
    assert p.cuda.startswith("11.")
    assert p.tensorflow.version == "2.14.1"
    assert any(
        "driver 470.82.01 is older than 525.60.13" in r for rej in p.rejections for r in rej.reasons
    )
    assert any(w.code == "driver-below-toolkit" for w in p.warnings)


def test_seed_gtx650_windows7_no_avx(data_dir: Path) -> None:
    prof = profile(data_dir, "windows7-gtx650-core2.toml")
    p = plan_of(resolve(prof, load_kb(), AUTO))
    assert (p.target, p.tensorflow.name, p.tensorflow.version, p.cuda) == (
        "gpu",
        "tensorflow-gpu",
        "1.4.0",
        "8.0",
    )
    on_37 = resolve(prof, load_kb(), Request(channel=Channel.AUTO, python="3.7"))
    assert isinstance(on_37, NoSolution)
    assert any(r.startswith("use Python 3.6: TensorFlow 1.4.0") for r in on_37.remedies)
    assert any("without AVX" in r for r in on_37.remedies)


def test_windows_native_gpu_remedy_is_wsl2(data_dir: Path) -> None:
    prof = profile(
        data_dir,
        "issue-example-h100.toml",
        ENVGEN_OS="windows",
        ENVGEN_GPUS="NVIDIA GeForce RTX 3060",
    )
    result = resolve(
        prof, load_kb(), Request(channel=Channel.AUTO, target=Target.GPU, tensorflow=">=2.11")
    )
    assert isinstance(result, NoSolution)
    assert result.remedies[0].startswith("use WSL2")
    assert "2.21.0" in result.remedies[0]


def test_no_solution_lists_rejections_grouped(data_dir: Path) -> None:
    prof = profile(data_dir, "issue-example-h100.toml")
    result = resolve(prof, load_kb(), Request(channel=Channel.AUTO, keras="3", tensorflow="2.15"))
    assert isinstance(result, NoSolution)
    assert result.rejections[0].candidate == "tensorflow==2.15.0, 2.15.0.post1, 2.15.1"
    assert "Keras 3 needs TensorFlow >= 2.16" in result.rejections[0].reasons


def test_h100_on_an_old_driver_cannot_jit_newer_ptx(data_dir: Path) -> None:
    prof = profile(data_dir, "issue-example-h100.toml", ENVGEN_CUDA_DRIVER="470.82.01")
    # On Python 3.11 no PyPI GPU wheel fits (2.11 has no cp311 wheel), so with PyPI's wheels
    # alone auto falls back to the CPU ...
    pip_only = plan_of(resolve(prof, load_kb(), Request(channel=Channel.PIP)))
    assert pip_only.target == "cpu"
    assert pip_only.warnings[0].code == "auto-cpu"
    # ... while conda-forge's CUDA 11.8 build of 2.14.0 has cp311 and sm_90 (the feedstock's
    # TF_CUDA_COMPUTE_CAPABILITIES for 11.8), which a 470 driver runs through minor-version
    # compatibility: under auto it is the family that runs.
    auto = plan_of(resolve(prof, load_kb(), AUTO))
    assert (auto.target, auto.framework.family, auto.framework.version) == (
        "gpu",
        "conda-forge",
        "2.14.0",
    )
    assert auto.cuda == "11.8"
    assert any(w.code == "driver-below-toolkit" for w in auto.warnings)
    p = plan_of(resolve(prof, load_kb(), Request(channel=Channel.AUTO, python="3.10")))
    # 2.12-2.14 (CUDA 11.8) reach Hopper only through PTX 8.0, which a CUDA 11.4 driver can't JIT.
    assert (p.target, p.tensorflow.version, p.cuda) == ("gpu", "2.11.1", "11.2")
    assert any("cannot JIT PTX from CUDA 11.8" in r for rej in p.rejections for r in rej.reasons)
    assert any(w.code == "ptx-jit" for w in p.warnings)


def test_why_not(data_dir: Path) -> None:
    prof = profile(
        data_dir, "issue-example-h100.toml", ENVGEN_CUDA_DRIVER="470.82.01", ENVGEN_GPUS="Tesla T4"
    )
    rows = why_not(prof, load_kb(), AUTO, "tensorflow==2.16.*")
    # PyPI's wheels and conda-forge's builds (weighed under auto), each with its reasons.
    assert [r.candidate for r in rows] == [
        "tensorflow==2.16.2",
        "tensorflow==2.16.1",
        "conda-forge::tensorflow==2.16.2=cuda120py311h*_0",
        "conda-forge::tensorflow==2.16.1=cuda120py311h*_0",
    ]
    assert all(any("older than 525.60.13" in t for t in r.reasons) for r in rows)
    fits = why_not(prof, load_kb(), AUTO, "2.14.1")
    assert fits[0].reasons == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.15", "==2.15.*"),
        ("2.15.1", "==2.15.1"),
        (">=2.12,<2.16", "<2.16,>=2.12"),
        ("tensorflow==2.4.*", "==2.4.*"),
        # The audit (issue 14 §4): what users type, refused before as "not a version specifier".
        ("2.15.*", "==2.15.*"),
        ("tensorflow-gpu==1.12.0", "==1.12.0"),
        ("tensorflow_gpu==1.12.0", "==1.12.0"),
        ("tensorflow[and-cuda]==2.15.1", "==2.15.1"),
        ("tensorflow-cpu>=2.12", ">=2.12"),
    ],
)
def test_tensorflow_spec(text: str, expected: str) -> None:
    assert str(tensorflow_spec(text)) == expected


@pytest.mark.parametrize("text", ["numpy==1.26", "keras==2.3.1", "two", "2.15.x"])
def test_tensorflow_spec_refuses_other_names_and_junk(text: str) -> None:
    with pytest.raises(UsageError, match=r"^--tensorflow: "):
        tensorflow_spec(text)


@pytest.mark.parametrize(
    ("text", "package", "expected"),
    [
        # `--why-not` on a JAX or PyTorch request: the package's own name in front, or none.
        ("jax==0.5.3", "jax", "==0.5.3"),
        ("jax 0.5.3", "jax", "==0.5.3"),
        ("torch>=2.8", "torch", ">=2.8"),
        ("0.5", "jax", "==0.5.*"),
    ],
)
def test_framework_spec(text: str, package: str, expected: str) -> None:
    assert str(tensorflow_spec(text, "why_not", package)) == expected


def test_framework_spec_refuses_another_framework() -> None:
    with pytest.raises(UsageError, match=r"^--why-not: 'tensorflow==2.15' names 'tensorflow'"):
        tensorflow_spec("tensorflow==2.15", "why_not", "jax")


def test_why_not_takes_the_gpu_package_name(data_dir: Path) -> None:
    # `--why-not tensorflow-gpu==1.12.0`: the name 1.x users type selects that release.
    rows = why_not(
        profile(data_dir, "linux-gtx1080-driver384-py36.toml"),
        load_kb(),
        AUTO,
        "tensorflow-gpu==1.12.0",
    )
    assert [r.candidate for r in rows] == ["tensorflow==1.12.0"]


@pytest.mark.parametrize(
    "fields",
    [
        {"target": "tpu"},
        {"python": "3"},
        {"keras": "4"},
        {"channel": "npm"},
        {"tensorflow": "two"},
    ],
)
def test_bad_requests_are_usage_errors(data_dir: Path, fields: dict[str, Any]) -> None:
    # Text as flags hand it over; a target or channel that names no choice fails as it enters.
    with pytest.raises(UsageError, match=f"^--{next(iter(fields))}: "):
        resolve(profile(data_dir, "issue-example-h100.toml"), load_kb(), Request(**fields))


def test_cpu_build_note_on_a_build_without_avx(data_dir: Path) -> None:
    # TF <= 1.5 needs no AVX at all; the note must say so and name AVX among the extras it logs.
    p = plan_of(
        resolve(profile(data_dir, "linux-cpu-py36.toml"), load_kb(), Request(tensorflow="1.5"))
    )
    note = next(w.message for w in p.warnings if w.code == "cpu-build-note")
    assert "uses  only" not in note
    assert "no AVX" in note
    assert "AVX AVX2 FMA" in note


def test_numpy_reason_names_the_cap_only_where_it_applies(data_dir: Path) -> None:
    prof = profile(data_dir, "linux-cpu-py38.toml")
    tf213 = {x.name: x for x in plan_of(resolve(prof, load_kb(), Request())).packages}["numpy"]
    # 2.13 declares numpy<=1.24.3 itself: no redundant "<2", no claim that envgen capped it.
    assert tf213.version == "<=1.24.3,>=1.22"
    assert "capped" not in tf213.reason
    tf211 = resolve(prof, load_kb(), Request(tensorflow="2.11"))
    numpy = {x.name: x for x in plan_of(tf211).packages}["numpy"]
    # 2.11 declares numpy>=1.20 with no upper bound: the <2 cap is envgen's and says so.
    assert numpy.version == "<2,>=1.20"
    assert "capped below 2" in numpy.reason


def test_old_tensorflow_caps_protobuf(data_dir: Path) -> None:
    """TF <= 2.11 imports fail with protobuf >= 4 (checked here: tensorflow 1.15.5 with protobuf
    4.24 raises "Descriptors cannot be created directly"); uv resolves 2.4.4 to protobuf 5.29."""
    prof = profile(data_dir, "issue-example-h100.toml")
    old = plan_of(
        resolve(
            prof,
            load_kb(),
            Request(channel=Channel.AUTO, target=Target.CPU, python="3.8", tensorflow="2.4"),
        )
    )
    pins = {p.name: p.version for p in old.packages}
    assert pins["protobuf"] == "<3.20"
    new = plan_of(resolve(prof, load_kb(), Request(channel=Channel.AUTO, target=Target.CPU)))
    assert "protobuf" not in {p.name for p in new.packages}


def test_windows_system_cuda_speaks_of_dlls_on_path(data_dir: Path) -> None:
    # Issue 14 §4: Windows loads DLLs from PATH; sonames and LD_LIBRARY_PATH are Linux words.
    prof = profile(data_dir, "windows10-rtx3060-py310.toml")
    p = plan_of(resolve(prof, load_kb(), Request(channel=Channel.SYSTEM)))
    note = next(w.message for w in p.warnings if w.code == "system-cuda")
    assert "cudart64_*.dll" in note
    assert "PATH" in note
    assert "soname" not in note
    linux = plan_of(
        resolve(
            profile(data_dir, "linux-gtx1080ti-driver418-py37.toml"),
            load_kb(),
            Request(channel=Channel.SYSTEM),
        )
    )
    assert "soname" in next(w.message for w in linux.warnings if w.code == "system-cuda")
