"""Where each option's value comes from, decided in one place.

Precedence, highest first: the command-line flag, its `ENVGEN_<NAME>` twin, the project's
`[tool.envgen]` table (once a command reads it), the built-in default. Flags are declared with
`default=None` so "not given" is distinguishable from "given the default".
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from envgen.errors import UsageError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_name(dest: str) -> str:
    return "ENVGEN_" + dest.upper()


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
    for dest, default in defaults.items():
        if getattr(args, dest, None) is not None:
            continue
        var = env_name(dest)
        if var in environ:
            value = _coerce(environ[var], default, var)
        elif config is not None and dest.replace("_", "-") in config:
            value = config[dest.replace("_", "-")]
        else:
            value = default
        setattr(args, dest, value)
    return args
