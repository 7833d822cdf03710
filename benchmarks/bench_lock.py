"""`envgen lock` against raw `uv pip compile` and pip-tools' `pip-compile`, on the same input.

    python benchmarks/bench_lock.py [--runs N] [--tensorflow 2.15 --python-version 3.10] [--variant gpu]
                                    [--uv PATH] [--pip-compile PATH | --skip-pip-tools]

The input is the plan envgen decides for a CPU Linux x86_64 machine (TF 2.15 on Python 3.10 by
default); raw uv gets exactly that plan's requirements and the same flags envgen passes. envgen
and uv run N times interleaved (warm uv cache for both: a user's second lock); pip-compile runs
once, since it takes minutes (it downloads and hashes every wheel; ~210 s here for TF 2.15, lab
report §2), with pip's configuration switched off so it sees PyPI only.
Targets (issue 5): envgen at most 1.3x raw uv; at least 10x faster than pip-compile.
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

ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "tests" / "data" / "profiles" / "issue-example-h100.toml"


def requirements_for(tensorflow: str, python: str, variant: str = "cpu") -> str:
    """The plan's pip requirements, as envgen would hand them to uv."""
    sys.path.insert(0, str(ROOT))
    from envgen.kb import load_kb
    from envgen.kb.lock_platforms import load_lock_platforms
    from envgen.lock.pip import requirements_in
    from envgen.plan import Request
    from envgen.profile import load_profile
    from envgen.resolve.platforms import plans_for

    plat = load_lock_platforms().get("linux-64")
    request = Request(tensorflow=tensorflow, python=python)
    (plan,) = plans_for(load_profile(str(PROFILE)), load_kb(), request, [plat], [variant])
    return requirements_in(plan)


def time_once(argv: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tensorflow", default="2.15")
    parser.add_argument("--python-version", default="3.10")
    parser.add_argument(
        "--variant",
        choices=("cpu", "gpu"),
        default="cpu",
        help="gpu: the tensorflow[and-cuda] plan (pip-compile downloads and hashes the CUDA wheels)",
    )
    parser.add_argument(
        "--uv", default=shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    )
    parser.add_argument("--pip-compile", default=shutil.which("pip-compile"))
    parser.add_argument("--skip-pip-tools", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-lock-"))
    req_in = work / "requirements.in"
    req_in.write_text(requirements_for(args.tensorflow, args.python_version, args.variant))
    print(f"input ({req_in}):\n  " + req_in.read_text().strip().replace("\n", "\n  "))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    envgen = [
        sys.executable, "-m", "envgen", "lock", "--profile", str(PROFILE),
        "--tensorflow", args.tensorflow, "--python", args.python_version,
        "--platform", "linux-64", "--variants", args.variant, "--uv", args.uv,
        "--output-dir", str(work / "locks"), "--force",
    ]  # fmt: skip
    base = [
        args.uv, "pip", "compile", str(req_in), "--quiet", "--no-config", "--no-header",
        "--default-index", "https://pypi.org/simple", "--python-version", args.python_version,
        "--python-platform", "x86_64-manylinux_2_28",
    ]  # fmt: skip
    uv_reqs = [*base, "--generate-hashes", "-o", str(work / "uv-requirements.txt")]
    uv_pylock = [*base, "--format", "pylock.toml", "-o", str(work / "pylock.uv.toml")]

    # one untimed round fills uv's cache for everyone
    time_once(envgen, env)
    time_once(uv_reqs)
    times: dict[str, list[float]] = {
        "envgen lock": [],
        "uv (hashed requirements)": [],
        "uv (both formats)": [],
    }
    for _ in range(args.runs):
        times["envgen lock"].append(time_once(envgen, env))
        times["uv (hashed requirements)"].append(time_once(uv_reqs))
        start = time.perf_counter()
        time_once(uv_reqs)
        time_once(uv_pylock)
        times["uv (both formats)"].append(time.perf_counter() - start)

    if args.pip_compile and not args.skip_pip_tools:
        clean = {k: v for k, v in os.environ.items() if k != "PIP_FIND_LINKS"}
        clean["PIP_CONFIG_FILE"] = os.devnull  # PyPI only, as envgen's locks (lab report §0)
        argv = [
            args.pip_compile, "--generate-hashes", "--allow-unsafe", "--quiet",
            "-o", str(work / "pt-requirements.txt"), str(req_in),
        ]  # fmt: skip
        times["pip-compile --generate-hashes"] = [time_once(argv, clean)]
    elif not args.skip_pip_tools:
        print("pip-compile not found (pip install pip-tools, or --pip-compile PATH); skipped")

    envgen_median = statistics.median(times["envgen lock"])
    print(f"\n{'command':<32} {'runs':>4} {'median s':>9} {'min s':>7} {'max s':>7} {'ratio':>7}")
    for name, values in times.items():
        med = statistics.median(values)
        print(
            f"{name:<32} {len(values):>4} {med:>9.3f} {min(values):>7.3f} {max(values):>7.3f}"
            f" {envgen_median / med:>6.2f}x"
        )
    print("\nratio = envgen median / command median")
    uv_med = statistics.median(times["uv (hashed requirements)"])
    print(f"envgen vs raw uv: {envgen_median / uv_med:.2f}x (target <= 1.3x)")
    if "pip-compile --generate-hashes" in times:
        pt = times["pip-compile --generate-hashes"][0]
        print(f"pip-compile vs envgen: envgen is {pt / envgen_median:.0f}x faster (target >= 10x)")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
