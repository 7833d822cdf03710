"""`envgen kb`: maintainer commands for the knowledge base (validate it; refresh it from PyPI)."""

from __future__ import annotations

from typing import Any

from envgen.cli import Result
from envgen.options import Options

# The loaders `envgen kb check` runs: every table of the knowledge base.
TABLES = (
    "drivers",
    "cpu",
    "gpus",
    "cuda_arch",
    "cudnn",
    "conda",
    "conda_forge",
    "community",
    "families",
    "mirrors",
    "signatures",
    "tensorflow",
    "keras",
    "keras_backends",
    "jax",
    "torch",
    "distributions",
    "metal",
    "gpu_issues",
    "remedies",
    "doctor_checks",
    "lock_platforms",
    "images",
    "wording",
)


def run_check(_args: Options) -> Result:
    from envgen.kb import data_files, load_kb

    kb = load_kb()
    for name in TABLES:
        getattr(kb, name)  # parses and validates; raises KnowledgeBaseError naming the key
    from envgen.kb.families import check_families

    check_families(kb)  # what spans the families' tables and the others
    tf = kb.tensorflow
    files = data_files()
    summary: dict[str, Any] = {
        "files": files,
        "hash": kb.digest,
        "tensorflow-releases": len(tf.releases),
        "tensorflow-minors": len(tf.builds),
        "jax-releases": len(kb.jax.releases),
        "torch-releases": len(kb.torch.releases),
        "torch-builds": len(kb.torch.variants),
        "conda-forge-builds": len(kb.conda_forge.builds),
        "conda-forge-records": len(kb.conda_forge.records),
        "community-builds": len(kb.community.wheels),
    }
    human = (
        f"knowledge base {kb.digest}: {len(files)} files valid; "
        f"{len(tf.releases)} TensorFlow releases in {len(tf.builds)} minors, "
        f"{len(kb.jax.releases)} JAX releases, {len(kb.torch.releases)} PyTorch releases "
        f"({len(kb.torch.variants)} CUDA builds); conda-forge's TensorFlow: "
        f"{len(kb.conda_forge.builds)} feedstock builds, {len(kb.conda_forge.records)} channel "
        f"records; {len(kb.community.wheels)} community builds"
    )
    return Result("kb", summary, human)


def run_update(args: Options) -> Result:
    from envgen.kb.update import UpdateResult

    results: list[UpdateResult] = []
    builds: tuple[Any, ...] = ()
    human_parts: list[str] = []
    payload: dict[str, Any] = {}
    if args.family in ("all", "pypi"):
        from envgen.kb.pypi import PyPI
        from envgen.kb.update import update_releases
        from envgen.kb.update_frameworks import update_jax, update_torch

        client = PyPI()
        tensorflow = update_releases(write=args.write, pre=args.pre, client=client)
        builds = tensorflow.builds
        results += [
            tensorflow,
            update_jax(client, write=args.write),
            update_torch(client, write=args.write),
        ]
    if args.family in ("all", "conda-forge"):
        forge, lines = _update_conda_forge(args)
        results.append(forge.result)
        human_parts += lines
        payload["conda-forge"] = {
            "channel": forge.channel,
            "added": [f"{r.subdir}/{r.name}-{r.version}-{r.build}" for r in forge.added],
            "confirmed": list(forge.confirmed),
            "unknown": list(forge.unknown),
        }
    for result in results:
        if not result.changed:
            human_parts.append(f"{result.path.name} is up to date with its source")
        else:
            human_parts.append(
                result.diff + ("\nwritten." if result.written else "\n(not written: pass --write)")
            )
    human = "\n".join(human_parts)
    for build in builds:
        human += (
            f"\nnew minor {build['minor']}: build row derived from PyPI (CUDA {build['cuda']}, "
            f"cuDNN {build['cudnn']}); unknown until reviewed: {', '.join(build['review'])}"
        )
    skipped = [v for r in results for v in r.skipped]
    if skipped:
        human += "\nskipped (no and-cuda pins to derive a build row from; add a "
        human += "tensorflow-builds.toml row first): " + ", ".join(skipped)
    payload |= {
        "changed": any(r.changed for r in results),
        "written": any(r.written for r in results),
        "diff": "".join(r.diff for r in results),
        "skipped": skipped,
        "builds": [dict(b) for b in builds],
        "files": [
            {"file": r.path.name, "changed": r.changed, "written": r.written} for r in results
        ],
    }
    return Result("kb", payload, human)


def _update_conda_forge(args: Options) -> tuple[Any, list[str]]:
    """conda-forge's records from its channel (`--conda-channel`, else conda-forge's URL): the
    update and the lines that say what the channel's records mean."""
    from envgen.kb import load_kb
    from envgen.kb.update_conda_forge import update_conda_forge

    kb = load_kb()
    forge = kb.conda.channel("conda-forge")
    channel = (args.conda_channel or [forge.url if forge is not None else ""])[0]
    found = update_conda_forge(kb, channel, write=args.write)
    lines = [f"conda-forge channel {channel}: {len(found.added)} record(s) not in the tables yet"]
    lines += [f"confirmed on the channel: {c}" for c in found.confirmed]
    lines += [
        f"on the channel, not in conda-forge-tensorflow.toml (add its [[build]]): {u}"
        for u in found.unknown
    ]
    return found, lines
