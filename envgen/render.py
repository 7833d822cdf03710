"""Render a Plan into the files a team commits: environment.yml, requirements.txt, Dockerfile, and
on request pip.conf / uv.toml / .condarc for the chosen mirror.

The templates (`templates/*.j2` in the source tree, `envgen/templates/` inside the wheel) hold
every line of output; this module only looks up facts (base images, channel URLs) and fills them
in. It decides nothing: which packages, versions and channels come from the Plan, which Dockerfile
variant follows from how the Plan delivers CUDA. Output is deterministic (no timestamps, the
Plan's own order), and every file carries a header with the inputs hash, the command that
regenerates it, and a hash of its own content so that later hand edits are detected
(`envgen.files`). Every field a template writes goes through the escape filter of its output
format (`envgen.escape`); a mirror's login never reaches the context, only the fact that the
index needs one. Jinja2 costs about 120 ms to import (lab report §6), so it loads only here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envgen import __version__, escape
from envgen.digest import of_json
from envgen.documents import shown
from envgen.errors import OptionError, UsageError
from envgen.files import CONTENT_KEY, MARKER, PLACEHOLDER, seal, write_text
from envgen.kb import load_kb
from envgen.kb.images import ImageTable, load_images
from envgen.kb.mirrors import DEFAULT

if TYPE_CHECKING:
    import jinja2

    from envgen.mirrors import MirrorChoice
    from envgen.plan import Plan

FORMATS = ("environment.yml", "requirements.txt", "Dockerfile")
SNIPPETS = ("pip.conf", "uv.toml", ".condarc")
ALL_FORMATS = FORMATS + SNIPPETS

# The conda channel CUDA, cuDNN and every other conda package of a Plan come from: conda.toml's
# CUDA schemes all live on conda-forge (Anaconda's `defaults` needs a licence for organisations).
CONDA_CHANNEL = "conda-forge"

# Dockerfile variant by how the Plan delivers CUDA (Plan.cuda_channel); conda packages of any kind
# make it the conda variant, a CPU plan the cpu one.
DOCKER_VARIANTS = ("cpu", "gpu-pip", "gpu-system", "conda")

# The regenerate line's longest command: the header must stay within the part of a file that
# envgen.files searches for the content hash (2048 characters), whatever paths the command names.
MAX_COMMAND = 1024

_TEMPLATE_FOR = {
    "environment.yml": "environment.yml.j2",
    "requirements.txt": "requirements.txt.j2",
    "pip.conf": "pip.conf.j2",
    "uv.toml": "uv.toml.j2",
    ".condarc": "condarc.j2",
}


# A COPY source in the Dockerfile: one word (the shell form splits on whitespace), no `$` (the
# builder substitutes ARG values) or `*?[` (globs), not starting with `-` (read as a flag such as
# `--from`), `/` (absolute) or `\`; no `..` part. A COPY reads only inside the build context
# (https://docs.docker.com/reference/dockerfile/#copy: "you can't use COPY ../something
# /something"), and BuildKit clamps `..` to the context's root instead of failing
# (docker/docs#19500): the image would silently get another file.
_CONTEXT_PATH = re.compile(r"[A-Za-z0-9_.+@][A-Za-z0-9_.+@/-]*")


def context_path_problem(path: str) -> str | None:
    """Why `path` cannot be a Dockerfile COPY source inside the build context; None when it can."""
    if path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", path):
        return "an absolute path: the Dockerfile would COPY from outside the build context"
    if ".." in path.replace("\\", "/").split("/"):
        return "leaves the build context (`..`): the Dockerfile would COPY from outside it"
    if not _CONTEXT_PATH.fullmatch(path):
        return "a COPY path takes letters, digits and `._+@-/` only, and no leading `-`"
    return None


@dataclass(frozen=True)
class RenderOptions:
    """Everything besides the Plan that shapes the output (all of it goes into the inputs hash)."""

    mirror: MirrorChoice
    formats: tuple[str, ...] = FORMATS
    command: str = "envgen render"
    """The command line written into headers as the way to regenerate."""
    lockfile: str | None = None
    """A hashed lock (relative to the output directory) for the Dockerfile to install from."""
    extra_indexes: tuple[str, ...] = ()
    """Second indexes a package truly needs (none by default: one index keeps installs safe)."""
    torch_mirror: str | None = None
    """A mirror of the PyTorch index (`--torch-mirror`), named in place of it; its login never
    reaches a file."""

    def __post_init__(self) -> None:
        # The CLI refuses such a value with the option's name; this keeps any other caller from
        # writing a COPY line that reads outside the context or starts another instruction.
        if self.lockfile is not None and (why := context_path_problem(self.lockfile)):
            raise UsageError(f"lockfile {self.lockfile!r}: {why}")


@dataclass(frozen=True)
class RenderedFile:
    name: str
    text: str
    variant: str | None = None


@dataclass(frozen=True)
class RenderResult:
    files: tuple[RenderedFile, ...]
    inputs: str
    skipped: tuple[tuple[str, str], ...] = ()
    """(format, why) for requested formats that cannot exist for this Plan."""
    notes: tuple[str, ...] = ()
    written: tuple[tuple[str, bool], ...] = field(default=())
    """(path, changed) once written."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "files": [
                {"name": f.name, **({"variant": f.variant} if f.variant else {})}
                for f in self.files
            ],
            "skipped": [{"format": n, "reason": r} for n, r in self.skipped],
            "notes": list(self.notes),
            "written": [{"path": p, "changed": c} for p, c in self.written],
        }


def parse_formats(text: str) -> tuple[str, ...]:
    """`environment.yml,Dockerfile` -> the formats, validated, in the canonical order."""
    asked = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(asked - set(ALL_FORMATS))
    if unknown or not asked:
        raise OptionError(
            "format",
            f"unknown format(s): {', '.join(map(shown, unknown)) or '(none given)'}",
            hint=f"available: {', '.join(ALL_FORMATS)}",
        )
    return tuple(f for f in ALL_FORMATS if f in asked)


def docker_variant(plan: Plan) -> str:
    """Which Dockerfile the Plan calls for (a lookup on how it delivers CUDA, not a choice)."""
    if plan.conda_packages():
        return "conda"
    if plan.target == "cpu":
        return "cpu"
    variant = f"gpu-{plan.cuda_channel}"
    if variant not in DOCKER_VARIANTS:
        raise UsageError(f"a GPU plan must say how CUDA arrives, got {plan.cuda_channel!r}")
    return variant


def plan_indexes(plan: Plan, options: RenderOptions) -> tuple[str, ...]:
    """The plan's indexes besides PyPI as the files name them: canonical, or through the mirror
    of the PyTorch index the options name (without its login)."""
    from envgen.credentials import split_login
    from envgen.mirrors import through_mirror

    mirror = split_login(options.torch_mirror)[0] if options.torch_mirror else None
    return through_mirror(plan.indexes, load_kb().torch.index.url, mirror)


def inputs_hash(plan: Plan, options: RenderOptions) -> str:
    """A short hash of everything the output is made from (the templates are envgen's version)."""
    doc = {
        "envgen": __version__,
        "plan": plan.to_dict(),
        "mirror": options.mirror.mirror.pypi,
        "conda-mirror": [options.mirror.mirror.conda_pkgs, options.mirror.mirror.conda_cloud],
        "insecure": options.mirror.insecure,
        "lockfile": options.lockfile,
        "extra-indexes": list(options.extra_indexes),
    }
    if options.torch_mirror is not None:
        doc["torch-mirror"] = plan_indexes(plan, options)
    if options.mirror.login is not None:
        doc["login"] = True  # the login itself is no input of the files: only that one is needed
    return of_json(doc)


# --- templates -----------------------------------------------------------------------------------


def _template_dir() -> Path:
    """Templates from the installed package; the source tree's `templates/` in development."""
    packaged = resources.files("envgen").joinpath("templates")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "templates"


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_template_dir()),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # The output is config files and Dockerfiles, never HTML: each field is escaped for its
        # own format by a filter of envgen.escape, and `finalize` refuses a field without one.
        autoescape=False,  # noqa: S701
        finalize=escape.finalize,
    )
    env.filters.update(escape.FILTERS)
    return env


def templates() -> jinja2.Environment:
    """The one template environment (envgen.escape's filters; a field without one is refused),
    for every stage that writes a file from `templates/` (render, the bundle's installers)."""
    return _environment()


ACTIVATION_SCRIPT = "envgen-variables.sh"
"""The file name of a built prefix's etc/conda/activate.d and deactivate.d scripts."""


def activation_scripts(environment: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """`activate.d/envgen-variables.sh` and `deactivate.d/...` for a conda prefix that must set
    `environment` (the plan's variables), by relative path under etc/conda; empty for none."""
    if not environment:
        return {}
    from envgen import __version__

    variables = [
        {"name": name, "value": value, "saved": f"_ENVGEN_SAVED_{name}"}
        for name, value in environment
    ]
    context = {"variables": variables, "version": __version__, "script": ACTIVATION_SCRIPT}
    env = _environment()
    return {
        f"{kind}.d/{ACTIVATION_SCRIPT}": env.get_template(f"conda-{kind}.sh.j2").render(context)
        for kind in ("activate", "deactivate")
    }


# --- facts the templates need --------------------------------------------------------------------


def conda_channel(choice: MirrorChoice) -> str:
    """conda-forge by name, or its URL on the chosen mirror where the mirror serves it."""
    mirror = choice.mirror
    if mirror.name == DEFAULT:
        return CONDA_CHANNEL
    return mirror.channel_url(CONDA_CHANNEL) or CONDA_CHANNEL


def _base_image(plan: Plan, variant: str, images: ImageTable) -> tuple[str | None, str, str]:
    """(image, why-not, os-python) for a Dockerfile variant."""
    try:
        return _lookup_image(plan, variant, images)
    except ValueError:  # a Python or CUDA that is no version: no image can carry it
        return None, f"no image is known for Python {plan.python!r}, CUDA {plan.cuda!r}", ""


def _lookup_image(plan: Plan, variant: str, images: ImageTable) -> tuple[str | None, str, str]:
    if variant == "conda":
        return images.micromamba.tag, "", plan.python
    if variant == "gpu-system":
        found = images.cuda_image(plan.cuda or "", plan.cudnn or "")
        if found is None:
            why = (
                f"no known nvidia/cuda image carries CUDA {plan.cuda} with cuDNN {plan.cudnn} "
                "(images.toml); plan with --channel pip or conda, or add the tag"
            )
            return None, why, ""
        return found.tag, "", found.os_python
    tag = images.python_image(plan.python)
    if tag is None:
        return None, f"no slim Python image has Python {plan.python} (images.toml)", ""
    return tag, "", plan.python


def render(plan: Plan, options: RenderOptions, images: ImageTable | None = None) -> RenderResult:
    """Fill the templates for every requested format; pure apart from reading the templates."""
    if len(options.command) > MAX_COMMAND:
        raise UsageError(
            f"the command to record in the file headers is {len(options.command)} characters "
            f"long, more than {MAX_COMMAND}",
            hint="name shorter paths (a relative --profile, say)",
        )
    images = images or load_images()
    env = _environment()
    digest = inputs_hash(plan, options)
    mirror = options.mirror.mirror
    backend = load_kb().keras_backends.get(plan.keras_backend)
    short = f"{backend.short}{_major_minor(plan.tensorflow.version)}-{plan.target}"
    context: dict[str, Any] = {
        "marker": MARKER,
        "version": __version__,
        "command": options.command,
        "inputs": digest,
        "content_key": CONTENT_KEY,
        "placeholder": PLACEHOLDER,
        "plan": plan,
        "mirror": mirror,
        "trusted_host": options.mirror.trusted_host,
        # The index needs a login, which no file carries: the Dockerfile takes a netrc secret.
        "needs_login": options.mirror.login is not None,
        # The plan's own (the PyTorch index of a torch build) first: canonical, or the mirror
        # of it the options name.
        "extra_indexes": (*plan_indexes(plan, options), *options.extra_indexes),
        "framework_title": backend.title,
        "pip_pins": plan.pip_packages(),
        # Each pin's family names where its build comes from (families.toml).
        "families": {f.id: f for f in load_kb().families.families},
        "conda_cuda_override": _conda_cuda_override(plan),
        "conda_pins": plan.conda_packages(),
        "lockfile": options.lockfile,
        "conda_channel": conda_channel(options.mirror),
        "channels": [conda_channel(options.mirror)],
        "name": short,
        "image_name": short,
        "micromamba": images.micromamba,
        # .condarc: conda-forge by name, resolved through custom_channels to the mirror.
        "condarc_channels": [CONDA_CHANNEL],
        "default_channels": mirror.default_channels() if mirror.name != DEFAULT else [],
        "custom_channels": (
            [(CONDA_CHANNEL, mirror.conda_cloud)]
            if mirror.name != DEFAULT and mirror.serves(CONDA_CHANNEL)
            else []
        ),
    }
    files: list[RenderedFile] = []
    skipped: list[tuple[str, str]] = []
    notes: list[str] = []
    if mirror.name != DEFAULT and not mirror.serves(CONDA_CHANNEL) and plan.conda_packages():
        notes.append(f"{mirror.title} does not mirror {CONDA_CHANNEL}; conda packages use it")
    for fmt in options.formats:
        if fmt == "Dockerfile":
            rendered = _dockerfile(
                plan, env=env, context=context, images=images, skipped=skipped, notes=notes
            )
            if rendered is not None:
                files.append(rendered)
            continue
        text = env.get_template(_TEMPLATE_FOR[fmt]).render(context)
        files.append(RenderedFile(fmt, seal(text)))
    return RenderResult(tuple(files), digest, tuple(skipped), tuple(notes))


def _dockerfile(
    plan: Plan,
    *,
    env: jinja2.Environment,
    context: dict[str, Any],
    images: ImageTable,
    skipped: list[tuple[str, str]],
    notes: list[str],
) -> RenderedFile | None:
    # Containers run Linux: a Plan for Windows or macOS pins wheels (tensorflow-intel,
    # tensorflow-metal) that a Linux image cannot install.
    if not plan.platform.startswith("linux-"):
        skipped.append(("Dockerfile", f"containers run Linux; this plan is for {plan.platform}"))
        return None
    variant = docker_variant(plan)
    image, why_not, os_python = _base_image(plan, variant, images)
    if image is None:
        skipped.append(("Dockerfile", why_not))
        return None
    if os_python != plan.python:
        notes.append(
            f"the {image} image installs Python {os_python}, the plan is for {plan.python}"
        )
    text = env.get_template(f"Dockerfile.{variant}.j2").render(
        {**context, "base_image": image, "os_python": os_python}
    )
    return RenderedFile("Dockerfile", seal(text), variant)


def _conda_cuda_override(plan: Plan) -> tuple[str, str] | None:
    """(variable, CUDA) that lets a GPU-less image build solve a conda package that depends on
    `__cuda` (conda-forge's CUDA builds of TensorFlow); None for every other plan."""
    pin = plan.framework
    if pin.channel != "conda" or plan.target != "gpu" or plan.cuda is None:
        return None
    return load_kb().conda.tensorflow.override_env, plan.cuda


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


# --- writing -------------------------------------------------------------------------------------


def write(result: RenderResult, output_dir: Path, *, force: bool = False) -> RenderResult:
    """Write every rendered file under `output_dir`; envgen.files guards hand-made or edited ones."""
    written = []
    for f in result.files:
        path = output_dir / f.name
        written.append((str(path), write_text(path, f.text, force=force)))
    return RenderResult(result.files, result.inputs, result.skipped, result.notes, tuple(written))
