"""Where each option's value comes from, decided in one place.

Precedence, highest first: the command-line flag, its `ENVGEN_<NAME>` twin, the project's
`[tool.envgen]` table (once a command reads it), the built-in default. Flags are declared with
`default=None` so "not given" is distinguishable from "given the default".

`resolve` also records where each value came from (`source_of`), so that an error about a value
names what the user actually set: `--mirror`, `ENVGEN_MIRROR` or `tool.envgen.mirror`.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from envgen.errors import UsageError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


# The Namespace attribute that holds {dest: source}; set by resolve(), read by source_of().
_SOURCES = "option_sources"
CONFIG_TABLE = "tool.envgen"


def env_name(dest: str) -> str:
    return "ENVGEN_" + dest.upper()


def flag_name(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def source_of(args: argparse.Namespace, dest: str) -> str:
    """Where `dest`'s value came from: its flag, its ENVGEN_* variable, the config key, or
    "default"; the flag's name where resolve() has not seen it (a value set in code)."""
    sources: dict[str, str] = getattr(args, _SOURCES, {})
    return sources.get(dest, flag_name(dest))


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
) -> argparse.Namespace:
    """Fill every option left at None from ENVGEN_*, then config, then `defaults`."""
    sources: dict[str, str] = vars(args).setdefault(_SOURCES, {})
    for dest, default in defaults.items():
        if getattr(args, dest, None) is not None:
            sources.setdefault(dest, flag_name(dest))
            continue
        var = env_name(dest)
        key = dest.replace("_", "-")
        if var in environ:
            value, source = _coerce(environ[var], default, var), var
        elif config is not None and key in config:
            value, source = config[key], f"{CONFIG_TABLE}.{key}"
        else:
            value, source = default, "default"
        setattr(args, dest, value)
        sources[dest] = source
    return args
