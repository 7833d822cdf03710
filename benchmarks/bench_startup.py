"""Whole-process timings of envgen's fast commands against the peer a user would reach for.

    python benchmarks/bench_startup.py [--runs N] [--python EXE]

Runs each command N times side by side (interleaved, so load on the machine hits all alike) and
prints the median, the spread, and the ratio against the peer. Targets (issues 2, 3 and 12):
`envgen detect --json` median under 0.3 s and at most a quarter of py-cpuinfo's full probe;
`envgen plan --json` median under 0.3 s; `envgen --help` under 50 ms over a bare interpreter
(`python -c pass`), the parser coming from the option table without importing any stage.
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

TARGET_SECONDS = 0.3
HELP_OVER_BARE_S = 0.050


def commands(python: str) -> dict[str, list[str]]:
    return {
        "envgen detect --json": [python, "-m", "envgen", "detect", "--json"],
        "envgen plan --json": [python, "-m", "envgen", "plan", "--json"],
        "envgen --help": [python, "-m", "envgen", "--help"],
        "py-cpuinfo get_cpu_info()": [python, "-c", "import cpuinfo; cpuinfo.get_cpu_info()"],
        "python -c pass": [python, "-c", "pass"],
    }


def time_once(argv: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    cmds = commands(args.python)
    # envgen runs with its bytecode cached, as an installed envgen does (pip compiles it); this
    # machine's PYTHONDONTWRITEBYTECODE would otherwise recompile every module on every run.
    cache = tempfile.mkdtemp(prefix="bench-startup-pyc-")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    for argv in cmds.values():  # warm the page cache and .pyc files
        time_once(argv, env)
    samples: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(args.runs):
        for name, argv in cmds.items():
            samples[name].append(time_once(argv, env))
    shutil.rmtree(cache, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"{'command':<28} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, values in samples.items():
        print(f"{name:<28} {medians[name]:>9.3f} {min(values):>7.3f} {max(values):>7.3f}")
    detect, plan = medians["envgen detect --json"], medians["envgen plan --json"]
    peer = medians["py-cpuinfo get_cpu_info()"]
    print()
    print(f"detect / py-cpuinfo = {detect / peer:.2f}  (target <= 0.25)")
    print(f"detect median {detect:.3f} s, plan median {plan:.3f} s  (target < {TARGET_SECONDS} s)")
    over = medians["envgen --help"] - medians["python -c pass"]
    ratio = medians["envgen --help"] / medians["python -c pass"]
    print(
        f"envgen --help: {over * 1000:.0f} ms over a bare interpreter, {ratio:.1f}x (target < 50 ms)"
    )
    ok = (
        detect < TARGET_SECONDS
        and plan < TARGET_SECONDS
        and detect / peer <= 0.25
        and over < HELP_OVER_BARE_S
    )
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
