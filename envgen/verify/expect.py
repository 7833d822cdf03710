"""What an environment is expected to hold: from a Plan, or from a lock file in a standard format.

Verification compares the probe's observations with an `Expectation`. It can come from the plan
(exact pins and specifiers, CUDA/cuDNN the resolver chose), or from a committed lock, read in the
two standard forms envgen writes and users may bring (DESIGN.md, "Standard lock formats"):
a hashed requirements file (`name==version \\ --hash=...`) and PEP 751 `pylock.toml`.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from envgen.errors import InputFileError
from envgen.kb.distributions import load_distributions
from envgen.plan import Plan

# `name[extras]==version` at the start of a requirements line; markers and hashes may follow.
_PINNED = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s;\\]+)")


@dataclass(frozen=True)
class Expectation:
    """What verification holds the environment to."""

    source: str
    """Where it came from, for the report: "plan", or "lock <file>"."""
    digest: str | None = None
    packages: tuple[tuple[str, str], ...] = ()
    """(canonical name, exact version or PEP 440 specifier), sorted by name."""
    python: str | None = None
    target: str | None = None
    cuda: str | None = None
    cudnn: str | None = None
    framework: str | None = None
    """The framework that must import and compute ("tensorflow" for any envgen plan)."""


def from_plan(plan: Plan) -> Expectation:
    """Pip-side pins of a plan (conda and system packages are checked by their own stages)."""
    pins = sorted(
        (str(canonicalize_name(p.name)), p.version) for p in plan.packages if p.channel == "pip"
    )
    return Expectation(
        source="plan",
        digest=plan.digest(),
        packages=tuple(pins),
        python=plan.python,
        target=plan.target,
        cuda=plan.cuda,
        cudnn=plan.cudnn,
        framework="tensorflow",
    )


def parse_requirements_lock(text: str) -> tuple[tuple[str, str], ...]:
    """Exact pins of a requirements file; options, hashes and comments are skipped."""
    # Backslash continuations join a requirement with its --hash lines.
    joined = re.sub(r"\\\r?\n", " ", text)
    pins = {}
    for raw in joined.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        match = _PINNED.match(line)
        if match:
            pins[str(canonicalize_name(match.group(1)))] = match.group(2)
    return tuple(sorted(pins.items()))


def parse_pylock(text: str, origin: str) -> tuple[tuple[str, str], ...]:
    """Name and version of every `[[packages]]` entry of a PEP 751 lock."""
    try:
        doc: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(f"{origin}: not valid TOML: {exc}") from exc
    pins = {}
    for i, entry in enumerate(doc.get("packages", [])):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise InputFileError(f"{origin}: packages[{i}].name is missing")
        version = entry.get("version")
        # PEP 751 allows a package without a version (a directory or VCS source): nothing to pin.
        if isinstance(version, str):
            pins[str(canonicalize_name(entry["name"]))] = version
    return tuple(sorted(pins.items()))


def from_lock(path: Path) -> Expectation:
    """A lock file: `pylock.toml` / `pylock.<name>.toml` by PEP 751's naming, else requirements."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"cannot read lock {path}: {exc.strerror or exc}") from exc
    text = data.decode("utf-8", errors="replace")
    is_pylock = path.name == "pylock.toml" or (
        path.name.startswith("pylock.") and path.suffix == ".toml"
    )
    pins = parse_pylock(text, str(path)) if is_pylock else parse_requirements_lock(text)
    if not pins:
        raise InputFileError(f"{path}: no pinned packages found", hint="is this a lock file?")
    names = {name for name, _ in pins}
    return Expectation(
        source=f"lock {path.name}",
        digest=hashlib.sha256(data).hexdigest()[:16],
        packages=pins,
        framework="tensorflow" if names & set(load_distributions().names) else None,
    )
