"""What the probe saw inside an environment, as typed values, and the one way to run it.

`probe.py` runs under the target environment's interpreter and prints one JSON object. This
module is the only reader of that object's field names: `parse()` turns it into an `Observation`
(interpreter, installed distributions, the driver, one `FrameworkRun` per framework), and `run()`
starts the probe through `envgen.proc`. `envgen verify` turns an Observation into checks,
`envgen doctor` into findings; neither reads the JSON itself.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envgen.errors import EnvgenError, ExternalToolError

PROBE = Path(__file__).with_name("probe.py")
SCHEMA = 1
# Variables that would make the target interpreter import something other than its own
# environment (envgen's own PYTHONPATH, when envgen runs from a --target directory, for one).
FOREIGN_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
# Slack for the interpreter start and package listing on top of the per-framework timeouts.
OVERHEAD_S = 60.0


@dataclass(frozen=True)
class Step:
    """One check a framework's child ran: its value, or its error."""

    ok: bool
    value: Any = None
    error: str | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class FrameworkRun:
    """One framework's child: how it ended and what its checks returned."""

    name: str
    status: str
    """ok, import-error, illegal-instruction, crashed, timeout, absent, or not-probed (present,
    but not asked for: no child was started for it)."""
    returncode: int | None = None
    signal: str | None = None
    error: str | None = None
    log: tuple[str, ...] = ()
    """The child's stderr lines (TensorFlow's C++ log), verbatim."""
    seconds: float | None = None
    version: str | None = None
    import_seconds: float | None = None
    steps: Mapping[str, Step] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    traceback: tuple[str, ...] = ()

    @property
    def present(self) -> bool:
        """Installed and probed (a child ran, whatever became of it)."""
        return self.status not in ("absent", "not-probed")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def value(self, step: str) -> Any:
        """A step's value when it succeeded, else None."""
        found = self.steps.get(step)
        return found.value if found is not None and found.ok else None


@dataclass(frozen=True)
class Interpreter:
    executable: str = ""
    version: str = ""
    implementation: str = ""
    prefix: str = ""
    platform: str = ""
    machine: str = ""
    virtualenv: bool = False
    site_dirs: tuple[str, ...] = ()
    """The sys.path directories holding installed distributions, in path order."""


@dataclass(frozen=True)
class Observation:
    python: Interpreter
    packages: Mapping[str, str]
    """Installed distributions, canonical name -> version."""
    driver: Mapping[str, Any] | None
    """The libcuda probe, or None when it was not run."""
    frameworks: Mapping[str, FrameworkRun]
    seconds: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """The probe's JSON as printed, kept for reports and bug reports."""

    def present(self) -> list[str]:
        return [name for name, run in self.frameworks.items() if run.present]

    def not_probed(self) -> list[str]:
        """Frameworks installed but not asked for (no child started for them)."""
        return [name for name, run in self.frameworks.items() if run.status == "not-probed"]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _lines(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _framework(name: str, data: Mapping[str, Any]) -> FrameworkRun:
    result: Mapping[str, Any] = data.get("result") or {}
    steps = {
        str(k): Step(bool(v.get("ok")), v.get("value"), _str(v.get("error")), v.get("seconds"))
        for k, v in (result.get("steps") or {}).items()
        if isinstance(v, Mapping)
    }
    returncode = data.get("returncode")
    return FrameworkRun(
        name=name,
        status=str(data.get("status") or "absent"),
        returncode=returncode if isinstance(returncode, int) else None,
        signal=_str(data.get("signal")),
        error=_str(data.get("error")),
        log=_lines(data.get("log")),
        seconds=data.get("seconds"),
        version=_str(result.get("version")),
        import_seconds=result.get("import_seconds"),
        steps=steps,
        warnings=_lines(result.get("warnings")),
        traceback=_lines(result.get("traceback")),
    )


def parse(data: Mapping[str, Any]) -> Observation:
    """The probe's JSON object as an Observation; missing parts read as absent."""
    python: Mapping[str, Any] = data.get("python") or {}
    frameworks: Mapping[str, Any] = data.get("frameworks") or {}
    return Observation(
        python=Interpreter(
            executable=str(python.get("executable") or ""),
            version=str(python.get("version") or ""),
            implementation=str(python.get("implementation") or ""),
            prefix=str(python.get("prefix") or ""),
            platform=str(python.get("platform") or ""),
            machine=str(python.get("machine") or ""),
            virtualenv=bool(python.get("virtualenv")),
            site_dirs=_lines(python.get("site_dirs")),
        ),
        packages={str(k): str(v) for k, v in (data.get("packages") or {}).items()},
        driver=data.get("driver"),
        frameworks={
            str(n): _framework(str(n), d) for n, d in frameworks.items() if isinstance(d, Mapping)
        },
        seconds=data.get("seconds"),
        raw=dict(data),
    )


def _json_object(text: str) -> Any:
    """The JSON document in `text`, also when a broken environment printed noise before it."""
    from envgen.documents import parse_json
    from envgen.errors import InputFileError

    try:
        return parse_json(text, "probe output")
    except InputFileError:
        pass
    lines = text.splitlines()
    # The probe prints its object indented, starting on a line of its own; the last such line
    # that parses to the end is the object (one parse per candidate, from the first).
    for i, line in enumerate(lines):
        if line.startswith("{"):
            try:
                return parse_json("\n".join(lines[i:]), "probe output")
            except InputFileError:
                continue
    return None


def parse_output(
    text: str, origin: str, *, error: type[EnvgenError] = ExternalToolError
) -> Observation:
    """The probe's printed output as an Observation; `error` (naming `origin`) when it is not."""
    data = _json_object(text)
    if data is None:
        tail = " / ".join(text.strip().splitlines()[-3:])
        raise error(f"{origin}: the probe printed no valid JSON: {tail or 'nothing'}")
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise error(f"{origin}: the probe answered in an unknown form")
    return parse(data)


def probe_environment(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k not in FOREIGN_VARIABLES}


def run(
    python: Sequence[str],
    args: Sequence[str] = (),
    *,
    timeout: float,
    frameworks: int = 3,
    error: type[EnvgenError] = ExternalToolError,
    environ: Mapping[str, str] | None = None,
) -> Observation:
    """Run the probe with the interpreter command `python` (a path, or a wrapper and its args).

    The same command starts each framework's child (`--python`), so an emulator wrapper
    (`qemu-x86_64 -cpu Westmere python`) runs the imports too. `timeout` applies to each of the
    `frameworks` children; a probe that cannot run or answers nonsense raises `error`.
    """
    from envgen.proc import run as run_process

    origin = shlex.join(python)
    argv = [*python, str(PROBE), *args, "--timeout", f"{timeout:g}", "--python", *python]
    env = probe_environment(os.environ if environ is None else environ)
    try:
        done = run_process(argv, timeout=frameworks * timeout + OVERHEAD_S, check=False, env=env)
    except ExternalToolError as exc:
        raise error(f"the probe could not run with {origin}: {exc.message}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise error(
            f"{origin} could not run the probe (exit status {done.returncode})"
            + (f": {' / '.join(tail)}" if tail else ""),
            hint="check that the path is a working Python interpreter",
        )
    return parse_output(done.stdout, origin, error=error)
