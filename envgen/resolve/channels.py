"""How CUDA and cuDNN reach a TensorFlow build on a GPU machine: the `[and-cuda]` wheels pinned
exactly (pip), conda packages of the build's CUDA line and a cuDNN it accepts with the variables
TensorFlow needs to find them (conda), or the user's own toolkit (system). The candidate's other
checks live in `candidate.py`; this is its last step.
"""

from __future__ import annotations

from packaging.requirements import Requirement

from envgen import rules
from envgen.kb.tensorflow import Release
from envgen.plan import Channel, ExactVersion, Note, Pin, VersionSpec
from envgen.resolve.candidate import Context, Outcome, Reason


def _conda_cudnn(ctx: Context, release: Release) -> str:
    """The oldest conda cuDNN line TF accepts: same major as the build, minor not older."""
    built = release.cudnn.parts
    for line in ctx.kb.conda.cudnn_lines(release.cuda):  # oldest first
        have = line.parts
        if have[0] == built[0] and have[1:2] >= built[1:2]:
            return line
    return release.cudnn


def choose_channel(ctx: Context, out: Outcome) -> None:
    """How CUDA and cuDNN reach a release that passed every other check: the asked channel, or
    under `auto` the first of pip, conda, system that carries them; a Reason when none does."""
    if out.reasons:
        return
    r = out.release
    asked = ctx.request.channel
    order = [asked] if asked != "auto" else ["pip", "conda", "system"]
    problems = []
    for channel in order:
        if channel == "pip":
            b = rules.boundaries(ctx.kb)
            if r.and_cuda is None or ctx.platform not in b.and_cuda_platforms.split(","):
                problems.append(
                    ctx.say("channel-pip", first=b.first_and_cuda, platforms=b.and_cuda_platforms)
                )
                continue
            out.channel = Channel.PIP
            out.cudnn = r.cudnn
            out.cuda_pins = and_cuda_pins(ctx, r)
            return
        if channel == "conda":
            cudnn = _conda_cudnn(ctx, r)
            # runtime: CUDA 12+ is split on conda-forge (`cuda-version` only constrains), so the
            # libraries the pip wheel dlopens (cudart, cublas, cufft, ...) are named one by one.
            specs = ctx.kb.conda.specs_for(r.cuda, cudnn, runtime=True)
            if specs is None:
                why = ctx.kb.conda.why_not(r.cuda, cudnn) or "no packages"
                problems.append(ctx.say("channel-conda", why=why))
                continue
            out.channel, out.cudnn = Channel.CONDA, cudnn
            for spec in specs:
                name, _, version = spec.partition("=")
                why = (
                    ctx.say(
                        "pin-conda-cuda",
                        cuda=r.cuda,
                        cudnn=cudnn,
                        build_cuda=r.cuda,
                        build_cudnn=r.cudnn,
                    )
                    if version
                    else ctx.say("pin-conda-runtime", cuda=r.cuda)
                )
                # `name=X.Y` is conda's exact form (X.Y.*); a bare name takes any version.
                pinned = ExactVersion(version) if version else VersionSpec("")
                out.cuda_pins.append(Pin(name, pinned, Channel.CONDA, why))
            # TensorFlow finds conda's libraries only through the variables conda.toml names
            # (LD_LIBRARY_PATH on Linux): the plan carries them into every output and prefix.
            os_name = ctx.platform.split("-")[0]
            out.environment += ctx.kb.conda.environment(os_name)
            for name, value in ctx.kb.conda.environment(os_name):
                out.warnings.append(
                    Note(
                        "conda-library-path", ctx.say("conda-library-path", name=name, value=value)
                    )
                )
            return
        # system: the user's own toolkit; say so when the profile shows none that matches.
        out.channel, out.cudnn = Channel.SYSTEM, r.cudnn
        out.cuda_pins = [
            Pin(
                "cuda",
                ExactVersion(r.cuda),
                Channel.SYSTEM,
                ctx.say("pin-system-cuda", tensorflow=str(r.version), cuda=r.cuda),
            ),
            Pin("cudnn", ExactVersion(r.cudnn), Channel.SYSTEM, ctx.say("pin-system-cudnn")),
        ]
        found = [t.version for t in ctx.profile.cuda_toolkits]
        if not any(v.split(".")[:2] == r.cuda.split(".")[:2] for v in found):
            # Windows loads DLLs from PATH, Linux shared objects by soname: each its own words.
            words = "system-cuda-windows" if ctx.platform.startswith("windows") else "system-cuda"
            out.warnings.append(
                Note(
                    "system-cuda",
                    ctx.say(
                        words,
                        cuda=r.cuda,
                        cudnn=r.cudnn,
                        found=", ".join(found) or "no toolkit",
                    ),
                )
            )
        return
    out.reasons.append(Reason("channel", "; ".join(problems)))


def and_cuda_pins(ctx: Context, release: Release) -> list[Pin]:
    """The `[and-cuda]` requirements as exact pins.

    Older releases pin them exactly. Newer ones declare ranges; pinning the lower bound
    reproduces the CUDA/cuDNN the build was tested with rather than whatever the range admits
    later (newer cuDNN 9.x lines dropped GPUs older than compute capability 7.5).
    """
    pins = []
    tf = str(release.version)
    for text in release.and_cuda or ():
        req = Requirement(text)
        exact = [s.version for s in req.specifier if s.operator == "=="]
        lower = [s.version for s in req.specifier if s.operator == ">="]
        if exact:
            pins.append(
                Pin(
                    req.name,
                    ExactVersion(exact[0]),
                    Channel.PIP,
                    ctx.say("pin-and-cuda-exact", tensorflow=tf),
                )
            )
        elif lower:
            why = ctx.say(
                "pin-and-cuda-lower",
                tensorflow=tf,
                specifier=str(req.specifier),
                cuda=release.cuda,
                cudnn=release.cudnn,
            )
            pins.append(Pin(req.name, ExactVersion(lower[0]), Channel.PIP, why))
    return pins
