"""`envgen plan`: decide the Keras stack (TensorFlow, JAX or PyTorch) for this machine (or a
profile) and explain it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from envgen.cli import Result
from envgen.options import Options

if TYPE_CHECKING:
    from envgen.plan import Request


def request_from(opts: Options) -> Request:
    """The request the planning options make (plan, render, lock, create), validated."""
    from envgen.plan import Request, validate

    request = Request(
        target=opts.target,
        python=opts.python,
        tensorflow=opts.tensorflow,
        keras=opts.keras,
        channel=opts.channel,
        keras_backend=opts.keras_backend,
    )
    validate(request)
    return request


def run(opts: Options) -> Result:
    from envgen.detect import load_or_detect
    from envgen.kb import load_kb
    from envgen.plan import Plan
    from envgen.resolve import resolve, why_not
    from envgen.show import show_plan, show_rejections

    request = request_from(opts)
    profile = load_or_detect(opts.profile)
    kb = load_kb()
    if opts.why_not:
        rejections = why_not(profile, kb, request, opts.why_not)
        return Result(
            "plan",
            {"why-not": [r.to_dict() for r in rejections]},
            show_rejections(rejections, opts.why_not),
        )
    result = resolve(profile, kb, request)
    if not isinstance(result, Plan):
        raise result.to_error()
    return Result(
        "plan",
        {
            "plan": result.to_dict(),
            "warnings": [w.to_dict() for w in result.warnings],
            "rejections": [r.to_dict() for r in result.rejections],
        },
        show_plan(result),
    )
