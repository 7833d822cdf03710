"""From a build of another family to the Plan: conda-forge's TensorFlow, or a community wheel.

* **conda-forge**: `tensorflow=<version>=<build>` as a conda package (the build string pins the
  variant: CPU or the CUDA line, Python, the feedstock's build number), CUDA as conda's own spec
  for its line (`cuda-version=12.8`, `cudatoolkit=11.2`), the driver floor. Keras, numpy and
  cuDNN come with it from conda-forge (its recipe's run requirements and run exports), so the
  plan has no pip package at all: no PyPI TensorFlow is mixed in.
* **community**: the wheel as a direct URL pin (`tensorflow-gpu @ https://...`, marked
  third-party; `envgen lock` pins it by the sha256 of the download), the pip packages the
  official release of the same version needs beside it (Keras, numpy and protobuf bounds), the
  exact CUDA and cuDNN the build was compiled with from the system, and the driver floor.

Texts come from `wording.toml`.
"""

from __future__ import annotations

from packaging.version import Version

from envgen import rules
from envgen.plan import Channel, ExactVersion, Note, Pin, Plan, Rejection
from envgen.resolve.candidate import Context
from envgen.resolve.families import CommunityOutcome, ForgeOutcome
from envgen.resolve.pins import companion_pins, driver_pin, finished
from envgen.versions import major_minor


def forge_plan(ctx: Context, chosen: ForgeOutcome, rejections: tuple[Rejection, ...]) -> Plan:
    build, variant = chosen.build, chosen.variant
    gpu = variant.cuda is not None
    newer = ctx.say("pin-tensorflow-rejected", count=str(len(rejections))) if rejections else ""
    why = ctx.say(
        "pin-forge-tensorflow",
        version=str(build.version),
        build=chosen.spec,
        baseline=variant.compiled_for,
        commit=build.commit[:12],
        passed="; ".join(chosen.passed),
        newer=newer,
    )
    tf_pin = Pin(
        "tensorflow",
        ExactVersion(str(build.version)),
        Channel.CONDA,
        why,
        family=chosen.family,
        build=chosen.spec,
    )
    pins = [tf_pin, *chosen.cuda_pins]
    if gpu:
        assert variant.cuda is not None
        pins += _driver_pin(ctx, variant.cuda)
    return _plan(
        ctx,
        tf_pin,
        pins,
        chosen.warnings,
        rejections,
        cuda=(variant.cuda, variant.cudnn, Channel.CONDA) if gpu else None,
    )


def community_plan(
    ctx: Context, chosen: CommunityOutcome, rejections: tuple[Rejection, ...]
) -> Plan:
    row = chosen.row
    wheel = row.wheel_file()
    assert wheel is not None  # a passing community candidate has a wheel
    family = ctx.kb.families.get(chosen.family)
    newer = ctx.say("pin-tensorflow-rejected", count=str(len(rejections))) if rejections else ""
    why = ctx.say(
        "pin-community",
        build=row.label,
        title=family.title,
        passed="; ".join(chosen.passed),
        newer=newer,
    )
    tf_pin = Pin(
        row.install_name,
        ExactVersion(str(row.release)),
        Channel.PIP,
        why,
        family=family.id,
        url=wheel.url,
        third_party=family.third_party,
    )
    pins = [tf_pin]
    environment: list[tuple[str, str]] = []
    # The official release of the same version declares what the build needs beside it (the
    # community build is compiled from the same source tag).
    official = ctx.kb.tensorflow.release(Version(row.release.public))
    if official is not None:
        companions, environment, _ = companion_pins(ctx, official, None)
        pins += companions
    pins += chosen.cuda_pins
    if row.gpu:
        assert row.cuda is not None
        pins += _driver_pin(ctx, major_minor(row.cuda))
    warnings = [
        Note(
            "third-party",
            ctx.say(
                "community-third-party",
                build=row.label,
                url=family.url,
                simd=row.simd,
                compiler=row.compiler,
            ),
        ),
        *chosen.warnings,
    ]
    cuda = (row.cuda, row.cudnn, Channel.SYSTEM) if row.gpu else None
    return _plan(ctx, tf_pin, pins, warnings, rejections, cuda=cuda, environment=environment)


def _driver_pin(ctx: Context, cuda: str) -> list[Pin]:
    if ctx.profile.nvidia is None:
        return []
    return driver_pin(ctx, rules.cuda_driver_floor(ctx.kb, cuda, ctx.profile.os), cuda)


def _plan(
    ctx: Context,
    tf_pin: Pin,
    pins: list[Pin],
    warnings: list[Note],
    rejections: tuple[Rejection, ...],
    *,
    cuda: tuple[str | None, str | None, Channel] | None,
    environment: list[tuple[str, str]] | None = None,
) -> Plan:
    return finished(
        ctx,
        warnings,
        tensorflow=tf_pin,
        cuda=cuda[0] if cuda else None,
        cudnn=cuda[1] if cuda else None,
        cuda_channel=cuda[2] if cuda else None,
        packages=tuple(pins),
        environment=tuple(environment or ()),
        rejections=rejections,
    )
