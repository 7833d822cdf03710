"""Ways out of a no-solution: the resolver re-run with one constraint relaxed.

`RELAXATIONS` is a table: each row names the reason codes that make it worth trying (empty: always)
and a function that relaxes one constraint (another Python, a newer driver, WSL2, a newer macOS,
the CPU, another channel, ...) and re-plans. When the relaxed request has a plan, the row yields a
remedy from `remedies.toml`, filled with that plan's numbers: every number a remedy quotes comes
from the plan it names. The remedies are offered cheapest first (each remedy's `effort`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from packaging.version import Version

from envgen import rules
from envgen.kb.families import COMMUNITY, CONDA_FORGE, PYPI
from envgen.plan import DEFAULT_BACKEND, Plan, Request
from envgen.profile import HardwareProfile, NvidiaDriver, complete
from envgen.resolve.candidate import Context, Judged
from envgen.versions import parse_dotted

Replan = Callable[..., Plan | None]
"""`replan(profile=..., **request_changes)`: the plan with those changes, or None."""

Found = Iterator[tuple[str, dict[str, str]] | tuple[str, dict[str, str], Plan]]
"""(remedy code, fields[, the relaxed plan they were read from]) for each way out found."""


@dataclass(frozen=True)
class Remedy:
    """One way out: its code (remedies.toml), the numbers it quotes, its text, and the plan the
    relaxation found (None for advice that names no plan), so a test can hold each number to the
    release the remedy names."""

    code: str
    fields: tuple[tuple[str, str], ...]
    text: str
    plan: Plan | None = None

    def get(self, name: str) -> str:
        return dict(self.fields).get(name, "")


@dataclass(frozen=True)
class Relaxation:
    codes: frozenset[str]
    """Reason codes that make this relaxation worth trying; empty means always."""
    find: Callable[[Context, list[Judged], Replan], Found]


def _shown(ctx: Context, plan: Plan) -> dict[str, str]:
    """How a remedy names the plan it found: `framework` ("TensorFlow 2.21.0", "PyTorch
    2.14.1+cu126 from https://download.pytorch.org/whl/cu126", "TensorFlow 2.19.1 (conda-forge's
    build cpu_py311h*_3)"), and `tensorflow`, its version."""
    title = ctx.kb.keras_backends.get(plan.keras_backend).title
    pin = plan.framework
    where = f" from {plan.indexes[0]}" if plan.indexes else ""
    if pin.family == CONDA_FORGE:
        where = f" (conda-forge's build {pin.build})"
    elif pin.family == COMMUNITY:
        row = ctx.kb.community.find(pin.url or "")
        where = f" (third-party community build {row.label if row else pin.url})"
    return {"framework": f"{title} {pin.version}{where}", "tensorflow": pin.version}


def _command(ctx: Context, plan: Plan, *flags: str) -> str:
    """The command that plans `plan` for this machine: the request's own options and `flags`."""
    import shlex

    words = ["envgen", "create", "--target", str(plan.target)]
    request = ctx.request
    if request.python:
        words += ["--python", request.python]
    if request.tensorflow:
        words += ["--tensorflow", request.tensorflow]
    return shlex.join([*words, *flags])


def _data(outcomes: list[Judged], code: str) -> Iterator[dict[str, str]]:
    for o in outcomes:
        for r in o.reasons:
            if r.code == code:
                yield dict(r.data)


def _other_python(ctx: Context, rejected: list[Judged], replan: Replan) -> Found:
    # Each Python the failing releases have wheels for, newest first; the first that plans.
    pythons = {p for d in _data(rejected, "python") for p in d.get("pythons", "").split(",") if p}
    for py in sorted(pythons, key=parse_dotted, reverse=True):
        plan = replan(python=py)
        if plan is not None:
            yield (
                "other-python",
                {
                    **_shown(ctx, plan),
                    "python": py,
                    "package": plan.framework.name,
                    "platform": plan.platform,
                },
                plan,
            )
            return


def _upgrade_driver(ctx: Context, rejected: list[Judged], replan: Replan) -> Found:
    nvidia = ctx.profile.nvidia
    if nvidia is None:
        return
    # The newest release held back by the driver alone (and perhaps Python): re-plan with the
    # lowest driver any of its builds needs (a JAX release's CUDA 12 plugin before its CUDA 13
    # one). The plan may name another release (on this Python the newest candidate has no
    # wheel), so the remedy quotes the driver and CUDA of the release it names, never the
    # candidate's (issue 14: "TensorFlow 2.13.1 needs CUDA 12.5" was 2.21's CUDA).
    held = [
        (o, dict(only[0].data))
        for o in rejected
        if len(only := [r for r in o.reasons if r.code != "python"]) == 1
        and only[0].code == "driver"
    ]
    if not held:
        return
    newest = [(o, d) for o, d in held if _public(o) == _public(held[0][0])]
    _o, data = min(newest, key=lambda od: parse_dotted(od[1]["needed_driver"]))
    needed = data["needed_driver"]
    newer = dataclasses.replace(nvidia, driver=needed, cuda=None)
    plan = replan(profile=dataclasses.replace(ctx.profile, nvidia=newer))
    if plan is None:
        return
    driver = _driver_for(ctx, plan, replan) or needed
    fields = {**_shown(ctx, plan), "driver": driver, "cuda": plan.cuda or data["cuda"]}
    yield "upgrade-driver", fields, plan


def _public(outcome: Judged) -> str:
    return Version(outcome.version_text).public


def _driver_for(ctx: Context, plan: Plan, replan: Replan) -> str | None:
    """The lowest driver that gives `plan` here: the floor the plan pins (its build's) when
    re-planning with that floor gives the same build (a GPU running the build only through PTX
    needs more)."""
    nvidia = ctx.profile.nvidia
    floor = _driver_pin(plan)
    if nvidia is None or floor is None:
        return None
    at_floor = dataclasses.replace(nvidia, driver=floor, cuda=None)
    again = replan(profile=dataclasses.replace(ctx.profile, nvidia=at_floor))
    same = again is not None and again.framework.version == plan.framework.version
    return floor if same else None


def _use_wsl2(ctx: Context, _rejected: list[Judged], replan: Replan) -> Found:
    wsl_os = dataclasses.replace(ctx.profile.os, name="linux", wsl=True, glibc=None)
    plan = replan(profile=dataclasses.replace(ctx.profile, os=wsl_os))
    if plan is not None:
        yield "use-wsl2", _shown(ctx, plan), plan


def _upgrade_macos(ctx: Context, rejected: list[Judged], replan: Replan) -> Found:
    # The newest release held back only by the OS (and perhaps Python): the macOS it needs.
    for o in rejected:
        only = [r for r in o.reasons if r.code != "python"]
        if only and all(r.code == "macos" for r in only):
            macos = max((dict(r.data)["macos"] for r in only), key=parse_dotted)
            newer_os = dataclasses.replace(ctx.profile.os, release=macos)
            plan = replan(profile=dataclasses.replace(ctx.profile, os=newer_os))
            if plan is not None:
                yield "upgrade-macos", {**_shown(ctx, plan), "macos": macos}, plan
            return


def _target_cpu(ctx: Context, _rejected: list[Judged], replan: Replan) -> Found:
    if ctx.target == "gpu" and (plan := replan(target="cpu")) is not None:
        yield "target-cpu", _shown(ctx, plan), plan


def _other_tensorflow(ctx: Context, _rejected: list[Judged], replan: Replan) -> Found:
    if ctx.request.tensorflow and (plan := replan(tensorflow=None)) is not None:
        yield (
            "other-tensorflow",
            {**_shown(ctx, plan), "requested": ctx.request.tensorflow},
            plan,
        )


def _other_channel(ctx: Context, _rejected: list[Judged], replan: Replan) -> Found:
    for channel in ("pip", "conda", "system"):
        if channel == ctx.request.channel or (plan := replan(channel=channel)) is None:
            continue
        # A build of another family is that family's remedy (`_other_family`), not a channel's.
        if plan.framework.family == PYPI:
            yield "other-channel", {**_shown(ctx, plan), "channel": channel}, plan
            return


def _other_family(ctx: Context, rejected: list[Judged], replan: Replan) -> Found:
    """A build of another family that runs here: conda-forge's own (`--channel conda`), or a
    community build (`--allow-community-builds`); named with its release, build and the command.
    Where neither runs on a CPU without AVX, the advice that is left (`no-avx-wheel`)."""
    found = False
    if ctx.request.keras_backend == DEFAULT_BACKEND and ctx.request.channel != "conda":
        plan = replan(channel="conda")
        if plan is not None and plan.framework.family == CONDA_FORGE:
            found = True
            command = _command(ctx, plan, "--channel", "conda")
            yield "conda-forge-build", {**_shown(ctx, plan), "command": command}, plan
    if ctx.request.keras_backend == DEFAULT_BACKEND and not ctx.request.allow_community_builds:
        changes: dict[str, object] = {"allow_community_builds": True}
        flags = ["--allow-community-builds"]
        if str(ctx.request.channel) not in ("auto", "system"):
            changes["channel"] = "auto"
            flags += ["--channel", "auto"]
        plan = replan(**changes)
        if plan is not None and plan.framework.family == COMMUNITY:
            found = True
            command = _command(ctx, plan, *flags)
            yield "community-build", {**_shown(ctx, plan), "command": command}, plan
    if not found and any(r.code == "cpu" for o in rejected for r in o.reasons):
        yield "no-avx-wheel", {}


def _install_driver(ctx: Context, _rejected: list[Judged], replan: Replan) -> Found:
    # A GPU the profile names but no driver: the driver the newest GPU build needs.
    if ctx.profile.nvidia is not None or not ctx.profile.gpus:
        return
    floor: str | None
    if ctx.request.keras_backend == DEFAULT_BACKEND:
        newest = ctx.kb.tensorflow.releases[-1]
        floor = rules.driver_floor(ctx.kb, newest.build, ctx.profile.os).driver
    else:
        # Planned as if the newest driver NVIDIA's table knows were there: what that plan
        # needs is the driver to install.
        newest_driver = NvidiaDriver(driver=ctx.kb.drivers.newest_driver(), source="remedy")
        probe = replan(
            profile=complete(dataclasses.replace(ctx.profile, nvidia=newest_driver), ctx.kb)
        )
        floor = _driver_pin(probe)
    if floor:
        driver = NvidiaDriver(driver=floor, source="remedy")
        plan = replan(profile=complete(dataclasses.replace(ctx.profile, nvidia=driver), ctx.kb))
        if plan is not None:
            yield "install-driver", {**_shown(ctx, plan), "driver": floor}, plan


def _driver_pin(plan: Plan | None) -> str | None:
    """The driver floor a GPU plan pins (`nvidia-driver>=X`), if any."""
    for pin in plan.packages if plan is not None else ():
        if pin.name == "nvidia-driver":
            return str(pin.version).removeprefix(">=")
    return None


def _native_arm64(ctx: Context, _rejected: list[Judged], replan: Replan) -> Found:
    rosetta = ctx.profile.cpu.apple_silicon and ctx.profile.os.arch == "x86_64"
    if ctx.profile.os.rosetta or rosetta:
        native = dataclasses.replace(ctx.profile.os, arch="arm64", rosetta=False)
        plan = replan(profile=dataclasses.replace(ctx.profile, os=native))
        if plan is not None:
            yield "native-arm64", _shown(ctx, plan), plan


def _other_keras(ctx: Context, _rejected: list[Judged], replan: Replan) -> Found:
    asked = ctx.request.keras
    if not asked or ctx.request.keras_backend != DEFAULT_BACKEND:
        return  # Keras 3 is the one Keras on JAX and PyTorch (plan.validate)
    # A Keras major that does not fit: the other one; a Keras line that does not fit: its major
    # (the pairing of the TensorFlow that does fit), then tf.keras alone.
    order = ("3",) if asked == "2" else ("2",) if asked == "3" else (asked.split(".")[0], "tf")
    for other in order:
        if other == asked:
            continue
        plan = replan(keras=other)
        if plan is not None:
            names = ("keras", "tf-keras", "keras-nightly")
            pin = next((p.requirement() for p in plan.packages if p.name in names), "")
            fields = {
                **_shown(ctx, plan),
                "keras": other,
                "with_pin": f" ({pin})" if pin else "",
            }
            yield "other-keras", fields, plan
            return


def _ngc_container(ctx: Context, rejected: list[Judged], _replan: Replan) -> Found:
    # What does run TensorFlow on a GPU the PyPI wheels cannot use: NVIDIA's own TensorFlow
    # container, built with a newer CUDA and for Linux arm64 as well (remedies.toml cites both).
    # Only for a GPU that works in principle: not one below every build's floor.
    if not ctx.platform.startswith("linux") or ctx.profile.nvidia is None:
        return
    blocked = any(dict(d).get("known_issue") for d in _data(rejected, "gpu-cc"))
    aarch64 = ctx.platform == "linux-aarch64" and any(True for _ in _data(rejected, "no-gpu-build"))
    if blocked or aarch64:
        yield "ngc-container", {"platform": ctx.platform}


def _other_backend(ctx: Context, _rejected: list[Judged], replan: Replan) -> Found:
    # Keras 3 on another framework: every pip TensorFlow up to 2.21 fails on Blackwell GPUs,
    # while JAX and PyTorch run there (tensorflow-gpu-issues.toml).
    from envgen.plan import KERAS_BACKENDS

    for backend in KERAS_BACKENDS:
        if backend == ctx.request.keras_backend:
            continue
        # Keras 3 on TensorFlow means a TensorFlow that pairs with Keras 3 (keras.toml): without
        # `keras="3"` the re-plan found TF 2.14 with its Keras 2 and called it Keras 3.
        keras = "3" if backend == DEFAULT_BACKEND else None
        plan = replan(keras_backend=backend, tensorflow=None, keras=keras)
        if plan is not None:
            title = ctx.kb.keras_backends.get(backend).title
            yield "other-backend", {**_shown(ctx, plan), "backend": backend, "title": title}, plan


def _always(code: str) -> Callable[[Context, list[Judged], Replan], Found]:
    def find(_ctx: Context, _rejected: list[Judged], _replan: Replan) -> Found:
        yield code, {}

    return find


RELAXATIONS: tuple[Relaxation, ...] = (
    Relaxation(frozenset({"python"}), _other_python),
    Relaxation(frozenset({"driver"}), _upgrade_driver),
    Relaxation(frozenset({"windows-gpu"}), _use_wsl2),
    Relaxation(frozenset({"macos"}), _upgrade_macos),
    Relaxation(frozenset(), _target_cpu),
    Relaxation(frozenset(), _other_tensorflow),
    Relaxation(frozenset({"channel"}), _other_channel),
    Relaxation(frozenset({"no-gpu"}), _install_driver),
    Relaxation(frozenset(), _native_arm64),
    Relaxation(frozenset(), _other_keras),
    Relaxation(frozenset({"gpu-cc", "no-gpu-build"}), _ngc_container),
    Relaxation(frozenset({"gpu-cc", "driver", "no-gpu-build", "windows-gpu"}), _other_backend),
    Relaxation(frozenset(), _other_family),
    Relaxation(
        frozenset({"cpu", "gpu-cc", "no-wheel", "no-gpu-build", "glibc"}),
        _always("build-from-source"),
    ),
)


def remedies(
    ctx: Context,
    rejected: list[Judged],
    resolve: Callable[[HardwareProfile, Request], Plan | None],
) -> tuple[Remedy, ...]:
    """Every remedy the relaxations find, cheapest first, without repeats."""

    def replan(**changes: object) -> Plan | None:
        profile = changes.pop("profile", ctx.profile)
        assert isinstance(profile, HardwareProfile)
        return resolve(profile, dataclasses.replace(ctx.request, **changes))  # type: ignore[arg-type]

    codes = {r.code for o in rejected for r in o.reasons}
    found: list[tuple[int, Remedy]] = []
    backend = ctx.request.keras_backend
    for row in RELAXATIONS:
        if row.codes and not row.codes & codes:
            continue
        for code, fields, *plan in row.find(ctx, rejected, replan):
            # A remedy worded for other frameworks only (TensorFlow's source builds) is left out.
            row_of = ctx.kb.remedies.find(code, backend)
            if row_of is None:
                continue
            text = ctx.kb.remedies.render(code, backend, **fields)
            if all(text != r.text for _, r in found):
                remedy = Remedy(code, tuple(fields.items()), text, plan[0] if plan else None)
                found.append((row_of.effort, remedy))
    return tuple(r for _, r in sorted(found, key=lambda f: f[0]))
