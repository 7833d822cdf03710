"""`envgen bundle`: the committed lock set's packages in one archive that installs offline."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from envgen.cli import Result
from envgen.options import Options

if TYPE_CHECKING:
    from envgen.bundle import BundleResult
    from envgen.bundle.select import BundleFile, Selection

_MB = 1e6


class ProgressBar:
    """One line on a terminal, redrawn at most five times a second: bytes, share, speed."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.total, self.done = stream, 0, 0
        self.start = self.last = time.monotonic()
        self.lock = threading.Lock()

    def begin(self, selection: Selection) -> None:
        self.total = selection.wheel_bytes

    def advance(self, _file: BundleFile, count: int) -> None:
        with self.lock:
            self.done += count
            now = time.monotonic()
            if now - self.last < 0.2:
                return
            self.last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        share = self.done / self.total if self.total else 0.0
        width = 30
        filled = int(width * min(share, 1.0))
        speed = self.done / max(now - self.start, 1e-6) / _MB
        self.stream.write(
            f"\rbundle  [{'#' * filled}{'.' * (width - filled)}] {share:4.0%} "
            f"{self.done / _MB:.1f}/{self.total / _MB:.1f} MB  {speed:.1f} MB/s "
        )
        self.stream.flush()

    def finish(self) -> None:
        if self.done:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()


def _check_output(path: Path, force: bool) -> None:
    """Refuse to replace a file that is not an envgen bundle, unless --force."""
    import tarfile

    from envgen.bundle.archive import TOP
    from envgen.errors import FileConflictError

    if force or not path.exists():
        return
    try:
        with tarfile.open(path, "r:") as tar:
            first = tar.next()
        ours = first is not None and first.name.startswith(TOP + "/")
    except (OSError, tarfile.TarError):
        ours = False
    if not ours:
        raise FileConflictError(
            f"{path} exists and is not an envgen bundle",
            hint="choose another --output, or pass --force to replace it",
        )


def show_bundle(result: BundleResult, mirror_lines: list[str]) -> str:
    sel = result.selection
    overhead = result.size / result.package_bytes if result.package_bytes else 0.0
    lines = [
        f"envgen bundle: {result.path} in {result.seconds:.1f} s",
        (
            f"  size     {result.size / _MB:.1f} MB for {len(sel.files)} package files of "
            f"{result.package_bytes / _MB:.1f} MB ({overhead:.4f}x)"
        ),
        f"  sha256   {result.sha256}",
        (
            f"  fetched  {result.downloaded / _MB:.1f} MB from {result.sources}; "
            f"{result.reused} file(s) already in the cache"
        ),
    ]
    lines += [f"  mirror   {line}" for line in mirror_lines]
    for target in sel.targets:
        lines.append(
            f"  target   {target.variant} on {target.platform}, Python {target.python}: "
            f"{len(target.files)} files"
        )
    for warning in sel.warnings:
        lines.append(f"  warning  {warning}")
    name = result.path.name
    lines += [
        f"  install  tar -xf {name} && sh envgen-bundle/install.sh .venv",
        f"           (Windows: tar -xf {name}; powershell -File envgen-bundle\\install.ps1)",
        f"           or: envgen create --from-bundle {name}",
    ]
    return "\n".join(lines)


def run(args: Options) -> Result:
    from envgen.bundle import Sources, make_bundle
    from envgen.bundle.download import cache_dir
    from envgen.credentials import basic_auth
    from envgen.errors import ExternalToolError
    from envgen.kb import load_kb
    from envgen.mirrors import choose, explain, next_mirror_hint

    table = load_kb().mirrors
    choice = choose(args.mirror, table, allow_insecure=args.allow_insecure_mirror)
    given = args.source("mirror").kind != "default"
    mirror_lines = explain(choice, args.label("mirror"), given)
    sources = Sources(mirror=choice.mirror, headers=basic_auth(choice.login))
    output = Path(args.output) if args.output else None
    cache = Path(args.cache_dir) if args.cache_dir else cache_dir(os.environ)
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() and not args.json else None
    if bar is None:
        print(f"envgen: mirror  {mirror_lines[0]}", file=sys.stderr, flush=True)

    def on_start(selection: Selection) -> None:
        # Before any download: a file in the way is the user's to move, not an hour later.
        from envgen.bundle import default_output

        _check_output(output or default_output(selection), args.force)
        if bar is not None:
            bar.begin(selection)

    try:
        result = make_bundle(
            Path(args.lock_dir),
            output,
            variants=args.variants,
            platforms=args.platform,
            sources=sources,
            cache=cache,
            on_start=on_start,
            on_bytes=bar.advance if bar else None,
        )
    except ExternalToolError as exc:
        raise ExternalToolError(exc.message, hint=next_mirror_hint(choice, table)) from exc
    finally:
        if bar is not None:
            bar.finish()
    payload = {"bundle": result.to_dict(), "mirror": choice.to_dict(), "cache": str(cache)}
    return Result("bundle", payload, show_bundle(result, mirror_lines))
