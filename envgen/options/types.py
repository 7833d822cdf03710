"""The kinds of row the option table holds: an `Option` and a `Command`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Option:
    dest: str
    help: str
    flags: tuple[str, ...] = ()
    """The flags; the default is `--<dest with dashes>`."""
    kind: str = "str"
    """str, bool (a switch), seconds (a positive number), wait (a number >= 0), append
    (repeatable)."""
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
