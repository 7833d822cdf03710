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
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from envgen.errors import InputFileError, VerificationError
from envgen.verify import observation
from envgen.verify.checks import FRAMEWORK_NAMES, evaluate
from envgen.verify.expect import Expectation
from envgen.verify.observation import PROBE, Observation
from envgen.verify.report import REPORT_NAME, Check, LogNote, VerifyReport

if TYPE_CHECKING:
    from envgen.kb import KnowledgeBase


def run_probe(
    python: Path, *, timeout: float = 300.0, environment: tuple[tuple[str, str], ...] = ()
) -> Observation:
    """What the probe observes in the environment of `python`; `timeout` per framework.
    `environment` holds the variables the environment's activation sets (the plan's), so the
    probe sees it as a user who activated it does."""
    environ = {**os.environ, **dict(environment)} if environment else None
    return observation.run([str(python)], timeout=timeout, error=VerificationError, environ=environ)


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
    observed = run_probe(
        python, timeout=timeout, environment=expect.environment if expect is not None else ()
    )
    report = evaluate(
        observed,
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
