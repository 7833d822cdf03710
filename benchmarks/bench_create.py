"""`envgen create --target cpu` (warm cache) against the raw tools doing the same install.

    python benchmarks/bench_create.py [--runs N] [--skip-pip]

Side by side, interleaved, each run into a fresh directory, all from the same hashed lock
(`requirements.cpu-linux-64.txt`, written once by a first `envgen create`):

* envgen create --prefix NEW            (plan, lock reuse, render, build, verify)
* envgen create --prefix NEW --no-verify
* uv venv + uv pip install --compile-bytecode --require-hashes -r LOCK
  (+ the same import-and-compute check envgen's verification runs, to compare like with like)
* python -m venv + pip install --require-hashes -r LOCK (pip compiles bytecode by default)

Bytecode is compiled in every case: this machine sets PYTHONDONTWRITEBYTECODE, and TensorFlow
imports take 15 s instead of 5 s without .pyc files (lab report §1). pip runs with no config file
and no find-links, so it talks to PyPI like uv does. Targets (issue 6): at most 1.3x raw uv,
at least 5x faster than venv + pip.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECK = "import tensorflow as tf; print(float(tf.reduce_sum(tf.random.normal([1000, 1000]))))"


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-pip", action="store_true", help="leave out venv + pip (slow here)")
    args = parser.parse_args()
    python = sys.executable
    uv = shutil.which("uv") or str(Path(python).with_name("uv"))
    work = Path(tempfile.mkdtemp(prefix="envgen-bench-create-"))
    env = {**os.environ}
    pip_env = {k: v for k, v in env.items() if k != "PIP_FIND_LINKS"} | {
        "PIP_CONFIG_FILE": os.devnull
    }
    envgen = [python, "-m", "envgen", "create", "--target", "cpu", "--output-dir", str(work)]
    # First run: writes the lock and files, warms uv's cache.
    subprocess.run([*envgen, "--prefix", str(work / "warm")], check=True, env=env)
    lock = work / "locks" / "requirements.cpu-linux-64.txt"
    samples: dict[str, list[float]] = {
        "envgen create": [],
        "envgen create --no-verify": [],
        "uv venv + uv pip install": [],
        "uv venv + uv pip install + check": [],
    }
    if not args.skip_pip:
        samples["venv + pip install"] = []
    for i in range(args.runs):
        samples["envgen create"].append(
            timed([*envgen, "--prefix", str(work / f"e{i}")], work, env)
        )
        samples["envgen create --no-verify"].append(
            timed([*envgen, "--no-verify", "--prefix", str(work / f"n{i}")], work, env)
        )
        prefix = work / f"u{i}"
        t = timed([uv, "venv", "-q", "--python", python, str(prefix)], work, env)
        t += timed(
            [
                uv,
                "pip",
                "install",
                "-q",
                "--python",
                str(prefix / "bin/python"),
                "--compile-bytecode",
                "--require-hashes",
                "-r",
                str(lock),
            ],
            work,
            env,
        )
        samples["uv venv + uv pip install"].append(t)
        samples["uv venv + uv pip install + check"].append(
            t + timed([str(prefix / "bin/python"), "-c", CHECK], work, env)
        )
        if not args.skip_pip:
            prefix = work / f"p{i}"
            t = timed([python, "-m", "venv", str(prefix)], work, env)
            t += timed(
                [str(prefix / "bin/pip"), "install", "-q", "--require-hashes", "-r", str(lock)],
                work,
                pip_env,
            )
            samples["venv + pip install"].append(t)
    med = {k: statistics.median(v) for k, v in samples.items()}
    print(f"{'command':<36} {'median s':>9} {'runs':>30}")
    for name, values in samples.items():
        print(f"{name:<36} {med[name]:>9.1f} {' '.join(f'{v:.1f}' for v in values):>30}")
    print()
    ratio_uv = med["envgen create"] / med["uv venv + uv pip install + check"]
    ratio_uv_bare = med["envgen create --no-verify"] / med["uv venv + uv pip install"]
    print(f"envgen create / (uv + check)             = {ratio_uv:.2f}  (target <= 1.3)")
    print(f"envgen create --no-verify / uv           = {ratio_uv_bare:.2f}  (target <= 1.3)")
    ok = ratio_uv <= 1.3 and ratio_uv_bare <= 1.3
    if not args.skip_pip:
        speedup = med["venv + pip install"] / med["envgen create"]
        print(f"(venv + pip) / envgen create             = {speedup:.1f}x  (target >= 5)")
        ok = ok and speedup >= 5
    shutil.rmtree(work, ignore_errors=True)
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
