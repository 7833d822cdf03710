"""`envgen kb`: maintainer commands for the knowledge base (validate it; refresh it from PyPI)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from envgen.cli import Result

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
    "distributions",
    "metal",
    "gpu_issues",
    "remedies",
    "doctor_checks",
    "lock_platforms",
    "images",
    "wording",
)


def run_check(_args: argparse.Namespace) -> Result:
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


def run_update(args: argparse.Namespace) -> Result:
    from envgen.kb.update import update_releases

    result = update_releases(write=args.write)
    if not result.changed:
        human = f"{result.path.name} is up to date with PyPI"
    else:
        human = result.diff + ("\nwritten." if result.written else "\n(not written: pass --write)")
    if result.skipped:
        human += "\nskipped (add a tensorflow-builds.toml row first): " + ", ".join(result.skipped)
    payload = {
        "changed": result.changed,
        "written": result.written,
        "diff": result.diff,
        "skipped": list(result.skipped),
    }
    return Result("kb", payload, human)


def add_parser(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("kb", help="maintain the knowledge base", allow_abbrev=False)
    common(p)
    kb_sub = p.add_subparsers(dest="kb_command", metavar="KB_COMMAND")
    kb_sub.required = True
    check = kb_sub.add_parser("check", help="validate every data file and print its hash")
    common(check)
    check.set_defaults(handler=run_check, option_defaults={})
    update = kb_sub.add_parser(
        "update",
        help="re-derive tensorflow-releases.toml from PyPI metadata and print the diff (network)",
    )
    common(update)
    update.add_argument(
        "--write",
        action="store_true",
        default=None,
        help="replace the packaged file with the new rows",
    )
    update.set_defaults(handler=run_update, option_defaults={"write": False})
