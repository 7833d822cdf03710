"""`envgen doctor`: from a broken environment or an error log to the cause and the fix.

Two sources of evidence, both optional, both turned into `Finding`s:

* a **log**: every known failure message (`signatures.toml`) found in it, with the numbers it
  carries (the CUDA version a library wanted, the cuDNN versions, the compute capability);
* an **environment**: what the verify probe (`envgen/verify/probe.py --quick`) reported from inside
  it (installed versions, whether `import tensorflow` survived, the build info, the GPUs TensorFlow
  sees), cross-checked with the hardware profile and the knowledge base even when nothing crashed:
  TF's CPU features vs the CPU, TF's CUDA vs the driver, the GPU's compute capability vs the
  build's architectures, numpy and Keras vs TF, Python.

Everything here is pure except `read_environment`, which runs the probe through `envgen.proc`.
The words of every finding are data (`signatures.toml`, `doctor-checks.toml`); this module decides
only which apply. Each finding carries the envgen command that gives a working environment for
this machine; the command is a string, so the doctor does not depend on the resolver.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envgen.errors import ExternalToolError, InputFileError
from envgen.kb import KnowledgeBase
from envgen.kb.distributions import load_distributions
from envgen.kb.doctor_checks import DoctorChecks, fill, load_doctor_checks
from envgen.kb.signatures import SEVERITIES, Match
from envgen.kb.tensorflow import Build, Release
from envgen.profile import HardwareProfile, driver_os
from envgen.verify import PROBE
from envgen.versions import is_dotted, major_minor, parse_dotted

SCHEMA = "envgen.doctor/1"
# The verify probe's output schema (`probe.SCHEMA`).
PROBE_SCHEMA = 1
# What the doctor asks of the probe: TensorFlow only, imported without computing anything (the
# build info, the GPUs, whether Keras imports), all of its stderr; no driver probe (the hardware
# profile answers that). `--python CMD...` comes last, added by `read_environment`.
PROBE_ARGS = ("--quick", "--no-driver", "--frameworks", "tensorflow", "--log-lines", "0")

# How long `import tensorflow` may take in the probe's child. A cold import from a network
# filesystem or under an emulator takes tens of seconds; a hang should not block forever.
IMPORT_TIMEOUT_S = 300.0
# Extra time for the probe itself (interpreter start, reading metadata) around the import.
PROBE_OVERHEAD_S = 60.0

# The distributions a TensorFlow stack is made of: the environment's packages the doctor reports.
_STACK_PREFIXES = ("tensorflow", "tf-nightly", "tf-keras", "keras", "numpy", "nvidia-", "ml-dtypes")

# The evidence line of a finding quotes at most this much of a long traceback line.
_EVIDENCE_CHARS = 300


# --- results -------------------------------------------------------------------------------------


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
        }


@dataclass(frozen=True)
class ImportResult:
    """What happened when a child process of the target interpreter ran `import tensorflow`."""

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


# --- reading an environment (the only I/O) -------------------------------------------------------


def interpreter_in(prefix: str | Path) -> Path:
    """The Python of a virtualenv or conda prefix (POSIX `bin/`, Windows `Scripts/` or the root)."""
    root = Path(prefix)
    for rel in ("bin/python", "bin/python3", "Scripts/python.exe", "python.exe"):
        candidate = root / rel
        if candidate.is_file():
            return candidate
    raise InputFileError(
        f"{root}: no Python interpreter found (looked for bin/python, Scripts/python.exe)",
        hint="give the environment's root directory, or the interpreter with --python",
    )


def _import_result(child: Mapping[str, Any]) -> ImportResult | None:
    """The probe's `frameworks.tensorflow` entry as an `ImportResult`; None when TF is absent."""
    status = child.get("status")
    if status in (None, "absent"):
        return None
    result: Mapping[str, Any] = child.get("result") or {}
    steps: Mapping[str, Any] = result.get("steps") or {}

    def value(step: str) -> Any:
        outcome = steps.get(step) or {}
        return outcome.get("value") if outcome.get("ok") else None

    # What the child printed, as it would read on a terminal: its stderr, then the Python warnings
    # and the traceback the probe caught. A child that never started has only the probe's error.
    lines = [*child.get("log", ()), *result.get("warnings", ()), *result.get("traceback", ())]
    if not lines and child.get("returncode") is None and child.get("error"):
        lines = [str(child["error"])]
    returncode = child.get("returncode")
    if status == "import-error" and returncode == 0:
        # The probe's child caught the exception to report it; a plain `import tensorflow` would
        # have exited with Python's status for an uncaught exception.
        returncode = 1
    gpus = value("gpus")
    return ImportResult(
        ok=status == "ok",
        returncode=returncode,
        signal=child.get("signal"),
        stderr="".join(f"{line}\n" for line in lines),
        timed_out=status == "timeout",
        version=result.get("version"),
        build_info=dict(value("build_info") or {}),
        gpus=tuple(gpus) if isinstance(gpus, list) else None,
        keras=(value("keras_import") or {}).get("keras"),
        keras_error=(steps.get("keras_import") or {}).get("error"),
    )


def environment_from_probe(data: Mapping[str, Any]) -> Environment:
    """The verify probe's report (`envgen/verify/probe.py`) as the doctor's `Environment`.

    The one place that knows the probe's field names: everything else reads `Environment`.
    """
    python: Mapping[str, Any] = data.get("python") or {}
    packages = {
        canonicalize_name(k): str(v)
        for k, v in (data.get("packages") or {}).items()
        if canonicalize_name(k).startswith(_STACK_PREFIXES)
    }
    frameworks: Mapping[str, Any] = data.get("frameworks") or {}
    return Environment(
        python=str(python.get("version") or ""),
        executable=str(python.get("executable") or ""),
        prefix=str(python.get("prefix") or ""),
        platform=str(python.get("platform") or ""),
        machine=str(python.get("machine") or ""),
        packages=dict(sorted(packages.items())),
        tensorflow_import=_import_result(frameworks.get("tensorflow") or {}),
    )


def _json_object(text: str) -> Any:
    """The JSON document in `text`; what a broken environment prints before it is skipped."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    lines = text.splitlines()
    # The probe prints its object indented, starting on a line of its own.
    for i, line in enumerate(lines):
        if line.startswith("{"):
            try:
                return json.loads("\n".join(lines[i:]))
            except json.JSONDecodeError:
                continue
    return None


def parse_probe(text: str, origin: str) -> Environment:
    """The probe's output into an `Environment`; malformed output names what is wrong."""
    data = _json_object(text)
    if data is None:
        tail = " / ".join(text.strip().splitlines()[-3:])
        raise ExternalToolError(f"{origin}: the probe printed no valid JSON: {tail or 'nothing'}")
    if not isinstance(data, dict) or data.get("schema") != PROBE_SCHEMA:
        raise ExternalToolError(f"{origin}: the probe printed an unexpected answer")
    return environment_from_probe(data)


def read_environment(
    python: Sequence[str], *, import_timeout: float = IMPORT_TIMEOUT_S
) -> Environment:
    """Run the probe with the interpreter command `python` (a path, or a wrapper and its args).

    The same command starts the probe's `import tensorflow` child (`--python`), so an emulator
    wrapper (`qemu-x86_64 -cpu Westmere python`) runs the import too.
    """
    from envgen.proc import run

    argv = [
        *python,
        str(PROBE),
        *PROBE_ARGS,
        "--timeout",
        f"{import_timeout:g}",
        "--python",
        *python,
    ]
    done = run(argv, timeout=import_timeout + PROBE_OVERHEAD_S, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ExternalToolError(
            f"{shlex.join(python)} could not run the doctor probe (exit status {done.returncode})"
            + (f": {' / '.join(tail)}" if tail else ""),
            hint="check that the path is a working Python interpreter",
        )
    return parse_probe(done.stdout, shlex.join(python))


# --- diagnosis -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """What every check needs: the tables, the machine, and how to spell the fix command."""

    kb: KnowledgeBase
    checks: DoctorChecks
    profile: HardwareProfile | None
    profile_path: str | None

    @property
    def target(self) -> str:
        # Without a profile, `create --target auto` detects the machine it runs on.
        if self.profile is None:
            return "auto"
        return "gpu" if self.profile.has_nvidia_gpu else "cpu"

    def command(self, template: str | None, fields: Mapping[str, str]) -> str | None:
        if template is None:
            return None
        words = ["envgen", *shlex.split(fill(template, {"target": self.target, **fields}))]
        if self.profile_path:
            words += ["--profile", self.profile_path]
        return shlex.join(words)

    def finding(
        self,
        code: str,
        evidence: str,
        origin: str,
        fields: Mapping[str, str] | None = None,
        **extra: str,
    ) -> Finding:
        fields = {**(fields or {}), **extra}
        check = self.checks.check(code)
        return Finding(
            code=code,
            severity=check.severity,
            evidence=_clip(evidence),
            cause=fill(check.cause, fields),
            fix=fill(check.fix, fields),
            command=self.command(check.command, fields),
            source=check.source,
            origin=origin,
        )


def _clip(text: str) -> str:
    text = " ".join(text.split())  # a message wrapped over lines reads as one
    return text if len(text) <= _EVIDENCE_CHARS else text[: _EVIDENCE_CHARS - 1] + "…"


def suggested_command(profile: HardwareProfile | None, profile_path: str | None) -> str:
    """The command that plans a working environment for the machine the profile describes.

    Without a profile, `--target auto` lets `envgen create` detect the machine it runs on.
    """
    target = "auto" if profile is None else "gpu" if profile.has_nvidia_gpu else "cpu"
    words = ["envgen", "create", "--target", target]
    if profile_path:
        words += ["--profile", profile_path]
    return shlex.join(words)


def _from_signatures(text: str, ctx: _Context, origin: str) -> list[Finding]:
    """Known failure messages in `text`; GPU-only noise is lowered on a machine without a GPU."""
    out = []
    no_gpu = ctx.profile is not None and not ctx.profile.has_nvidia_gpu
    for m in ctx.kb.signatures.match(text):
        out.append(_signature_finding(m, ctx, origin, lowered=no_gpu))
    return out


def _signature_finding(m: Match, ctx: _Context, origin: str, *, lowered: bool) -> Finding:
    severity, cause, source = m.severity, m.cause, m.source
    rule = ctx.checks.without_gpu.get(m.code) if lowered else None
    if rule is not None:
        severity, cause = rule.severity, f"{cause} {rule.note}"
        source = f"{source}; {rule.source}"
    # Notes need no action; everything else gets the command that plans a working environment.
    command = None if severity == "info" else ctx.command("create --target {target}", {})
    return Finding(
        code=m.code,
        severity=severity,
        evidence=_clip(f"line {m.line_number}: {m.line}" if origin == "log" else m.line),
        cause=cause,
        fix=m.fix,
        command=command,
        source=source,
        origin=origin,
    )


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
) -> Diagnosis:
    """Every finding from the log and/or the environment, most severe first."""
    ctx = _Context(kb, load_doctor_checks(), profile, profile_path)
    findings: list[Finding] = []
    if log is not None:
        findings += _from_signatures(log, ctx, "log")
    if environment is not None:
        findings += _environment_findings(environment, ctx)
    findings = _dedupe(findings)
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: rank[f.severity])  # stable: log order within a severity
    return Diagnosis(tuple(findings), environment, suggested_command(profile, profile_path))


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


# --- environment checks --------------------------------------------------------------------------


def _platform(profile: HardwareProfile | None, env: Environment) -> str:
    """The knowledge-base platform name (`linux-x86_64`, `macos-arm64`, ...)."""
    if profile is not None:
        return f"{profile.os.name}-{profile.os.arch}"
    name = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(env.platform, env.platform)
    machine = env.machine.lower().replace("amd64", "x86_64")
    return f"{name}-{machine}"


def _version(text: str | None) -> Version | None:
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None


def _environment_findings(env: Environment, ctx: _Context) -> list[Finding]:
    found = env.tensorflow()
    if found is None:
        return [
            ctx.finding(
                "tensorflow-missing",
                f"no tensorflow distribution in {env.prefix}",
                "environment",
                python_exe=env.executable,
            )
        ]
    package, version = found
    imp = env.tensorflow_import
    release = ctx.kb.tensorflow.release(version) if _version(version) else None
    build = release.build if release else None
    if build is None and _version(version) is not None:
        v = Version(version)
        build = ctx.kb.tensorflow.build(f"{v.major}.{v.minor}")
    fields = {
        "tensorflow": version,
        "package": package,
        "minor": build.minor if build else version,
        "python": env.python_minor,
    }
    out: list[Finding] = []
    if build is None:
        out.append(ctx.finding("tensorflow-unknown", f"{package} {version}", "environment", fields))
    if imp is not None:
        out += _import_findings(imp, build, ctx, fields)
    if build is not None:
        out += _cpu_findings(build, ctx, fields)
        out += _gpu_findings(env, build, ctx, fields)
        out += _keras_findings(env, build, ctx, fields)
    if release is not None:
        out += _numpy_findings(env, release, ctx, fields)
        out += _python_findings(env, release, ctx, fields)
        out += _cuda_wheel_findings(env, release, ctx, fields)
    return out


def _missing_cpu_features(build: Build, ctx: _Context) -> list[str] | None:
    """CPU features the build needs that the profile's CPU lacks; None when the CPU is unknown."""
    profile = ctx.profile
    if profile is None or profile.os.arch != "x86_64" or not profile.cpu.flags:
        return None
    have = ctx.kb.cpu.with_implied(ctx.kb.cpu.normalise(profile.cpu.flags))
    return [f for f in build.cpu_features if f not in have]


def _import_findings(
    imp: ImportResult, build: Build | None, ctx: _Context, fields: dict[str, str]
) -> list[Finding]:
    out = _from_signatures(imp.stderr, ctx, "import")
    explained = any(f.severity == "error" for f in out)
    last = next((ln for ln in reversed(imp.stderr.strip().splitlines()) if ln.strip()), "")
    status = f"exit status {imp.returncode}" if imp.returncode is not None else "no exit status"
    if imp.timed_out:
        out.append(ctx.finding("import-timed-out", "import tensorflow: timed out", "import"))
    elif imp.signal == "SIGILL":
        missing = _missing_cpu_features(build, ctx) if build else None
        needed = ", ".join(build.cpu_features) if build and build.cpu_features else "?"
        missing_text = f"; this CPU lacks {', '.join(missing)}" if missing else ""
        evidence = f"import tensorflow: killed by SIGILL ({status})"
        out.append(
            ctx.finding(
                "import-sigill",
                evidence + (f"; last output: {last}" if last else ""),
                "import",
                returncode=str(imp.returncode),
                needed=needed,
                missing_text=missing_text,
                fields=fields,
            )
        )
    elif imp.signal is not None:
        out.append(
            ctx.finding(
                "import-crashed",
                f"import tensorflow: killed by {imp.signal} ({status})",
                "import",
                signal=imp.signal,
                returncode=str(imp.returncode),
                fields=fields,
            )
        )
    elif not imp.ok and not explained:
        out.append(
            ctx.finding(
                "import-failed",
                last or status,
                "import",
                returncode=str(imp.returncode),
                last_line=last or "no output",
                fields=fields,
            )
        )
    return out


def _cpu_findings(build: Build, ctx: _Context, fields: dict[str, str]) -> list[Finding]:
    missing = _missing_cpu_features(build, ctx)
    if not missing or ctx.profile is None:
        return []
    cpu = ctx.profile.cpu
    have = sorted(set(cpu.flags) & {"sse4_2", "avx", "avx2", "fma", "avx512f"})
    return [
        ctx.finding(
            "tensorflow-cpu-features",
            f"CPU {cpu.model or 'unknown model'} has {', '.join(have) or 'none'} of "
            f"sse4_2, avx, avx2, fma, avx512f; TensorFlow {fields['tensorflow']} needs "
            f"{', '.join(build.cpu_features)}",
            "environment",
            needed=", ".join(build.cpu_features),
            missing=", ".join(missing),
            cpu=cpu.model or "unknown model",
            fields=fields,
        )
    ]


def _architectures(imp: ImportResult | None, build: Build) -> tuple[list[str], list[str]]:
    """(native, PTX) compute capabilities: the build info's list when the probe had it."""
    names = imp.build_info.get("cuda_compute_capabilities") if imp is not None else None
    if not isinstance(names, list) or not names:
        return list(build.sass), list(build.ptx)
    sass: list[str] = []
    ptx: list[str] = []
    for name in names:
        # "sm_89" / "compute_90" / "sm_90a" -> "8.9" / "9.0" / "9.0"
        kind, _, digits = str(name).partition("_")
        digits = digits.rstrip("abcdefghijklmnopqrstuvwxyz")
        if not digits.isdigit() or len(digits) < 2:
            continue
        cc = f"{digits[:-1]}.{digits[-1]}"
        (sass if kind == "sm" else ptx).append(cc)
    # A cubin also carries PTX when TF lists only sm_ entries for the newest arch; be conservative
    # and treat only explicit compute_ entries as PTX.
    return sass, ptx


def _gpu_findings(
    env: Environment, build: Build, ctx: _Context, fields: dict[str, str]
) -> list[Finding]:
    profile = ctx.profile
    imp = env.tensorflow_import
    info = imp.build_info if imp is not None else {}
    is_cuda = info.get("is_cuda_build")
    cuda = str(info.get("cuda_version") or build.cuda)
    fields = {**fields, "cuda": major_minor(cuda) if is_dotted(cuda) else cuda}
    if profile is None:
        return []
    if not profile.has_nvidia_gpu:
        if is_cuda:
            return [
                ctx.finding(
                    "cuda-build-without-gpu",
                    f"tf.sysconfig.get_build_info(): is_cuda_build=True, cuda_version={cuda}; "
                    "profile: no NVIDIA driver or GPU",
                    "environment",
                    fields=fields,
                )
            ]
        return []
    gpu = profile.gpus[0]
    nvidia = profile.nvidia
    assert nvidia is not None  # has_nvidia_gpu guarantees it
    fields = {**fields, "gpu": gpu.name, "driver": nvidia.driver, "driver_cuda": nvidia.cuda or "?"}
    if is_cuda is False:
        return [
            ctx.finding(
                "gpu-unused-cpu-build",
                f"tf.sysconfig.get_build_info(): is_cuda_build=False; profile: {gpu.name}",
                "environment",
                fields=fields,
            )
        ]
    out: list[Finding] = []
    driver_ok = True
    if (
        nvidia.cuda
        and is_dotted(cuda)
        and parse_dotted(major_minor(cuda)) > parse_dotted(major_minor(nvidia.cuda))
    ):
        os_name = driver_os(profile.os)
        minimum = ctx.kb.drivers.toolkit_minimum(major_minor(cuda), os_name) or "?"
        compat = ctx.kb.drivers.minor_compat_minimum(parse_dotted(cuda)[0], os_name)
        same_major = parse_dotted(cuda)[0] == parse_dotted(nvidia.cuda)[0]
        code = (
            "driver-minor-compat"
            if same_major and compat and parse_dotted(nvidia.driver) >= parse_dotted(compat)
            else "driver-too-old"
        )
        driver_ok = code == "driver-minor-compat"
        out.append(
            ctx.finding(
                code,
                f"TensorFlow built with CUDA {cuda}; driver {nvidia.driver} supports CUDA "
                f"up to {nvidia.cuda}",
                "environment",
                min_driver=minimum,
                fields=fields,
            )
        )
    sass, ptx = _architectures(imp, build)
    min_cc = min(sass + ptx, key=parse_dotted) if sass + ptx else build.min_compute_capability
    min_cc = max(min_cc, build.min_compute_capability, key=parse_dotted)
    for g in profile.gpus:
        cc = g.compute_capability
        if cc is None or not is_dotted(cc, parts=2):
            continue
        have = parse_dotted(cc)
        gfields = {**fields, "gpu": g.name, "cc": cc, "min_cc": min_cc}
        if have < parse_dotted(min_cc):
            out.append(
                ctx.finding(
                    "gpu-below-minimum",
                    f"{g.name}: compute capability {cc}; TensorFlow {fields['tensorflow']} "
                    f"minimum {min_cc}",
                    "environment",
                    fields=gfields,
                )
            )
            continue
        native = any(parse_dotted(s)[0] == have[0] and parse_dotted(s) <= have for s in sass)
        jit = any(parse_dotted(p) <= have for p in ptx)
        if not native and not jit:
            out.append(
                ctx.finding(
                    "gpu-no-kernel",
                    f"{g.name}: compute capability {cc}; build has sm {', '.join(sass)} "
                    f"and PTX {', '.join(ptx) or 'none'}",
                    "environment",
                    sass=", ".join(sass),
                    ptx=", ".join(ptx) or "none",
                    fields=gfields,
                )
            )
    if driver_ok and imp is not None and imp.ok and imp.gpus == ():
        out.append(
            ctx.finding(
                "gpu-not-visible",
                "tf.config.list_physical_devices('GPU') == []",
                "environment",
                fields=fields,
            )
        )
    return out


def _requirement(text: str | None) -> Requirement | None:
    try:
        return Requirement(text) if text else None
    except InvalidRequirement:
        return None


def _keras_findings(
    env: Environment, build: Build, ctx: _Context, fields: dict[str, str]
) -> list[Finding]:
    out: list[Finding] = []
    pairing = build.keras
    req = _requirement(pairing.requirement)
    keras = env.packages.get("keras")
    if req is not None and canonicalize_name(req.name) == "keras":
        installed = _version(keras)
        if keras is None:
            out.append(
                ctx.finding(
                    "keras-missing", "keras: not installed", "environment",
                    required=str(req), fields=fields,
                )
            )  # fmt: skip
        elif installed is not None and not req.specifier.contains(installed, prereleases=True):
            note = (
                " (Keras 3 needs TensorFlow 2.16 or newer)"
                if installed.major >= 3 and pairing.kind != "keras3"
                else ""
            )
            out.append(
                ctx.finding(
                    "keras-mismatch",
                    f"keras {keras} installed; TensorFlow {fields['tensorflow']} pairs with {req}",
                    "environment",
                    required=str(req),
                    keras=keras,
                    keras_note=note,
                    keras_major=str(2 if pairing.kind != "keras3" else 3),
                    fields=fields,
                )
            )
    tf_keras_req = _requirement(pairing.tf_keras)
    tf_keras = _version(env.packages.get("tf-keras"))
    if (
        tf_keras_req is not None
        and tf_keras is not None
        and not tf_keras_req.specifier.contains(tf_keras, prereleases=True)
    ):
        out.append(
            ctx.finding(
                "tf-keras-mismatch",
                f"tf-keras {tf_keras} installed; TensorFlow {fields['tensorflow']} pairs with "
                f"{tf_keras_req}",
                "environment",
                required=str(tf_keras_req),
                version=str(tf_keras),
                fields=fields,
            )
        )
    return out


def _numpy_findings(
    env: Environment, release: Release, ctx: _Context, fields: dict[str, str]
) -> list[Finding]:
    numpy = _version(env.packages.get("numpy"))
    if numpy is None:
        return []
    spec: SpecifierSet = release.numpy_effective(env.python_minor)
    if not str(spec) or spec.contains(numpy, prereleases=True):
        return []
    return [
        ctx.finding(
            "numpy-incompatible",
            f"numpy {numpy} installed; TensorFlow {release.version} needs numpy{spec}",
            "environment",
            required=str(spec),
            numpy=str(numpy),
            fields=fields,
        )
    ]


def _python_findings(
    env: Environment, release: Release, ctx: _Context, fields: dict[str, str]
) -> list[Finding]:
    platform = _platform(ctx.profile, env)
    wheels = release.wheel(platform)
    if wheels is None or not env.python or wheels.supports_python(env.python_minor):
        return []
    best = max(wheels.python, key=parse_dotted) if wheels.python else "?"
    return [
        ctx.finding(
            "python-unsupported",
            f"Python {env.python}; TensorFlow {release.version} wheels on {platform}: "
            f"{', '.join(wheels.python)}",
            "environment",
            platform=platform,
            pythons=", ".join(wheels.python),
            best_python=best,
            fields=fields,
        )
    ]


def _cuda_wheel_findings(
    env: Environment, release: Release, ctx: _Context, fields: dict[str, str]
) -> list[Finding]:
    """nvidia-* wheels that tensorflow[and-cuda] pins, installed at a version outside the pin."""
    out = []
    for text in release.and_cuda or ():
        req = _requirement(text)
        if req is None:
            continue
        name = canonicalize_name(req.name)
        installed = _version(env.packages.get(name))
        if installed is not None and not req.specifier.contains(installed, prereleases=True):
            out.append(
                ctx.finding(
                    "cuda-wheel-mismatch",
                    f"{name} {installed} installed; tensorflow[and-cuda]=={release.version} "
                    f"requires {req}",
                    "environment",
                    package=name,
                    version=str(installed),
                    required=str(req),
                    fields=fields,
                )
            )
    return out


def read_log(path: str) -> str:
    """The text of a log file, or of standard input for "-"."""
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputFileError(f"cannot read log {path}: {exc.strerror or exc}") from exc
