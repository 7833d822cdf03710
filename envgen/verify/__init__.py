"""`envgen verify`: prove that an environment works, by running a probe inside it.

An install that exited 0 proves little (DESIGN.md): a pre-AVX CPU kills `import tensorflow` with
SIGILL, a CPU-only wheel in a GPU environment silently computes on the CPU, a numpy 2 next to a
TF built for numpy 1 fails on import. So `verify()` runs `probe.py` with the environment's own
interpreter (a separate program, standard library only, one child process per framework;
`observation.py` runs it and reads its answer) and `checks.evaluate()`, a pure function, turns
what it observed into checks against an `Expectation` (a plan or a lock).

    observation.py  run the probe, its JSON as typed values (shared with `envgen doctor`)
    checks.py       observations -> checks (pure)
    report.py       Check, LogNote, VerifyReport (verify-report.json)
    expect.py       what to hold an environment to: a plan or a lock
    probe.py        the program that runs inside the target environment
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envgen.errors import InputFileError, VerificationError
from envgen.verify import observation, record, stamp
from envgen.verify.expect import Expectation
from envgen.verify.observation import PROBE, Observation
from envgen.verify.report import REPORT_NAME, Check, LogNote, VerifyReport

if TYPE_CHECKING:
    from envgen.kb import KnowledgeBase
    from envgen.kb.wording import Wording

# Exported from here, imported when first used: the checks bring the rule book and the knowledge
# base, which a quick re-check (no probe) never needs; it must start fast.
_LAZY = {"FRAMEWORK_NAMES": "envgen.verify.framework_checks", "evaluate": "envgen.verify.checks"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run_probe(
    python: Path,
    *,
    timeout: float = 300.0,
    frameworks: Sequence[str] | None = None,
    keras_backend: str | None = None,
    environment: tuple[tuple[str, str], ...] = (),
) -> Observation:
    """What the probe observes in the environment of `python`; `timeout` per framework. Only
    `frameworks` get a child (default: every one installed); `keras_backend`'s also fits Keras.
    `environment` holds the variables the environment's activation sets (the plan's), so the
    probe sees it as a user who activated it does."""
    args: list[str] = []
    if frameworks is not None:
        args += ["--frameworks", *frameworks]
    if keras_backend is not None:
        args += ["--keras-backend", keras_backend]
    # One child per framework at most: TensorFlow, PyTorch, JAX.
    count = len(frameworks) if frameworks is not None else 3
    environ = {**os.environ, **dict(environment)} if environment else None
    return observation.run(
        [str(python)],
        args,
        timeout=timeout,
        frameworks=count,
        error=VerificationError,
        environ=environ,
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
    full: bool = False,
) -> VerifyReport:
    """Prove the environment of `python` works; the report says whether it did and how.

    In a virtualenv or conda environment with the record of a passed full verification that
    still holds (`stamp.check`), that record and the installed files prove it without starting
    the interpreter ("quick"); otherwise, or with `full`, the probe runs, every installed file
    is hashed against its RECORD meanwhile, and a pass is recorded for the next run.
    """
    if not python.exists():
        raise InputFileError(f"{python} does not exist", hint="give the environment's interpreter")
    from envgen.environment import is_environment, prefix_of
    from envgen.kb.wording import load_wording

    start = time.perf_counter()
    words = kb.wording if kb is not None else load_wording()
    prefix = prefix_of(python)
    recorded = is_environment(prefix)
    proof: dict[str, object] = {}
    ctx = stamp.context(python, prefix, target=target, expect=expect, profile_hash=profile_hash)
    if recorded and not full:
        found = stamp.check(prefix, ctx)
        if isinstance(found, stamp.Quick):
            return _quick(
                python, found, expect=expect, profile_hash=profile_hash, words=words, start=start
            )
        proof["quick"] = words.render(found.code, **found.fields)
    elif full:
        proof["quick"] = "not tried: a full verification was asked for"
    if recorded:
        stamp.remove(prefix)  # a verification cut short or failed leaves no proof behind
    from envgen.verify.checks import check_files, evaluate

    observed, sites = _probe_and_hash(python, prefix, expect, timeout)
    report = evaluate(
        observed,
        target=target,
        expect=expect,
        cpu_flags=cpu_flags,
        kb=kb,
        profile_hash=profile_hash,
    )
    checks = (*report.checks, check_files(sites, words))
    wall = round(time.perf_counter() - start, 3)
    done = VerifyReport(
        **{**report.__dict__, "checks": checks, "timings": (*report.timings, ("wall", wall))},
    )
    if recorded and done.ok:
        summary = {"target": done.target, "python-version": done.python_version}
        path = stamp.write(
            prefix,
            ctx,
            summary=summary,
            checks=[c.to_dict() for c in checks],
            sites=sites,
            seconds=wall,
        )
        proof["record"] = str(path) if path is not None else None
    return VerifyReport(**{**done.__dict__, "proof": proof})


def _probe_and_hash(
    python: Path, prefix: Path, expect: Expectation | None, timeout: float
) -> tuple[Observation, list[record.SiteState]]:
    """Run the probe and, beside it, hash the installed files against their RECORD: the
    framework's import is most of the probe's time, and it leaves the other CPUs free."""
    framework = expect.framework if expect is not None else None
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as side:
        hashing = side.submit(record.scan, record.site_dirs_of(prefix), hashed=True, stop=stop)
        try:
            observed = run_probe(
                python,
                timeout=timeout,
                frameworks=None if framework is None else [framework],
                keras_backend=expect.keras_backend if expect is not None else None,
                environment=expect.environment if expect is not None else (),
            )
        except BaseException:
            stop.set()  # the hashing proves nothing now: let it end at once
            raise
        sites = hashing.result()
    # The interpreter's own view of where its distributions are wins; a directory the prefix
    # did not show (a base environment, PYTHONPATH-free sys.path entries) is hashed now.
    dirs = list(observed.python.site_dirs) or [s.path for s in sites]
    done = {s.path: s for s in sites}
    more = record.scan([d for d in dirs if d not in done], hashed=True)
    done.update({s.path: s for s in more})
    return observed, [done[d] for d in dirs if d in done]


def _quick(
    python: Path,
    found: stamp.Quick,
    *,
    expect: Expectation | None,
    profile_hash: str | None,
    words: Wording,
    start: float,
) -> VerifyReport:
    seconds = round(time.perf_counter() - start, 3)
    checks = (
        Check(
            "proof",
            True,
            words.render("quick-proof", when=found.verified_at, checks=str(len(found.checks))),
        ),
        Check(
            "files",
            True,
            words.render(
                "quick-files-ok",
                files=str(found.files),
                dists=str(found.dists),
                sites=str(found.sites),
                rehashed=str(found.rehashed),
            ),
            seconds=seconds,
        ),
    )
    source = expect.source if expect is not None else None
    digest = expect.digest if expect is not None else None
    return VerifyReport(
        python=str(python),
        python_version=found.python_version,
        target=found.target,
        checks=checks,
        expectation=source,
        profile_hash=profile_hash,
        plan_hash=digest if source == "plan" else None,
        lock_hash=digest if source is not None and source != "plan" else None,
        timings=(("wall", seconds),),
        mode="quick",
        proof={
            "record": str(found.path),
            "verified-at": found.verified_at,
            "checks": found.checks,
        },
    )


__all__ = [
    "FRAMEWORK_NAMES",
    "PROBE",
    "REPORT_NAME",
    "Check",
    "Expectation",
    "LogNote",
    "Observation",
    "VerifyReport",
    "evaluate",
    "run_probe",
    "verify",
]
