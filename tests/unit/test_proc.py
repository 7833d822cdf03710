"""`envgen.proc`: how a failing program's output becomes a one-line error (no process runs)."""

from __future__ import annotations

from pathlib import Path

from envgen.proc import _TAIL_CHARS, summary


def test_a_wrapped_cause_chain_stays_one_line_and_keeps_the_root_cause(data_dir: Path) -> None:
    # uv's real message for a full disk: the root cause is on the last of three lines.
    stderr = (data_dir / "uv" / "install-enospc.stderr.txt").read_text()
    assert stderr.count("\n") == 3
    tail = summary(stderr)
    assert "\n" not in tail
    assert tail.endswith("No space left on device (os error 28)")
    assert len(tail) <= _TAIL_CHARS + 3
    assert summary("error: Failed to install: six\n  cause: disk full\n") == (
        "error: Failed to install: six … cause: disk full"
    )


def test_short_output_is_kept_whole() -> None:
    assert summary("  error: nope\n\n") == "error: nope"
