"""From what the probe observed to checks: pure functions, so tests feed captured observations.

Each check holds the environment to an `Expectation` (a plan or a lock) where there is one: the
versions installed, the Python, the driver, and each framework's import, build and computations.
CPU and CUDA judgements come from the rule book (`envgen.rules`); log lines are reported with the
knowledge base's explanation (`signatures.toml`) and never fail a check by themselves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from envgen import rules
from envgen.kb.distributions import load_distributions
from envgen.verify.expect import Expectation
from envgen.verify.observation import FrameworkRun, Observation
from envgen.verify.report import Check, LogNote, VerifyReport

if TYPE_CHECKING:
    from envgen.kb import KnowledgeBase

FRAMEWORK_NAMES = {"tensorflow": "TensorFlow", "torch": "PyTorch", "jax": "JAX"}


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


def sigill_detail(
    framework: str,
    packages: Mapping[str, str],
    cpu_flags: Sequence[str] | None,
    kb: KnowledgeBase | None,
) -> str:
    """Why a framework's import died of SIGILL: the CPU features its build needs (rule book)."""
    label = FRAMEWORK_NAMES[framework]
    dist = _dist_version(packages, framework)
    release = None
    if framework == "tensorflow" and dist is not None and kb is not None:
        try:
            release = kb.tensorflow.release(dist[1])
        except InvalidVersion:
            release = None
    if kb is None or release is None:
        what = "an instruction the build was compiled for"
        return f"{label} was killed by SIGILL on import: this CPU lacks {what}"
    needs = release.cpu_features or ()
    fields = {"package": dist[0] if dist else framework, "tensorflow": str(release.version)}
    verdict = rules.cpu_features(kb, needs, cpu_flags or ())
    if verdict.code == "cpu-missing":
        flags = {"missing": verdict.get("missing_flags"), "needed": verdict.get("needed_flags")}
        what = kb.wording.render("sigill-missing", **flags, **fields)
    else:
        what = kb.wording.render("sigill-needed", needed=", ".join(needs), **fields)
    return kb.wording.render("sigill", framework=label, what=what)


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
    if step == "cuda_libraries":
        if not value:
            return "none loaded"
        return "; ".join(f"{lib.get('name')} from {lib.get('path')}" for lib in value)
    if step == "build_info":
        keys = ("cuda_version", "cudnn_version", "is_cuda_build", "default_backend")
        return ", ".join(f"{k} {value[k]}" for k in keys if k in value)
    return json.dumps(value)[:200]


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
    if cuda and driver_cuda and not rules.runtime_on_driver(str(cuda), driver_cuda).ok:
        problems.append(f"built for CUDA {cuda}, but the driver supports only {driver_cuda}")
    detail = _summary("build_info", info) or "no build information"
    if problems:
        return Check(f"{framework}:build", False, f"{detail}: {'; '.join(problems)}", required)
    return Check(f"{framework}:build", True, detail, required)


def _framework_checks(
    run: FrameworkRun,
    *,
    target: str,
    required: bool,
    expect: Expectation | None,
    driver_cuda: str | None,
    packages: Mapping[str, str],
    cpu_flags: Sequence[str] | None,
    kb: KnowledgeBase | None,
) -> list[Check]:
    framework = run.name
    label = FRAMEWORK_NAMES[framework]
    version = run.version or (_dist_version(packages, framework) or ("", "?"))[1]
    if run.status == "illegal-instruction":
        detail = sigill_detail(framework, packages, cpu_flags, kb)
        return [Check(f"{framework}:import", False, detail, required=required)]
    if run.status != "ok":
        error = run.error or f"status {run.status}"
        tb = run.traceback or run.log
        detail = f"{label} {version} failed to import: {error}"
        if tb:
            detail += " | " + " / ".join(line.strip() for line in tb[-3:])
        return [Check(f"{framework}:import", False, detail, required=required)]
    checks = [
        Check(
            f"{framework}:import",
            True,
            f"{label} {version} imported in {run.import_seconds or 0:.1f} s",
            required=required,
            seconds=run.import_seconds,
        )
    ]
    for step, outcome in run.steps.items():
        name = f"{framework}:{step.replace('_', '-')}"
        if not outcome.ok:
            checks.append(Check(name, False, str(outcome.error), required, outcome.seconds))
            continue
        value = outcome.value
        if step == "build_info":
            checks.append(check_build(framework, value, expect, driver_cuda, required=required))
        elif step == "gpus":
            # A GPU target needs the framework to see a GPU; on a CPU target it is information.
            need_gpu = target == "gpu"
            ok = bool(value) or not need_gpu
            detail = _summary(step, value)
            if not value and need_gpu:
                detail = f"{label} sees no GPU"
            checks.append(Check(name, ok, detail, required and need_gpu, outcome.seconds))
        elif step == "devices":
            continue  # JAX's full device list: shown through "gpus"
        else:
            checks.append(Check(name, True, _summary(step, value), required, outcome.seconds))
    return checks


def _notes(observed: Observation, kb: KnowledgeBase | None) -> list[LogNote]:
    if kb is None:
        return []
    notes = []
    for name, run in observed.frameworks.items():
        text = "\n".join([*run.log, run.error or ""])
        for m in kb.signatures.match(text):
            notes.append(LogNote(name, m.code, m.severity, m.line, m.cause, m.fix))
    return notes


def resolve_target(requested: str, expect: Expectation | None, observed: Observation) -> str:
    """cpu or gpu: the request, else the plan's, else whether the driver sees a GPU."""
    if requested in ("cpu", "gpu"):
        return requested
    if expect is not None and expect.target in ("cpu", "gpu"):
        return expect.target
    return "gpu" if (observed.driver or {}).get("devices") else "cpu"


def evaluate(
    observed: Observation,
    *,
    target: str = "auto",
    expect: Expectation | None = None,
    cpu_flags: Sequence[str] | None = None,
    kb: KnowledgeBase | None = None,
    profile_hash: str | None = None,
) -> VerifyReport:
    """Turn the probe's observations into checks; pure (no I/O), so tests feed captured output."""
    target = resolve_target(target, expect, observed)
    python = observed.python
    packages = observed.packages
    virtualenv = " (virtualenv)" if python.virtualenv else ""
    checks = [
        Check(
            "interpreter",
            True,
            f"{python.implementation} {python.version} at {python.executable}{virtualenv}",
        )
    ]
    if expect is not None and expect.python:
        ok = (python.version + ".").startswith(expect.python + ".")
        checks.append(Check("python-version", ok, f"Python {python.version}, want {expect.python}"))
    if expect is not None and expect.packages:
        checks.append(check_packages(packages, expect))
    driver = observed.driver
    checks.append(check_driver(driver, target))
    driver_cuda = (driver or {}).get("cuda_version")
    found = observed.present()
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
        run = observed.frameworks[name]
        # With a plan or lock, its framework is what must work; others present are reported.
        # Without one, every framework present must work: that is all we can hold it to.
        required = wanted is None or wanted == name
        checks.extend(
            _framework_checks(
                run,
                target=target,
                required=required,
                expect=expect,
                driver_cuda=driver_cuda,
                packages=packages,
                cpu_flags=cpu_flags,
                kb=kb,
            )
        )
        if run.seconds is not None:
            timings[name] = run.seconds
        lines = run.log + run.warnings
        if lines:
            log.append((name, lines))
    if driver and "seconds" in driver:
        timings["driver"] = driver["seconds"]
    if observed.seconds is not None:
        timings["probe"] = observed.seconds
    return VerifyReport(
        python=python.executable,
        python_version=python.version or None,
        target=target,
        checks=tuple(checks),
        expectation=None if expect is None else expect.source,
        profile_hash=profile_hash,
        plan_hash=expect.digest if expect is not None and expect.source == "plan" else None,
        lock_hash=expect.digest if expect is not None and expect.source != "plan" else None,
        notes=tuple(_notes(observed, kb)),
        log=tuple(log),
        timings=tuple(sorted(timings.items())),
        probe=dict(observed.raw),
    )
