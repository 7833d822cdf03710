"""A real image: build the rendered CPU Dockerfile with podman on a debootstrap base, run its check.

Opt-in (`ENVGEN_TEST_PODMAN=1`; needs root, podman, runc and debootstrap from Debian, and PyPI
through the network): the build downloads TensorFlow (~330 MB), 2-3 minutes in all. Docker Hub
is unreachable where this was written, which is what `ARG BASE_IMAGE` is for: the base is made
locally with debootstrap. The sandbox flags come from the lab report §4: `--isolation=chroot` for
builds, runc with lowered ulimits for runs, and the host's CA bundle mounted for TLS interception.
`ENVGEN_PODMAN_DIR` keeps storage and the base between runs (the `podman_store` fixture).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from envgen.kb import load_kb
from envgen.mirrors import MirrorChoice
from envgen.render import RenderOptions, render, write
from tests.integration.conftest import PodmanStore
from tests.reference_plans import cpu_linux

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        os.environ.get("ENVGEN_TEST_PODMAN") != "1", reason="opt-in: ENVGEN_TEST_PODMAN=1"
    ),
]

CA = "/etc/ssl/certs/ca-certificates.crt"


def _run(argv: list[str], timeout: float, **kw: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kw)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{argv[:4]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done  # type: ignore[no-any-return]


def test_cpu_dockerfile_builds_and_its_check_passes(
    tmp_path: Path, podman_store: PodmanStore
) -> None:
    podman, base = podman_store.argv, podman_store.base
    figures: dict[str, float] = {}

    kb = load_kb()
    options = RenderOptions(
        MirrorChoice(kb.mirrors.get("pypi")), formats=("requirements.txt", "Dockerfile")
    )
    write(render(cpu_linux(), options), tmp_path)
    start = time.monotonic()
    _run(
        [
            *podman,
            "build",
            "--isolation=chroot",
            "-v",
            f"{CA}:{CA}:ro",
            "--build-arg",
            f"BASE_IMAGE={base}",
            "-t",
            "localhost/envgen-render-cpu:test",
            str(tmp_path),
        ],
        timeout=900,
    )
    figures["build"] = time.monotonic() - start
    start = time.monotonic()
    ran = _run(
        [
            *podman,
            "run",
            "--rm",
            "--runtime",
            "runc",
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=1024:1024",
            "localhost/envgen-render-cpu:test",
        ],
        timeout=300,
    )
    figures["run"] = time.monotonic() - start
    user = _run(
        [
            *podman,
            "image",
            "inspect",
            "--format",
            "{{.Config.User}}",
            "localhost/envgen-render-cpu:test",
        ],
        timeout=60,
    )
    print("figures (s):", {k: round(v, 1) for k, v in figures.items()})
    print(ran.stdout)
    assert "tensorflow 2.21.0 sum" in ran.stdout
    assert user.stdout.strip() == "10001:10001"
