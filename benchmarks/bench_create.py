"""`envgen create --target cpu` against the raw tools doing the same install, warm and cold.

    python benchmarks/bench_create.py [--runs N] [--cold-runs N] [--skip-pip]

A first `envgen create` writes the lock set (TF 2.21, CPU, Linux); every later run installs that
same lock into a new directory. Side by side, interleaved, in one sitting:

warm (uv's cache filled by the first run):
* envgen create                      plan, lock (reused), render, build, verify
* envgen create --no-verify
* uv venv + uv pip install --compile-bytecode -r PYLOCK, then `envgen verify --full` on it (the
  same proof create runs, like with like), and then only an import-and-compute one-liner
* python -m venv + pip install --require-hashes -r REQUIREMENTS (pip compiles bytecode itself)
* envgen create again on an existing environment with nothing changed (the re-run)

cold (a new, empty uv cache for every command), against the physical limit:
* the lock's files downloaded side by side (16 at a time) straight from their URLs: the
  bandwidth of this machine to PyPI's file host, measured in the same round;
* their unpacking: uv installing those downloaded files offline, without bytecode;
* limit = total bytes / that bandwidth + unpack; envgen create and the raw uv install are
  reported as multiples of it.

Bytecode is compiled in every case: this machine sets PYTHONDONTWRITEBYTECODE, and TensorFlow
imports take 15 s instead of 5 s without .pyc files (lab report §1). pip runs with no config
file and no find-links, so it talks to PyPI like uv does. Targets (issues 6 and 17): warm create
at most 1.3x raw uv with the same check; venv + pip at least 5x slower; a re-run under 1 s.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK = "import tensorflow as tf; print(float(tf.reduce_sum(tf.random.normal([1000, 1000]))))"
STEM = "cpu-linux-64"


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def lock_files(pylock: Path) -> list[tuple[str, int]]:
    """(url, size) of the file uv installs for each package: the lock names one wheel each."""
    doc = tomllib.loads(pylock.read_text())
    out = []
    for package in doc["packages"]:
        wheel = (package.get("wheels") or [package.get("sdist")])[0]
        out.append((wheel["url"], int(wheel["size"])))
    return out


def download_all(files: list[tuple[str, int]], into: Path) -> float:
    """Fetch every file side by side; seconds for all of them."""
    into.mkdir(parents=True)

    def one(url: str) -> None:
        with urllib.request.urlopen(url, timeout=300) as answer:
            (into / url.rsplit("/", 1)[-1]).write_bytes(answer.read())

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(one, [url for url, _ in files]))
    return time.perf_counter() - start


def row(name: str, values: list[float]) -> str:
    med = statistics.median(values)
    spread = f"{min(values):.2f}-{max(values):.2f}"
    return f"  {name:<44} {len(values):>3} {med:>9.2f} {spread:>13}"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="warm rounds")
    parser.add_argument("--cold-runs", type=int, default=2, help="cold rounds (0: skip)")
    parser.add_argument("--skip-pip", action="store_true", help="leave out venv + pip (slow here)")
    args = parser.parse_args()
    python = sys.executable
    uv = shutil.which("uv") or str(Path(python).with_name("uv"))
    work = Path(tempfile.mkdtemp(prefix="envgen-bench-create-"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": str(work / "pycache")}
    env["UV_CACHE_DIR"] = str(work / "uv-cache")
    pip_env = {k: v for k, v in env.items() if k != "PIP_FIND_LINKS"} | {
        "PIP_CONFIG_FILE": os.devnull
    }
    try:
        return _measure(args, python=python, uv=uv, work=work, env=env, pip_env=pip_env)
    finally:
        # every environment and cache of the run (several GB) goes, whatever happened
        shutil.rmtree(work, ignore_errors=True)


def _measure(
    args: argparse.Namespace,
    *,
    python: str,
    uv: str,
    work: Path,
    env: dict[str, str],
    pip_env: dict[str, str],
) -> int:
    envgen = [python, "-m", "envgen", "create", "--target", "cpu", "--output-dir", str(work)]
    # First run: writes the lock and files, warms uv's cache.
    subprocess.run([*envgen, "--prefix", str(work / "warm")], check=True, env=env)
    lock = work / "locks" / f"requirements.{STEM}.txt"
    pylock = work / "locks" / f"pylock.{STEM}.toml"
    files = lock_files(pylock)
    total = sum(size for _, size in files)

    def raw_uv(prefix: Path, run_env: dict[str, str], *, bytecode: bool = True) -> float:
        t = timed([uv, "venv", "-q", "--python", python, str(prefix)], work, run_env)
        install = [uv, "pip", "install", "-q", "--python", str(prefix / "bin/python")]
        install += ["--compile-bytecode"] if bytecode else []
        install += ["--preview-features", "pylock", "-r", str(pylock)]
        return t + timed(install, work, run_env)

    warm: dict[str, list[float]] = {
        "envgen create": [],
        "envgen create --no-verify": [],
        "uv venv + uv pip install": [],
        "uv venv + uv pip install + check": [],
        "uv venv + uv pip install + envgen verify": [],
        "envgen create, nothing changed (re-run)": [],
    }
    if not args.skip_pip:
        warm["venv + pip install"] = []
    for i in range(args.runs):
        warm["envgen create"].append(timed([*envgen, "--prefix", str(work / f"e{i}")], work, env))
        warm["envgen create --no-verify"].append(
            timed([*envgen, "--no-verify", "--prefix", str(work / f"n{i}")], work, env)
        )
        t = raw_uv(work / f"u{i}", env)
        warm["uv venv + uv pip install"].append(t)
        warm["uv venv + uv pip install + check"].append(
            t + timed([str(work / f"u{i}/bin/python"), "-c", CHECK], work, env)
        )
        # the same proof create runs (import, compute, Keras fit, installed files), on uv's env
        verify = [python, "-m", "envgen", "verify", "--prefix", str(work / f"u{i}"), "--full"]
        verify += ["--target", "cpu", "--lock", str(lock), "--report", str(work / f"u{i}.json")]
        warm["uv venv + uv pip install + envgen verify"].append(t + timed(verify, work, env))
        warm["envgen create, nothing changed (re-run)"].append(
            timed([*envgen, "--prefix", str(work / "e0")], work, env)
        )
        if not args.skip_pip:
            prefix = work / f"p{i}"
            t = timed([python, "-m", "venv", str(prefix)], work, env)
            t += timed(
                [str(prefix / "bin/pip"), "install", "-q", "--require-hashes", "-r", str(lock)],
                work,
                pip_env,
            )
            warm["venv + pip install"].append(t)

    cold: dict[str, list[float]] = {
        "download the lock's files (16 at a time)": [],
        "unpack them (uv, offline, no bytecode)": [],
        "limit = bytes / bandwidth + unpack": [],
        "envgen create": [],
        "envgen create --no-verify": [],
        "uv venv + uv pip install": [],
    }
    for i in range(args.cold_runs):
        fresh = iter(work / f"cold{i}-cache{n}" for n in range(10))
        download = download_all(files, work / f"cold{i}-files")
        unpack_env = env | {"UV_CACHE_DIR": str(next(fresh))}
        unpack = timed([uv, "venv", "-q", "--python", python, str(work / f"k{i}")], work, env)
        unpack += timed(
            [
                uv, "pip", "install", "-q", "--offline", "--no-index", "--find-links",
                str(work / f"cold{i}-files"), "--python", str(work / f"k{i}/bin/python"),
                "--require-hashes", "-r", str(lock),
            ],
            work,
            unpack_env,
        )  # fmt: skip
        cold["download the lock's files (16 at a time)"].append(download)
        cold["unpack them (uv, offline, no bytecode)"].append(unpack)
        cold["limit = bytes / bandwidth + unpack"].append(download + unpack)
        cold["envgen create"].append(
            timed(
                [*envgen, "--prefix", str(work / f"ce{i}")],
                work,
                env | {"UV_CACHE_DIR": str(next(fresh))},
            )
        )
        cold["envgen create --no-verify"].append(
            timed(
                [*envgen, "--no-verify", "--prefix", str(work / f"cn{i}")],
                work,
                env | {"UV_CACHE_DIR": str(next(fresh))},
            )
        )
        cold["uv venv + uv pip install"].append(
            raw_uv(work / f"cu{i}", env | {"UV_CACHE_DIR": str(next(fresh))})
        )

    head = f"  {'command':<44} {'n':>3} {'median s':>9} {'min-max s':>13}"
    print("\nwarm uv cache (interleaved rounds)\n" + head)
    for name, values in warm.items():
        print(row(name, values))
    med = {k: statistics.median(v) for k, v in warm.items()}
    ratio_uv = med["envgen create"] / med["uv venv + uv pip install + envgen verify"]
    ratio_check = med["envgen create"] / med["uv venv + uv pip install + check"]
    ratio_bare = med["envgen create --no-verify"] / med["uv venv + uv pip install"]
    rerun = med["envgen create, nothing changed (re-run)"]
    print(f"  envgen create / (uv + the same verify) = {ratio_uv:.2f}x  (target <= 1.3)")
    print(f"  envgen create / (uv + import check)   = {ratio_check:.2f}x  (verify proves more)")
    print(f"  envgen create --no-verify / uv        = {ratio_bare:.2f}x  (target <= 1.3)")
    print(f"  re-run with nothing changed           = {rerun:.2f} s  (target < 1 s)")
    ok = ratio_uv <= 1.3 and ratio_bare <= 1.3 and rerun < 1.0
    if not args.skip_pip:
        speedup = med["venv + pip install"] / med["envgen create"]
        print(f"  (venv + pip) / envgen create          = {speedup:.1f}x  (target >= 5)")
        ok = ok and speedup >= 5
    if args.cold_runs:
        print(f"\ncold: a new uv cache per command; the lock's {len(files)} files, "
              f"{total / 2**20:.1f} MiB (interleaved rounds)\n" + head)  # fmt: skip
        for name, values in cold.items():
            print(row(name, values))
        cmed = {k: statistics.median(v) for k, v in cold.items()}
        limit = cmed["limit = bytes / bandwidth + unpack"]
        bandwidth = total / cmed["download the lock's files (16 at a time)"] / 2**20
        print(f"  measured bandwidth {bandwidth:.0f} MiB/s; limit {limit:.2f} s")
        for name in ("envgen create", "envgen create --no-verify", "uv venv + uv pip install"):
            print(f"  {name + ' / limit':<38}= {cmed[name] / limit:.2f}x")
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
