"""`envgen verify`: prove that an environment works, by running a probe inside it.

An install that exited 0 proves little (DESIGN.md): a pre-AVX CPU kills `import tensorflow` with
SIGILL, a CPU-only wheel in a GPU environment silently computes on the CPU, a numpy 2 next to a
TF built for numpy 1 fails on import. So `verify()` runs `probe.py` with the environment's own
interpreter (a separate program, standard library only, one child process per framework) and
`evaluate()`, a pure function, turns what it observed into checks against an `Expectation`
(a plan or a lock). Log lines and warnings are reported with the knowledge base's explanation
(`signatures.toml`) and never fail a check by themselves.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from envgen import __version__
from envgen.errors import ExternalToolError, InputFileError, VerificationError
from envgen.files import MARKER
from envgen.kb.distributions import load_distributions
from envgen.verify.expect import Expectation

if TYPE_CHECKING:
    from envgen.kb import KnowledgeBase

PROBE = Path(__file__).with_name("probe.py")
REPORT_NAME = "verify-report.json"
REPORT_SCHEMA = "envgen.verify-report/1"
FRAMEWORK_NAMES = {"tensorflow": "TensorFlow", "torch": "PyTorch", "jax": "JAX"}
# Variables that would make the target interpreter import something other than its own
# environment (envgen's own PYTHONPATH, when envgen runs from a --target directory, for one).
_FOREIGN_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
# Slack for the interpreter start and package listing on top of the per-framework timeouts.
_PROBE_OVERHEAD_S = 60.0


@dataclass(frozen=True)
class Check:
    """One verified property. A failed check with `required=False` is reported as a warning."""

    name: str
    ok: bool
    detail: str
    required: bool = True
    seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "ok": self.ok,
            "required": self.required,
            "detail": self.detail,
        }
        if self.seconds is not None:
            out["seconds"] = self.seconds
        return out


@dataclass(frozen=True)
class LogNote:
    """A known message seen in a framework's log, with the knowledge base's explanation."""

    framework: str
    code: str
    severity: str
    line: str
    cause: str
    fix: str

    def to_dict(self) -> dict[str, str]:
        return {
            "framework": self.framework,
            "code": self.code,
            "severity": self.severity,
            "line": self.line,
            "cause": self.cause,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class VerifyReport:
    """The result of verifying one environment; `to_dict()` is the verify-report.json form."""

    python: str
    python_version: str | None
    target: str
    checks: tuple[Check, ...]
    expectation: str | None = None
    profile_hash: str | None = None
    plan_hash: str | None = None
    lock_hash: str | None = None
    notes: tuple[LogNote, ...] = ()
    log: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Per framework, its log lines and Python warnings, verbatim."""
    timings: tuple[tuple[str, float], ...] = ()
    probe: dict[str, Any] = field(default_factory=dict)
    """The probe's raw output, for `envgen doctor` and bug reports."""

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks if c.required)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.required and not c.ok)

    @property
    def warnings(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.required and not c.ok)

    def to_dict(self) -> dict[str, Any]:
        return {
            # First key, so the file's head carries files.MARKER and re-runs may replace it.
            "generator": f"{MARKER} {__version__} (envgen verify)",
            "schema": REPORT_SCHEMA,
            "ok": self.ok,
            "target": self.target,
            "python": self.python,
            "python-version": self.python_version,
            "expectation": self.expectation,
            "profile-hash": self.profile_hash,
            "plan-hash": self.plan_hash,
            "lock-hash": self.lock_hash,
            "checks": [c.to_dict() for c in self.checks],
            "notes": [n.to_dict() for n in self.notes],
            "log": {name: list(lines) for name, lines in self.log},
            "timings": dict(self.timings),
            "probe": self.probe,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


# --- finding and running the interpreter --------------------------------------------------------


def interpreter_in(prefix: Path) -> Path:
    """The Python of a virtualenv or conda prefix (POSIX `bin/`, Windows `Scripts/` or root)."""
    for rel in ("bin/python", "bin/python3", "Scripts/python.exe", "python.exe"):
        candidate = prefix / rel
        if candidate.is_file():
            return candidate
    raise InputFileError(
        f"no Python interpreter in {prefix}",
        hint="give the environment's root (the directory holding bin/ or Scripts/), or --python",
    )


def probe_environment(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k not in _FOREIGN_VARIABLES}


def run_probe(
    python: Path,
    *,
    timeout: float = 300.0,
    environ: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
) -> dict[str, Any]:
    """Run the probe with `python`; its parsed JSON. `timeout` applies to each framework."""
    from envgen.proc import run

    argv = [str(python), str(PROBE), "--timeout", f"{timeout:g}", *extra_args]
    env = probe_environment(os.environ if environ is None else environ)
    try:
        done = run(argv, timeout=3 * timeout + _PROBE_OVERHEAD_S, check=False, env=env)
    except ExternalToolError as exc:
        raise VerificationError(f"the probe could not run with {python}: {exc.message}") from exc
    return parse_probe_output(done.returncode, done.stdout, done.stderr, str(python))


def parse_probe_output(returncode: int, stdout: str, stderr: str, python: str) -> dict[str, Any]:
    """The probe's JSON, or a VerificationError quoting why the interpreter produced none."""
    tail = (stderr.strip() or stdout.strip())[-400:]
    if returncode != 0:
        raise VerificationError(
            f"{python} could not run the probe (exit code {returncode}): {tail}",
            hint="is this a working Python interpreter? try running it by hand",
        )
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise VerificationError(f"the probe printed no JSON under {python}: {tail}") from exc
    if not isinstance(data, dict) or data.get("schema") != 1:
        raise VerificationError(f"the probe under {python} answered in an unknown form")
    return data


# --- evaluation (pure) ---------------------------------------------------------------------------


def _version_matches(installed: str, wanted: str) -> bool:
    """An exact pin compares as PEP 440 versions (2.21 == 2.21.0); else a specifier test."""
    try:
        if wanted[:1].isdigit():
            return Version(installed) == Version(wanted)
        return SpecifierSet(wanted).contains(installed, prereleases=True)
    except (InvalidVersion, InvalidSpecifier):
        return installed == wanted


def check_packages(installed: Mapping[str, str], expect: Expectation) -> Check:
    problems = []
    for name, wanted in expect.packages:
        have = installed.get(name)
        if have is None:
            problems.append(f"{name}: not installed (want {wanted})")
        elif not _version_matches(have, wanted):
            problems.append(f"{name}: installed {have}, want {wanted}")
    if problems:
        return Check("packages", False, "; ".join(problems))
    return Check(
        "packages", True, f"all {len(expect.packages)} packages of the {expect.source} match"
    )


def _gib(n: int) -> str:
    return f"{n / 2**30:.0f} GiB"


def check_driver(driver: Mapping[str, Any] | None, target: str) -> Check:
    required = target == "gpu"
    if not driver:
        return Check("driver", not required, "not probed", required=required)
    if driver.get("library") is None or driver.get("error"):
        why = str(driver.get("error") or "libcuda not found")
        if not required:
            why = f"{why} (fine for a CPU target)"
        return Check("driver", not required, why, required=required)
    devices = driver.get("devices") or []
    if not devices:
        return Check(
            "driver", not required, "the driver answered but sees no GPU", required=required
        )
    described = ", ".join(
        f"{d.get('name')} (compute capability {d.get('compute_capability')}, "
        f"{_gib(int(d.get('memory_bytes') or 0))}, "
        f"{'1 MiB alloc+copy ok' if d.get('ok') else 'alloc/copy FAILED'})"
        for d in devices
    )
    return Check(
        "driver",
        bool(driver.get("ok")),
        f"libcuda {driver.get('cuda_version')}: {len(devices)} GPU(s): {described}",
        required=required,
        seconds=driver.get("seconds"),
    )


def _dist_version(packages: Mapping[str, str], framework: str) -> tuple[str, str] | None:
    names = load_distributions().names if framework == "tensorflow" else (framework,)
    # jax's GPU support lives in jaxlib plugins; the `jax` distribution carries the version.
    for name in names:
        if name in packages:
            return name, packages[name]
    return None


def _sigill_detail(
    framework: str,
    packages: Mapping[str, str],
    cpu_flags: Sequence[str] | None,
    kb: KnowledgeBase | None,
) -> str:
    base = f"{FRAMEWORK_NAMES[framework]} was killed by SIGILL on import: this CPU lacks "
    dist = _dist_version(packages, framework)
    release = None
    if framework == "tensorflow" and dist is not None and kb is not None:
        try:
            release = kb.tensorflow.release(dist[1])
        except InvalidVersion:
            release = None
    if release is None:
        return base + "an instruction the build was compiled for"
    needs = release.cpu_features
    if cpu_flags is not None:
        missing = [f for f in needs if f not in cpu_flags]
        if missing:
            return base + (
                f"{', '.join(missing)}, which {dist[0] if dist else framework} "
                f"{release.version} needs (needs: {', '.join(needs)})"
            )
    return (
        base + f"an instruction the build needs (TensorFlow {release.version}: {', '.join(needs)})"
    )


def _summary(step: str, value: Any) -> str:
    """A short human form of one probe step's value."""
    if step == "gpus":
        return ", ".join(value) if value else "none"
    if step == "reduce_sum":
        return f"sum of a 1000x1000 normal sample = {value:.3f}"
    if step.startswith("matmul_gpu"):
        return (
            f"{value.get('device')}: matmul matches the CPU "
            f"(relative error {value.get('rel_err', 0):.2g} <= {value.get('rtol')})"
        )
    if step in ("keras_fit", "fit"):
        losses = value.get("losses") or []
        where = f" on {value['device']}" if value.get("device") else ""
        keras = f"Keras {value['keras']}, " if value.get("keras") else ""
        return f"{keras}{len(losses)} steps{where}, loss {losses[0]:.4f} -> {losses[-1]:.4f}"
    if step == "build_info":
        keys = ("cuda_version", "cudnn_version", "is_cuda_build", "default_backend")
        return ", ".join(f"{k} {value[k]}" for k in keys if k in value)
    return json.dumps(value)[:200]


def _major_minor(text: str) -> tuple[int, ...] | None:
    try:
        return Version(text).release[:2]
    except InvalidVersion:
        return None


def check_build(
    framework: str,
    info: Mapping[str, Any],
    expect: Expectation | None,
    driver_cuda: str | None,
    *,
    required: bool = True,
) -> Check:
    """The CUDA/cuDNN a framework was built for, against the plan and the driver."""
    cuda = info.get("cuda_version")
    cudnn = info.get("cudnn_version")
    problems = []
    if expect is not None and expect.framework == framework and expect.target == "gpu":
        if not cuda:
            problems.append(f"a CPU-only build, but the plan chose CUDA {expect.cuda}")
        for what, want, have in (("CUDA", expect.cuda, cuda), ("cuDNN", expect.cudnn, cudnn)):
            # The plan names a release line ("12.5", "9"); the build reports more digits.
            if want and have and not (str(have) + ".").startswith(want + "."):
                problems.append(f"built for {what} {have}, the plan chose {want}")
    if cuda and driver_cuda:
        build, ceiling = _major_minor(str(cuda)), _major_minor(driver_cuda)
        # CUDA minor-version compatibility: a driver runs any runtime of its own major version
        # or older (docs.nvidia.com/deploy/cuda-compatibility, "Minor Version Compatibility").
        if build and ceiling and build[0] > ceiling[0]:
            problems.append(f"built for CUDA {cuda}, but the driver supports only {driver_cuda}")
    detail = _summary("build_info", info) or "no build information"
    if problems:
        return Check(f"{framework}:build", False, f"{detail}: {'; '.join(problems)}", required)
    return Check(f"{framework}:build", True, detail, required)


def _framework_checks(
    framework: str,
    data: Mapping[str, Any],
    *,
    target: str,
    required: bool,
    expect: Expectation | None,
    driver_cuda: str | None,
    packages: Mapping[str, str],
    cpu_flags: Sequence[str] | None,
    kb: KnowledgeBase | None,
) -> list[Check]:
    status = data.get("status")
    result = data.get("result") or {}
    steps: Mapping[str, Any] = result.get("steps") or {}
    label = FRAMEWORK_NAMES[framework]
    version = result.get("version") or (_dist_version(packages, framework) or ("", "?"))[1]
    if status == "illegal-instruction":
        detail = _sigill_detail(framework, packages, cpu_flags, kb)
        return [Check(f"{framework}:import", False, detail, required=required)]
    if status != "ok":
        error = data.get("error") or f"status {status}"
        tb = result.get("traceback") or data.get("log") or []
        detail = f"{label} {version} failed to import: {error}"
        if tb:
            detail += " | " + " / ".join(str(line).strip() for line in tb[-3:])
        return [Check(f"{framework}:import", False, detail, required=required)]
    checks = [
        Check(
            f"{framework}:import",
            True,
            f"{label} {version} imported in {result.get('import_seconds', 0):.1f} s",
            required=required,
            seconds=result.get("import_seconds"),
        )
    ]
    for step, outcome in steps.items():
        name = f"{framework}:{step.replace('_', '-')}"
        seconds = outcome.get("seconds")
        if not outcome.get("ok"):
            checks.append(Check(name, False, str(outcome.get("error")), required, seconds))
            continue
        value = outcome.get("value")
        if step == "build_info":
            checks.append(check_build(framework, value, expect, driver_cuda, required=required))
        elif step == "gpus":
            # A GPU target needs the framework to see a GPU; on a CPU target it is information.
            need_gpu = target == "gpu"
            ok = bool(value) or not need_gpu
            detail = _summary(step, value)
            if not value and need_gpu:
                detail = f"{label} sees no GPU"
            checks.append(Check(name, ok, detail, required and need_gpu, seconds))
        elif step == "devices":
            continue  # JAX's full device list: shown through "gpus"
        else:
            checks.append(Check(name, True, _summary(step, value), required, seconds))
    return checks


def _notes(frameworks: Mapping[str, Any], kb: KnowledgeBase | None) -> list[LogNote]:
    if kb is None:
        return []
    notes = []
    for name, data in frameworks.items():
        text = "\n".join([*data.get("log", []), str(data.get("error") or "")])
        for m in kb.signatures.match(text):
            notes.append(LogNote(name, m.code, m.severity, m.line, m.cause, m.fix))
    return notes


def resolve_target(requested: str, expect: Expectation | None, probe: Mapping[str, Any]) -> str:
    """cpu or gpu: the request, else the plan's, else whether the driver sees a GPU."""
    if requested in ("cpu", "gpu"):
        return requested
    if expect is not None and expect.target in ("cpu", "gpu"):
        return expect.target
    driver = probe.get("driver") or {}
    return "gpu" if driver.get("devices") else "cpu"


def evaluate(
    probe: Mapping[str, Any],
    *,
    target: str = "auto",
    expect: Expectation | None = None,
    cpu_flags: Sequence[str] | None = None,
    kb: KnowledgeBase | None = None,
    profile_hash: str | None = None,
) -> VerifyReport:
    """Turn the probe's observations into checks; pure (no I/O), so tests feed captured output."""
    target = resolve_target(target, expect, probe)
    python = probe.get("python") or {}
    packages: Mapping[str, str] = probe.get("packages") or {}
    checks = [
        Check(
            "interpreter",
            True,
            f"{python.get('implementation')} {python.get('version')} at "
            f"{python.get('executable')}" + (" (virtualenv)" if python.get("virtualenv") else ""),
        )
    ]
    if expect is not None and expect.python:
        have = str(python.get("version", ""))
        ok = (have + ".").startswith(expect.python + ".")
        checks.append(Check("python-version", ok, f"Python {have}, want {expect.python}"))
    if expect is not None and expect.packages:
        checks.append(check_packages(packages, expect))
    driver = probe.get("driver")
    checks.append(check_driver(driver, target))
    driver_cuda = (driver or {}).get("cuda_version")
    frameworks: Mapping[str, Any] = probe.get("frameworks") or {}
    found = [n for n, d in frameworks.items() if d.get("status") != "absent"]
    wanted = expect.framework if expect is not None else None
    if wanted is not None and wanted not in found:
        checks.append(
            Check("framework", False, f"{FRAMEWORK_NAMES.get(wanted, wanted)} is not installed")
        )
    elif not found:
        checks.append(
            Check("framework", False, "none of TensorFlow, PyTorch, JAX is installed here")
        )
    else:
        names = ", ".join(FRAMEWORK_NAMES.get(n, n) for n in found)
        checks.append(Check("framework", True, f"found {names}"))
    timings: dict[str, float] = {}
    log: list[tuple[str, tuple[str, ...]]] = []
    for name in found:
        data = frameworks[name]
        # With a plan or lock, its framework is what must work; others present are reported.
        # Without one, every framework present must work: that is all we can hold it to.
        required = wanted is None or wanted == name
        checks.extend(
            _framework_checks(
                name,
                data,
                target=target,
                required=required,
                expect=expect,
                driver_cuda=driver_cuda,
                packages=packages,
                cpu_flags=cpu_flags,
                kb=kb,
            )
        )
        if "seconds" in data:
            timings[name] = data["seconds"]
        result = data.get("result") or {}
        lines = tuple(data.get("log") or ()) + tuple(result.get("warnings") or ())
        if lines:
            log.append((name, lines))
    if driver and "seconds" in driver:
        timings["driver"] = driver["seconds"]
    if "seconds" in probe:
        timings["probe"] = probe["seconds"]
    return VerifyReport(
        python=str(python.get("executable")),
        python_version=python.get("version"),
        target=target,
        checks=tuple(checks),
        expectation=None if expect is None else expect.source,
        profile_hash=profile_hash,
        plan_hash=expect.digest if expect is not None and expect.source == "plan" else None,
        lock_hash=expect.digest if expect is not None and expect.source != "plan" else None,
        notes=tuple(_notes(frameworks, kb)),
        log=tuple(log),
        timings=tuple(sorted(timings.items())),
        probe=dict(probe),
    )


def verify(
    python: Path,
    *,
    target: str = "auto",
    expect: Expectation | None = None,
    cpu_flags: Sequence[str] | None = None,
    kb: KnowledgeBase | None = None,
    profile_hash: str | None = None,
    timeout: float = 300.0,
) -> VerifyReport:
    """Probe the environment of `python` and evaluate it; the report says whether it passed."""
    if not python.exists():
        raise InputFileError(f"{python} does not exist", hint="give the environment's interpreter")
    start = time.perf_counter()
    probe = run_probe(python, timeout=timeout)
    report = evaluate(
        probe,
        target=target,
        expect=expect,
        cpu_flags=cpu_flags,
        kb=kb,
        profile_hash=profile_hash,
    )
    wall = round(time.perf_counter() - start, 3)
    return VerifyReport(
        **{**report.__dict__, "timings": (*report.timings, ("wall", wall))},
    )


def default_python(environ: Mapping[str, str]) -> Path | None:
    """The active environment's interpreter ($VIRTUAL_ENV, then $CONDA_PREFIX), if any."""
    for var in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        if environ.get(var):
            return interpreter_in(Path(environ[var]))
    return None


__all__ = [
    "PROBE",
    "REPORT_NAME",
    "Check",
    "Expectation",
    "LogNote",
    "VerifyReport",
    "default_python",
    "evaluate",
    "interpreter_in",
    "run_probe",
    "verify",
]
