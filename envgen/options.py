"""Every option of every command, declared once, and where each value came from.

One table (cibuildwheel's model): each `Option` names its flag, its `ENVGEN_<DEST>` twin, the
`[tool.envgen]` key that may set it, its kind, its choices and its default; each `Command` names
the options it takes. From the table come the argument parser (`envgen.cli` builds only the
parser of the command being run, so `envgen --help` imports no stage) and, through `resolve()`,
a frozen `Options` per run that remembers each value's `Source`:

    flag  >  ENVGEN_* variable  >  [tool.envgen] of the project  >  the built-in default

Values are checked here whatever their source (a choice, a number of seconds), and a bad one is an
`OptionError` of its option; `named()` reports it under the name the user set it by
(`ENVGEN_TARGET`, `pyproject.toml: tool.envgen.target`), exit 3 for a configuration file and 2
otherwise. This module imports nothing but the standard library and envgen.errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from envgen.errors import EnvgenError, InputFileError, OptionError, UsageError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Option:
    dest: str
    help: str
    flags: tuple[str, ...] = ()
    """The flags; the default is `--<dest with dashes>`."""
    kind: str = "str"
    """str, bool (a switch), seconds (a positive number), append (repeatable)."""
    choices: tuple[str, ...] = ()
    default: Any = None
    metavar: str | None = None
    config: str | None = None
    """The `[tool.envgen]` key that may set it; None where a project file must not."""

    @property
    def flag(self) -> str:
        return self.flags[0] if self.flags else "--" + self.dest.replace("_", "-")

    @property
    def env(self) -> str:
        return "ENVGEN_" + self.dest.upper()


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    module: str
    """The handler's module under envgen.cli (imported only when the command runs)."""
    options: tuple[str, ...] = ()
    description: str = ""
    epilog: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Per-command defaults over the option's own (`--output-dir` is `locks` for `lock`)."""
    helps: Mapping[str, str] = field(default_factory=dict)
    """Per-command help over the option's own."""
    exclusive: tuple[tuple[str, ...], ...] = ()
    """Groups of options of which at most one may be given."""
    handler: str = "run"
    children: tuple[Command, ...] = ()
    """Sub-commands (`envgen kb check`); the command itself then has no handler."""


_REQUEST = ("profile", "target", "python", "tensorflow", "keras", "channel")

OPTIONS: dict[str, Option] = {
    o.dest: o
    for o in (
        Option("profile", "plan for the machine this hardware profile describes", metavar="FILE"),
        Option(
            "target",
            "auto (default): gpu when an NVIDIA driver and GPU are present",
            choices=("cpu", "gpu", "auto"),
            default="auto",
            config="target",
        ),
        Option("python", "Python version (default: the profile's)", metavar="X.Y", config="python"),
        Option(
            "tensorflow",
            "e.g. 2.15, 2.15.1, '>=2.12,<2.16'",
            metavar="SPEC",
            config="tensorflow",
        ),
        Option("keras", "Keras 2 behaviour or Keras 3", choices=("2", "3"), config="keras"),
        Option(
            "channel",
            "how CUDA/cuDNN arrive (default auto: pip wheels, else conda, else system)",
            choices=("pip", "conda", "system", "auto"),
            default="auto",
            config="channel",
        ),
        Option(
            "why_not",
            "explain why each release matching SPEC does (not) fit",
            metavar="SPEC",
        ),
        Option(
            "mirror",
            "package index: a preset (pypi, tuna, aliyun, ...), an https URL, or auto (fastest)",
            metavar="NAME|URL|auto",
            default="pypi",
            config="mirror",
        ),
        Option(
            "allow_insecure_mirror",
            "accept an http:// mirror (pip gets --trusted-host; traffic is unencrypted)",
            kind="bool",
            default=False,
        ),
        Option(
            "output_dir",
            "the project directory to write into (default: .)",
            flags=("--output-dir", "-o"),
            metavar="DIR",
            default=".",
        ),
        Option(
            "format",
            "comma-separated, from: environment.yml, requirements.txt, Dockerfile, pip.conf, "
            "uv.toml, .condarc (default: the first three)",
            metavar="LIST",
            default="environment.yml,requirements.txt,Dockerfile",
            config="outputs",
        ),
        Option(
            "lock",
            "hashed lock under --output-dir for the Dockerfile to install from",
            metavar="FILE",
        ),
        Option("force", "overwrite files a person wrote or edited", kind="bool", default=False),
        Option(
            "save_config",
            "record the request in [tool.envgen] (pyproject.toml, else envgen.toml)",
            kind="bool",
            default=False,
        ),
        Option(
            "backend",
            "how to build: venv, conda or container (default: venv)",
            choices=("conda", "container", "venv"),
            default="venv",
        ),
        Option("prefix", "the environment's root directory", metavar="DIR"),
        Option(
            "base_image",
            "--backend container: the Dockerfile's BASE_IMAGE (a registry mirror, a local image)",
            metavar="IMAGE",
        ),
        Option(
            "locked",
            "fail if the committed lock no longer matches the plan",
            kind="bool",
            default=False,
        ),
        Option(
            "frozen",
            "install the committed lock as it is, without resolving",
            kind="bool",
            default=False,
        ),
        Option("no_verify", "skip the verification probe", kind="bool", default=False),
        Option(
            "yes",
            "do not ask before building (create never asks without a terminal)",
            flags=("--yes", "-y"),
            kind="bool",
            default=False,
        ),
        Option(
            "output",
            "write the profile to FILE (.toml, or .json)",
            flags=("--output", "-o"),
            metavar="FILE",
        ),
        Option(
            "capture",
            "also save the raw text each source returned (for bug reports and tests)",
            metavar="DIR",
        ),
        Option("log", "an error log to diagnose (- for standard input)", metavar="FILE"),
        Option(
            # dest "interpreter", not "python": ENVGEN_PYTHON is a Python version to plan for.
            "interpreter",
            "the environment's interpreter",
            flags=("--python",),
            metavar="EXE",
        ),
        Option(
            "timeout",
            "seconds allowed per framework's import and checks (default 300)",
            kind="seconds",
            default=300.0,
            metavar="SECONDS",
        ),
        Option(
            "report",
            "where to write the JSON report (default: ./verify-report.json, or in --prefix; "
            "'-' for none)",
            metavar="FILE",
        ),
        Option(
            "platform",
            "comma-separated: linux-64, linux-aarch64, win-64, osx-64, osx-arm64 "
            "(default: the profile's)",
            metavar="LIST",
            config="platforms",
        ),
        Option(
            "variants",
            "comma-separated: cpu, gpu (default: the profile's target)",
            metavar="LIST",
        ),
        Option(
            "conda_channel",
            "also write conda-lock.yml, solved against this channel (repeatable)",
            kind="append",
            metavar="URL",
        ),
        Option(
            "uv",
            "the uv executable (default: uv on PATH or beside envgen's Python)",
            metavar="PATH",
        ),
        Option(
            "check",
            "write nothing; exit non-zero listing what no longer matches the inputs",
            kind="bool",
            default=False,
        ),
        Option("write", "replace the packaged file with the new rows", kind="bool", default=False),
        Option(
            "lock_dir",
            "the committed lock set to read (default: locks)",
            metavar="DIR",
            default="locks",
        ),
        Option(
            "cache_dir",
            "where downloaded files are kept between runs (default: the user cache, "
            "e.g. ~/.cache/envgen/bundle)",
            metavar="DIR",
        ),
        Option(
            "from_bundle",
            "install offline from a bundle made by `envgen bundle` (no network)",
            metavar="FILE",
        ),
    )
}

COMMANDS: tuple[Command, ...] = (
    Command(
        "create",
        "the whole job: plan, write files and locks, build the environment, prove it works",
        "envgen.cli.create",
        (
            *_REQUEST,
            "backend",
            "prefix",
            "base_image",
            "output_dir",
            "mirror",
            "locked",
            "frozen",
            "no_verify",
            "force",
            "yes",
            "from_bundle",
        ),
        description=(
            "Detect the machine (or read --profile), decide the stack, write environment.yml, "
            "requirements.txt, a Dockerfile and the lock set into the project, build the "
            "environment from the lock and verify it. A second run with nothing changed only "
            "re-verifies."
        ),
        helps={
            "prefix": "where the environment goes (default: .venv)",
            "output_dir": "the project directory for the files and locks/ (default: .)",
            "force": "replace files, locks or a directory that envgen did not make",
        },
        exclusive=(("locked", "frozen"),),
    ),
    Command(
        "bundle",
        "pack the committed lock set's packages into one archive that installs offline",
        "envgen.cli.bundle",
        (
            "variants",
            "platform",
            "mirror",
            "allow_insecure_mirror",
            "lock_dir",
            "output",
            "cache_dir",
            "force",
        ),
        description=(
            "Download every wheel (and conda package) the chosen variants of the lock set "
            "install, checked against the lock's sha256 as it arrives (parallel, resumable, "
            "cached), and write one tar with the lock set, a manifest, and installers that need "
            "only Python: install.sh, install.ps1; or `envgen create --from-bundle FILE`."
        ),
        helps={
            "variants": "comma-separated variants of the lock set (default: all)",
            "platform": "comma-separated platforms of the lock set (default: all)",
            "mirror": "download through this index: a preset, an https URL, or auto (the "
            "lock's hashes decide, whatever serves the files)",
            "output": "the archive to write (default: envgen-bundle-<variants>-<platforms>.tar)",
            "force": "overwrite an output file that is not an envgen bundle",
        },
    ),
    Command(
        "detect",
        "observe this machine: OS, CPU, NVIDIA driver and GPUs, CUDA/cuDNN, Pythons",
        "envgen.cli.detect",
        ("profile", "output", "capture", "force"),
        description="Observe this machine and print its hardware profile.",
        helps={
            "profile": "read a profile file instead of detecting (validates and completes it)",
            "force": "overwrite an output file that envgen did not write",
        },
    ),
    Command(
        "plan",
        "decide the TensorFlow stack for this machine and explain every choice",
        "envgen.cli.plan",
        (*_REQUEST, "why_not"),
        description=(
            "Decide the newest TensorFlow that works here, with Keras, numpy, CUDA and cuDNN "
            "pinned, a reason for each pin and each rejected candidate."
        ),
    ),
    Command(
        "verify",
        "prove an environment works: imports, devices, GPU compute, installed versions",
        "envgen.cli.verify",
        ("prefix", "interpreter", "target", "lock", "profile", "report", "timeout", "force"),
        description=(
            "Run a probe with the environment's own interpreter: installed versions against a "
            "lock, import of TensorFlow (or PyTorch/JAX) in a child process, devices, a matmul "
            "on each GPU against the CPU, a tiny training run, and the NVIDIA driver through "
            "libcuda. Exits 6 when a required check fails."
        ),
        helps={
            "lock": "hold installed versions to this lock (pylock.toml or hashed requirements)",
            "target": "what must work (default: auto)",
            "profile": "hardware profile file instead of detecting",
            "force": "overwrite a report file that envgen did not write",
        },
        exclusive=(("prefix", "interpreter"),),
    ),
    Command(
        "kb",
        "maintain the knowledge base",
        "envgen.cli.kb",
        children=(
            Command(
                "check",
                "validate every data file and print its hash",
                "envgen.cli.kb",
                handler="run_check",
            ),
            Command(
                "update",
                "re-derive tensorflow-releases.toml from PyPI metadata and print the diff "
                "(network)",
                "envgen.cli.kb",
                ("write",),
                handler="run_update",
            ),
        ),
    ),
    Command(
        "doctor",
        "explain a failing TensorFlow environment or error log: cause, evidence, fix",
        "envgen.cli.doctor",
        ("log", "prefix", "interpreter", "profile", "timeout"),
        description=(
            "Match an error log against known failure messages, and/or probe a Python "
            "environment and cross-check it with this machine's hardware profile. Exits 6 "
            "when an error-level finding exists."
        ),
        helps={
            "prefix": "the environment (virtualenv/conda) root",
            "interpreter": "the environment's interpreter (a command with arguments is split "
            "like a shell)",
            "profile": "hardware profile to check against instead of detecting this machine",
            "timeout": "how long `import tensorflow` may take in the environment (default 300)",
        },
        exclusive=(("prefix", "interpreter"),),
    ),
    Command(
        "render",
        "write environment.yml, requirements.txt and a Dockerfile for the planned stack",
        "envgen.cli.render",
        (
            *_REQUEST,
            "mirror",
            "allow_insecure_mirror",
            "output_dir",
            "format",
            "lock",
            "force",
            "save_config",
        ),
        description=(
            "Plan the stack, then write the files a team commits. Options not given come from "
            "ENVGEN_* variables, then [tool.envgen] in pyproject.toml (or envgen.toml)."
        ),
        helps={"output_dir": "where to write (default: .)"},
    ),
    Command(
        "lock",
        "write hashed per-platform locks (pylock.toml, requirements, conda-lock.yml)",
        "envgen.cli.lock",
        (*_REQUEST, "platform", "variants", "output_dir", "conda_channel", "uv", "check", "force"),
        description=(
            "Resolve each variant for each platform and lock it with hashes in standard formats "
            "(PEP 751 pylock, pip --require-hashes requirements, conda-lock), plus an index "
            "saying which variant fits which hardware."
        ),
        defaults={"output_dir": "locks"},
        helps={
            "output_dir": "where the lock set goes (default: locks)",
            "force": "overwrite lock files a person edited",
        },
    ),
)


def command(name: str) -> Command:
    found = next((c for c in COMMANDS if c.name == name), None)
    if found is None:
        raise UsageError(f"unknown command {name!r}")
    return found


def config_keys() -> dict[str, str]:
    """Every `[tool.envgen]` key -> the option it sets."""
    return {o.config: o.dest for o in OPTIONS.values() if o.config is not None}


# --- values and their sources --------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where one option's value came from."""

    kind: str
    """"flag", "env", "config" or "default"."""
    label: str
    """What an error calls it: `--target`, `ENVGEN_TARGET`, `pyproject.toml: tool.envgen.target`."""


@dataclass(frozen=True)
class Options:
    """One run's options: each value, and where it came from. Read as attributes."""

    command: str
    values: Mapping[str, Any]
    sources: Mapping[str, Source] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        # Only called for names that are not fields: the option values.
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def source(self, dest: str) -> Source:
        """Where `dest` came from; an option no source set counts as its flag."""
        found = self.sources.get(dest)
        option = OPTIONS.get(dest)
        return found or Source("flag", option.flag if option else "--" + dest.replace("_", "-"))

    def label(self, dest: str) -> str:
        return self.source(dest).label

    def replace(self, **values: Any) -> Options:
        """These options with some values set in code (their source becomes the flag's)."""
        return Options(self.command, {**self.values, **values}, self.sources)


def _coerce(option: Option, raw: Any, env: bool) -> Any:
    """A value from its source as the option's kind; OptionError when it is not one."""
    if option.kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if env and text in _TRUE:
            return True
        if env and text in _FALSE:
            return False
        raise OptionError(option.dest, f"{raw!r} is not a boolean", hint="use 1 or 0")
    if option.kind == "seconds":
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = 0.0
        if not value > 0 or value == float("inf"):
            raise OptionError(option.dest, f"expected a positive number of seconds, got {raw!r}")
        return value
    if option.kind == "append":
        if isinstance(raw, list):
            return raw
        # ENVGEN_CONDA_CHANNEL: several values separated by whitespace.
        return str(raw).split()
    if option.choices and raw is not None and raw not in option.choices:
        raise OptionError(option.dest, f"expected one of {', '.join(option.choices)}, got {raw!r}")
    return raw


def resolve(
    name: str,
    given: Mapping[str, Any],
    environ: Mapping[str, str],
    config: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    *,
    extra: Mapping[str, Any] | None = None,
) -> Options:
    """The options of command `name`: each from its flag (`given`, None when not given), else its
    ENVGEN_* variable, else the project's `config` (keyed by `[tool.envgen]` key, `labels`
    naming where each sits), else the default. `extra` carries values outside the table
    (`json`, `debug`, the kb sub-command)."""
    cmd = _find(name)
    values: dict[str, Any] = dict(extra or {})
    sources: dict[str, Source] = {}
    for dest in cmd.options:
        option = OPTIONS[dest]
        default = cmd.defaults.get(dest, option.default)
        raw = given.get(dest)
        if raw is not None and raw is not False and raw != []:
            value, source = raw, Source("flag", option.flag)
        elif option.env in environ:
            value, source = environ[option.env], Source("env", option.env)
        elif config is not None and option.config is not None and option.config in config:
            where = (labels or {}).get(option.config, f"tool.envgen.{option.config}")
            value, source = config[option.config], Source("config", where)
        else:
            values[dest], sources[dest] = default, Source("default", option.flag)
            continue
        sources[dest] = source
        try:
            values[dest] = _coerce(option, value, env=source.kind == "env")
        except OptionError as exc:
            raise named_error(source, exc) from None
    return Options(name, values, sources)


def _find(name: str) -> Command:
    parent, _, child = name.partition(" ")
    cmd = command(parent)
    if child:
        return next(c for c in cmd.children if c.name == child)
    return cmd


def named_error(source: Source, exc: OptionError) -> EnvgenError:
    """`exc` under the name its value was set by; a bad value in the project's configuration
    file is a bad input file (exit 3), a bad flag or variable a usage error (exit 2)."""
    kind = InputFileError if source.kind == "config" else UsageError
    return kind(f"{source.label}: {exc.problem}", hint=exc.hint)


def named(options: Options | None, exc: OptionError) -> EnvgenError:
    """An `OptionError` a stage raised, reported under where the user set the value."""
    if options is None:
        return exc
    return named_error(options.source(exc.option), exc)
