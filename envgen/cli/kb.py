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
    "mirrors",
    "signatures",
    "tensorflow",
    "keras",
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
    }
    human = (
        f"knowledge base {kb.digest}: {len(files)} files valid; "
        f"{len(tf.releases)} TensorFlow releases in {len(tf.builds)} minors"
    )
    return Result("kb", summary, human)


def run_update(args: Options) -> Result:
    from envgen.kb.update import update_releases

    result = update_releases(write=args.write, pre=args.pre)
    if not result.changed:
        human = f"{result.path.name} is up to date with PyPI"
    else:
        human = result.diff + ("\nwritten." if result.written else "\n(not written: pass --write)")
    for build in result.builds:
        human += (
            f"\nnew minor {build['minor']}: build row derived from PyPI (CUDA {build['cuda']}, "
            f"cuDNN {build['cudnn']}); unknown until reviewed: {', '.join(build['review'])}"
        )
    if result.skipped:
        human += "\nskipped (no and-cuda pins to derive a build row from; add a "
        human += "tensorflow-builds.toml row first): " + ", ".join(result.skipped)
    payload = {
        "changed": result.changed,
        "written": result.written,
        "diff": result.diff,
        "skipped": list(result.skipped),
        "builds": [dict(b) for b in result.builds],
    }
    return Result("kb", payload, human)
