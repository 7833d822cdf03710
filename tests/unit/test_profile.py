"""Profile files: the documented form, derivations, round trips, and key-exact errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envgen.errors import InputFileError
from envgen.kb import load_kb
from envgen.profile import complete, from_dict, load_profile, parse_profile_text, to_json, to_toml


def test_issue_example_loads(data_dir: Path) -> None:
    p = load_profile(data_dir / "profiles/issue-example-h100.toml")
    assert p.os.glibc == "2.35"
    assert p.nvidia is not None
    assert p.nvidia.cuda == "13.0"
    assert p.gpus[0].compute_capability == "9.0"
    assert p.has_nvidia_gpu


def test_minimal_profile_gets_defaults_and_derivations() -> None:
    p = parse_profile_text(
        'schema = 1\n[nvidia]\ndriver = "535.104.05"\n[[gpu]]\nname = "NVIDIA GeForce RTX 3090"\n'
        '[cpu]\nflags = ["avx", "avx2", "fma"]\n',
        "mini.toml",
    )
    done = complete(p, load_kb())
    assert done.nvidia is not None
    assert done.nvidia.cuda == "12.2"
    assert done.gpus[0].compute_capability == "8.6"
    # A hand-written flag list implies the v2 set behind AVX; without FMA-era bmi/movbe it is v2.
    assert done.cpu.x86_64_level == 2
    assert dict(done.sources)["nvidia.cuda"].startswith("derived")


def test_wsl_uses_windows_driver_numbers() -> None:
    p = parse_profile_text(
        'schema = 1\n[os]\nwsl = true\n[nvidia]\ndriver = "528.33"\n', "wsl.toml"
    )
    assert complete(p, load_kb()).nvidia.cuda == "12.0"  # type: ignore[union-attr]


def test_h100_capture_round_trips(data_dir: Path) -> None:
    text = (data_dir / "nvidia/h100/detect.json").read_text()
    p = parse_profile_text(text, "detect.json")  # the --json envelope is accepted
    assert parse_profile_text(to_json(p), "again.json") == p
    assert parse_profile_text(to_toml(p), "again.toml") == p
    toml_text = (data_dir / "nvidia/h100/profile.toml").read_text()
    assert parse_profile_text(toml_text, "profile.toml").gpus == p.gpus


def test_output_is_deterministic(data_dir: Path) -> None:
    p = load_profile(data_dir / "nvidia/h100/profile.toml")
    assert to_toml(p) == to_toml(p)
    assert json.loads(to_json(p)) == p.to_dict()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "profile.toml: schema: missing"),
        ("schema = 2", "schema: unsupported version 2"),
        ('schema = 1\n[os]\nname = "beos"', "os.name: expected one of linux, windows, macos"),
        (
            'schema = 1\n[[gpu]]\nname = "X"\ncompute_capability = "8.6"',
            "gpu[0].compute_capability: unknown key (did you mean 'compute-capability'?)",
        ),
        (
            'schema = 1\n[[gpu]]\nname = "X"\ncompute-capability = "86"',
            "gpu[0].compute-capability: expected",
        ),
        ('schema = 1\n[nvidia]\ncuda = "12.2"', "nvidia.driver: missing"),
        ('schema = 1\n[cpu]\nflags = "avx"', "cpu.flags: expected a list of strings"),
        ("schema = 1\n[os\n", "not valid TOML"),
    ],
)
def test_malformed_profile_names_the_key(text: str, message: str) -> None:
    with pytest.raises(InputFileError, match=r"profile\.toml") as info:
        parse_profile_text(text, "profile.toml")
    assert message in info.value.message
    assert "\n" not in info.value.message


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="cannot read profile"):
        load_profile(tmp_path / "missing.toml")


def test_from_dict_rejects_non_table() -> None:
    with pytest.raises(InputFileError):
        from_dict([1, 2], "x.json")
