"""The container backend for real: podman builds the rendered CPU Dockerfile on the debootstrap
base, tags it `envgen/<project>:<input hash>`, runs the image's TensorFlow check; a second build
reuses the image. Then `envgen create --backend container` end to end.

Opt-in like tests/integration/test_render_podman.py (ENVGEN_TEST_PODMAN=1; root, podman, runc,
debootstrap, PyPI). Storage is the `podman_store` fixture's, handed to the podman that envgen
starts through CONTAINERS_STORAGE_CONF, so its base image and layer cache are shared.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from envgen.backends import BuildRequest, get_backend
from envgen.cli import main
from envgen.kb import load_kb
from envgen.mirrors import MirrorChoice
from envgen.render import RenderOptions, render, write
from tests.integration.conftest import PodmanStore
from tests.reference_plans import cpu_linux

pytestmark = pytest.mark.integration


@pytest.fixture
def podman(podman_store: PodmanStore, monkeypatch: pytest.MonkeyPatch) -> PodmanStore:
    monkeypatch.setenv("CONTAINERS_STORAGE_CONF", str(podman_store.storage_conf))
    monkeypatch.setenv("ENVGEN_CONTAINER_ENGINE", "podman")
    return podman_store


def test_backend_builds_the_rendered_dockerfile_and_runs_its_check(
    tmp_path: Path, podman: PodmanStore
) -> None:
    project = tmp_path / "demo"
    options = RenderOptions(
        MirrorChoice(load_kb().mirrors.get("pypi")), formats=("requirements.txt", "Dockerfile")
    )
    write(render(cpu_linux(), options), project)
    backend = get_backend("container", check=True)
    request = BuildRequest(prefix=project, python="3.11", context=project, base_image=podman.base)
    start = time.monotonic()
    first = backend.build(request)
    built_s = time.monotonic() - start
    assert first.image == f"envgen/demo:{first.input_hash}"
    assert first.installer == "podman"
    assert first.check is not None
    assert first.check.startswith("tensorflow 2.21.0 sum")
    start = time.monotonic()
    again = backend.build(request)
    print(
        "figures (s):",
        {"build+check": round(built_s, 1), "reuse+check": round(time.monotonic() - start, 1)},
    )
    assert again.reused
    assert again.image == first.image
    # Another base is another input: another tag.
    other = BuildRequest(prefix=project, python="3.11", context=project, base_image="x:y")
    assert other.input_hash(project / "Dockerfile") != first.input_hash


def test_create_backend_container_end_to_end(
    tmp_path: Path,
    podman: PodmanStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["create", "--json", "--target", "cpu", "--backend", "container"]
    code = main([*argv, "--base-image", podman.base])
    result = json.loads(capsys.readouterr().out)
    assert code == 0, result
    assert result["image"].startswith("envgen/")
    assert result["verify"]["ok"] is True
    assert str(result["verify"]["check"]).startswith("tensorflow 2.21.0 sum")
    assert (tmp_path / "locks/requirements.cpu-linux-64.txt").is_file()
    # The Dockerfile installs the lock itself (hashes required), not the loose requirements.
    assert "COPY locks/requirements.cpu-linux-64.txt" in (tmp_path / "Dockerfile").read_text()
    # ENVGEN_BASE_IMAGE is the flag's twin; a second run reuses the image.
    monkeypatch.setenv("ENVGEN_BASE_IMAGE", podman.base)
    code = main(argv)
    again = json.loads(capsys.readouterr().out)
    assert code == 0, again
    assert again["image"] == result["image"]
    assert "reused" in {s["stage"]: s["result"] for s in again["steps"]}["build"]
