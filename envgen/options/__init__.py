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
from envgen.options.commands import COMMANDS
from envgen.options.table import OPTIONS
from envgen.options.types import Command, Option

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


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
    if option.kind in ("seconds", "wait"):
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = -1.0
        # `wait` may be 0 (refuse at once); a timeout must leave some time.
        low_ok = value >= 0 if option.kind == "wait" else value > 0
        if not low_ok or value == float("inf"):
            what = (
                "a number of seconds >= 0"
                if option.kind == "wait"
                else "a positive number of seconds"
            )
            raise OptionError(option.dest, f"expected {what}, got {raw!r}")
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


__all__ = [
    "COMMANDS",
    "OPTIONS",
    "Command",
    "Option",
    "Options",
    "Source",
    "command",
    "config_keys",
    "named",
    "named_error",
    "resolve",
]
