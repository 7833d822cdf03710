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
    }
    human = (
        f"knowledge base {kb.digest}: {len(files)} files valid; "
        f"{len(tf.releases)} TensorFlow releases in {len(tf.builds)} minors, "
        f"{len(kb.jax.releases)} JAX releases, {len(kb.torch.releases)} PyTorch releases "
        f"({len(kb.torch.variants)} CUDA builds)"
    )
    return Result("kb", summary, human)


def run_update(args: Options) -> Result:
    from envgen.kb.pypi import PyPI
    from envgen.kb.update import update_releases
    from envgen.kb.update_frameworks import update_jax, update_torch

    client = PyPI()
    tensorflow = update_releases(write=args.write, pre=args.pre, client=client)
    results = [
        tensorflow,
        update_jax(client, write=args.write),
        update_torch(client, write=args.write),
    ]
    human_parts = []
    for result in results:
        if not result.changed:
            human_parts.append(f"{result.path.name} is up to date with PyPI")
        else:
            human_parts.append(
                result.diff + ("\nwritten." if result.written else "\n(not written: pass --write)")
            )
    human = "\n".join(human_parts)
    for build in tensorflow.builds:
        human += (
            f"\nnew minor {build['minor']}: build row derived from PyPI (CUDA {build['cuda']}, "
            f"cuDNN {build['cudnn']}); unknown until reviewed: {', '.join(build['review'])}"
        )
    skipped = [v for r in results for v in r.skipped]
    if skipped:
        human += "\nskipped (no and-cuda pins to derive a build row from; add a "
        human += "tensorflow-builds.toml row first): " + ", ".join(skipped)
    payload = {
        "changed": any(r.changed for r in results),
        "written": any(r.written for r in results),
        "diff": "".join(r.diff for r in results),
        "skipped": skipped,
        "builds": [dict(b) for b in tensorflow.builds],
        "files": [
            {"file": r.path.name, "changed": r.changed, "written": r.written} for r in results
        ],
    }
    return Result("kb", payload, human)
