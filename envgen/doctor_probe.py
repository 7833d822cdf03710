"""Probe for `envgen doctor`: run by the *target* interpreter, standard library only.

    <python> doctor_probe.py [--python CMD ...] [--timeout SECONDS]

Prints one JSON object on stdout: the interpreter, the installed versions of the packages a
TensorFlow stack is made of (read with importlib.metadata, so nothing is imported), and what
happened when a child process ran `import tensorflow` (exit status, the signal that killed it,
stderr verbatim, `tf.sysconfig.get_build_info()`, the GPUs TensorFlow sees, whether Keras imports).

`import tensorflow` runs in its own process because it can kill the interpreter outright: a CPU
without AVX dies with SIGILL (exit -4, or 132 through a shell) and a broken CUDA library can
segfault; the probe must still report the versions it read. `--python` gives the command that
starts the child (default: this interpreter), so an emulator wrapper (`qemu-x86_64 -cpu Westmere
python`) reaches the child too. This file must run on any Python 3 envgen may meet (3.7+ keeps the
syntax plain) and must not import envgen: the target environment does not have it.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

# Running `python .../envgen/doctor_probe.py` puts envgen's package directory first on sys.path,
# where profile.py, plan.py, ... would shadow standard-library and third-party modules in the child
# and in our own imports. Drop it before anything else is imported.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

SCHEMA = "envgen.doctor-probe/1"

# The distributions a TensorFlow stack is made of (names as importlib.metadata normalises them).
_PREFIXES = ("tensorflow", "tf-nightly", "tf-keras", "keras", "numpy", "nvidia-", "ml-dtypes")

# Marks the child's JSON line: TensorFlow or a plugin may print to stdout before it.
_MARK = "ENVGEN-PROBE-RESULT "

# What the child runs. Each step is guarded so one failure (Keras 3 next to TF 2.15) does not hide
# the next fact; the first failing `import tensorflow` ends it with a non-zero exit on purpose.
_CHILD = r"""
import json, sys, traceback
out = {}
def tail(exc):
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()
import tensorflow as tf
out["version"] = getattr(tf, "__version__", None)
try:
    info = dict(tf.sysconfig.get_build_info())
    out["build_info"] = {k: v if isinstance(v, (str, int, float, bool, list)) or v is None
                         else str(v) for k, v in info.items()}
except Exception as exc:
    out["build_info_error"] = tail(exc)
try:
    out["gpus"] = [d.name for d in tf.config.list_physical_devices("GPU")]
except Exception as exc:
    out["gpus_error"] = tail(exc)
try:
    import keras
    out["keras"] = getattr(keras, "__version__", None)
    keras.layers.Dense(1)
except Exception as exc:
    out["keras_error"] = tail(exc)
sys.stdout.write("\n" + MARK + json.dumps(out) + "\n")
""".replace("MARK", repr(_MARK))


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def installed() -> dict[str, str]:
    """Versions of the stack's distributions, without importing any of them."""
    try:
        from importlib import metadata
    except ImportError:  # Python < 3.8: nothing to read without third-party code
        return {}
    found = {}
    for dist in metadata.distributions():
        name = _canonical(dist.metadata["Name"] or "")
        if name.startswith(_PREFIXES):
            found[name] = dist.version
    return dict(sorted(found.items()))


def _signal_name(returncode: int) -> str | None:
    # subprocess reports death by signal N as -N; a shell reports 128 + N.
    number = -returncode if returncode < 0 else returncode - 128 if returncode > 128 else 0
    try:
        return signal.Signals(number).name if number else None
    except ValueError:
        return None


def import_tensorflow(command: list[str], timeout: float) -> dict[str, Any]:
    """Run `import tensorflow` (and the build-info queries) in a child; report what happened."""
    env = dict(os.environ)
    # Keep TensorFlow's C++ log lines: they are the evidence ("Could not find cuda drivers ...").
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    try:
        proc = subprocess.run(
            [*command, "-c", _CHILD],
            capture_output=True,
            check=False,
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "returncode": None, "signal": None, "timed_out": True, "stderr": ""}
    except OSError as exc:
        return {"ok": False, "returncode": None, "signal": None, "stderr": str(exc)}
    stdout = proc.stdout.decode("utf-8", "replace")
    result = {
        "ok": proc.returncode == 0,
        "returncode": proc.returncode,
        "signal": _signal_name(proc.returncode),
        "stderr": proc.stderr.decode("utf-8", "replace"),
    }
    for line in stdout.splitlines():
        if line.startswith(_MARK):
            result.update(json.loads(line[len(_MARK) :]))
    return result


def probe(command: list[str], timeout: float) -> dict[str, Any]:
    report = {
        "schema": SCHEMA,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "platform": sys.platform,
        "machine": platform.machine(),
        "packages": installed(),
    }
    if any(name.startswith(("tensorflow", "tf-nightly")) for name in report["packages"]):
        report["import"] = import_tensorflow(command, timeout)
    return report


def main(argv: list[str]) -> int:
    command = [sys.executable]
    timeout = 300.0
    args = list(argv)
    while args:
        flag = args.pop(0)
        if flag == "--timeout":
            timeout = float(args.pop(0))
        elif flag == "--python":
            # Everything after --python is the command (an emulator wrapper may take arguments).
            command, args = args, []
        else:
            sys.stderr.write(f"doctor_probe: unknown argument {flag!r}\n")
            return 2
    sys.stdout.write(json.dumps(probe(command, timeout)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
