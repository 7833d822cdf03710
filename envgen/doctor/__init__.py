"""`envgen doctor`: from a broken environment or an error log to the cause and the fix.

Two sources of evidence, both optional, both turned into `Finding`s:

* a **log**: every known failure message (`signatures.toml`) found in it, with the numbers it
  carries (the CUDA version a library wanted, the cuDNN versions, the compute capability), the
  facts the rest of the log gives away (the Python in a site-packages path, the TensorFlow a pip
  line names) and what the knowledge base derives from them (the Pythons a release has wheels
  for, the driver a CUDA needs), so that the fix names the numbers for this case
  (`signatures.py`, `facts.py`, `lookups.py`);
* an **environment**: what the verify probe (`envgen/verify/probe.py --quick`, run and read by
  `envgen.verify.observation`) saw inside it, cross-checked with the hardware profile through the
  rule book even when nothing crashed (`findings.py`).

Everything here is pure except `read_environment` (the probe) and `read_log`. The words of every
finding are data (`signatures.toml`, `doctor-checks.toml`); this package decides only which
apply. Each finding carries the envgen command that gives a working environment for this machine.

    model.py       Finding, Diagnosis, the Environment examined
    context.py     the tables, the machine, and the fix command every check needs
    signatures.py  log and import output -> findings
    facts.py       what a log gives away beside its error line, and where
    lookups.py     the knowledge-base lookups a finding's templates may use
    findings.py    an environment's facts -> findings (the rule book)
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from envgen.doctor.context import Context
from envgen.doctor.findings import environment_findings
from envgen.doctor.model import Diagnosis, Environment, Finding, ImportResult, environment_from
from envgen.doctor.signatures import from_signatures
from envgen.kb import KnowledgeBase
from envgen.kb.doctor_checks import load_doctor_checks
from envgen.kb.signatures import SEVERITIES
from envgen.profile import HardwareProfile

SCHEMA = "envgen.doctor/1"
# What the doctor asks of the probe: each framework installed (TensorFlow, and JAX and PyTorch,
# the other Keras backends), imported in a child of its own without computing anything (the
# build info, the GPUs, PyTorch's architectures, whether Keras imports beside TensorFlow), all of
# its stderr; no driver probe (the hardware profile answers that).
PROBE_ARGS = ("--quick", "--no-driver", "--log-lines", "0")
# How long `import tensorflow` may take in the probe's child. A cold import from a network
# filesystem or under an emulator takes tens of seconds; a hang should not block forever.
IMPORT_TIMEOUT_S = 300.0


def suggested_command(
    profile: HardwareProfile | None, profile_path: str | None, asked: str | None = None
) -> str:
    """The command that plans a working environment for the machine the profile describes.

    Without a profile, `--target auto` lets `envgen create` detect the machine it runs on; a
    target the user gave wins.
    """
    target = "auto" if profile is None else "gpu" if profile.has_nvidia_gpu else "cpu"
    if asked in ("cpu", "gpu"):
        target = asked
    words = ["envgen", "create", "--target", target]
    if profile_path:
        words += ["--profile", profile_path]
    return shlex.join(words)


def diagnose_log(
    text: str,
    kb: KnowledgeBase,
    profile: HardwareProfile | None = None,
    profile_path: str | None = None,
) -> Diagnosis:
    """Findings from an error log alone."""
    return diagnose(kb, log=text, profile=profile, profile_path=profile_path)


def diagnose(
    kb: KnowledgeBase,
    *,
    log: str | None = None,
    environment: Environment | None = None,
    profile: HardwareProfile | None = None,
    profile_path: str | None = None,
    target: str | None = None,
) -> Diagnosis:
    """Every finding from the log and/or the environment, most severe first. `target` is the
    user's --target: with `gpu`, what keeps TensorFlow off the GPU is an error even when the
    profile shows no GPU; with `cpu`, GPU noise is a note."""
    ctx = Context(kb, load_doctor_checks(), profile, profile_path, target)
    findings: list[Finding] = []
    if log is not None:
        findings += from_signatures(log, ctx, "log")
    if environment is not None:
        findings += environment_findings(environment, ctx)
    findings = _dedupe(findings)
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: rank[f.severity])  # stable: log order within a severity
    return Diagnosis(tuple(findings), environment, suggested_command(profile, profile_path, target))


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per code and evidence (TensorFlow prints some messages twice)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for f in findings:
        key = (f.code, f.cause)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def parse_probe(text: str, origin: str) -> Environment:
    """The probe's printed output as an `Environment`; malformed output names what is wrong."""
    from envgen.verify.observation import parse_output

    return environment_from(parse_output(text, origin))


def read_environment(
    python: Sequence[str], *, import_timeout: float = IMPORT_TIMEOUT_S
) -> Environment:
    """Run the probe with the interpreter command `python` (a path, or a wrapper and its args)."""
    from envgen.verify import observation

    return environment_from(
        observation.run(python, PROBE_ARGS, timeout=import_timeout, frameworks=3)
    )


def read_log(path: str) -> str:
    """The text of a log file, or of standard input for "-"."""
    from envgen.errors import InputFileError
    from envgen.files import LOG_FILE, read_bytes

    # A build log may hold any bytes (a compiler's, a terminal's): undecodable ones are replaced,
    # never fatal. Both sources are bounded like every file envgen reads.
    if path == "-":
        data = sys.stdin.buffer.read(LOG_FILE + 1)
        if len(data) > LOG_FILE:
            raise InputFileError(f"standard input is over the {LOG_FILE}-byte limit for a log")
    else:
        data = read_bytes(Path(path), what="log", limit=LOG_FILE)
    return data.decode("utf-8", errors="replace")


__all__ = [
    "SCHEMA",
    "Diagnosis",
    "Environment",
    "Finding",
    "ImportResult",
    "diagnose",
    "diagnose_log",
    "parse_probe",
    "read_environment",
    "read_log",
    "suggested_command",
]
