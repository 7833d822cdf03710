"""From the chosen JAX or PyTorch build to the Plan: every pin with the reason it was chosen.

The framework at its exact version (`jax[cuda13]==0.12.0.1`, `torch==2.14.1+cu126` from the
PyTorch index, which the plan then names), what must match it (jaxlib and the CUDA plugin at jax's
own version), Keras 3 from Keras' floor for the framework, the driver floor, and KERAS_BACKEND so
that `import keras` picks the framework without code changes. Texts come from `wording.toml`.
"""

from __future__ import annotations

from packaging.requirements import Requirement

from envgen import rules
from envgen.plan import Channel, ExactVersion, Note, Pin, Plan, Rejection, VersionSpec
from envgen.resolve.candidate import Context
from envgen.resolve.frameworks import Build
from envgen.resolve.pins import driver_pin, finished

KERAS_BACKEND = "KERAS_BACKEND"
"""The variable Keras reads at import (keras/src/backend/config.py): it wins over keras.json."""


def plan(ctx: Context, chosen: Build, rejections: tuple[Rejection, ...]) -> Plan:
    say = ctx.say
    table = ctx.kb.keras_backends
    backend = table.get(ctx.request.keras_backend)
    gpu = ctx.target == "gpu" and chosen.cuda is not None
    newer = say("pin-framework-rejected", count=str(len(rejections))) if rejections else ""
    framework = Pin(
        chosen.package,
        ExactVersion(chosen.pin),
        Channel.PIP,
        say(
            "pin-framework",
            framework=backend.title,
            passed="; ".join(chosen.passed),
            newer=newer,
        ),
        chosen.extras,
    )
    pins = [framework, *chosen.companions]
    if backend.keras is not None:
        keras = Requirement(backend.keras)
        line = table.newest_line(ctx.python)
        why = say(
            "pin-fw-keras",
            framework=backend.title,
            minimum=str(backend.minimum),
            python=ctx.python,
            line=str(line.since) if line is not None else "?",
        )
        pins.append(Pin(keras.name, VersionSpec(keras.specifier), Channel.PIP, why))
    warnings = list(chosen.warnings)
    if gpu and ctx.profile.nvidia is not None and chosen.cuda is not None:
        floor = rules.cuda_driver_floor(
            ctx.kb,
            chosen.cuda,
            ctx.profile.os,
            documented=chosen.driver_documented if ctx.profile.os.name == "linux" else None,
        )
        pins += driver_pin(ctx, floor, chosen.cuda)
    if ctx.platform.startswith("macos") and ctx.request.keras_backend == "jax":
        # Said on every JAX plan for a Mac: its GPU is not planned, and why.
        warnings.append(Note("jax-metal", say("jax-metal")))
    return finished(
        ctx,
        warnings,
        tensorflow=framework,
        cuda=chosen.cuda if gpu else None,
        cudnn=chosen.cudnn if gpu else None,
        cuda_channel=Channel.PIP if gpu else None,
        packages=tuple(pins),
        environment=((KERAS_BACKEND, backend.name),),
        rejections=rejections,
        keras_backend=backend.name,
        indexes=(chosen.index,) if chosen.index is not None else (),
    )
