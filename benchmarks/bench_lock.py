"""`envgen lock` against raw `uv pip compile` (and pip-tools' `pip-compile`) on the same input.

    python benchmarks/bench_lock.py [--runs N] [--cold-runs N] [--tensorflow 2.21]
                                    [--python-version 3.11] [--variant cpu|gpu]
                                    [--platforms linux-64,win-64,osx-arm64] [--uv PATH]
                                    [--pip-compile PATH | --skip-pip-tools]

The input is the plan envgen decides for each platform (TF 2.21 on Python 3.11, CPU, by
default); raw uv gets exactly that plan's requirements and the flags envgen passes, and writes
the one format a user of uv alone would ask for (hashed requirements). Every envgen run writes
into a new folder, so no earlier lock is reused: each run resolves.

* warm: one shared uv cache, filled by an untimed round (a user's second lock). N runs,
  interleaved.
* cold: a new, empty uv cache for every run of every command (a first lock on a new machine).
* one platform: envgen lock --platform linux-64 against one raw uv run.
* all platforms: envgen lock --platform A,B,C against the slowest single-platform raw uv run
  of the same round, and against raw uv on the platforms run side by side.

Targets (issue 17): one platform <= 1.15x raw uv, warm and cold; all platforms <= 1.3x the
slowest single-platform raw uv run. pip-compile runs once (minutes: it downloads and hashes
every wheel), with pip's configuration off so it sees PyPI only; target envgen >= 10x faster.
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
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "tests" / "data" / "profiles" / "issue-example-h100.toml"
ONE_PLATFORM_TARGET = 1.15
ALL_PLATFORMS_TARGET = 1.3


def inputs_for(
    tensorflow: str, python: str, variant: str, platforms: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """{platform: (requirements as envgen hands them to uv, uv's --python-platform)}."""
    sys.path.insert(0, str(ROOT))
    from envgen.kb import load_kb
    from envgen.kb.lock_platforms import load_lock_platforms
    from envgen.lock.pip import requirements_in
    from envgen.plan import Request
    from envgen.profile import load_profile
    from envgen.resolve.platforms import plans_for

    table = load_lock_platforms()
    out = {}
    for name in platforms:
        plat = table.get(name)
        request = Request(tensorflow=tensorflow, python=python)
        (plan,) = plans_for(load_profile(str(PROFILE)), load_kb(), request, [plat], [variant])
        out[name] = (requirements_in(plan), plat.uv_target)
    return out


def run_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - start


def run_parallel(commands: Sequence[list[str]], env: dict[str, str]) -> float:
    start = time.perf_counter()
    procs = [
        subprocess.Popen(a, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        for a in commands
    ]
    if any(p.wait() != 0 for p in procs):
        raise SystemExit(f"a raw uv run failed: {commands}")
    return time.perf_counter() - start


def table(samples: dict[str, list[float]], title: str) -> None:
    print(f"\n{title}")
    print(f"  {'command':<44} {'n':>3} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, values in samples.items():
        med = statistics.median(values)
        print(f"  {name:<44} {len(values):>3} {med:>9.3f} {min(values):>7.3f} {max(values):>7.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="warm rounds")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold rounds (0: skip)")
    parser.add_argument("--tensorflow", default="2.21")
    parser.add_argument("--python-version", default="3.11")
    parser.add_argument("--variant", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--platforms", default="linux-64,win-64,osx-arm64")
    parser.add_argument(
        "--uv", default=shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    )
    parser.add_argument("--pip-compile", default=shutil.which("pip-compile"))
    parser.add_argument("--skip-pip-tools", action="store_true")
    args = parser.parse_args()
    platforms = args.platforms.split(",")

    work = Path(tempfile.mkdtemp(prefix="bench-lock-"))
    inputs = inputs_for(args.tensorflow, args.python_version, args.variant, platforms)
    raw: dict[str, list[str]] = {}
    for name, (text, target) in inputs.items():
        req_in = work / f"requirements.{name}.in"
        req_in.write_text(text)
        raw[name] = [
            args.uv, "pip", "compile", str(req_in), "--quiet", "--no-config", "--no-header",
            "--default-index", "https://pypi.org/simple", "--python-version", args.python_version,
            "--python-platform", target, "--generate-hashes", "-o", str(work / f"uv.{name}.txt"),
        ]  # fmt: skip
    first = platforms[0]
    print(f"input for {first}:\n  " + inputs[first][0].strip().replace("\n", "\n  "))

    counter = iter(range(10**6))

    def envgen(plats: Sequence[str]) -> list[str]:
        return [
            sys.executable, "-m", "envgen", "lock", "--profile", str(PROFILE),
            "--tensorflow", args.tensorflow, "--python", args.python_version,
            "--platform", ",".join(plats), "--variants", args.variant, "--uv", args.uv,
            "--output-dir", str(work / f"locks{next(counter)}"),
        ]  # fmt: skip

    # envgen runs with its bytecode cached, as an installed envgen does (pip compiles it); this
    # machine's PYTHONDONTWRITEBYTECODE would otherwise recompile every module on every run.
    base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    base_env |= {"PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": str(work / "pycache")}
    one, every = f"one platform ({first})", f"all platforms ({','.join(platforms)})"
    ok = True

    def round_of(fresh: Callable[[], dict[str, str]], samples: dict[str, list[float]]) -> None:
        """One interleaved round; `fresh` gives the environment of each next command."""
        samples[f"envgen lock, {one}"].append(run_once(envgen([first]), fresh()))
        samples[f"raw uv, {one}"].append(run_once(raw[first], fresh()))
        samples[f"envgen lock, {every}"].append(run_once(envgen(platforms), fresh()))
        singles = [run_once(raw[p], fresh()) for p in platforms]
        samples["raw uv, slowest single platform"].append(max(singles))
        samples["raw uv, all platforms side by side"].append(
            run_parallel([raw[p] for p in platforms], fresh())
        )

    def ratios(samples: dict[str, list[float]], label: str) -> bool:
        med = {k: statistics.median(v) for k, v in samples.items()}
        r1 = med[f"envgen lock, {one}"] / med[f"raw uv, {one}"]
        r2 = med[f"envgen lock, {every}"] / med["raw uv, slowest single platform"]
        r3 = med[f"envgen lock, {every}"] / med["raw uv, all platforms side by side"]
        print(f"  {label}: envgen / raw uv, one platform              = {r1:.2f}x "
              f"(target <= {ONE_PLATFORM_TARGET})")  # fmt: skip
        print(f"  {label}: envgen all platforms / slowest single uv    = {r2:.2f}x "
              f"(target <= {ALL_PLATFORMS_TARGET})")  # fmt: skip
        print(f"  {label}: envgen all platforms / uv side by side      = {r3:.2f}x")
        return r1 <= ONE_PLATFORM_TARGET and r2 <= ALL_PLATFORMS_TARGET

    # warm: one cache for all, filled by an untimed round
    warm_cache = work / "uv-cache-warm"
    warm_env = {**base_env, "UV_CACHE_DIR": str(warm_cache)}
    run_once(envgen(platforms), warm_env)
    for p in platforms:
        run_once(raw[p], warm_env)
    warm: dict[str, list[float]] = {}
    for key in (f"envgen lock, {one}", f"raw uv, {one}", f"envgen lock, {every}",
                "raw uv, slowest single platform", "raw uv, all platforms side by side"):  # fmt: skip
        warm[key] = []
    for _ in range(args.runs):
        round_of(lambda: warm_env, warm)
    table(warm, "warm uv cache (interleaved rounds)")
    ok = ratios(warm, "warm") and ok

    if args.cold_runs:
        cold: dict[str, list[float]] = {key: [] for key in warm}

        def cold_env() -> dict[str, str]:
            return {**base_env, "UV_CACHE_DIR": str(work / f"uv-cache-{next(counter)}")}

        for _ in range(args.cold_runs):
            round_of(cold_env, cold)
        table(cold, "cold: a new uv cache for every command (interleaved rounds)")
        ok = ratios(cold, "cold") and ok

    if args.pip_compile and not args.skip_pip_tools:
        clean = {k: v for k, v in os.environ.items() if k != "PIP_FIND_LINKS"}
        clean["PIP_CONFIG_FILE"] = os.devnull  # PyPI only, as envgen's locks (lab report §0)
        argv = [
            args.pip_compile, "--generate-hashes", "--allow-unsafe", "--quiet",
            "-o", str(work / "pt-requirements.txt"), str(work / f"requirements.{first}.in"),
        ]  # fmt: skip
        pt = run_once(argv, clean)
        envgen_med = statistics.median(warm[f"envgen lock, {one}"])
        print(f"\npip-compile --generate-hashes: {pt:.1f} s (n=1); envgen is "
              f"{pt / envgen_med:.0f}x faster (target >= 10x)")  # fmt: skip
    elif not args.skip_pip_tools:
        print("pip-compile not found (pip install pip-tools, or --pip-compile PATH); skipped")
    shutil.rmtree(work, ignore_errors=True)
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
