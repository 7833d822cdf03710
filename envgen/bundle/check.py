"""The bundle's own checker: every file against the manifest, every wheel against the lock.

This file is a standalone program, standard library only, shipped inside every bundle as
`check.py`: `install.sh` and `install.ps1` run it with the very Python that will build the
environment, before anything is installed, so a bundle needs nothing but Python. envgen itself
imports it (`envgen create --from-bundle`), so the rule is written once. Keep the syntax
Python 3.7-compatible (no walrus, no str.removeprefix): the Python a team installs TensorFlow
2.12-2.15 with may be 3.8.

    python check.py [--variant NAME]    # verify; print the requirements lock for this machine

What it refuses, naming the file (exit 3):
- a manifest that is not one (not JSON, wrong schema, a path that leaves the bundle);
- a file the manifest lists that is missing, is not a regular file, or whose size or sha256
  differ from the manifest's (a tampered or truncated wheel);
- a file in the bundle the manifest does not list;
- a wheel whose sha256 is not among the hashes of the requirements lock that installs it (a
  manifest edited to match a tampered wheel no longer matches the lock).
An edited lock file is caught by envgen against the lock index (`envgen-lock.toml`); the
installers then let pip check every wheel once more (`--require-hashes`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import stat
import sys
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
SCHEMA = "envgen.bundle/1"
# A manifest lists a few hundred files; 16 MiB is far beyond any real one and bounds the read.
MAX_MANIFEST = 16 << 20
CHUNK = 1 << 20
# Exit codes, as envgen's: 2 usage, 3 bad input file.
EXIT_USAGE = 2
EXIT_BAD = 3
_SHA256 = re.compile(r"[0-9a-f]{64}")
_HASH_OPTION = re.compile(r"--hash=sha256:([0-9a-f]{64})")
# One path segment of a bundle member: printable, no separator, no drive or stream colon.
_SEGMENT = re.compile(r"[A-Za-z0-9_.+~=-][A-Za-z0-9_.+~=!-]*")
# sys.platform and platform.machine() -> the lock platform (conda subdir) names envgen locks
# for; a unit test holds this table to envgen's kb/lock-platforms.toml.
PLATFORMS = {
    ("linux", "x86_64"): "linux-64",
    ("linux", "amd64"): "linux-64",
    ("linux", "aarch64"): "linux-aarch64",
    ("linux", "arm64"): "linux-aarch64",
    ("darwin", "x86_64"): "osx-64",
    ("darwin", "arm64"): "osx-arm64",
    ("win32", "amd64"): "win-64",
    ("win32", "x86_64"): "win-64",
}


class BundleProblem(Exception):
    """One thing wrong with a bundle: the file (a path inside the bundle) and why."""

    def __init__(self, path: str, why: str, code: int = EXIT_BAD) -> None:
        super().__init__(f"{path}: {why}")
        self.path = path
        self.why = why
        self.code = code


def is_member_path(text: Any) -> bool:
    """A relative path inside the bundle: `/`-separated plain segments, nothing else."""
    if not isinstance(text, str) or not text or len(text) > 512:
        return False
    parts = text.split("/")
    return all(p not in (".", "..") and _SEGMENT.fullmatch(p) for p in parts)


def _fail(why: str) -> BundleProblem:
    return BundleProblem(MANIFEST, why)


def read_manifest(root: str) -> dict[str, Any]:
    """The manifest at the bundle's root, its shape checked; BundleProblem names what is wrong."""
    path = Path(root, MANIFEST)
    try:
        with path.open("rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise _fail("is not a regular file")
            data = fh.read(MAX_MANIFEST + 1)
    except OSError as exc:
        raise _fail(f"cannot be read ({exc.strerror or exc})") from exc
    if len(data) > MAX_MANIFEST:
        raise _fail(f"is over {MAX_MANIFEST} bytes")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _fail(f"is not JSON ({type(exc).__name__})") from exc
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise _fail(f"is not an envgen bundle manifest (schema {SCHEMA})")
    manifest: dict[str, Any] = doc
    files = doc.get("files")
    targets = doc.get("targets")
    if not isinstance(files, list) or not isinstance(targets, list) or not targets:
        raise _fail("needs a `files` list and a non-empty `targets` list")
    seen = set()
    for i, entry in enumerate(files):
        where = f"files[{i}]"
        if not isinstance(entry, dict) or not is_member_path(entry.get("path")):
            raise _fail(f"{where}: `path` is not a plain relative path")
        if entry["path"] in seen or entry["path"] == MANIFEST:
            raise _fail(f"{where}: {entry['path']!r} is listed twice")
        seen.add(entry["path"])
        if not isinstance(entry.get("sha256"), str) or not _SHA256.fullmatch(entry["sha256"]):
            raise _fail(f"{where}: `sha256` is not 64 hex digits")
        size = entry.get("size")
        if type(size) is not int or size < 0:
            raise _fail(f"{where}: `size` is not a byte count")
    for i, target in enumerate(targets):
        where = f"targets[{i}]"
        if not isinstance(target, dict):
            raise _fail(f"{where} is not a table")
        for key in ("variant", "platform", "python"):
            if not isinstance(target.get(key), str) or not target[key].isprintable():
                raise _fail(f"{where}: `{key}` is missing")
        members = target.get("files")
        lock = target.get("requirements")
        if not isinstance(members, list) or not all(m in seen for m in members):
            raise _fail(f"{where}: `files` names a file the manifest does not list")
        if lock not in seen:
            raise _fail(f"{where}: `requirements` names a file the manifest does not list")
    return manifest


def file_digest(path: str) -> tuple[str, int]:
    """(sha256, size) of a regular file, read in chunks (wheels run to gigabytes)."""
    digest = hashlib.sha256()
    size = 0
    with Path(path).open("rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _walk(root: str) -> list[str]:
    """Every path under `root`, relative and `/`-separated (directories left out)."""
    base = Path(root)
    return sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if not p.is_dir())


def check_files(root: str, manifest: dict[str, Any]) -> list[BundleProblem]:
    """Each file of the bundle that is not what the manifest says, and each one it lacks."""
    problems = []
    listed = {}
    for entry in manifest["files"]:
        listed[entry["path"]] = entry
        full = Path(root, *entry["path"].split("/"))
        try:
            info = full.lstat()
        except OSError:
            problems.append(BundleProblem(entry["path"], "is missing"))
            continue
        if not stat.S_ISREG(info.st_mode):
            problems.append(BundleProblem(entry["path"], "is not a regular file"))
            continue
        if info.st_size != entry["size"]:
            problems.append(
                BundleProblem(
                    entry["path"],
                    f"is {info.st_size} bytes, the manifest says {entry['size']} (tampered or cut)",
                )
            )
            continue
        digest, _ = file_digest(str(full))
        if digest != entry["sha256"]:
            problems.append(
                BundleProblem(entry["path"], "sha256 differs from the manifest (tampered)")
            )
    for path in _walk(root):
        if path != MANIFEST and path not in listed:
            problems.append(BundleProblem(path, "is not in the manifest"))
    return problems


def lock_hashes(root: str, requirements: str) -> set[str]:
    """The sha256 values a hashed requirements lock allows (`--hash=sha256:...`)."""
    with Path(root, *requirements.split("/")).open(encoding="utf-8") as fh:
        return set(_HASH_OPTION.findall(fh.read(MAX_MANIFEST)))


def check_consistency(root: str, manifest: dict[str, Any]) -> list[BundleProblem]:
    """Each wheel of a target whose manifest sha256 its requirements lock does not allow."""
    digests = {e["path"]: e["sha256"] for e in manifest["files"]}
    problems = []
    for target in manifest["targets"]:
        try:
            allowed = lock_hashes(root, target["requirements"])
        except (OSError, UnicodeDecodeError):
            continue  # reported by check_files already (missing, or not what was listed)
        for member in target["files"]:
            if digests[member] not in allowed:
                problems.append(
                    BundleProblem(
                        MANIFEST,
                        f"the sha256 it lists for {member} is not in {target['requirements']}",
                    )
                )
    return problems


def check_bundle(root: str) -> tuple[dict[str, Any], list[BundleProblem]]:
    """The manifest and every problem of the bundle at `root` ([] when it is intact)."""
    manifest = read_manifest(root)
    problems = check_files(root, manifest)
    return manifest, problems + check_consistency(root, manifest)


def this_platform(system: str = sys.platform, machine: str = "") -> str | None:
    """The lock platform of this interpreter (None where envgen locks for none)."""
    key = "linux" if system.startswith("linux") else system
    return PLATFORMS.get((key, (machine or platform.machine()).lower()))


def choose_target(
    manifest: dict[str, Any], variant: str, where: str | None, python: str
) -> dict[str, Any]:
    """The target of `manifest` for this platform and Python (and `variant`, when given)."""
    mine = [t for t in manifest["targets"] if t["platform"] == where]
    if not mine:
        have = sorted({t["platform"] for t in manifest["targets"]})
        raise BundleProblem(
            MANIFEST,
            f"no lock for this platform ({where or 'unknown'}); the bundle has: {', '.join(have)}",
            EXIT_USAGE,
        )
    if variant:
        mine = [t for t in mine if t["variant"] == variant]
        if not mine:
            raise BundleProblem(MANIFEST, f"no variant {variant!r} for {where}", EXIT_USAGE)
    variants = sorted({t["variant"] for t in mine})
    if len(variants) > 1:
        raise BundleProblem(
            MANIFEST,
            f"several variants for {where}: {', '.join(variants)}; choose one",
            EXIT_USAGE,
        )
    target: dict[str, Any] = mine[0]
    if target["python"] != python:
        raise BundleProblem(
            MANIFEST,
            f"the {target['variant']} lock is for Python {target['python']}, this is {python}; "
            f"run the installer with Python {target['python']} (PYTHON=...)",
            EXIT_USAGE,
        )
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="check.py", description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="", help="the variant to install (cpu, cuda12, ...)")
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent))
    args = parser.parse_args(argv)
    try:
        manifest, problems = check_bundle(args.root)
        if problems:
            for problem in problems:
                print(f"bundle: {problem}", file=sys.stderr)
            print("bundle: refusing to install; make the bundle again", file=sys.stderr)
            return EXIT_BAD
        python = "{}.{}".format(*sys.version_info[:2])
        target = choose_target(manifest, args.variant, this_platform(), python)
    except BundleProblem as problem:
        print(f"bundle: {problem}", file=sys.stderr)
        return problem.code
    print(target["requirements"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
