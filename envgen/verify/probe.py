"""The verification probe: run by the *target* environment's interpreter, prints one JSON object.

This file is a standalone program, standard library only, because it runs inside environments
envgen did not build and must not depend on anything being installed there (not even envgen).
`envgen verify` and `envgen create` run it in full; `envgen doctor` runs it with `--quick` on
environments that may be old and broken. Keep the syntax Python 3.7-compatible: TensorFlow
2.12-2.15 environments run on 3.8-3.11, and the doctor meets TensorFlow 2.x on 3.7.

    python probe.py [--packages NAME ...] [--frameworks NAME ...] [--timeout S] [--no-driver]
                    [--quick] [--keras-backend NAME] [--log-lines N] [--python CMD ...]
    python probe.py --driver      # the driver-level GPU probe only (libcuda through ctypes)

`--quick` imports each framework and reads its version, build info, devices (and for TensorFlow
whether `import keras` works) without computing anything. `--keras-backend` names the framework
whose child also fits Keras 3 on it (`KERAS_BACKEND` set in that child's environment).
`--python`, always last, takes the rest of the command line as the command that starts each
framework's child instead of this interpreter, so an emulator wrapper (`qemu-x86_64 -cpu Westmere
python`) reaches the child too.

What it reports:
- the interpreter, the directories its distributions are installed in, and the installed
  distributions (importlib.metadata; reads metadata only);
- the NVIDIA driver through libcuda (cuInit, device count, compute capability, driver version, a
  small allocation with a copy round trip), needing no framework;
- for each framework asked for and present (TensorFlow, PyTorch, JAX): what
  `probe_frameworks.py` checks (import, devices, a reduction, a matmul on each GPU compared with
  the CPU result, a tiny training loop, timings). Each framework runs in a child process of its
  own, and only one: a pre-AVX CPU kills `import tensorflow` with SIGILL (lab report §3), which
  no `try` can catch, and a framework that crashes must not take the report with it; the signal
  that killed a child is named in its entry ("signal": "SIGSEGV"). A framework present but not
  asked for is listed as "not-probed", without starting anything.
The child's stderr (TensorFlow's C++ log: cpu_feature_guard notes, "Could not find cuda drivers")
is returned line by line (the last 200 unless `--log-lines` says otherwise; 0 keeps all); envgen
reports it and never fails on it.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCHEMA = 1
FRAMEWORKS = ("tensorflow", "torch", "jax")
# The child prints its JSON on one line after this marker, so stray prints from a framework
# (progress bars, banners) on stdout cannot corrupt the result.
MARKER = "ENVGEN-PROBE-RESULT "
# Exit statuses of a process killed by SIGILL: -4 from subprocess (signal 4), 132 (128 + 4) when
# a shell or qemu-user reports it (lab report §3: qemu -cpu Westmere, `import tensorflow` -> 132).
SIGILL_CODES = (-4, 132)
# Enough of a child's log to show every TensorFlow start-up note, bounded for huge tracebacks.
MAX_LOG_LINES = 200
# The program each framework's child runs (standard library only, like this one).
CHILD = Path(__file__).resolve().with_name("probe_frameworks.py")

# --- libcuda (driver API) ----------------------------------------------------------------------
# Attribute numbers from cuda.h (CUdevice_attribute); stable since CUDA 3.x.
CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16
CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75
CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76
# The driver API library each OS's NVIDIA driver installs: nvcuda.dll in System32 on Windows
# (found by the default DLL search), libcuda.so.1 on Linux (WSL2 projects the Windows driver's
# copy into /usr/lib/wsl/lib, not always on the loader path), libcuda.dylib on macOS (drivers
# for CUDA <= 10.2, the last release for macOS).
LIBCUDA_NAMES = {
    "win32": ("nvcuda.dll",),
    "linux": ("libcuda.so.1", "libcuda.so", "/usr/lib/wsl/lib/libcuda.so.1"),
    "darwin": ("libcuda.dylib", "/usr/local/cuda/lib/libcuda.dylib"),
}


def libcuda_names(platform: str) -> tuple[str, ...]:
    """The names to load the CUDA driver library by on `platform` (a sys.platform value)."""
    return LIBCUDA_NAMES.get("linux" if platform.startswith("linux") else platform, ())


ALLOC_BYTES = 1 << 20


def _cu_error(lib: Any, code: int) -> str:
    name = ctypes.c_char_p()
    try:
        if lib.cuGetErrorName(code, ctypes.byref(name)) == 0 and name.value:
            return f"{name.value.decode()} ({code})"
    except AttributeError:
        pass
    return f"CUDA error {code}"


def driver_version_text(value: int) -> str:
    """cuDriverGetVersion's integer (1000 * major + 10 * minor) as "13.0"."""
    return f"{value // 1000}.{(value % 1000) // 10}"


def probe_driver() -> dict[str, Any]:
    """Ask libcuda directly: no framework, no CUDA toolkit, only the driver's own library."""
    out: dict[str, Any] = {"ok": False, "library": None, "devices": []}
    lib = None
    errors = []
    for name in libcuda_names(sys.platform):
        try:
            lib = ctypes.CDLL(name)
        except OSError as exc:
            errors.append(f"{name}: {exc}")
            continue
        out["library"] = name
        break
    if lib is None:
        names = libcuda_names(sys.platform)
        library = names[0] if names else "libcuda"
        out["error"] = f"{library} not found (no NVIDIA driver visible)"
        out["tried"] = errors
        return out

    def call(fn: str, *args: Any) -> None:
        code = getattr(lib, fn)(*args)
        if code != 0:
            raise RuntimeError(f"{fn}: {_cu_error(lib, code)}")

    try:
        version = ctypes.c_int()
        call("cuDriverGetVersion", ctypes.byref(version))
        out["driver_api_version"] = version.value
        out["cuda_version"] = driver_version_text(version.value)
        call("cuInit", 0)
        count = ctypes.c_int()
        call("cuDeviceGetCount", ctypes.byref(count))
        out["device_count"] = count.value
        for ordinal in range(count.value):
            out["devices"].append(_probe_device(call, ordinal))
    except (RuntimeError, AttributeError) as exc:
        out["error"] = str(exc)
        return out
    out["ok"] = all(d.get("ok") for d in out["devices"])
    return out


def _probe_device(call: Callable[..., None], ordinal: int) -> dict[str, Any]:
    dev = ctypes.c_int()
    call("cuDeviceGet", ctypes.byref(dev), ordinal)
    info: dict[str, Any] = {"index": ordinal, "ok": False}
    name = ctypes.create_string_buffer(256)
    call("cuDeviceGetName", name, len(name), dev)
    info["name"] = name.value.decode(errors="replace")
    attrs = {}
    for key, attr in (
        ("major", CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
        ("minor", CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
        ("multiprocessors", CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
    ):
        value = ctypes.c_int()
        call("cuDeviceGetAttribute", ctypes.byref(value), attr, dev)
        attrs[key] = value.value
    info["compute_capability"] = f"{attrs['major']}.{attrs['minor']}"
    info["multiprocessors"] = attrs["multiprocessors"]
    total = ctypes.c_size_t()
    call("cuDeviceTotalMem_v2", ctypes.byref(total), dev)
    info["memory_bytes"] = total.value
    # The primary context is the one the runtime API (and so every framework) shares; retaining
    # it rather than creating our own mirrors what TensorFlow/PyTorch do.
    ctx = ctypes.c_void_p()
    call("cuDevicePrimaryCtxRetain", ctypes.byref(ctx), dev)
    try:
        call("cuCtxSetCurrent", ctx)
        ptr = ctypes.c_uint64()
        start = time.perf_counter()
        call("cuMemAlloc_v2", ctypes.byref(ptr), ctypes.c_size_t(ALLOC_BYTES))
        try:
            # A host -> device -> host round trip proves the memory is really usable.
            pattern = bytes(range(256)) * (ALLOC_BYTES // 256)
            src = ctypes.create_string_buffer(pattern, ALLOC_BYTES)
            dst = ctypes.create_string_buffer(ALLOC_BYTES)
            call("cuMemcpyHtoD_v2", ptr, src, ctypes.c_size_t(ALLOC_BYTES))
            call("cuMemcpyDtoH_v2", dst, ptr, ctypes.c_size_t(ALLOC_BYTES))
            info["roundtrip_ok"] = dst.raw == pattern
        finally:
            call("cuMemFree_v2", ptr)
        info["alloc_bytes"] = ALLOC_BYTES
        info["alloc_seconds"] = round(time.perf_counter() - start, 4)
    finally:
        call("cuDevicePrimaryCtxRelease", dev)
    info["ok"] = bool(info.get("roundtrip_ok"))
    return info


# --- interpreter and packages --------------------------------------------------------------------


def canonical(name: str) -> str:
    """PEP 503 normalised name, as packaging.utils.canonicalize_name (not importable here)."""
    out = []
    for ch in name.lower():
        out.append("-" if ch in "-_." else ch)
    text = "".join(out)
    while "--" in text:
        text = text.replace("--", "-")
    return text


def site_dirs() -> list[str]:
    """The sys.path directories holding installed distributions (`*.dist-info`) or `.pth` files,
    in path order: the environment's site-packages and whatever a `.pth` file or the base adds."""
    out = []
    for entry in sys.path:
        try:
            path = Path(entry or ".").resolve()
            if path.is_dir() and any(p.suffix in (".dist-info", ".pth") for p in path.iterdir()):
                out.append(str(path))
        except OSError:
            continue
    return list(dict.fromkeys(out))


def interpreter() -> dict[str, Any]:
    return {
        "executable": sys.executable,
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "virtualenv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
        "platform": sys.platform,
        "machine": platform.machine(),
        "site_dirs": site_dirs(),
    }


def _metadata() -> Any:
    """importlib.metadata; on Python 3.7 its backport if something installed it, else None."""
    for name in ("importlib.metadata", "importlib_metadata"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def installed(names: list[str] | None) -> tuple[dict[str, str], list[str]]:
    """Installed distributions (all, or those in `names`) by canonical name; and the missing."""
    found: dict[str, str] = {}
    metadata = _metadata()
    for dist in metadata.distributions() if metadata is not None else ():
        name = dist.metadata["Name"]
        if name:
            # The first on sys.path wins, as for imports.
            found.setdefault(canonical(name), dist.version)
    if names is None:
        return dict(sorted(found.items())), []
    wanted = [canonical(n) for n in names]
    return {n: found[n] for n in wanted if n in found}, [n for n in wanted if n not in found]


# --- framework children --------------------------------------------------------------------------


def signal_name(returncode: int) -> str | None:
    """The signal that ended a process: subprocess reports signal N as -N, a shell as 128 + N."""
    number = -returncode if returncode < 0 else returncode - 128 if returncode > 128 else 0
    try:
        return signal.Signals(number).name if number else None
    except ValueError:
        return None


def _last(lines: list[str], count: int) -> list[str]:
    """The last `count` lines; all of them for 0."""
    return lines[-count:] if count > 0 else lines


def parse_child(
    returncode: int, stdout: str, stderr: str, log_lines: int = MAX_LOG_LINES
) -> dict[str, Any]:
    """Classify a finished child: its JSON result, or why it has none (SIGILL, crash)."""
    out: dict[str, Any] = {"returncode": returncode}
    killed_by = signal_name(returncode)
    if killed_by is not None:
        out["signal"] = killed_by
    lines = [ln.rstrip() for ln in stderr.splitlines() if ln.strip()]
    out["log"] = _last(lines, log_lines)
    payload = None
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            payload = json.loads(line[len(MARKER) :])
    if returncode in SIGILL_CODES:
        out["status"] = "illegal-instruction"
        out["error"] = (
            f"killed by SIGILL (exit {returncode}): the CPU lacks an instruction this build needs"
        )
    elif payload is None:
        out["status"] = "crashed"
        out["error"] = f"exited with code {returncode} and no result"
    elif "error" in payload:
        out["status"] = "import-error"
    else:
        out["status"] = "ok"
    if payload is not None:
        out["result"] = payload
        if "error" in payload:
            out["error"] = payload["error"]
    return out


def _die_with_parent() -> Callable[[], None] | None:
    """Linux: a `preexec_fn` that makes the framework's child die with this probe.

    envgen gives the probe the same (envgen/proc.py); this file cannot import envgen, so the few
    lines are repeated here. Without them, a probe killed with its envgen leaves `import
    tensorflow` running on in an environment the next run may replace."""
    # One `if` around the Linux half (no early return): mypy's other platforms skip it.
    found: Callable[[], None] | None = None
    if sys.platform.startswith("linux"):
        try:
            prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            return None

        def preexec() -> None:
            parent = os.getppid()
            prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
            if os.getppid() != parent:  # the probe died before the call: no signal would come
                os.kill(os.getpid(), signal.SIGKILL)

        found = preexec
    return found


def probe_framework(
    framework: str,
    timeout: float,
    *,
    command: list[str] | None = None,
    quick: bool = False,
    keras_backend: str | None = None,
    log_lines: int = MAX_LOG_LINES,
) -> dict[str, Any]:
    """Run one framework's child with `command` (default: this interpreter) and classify it."""
    env = dict(os.environ)
    # Log everything (TF's default is 0, but a user's TF_CPP_MIN_LOG_LEVEL=3 would hide the notes
    # we report); stop JAX grabbing 75 % of GPU memory up front. Keras 3 picks its backend from
    # KERAS_BACKEND once, at import: each child's Keras runs on that child's framework (the
    # backend names are the framework names), whatever the user's shell says.
    env["TF_CPP_MIN_LOG_LEVEL"] = "0"
    env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
    env["KERAS_BACKEND"] = framework
    argv = [*(command or [sys.executable]), str(CHILD), framework, "--marker", MARKER]
    if quick:
        argv.append("--quick")
    if keras_backend == framework:
        argv += ["--keras-backend", keras_backend]
    start = time.perf_counter()
    try:
        done = subprocess.run(
            argv,
            check=False,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=env,
            preexec_fn=_die_with_parent(),
        )
    except subprocess.TimeoutExpired as exc:
        return {
            "status": "timeout",
            "error": f"no result within {timeout:g} s",
            "log": _last(_text(exc.stderr).splitlines(), log_lines),
            "seconds": round(time.perf_counter() - start, 3),
        }
    except OSError as exc:  # the --python command does not exist or cannot be run
        return {
            "status": "crashed",
            "error": f"could not start {argv[0]}: {exc}",
            "log": [],
            "seconds": round(time.perf_counter() - start, 3),
        }
    out = parse_child(done.returncode, done.stdout, done.stderr, log_lines)
    out["seconds"] = round(time.perf_counter() - start, 3)
    return out


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value or ""


def present(framework: str) -> bool:
    # find_spec only looks at the file system: nothing is imported (and nothing can crash).
    return importlib.util.find_spec(framework) is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--packages", nargs="*", default=None, help="report only these")
    parser.add_argument("--frameworks", nargs="*", default=list(FRAMEWORKS))
    parser.add_argument("--timeout", type=float, default=300.0, help="per framework, seconds")
    parser.add_argument("--driver", action="store_true", help="only the driver-level GPU probe")
    parser.add_argument("--no-driver", action="store_true", help="skip the driver-level probe")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="import, build info, devices (and whether Keras imports) only; no computation",
    )
    parser.add_argument(
        "--keras-backend",
        choices=FRAMEWORKS,
        help="also fit Keras 3 on this backend, in its framework's child",
    )
    parser.add_argument(
        "--log-lines",
        type=int,
        default=MAX_LOG_LINES,
        help=f"keep the last N lines of each child's stderr (default {MAX_LOG_LINES}; 0: all)",
    )
    parser.add_argument(
        "--python",
        nargs=argparse.REMAINDER,
        metavar="CMD",
        help="last: the command that starts each child (default: this interpreter)",
    )
    args = parser.parse_args(argv)
    if args.python is not None and not args.python:
        parser.error("--python needs a command")
    start = time.perf_counter()
    if args.driver:
        print(json.dumps({"schema": SCHEMA, "driver": probe_driver()}, indent=2))
        return 0
    packages, missing = installed(args.packages)
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "python": interpreter(),
        "packages": packages,
        "missing": missing,
    }
    if not args.no_driver:
        t0 = time.perf_counter()
        report["driver"] = probe_driver()
        report["driver"]["seconds"] = round(time.perf_counter() - t0, 4)
    if args.quick:
        report["quick"] = True
    if args.keras_backend:
        report["keras_backend"] = args.keras_backend
    frameworks: dict[str, Any] = {}
    for name in FRAMEWORKS:
        if not present(name):
            frameworks[name] = {"status": "absent"}
        elif name not in args.frameworks:
            frameworks[name] = {"status": "not-probed"}  # present; no interpreter started for it
        else:
            frameworks[name] = probe_framework(
                name,
                args.timeout,
                command=args.python,
                quick=args.quick,
                keras_backend=args.keras_backend,
                log_lines=args.log_lines,
            )
    report["frameworks"] = frameworks
    report["seconds"] = round(time.perf_counter() - start, 3)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    # Run as a script, this file's directory is sys.path[0]; drop it so nothing next to the probe
    # (envgen's own modules) can shadow a module the environment provides.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.exit(main())
