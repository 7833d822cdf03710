"""Locks of JAX and PyTorch plans, on captured real uv 0.13.9 output (tests/data/uv).

`jax0.12.0.1-cuda13-py3.12-linux-64`, `jax0.12.0.1-cpu-py3.12-linux-64` and
`torch2.15.0-cuda13-py3.11-linux-64` are uv's two answers for the plans the resolver makes for a
Blackwell box with driver 580, a CPU box and the H100 box; `failed-fetch-pytorch-index-dns` is uv
failing to reach the PyTorch index from the development machine (no DNS for
download.pytorch.org there). A plan that needs the PyTorch index locks with it before PyPI,
canonical URLs only; the lock index records that index, KERAS_BACKEND and the build's needs.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import pytest

from envgen.detect import load_or_detect
from envgen.errors import ExternalToolError
from envgen.kb import load_kb
from envgen.kb.lock_platforms import LockPlatform, load_lock_platforms
from envgen.lock import fresh, pip, team
from envgen.lock import uv as uv_lock
from envgen.lock.index import parse_index
from envgen.lock.make import make_lock_set
from envgen.plan import Plan, Request, Target
from envgen.proc import Completed
from envgen.resolve import resolve
from tests.reference_plans import PROFILES

BLACKWELL = PROFILES / "linux-rtx5090-driver570-py312.toml"
DRIVER_580 = {"ENVGEN_CUDA_DRIVER": "580.95.05"}


def _plan(profile: Path, request: Request, environ: dict[str, str] | None = None) -> Plan:
    found = resolve(load_or_detect(str(profile), environ or {}), load_kb(), request)
    assert isinstance(found, Plan)
    return found


def jax_gpu() -> Plan:
    return _plan(BLACKWELL, Request(target=Target.GPU, keras_backend="jax"), DRIVER_580)


def jax_cpu() -> Plan:
    return _plan(PROFILES / "linux-cpu-py312.toml", Request(target=Target.CPU, keras_backend="jax"))


def torch_gpu() -> Plan:
    return _plan(
        PROFILES / "issue-example-h100.toml", Request(target=Target.GPU, keras_backend="torch")
    )


def torch_index() -> Plan:
    return _plan(PROFILES / "linux-gtx1080ti-driver535-py311.toml", Request(keras_backend="torch"))


def _captured(data_dir: Path, stem: str, platform: str, python: str) -> pip.PipLock:
    uv = data_dir / "uv"
    return pip.pip_lock(
        platform,
        python,
        (uv / f"{stem}.pylock.toml").read_text(),
        (uv / f"{stem}.requirements.txt").read_text(),
    )


CAPTURED = {
    "jax-gpu": ("jax0.12.0.1-cuda13-py3.12-linux-64", "3.12"),
    "jax-cpu": ("jax0.12.0.1-cpu-py3.12-linux-64", "3.12"),
    "torch-gpu": ("torch2.15.0-cuda13-py3.11-linux-64", "3.11"),
}


@pytest.mark.parametrize(
    ("case", "plan"), [("jax-gpu", jax_gpu), ("jax-cpu", jax_cpu), ("torch-gpu", torch_gpu)]
)
def test_captured_locks_honour_the_plans(data_dir: Path, case: str, plan: Any) -> None:
    stem, python = CAPTURED[case]
    planned: Plan = plan()
    lock = _captured(data_dir, stem, "linux-64", python)
    assert pip.unmet_pins(planned, lock.versions()) == []
    versions = lock.versions()
    assert "keras" in versions
    if case.startswith("jax"):
        # jax, jaxlib and (on the GPU) its plugin and pjrt at one version.
        same = {k: v for k, v in versions.items() if k.startswith("jax")}
        assert set(same.values()) == {"0.12.0.1"}
        assert ("jax-cuda13-pjrt" in same) is (case == "jax-gpu")
        if case == "jax-cpu":
            assert not any(name.startswith("nvidia-") for name in versions)
    else:
        assert versions["torch"] == "2.15.0"
        assert versions["cuda-toolkit"].startswith("13.2")


def test_uv_reads_the_pytorch_index_before_pypi_canonically() -> None:
    plan = torch_index()
    assert plan.indexes == ("https://download.pytorch.org/whl/cu126",)
    assert pip.requirements_in(plan).splitlines()[0] == "torch==2.14.1+cu126"
    plat = load_lock_platforms().get("linux-64")
    argv = uv_lock.uv_argv("uv", plan, plat, fmt="requirements", index=uv_lock.PYPI)
    index_at = argv.index("--index")
    assert argv[index_at + 1] == "https://download.pytorch.org/whl/cu126"
    assert index_at < argv.index("--default-index")
    assert argv[argv.index("--default-index") + 1] == uv_lock.PYPI
    # A TensorFlow plan asks PyPI alone, as it always did.
    tf = _plan(PROFILES / "linux-cpu-py312.toml", Request(target=Target.CPU))
    assert "--index" not in uv_lock.uv_argv("uv", tf, plat, fmt="requirements", index=uv_lock.PYPI)


def test_a_plan_reading_another_index_resolves_online() -> None:
    # The leads revalidate the pages the followers read offline: a plan that reads the PyTorch
    # index no lead read must be a lead itself.
    plan = torch_index()
    same_names = dataclasses.replace(plan, indexes=())
    assert uv_lock._leads([same_names, plan]) == [0, 1]
    assert uv_lock._leads([same_names, same_names]) == [0]


def test_an_unreachable_pytorch_index_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    stderr = (data_dir / "uv" / "failed-fetch-pytorch-index-dns.stderr.txt").read_text()

    def run(argv: list[str], **_: object) -> Completed:
        return Completed(tuple(argv), 2, "", stderr)

    monkeypatch.setattr(uv_lock, "run", run)
    plat = load_lock_platforms().get("linux-64")
    with pytest.raises(ExternalToolError) as info:
        uv_lock.lock_plans([(torch_index(), plat)], environ={})
    assert "\n" not in info.value.message
    assert "dns error" in info.value.message or "lookup address" in info.value.message
    assert "https://download.pytorch.org/whl/cu126 and https://pypi.org/simple" in (
        info.value.hint or ""
    )


@pytest.fixture
def captured_uv(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> list[str]:
    calls: list[str] = []

    def one(plan: Plan, platform: LockPlatform) -> pip.PipLock:
        case = f"{plan.keras_backend}-{plan.target}"
        calls.append(case)
        stem, python = CAPTURED[case]
        return _captured(data_dir, stem, platform.name, python)

    def lock_plans(jobs: list[tuple[Plan, LockPlatform]], **_: Any) -> list[pip.PipLock]:
        return [one(plan, platform) for plan, platform in jobs]

    monkeypatch.setattr(uv_lock, "lock_plans", lock_plans)
    return calls


@pytest.mark.usefixtures("captured_uv")
def test_the_index_records_backend_needs_and_round_trips() -> None:
    plans = [jax_cpu(), jax_gpu()]
    request = Request(keras_backend="jax")
    made = make_lock_set(plans, request, load_kb(), command="envgen lock")
    assert sorted(made.files) == [
        "envgen-lock.toml",
        "pylock.cpu-linux-64.toml",
        "pylock.cuda13-linux-64.toml",
        "requirements.cpu-linux-64.txt",
        "requirements.cuda13-linux-64.txt",
    ]
    index = parse_index(made.files["envgen-lock.toml"])
    assert index == dataclasses.replace(made.index, command="")
    assert index.request["keras-backend"] == "jax"
    gpu = index.variant("cuda13")
    assert gpu is not None
    assert gpu.min_compute_capability == "7.5"  # the CUDA 13 plugin starts at Turing
    assert dict(gpu.min_driver) == {"linux": "580.65.06"}  # NVIDIA: no Windows row for 13.x
    assert gpu.environment == (("KERAS_BACKEND", "jax"),)
    assert gpu.cpu_features == ("avx",)
    assert gpu.locks[0].framework == "jax[cuda13]==0.12.0.1"
    doc = tomllib.loads(made.files["envgen-lock.toml"])
    assert doc["variant"][1]["lock"][0]["framework"] == "jax[cuda13]==0.12.0.1"
    assert "tensorflow" not in doc["variant"][1]["lock"][0]


@pytest.mark.usefixtures("captured_uv")
def test_a_pytorch_index_lock_records_its_index() -> None:
    plan = dataclasses.replace(torch_gpu(), indexes=("https://download.pytorch.org/whl/cu130",))
    made = make_lock_set([plan], Request(keras_backend="torch"), load_kb(), command="x")
    index = parse_index(made.files["envgen-lock.toml"])
    lock = index.variants[0].locks[0]
    assert lock.indexes == ("https://download.pytorch.org/whl/cu130",)
    assert "indexes = [" in made.files["envgen-lock.toml"]


@pytest.mark.usefixtures("captured_uv")
def test_a_jax_set_is_current_from_its_index_and_stale_on_another_backend(
    tmp_path: Path,
) -> None:
    ask = team.Ask(
        tmp_path,
        request=Request(keras_backend="jax"),
        machine=load_or_detect(str(BLACKWELL), DRIVER_580),
        platforms=("linux-64",),
        variants=("cpu", "gpu"),
    )
    kb = load_kb()
    team.lock(ask, kb, command="envgen lock", uv=lambda: "uv", detect=_no_detect)
    assert team.check(team.Ask(tmp_path), kb).current
    index = team.existing(tmp_path)
    assert index is not None
    assert fresh.team_request(index).keras_backend == "jax"
    changed = fresh.check(index, tmp_path, kb, request=Request(keras_backend="torch"))
    assert "request changed: keras_backend jax -> torch" in changed.changes


def _no_detect() -> Any:
    raise AssertionError("the lock stage must not detect this machine here")


@pytest.mark.usefixtures("captured_uv")
def test_the_build_gets_the_variants_environment_and_indexes(tmp_path: Path) -> None:
    from envgen import install
    from envgen.lock.make import write_lock_set
    from envgen.mirrors import MirrorChoice

    kb = load_kb()
    plan = dataclasses.replace(torch_gpu(), indexes=("https://download.pytorch.org/whl/cu130",))
    made = make_lock_set([plan], Request(keras_backend="torch"), kb, command="x")
    write_lock_set(made, tmp_path)
    h100 = load_or_detect(str(PROFILES / "issue-example-h100.toml"), {})
    use = team.use(tmp_path, h100, kb, mode="frozen")
    pypi = MirrorChoice(kb.mirrors.get("pypi"))
    request = install.request_for(use, project=tmp_path, prefix=tmp_path / ".venv", mirror=pypi)
    assert request.environment == (("KERAS_BACKEND", "torch"),)
    assert request.extra_index_urls == ("https://download.pytorch.org/whl/cu130",)
    mirrored = install.request_for(
        use,
        project=tmp_path,
        prefix=tmp_path / ".venv",
        mirror=pypi,
        torch_mirror="https://mirror.example/torch/whl",
    )
    assert mirrored.extra_index_urls == ("https://mirror.example/torch/whl/cu130",)
    offline = install.request_for(
        use, project=tmp_path, prefix=tmp_path / ".venv", mirror=pypi, offline_from=tmp_path
    )
    assert offline.extra_index_urls == ()
