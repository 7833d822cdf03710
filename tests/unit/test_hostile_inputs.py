"""Hostile and odd input files through the CLI: each is one line naming the file and the key, with
the documented exit code (3 for a bad input file, 2 for a bad flag or variable), never a
traceback, a hang or unbounded memory (issue 11, sections 4 and 5)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from envgen.cli import main
from envgen.documents import MAX_ITEMS

REPO = Path(__file__).resolve().parents[2]
# The committed lock set and the options that made it (its index's "regenerate with" line).
LOCK_ARGS = [
    "--profile",
    str(REPO / "tests/data/profiles/issue-example-h100.toml"),
    "--python",
    "3.11",
    "--tensorflow",
    "2.21",
    "--platform",
    "linux-64,win-64,osx-arm64",
    "--variants",
    "cpu,gpu",
]
PROFILE = REPO / "tests/data/profiles/linux-cpu-py311.toml"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit code and standard error of `envgen ARGV`; the error must be one line (plus a hint)."""
    code = main(argv)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "Traceback" not in err
    assert "internal error" not in err
    if code != 0:
        assert lines[0].startswith("envgen: error: ")
        assert all(line.startswith("hint: ") for line in lines[1:]), err
    return code, err


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty project folder, with no ENVGEN_* variable from the caller."""
    for name in list(os.environ):
        if name.startswith("ENVGEN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- undecodable input files ---------------------------------------------------------------------

BINARY = b"\x00\xff\xfe\x89PNG\r\n\x1a\n"
UTF16 = "schema = 1\n".encode("utf-16")


@pytest.mark.parametrize("data", [BINARY, UTF16], ids=["binary", "utf-16"])
@pytest.mark.parametrize("command", ["detect", "plan"])
def test_undecodable_profile(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], data: bytes, command: str
) -> None:
    path = in_tmp / "profile.toml"
    path.write_bytes(data)
    code, err = run([command, "--profile", str(path)], capsys)
    assert code == 3
    assert f"profile {path} is not UTF-8 text" in err


def test_binary_pyproject_does_not_break_detect(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / "pyproject.toml").write_bytes(BINARY)
    code, _ = run(["detect", "--profile", str(PROFILE)], capsys)
    assert code == 0  # detect reads no project option, so it never opens the file


@pytest.mark.parametrize("data", [BINARY, UTF16, b"[tool.envgen\n", b"a = " + b"[" * 5000])
def test_bad_pyproject_is_one_line_for_commands_that_read_it(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    (in_tmp / "pyproject.toml").write_bytes(data)
    code, err = run(["plan", "--profile", str(PROFILE)], capsys)
    assert code == 3
    assert str(in_tmp / "pyproject.toml") in err.splitlines()[0]


def test_pyproject_python_version_is_not_verifys_interpreter(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # [tool.envgen] python is the Python *version* of the request; verify's --python is an
    # interpreter. The table used to fill it, so every verify failed with "not both".
    (in_tmp / "pyproject.toml").write_text('[tool.envgen]\npython = "3.11"\n')
    code, err = run(["verify", "--prefix", str(in_tmp / "none"), "--report", "-"], capsys)
    assert "not both" not in err
    assert code == 3  # the prefix has no interpreter: a bad input, named
    assert str(in_tmp / "none") in err


def _lock_copy(tmp: Path) -> Path:
    locks = tmp / "locks"
    shutil.copytree(REPO / "locks", locks)
    return locks


@pytest.mark.parametrize("data", [BINARY, UTF16])
def test_undecodable_lock_index(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    locks = _lock_copy(in_tmp)
    (locks / "envgen-lock.toml").write_bytes(data)
    code, err = run(["lock", "--check", *LOCK_ARGS, "--output-dir", str(locks)], capsys)
    assert code == 3
    assert f"lock index {locks / 'envgen-lock.toml'} is not UTF-8 text" in err


def test_undecodable_requirements_lock(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locks = _lock_copy(in_tmp)
    (locks / "requirements.cpu-linux-64.txt").write_bytes(BINARY)
    code, err = run(["lock", "--check", *LOCK_ARGS, "--output-dir", str(locks)], capsys)
    assert code == 3
    assert "requirements.cpu-linux-64.txt is not UTF-8 text" in err


def test_undecodable_lock_given_to_verify(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = in_tmp / "requirements.lock.txt"
    lock.write_bytes("numpy==2.0.0\n".encode("utf-16"))
    argv = ["verify", "--profile", str(PROFILE), "--lock", str(lock), "--report", "-"]
    code, err = run([*argv, "--python", str(in_tmp / "python")], capsys)
    assert code == 3
    assert f"lock {lock} is not UTF-8 text" in err


# --- nesting, wrong types, sizes, special files --------------------------------------------------


def test_deeply_nested_profile(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = in_tmp / "deep.toml"
    path.write_text("schema = 1\n[cpu]\nflags = " + "[" * 5000 + "]" * 5000 + "\n")
    code, err = run(["plan", "--profile", str(path)], capsys)
    assert code == 3
    assert f"{path}: nested too deeply" in err


def test_deeply_nested_json_profile(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = in_tmp / "deep.json"
    path.write_text('{"schema": 1, "cpu": {"flags": ' + "[" * 5000 + "]" * 5000 + "}}")
    code, err = run(["detect", "--profile", str(path)], capsys)
    assert code == 3
    assert f"{path}: nested too deeply" in err


def test_index_with_a_string_for_a_number(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locks = _lock_copy(in_tmp)
    index = locks / "envgen-lock.toml"
    index.write_text(index.read_text().replace("packages = 32", 'packages = "many"', 1))
    code, err = run(["lock", "--check", *LOCK_ARGS, "--output-dir", str(locks)], capsys)
    assert code == 3
    assert f"{index}: variant[0].lock[0].packages: expected a non-negative integer" in err


def test_index_path_leaving_the_lock_folder(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locks = _lock_copy(in_tmp)
    index = locks / "envgen-lock.toml"
    text = index.read_text()
    name = '"requirements.cpu-linux-64.txt"'
    index.write_text(text.replace(f"requirements = {name}", 'requirements = "../../etc/passwd"'))
    code, err = run(["lock", "--check", *LOCK_ARGS, "--output-dir", str(locks)], capsys)
    assert code == 3  # it used to say "lock set is current"
    assert "variant[0].lock[0].requirements: expected a file name in this folder" in err
    index.write_text(text.replace(f"{name} = ", '"../outside.txt" = '))
    code, err = run(["lock", "--check", *LOCK_ARGS, "--output-dir", str(locks)], capsys)
    assert code == 3
    assert "files: expected file names in this folder, got '../outside.txt'" in err


def test_symlink_out_of_the_lock_folder(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locks = _lock_copy(in_tmp)
    outside = in_tmp / "outside.txt"
    outside.write_text("secret\n")
    (locks / "requirements.cpu-linux-64.txt").unlink()
    (locks / "requirements.cpu-linux-64.txt").symlink_to(outside)
    code, err = run(["lock", "--check", *LOCK_ARGS, "--output-dir", str(locks)], capsys)
    assert code == 3
    assert "requirements.cpu-linux-64.txt leads outside" in err


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no /dev/zero")
def test_profile_from_dev_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(["detect", "--profile", "/dev/zero"], capsys)
    assert code == 3
    assert "profile /dev/zero is not a regular file" in err


def test_profile_fifo_without_writer(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = in_tmp / "profile.toml"
    mkfifo = getattr(os, "mkfifo", None)
    if mkfifo is None:
        pytest.skip("Windows has no FIFOs")
    mkfifo(fifo)
    code, err = run(["plan", "--profile", str(fifo)], capsys)
    assert code == 3
    assert f"profile {fifo} is not a regular file" in err


def test_profile_over_the_size_cap(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = in_tmp / "big.toml"
    flags = ",".join(f'"f{i}"' for i in range(1_000_000))
    path.write_text(f"schema = 1\n[cpu]\nflags = [{flags}]\n")
    code, err = run(["plan", "--profile", str(path)], capsys)
    assert code == 3
    assert "bytes; the limit is" in err


def test_profile_with_too_many_flags(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = in_tmp / "flags.toml"
    flags = ",".join(f'"{i}"' for i in range(100_000))  # under the byte cap
    path.write_text(f"schema = 1\n[cpu]\nflags = [{flags}]\n")
    code, err = run(["plan", "--profile", str(path)], capsys)
    assert code == 3
    assert f"{path}: cpu.flags: 100000 entries; the limit is {MAX_ITEMS}" in err


@pytest.mark.usefixtures("in_tmp")
def test_too_many_flags_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVGEN_CPU_FLAGS", ",".join(f"f{i}" for i in range(1_000_000)))
    code, err = run(["plan", "--profile", str(PROFILE)], capsys)
    assert code == 2
    assert "ENVGEN_CPU_FLAGS" in err
    assert "cpu.flags: 1000000 entries" in err


def test_many_flags_plan_in_bounded_work(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The most flags a profile may hold: planning builds the flag set once, not once per
    # candidate release (it used to, which made a million flags take minutes).
    path = in_tmp / "flags.toml"
    flags = ",".join(f'"f{i}"' for i in range(MAX_ITEMS - 3))
    path.write_text(f'schema = 1\n[cpu]\nflags = ["avx", "avx2", "fma", {flags}]\n')
    code, _ = run(["plan", "--profile", str(path), "--target", "cpu"], capsys)
    assert code == 0


# --- numbers where version strings belong --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("[python]\nversion = 3.10", "python.version"),
        ("[os]\nglibc = 2.35", "os.glibc"),
        ('[nvidia]\ndriver = 535\ncuda = "12.2"', "nvidia.driver"),
        ('[nvidia]\ndriver = "535.1"\ncuda = 12.2', "nvidia.cuda"),
        ('[[gpu]]\nname = "T4"\ncompute-capability = 7.5', "gpu[0].compute-capability"),
        ("[[cuda-toolkit]]\nversion = 12.2", "cuda-toolkit[0].version"),
        ("[[cudnn]]\nversion = 8.9", "cudnn[0].version"),
        ('[python]\n[[python.found]]\nversion = 3.10\npath = "/x"', "python.found[0].version"),
    ],
)
def test_number_for_a_version_is_an_error(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], body: str, key: str
) -> None:
    path = in_tmp / "p.toml"
    path.write_text(f"schema = 1\n{body}\n")
    code, err = run(["detect", "--profile", str(path)], capsys)
    assert code == 3
    first, hint = err.splitlines()
    assert first.startswith(
        f"envgen: error: {path}: {key}: expected a quoted string, got the number"
    )
    assert "quotes" in hint


# --- one line, whatever the value holds ----------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '[os]\nname = "linux\\nRUN rm -rf /"',
        '[[gpu]]\nname = "T4\\r\\nx"',
        '[cpu]\nflags = ["avx", "x\\u2028y"]',
        '[os]\n"bad\\nkey" = 1',
        '[sources]\nos = "a\\nb"',
    ],
)
def test_line_breaks_in_values_stay_escaped(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], body: str
) -> None:
    path = in_tmp / "p.toml"
    path.write_text(f"schema = 1\n{body}\n")
    code, err = run(["detect", "--profile", str(path)], capsys)
    assert code == 3
    assert len(err.splitlines()) == 2  # the error and its hint


@pytest.mark.usefixtures("in_tmp")
def test_line_break_in_a_file_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(["detect", "--profile", "no\nsuch\x1b[2J.toml"], capsys)
    assert code == 3
    assert (
        err
        == "envgen: error: cannot read profile no\\nsuch\\x1b[2J.toml: No such file or directory\n"
    )


# --- configuration errors name their source ------------------------------------------------------


@pytest.mark.usefixtures("in_tmp")
def test_env_value_is_named_by_its_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVGEN_TARGET", "bogus")
    code, err = run(["plan", "--profile", str(PROFILE)], capsys)
    assert code == 2
    assert err.splitlines()[0] == (
        "envgen: error: ENVGEN_TARGET: expected one of cpu, gpu, auto, got 'bogus'"
    )


@pytest.mark.parametrize(
    "case",
    [
        ("plan", "ENVGEN_PYTHON", "three"),
        ("plan", "ENVGEN_TENSORFLOW", "~~2"),
        ("plan", "ENVGEN_KERAS", "4"),
        ("plan", "ENVGEN_CHANNEL", "apt"),
        ("verify", "ENVGEN_TARGET", "tpu"),
        ("verify", "ENVGEN_TIMEOUT", "soon"),
        ("doctor", "ENVGEN_TIMEOUT", "-1"),
        ("lock", "ENVGEN_VARIANTS", "tpu"),
        ("lock", "ENVGEN_PLATFORM", "plan9-mips"),
        ("render", "ENVGEN_FORMAT", "Makefile"),
        ("render", "ENVGEN_MIRROR", "nowhere"),
        ("plan", "ENVGEN_PYTHON", "3.11\nRUN x"),
    ],
)
def test_each_variable_is_named(
    in_tmp: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, str, str],
) -> None:
    command, variable, value = case
    monkeypatch.setenv(variable, value)
    argv = [command, "--profile", str(PROFILE)]
    if command == "verify":
        argv += ["--python", str(in_tmp / "python"), "--report", "-"]
    if command == "doctor":
        argv += ["--python", str(in_tmp / "python")]
    code, err = run(argv, capsys)
    assert code == 2
    assert err.startswith(f"envgen: error: {variable}: "), err


def test_pyproject_value_is_named_by_its_key(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = in_tmp / "pyproject.toml"
    pyproject.write_text('[tool.envgen]\npython = "three"\n')
    code, err = run(["plan", "--profile", str(PROFILE)], capsys)
    assert code == 3  # a bad value in a file is a bad input file
    assert err.splitlines()[0] == (
        f"envgen: error: {pyproject}: tool.envgen.python: expected a version like 3.11, got 'three'"
    )
    pyproject.write_text('[tool.envgen]\noutputs = ["Makefile"]\n')
    code, err = run(["render", "--profile", str(PROFILE), "-o", str(in_tmp / "out")], capsys)
    assert code == 3
    assert err.startswith(f"envgen: error: {pyproject}: tool.envgen.outputs: unknown format(s)")


def test_pyproject_choice_is_named_at_load(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / "pyproject.toml").write_text('[tool.envgen]\ntarget = "bogus"\n')
    code, err = run(["plan", "--profile", str(PROFILE)], capsys)
    assert code == 3
    assert "tool.envgen.target: expected one of cpu, gpu, auto, got 'bogus'" in err
    assert "--target" not in err


def test_envgen_toml_top_level_key_is_named(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / "envgen.toml").write_text('python = "3.x"\n')
    code, err = run(["plan", "--profile", str(PROFILE)], capsys)
    assert code == 3
    assert f"{in_tmp / 'envgen.toml'}: python: expected a version like 3.11" in err


def test_flag_value_is_still_named_by_its_flag(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / "pyproject.toml").write_text('[tool.envgen]\npython = "3.11"\n')
    code, err = run(["plan", "--profile", str(PROFILE), "--python", "three"], capsys)
    assert code == 2
    assert err.startswith("envgen: error: --python: expected a version like 3.11, got 'three'")
