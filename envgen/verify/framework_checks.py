"""One framework's child, as checks: import, build, GPUs, architectures, computations, Keras fit.

Pure functions over a `FrameworkRun` (what `probe_frameworks.py` reported): the compute
capability of each GPU against a PyTorch build's architectures is the rule book's judgement
(`rules.compute_capability`, the one the resolver makes before it plans), and the words of the
backend checks are data (`wording.toml`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from packaging.version import InvalidVersion

from envgen import rules
from envgen.kb import load_kb
from envgen.kb.distributions import load_distributions
from envgen.verify.expect import Expectation
from envgen.verify.observation import FrameworkRun, Step
from envgen.verify.report import Check
from envgen.versions import is_dotted

if TYPE_CHECKING:
    from envgen.kb import KnowledgeBase
    from envgen.kb.wording import Wording

FRAMEWORK_NAMES = {"tensorflow": "TensorFlow", "torch": "PyTorch", "jax": "JAX"}
# Where a Keras variable may live when it is on a GPU: torch's and JAX's device names for CUDA
# ("cuda:0"), and the generic ones ("gpu:0"; ROCm builds report "rocm:0").
GPU_DEVICE_PREFIXES = ("cuda", "gpu", "rocm")


def wording(kb: KnowledgeBase | None) -> Wording:
    """The knowledge base's wording, also where a caller gave no knowledge base."""
    if kb is not None:
        return kb.wording
    from envgen.kb.wording import load_wording

    return load_wording()


def dist_version(packages: Mapping[str, str], framework: str) -> tuple[str, str] | None:
    names = load_distributions().names if framework == "tensorflow" else (framework,)
    # jax's GPU support lives in jaxlib plugins; the `jax` distribution carries the version.
    for name in names:
        if name in packages:
            return name, packages[name]
    return None


def sigill_detail(
    framework: str,
    packages: Mapping[str, str],
    cpu_flags: Sequence[str] | None,
    kb: KnowledgeBase | None,
) -> str:
    """Why a framework's import died of SIGILL: the CPU features its build needs (rule book)."""
    label = FRAMEWORK_NAMES[framework]
    words = wording(kb)
    dist = dist_version(packages, framework)
    release = None
    if framework == "tensorflow" and dist is not None and kb is not None:
        try:
            release = kb.tensorflow.release(dist[1])
        except InvalidVersion:
            release = None
    if kb is None or release is None:
        return words.render("sigill", framework=label, what=words.render("sigill-unknown"))
    needs = release.cpu_features or ()
    fields = {"package": dist[0] if dist else framework, "tensorflow": str(release.version)}
    verdict = rules.cpu_features(kb, needs, cpu_flags or ())
    if verdict.code == "cpu-missing":
        flags = {"missing": verdict.get("missing_flags"), "needed": verdict.get("needed_flags")}
        what = words.render("sigill-missing", **flags, **fields)
    else:
        what = words.render("sigill-needed", needed=", ".join(needs), **fields)
    return words.render("sigill", framework=label, what=what)


def summary(step: str, value: Any) -> str:
    """A short human form of one probe step's value."""
    if step == "gpus":
        return ", ".join(value) if value else "none"
    if step == "reduce_sum":
        return f"sum of a 1000x1000 normal sample = {value:.3f}"
    if step.startswith("matmul_gpu"):
        worst = value.get("max_abs_err")
        absolute = f", max abs error {worst:.3g}" if worst is not None else ""
        return (
            f"{value.get('device')}: matmul matches the CPU "
            f"(relative error {value.get('rel_err', 0):.2g} <= {value.get('rtol')}{absolute})"
        )
    if step == "fit":
        losses = value.get("losses") or []
        where = f" on {value['device']}" if value.get("device") else ""
        return f"{len(losses)} steps{where}, loss {losses[0]:.4f} -> {losses[-1]:.4f}"
    if step == "cuda_libraries":
        if not value:
            return "none loaded"
        return "; ".join(f"{lib.get('name')} from {lib.get('path')}" for lib in value)
    if step == "build_info":
        keys = ("cuda_version", "cudnn_version", "is_cuda_build", "default_backend", "jaxlib")
        return ", ".join(f"{k} {value[k]}" for k in keys if k in value)
    return json.dumps(value)[:200]


def check_build(
    framework: str,
    info: Mapping[str, Any],
    expect: Expectation | None,
    driver_cuda: str | None,
    *,
    required: bool = True,
) -> Check:
    """The CUDA/cuDNN a framework was built for, against the plan and the driver."""
    cuda = info.get("cuda_version")
    cudnn = info.get("cudnn_version")
    problems = []
    if expect is not None and expect.framework == framework and expect.target == "gpu":
        # TensorFlow and PyTorch say whether the build is a CUDA one; JAX's CUDA is a plugin,
        # judged by its own GPU check.
        if "is_cuda_build" in info and not cuda:
            problems.append(f"a CPU-only build, but the plan chose CUDA {expect.cuda}")
        for what, want, have in (("CUDA", expect.cuda, cuda), ("cuDNN", expect.cudnn, cudnn)):
            # The plan names a release line ("12.5", "9"); the build reports more digits.
            if want and have and not (str(have) + ".").startswith(want + "."):
                problems.append(f"built for {what} {have}, the plan chose {want}")
    if cuda and driver_cuda and not rules.runtime_on_driver(str(cuda), driver_cuda).ok:
        problems.append(f"built for CUDA {cuda}, but the driver supports only {driver_cuda}")
    detail = summary("build_info", info) or "no build information"
    if problems:
        return Check(f"{framework}:build", False, f"{detail}: {'; '.join(problems)}", required)
    return Check(f"{framework}:build", True, detail, required)


def check_gpus(framework: str, outcome: Step, target: str, required: bool) -> Check:
    """The framework's own GPU check: on a GPU target it must see one; elsewhere information."""
    name = f"{framework}:gpus"
    need_gpu = target == "gpu"
    if not outcome.ok:
        # JAX raises where no GPU platform initialised; on a CPU target that is the answer.
        detail = f"none ({outcome.error})" if not need_gpu else str(outcome.error)
        return Check(name, not need_gpu, detail, required and need_gpu, outcome.seconds)
    value = outcome.value
    detail = summary("gpus", value)
    if not value and need_gpu:
        detail = f"{FRAMEWORK_NAMES[framework]} sees no GPU"
    return Check(name, bool(value) or not need_gpu, detail, required and need_gpu, outcome.seconds)


def check_arch(
    framework: str,
    value: Mapping[str, Any],
    kb: KnowledgeBase,
    required: bool,
    seconds: float | None,
) -> Check:
    """Each GPU's compute capability against the architectures the build carries (`sm_XY`
    SASS, `compute_XY` PTX, as `torch.cuda.get_arch_list()` names them)."""
    names = [str(n) for n in value.get("arch_list") or []]
    arch = rules.Architectures.from_arch_list(names)
    listed = " ".join(names) or "none"
    label = FRAMEWORK_NAMES[framework]
    details, ok = [], True
    for device in value.get("devices") or []:
        gpu, cc = str(device.get("name")), str(device.get("cc"))
        code = "cc-no-kernel"
        if arch is not None and is_dotted(cc, parts=2):
            code = rules.compute_capability(kb, arch, cc).code
        if code in ("cc-sass", "cc-ptx"):
            text = "arch-sass" if code == "cc-sass" else "arch-ptx"
        else:
            ok, text = False, "arch-missing"
        details.append(kb.wording.render(text, gpu=gpu, cc=cc, framework=label, arch=listed))
    return Check(f"{framework}:arch", ok, "; ".join(details) or listed, required, seconds)


def check_keras_fit(
    framework: str,
    value: Mapping[str, Any],
    *,
    target: str,
    gpus: bool,
    words: Wording,
    required: bool,
    seconds: float | None,
) -> Check:
    """A Keras fit: finite losses (the probe made sure), on a GPU where the target has one."""
    losses = value.get("losses") or []
    fields = {
        "keras": str(value.get("keras") or "?"),
        "backend": str(value.get("backend") or framework),
        "epochs": str(len(losses)),
        "device": str(value.get("device") or "its default device"),
        "first": f"{losses[0]:.4f}" if losses else "?",
        "last": f"{losses[-1]:.4f}" if losses else "?",
    }
    device = value.get("device")
    # Only JAX and PyTorch report where the weights live; a GPU target with a GPU the framework
    # sees must train there (Keras places variables on the GPU by default on both).
    if target == "gpu" and gpus and device and not str(device).startswith(GPU_DEVICE_PREFIXES):
        detail = words.render("keras-fit-not-gpu", **fields)
        return Check(f"{framework}:keras-fit", False, detail, required, seconds)
    return Check(
        f"{framework}:keras-fit", True, words.render("keras-fit", **fields), required, seconds
    )


def _import_check(
    run: FrameworkRun,
    packages: Mapping[str, str],
    cpu_flags: Sequence[str] | None,
    kb: KnowledgeBase | None,
    required: bool,
) -> Check:
    framework = run.name
    label = FRAMEWORK_NAMES[framework]
    version = run.version or (dist_version(packages, framework) or ("", "?"))[1]
    if run.status == "illegal-instruction":
        detail = sigill_detail(framework, packages, cpu_flags, kb)
        return Check(f"{framework}:import", False, detail, required=required)
    if run.status != "ok":
        error = run.error or f"status {run.status}"
        tb = run.traceback or run.log
        detail = f"{label} {version} failed to import: {error}"
        if tb:
            detail += " | " + " / ".join(line.strip() for line in tb[-3:])
        return Check(f"{framework}:import", False, detail, required=required)
    return Check(
        f"{framework}:import",
        True,
        f"{label} {version} imported in {run.import_seconds or 0:.1f} s",
        required=required,
        seconds=run.import_seconds,
    )


def framework_checks(
    run: FrameworkRun,
    *,
    target: str,
    required: bool,
    expect: Expectation | None,
    driver_cuda: str | None,
    packages: Mapping[str, str],
    cpu_flags: Sequence[str] | None,
    kb: KnowledgeBase | None,
) -> list[Check]:
    """The checks of one framework's child, in the order its steps ran."""
    framework = run.name
    checks = [_import_check(run, packages, cpu_flags, kb, required)]
    if not run.ok:
        return checks
    words = wording(kb)
    gpus = bool(run.value("gpus"))
    for step, outcome in run.steps.items():
        name = f"{framework}:{step.replace('_', '-')}"
        if step == "gpus":
            checks.append(check_gpus(framework, outcome, target, required))
        elif step == "devices":
            continue  # JAX's full device list: shown through "gpus"
        elif not outcome.ok:
            checks.append(Check(name, False, str(outcome.error), required, outcome.seconds))
        elif step == "build_info":
            checks.append(
                check_build(framework, outcome.value, expect, driver_cuda, required=required)
            )
        elif step == "arch":
            book = kb if kb is not None else load_kb()
            checks.append(check_arch(framework, outcome.value, book, required, outcome.seconds))
        elif step == "keras_fit":
            fit = check_keras_fit(
                framework,
                outcome.value,
                target=target,
                gpus=gpus,
                words=words,
                required=required,
                seconds=outcome.seconds,
            )
            checks.append(fit)
        else:
            detail = summary(step, outcome.value)
            checks.append(Check(name, True, detail, required, outcome.seconds))
    if expect is not None and expect.keras_backend == framework and "keras_fit" not in run.steps:
        missing = words.render("keras-fit-missing", framework=FRAMEWORK_NAMES[framework])
        checks.append(Check(f"{framework}:keras-fit", False, missing, required))
    return checks
