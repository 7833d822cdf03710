"""From the chosen candidate to the Plan: every pin with the reason it was chosen.

TensorFlow under the name that installs on the platform (the CPU-only twin where it is smaller),
the Keras that pairs with it (or tf-keras for `--keras 2` on Keras 3 releases), numpy within the
declared bounds and the minor's cap, protobuf where old generated code needs it, CUDA and cuDNN by
the channel the candidate chose, and the driver floor. Texts come from `wording.toml`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from packaging.requirements import Requirement
from packaging.version import Version

from envgen import rules
from envgen.digest import of_json
from envgen.kb.tensorflow import Release
from envgen.plan import Channel, ExactVersion, Note, Pin, Plan, Rejection, VersionSpec
from envgen.profile import digest as profile_digest
from envgen.resolve.candidate import Context, Judged, Outcome


def plan(ctx: Context, chosen: Outcome, rejections: tuple[Rejection, ...]) -> Plan:
    r, wheel = chosen.release, chosen.wheel
    assert wheel is not None  # a passing outcome always has its wheel
    say = ctx.say
    gpu = ctx.target == "gpu" and not ctx.platform.startswith("macos")
    name = wheel.install_name
    size_note = ""
    companions, environment, tf_keras = companion_pins(ctx, r, chosen.keras)
    if (
        not gpu
        and ctx.platform == "linux-x86_64"
        and r.cpu_package
        and r.build.gpu_package == "tensorflow"
        # tf-keras requires `tensorflow` itself: next to the twin it would install both.
        and not tf_keras
    ):
        name = r.cpu_package
        size_note = say("pin-tensorflow-cpu-twin")
    extras = ("and-cuda",) if gpu and chosen.channel == "pip" else ()
    newer = say("pin-tensorflow-rejected", count=str(len(rejections))) if rejections else ""
    tf_pin = Pin(
        name,
        ExactVersion(r.version),
        Channel.PIP,
        say("pin-tensorflow", passed="; ".join(chosen.passed), size_note=size_note, newer=newer),
        extras,
    )
    pins = [tf_pin, *companions]
    pins.extend(chosen.cuda_pins)
    environment.extend(chosen.environment)
    warnings = list(chosen.warnings)
    if gpu and ctx.profile.nvidia is not None and r.cuda is not None:
        pins += driver_pin(ctx, rules.driver_floor(ctx.kb, r.build, ctx.profile.os), r.cuda)
    return finished(
        ctx,
        warnings,
        tensorflow=tf_pin,
        cuda=r.cuda if gpu else None,
        cudnn=chosen.cudnn if gpu else None,
        cuda_channel=chosen.channel if gpu else None,
        packages=tuple(pins),
        environment=tuple(environment),
        rejections=rejections,
    )


def driver_pin(ctx: Context, floor: rules.DriverFloor, cuda: str) -> list[Pin]:
    """`nvidia-driver>=X` for a GPU plan of CUDA `cuda`, naming who states the floor; none
    where no table knows it. One pin for every family and framework."""
    if not floor.driver:
        return []
    who = ctx.say(floor.who, cuda=floor.cuda, major=floor.major)
    why = ctx.say("pin-driver", cuda=cuda, who=who)
    return [Pin("nvidia-driver", VersionSpec(f">={floor.driver}"), Channel.SYSTEM, why)]


def finished(ctx: Context, warnings: Iterable[Note], **fields: Any) -> Plan:
    """The Plan for `ctx`'s request, platform and Python with `fields`: the note that this
    Python is not installed here where it is not, and the inputs the plan was made from (the
    profile, the request, the knowledge base), as every resolver path records them."""
    notes = list(warnings)
    if ctx.python != ctx.profile.python.version and ctx.python not in {
        i.version for i in ctx.profile.python.found
    }:
        notes.append(Note("python-missing", ctx.say("python-missing", python=ctx.python)))
    return Plan(
        request=ctx.request,
        target=ctx.target,
        platform=ctx.platform,
        python=ctx.python,
        warnings=tuple(notes),
        inputs={
            "profile": profile_digest(ctx.profile),
            "request": of_json(ctx.request.to_dict()),
            "knowledge-base": ctx.kb.digest,
        },
        **fields,
    )


def companion_pins(
    ctx: Context, r: Release, asked: rules.Verdict | None
) -> tuple[list[Pin], list[tuple[str, str]], bool]:
    """The pip packages beside TensorFlow `r`: the Keras that pairs with it (or tf-keras for
    `--keras 2` on Keras 3 releases, or the Keras line the rule book chose), numpy within the
    declared bounds and the minor's cap, protobuf where old generated code needs it. Returns
    the pins, the variables they need, and whether tf-keras is among them."""
    say = ctx.say
    b = rules.boundaries(ctx.kb)
    keras = r.keras
    asked = asked or rules.Verdict("keras-ok")
    # A Keras line the rule book chose (`--keras 2.3`, `--keras 2` beside TF <= 2.4): that pin.
    standalone = asked if asked.code == "keras-pin" else None
    # Keras 2 on a Keras-3 TensorFlow: tf-keras (checked to exist) with TF_USE_LEGACY_KERAS=1.
    tf_keras = keras.tf_keras if ctx.request.keras == "2" and keras.kind == "keras3" else None
    if standalone is not None and standalone.get("package") == "tf-keras":
        tf_keras = f"tf-keras=={standalone.get('version')}"
    pins: list[Pin] = []
    environment: list[tuple[str, str]] = []
    if tf_keras:
        legacy = Requirement(tf_keras)
        why = say("pin-tf-keras", first=b.first_keras3)
        if standalone is not None:
            why = say(standalone.get("words"), **standalone.as_dict())
        pins.append(Pin(legacy.name, VersionSpec(legacy.specifier), Channel.PIP, why))
        environment.append(("TF_USE_LEGACY_KERAS", "1"))
    elif standalone is not None:
        why = say(standalone.get("words"), **standalone.as_dict())
        version = ExactVersion(standalone.get("version"))
        pins.append(Pin(standalone.get("package"), version, Channel.PIP, why))
    elif asked.code == "keras-tf":
        pass  # tf.keras only: envgen pins no Keras package (TensorFlow's own dependency stays)
    elif keras.requirement:
        req = Requirement(keras.requirement)
        code = {
            "keras3": "pin-keras3",
            "keras": "pin-keras",
            "keras-nightly": "pin-keras-nightly",
        }[keras.kind]
        pins.append(
            Pin(
                req.name,
                VersionSpec(req.specifier),
                Channel.PIP,
                say(code, first=b.first_keras3, minor=r.minor),
            )
        )
    numpy = r.numpy_declared(ctx.python)
    # The minor's cap (numpy<2 for older minors) only where the declared bounds admit what the
    # cap excludes: its own upper bound (the first NumPy 2 release for "<2").
    cap = r.build.numpy_cap
    bounds = [s.version for s in cap or () if s.operator in ("<", "<=")]
    capped = any(numpy.contains(b, prereleases=True) for b in bounds)
    if capped:
        numpy = r.numpy_effective(ctx.python)
    if str(numpy):
        why = say("pin-numpy-capped", last=b.last_numpy_cap) if capped else say("pin-numpy")
        spec = VersionSpec(",".join(sorted(str(s) for s in numpy)))
        pins.append(Pin("numpy", spec, Channel.PIP, why))
    if r.build.protobuf_cap is not None:
        why = say("pin-protobuf", last=b.last_protobuf_cap)
        pins.append(Pin("protobuf", VersionSpec(r.build.protobuf_cap), Channel.PIP, why))
    return pins, environment, bool(tf_keras)


def group(outcomes: Iterable[Judged]) -> tuple[Rejection, ...]:
    """One rejection per run of neighbours (releases of a minor, builds of a tag) that fail for
    the same reasons: `tensorflow==2.20.0, 2.20.1`. Another family's build adds what tells it
    apart (its `detail`: conda's `=cpu_py311h*_3`, a community wheel's folder); their group keys
    never merge two builds."""
    groups: list[tuple[tuple[str, ...], str, list[str], tuple[str, ...], str]] = []
    for o in outcomes:
        texts = tuple(r.text for r in o.reasons)
        key = (o.name, *o.group_key)
        if groups and groups[-1][0] == key and groups[-1][3] == texts:
            groups[-1][2].append(o.version_text)
        else:
            groups.append((key, o.name, [o.version_text], texts, getattr(o, "detail", "")))
    out = []
    for _key, name, versions, texts, detail in groups:
        label = f"{name}=={', '.join(sorted(versions, key=Version))}{detail}"
        out.append(Rejection(label, texts))
    return tuple(out)
