"""`envgen plan`: decide the TensorFlow stack for this machine (or a profile) and explain it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from envgen.cli import Result

REQUEST_DEFAULTS: dict[str, Any] = {
    "profile": None,
    "target": "auto",
    "python": None,
    "tensorflow": None,
    "keras": None,
    "channel": "auto",
}
# The request options the project's [tool.envgen] table may set (all but the profile file).
REQUEST_OPTIONS = tuple(k for k in REQUEST_DEFAULTS if k != "profile")


def add_request_options(p: argparse.ArgumentParser) -> None:
    """The request flags every planning command shares (plan, render, lock, create)."""
    p.add_argument("--profile", metavar="FILE", help="plan for the machine this profile describes")
    p.add_argument(
        "--target",
        choices=("cpu", "gpu", "auto"),
        help="auto (default): gpu when an NVIDIA driver and GPU are present",
    )
    p.add_argument("--python", metavar="X.Y", help="Python version (default: the profile's)")
    p.add_argument("--tensorflow", metavar="SPEC", help="e.g. 2.15, 2.15.1, '>=2.12,<2.16'")
    p.add_argument("--keras", choices=("2", "3"), help="Keras 2 behaviour or Keras 3")
    p.add_argument(
        "--channel",
        choices=("pip", "conda", "system", "auto"),
        help="how CUDA/cuDNN arrive (default auto: pip wheels, else conda, else system)",
    )


def request_from(args: argparse.Namespace) -> Any:
    from envgen.plan import Request

    return Request(
        target=args.target,
        python=args.python,
        tensorflow=args.tensorflow,
        keras=args.keras,
        channel=args.channel,
    )


def run(args: argparse.Namespace) -> Result:
    from envgen.detect import load_or_detect
    from envgen.kb import load_kb
    from envgen.plan import Plan
    from envgen.resolve import resolve, validate, why_not
    from envgen.show import show_plan, show_rejections

    request = request_from(args)
    validate(request)
    profile = load_or_detect(args.profile)
    kb = load_kb()
    if args.why_not:
        rejections = why_not(profile, kb, request, args.why_not)
        return Result(
            "plan",
            {"why-not": [r.to_dict() for r in rejections]},
            show_rejections(rejections, args.why_not),
        )
    result = resolve(profile, kb, request)
    if isinstance(result, Plan):
        return Result(
            "plan",
            {
                "plan": result.to_dict(),
                "warnings": [w.to_dict() for w in result.warnings],
                "rejections": [r.to_dict() for r in result.rejections],
            },
            show_plan(result),
        )
    raise result.to_error()


def add_parser(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "plan",
        help="decide a known-good TensorFlow/Keras/numpy/CUDA/cuDNN stack and explain every pin",
        description="Decide the newest TensorFlow stack that really works on the machine.",
        allow_abbrev=False,
    )
    common(p)
    add_request_options(p)
    p.add_argument(
        "--why-not",
        metavar="SPEC",
        help="explain why each release matching SPEC (e.g. tensorflow==2.16) does or doesn't fit",
    )
    p.set_defaults(
        handler=run,
        option_defaults={**REQUEST_DEFAULTS, "why_not": None},
        project_options=REQUEST_OPTIONS,
    )
