"""`envgen plan`: decide the Keras stack (TensorFlow, JAX or PyTorch) for this machine (or a
profile) and explain it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from envgen.cli import Result
from envgen.options import Options

if TYPE_CHECKING:
    from envgen.kb import KnowledgeBase
    from envgen.plan import Plan, Request


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
        allow_community_builds=bool(opts.allow_community_builds),
    )
    validate(request)
    return request


def _with_pypi_note(plan: Plan, kb: KnowledgeBase) -> Plan:
    """The plan with one more line when PyPI has a TensorFlow newer than the knowledge base
    (TensorFlow plans only: a JAX or PyTorch plan does not depend on it)."""
    import dataclasses

    from envgen.kb.newer import newer_release
    from envgen.plan import DEFAULT_BACKEND, Note

    if plan.keras_backend != DEFAULT_BACKEND:
        return plan
    known = max(r.version for r in kb.tensorflow.releases)
    newer = newer_release(known)
    if newer is None:
        return plan
    note = Note("kb-behind", kb.wording.render("kb-behind", newer=str(newer), known=str(known)))
    return dataclasses.replace(plan, warnings=(*plan.warnings, note))


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
    if not opts.no_pypi_check:
        result = _with_pypi_note(result, kb)
    return Result(
        "plan",
        {
            "plan": result.to_dict(),
            "warnings": [w.to_dict() for w in result.warnings],
            "rejections": [r.to_dict() for r in result.rejections],
        },
        show_plan(result),
    )
