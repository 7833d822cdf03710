"""Render: golden files per reference profile, determinism, headers, mirrors, Dockerfile variants.

Goldens live in tests/data/golden/render/<profile>/; after an intended change, regenerate them with
`ENVGEN_TEST_UPDATE_GOLDEN=1 pytest tests/unit/test_render.py` and review the diff like code.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envgen.errors import FileConflictError, UsageError
from envgen.files import MARKER, is_edited, write_text
from envgen.kb import load_kb
from envgen.kb.mirrors import Mirror
from envgen.mirrors import MirrorChoice, custom_mirror
from envgen.plan import Plan
from envgen.render import (
    ALL_FORMATS,
    FORMATS,
    RenderOptions,
    context_path_problem,
    docker_variant,
    parse_formats,
    render,
    write,
)
from tests.reference_plans import REFERENCE, cpu_linux, h100_linux, resolved, tf1_conda_gpu

GOLDEN = Path(__file__).parent.parent / "data" / "golden" / "render"
# Which mirror each golden is rendered with: one profile per mirror shape (upstream, a full
# mirror, a conda-less one).
MIRROR_FOR = {"h100-linux": "tuna", "tf1-conda-gpu": "ustc", "windows-tf2.10-gpu": "huawei"}
COMMAND = "envgen render --profile profile.toml"


def _mirror(name: str) -> MirrorChoice:
    return MirrorChoice(load_kb().mirrors.get(name))


def _options(profile: str, **kw: object) -> RenderOptions:
    mirror = _mirror(MIRROR_FOR.get(profile, "pypi"))
    return RenderOptions(mirror, formats=ALL_FORMATS, command=COMMAND, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("profile", sorted(REFERENCE))
def test_golden(profile: str) -> None:
    result = render(REFERENCE[profile](), _options(profile))
    directory = GOLDEN / profile
    if os.environ.get("ENVGEN_TEST_UPDATE_GOLDEN") == "1":
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.iterdir():
            old.unlink()
        for f in result.files:
            (directory / f.name).write_text(f.text, encoding="utf-8")
    expected = sorted(p.name for p in directory.iterdir())
    assert sorted(f.name for f in result.files) == expected
    for f in result.files:
        assert f.text == (directory / f.name).read_text(encoding="utf-8"), f"{profile}/{f.name}"


@pytest.mark.parametrize("profile", sorted(REFERENCE))
def test_every_file_has_a_true_header(profile: str) -> None:
    result = render(REFERENCE[profile](), _options(profile))
    for f in result.files:
        head = f.text.splitlines()[:3]
        assert MARKER in head[0]
        assert head[1] == f"# regenerate: {COMMAND}"
        assert f"inputs-sha256: {result.inputs}" in head[2]
        assert not is_edited(f.text)
        assert f.text.endswith("\n")
        assert not f.text.endswith("\n\n")


def test_output_is_deterministic_and_inputs_hash_follows_inputs() -> None:
    first = render(h100_linux(), _options("h100-linux"))
    again = render(h100_linux(), _options("h100-linux"))
    assert first == again
    other = render(h100_linux(), RenderOptions(_mirror("aliyun"), formats=ALL_FORMATS))
    assert other.inputs != first.inputs


def test_dockerfile_variant_follows_how_cuda_arrives() -> None:
    linux = ["cpu-linux", "h100-linux", "h100-linux-system-cuda", "tf1-conda-gpu"]
    assert [docker_variant(REFERENCE[p]()) for p in linux] == [
        "cpu",
        "gpu-pip",
        "gpu-system",
        "conda",
    ]


@pytest.mark.parametrize("profile", ["windows-tf2.10-gpu", "macos-arm64"])
def test_no_dockerfile_for_a_plan_that_is_not_linux(profile: str) -> None:
    result = render(REFERENCE[profile](), _options(profile))
    assert "Dockerfile" not in [f.name for f in result.files]
    assert result.skipped[0][0] == "Dockerfile"
    assert "containers run Linux" in result.skipped[0][1]


def test_keras_2_on_keras_3_tensorflow_sets_the_legacy_variable_everywhere() -> None:
    plan = resolved("issue-example-h100.toml", target="gpu", tensorflow="2.21", keras="2")
    texts = {f.name: f.text for f in render(plan, _options("h100-linux")).files}
    assert "tf-keras~=2.21.0\n" in texts["requirements.txt"]
    assert "#   TF_USE_LEGACY_KERAS=1\n" in texts["requirements.txt"]
    assert 'variables:\n  TF_USE_LEGACY_KERAS: "1"\n' in texts["environment.yml"]
    assert "TF_USE_LEGACY_KERAS=1" in texts["Dockerfile"]


def test_unknown_cuda_image_is_skipped_with_the_reason() -> None:
    plan = REFERENCE["h100-linux-system-cuda"]()
    odd = Plan(**{**plan.__dict__, "cuda": "12.2", "cudnn": "8.9"})
    result = render(odd, RenderOptions(_mirror("pypi"), formats=("Dockerfile",)))
    assert result.files == ()
    assert "CUDA 12.2 with cuDNN 8.9" in result.skipped[0][1]


def test_requirements_use_one_index_and_no_trusted_host_for_https() -> None:
    text = render(h100_linux(), _options("h100-linux")).files[1].text
    assert "--index-url https://pypi.tuna.tsinghua.edu.cn/simple\n" in text
    assert "--extra-index-url" not in text
    assert "--trusted-host" not in text
    assert "tensorflow[and-cuda]==2.21.0\n" in text


def test_http_mirror_needs_opt_in_and_then_trusts_only_its_host() -> None:
    from envgen.mirrors import choose

    table = load_kb().mirrors
    with pytest.raises(UsageError, match="plain http"):
        choose("http://pypi.internal:8080/simple", table)
    choice = choose("http://pypi.internal:8080/simple", table, allow_insecure=True)
    result = render(cpu_linux(), RenderOptions(choice, formats=ALL_FORMATS))
    texts = {f.name: f.text for f in result.files}
    assert "--trusted-host pypi.internal\n" in texts["requirements.txt"]
    assert "ARG PIP_TRUSTED_HOST=pypi.internal\n" in texts["Dockerfile"]
    assert "trusted-host = pypi.internal\n" in texts["pip.conf"]
    assert 'allow-insecure-host = ["pypi.internal"]' in texts["uv.toml"]


def test_custom_https_mirror_keeps_conda_channels_canonical() -> None:
    choice = MirrorChoice(custom_mirror("https://pypi.example.org/simple"))
    texts = {f.name: f.text for f in render(tf1_conda_gpu(), RenderOptions(choice)).files}
    assert '  - "conda-forge"\n' in texts["environment.yml"]
    assert "ARG PIP_INDEX_URL=https://pypi.example.org/simple\n" in texts["Dockerfile"]


def test_lockfile_is_installed_with_hashes() -> None:
    options = RenderOptions(
        _mirror("pypi"), formats=("Dockerfile",), lockfile="locks/requirements.cpu-linux-64.txt"
    )
    text = render(cpu_linux(), options).files[0].text
    assert "COPY locks/requirements.cpu-linux-64.txt /tmp/envgen/requirements.txt\n" in text
    assert "--require-hashes --no-deps" in text


def test_parse_formats() -> None:
    assert parse_formats("Dockerfile, environment.yml") == ("environment.yml", "Dockerfile")
    assert parse_formats(",".join(FORMATS)) == FORMATS
    with pytest.raises(UsageError, match=r"docker-compose\.yml") as exc:
        parse_formats("docker-compose.yml")
    assert exc.value.hint.startswith("available: environment.yml")


def test_write_is_idempotent_and_protects_edits(tmp_path: Path) -> None:
    result = render(cpu_linux(), RenderOptions(_mirror("pypi")))
    written = write(result, tmp_path)
    assert all(changed for _, changed in written.written)
    assert not any(changed for _, changed in write(result, tmp_path).written)
    assert (tmp_path / "Dockerfile").stat().st_mode & 0o644 == 0o644
    target = tmp_path / "requirements.txt"
    target.write_text(target.read_text() + "pandas\n")
    with pytest.raises(FileConflictError, match="edited by hand since"):
        write(result, tmp_path)
    write(result, tmp_path, force=True)
    assert "pandas" not in target.read_text()


def test_a_file_a_person_wrote_is_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "requirements.txt"
    target.write_text("numpy\n")
    with pytest.raises(FileConflictError, match="not written by envgen"):
        write_text(target, "# generated by envgen\n")


def test_crlf_checkout_is_not_an_edit() -> None:
    text = render(cpu_linux(), RenderOptions(_mirror("pypi"))).files[0].text
    assert not is_edited(text.replace("\n", "\r\n"))
    assert is_edited(text.replace("python=3.11", "python=3.12"))


def test_mirror_without_conda_forge_keeps_the_canonical_channel_and_says_so() -> None:
    huawei: Mirror = load_kb().mirrors.get("huawei")
    result = render(REFERENCE["windows-tf2.10-gpu"](), RenderOptions(MirrorChoice(huawei)))
    assert '  - "conda-forge"\n' in result.files[0].text
    assert result.notes == ("Huawei Cloud does not mirror conda-forge; conda packages use it",)


@given(st.text())
def test_an_accepted_copy_path_stays_one_word_inside_the_context(path: str) -> None:
    if context_path_problem(path) is not None:
        return
    assert path.split() == [path]  # one word, so one COPY source and no new line
    assert not PurePosixPath(path).is_absolute()
    assert not posixpath.normpath(path).startswith("..")
    assert not path.startswith("-")
    assert not set(path) & set("$*?[\\:")


@pytest.mark.parametrize("path", ["locks/requirements.cpu-linux-64.txt", "./x+y@1.txt"])
def test_ordinary_copy_paths_are_accepted(path: str) -> None:
    assert context_path_problem(path) is None


def test_render_options_refuse_a_copy_path_outside_the_context() -> None:
    with pytest.raises(UsageError, match=r"lockfile '\.\./x': leaves the build context"):
        RenderOptions(mirror=_mirror("pypi"), lockfile="../x")
