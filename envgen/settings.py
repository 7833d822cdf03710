"""Where each option's value comes from, decided in one place.

Precedence, highest first: the command-line flag, its `ENVGEN_<NAME>` twin, the project's
`[tool.envgen]` table (once a command reads it), the built-in default. Flags are declared with
`default=None` so "not given" is distinguishable from "given the default".

`resolve` also records, on the namespace, where each value came from, so that an invalid value
is reported under the name the user set it by (`ENVGEN_TARGET`, `pyproject.toml:
tool.envgen.target`) rather than under a flag they never typed: `named` turns an `OptionError`
raised by any validator into that error.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from envgen.errors import EnvgenError, InputFileError, OptionError, UsageError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

# The namespace attribute holding {dest: Source}; argparse never sets a dest by this name.
SOURCES = "option_sources"


@dataclass(frozen=True)
class Source:
    """Where one option's value came from."""

    kind: str
    """"flag", "env", "config" or "default"."""
    label: str
    """What an error calls it: `--target`, `ENVGEN_TARGET`, `pyproject.toml: tool.envgen.target`."""


def env_name(dest: str) -> str:
    return "ENVGEN_" + dest.upper()


def flag_name(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _coerce(raw: str, default: Any, var: str) -> Any:
    if isinstance(default, bool):
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise UsageError(f"{var}={raw!r} is not a boolean", hint="use 1 or 0")
    return raw


def resolve(
    args: argparse.Namespace,
    defaults: Mapping[str, Any],
    environ: Mapping[str, str],
    config: Mapping[str, Any] | None = None,
    *,
    labels: Mapping[str, str] | None = None,
) -> argparse.Namespace:
    """Fill every option left at None from ENVGEN_*, then config, then `defaults`.

    `config` maps option names to values (`ProjectConfig.options()`), `labels` names where each
    sits in the file (`ProjectConfig.labels()`).
    """
    sources: dict[str, Source] = getattr(args, SOURCES, None) or {}
    for dest, default in defaults.items():
        key = dest.replace("_", "-")
        if getattr(args, dest, None) is not None:
            sources.setdefault(dest, Source("flag", flag_name(dest)))
            continue
        var = env_name(dest)
        if var in environ:
            value = _coerce(environ[var], default, var)
            source = Source("env", var)
        elif config is not None and key in config:
            value = config[key]
            source = Source("config", (labels or {}).get(key, f"tool.envgen.{key}"))
        else:
            value = default
            source = Source("default", flag_name(dest))
        setattr(args, dest, value)
        sources[dest] = source
    setattr(args, SOURCES, sources)
    return args


def source(args: argparse.Namespace, dest: str) -> Source:
    """Where `dest` came from; a value `resolve` never saw counts as its flag."""
    recorded: Mapping[str, Source] = getattr(args, SOURCES, None) or {}
    return recorded.get(dest) or Source("flag", flag_name(dest))


def named(args: argparse.Namespace, exc: OptionError) -> EnvgenError:
    """`exc` under the name its value was set by; a bad value in the project's configuration
    file is a bad input file (exit 3), a bad flag or variable a usage error (exit 2)."""
    where = source(args, exc.option)
    kind = InputFileError if where.kind == "config" else UsageError
    return kind(f"{where.label}: {exc.problem}", hint=exc.hint)


def source_of(args: argparse.Namespace, dest: str) -> str:
    """The name `dest`'s value was set by, for messages: `--mirror`, `ENVGEN_MIRROR`, ..."""
    return source(args, dest).label
