"""What an environment is expected to hold: from a Plan, or from a lock file in a standard format.

Verification compares the probe's observations with an `Expectation`. It can come from the plan
(exact pins and specifiers, CUDA/cuDNN the resolver chose), or from a committed lock, read in the
two standard forms envgen writes and users may bring (DESIGN.md, "Standard lock formats"):
a hashed requirements file (`name==version \\ --hash=...`) and PEP 751 `pylock.toml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from envgen.digest import short
from envgen.errors import InputFileError
from envgen.files import LOCK_FILE, decode_text, read_bytes

if TYPE_CHECKING:
    # The plan and the knowledge base are imported where they are used: a quick re-check of an
    # environment (envgen.verify.stamp) holds an expectation and must start fast.
    from envgen.plan import Plan


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
    """The framework that must import and compute: tensorflow, jax or torch."""
    keras_backend: str | None = None
    """The backend a Keras 3 fit must run on (KERAS_BACKEND): tensorflow, jax or torch; None
    where nothing asks for a Keras fit beyond TensorFlow's own."""
    environment: tuple[tuple[str, str], ...] = ()
    """Variables the plan sets in the environment (activation does): the probe runs with them."""
    build_cpu: tuple[str, ...] | None = None
    """The x86-64 features a build of another family (a community wheel, conda-forge's) was
    compiled for; None where the framework is PyPI's own (its import check covers it)."""
    build_label: str | None = None
    """How the check names that build: its provider's folder and SIMD level."""


# Keras 3's backend names are the frameworks' import names (keras.backend.backend()).
KERAS_BACKENDS = ("tensorflow", "jax", "torch")


def for_backend(expect: Expectation | None, backend: str) -> Expectation:
    """`expect` (or an expectation of nothing else) holding Keras to `backend`: that framework
    must import and compute, and Keras must fit on it."""
    if expect is None:
        return Expectation(source=f"keras-backend {backend}", framework=backend,
                           keras_backend=backend)  # fmt: skip
    return replace(expect, framework=backend, keras_backend=backend)


def from_plan(plan: Plan) -> Expectation:
    """Pip-side pins of a plan (conda and system packages are checked by their own stages)."""
    from packaging.utils import canonicalize_name

    from envgen.kb import load_kb
    from envgen.resolve.families import build_facts

    pins = sorted(
        (str(canonicalize_name(p.name)), p.version) for p in plan.packages if p.channel == "pip"
    )
    facts = build_facts(load_kb(), plan)
    return Expectation(
        build_cpu=facts.cpu_features if facts is not None else None,
        build_label=f"{facts.family} build ({facts.simd})" if facts is not None else None,
        source="plan",
        digest=plan.digest(),
        packages=tuple(pins),
        python=plan.python,
        target=plan.target,
        cuda=plan.cuda,
        cudnn=plan.cudnn,
        framework=plan.keras_backend,
        environment=plan.environment,
        # Keras fits on the backend the plan was made for (tf.keras on TensorFlow's).
        keras_backend=plan.keras_backend,
    )


def from_lock_set(
    path: Path, keras_backend: str, environment: tuple[tuple[str, str], ...] = ()
) -> Expectation:
    """One lock of a committed lock set: its pins (`from_lock`), held to the Keras backend the
    set's index records (a JAX set proves JAX imports, computes and fits Keras, not TensorFlow),
    with the variant's variables for the probe (KERAS_BACKEND, conda's LD_LIBRARY_PATH)."""
    found = from_lock(path)
    return replace(
        found, framework=keras_backend, keras_backend=keras_backend, environment=environment
    )


def parse_requirements_lock(text: str, origin: str = "requirements") -> tuple[tuple[str, str], ...]:
    """Exact pins of a requirements file (envgen.lock.pip's reader, in its lenient form)."""
    from envgen.lock.pip import parse_requirements

    pins = parse_requirements(text, origin, strict=False)
    return tuple(sorted((name, version) for name, (version, _) in pins.items()))


def parse_pylock(text: str, origin: str) -> tuple[tuple[str, str], ...]:
    """Name and version of every package of a PEP 751 lock (envgen.lock.pip's reader)."""
    from envgen.lock.pip import parse_pylock as read

    return tuple(sorted((p.name, p.version) for p in read(text, origin, strict=False)))


def from_lock(path: Path) -> Expectation:
    """A lock file: `pylock.toml` / `pylock.<name>.toml` by PEP 751's naming, else requirements."""
    data = read_bytes(path, what="lock", limit=LOCK_FILE)
    text = decode_text(data, f"lock {path}")
    is_pylock = path.name == "pylock.toml" or (
        path.name.startswith("pylock.") and path.suffix == ".toml"
    )
    pins = parse_pylock(text, str(path)) if is_pylock else parse_requirements_lock(text, str(path))
    if not pins:
        raise InputFileError(f"{path}: no pinned packages found", hint="is this a lock file?")
    framework = framework_of({name for name, _ in pins})
    build = direct_build(text)
    return Expectation(
        build_cpu=build[0] if build is not None else None,
        build_label=build[1] if build is not None else None,
        source=f"lock {path.name}",
        digest=short(data),
        packages=pins,
        framework=framework,
        # TensorFlow's tf.keras is fitted whatever else the lock holds; Keras 3 on JAX or
        # PyTorch only where the lock installs Keras beside it.
        keras_backend=framework
        if framework == "tensorflow" or (framework and "keras" in dict(pins))
        else None,
    )


_WHEEL_URL = re.compile(r"https://[^\s\"'\\]{1,500}\.whl")


def direct_build(text: str) -> tuple[tuple[str, ...], str] | None:
    """(CPU features, label) of a community wheel a lock installs from its URL (a pylock's
    `archive`, a requirements file's `name @ URL`): the row of community-builds.toml it names."""
    from envgen.kb import load_kb

    table = load_kb().community
    for url in _WHEEL_URL.findall(text):
        row = table.find(url)
        if row is not None:
            return row.cpu_features, f"{row.label} (SIMD {row.simd})"
    return None


def framework_of(names: set[str]) -> str | None:
    """The framework a set of installed or locked distributions is for: TensorFlow (any of its
    distributions) first, as every TensorFlow plan; else JAX, else PyTorch; None without one."""
    from envgen.kb.distributions import load_distributions

    if names & set(load_distributions().names):
        return "tensorflow"
    return next((f for f in ("jax", "torch") if f in names), None)
