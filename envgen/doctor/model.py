"""What the doctor works with and what it answers: the environment it examined, its findings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.utils import canonicalize_name

from envgen.kb.distributions import load_distributions
from envgen.verify.observation import FrameworkRun, Observation
from envgen.versions import major_minor

# The distributions a TensorFlow stack is made of: the environment's packages the doctor reports.
_STACK_PREFIXES = (
    "tensorflow", "tf-nightly", "tf-keras", "keras", "numpy", "nvidia-", "ml-dtypes", "jax", "torch",
)  # fmt: skip
# The Keras 3 backends besides TensorFlow, whose imports the doctor reads too.
BACKENDS = ("jax", "torch")


@dataclass(frozen=True)
class Finding:
    """One thing the doctor found: what, how bad, the evidence, why, and how to fix it."""

    code: str
    severity: str
    evidence: str
    cause: str
    fix: str
    command: str | None
    source: str
    origin: str
    """Where the evidence came from: "log", "import" (the probe's child stderr) or "environment"."""
    # The facts the cause and fix rely on beside the evidence, each with where it was read
    # ("Python 3.6, from line 3: .../python3.6/site-packages").
    inferred: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "evidence": self.evidence,
            "cause": self.cause,
            "fix": self.fix,
            "command": self.command,
            "source": self.source,
            "origin": self.origin,
            "inferred": list(self.inferred),
        }


@dataclass(frozen=True)
class ImportResult:
    """What happened when a child process of the target interpreter imported a framework."""

    ok: bool
    returncode: int | None
    signal: str | None
    stderr: str
    timed_out: bool = False
    version: str | None = None
    build_info: Mapping[str, Any] = field(default_factory=dict)
    gpus: tuple[str, ...] | None = None
    keras: str | None = None
    keras_error: str | None = None
    arch: Mapping[str, Any] | None = None
    """PyTorch: the build's architectures and each device's compute capability."""


@dataclass(frozen=True)
class Environment:
    """The probe's report on one Python environment."""

    python: str
    executable: str
    prefix: str
    platform: str
    machine: str
    packages: Mapping[str, str]
    """Installed distributions of the stack, canonical name -> version."""
    tensorflow_import: ImportResult | None
    backends: Mapping[str, ImportResult] = field(default_factory=dict)
    """The other Keras backends installed (jax, torch): their imports, as the probe ran them."""

    @property
    def python_minor(self) -> str:
        return major_minor(self.python)

    def tensorflow(self) -> tuple[str, str] | None:
        """(distribution, version) of the installed TensorFlow; the full build wins over shims."""
        known = load_distributions()
        for name in known.names:
            if name in self.packages:
                return name, self.packages[name]
        for name, version in self.packages.items():
            if name.startswith(("tensorflow-", "tf-nightly")) and name not in known.satellites:
                return name, version
        return None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "python": self.python,
            "executable": self.executable,
            "prefix": self.prefix,
            "packages": dict(self.packages),
        }
        imp = self.tensorflow_import
        if imp is not None:
            out["import"] = {
                "ok": imp.ok,
                "returncode": imp.returncode,
                "signal": imp.signal,
                "version": imp.version,
                "build-info": dict(imp.build_info),
                "gpus": None if imp.gpus is None else list(imp.gpus),
            }
        if self.backends:
            out["backends"] = {
                name: {
                    "ok": b.ok,
                    "returncode": b.returncode,
                    "signal": b.signal,
                    "version": b.version,
                    "gpus": None if b.gpus is None else list(b.gpus),
                }
                for name, b in self.backends.items()
            }
        return out


@dataclass(frozen=True)
class Diagnosis:
    """Every finding, most severe first, and what was examined."""

    findings: tuple[Finding, ...]
    environment: Environment | None = None
    suggested: str = ""
    """The command that gives a working environment for this machine, whatever was found."""

    @property
    def ok(self) -> bool:
        """No error-level finding: warnings and notes alone do not make a failure."""
        return not any(f.severity == "error" for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "findings": [f.to_dict() for f in self.findings],
            "suggested-command": self.suggested,
        }
        if self.environment is not None:
            out["environment"] = self.environment.to_dict()
        return out


def _import_result(run: FrameworkRun | None) -> ImportResult | None:
    """A framework's child as an `ImportResult`; None when the framework is absent."""
    if run is None or not run.present:
        return None
    # What the child printed, as it would read on a terminal: its stderr, then the Python warnings
    # and the traceback the probe caught. A child that never started has only the probe's error.
    lines = [*run.log, *run.warnings, *run.traceback]
    if not lines and run.returncode is None and run.error:
        lines = [run.error]
    returncode = run.returncode
    if run.status == "import-error" and returncode == 0:
        # The probe's child caught the exception to report it; a plain `import tensorflow` would
        # have exited with Python's status for an uncaught exception.
        returncode = 1
    gpus = run.value("gpus")
    keras_step = run.steps.get("keras_import")
    return ImportResult(
        ok=run.ok,
        returncode=returncode,
        signal=run.signal,
        stderr="".join(f"{line}\n" for line in lines),
        timed_out=run.status == "timeout",
        version=run.version,
        build_info=dict(run.value("build_info") or {}),
        gpus=tuple(gpus) if isinstance(gpus, list) else None,
        keras=(run.value("keras_import") or {}).get("keras"),
        keras_error=keras_step.error if keras_step is not None else None,
        arch=run.value("arch") if isinstance(run.value("arch"), Mapping) else None,
    )


def environment_from(observed: Observation) -> Environment:
    """The probe's observation as the doctor's `Environment` (the stack's packages only)."""
    packages = {
        canonicalize_name(k): v
        for k, v in observed.packages.items()
        if canonicalize_name(k).startswith(_STACK_PREFIXES)
    }
    python = observed.python
    return Environment(
        python=python.version,
        executable=python.executable,
        prefix=python.prefix,
        platform=python.platform,
        machine=python.machine,
        packages=dict(sorted(packages.items())),
        tensorflow_import=_import_result(observed.frameworks.get("tensorflow")),
        backends={
            name: found
            for name in BACKENDS
            if (found := _import_result(observed.frameworks.get(name))) is not None
        },
    )
