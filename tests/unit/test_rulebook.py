"""The rule book is the only judge, and its words are data.

Every message the resolver, doctor and verify build must take its version numbers from the
knowledge base: a boundary written into a string ("ended at 2.10", ">= 2.16") goes stale the day
a release row changes. This test reads the code of those stages and fails on a version literal
inside any string constant or f-string part.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from envgen import rules
from envgen.kb import load_kb
from envgen.profile import NvidiaDriver, OSInfo

ROOT = Path(__file__).parents[2] / "envgen"
STAGES = sorted(
    [
        *(ROOT / "resolve").glob("*.py"),
        *(ROOT / "doctor").glob("*.py"),
        *(ROOT / "verify").glob("*.py"),
        *(ROOT / "rules").glob("*.py"),
    ]
)
# A dotted version number: 2.10, 12.5, 525.60.13 (not "3.x", not a decimal in prose like "0.5 s"
# which no message here has).
VERSION = re.compile(r"(?<![\w.])\d+\.\d+(?:\.\d+)*(?![\w.]*\d)")


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            out.append((node.lineno, node.value))
    return out


@pytest.mark.parametrize("path", STAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_version_literal_in_a_message(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = [
        f"{path.name}:{line}: {text!r}" for line, text in _strings(tree) if VERSION.search(text)
    ]
    assert not found, "version literals in message strings:\n" + "\n".join(found)


def test_the_scan_sees_a_version_in_an_f_string() -> None:
    tree = ast.parse('x = f"native Windows GPU support ended at 2.10, {y}"')
    assert any(VERSION.search(text) for _, text in _strings(tree))


# --- the rules themselves, on the knowledge base's own facts -------------------------------------


def test_boundaries_come_from_the_tables() -> None:
    b = rules.boundaries(load_kb())
    # Each boundary is a minor the tables have; the message texts quote these, not literals.
    minors = {build.minor for build in load_kb().tensorflow.builds}
    for value in (b.last_windows_gpu, b.first_keras3, b.first_and_cuda, b.last_numpy_cap):
        assert value in minors


def test_a_cpu_with_avx2_has_avx() -> None:
    kb = load_kb()
    # A hand-written profile naming only avx2 is judged as a detected one would be.
    assert rules.cpu_features(kb, ("avx",), ("avx2",)).ok
    missing = rules.cpu_features(kb, ("avx",), ("sse4_2",))
    assert missing.code == "cpu-missing"
    assert missing.get("missing_flags") == "avx"


def test_a_branch_name_floor_does_not_admit_an_older_driver() -> None:
    # NVIDIA's table: CUDA 9.0.76 needs 384.81; a documented "384" must not admit 384.59.
    kb = load_kb()
    linux = OSInfo()
    floor = rules.cuda_driver_floor(kb, "9.0", linux, documented="384")
    assert floor.driver is not None
    verdict = rules.driver(kb, floor, NvidiaDriver("384.59"), linux)
    assert verdict.code == "driver-too-old"
    assert rules.driver(kb, floor, NvidiaDriver("384.81"), linux).ok


def test_minor_version_compatibility_floor() -> None:
    kb = load_kb()
    linux = OSInfo()
    floor = rules.cuda_driver_floor(kb, "12.5", linux)
    assert floor.who == "driver-who-minor-compat"
    # Above the CUDA 12 floor and below the 12.5 toolkit's own minimum: runs, with a warning.
    assert rules.driver(kb, floor, NvidiaDriver("535.104.05"), linux).code == "driver-minor-compat"
    assert rules.runtime_on_driver("12.5.1", "12.2").ok
    assert not rules.runtime_on_driver("13.0", "12.9").ok
