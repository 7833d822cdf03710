"""The verification probe's framework child: import one framework and prove it computes.

A standalone program, standard library only (like `probe.py`, which starts it: one child per
framework, so that a SIGILL or a segfault in one framework's import takes only that child down).
Keep the syntax Python 3.7-compatible for the same reasons as `probe.py`.

    python probe_frameworks.py FRAMEWORK --marker TEXT [--quick] [--keras-backend NAME]

It prints `TEXT` and one line of JSON on stdout, after whatever the framework printed. Each check
is a step with its value or its error and its time: the import, the build information, the
framework's own GPU check (`tf.config.list_physical_devices('GPU')`, `torch.cuda.is_available()`
with each device's `sm_XY` against `torch.cuda.get_arch_list()`, `jax.devices('gpu')`), a
reduction on the CPU, a matmul on each GPU compared with the CPU result, a tiny training loop,
and, for the framework named by `--keras-backend`, a Keras 3 fit on that backend (the parent sets
`KERAS_BACKEND` in this child's environment; Keras reads it once, at import).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

FRAMEWORKS = ("tensorflow", "torch", "jax")
# Square matrices for the GPU-vs-CPU matmul: large enough to exercise real kernels (cuBLAS tiles),
# small enough to take milliseconds.
MATMUL_N = 512
# Relative tolerance for GPU vs CPU matmul. TensorFlow and JAX use TF32 on Ampere and newer by
# default (10-bit mantissa), which puts the max relative error near 1e-4 at this size; 1e-2 still
# catches garbage (wrong kernels, uninitialised memory) by orders of magnitude.
MATMUL_RTOL = 1e-2
# The Keras fit: a two-layer classifier on 256 random points, 3 epochs of 4 batches. Small enough
# to take a second once compiled; enough steps for the optimiser to move the loss.
FIT_POINTS, FIT_FEATURES, FIT_EPOCHS, FIT_BATCH = 256, 8, 3, 64


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


def _errors(got: Any, want: Any) -> tuple[float, float]:
    """(max|got - want|, that divided by max|want|) over two matrices."""
    np: Any = importlib.import_module("numpy")  # every framework here depends on numpy

    got_a = np.asarray(got, dtype=np.float64)
    want_a = np.asarray(want, dtype=np.float64)
    worst = float(np.max(np.abs(got_a - want_a)))
    return worst, worst / (float(np.max(np.abs(want_a))) or 1.0)


def _matmul_result(got: Any, want: Any, device: str) -> dict[str, Any]:
    worst, err = _errors(got, want)
    if not math.isfinite(err) or err > MATMUL_RTOL:
        raise ValueError(f"GPU result differs from CPU: relative error {err:.3g}")
    return {"device": device, "rel_err": err, "max_abs_err": worst, "rtol": MATMUL_RTOL}


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


def _fit_data() -> tuple[Any, Any]:
    np: Any = importlib.import_module("numpy")
    # RandomState: in every numpy a TensorFlow 2.x environment may hold.
    x = np.random.RandomState(0).standard_normal((FIT_POINTS, FIT_FEATURES)).astype("float32")
    y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
    return x, y


def _weight_device(weight: Any, backend: str) -> str:
    """Where a Keras variable's value lives: a jax Array's device, a torch tensor's device."""
    value = weight.value
    if backend == "jax":
        return min(str(d) for d in value.devices())
    return str(getattr(value, "device", "?"))


def keras_fit(backend: str) -> dict[str, Any]:
    """Keras 3 on `backend` (already chosen through KERAS_BACKEND): build, compile and fit."""
    keras: Any = importlib.import_module("keras")
    got = keras.backend.backend()
    if got != backend:
        raise RuntimeError(f"Keras runs on {got!r}, not on {backend!r} (KERAS_BACKEND)")
    keras.utils.set_random_seed(0)
    x, y = _fit_data()
    model = keras.Sequential(
        [
            keras.Input(shape=(FIT_FEATURES,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, epochs=FIT_EPOCHS, batch_size=FIT_BATCH, verbose=0)
    return {
        "keras": keras.__version__,
        "backend": got,
        "device": _weight_device(model.weights[0], backend),
        "losses": [_finite(float(v)) for v in history.history["loss"]],
    }


def child_tensorflow(result: dict[str, Any], quick: bool, keras_backend: str | None) -> None:
    del keras_backend  # tf.keras always runs on TensorFlow: its fit below is the Keras check
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
            return _matmul_result(c.numpy(), want, c.device)

        _step(result, f"matmul_gpu{i}", on_gpu)

    def tf_keras_fit() -> dict[str, Any]:
        # tf.keras: Keras 2 up to TF 2.15, Keras 3 (on TensorFlow) from TF 2.16.
        keras = tf.keras
        tf.random.set_seed(0)
        x, y = _fit_data()
        model = keras.Sequential(
            [
                keras.Input(shape=(FIT_FEATURES,)),
                keras.layers.Dense(16, activation="relu"),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile(optimizer="adam", loss="binary_crossentropy")
        history = model.fit(x, y, epochs=FIT_EPOCHS, batch_size=FIT_BATCH, verbose=0)
        losses = [_finite(float(v)) for v in history.history["loss"]]
        version = getattr(keras, "__version__", None) or getattr(keras, "version", lambda: None)()
        return {"keras": version, "backend": "tensorflow", "losses": losses}

    _step(result, "keras_fit", tf_keras_fit)


def child_torch(result: dict[str, Any], quick: bool, keras_backend: str | None) -> None:
    torch: Any = importlib.import_module("torch")

    result["version"] = torch.__version__
    available = torch.cuda.is_available()
    _step(
        result,
        "build_info",
        lambda: {
            "cuda_version": torch.version.cuda,
            "cudnn_version": torch.backends.cudnn.version() if available else None,
            "is_cuda_build": torch.version.cuda is not None,
        },
    )

    def gpu_list() -> list[str]:
        if not available:
            return []
        return [
            "{} (sm_{}{})".format(
                torch.cuda.get_device_name(i), *torch.cuda.get_device_capability(i)
            )
            for i in range(torch.cuda.device_count())
        ]

    gpus = _step(result, "gpus", gpu_list)
    if available:
        # What the build carries (SASS `sm_XY`, PTX `compute_XY`) against each device's compute
        # capability: a build without the GPU's architecture fails every kernel launch with "no
        # kernel image is available for execution on the device".
        _step(
            result,
            "arch",
            lambda: {
                "arch_list": list(torch.cuda.get_arch_list()),
                "devices": [
                    {
                        "name": torch.cuda.get_device_name(i),
                        "cc": "{}.{}".format(*torch.cuda.get_device_capability(i)),
                    }
                    for i in range(torch.cuda.device_count())
                ],
            },
        )
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
            return _matmul_result(c.cpu().numpy(), want, str(c.device))

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
    if keras_backend == "torch":
        _step(result, "keras_fit", lambda: keras_fit("torch"))


def child_jax(result: dict[str, Any], quick: bool, keras_backend: str | None) -> None:
    jax: Any = importlib.import_module("jax")
    jnp: Any = importlib.import_module("jax.numpy")
    np: Any = importlib.import_module("numpy")

    result["version"] = jax.__version__

    def build_info() -> dict[str, Any]:
        jaxlib: Any = importlib.import_module("jaxlib")
        return {
            "default_backend": jax.default_backend(),
            "jaxlib": getattr(jaxlib, "__version__", None),
        }

    _step(result, "build_info", build_info)
    _step(
        result,
        "devices",
        lambda: [f"{d.platform}:{d.id}:{d.device_kind}" for d in jax.devices()],
    )
    # JAX's own GPU check: it raises (naming why: no CUDA plugin, a plugin that failed to
    # initialise) where `jax.devices()` would quietly list the CPU instead.
    found = _step(result, "gpus", lambda: list(jax.devices("gpu")))
    gpus = list(found or [])
    if found is not None:
        result["steps"]["gpus"]["value"] = [f"{d.device_kind}:{d.id}" for d in gpus]
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
            return _matmul_result(np.asarray(c), want, str(dev))

        _step(result, f"matmul_gpu{i}", on_gpu)
    if keras_backend == "jax":
        _step(result, "keras_fit", lambda: keras_fit("jax"))


# --- CUDA libraries the process loaded ------------------------------------------------------------
# What the dynamic loader really mapped, after the framework started (and, in a full run, used the
# GPU): "installed" is not "found" (a pip nvidia-* wheel TensorFlow did not look in, a system CUDA
# picked up instead of conda's). Linux lists every mapped file in /proc/self/maps (proc(5)).
# Read last in every framework's child, quick or full (`run_child`).
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


CHILDREN: dict[str, Callable[[dict[str, Any], bool, str | None], None]] = {
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


def run_child(
    framework: str, marker: str, quick: bool = False, keras_backend: str | None = None
) -> int:
    """Import one framework, run its checks, print `marker` + JSON on a line of its own."""
    result: dict[str, Any] = {"framework": framework, "steps": {}}
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            t0 = time.perf_counter()
            # Import time is its own step: the cost users pay on every start (lab report §6).
            __import__(framework)
            result["import_seconds"] = round(time.perf_counter() - t0, 4)
            CHILDREN[framework](result, quick, keras_backend)
            # Last: by now the framework has loaded every CUDA library it uses (cuBLAS with the
            # matmul, cuDNN with the fit).
            _step(result, "cuda_libraries", loaded_cuda_libraries)
        except Exception as exc:  # noqa: BLE001 - verbatim for the report, whatever it is
            result["error"] = f"{type(exc).__name__}: {exc}"
            result["traceback"] = traceback.format_exc().splitlines()[-40:]
    result["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    result["seconds"] = round(time.perf_counter() - start, 4)
    sys.stdout.flush()
    sys.stdout.write("\n" + marker + json.dumps(_jsonable(result)) + "\n")
    sys.stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("framework", choices=FRAMEWORKS)
    parser.add_argument("--marker", required=True, help="printed before the JSON result")
    parser.add_argument("--quick", action="store_true", help="import, build info, devices only")
    parser.add_argument("--keras-backend", choices=FRAMEWORKS, help="also fit Keras 3 on it")
    args = parser.parse_args(argv)
    return run_child(args.framework, args.marker, args.quick, args.keras_backend)


if __name__ == "__main__":
    # As in probe.py: nothing beside this file may shadow a module of the environment.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.exit(main())
