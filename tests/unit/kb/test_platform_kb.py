"""The platform knowledge base: GPUs, CUDA archs, cuDNN, conda, mirrors.

Schema (every loader accepts the packaged data; a broken row fails naming file, row and key),
invariants across tables (every CUDA named has a driver row, every GPU's cc is a known arch,
canonical row order) and spot facts a reviewer can check against the cited sources.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from envgen.errors import KnowledgeBaseError, UsageError
from envgen.kb import conda, cuda_arch, cudnn, gpus, load_kb, load_toml, mirrors
from envgen.versions import is_dotted, parse_dotted

# ---------------------------------------------------------------------------------------------
# Schema

LOADERS: dict[str, tuple[ModuleType, Callable[[], object]]] = {
    "gpus.toml": (gpus, gpus.load_gpus),
    "cuda-arch.toml": (cuda_arch, cuda_arch.load_cuda_arch),
    "cudnn.toml": (cudnn, cudnn.load_cudnn),
    "conda.toml": (conda, conda.load_conda),
    "mirrors.toml": (mirrors, mirrors.load_mirrors),
}


def test_knowledge_base_exposes_every_platform_table() -> None:
    kb = load_kb()
    assert kb.gpus.models
    assert kb.cuda_arch.archs
    assert kb.cudnn.releases
    assert kb.conda.schemes
    assert kb.mirrors.mirrors


def _load_broken(
    monkeypatch: pytest.MonkeyPatch, *, name: str, table: str, index: int, key: str, value: Any
) -> object:
    """Run the loader of `name` on a copy of its data with one key of one row replaced."""
    module, loader = LOADERS[name]
    doc = copy.deepcopy(load_toml(name))
    section = doc[table]
    row = section[index] if isinstance(section, list) else section
    if value is None:
        del row[key]
    else:
        row[key] = value
    monkeypatch.setattr(module, "load_toml", lambda _name: doc)
    return loader()


@pytest.mark.parametrize(
    ("name", "table", "index", "key", "value", "message"),
    [
        ("gpus.toml", "gpu", 2, "cc", "9", "gpus.toml: gpu[2].cc: must be 'X.Y'"),
        (
            "gpus.toml",
            "gpu",
            0,
            "pattern",
            "(unclosed",
            "gpus.toml: gpu[0].pattern: does not compile",
        ),
        ("gpus.toml", "gpu", 1, "source", None, "gpus.toml: gpu[1].source: missing"),
        ("gpus.toml", "gpu", 1, "examples", [], "gpus.toml: gpu[1].examples: must not be empty"),
        (
            "gpus.toml",
            "normalise",
            0,
            "remove",
            ["("],
            "gpus.toml: normalise.remove[0]: does not compile",
        ),
        (
            "cuda-arch.toml",
            "arch",
            3,
            "first-cuda",
            "eleven",
            "cuda-arch.toml: arch[3].first-cuda: must be dotted integers",
        ),
        (
            "cuda-arch.toml",
            "major",
            0,
            "min-cc",
            "2",
            "cuda-arch.toml: major[0].min-cc: must be 'X.Y'",
        ),
        (
            "cuda-arch.toml",
            "arch",
            0,
            "typo-key",
            "x",
            "cuda-arch.toml: arch[0].typo-key: unknown key",
        ),
        (
            "cudnn.toml",
            "release",
            4,
            "min-cc",
            "3.x",
            "cudnn.toml: release[4].min-cc: must be dotted integers",
        ),
        (
            "cudnn.toml",
            "release",
            0,
            "cuda",
            ["8.0.61"],
            "cudnn.toml: release[0].cuda[0]: must be 'X' or 'X.Y'",
        ),
        (
            "cudnn.toml",
            "release",
            0,
            "through",
            "4.0",
            "cudnn.toml: release[0].through: 4.0 is older than cudnn",
        ),
        (
            "cudnn.toml",
            "compat",
            0,
            "rule",
            "anything-goes",
            "cudnn.toml: compat.rule: must be one of",
        ),
        (
            "conda.toml",
            "cuda-scheme",
            0,
            "cuda",
            ["11"],
            "conda.toml: cuda-scheme[0].cuda[0]: must be 'X.Y'",
        ),
        (
            "conda.toml",
            "cudnn-package",
            0,
            "channel",
            "nope",
            "conda.toml: cudnn-package[0].channel: 'nope' is not a [[channel]]",
        ),
        (
            "conda.toml",
            "channel",
            0,
            "url",
            "http://x",
            "conda.toml: channel[0].url: must start 'https://'",
        ),
        (
            "mirrors.toml",
            "mirror",
            0,
            "pypi",
            "http://mirrors.example/simple",
            "mirrors.toml: mirror[0].pypi: must start 'https://'",
        ),
        ("mirrors.toml", "mirror", 0, "pypi", None, "mirrors.toml: mirror[0].pypi: missing"),
        (
            "mirrors.toml",
            "mirror",
            0,
            "conda-channels",
            None,
            "mirrors.toml: mirror[0].conda-cloud: conda-cloud and conda-channels go together",
        ),
    ],
)
def test_a_broken_row_fails_naming_the_key(
    monkeypatch: pytest.MonkeyPatch,
    *,
    name: str,
    table: str,
    index: int,
    key: str,
    value: Any,
    message: str,
) -> None:
    with pytest.raises(KnowledgeBaseError, match=re.escape(message)):
        _load_broken(monkeypatch, name=name, table=table, index=index, key=key, value=value)


# ---------------------------------------------------------------------------------------------
# Canonical form


def _cc(text: str) -> tuple[int, ...]:
    return parse_dotted(text)


def test_rows_are_sorted_canonically() -> None:
    kb = load_kb()
    gpu_keys = [(_cc(m.cc), m.pattern) for m in kb.gpus.models]
    assert gpu_keys == sorted(gpu_keys), "gpus.toml: sort by cc, then pattern"
    assert [m.major for m in kb.cuda_arch.majors] == sorted(m.major for m in kb.cuda_arch.majors)
    arch_keys = [_cc(a.cc) for a in kb.cuda_arch.archs]
    assert arch_keys == sorted(set(arch_keys)), "cuda-arch.toml: sort by cc, no duplicates"
    cudnn_keys = [
        (parse_dotted(r.first), [parse_dotted(c) for c in r.cuda]) for r in kb.cudnn.releases
    ]
    assert cudnn_keys == sorted(cudnn_keys), "cudnn.toml: sort by cudnn, then cuda"
    names = kb.mirrors.names()
    assert names == sorted(set(names)), "mirrors.toml: sort by name, no duplicates"


def test_compute_capabilities_are_well_formed() -> None:
    kb = load_kb()
    named = [m.cc for m in kb.gpus.models] + [a.cc for a in kb.cuda_arch.archs]
    named += [m.min_cc for m in kb.cuda_arch.majors] + [r.min_cc for r in kb.cudnn.releases]
    assert all(is_dotted(cc, parts=2) for cc in named)


# ---------------------------------------------------------------------------------------------
# Invariants across tables


def _has_driver_row(cuda: str) -> bool:
    """True if cuda-drivers.toml covers `cuda`: "X.Y" exactly, or a bare "X" by any X.y row."""
    drivers = load_kb().drivers
    if is_dotted(cuda, parts=1):
        return any(parse_dotted(t.cuda)[0] == int(cuda) for t in drivers.toolkits)
    return drivers.toolkit_minimum(cuda, "linux") is not None


def test_every_cuda_named_has_a_driver_row() -> None:
    kb = load_kb()
    named = kb.cuda_arch.cuda_versions() | kb.cudnn.cuda_versions() | kb.conda.cuda_versions()
    named |= {str(m.major) for m in kb.cuda_arch.majors}
    missing = sorted(c for c in named if not _has_driver_row(c))
    assert not missing, f"CUDA versions without a cuda-drivers.toml row: {missing}"


def test_every_gpu_compute_capability_is_a_known_arch() -> None:
    kb = load_kb()
    unknown = sorted({m.cc for m in kb.gpus.models if kb.cuda_arch.arch(m.cc) is None}, key=_cc)
    assert not unknown


def test_every_gpu_example_resolves_to_its_own_row() -> None:
    table = load_kb().gpus
    for model in table.models:
        for example in model.examples:
            got = table.model(example)
            assert got is model, (
                f"{example!r} -> {got.pattern if got else None}, not {model.pattern}"
            )


def test_arch_first_toolkit_is_not_below_its_major_floor() -> None:
    """A toolkit cannot introduce an arch that its own major already dropped."""
    table = load_kb().cuda_arch
    for arch in table.archs:
        if arch.first_cuda is not None:
            assert table.supports(arch.first_cuda, arch.cc), arch.cc


def test_mirror_urls_are_all_https() -> None:
    for m in load_kb().mirrors.mirrors:
        urls = [m.pypi, m.conda_pkgs, m.conda_cloud, *m.default_channels()]
        assert all(u.startswith("https://") for u in urls if u is not None), m.name


# ---------------------------------------------------------------------------------------------
# Spot facts


@pytest.mark.parametrize(
    ("name", "cc"),
    [
        ("NVIDIA H100 80GB HBM3", "9.0"),
        ("NVIDIA GeForce RTX 4090", "8.9"),
        ("GeForce GTX 650", "3.0"),
        ("NVIDIA GeForce GTX 1080 Ti", "6.1"),
        ("NVIDIA GeForce RTX 5090", "12.0"),
        ("NVIDIA GeForce RTX 3090", "8.6"),
        ("Tesla K80", "3.7"),
        ("Quadro RTX 4000", "7.5"),
        ("Tesla T4", "7.5"),
        ("NVIDIA A100-SXM4-80GB", "8.0"),
        ("NVIDIA A10G", "8.6"),
        ("GeForce GTX TITAN X", "5.2"),
        ("TITAN X (Pascal)", "6.1"),
        ("NVIDIA RTX A6000", "8.6"),
        ("NVIDIA RTX 6000 Ada Generation", "8.9"),
        ("NVIDIA GeForce RTX™ 4060 Laptop GPU", "8.9"),
    ],
)
def test_gpu_compute_capability(name: str, cc: str) -> None:
    assert load_kb().gpus.compute_capability(name) == cc


def test_unknown_gpu_is_none_not_a_guess() -> None:
    table = load_kb().gpus
    assert table.compute_capability("Matrox G200eR2") is None
    # "a10" must not claim an A100, nor "t4" a T4000-something.
    assert table.compute_capability("NVIDIA A100 80GB PCIe") == "8.0"


@pytest.mark.parametrize(
    ("cuda", "cc", "expected"),
    [
        ("12.4", "3.5", False),  # Kepler 3.5/3.7 dropped in CUDA 12
        ("11.8", "3.5", True),
        ("13.0", "7.0", False),  # Volta dropped in CUDA 13
        ("13.0", "7.5", True),
        ("8.0", "6.1", True),
        ("8.0", "7.0", False),  # Volta arrived in 9.0
        ("11.0", "8.6", False),  # 8.6 arrived in 11.1
        ("11.1", "8.6", True),
        ("12.8", "12.0", True),
        ("12.9", "10.1", True),
        ("13.0", "10.1", False),  # renamed sm_110
        ("10.2", "3.0", True),
        ("11.0", "3.0", False),
    ],
)
def test_cuda_arch_support(cuda: str, cc: str, expected: bool) -> None:
    assert load_kb().cuda_arch.supports(cuda, cc) is expected


def test_min_toolkit_for_new_archs() -> None:
    table = load_kb().cuda_arch
    expected = {"8.0": "11.0", "8.6": "11.1", "8.9": "11.8", "9.0": "11.8", "10.0": "12.8"}
    assert {cc: table.min_toolkit_for(cc) for cc in expected} == expected
    assert table.min_toolkit_for("12.0") == "12.8"
    assert table.min_toolkit_for("3.5") is None  # predates CUDA 8, the oldest row


def test_cudnn_facts() -> None:
    table = load_kb().cudnn
    assert table.ships_for("8.1.0", "11.2")
    assert table.min_cc("8.1", "11.2") == "3.5"
    assert table.min_cc("8.1", "10.2") == "3.0"
    assert table.ships_for("9.3", "12.5")
    assert not table.ships_for("9.3", "13.0")
    assert table.min_cc("9.3", "12.5") == "5.0"
    assert table.supports_gpu("8.9", "12.3", "8.9")
    assert not table.supports_gpu("9.3", "12.5", "3.7")


@pytest.mark.parametrize(
    ("built", "loaded", "ok"),
    [
        ("8.1.0", "8.0.5", False),  # older minor: TensorFlow refuses it
        ("8.6.0", "8.9.4", True),
        ("9.3.0", "9.1.0", False),
        ("8.9", "9.3", False),  # other major
        ("9.3.0", "9.3.0", True),
    ],
)
def test_cudnn_runtime_rule(built: str, loaded: str, ok: bool) -> None:
    assert load_kb().cudnn.runtime_compatible(built, loaded) is ok


def test_conda_specs() -> None:
    table = load_kb().conda
    assert table.specs_for("11.2", "8.1") == ["cudatoolkit=11.2", "cudnn=8.1"]
    assert table.specs_for("11.2.2", "8.1.0") == ["cudatoolkit=11.2", "cudnn=8.1"]
    assert table.specs_for("12.5", "9.3") == ["cuda-version=12.5", "cudnn=9.3"]
    assert table.specs_for("12.8") == ["cuda-version=12.8"]
    runtime = table.specs_for("12.8", runtime=True)
    assert runtime is not None
    assert "libcublas" in runtime
    # Honest about what does not exist.
    assert table.specs_for("12.7") is None
    assert "12.7" in (table.why_not("12.7") or "")
    assert table.specs_for("10.2", "9.3") is None
    assert table.why_not("11.2", "8.1") is None


def test_conda_tensorflow_facts() -> None:
    table = load_kb().conda
    assert table.tensorflow.gpu_platforms == ("linux-64",)
    assert table.tensorflow.gpu_spec.format(version="2.19") == "tensorflow=2.19=cuda*"
    # The CUDA variants per release are the conda-forge table's (conda-forge-tensorflow.toml).
    forge = load_kb().conda_forge
    assert "12.8" in forge.cuda_lines("2.19.1")
    assert forge.cuda_lines("1.15") == ()


def test_mirror_presets() -> None:
    table = load_kb().mirrors
    assert table.names() == [
        "aliyun", "bfsu", "huawei", "pypi", "sjtu", "tencent", "tuna", "ustc",
    ]  # fmt: skip
    tuna = table.get("tuna")
    assert tuna.pypi == "https://pypi.tuna.tsinghua.edu.cn/simple"
    assert tuna.channel_url("conda-forge") == (
        "https://mirrors.tuna.tsinghua.edu.cn/anaconda/cloud/conda-forge"
    )
    assert tuna.channel_url("nvidia") is None
    ustc = table.get("ustc")
    assert ustc.default_channels() == []
    assert set(ustc.conda_channels) == {"conda-forge", "bioconda"}
    assert table.get("pypi").pypi == "https://pypi.org/simple"
    assert table.get("pypi").channel_url("nvidia") == "https://conda.anaconda.org/nvidia"


def test_unknown_mirror_lists_the_available_ones() -> None:
    with pytest.raises(UsageError) as info:
        load_kb().mirrors.get("mirrorz")
    assert "tuna" in info.value.hint
    assert "ustc" in info.value.hint


def test_lock_platforms_are_the_only_platform_list(data_dir: Path) -> None:
    """The (OS, machine) -> platform mapping the resolver once kept beside this table."""
    from envgen.detect import load_or_detect
    from envgen.resolve import platform_of

    table = load_kb().lock_platforms
    assert {(p.os_name, p.arch): p.kb_platform for p in table.platforms} == {
        ("linux", "x86_64"): "linux-x86_64",
        ("linux", "aarch64"): "linux-aarch64",
        ("windows", "x86_64"): "windows-x86_64",
        ("macos", "x86_64"): "macos-x86_64",
        ("macos", "arm64"): "macos-arm64",
    }
    assert table.for_machine("linux", "armv7l") is None
    profiles = data_dir / "profiles"
    wsl = load_or_detect(str(profiles / "linux-wsl2-rtx4070-py311.toml"), {})
    assert platform_of(wsl, load_kb()) == "linux-x86_64"  # WSL2 runs the Linux wheels
    mac = load_or_detect(str(profiles / "macos-arm64-m2-py311.toml"), {})
    assert platform_of(mac, load_kb()) == "macos-arm64"
    marker = dict(table.get("win-64").marker_values)
    assert marker == {
        "platform_machine": "AMD64",
        "platform_system": "Windows",
        "sys_platform": "win32",
    }
