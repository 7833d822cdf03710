"""Hostile values in every template field, for the escaping tests (unit: parsers and line
structure; integration: hadolint on the Dockerfiles).

A case puts one hostile value into one field of an otherwise real render (a reference plan, a
preset mirror, the knowledge base's images) and renders every format. The same field set to a
benign value gives the baseline whose line structure the hostile render must keep.
"""

from __future__ import annotations

import configparser
import shlex
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import yaml
from packaging.requirements import Requirement

from envgen.errors import EnvgenError
from envgen.kb import load_kb
from envgen.kb.images import ImageTable, PythonImage, load_images
from envgen.mirrors import MirrorChoice
from envgen.plan import ExactVersion, Pin, Plan
from envgen.render import ALL_FORMATS, RenderOptions, RenderResult, render
from tests.reference_plans import cpu_linux, h100_linux, h100_linux_system_cuda, tf1_conda_gpu

# Line breaks of every kind the output formats know (LF, CR, CRLF, VT, FF, the C0 separators
# Python's splitlines() honours, NEL, LS, PS), other control and format characters, lone
# surrogates from undecodable bytes, and the quoting characters of each format.
HOSTILE = (
    "x\nRUN id",
    "x\r\nRUN id",
    "x\rRUN id",
    "x\x0bRUN id\x0cy",
    "x\x1c\x1d\x1eRUN id",
    "x\x85RUN id",
    "x\u2028RUN id\u2029y",
    "x\x00y\x1b[2J\x7f",
    "x\udcffy",
    "\ufeff\u202ex",
    "x\tRUN id",
    "x\" y: 'z' #c \\ ${HOME} $(id) `id` %(x)s [s]",
    "- --index-url http://evil.example/simple",
    " \\",
    "",
    "é😀",
)
BENIGN = "benign1"


@dataclass(frozen=True)
class Inputs:
    plan: Plan
    options: RenderOptions
    images: ImageTable


Setter = Callable[[Inputs, str], Inputs]


def _plan(inputs: Inputs, **changes: object) -> Inputs:
    return replace(inputs, plan=replace(inputs.plan, **changes))  # type: ignore[arg-type]


def _first_pin(inputs: Inputs, channel: str, **changes: object) -> Inputs:
    plan = inputs.plan
    i = next(i for i, p in enumerate(plan.packages) if p.channel == channel)
    pin: Pin = replace(plan.packages[i], **changes)  # type: ignore[arg-type]
    return _plan(inputs, packages=(*plan.packages[:i], pin, *plan.packages[i + 1 :]))


def _mirror(inputs: Inputs, insecure: bool = False, **changes: object) -> Inputs:
    mirror = replace(inputs.options.mirror.mirror, **changes)  # type: ignore[arg-type]
    choice = MirrorChoice(mirror, insecure=insecure)
    return replace(inputs, options=replace(inputs.options, mirror=choice))


def _micromamba(inputs: Inputs, **changes: object) -> Inputs:
    images = inputs.images
    return replace(inputs, images=replace(images, micromamba=replace(images.micromamba, **changes)))  # type: ignore[arg-type]


def _python_image(inputs: Inputs, form: str) -> Inputs:
    rows = tuple(PythonImage(form, r.pythons, r.source) for r in inputs.images.python)
    return replace(inputs, images=replace(inputs.images, python=rows))


def _cuda_image(inputs: Inputs, **changes: object) -> Inputs:
    rows = tuple(replace(r, **changes) for r in inputs.images.cuda)  # type: ignore[arg-type]
    return replace(inputs, images=replace(inputs.images, cuda=rows))


def _options(inputs: Inputs, **changes: object) -> Inputs:
    return replace(inputs, options=replace(inputs.options, **changes))  # type: ignore[arg-type]


# field -> (base plan, setter). Every value a template reads, from the plan (knowledge base and
# profile), the options (mirror, command, lock path, extra indexes) and the image table.
FIELDS: dict[str, tuple[Callable[[], Plan], Setter]] = {
    "plan.tensorflow.version": (
        cpu_linux,
        lambda i, v: _plan(i, tensorflow=replace(i.plan.tensorflow, version=ExactVersion(v))),
    ),
    "plan.python": (cpu_linux, lambda i, v: _plan(i, python=v)),
    "plan.platform": (cpu_linux, lambda i, v: _plan(i, platform="linux-x86_64" + v)),
    "plan.target": (h100_linux, lambda i, v: _plan(i, target=v)),
    "plan.cuda": (h100_linux, lambda i, v: _plan(i, cuda=v)),
    "plan.cudnn": (h100_linux, lambda i, v: _plan(i, cudnn=v)),
    "pin.name": (cpu_linux, lambda i, v: _first_pin(i, "pip", name=v)),
    # `1.0+benign1` is a valid (local) version: the baseline renders, hostile ones must not.
    "pin.version": (cpu_linux, lambda i, v: _first_pin(i, "pip", version=ExactVersion("1.0+" + v))),
    "pin.reason": (h100_linux, lambda i, v: _first_pin(i, "pip", reason=v)),
    "pin.extras": (cpu_linux, lambda i, v: _first_pin(i, "pip", extras=(v,))),
    "conda-pin.name": (tf1_conda_gpu, lambda i, v: _first_pin(i, "conda", name=v)),
    "conda-pin.version": (
        tf1_conda_gpu,
        lambda i, v: _first_pin(i, "conda", version=ExactVersion("1.0+" + v)),
    ),
    "environment.name": (cpu_linux, lambda i, v: _plan(i, environment=(("X" + v, "1"),))),
    "environment.value": (cpu_linux, lambda i, v: _plan(i, environment=(("TF_X", v),))),
    "mirror.title": (cpu_linux, lambda i, v: _mirror(i, title=v)),
    "mirror.pypi": (cpu_linux, lambda i, v: _mirror(i, pypi="https://h.example/" + v)),
    "mirror.trusted-host": (
        cpu_linux,
        lambda i, v: _mirror(i, insecure=True, pypi=f"http://h{v}.example/simple"),
    ),
    "mirror.conda-cloud": (tf1_conda_gpu, lambda i, v: _mirror(i, conda_cloud="https://c/" + v)),
    "mirror.conda-pkgs": (tf1_conda_gpu, lambda i, v: _mirror(i, conda_pkgs="https://c/" + v)),
    "options.command": (cpu_linux, lambda i, v: _options(i, command="envgen render " + v)),
    "options.lockfile": (cpu_linux, lambda i, v: _options(i, lockfile="locks/" + v)),
    "options.extra-indexes": (
        cpu_linux,
        lambda i, v: _options(i, extra_indexes=("https://x.example/" + v,)),
    ),
    # The table's form is a str.format pattern: braces in the value are doubled to stay literal.
    "images.python": (
        cpu_linux,
        lambda i, v: _python_image(i, "python:{python}" + v.replace("{", "{{").replace("}", "}}")),
    ),
    "images.cuda.tag": (h100_linux_system_cuda, lambda i, v: _cuda_image(i, tag="cuda" + v)),
    "images.cuda.os-python": (
        h100_linux_system_cuda,
        lambda i, v: _cuda_image(i, os_python="3" + v),
    ),
    "images.micromamba.tag": (tf1_conda_gpu, lambda i, v: _micromamba(i, tag="mm" + v)),
    "images.micromamba.user": (tf1_conda_gpu, lambda i, v: _micromamba(i, user="u" + v)),
    "images.micromamba.prefix": (tf1_conda_gpu, lambda i, v: _micromamba(i, prefix="/o" + v)),
}


def inputs_for(field: str, value: str) -> Inputs:
    base, setter = FIELDS[field]
    mirrors = load_kb().mirrors
    # A mirror that serves conda-forge, so that channel URLs and .condarc are rendered too.
    choice = MirrorChoice(mirrors.get("tuna"))
    options = RenderOptions(choice, formats=ALL_FORMATS, command="envgen render")
    return setter(Inputs(base(), options, load_images()), value)


def render_case(field: str, value: str) -> RenderResult | EnvgenError:
    """The render of `value` in `field`, or the clean error that refused it."""
    try:
        # RenderOptions itself refuses some values (a COPY path that is not one plain word).
        inputs = inputs_for(field, value)
        return render(inputs.plan, inputs.options, inputs.images)
    except EnvgenError as exc:
        return exc


def cases() -> Iterator[tuple[str, str]]:
    for field in FIELDS:
        for value in HOSTILE:
            yield field, value


# --- what "still parses, with the same line structure" means -------------------------------------


def skeleton(text: str) -> list[tuple[bool, str, str]]:
    """Per line: comment or not, its indentation, and its first word unless that word carries
    the field's value (then only that it is there)."""
    out = []
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        indent = line[: len(line) - len(stripped)]
        word = stripped.split(" ", 1)[0]
        out.append((stripped.startswith("#"), indent, word))
    return out


def same_structure(baseline: str, hostile: str) -> bool:
    base, got = skeleton(baseline), skeleton(hostile)
    if len(base) != len(got):
        return False
    for (b_comment, b_indent, b_word), (g_comment, g_indent, g_word) in zip(base, got, strict=True):
        if (b_comment, b_indent) != (g_comment, g_indent):
            return False
        if not b_comment and BENIGN not in b_word and b_word != g_word:
            return False
    return True


DOCKER_INSTRUCTIONS = {
    "ARG", "FROM", "COPY", "RUN", "ENV", "USER", "WORKDIR", "HEALTHCHECK", "CMD",
}  # fmt: skip


def check_parses(name: str, text: str) -> None:
    """Raise AssertionError unless `text` is a well-formed file of its format."""
    if name in ("environment.yml", ".condarc"):
        assert isinstance(yaml.safe_load(text), dict), name
    elif name == "uv.toml":
        tomllib.loads(text)
    elif name == "pip.conf":
        parser = configparser.RawConfigParser()
        parser.read_string(text)
        assert parser.sections() == ["global"], name
    elif name == "requirements.txt":
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            if line.startswith("--"):
                option, value = shlex.split(line)  # exactly one argument
                assert option in ("--index-url", "--extra-index-url", "--trusted-host"), line
                assert value == line.split(" ", 1)[1], line
            else:
                Requirement(line)
    elif name == "Dockerfile":
        logical = text.replace("\\\n", "")
        for line in logical.splitlines():
            if line and not line.startswith("#"):
                assert line.split(" ", 1)[0] in DOCKER_INSTRUCTIONS, line
    else:
        raise AssertionError(f"no parser for {name}")
