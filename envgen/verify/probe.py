"""The verification probe: run by the *target* environment's interpreter, prints one JSON object.

This file is a standalone program, standard library only, because it runs inside environments
envgen did not build and must not depend on anything being installed there (not even envgen).
`envgen verify` and `envgen create` run it in full; `envgen doctor` runs it with `--quick` on
environments that may be old and broken. Keep the syntax Python 3.7-compatible: TensorFlow
2.12-2.15 environments run on 3.8-3.11, and the doctor meets TensorFlow 2.x on 3.7.

    python probe.py [--packages NAME ...] [--frameworks NAME ...] [--timeout S] [--no-driver]
                    [--quick] [--log-lines N] [--python CMD ...]
    python probe.py --driver      # the driver-level GPU probe only (libcuda through ctypes)

`--quick` imports each framework and reads its version, build info, devices (and for TensorFlow
whether `import keras` works) without computing anything. `--python`, always last, takes the rest
of the command line as the command that starts each framework's child instead of this interpreter,
so an emulator wrapper (`qemu-x86_64 -cpu Westmere python`) reaches the child too.

What it reports:
- the interpreter, and the installed distributions (importlib.metadata; reads metadata only);
- the NVIDIA driver through libcuda (cuInit, device count, compute capability, driver version, a
  small allocation with a copy round trip), needing no framework;
- for each framework present (TensorFlow, PyTorch, JAX): import, devices, a reduction, a matmul on
  each GPU compared with the CPU result, a tiny training loop, timings. Each framework runs in a
  child process of its own: a pre-AVX CPU kills `import tensorflow` with SIGILL (lab report §3),
  which no `try` can catch, and a framework that crashes must not take the report with it; the
  signal that killed a child is named in its entry ("signal": "SIGSEGV").
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
import math
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
import warnings
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
# Square matrices for the GPU-vs-CPU matmul: large enough to exercise real kernels (cuBLAS tiles),
# small enough to take milliseconds.
MATMUL_N = 512
# Relative tolerance for GPU vs CPU matmul. TensorFlow and JAX use TF32 on Ampere and newer by
# default (10-bit mantissa), which puts the max relative error near 1e-4 at this size; 1e-2 still
# catches garbage (wrong kernels, uninitialised memory) by orders of magnitude.
MATMUL_RTOL = 1e-2

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


# --- CUDA libraries the process loaded ------------------------------------------------------------
# What the dynamic loader really mapped, after the framework started (and, in a full run, used the
# GPU): "installed" is not "found" (a pip nvidia-* wheel TensorFlow did not look in, a system CUDA
# picked up instead of conda's). Linux lists every mapped file in /proc/self/maps (proc(5)).
CUDA_LIBRARIES = (
    "libcuda.so",
    "libcudart",
    "libcublas",
    "libcublasLt",
    "libcudnn",
    "libcufft",
    "libcupti",
    "libcurand",
    "libcusolver",
    "libcusparse",
    "libnccl",
    "libnvJitLink",
    "libnvrtc",
    "libnvinfer",
    "libnvshmem",
    "libnvidia-ml",
    "libtensorflow_framework",
)


def loaded_cuda_libraries(maps: str = "/proc/self/maps") -> list[dict[str, str]]:
    """Each CUDA library mapped into this process (name and path), sorted by name; empty where
    the system has no /proc (macOS, Windows)."""
    try:
        text = Path(maps).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.split(None, 5)
        if len(fields) < 6:
            continue
        path = fields[5].strip()
        # " (deleted)": replaced on disk since it was loaded. No str.removesuffix: the probe runs
        # on Pythons older than 3.9.
        if path.endswith(" (deleted)"):  # noqa: FURB188
            path = path[: -len(" (deleted)")]
        name = Path(path).name
        if path.startswith("/") and ".so" in name and name.startswith(CUDA_LIBRARIES):
            found.setdefault(path, name)
    return [{"name": n, "path": p} for p, n in sorted(found.items(), key=lambda kv: (kv[1], kv[0]))]


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


def _step(result: dict[str, Any], name: str, fn: Callable[[], Any]) -> Any:
    """Run one check, recording its value or its error and its time; never raise."""
    start = time.perf_counter()
    try:
        value = fn()
    except Exception as exc:  # noqa: BLE001 - any failure of a check is its result
        result["steps"][name] = {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=-8).splitlines()[-20:],
            "seconds": round(time.perf_counter() - start, 4),
        }
        return None
    result["steps"][name] = {
        "ok": True,
        "value": value,
        "seconds": round(time.perf_counter() - start, 4),
    }
    return value


def _rel_err(got: Any, want: Any) -> float:
    """max|got - want| / max|want| over two nested-list or numpy-like matrices."""
    np: Any = importlib.import_module("numpy")  # every framework here depends on numpy

    got_a = np.asarray(got, dtype=np.float64)
    want_a = np.asarray(want, dtype=np.float64)
    scale = float(np.max(np.abs(want_a))) or 1.0
    return float(np.max(np.abs(got_a - want_a))) / scale


def _matmul_result(err: float) -> dict[str, Any]:
    if not math.isfinite(err) or err > MATMUL_RTOL:
        raise ValueError(f"GPU result differs from CPU: relative error {err:.3g}")
    return {"rel_err": err, "rtol": MATMUL_RTOL}


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"result is not finite: {value!r}")
    return value


def _keras_import() -> dict[str, Any]:
    """`import keras` beside TensorFlow, and one layer: Keras 3 next to TF 2.15 fails here."""
    keras: Any = importlib.import_module("keras")
    version = getattr(keras, "__version__", None)
    keras.layers.Dense(1)
    return {"keras": version}


def child_tensorflow(result: dict[str, Any], quick: bool = False) -> None:
    tf: Any = importlib.import_module("tensorflow")

    result["version"] = tf.__version__
    _step(
        result,
        "build_info",
        lambda: {k: _jsonable(v) for k, v in dict(tf.sysconfig.get_build_info()).items()},
    )
    gpus = _step(result, "gpus", lambda: [d.name for d in tf.config.list_physical_devices("GPU")])
    if quick:
        _step(result, "keras_import", _keras_import)
        _step(result, "cuda_libraries", loaded_cuda_libraries)
        return

    def reduce_sum() -> float:
        # The seeds' smoke test, verbatim (lab report §1), pinned to the CPU.
        with tf.device("/CPU:0"):
            return _finite(float(tf.reduce_sum(tf.random.normal([1000, 1000]))))

    _step(result, "reduce_sum", reduce_sum)
    with tf.device("/CPU:0"):
        a = tf.random.stateless_normal([MATMUL_N, MATMUL_N], seed=[1, 2])
        b = tf.random.stateless_normal([MATMUL_N, MATMUL_N], seed=[3, 4])
        want = tf.matmul(a, b).numpy()
    for i, _ in enumerate(gpus or []):

        def on_gpu(i: int = i) -> dict[str, Any]:
            with tf.device(f"/GPU:{i}"):
                c = tf.matmul(a, b)
                device = c.device
            out = _matmul_result(_rel_err(c.numpy(), want))
            out["device"] = device
            return out

        _step(result, f"matmul_gpu{i}", on_gpu)

    def keras_fit() -> dict[str, Any]:
        keras = tf.keras
        rng = tf.random.Generator.from_seed(0)
        x = rng.normal([256, 8])
        y = tf.cast(tf.reduce_sum(x, axis=1, keepdims=True) > 0, tf.float32)
        model = keras.Sequential(
            [
                keras.Input(shape=(8,)),
                keras.layers.Dense(16, activation="relu"),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile(optimizer="adam", loss="binary_crossentropy")
        history = model.fit(x, y, epochs=3, batch_size=64, verbose=0)
        losses = [_finite(float(v)) for v in history.history["loss"]]
        version = getattr(keras, "__version__", None) or getattr(keras, "version", lambda: None)()
        return {"keras": version, "losses": losses}

    _step(result, "keras_fit", keras_fit)
    # Last: by now TensorFlow has loaded every CUDA library it uses (cuBLAS with the matmul).
    _step(result, "cuda_libraries", loaded_cuda_libraries)


def child_torch(result: dict[str, Any], quick: bool = False) -> None:
    torch: Any = importlib.import_module("torch")

    result["version"] = torch.__version__
    _step(
        result,
        "build_info",
        lambda: {
            "cuda_version": torch.version.cuda,
            "cudnn_version": torch.backends.cudnn.version() if torch.cuda.is_available() else None,
            "is_cuda_build": torch.version.cuda is not None,
        },
    )

    def gpu_list() -> list[str]:
        if not torch.cuda.is_available():
            return []
        return [
            "{} (sm_{}{})".format(
                torch.cuda.get_device_name(i), *torch.cuda.get_device_capability(i)
            )
            for i in range(torch.cuda.device_count())
        ]

    gpus = _step(result, "gpus", gpu_list)
    if quick:
        return
    _step(result, "reduce_sum", lambda: _finite(float(torch.randn(1000, 1000).sum())))
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(MATMUL_N, MATMUL_N, generator=gen)
    b = torch.randn(MATMUL_N, MATMUL_N, generator=gen)
    want = (a @ b).numpy()
    for i, _ in enumerate(gpus or []):

        def on_gpu(i: int = i) -> dict[str, Any]:
            dev = torch.device("cuda", i)
            c = a.to(dev) @ b.to(dev)
            out = _matmul_result(_rel_err(c.cpu().numpy(), want))
            out["device"] = str(c.device)
            return out

        _step(result, f"matmul_gpu{i}", on_gpu)

    def fit() -> dict[str, Any]:
        dev = torch.device("cuda", 0) if gpus else torch.device("cpu")
        x = torch.randn(256, 8, generator=gen).to(dev)
        y = (x.sum(dim=1, keepdim=True) > 0).float()
        model = torch.nn.Sequential(
            torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1)
        ).to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        losses = []
        for _ in range(5):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            losses.append(_finite(float(loss.item())))
        return {"device": str(dev), "losses": losses}

    _step(result, "fit", fit)


def child_jax(result: dict[str, Any], quick: bool = False) -> None:
    jax: Any = importlib.import_module("jax")
    jnp: Any = importlib.import_module("jax.numpy")
    np: Any = importlib.import_module("numpy")

    result["version"] = jax.__version__
    _step(result, "build_info", lambda: {"default_backend": jax.default_backend()})
    devices = _step(
        result,
        "devices",
        lambda: [f"{d.platform}:{d.id}:{d.device_kind}" for d in jax.devices()],
    )
    gpus = [d for d in jax.devices() if d.platform == "gpu"] if devices is not None else []
    result["steps"]["gpus"] = {
        "ok": devices is not None,
        "value": [f"{d.device_kind}:{d.id}" for d in gpus],
        "seconds": 0.0,
    }
    if quick:
        return
    cpu = jax.devices("cpu")[0]
    _step(
        result,
        "reduce_sum",
        lambda: _finite(
            float(
                jnp.sum(jax.device_put(jax.random.normal(jax.random.PRNGKey(0), (1000, 1000)), cpu))
            )
        ),
    )
    rng = np.random.default_rng(0)
    a = rng.standard_normal((MATMUL_N, MATMUL_N), dtype=np.float32)
    b = rng.standard_normal((MATMUL_N, MATMUL_N), dtype=np.float32)
    want = a @ b
    matmul = jax.jit(lambda x, y: x @ y)
    for i, dev in enumerate(gpus):

        def on_gpu(dev: Any = dev) -> dict[str, Any]:
            c = matmul(jax.device_put(a, dev), jax.device_put(b, dev))
            out = _matmul_result(_rel_err(np.asarray(c), want))
            out["device"] = str(dev)
            return out

        _step(result, f"matmul_gpu{i}", on_gpu)


CHILDREN: dict[str, Callable[[dict[str, Any], bool], None]] = {
    "tensorflow": child_tensorflow,
    "torch": child_torch,
    "jax": child_jax,
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def run_child(framework: str, quick: bool = False) -> int:
    """Child mode: import one framework, run its checks, print MARKER + JSON."""
    result: dict[str, Any] = {"framework": framework, "steps": {}}
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            t0 = time.perf_counter()
            # Import time is its own step: the cost users pay on every start (lab report §6).
            __import__(framework)
            result["import_seconds"] = round(time.perf_counter() - t0, 4)
            CHILDREN[framework](result, quick)
        except Exception as exc:  # noqa: BLE001 - verbatim for the report, whatever it is
            result["error"] = f"{type(exc).__name__}: {exc}"
            result["traceback"] = traceback.format_exc().splitlines()[-40:]
    result["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    result["seconds"] = round(time.perf_counter() - start, 4)
    sys.stdout.flush()
    sys.stdout.write("\n" + MARKER + json.dumps(_jsonable(result)) + "\n")
    sys.stdout.flush()
    return 0


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
    log_lines: int = MAX_LOG_LINES,
) -> dict[str, Any]:
    """Run one framework's child with `command` (default: this interpreter) and classify it."""
    env = dict(os.environ)
    # Log everything (TF's default is 0, but a user's TF_CPP_MIN_LOG_LEVEL=3 would hide the notes
    # we report); stop JAX grabbing 75 % of GPU memory up front; keep Keras quiet.
    env["TF_CPP_MIN_LOG_LEVEL"] = "0"
    env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
    argv = [*(command or [sys.executable]), str(Path(__file__).resolve()), "--child", framework]
    if quick:
        argv.append("--quick")
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
    parser.add_argument("--child", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.python is not None and not args.python:
        parser.error("--python needs a command")
    if args.child:
        return run_child(args.child, args.quick)
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
    frameworks: dict[str, Any] = {}
    for name in args.frameworks:
        frameworks[name] = (
            probe_framework(
                name,
                args.timeout,
                command=args.python,
                quick=args.quick,
                log_lines=args.log_lines,
            )
            if present(name)
            else {"status": "absent"}
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
