"""`envgen bundle` for a TensorFlow CPU lock: its size against its wheels', and an offline install
against `envgen create` from a warm cache.

    python benchmarks/bench_bundle.py [--runs N]   # as root: offline runs use `unshare --net`

From the committed lock set's cpu/linux-64 lock (tensorflow-cpu 2.21, Python 3.11, 32 wheels):

* size: the archive against the sum of the lock's wheel sizes (what a bundle costs over its
  payload: tar headers, the lock set, the manifest, the installers);
* time, side by side, interleaved, each run into a fresh directory, `--no-verify` for all three
  (the import-and-compute check is the same work in each and is timed by bench_create.py):
  - `envgen create --from-bundle FILE` inside `unshare --net` (no network at all),
  - `sh envgen-bundle/install.sh PREFIX` inside `unshare --net` (venv + pip, nothing else),
  - `envgen create --frozen` from the same lock with uv's cache warm (the online path a second
    machine on a fast network takes).
Ratios are printed against the warm create; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def spread(values: list[float]) -> str:
    mean = statistics.mean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    runs = ", ".join(f"{v:.1f}" for v in values)
    return f"{mean:7.1f} s  (n={len(values)}, sd {sd:.1f}; runs {runs})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache-dir", default=str(Path.home() / ".cache/envgen-tests/bundle"))
    args = parser.parse_args()
    geteuid = getattr(os, "geteuid", None)  # POSIX only; network namespaces are Linux's
    if geteuid is None or geteuid() != 0 or shutil.which("unshare") is None:
        print("needs root and unshare(1): the offline runs use a network namespace")
        return 2
    python = sys.executable
    work = Path(tempfile.mkdtemp(prefix="envgen-bench-bundle-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    pip_env = {k: v for k, v in env.items() if not k.startswith("PIP_")}
    shutil.copytree(ROOT / "locks", work / "locks")
    archive = work / "bundle.tar"
    envgen = [python, "-m", "envgen"]
    made = subprocess.run(
        [*envgen, "bundle", "--json", "--variants", "cpu", "--platform", "linux-64",
         "--cache-dir", args.cache_dir, "--output", str(archive)],
        cwd=work, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    bundle = json.loads(made.stdout)["bundle"]
    with tarfile.open(archive) as tar:
        tar.extractall(work / "x", filter="data")
    install_sh = work / "x/envgen-bundle/install.sh"
    offline = ["unshare", "--net"]
    create = [*envgen, "create", "--target", "cpu", "--no-verify"]
    # Warm uv's cache for the online create (the lock set is the committed one).
    shutil.copytree(ROOT / "locks", work / "warm" / "locks")
    subprocess.run(
        [*create, "--frozen", "--output-dir", str(work / "warm")],
        cwd=work, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    samples: dict[str, list[float]] = {
        "create --from-bundle (offline)": [],
        "install.sh (offline, venv + pip)": [],
        "create --frozen (warm uv cache, online)": [],
    }
    for i in range(args.runs):
        project = work / f"b{i}"
        project.mkdir()
        samples["create --from-bundle (offline)"].append(
            timed([*offline, *create, "--from-bundle", str(archive)], project, env)
        )
        samples["install.sh (offline, venv + pip)"].append(
            timed([*offline, "sh", str(install_sh), str(work / f"s{i}")], work, pip_env)
        )
        online = work / f"w{i}"
        shutil.copytree(ROOT / "locks", online / "locks")
        samples["create --frozen (warm uv cache, online)"].append(
            timed([*create, "--frozen", "--output-dir", str(online)], online, env)
        )
    print(f"bundle  {archive.stat().st_size / 1e6:.1f} MB ({bundle['package-files']} files)")
    print(f"wheels  {bundle['package-bytes'] / 1e6:.1f} MB (the lock's, added up)")
    print(f"ratio   {archive.stat().st_size / bundle['package-bytes']:.4f}x")
    print()
    base = statistics.mean(samples["create --frozen (warm uv cache, online)"])
    for name, values in samples.items():
        print(f"{name:<42} {spread(values)}  {statistics.mean(values) / base:.2f}x")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
