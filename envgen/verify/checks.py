"""From what the probe observed to checks: pure functions, so tests feed captured observations.

Each check holds the environment to an `Expectation` (a plan or a lock) where there is one: the
versions installed, the Python, the driver, and each framework's import, build and computations.
CPU and CUDA judgements come from the rule book (`envgen.rules`); log lines are reported with the
knowledge base's explanation (`signatures.toml`) and never fail a check by themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from envgen.verify.expect import Expectation
from envgen.verify.framework_checks import FRAMEWORK_NAMES, framework_checks, wording
from envgen.verify.observation import Observation
from envgen.verify.report import Check, LogNote, VerifyReport

if TYPE_CHECKING:
    from envgen.kb import KnowledgeBase
    from envgen.kb.wording import Wording
    from envgen.verify.record import SiteState


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


def check_build_cpu(
    expect: Expectation, cpu_flags: Sequence[str] | None, kb: KnowledgeBase
) -> Check:
    """Does this CPU have what a community (or conda-forge) build was compiled for? An AVX2
    community wheel on an AVX-only CPU dies at import (fo40225/tensorflow-windows-wheel#48); the
    rule book answers, as it does for the resolver."""
    from envgen import rules

    needed = expect.build_cpu or ()
    verdict = rules.cpu_features(kb, needed, cpu_flags or ())
    words = wording(kb)
    # The rule book's own words for what the build uses ("AVX, AVX2 only", "no AVX").
    fields = {
        "build": expect.build_label or expect.source,
        "needed": verdict.get("uses") or verdict.get("needed") or ", ".join(needed),
    }
    if verdict.code == "cpu-missing":
        text = words.render("verify-build-cpu-missing", **fields, missing=verdict.get("missing"))
        return Check("cpu-build", False, text)
    if verdict.code == "cpu-unknown":
        return Check("cpu-build", True, words.render("verify-build-cpu-unknown", **fields))
    return Check("cpu-build", True, words.render("verify-build-cpu-ok", **fields))


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


def _notes(observed: Observation, kb: KnowledgeBase | None) -> list[LogNote]:
    if kb is None:
        return []
    notes = []
    for name, run in observed.frameworks.items():
        # stderr, and the Python warnings the child caught (PyTorch's "not compatible with the
        # current PyTorch installation" and JAX's plugin mismatch are warnings, not log lines).
        text = "\n".join([*run.log, *run.warnings, run.error or ""])
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
    if expect is not None and expect.build_cpu is not None and kb is not None:
        checks.append(check_build_cpu(expect, cpu_flags, kb))
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
        skipped = observed.not_probed()
        if skipped and wanted is not None:
            names += "; " + wording(kb).render(
                "framework-not-probed",
                names=", ".join(FRAMEWORK_NAMES.get(n, n) for n in skipped),
                framework=FRAMEWORK_NAMES.get(wanted, wanted),
            )
        checks.append(Check("framework", True, f"found {names}"))
    timings: dict[str, float] = {}
    log: list[tuple[str, tuple[str, ...]]] = []
    for name in found:
        run = observed.frameworks[name]
        # With a plan or lock, its framework is what must work; others present are reported.
        # Without one, every framework present must work: that is all we can hold it to.
        required = wanted is None or wanted == name
        checks.extend(
            framework_checks(
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


def check_files(sites: Sequence[SiteState], words: Wording) -> Check:
    """The installed files against their RECORD (hashed beside the probe): a file edited or
    replaced after the install, or missing, is a warning, since the probe ran with it as it is."""
    dists = [d for s in sites for d in s.dists.values()]
    differ = [p for d in dists for p in d.differ]
    missing = [p for d in dists for p in d.missing]
    examples = ", ".join(repr(p) for p in (differ or missing)[:3])
    if differ:
        detail = words.render("files-differ", count=str(len(differ)), examples=examples)
    elif missing:
        detail = words.render("files-missing", count=str(len(missing)), examples=examples)
    else:
        detail = words.render(
            "files-record",
            hashed=str(sum(d.hashed for d in dists)),
            dists=str(len(dists)),
            outside=str(sum(d.outside for d in dists)),
        )
    return Check("files", not differ and not missing, detail, required=False)
