"""A re-run of `envgen verify` with nothing changed (quick) against the full verification.

    python benchmarks/bench_verify.py --prefix ENV [--runs N] [--keras-backend NAME]

Interleaved in one sitting, each `envgen verify` a process of its own as a user runs it: one
`--full` run first (it writes the record a quick run rests on), then N times a quick run and a
full run. The quick run starts no interpreter of the environment: it checks the record of the
last full verification and every installed file against its RECORD state. Target (issue 17):
the quick run under 1 s. Prints the median, min and max of each, and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str]) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "envgen", "verify", "--json", "--report", "-", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"envgen verify failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return seconds, json.loads(done.stdout)["report"]["mode"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prefix", required=True, type=Path)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--keras-backend")
    args = parser.parse_args()
    base = ["--prefix", str(args.prefix)]
    if args.keras_backend:
        base += ["--keras-backend", args.keras_backend]
    run([*base, "--full"])
    quick: list[float] = []
    full: list[float] = []
    for _ in range(args.runs):
        seconds, mode = run(base)
        if mode != "quick":
            raise SystemExit(f"expected a quick re-run, got {mode}")
        quick.append(seconds)
        full.append(run([*base, "--full"])[0])
    for name, times in (("quick re-run", quick), ("full verify", full)):
        print(
            f"{name:<13} n={len(times)} median {statistics.median(times):.3f} s "
            f"(min {min(times):.3f}, max {max(times):.3f})"
        )
    print(f"full / quick: {statistics.median(full) / statistics.median(quick):.1f}x")


if __name__ == "__main__":
    main()
