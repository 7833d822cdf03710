"""The container backend: build the rendered Dockerfile into an image, then run the image's check.

The engine is docker when a docker engine answers (a client alone is not enough: on envgen's lab
machine `docker` is a client with no daemon), else podman. The "prefix" of the other backends is
the image tag here, `envgen/<name>:<input hash>`: an image with that tag is up to date, and a
re-run only repeats the check.

The Dockerfile takes its base from `ARG BASE_IMAGE` and its index from `ARG PIP_INDEX_URL`, so
the request's base image (`--base-image`, ENVGEN_BASE_IMAGE) and mirror are build arguments. A
mirror's login is never one (build arguments stay in the image's history): it goes in as the
build secret `netrc`, a file in a private temporary directory that exists only while the build
runs, which the rendered Dockerfile mounts for its install step.

podman gets the sandbox flags that lab report §4 found necessary in unprivileged build sandboxes
and that are harmless elsewhere: `--isolation=chroot` for builds (OCI isolation fails on hybrid
cgroups), the host's CA bundle mounted read-only during the build (TLS-intercepting proxies), and
for runs runc (when installed) with lowered nofile/nproc limits (no CAP_SYS_RESOURCE to raise
them). Storage location follows podman's own CONTAINERS_STORAGE_CONF.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from envgen.backends import BuildRequest, BuildResult, install_hint, refuse_edited_locks
from envgen.credentials import netrc_entry, split_login
from envgen.errors import ExternalToolError, InputFileError, UsageError, VerificationError
from envgen.files import read_text
from envgen.tools import which

BUILD_TIMEOUT_S = 1800.0  # the image's pip install downloads ~330 MB of TensorFlow wheels
CHECK_TIMEOUT_S = 600.0  # TF import + compute; minutes on vfs storage or under emulation
PROBE_TIMEOUT_S = 20.0
DOCKERFILE = "Dockerfile"
# Where Debian/Ubuntu (and so the lab machine) keep the system CA bundle.
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# Lowered limits that an unprivileged sandbox can still set (lab report §4, failure 1).
RUN_ULIMITS = ("nofile=1024:1024", "nproc=1024:1024")
# The image's python (the Dockerfile variants install into a venv at /opt/venv).
IMAGE_PYTHON = Path("/opt/venv/bin/python")


@dataclass(frozen=True)
class Engine:
    kind: str
    """"docker" or "podman"."""
    exe: str
    runc: str | None = None
    """podman only: runc's path, used for `run` when present (crun fails on hybrid cgroups)."""


def find_engine(environ: Mapping[str, str] | None = None) -> Engine | None:
    """docker if its engine answers, else podman; $ENVGEN_CONTAINER_ENGINE forces one."""
    from envgen.proc import run

    env = os.environ if environ is None else environ
    wanted = env.get("ENVGEN_CONTAINER_ENGINE", "").strip()
    kinds = [wanted] if wanted else ["docker", "podman"]
    for kind in kinds:
        exe = which(kind, env)
        if exe is None:
            continue
        if kind == "docker":
            try:
                answer = run(
                    [exe, "version", "--format", "{{.Server.Version}}"],
                    timeout=PROBE_TIMEOUT_S,
                    check=False,
                )
            except ExternalToolError:
                continue
            if answer.returncode != 0 or not answer.stdout.strip():
                continue  # a client with no engine behind it
        return Engine(kind, exe, which("runc", env) if kind == "podman" else None)
    return None


def image_name(context: Path) -> str:
    """A valid repository name from the project directory's name (lowercase, [a-z0-9._-])."""
    name = re.sub(r"[^a-z0-9._-]+", "-", context.absolute().name.lower()).strip("._-")
    return name or "project"


def image_tag(context: Path, input_hash: str) -> str:
    return f"envgen/{image_name(context)}:{input_hash}"


def copy_sources(dockerfile: str) -> list[str]:
    """The build-context files a Dockerfile's COPY/ADD lines take (not `--from` stages)."""
    out: list[str] = []
    for line in dockerfile.splitlines():
        words = line.split()
        if len(words) < 3 or words[0].upper() not in ("COPY", "ADD"):
            continue
        if any(w.startswith("--from") for w in words[1:]):
            continue
        args = [w for w in words[1:] if not w.startswith("--")]
        out.extend(args[:-1])
    return out


def build_argv(
    engine: Engine,
    request: BuildRequest,
    context: Path,
    tag: str,
    *,
    ca_bundle: Path | None,
    netrc: Path | None = None,
) -> list[str]:
    """The `build` command line (pure, for tests); `netrc` is the login's secret file."""
    argv = [engine.exe, "build"]
    if engine.kind == "podman":
        argv.append("--isolation=chroot")
        if ca_bundle is not None:
            argv += ["-v", f"{ca_bundle}:{ca_bundle}:ro"]
    if request.base_image:
        argv += ["--build-arg", f"BASE_IMAGE={request.base_image}"]
    if request.index_url:
        argv += ["--build-arg", f"PIP_INDEX_URL={split_login(request.index_url)[0]}"]
    if request.extra_index_urls:
        # The Dockerfile's second index (the PyTorch index, or the mirror of it asked for).
        first = split_login(request.extra_index_urls[0])[0]
        argv += ["--build-arg", f"PIP_EXTRA_INDEX_URL={first}"]
    if netrc is not None:
        argv += ["--secret", f"id=netrc,src={netrc}"]
    if request.force:
        argv.append("--no-cache")
    return [*argv, "-t", tag, "-f", str(context / DOCKERFILE), str(context)]


def run_argv(engine: Engine, tag: str, *, gpu: bool) -> list[str]:
    """`run --rm` of the image's default command, which is its TensorFlow check."""
    argv = [engine.exe, "run", "--rm"]
    if engine.kind == "podman":
        if engine.runc is not None:
            argv += ["--runtime", engine.runc]
        for limit in RUN_ULIMITS:
            argv += ["--ulimit", limit]
        if gpu:
            argv += ["--device", "nvidia.com/gpu=all"]  # CDI, as nvidia-container-toolkit sets up
    elif gpu:
        argv += ["--gpus", "all"]
    return [*argv, tag]


def exists_argv(engine: Engine, tag: str) -> list[str]:
    return [engine.exe, "image", "inspect", "--format", "{{.Id}}", tag]


def _inputs(context: Path) -> tuple[Path, list[Path]]:
    """The Dockerfile and the context files it copies: what the image's hash covers."""
    dockerfile = context / DOCKERFILE
    try:
        text = read_text(dockerfile, what="Dockerfile")
    except InputFileError as exc:
        raise InputFileError(
            exc.message, hint="render it first: envgen render --format Dockerfile"
        ) from exc
    files = [context / src for src in copy_sources(text)]
    return dockerfile, sorted(f for f in files if f.is_file())


@contextlib.contextmanager
def netrc_secret(index_url: str | None) -> Iterator[Path | None]:
    """The index's login as a netrc file readable by this user only, removed on exit; None
    when the index needs no login."""
    public, login = split_login(index_url) if index_url else (None, None)
    host = urlsplit(public).hostname if public else None
    if login is None or host is None:
        yield None
        return
    entry = netrc_entry(host, login)
    with tempfile.TemporaryDirectory(prefix="envgen-secret-") as directory:
        path = Path(directory) / "netrc"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(entry)
        yield path


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


class ContainerBackend:
    name = "container"
    # It builds an image, not a prefix here: the image's own check is its verification.
    makes_prefix = False
    # The image build pulls its base image and pip reaches its index inside it.
    installs_offline = False

    def unavailable(self) -> str | None:
        if find_engine() is None:
            return "no podman, and no docker with a running engine, on PATH"
        return None

    def build(self, request: BuildRequest) -> BuildResult:
        from envgen.proc import run

        start = time.perf_counter()
        context = (request.context or request.prefix).absolute()
        dockerfile, copied = _inputs(context)
        # The Dockerfile's COPY of a lock is the image's install source.
        refuse_edited_locks(*copied)
        engine = find_engine()
        if engine is None:
            raise UsageError(
                f"the container backend cannot run here: {self.unavailable()}",
                hint="install podman (or start docker), or use --backend venv",
            )
        # The lock travels inside the context (COPY), so the context's files stand for it.
        hashed = BuildRequest(
            prefix=request.prefix,
            python=request.python,
            index_url=request.index_url,
            base_image=request.base_image,
            gpu=request.gpu,
        )
        input_hash = hashed.input_hash(dockerfile, *copied)
        tag = image_tag(context, input_hash)
        exists = run(exists_argv(engine, tag), timeout=PROBE_TIMEOUT_S, check=False)
        reused = exists.returncode == 0 and not request.force
        if not reused:
            ca = HOST_CA_BUNDLE if HOST_CA_BUNDLE.is_file() else None
            with netrc_secret(request.index_url) as netrc:
                argv = build_argv(engine, request, context, tag, ca_bundle=ca, netrc=netrc)
                run(
                    argv,
                    timeout=BUILD_TIMEOUT_S,
                    hint=f"{engine.kind} pulls the base image and pip its packages: with no "
                    "registry in reach pass --base-image (a registry mirror or a local image); "
                    + install_hint(request),
                )
        checked = run(run_argv(engine, tag, gpu=request.gpu), timeout=CHECK_TIMEOUT_S, check=False)
        if checked.returncode != 0:
            raise VerificationError(
                f"image {tag} was built but its check failed (exit {checked.returncode}): "
                f"{_last_line(checked.stderr or checked.stdout)}",
                hint=f"rerun it: {' '.join(run_argv(engine, tag, gpu=request.gpu))}",
            )
        return BuildResult(
            self.name,
            context,
            IMAGE_PYTHON,
            engine.kind,
            input_hash,
            reused,
            round(time.perf_counter() - start, 3),
            image=tag,
            check=_last_line(checked.stdout),
        )


__all__: Sequence[str] = ["ContainerBackend", "Engine", "find_engine"]
