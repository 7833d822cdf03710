"""The bundle's checker (check.py): shipped inside every bundle, run by its installers with any
Python from 3.7 on, and imported by `envgen create --from-bundle`."""

from __future__ import annotations

import ast
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envgen.bundle import check
from envgen.kb.lock_platforms import load_lock_platforms

REQUIREMENTS = "locks/requirements.cpu-linux-64.txt"


def _bundle(root: Path, wheel: bytes = b"wheel bytes") -> dict[str, Any]:
    """A small bundle on disk: one wheel, its requirements lock, and a manifest naming both."""
    digest = hashlib.sha256(wheel).hexdigest()
    lock = f"six==1.17.0 \\\n    --hash=sha256:{digest}\n".encode()
    files = {"wheels/six-1.17.0-py3-none-any.whl": wheel, REQUIREMENTS: lock}
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    manifest = {
        "schema": check.SCHEMA,
        "targets": [
            {
                "variant": "cpu",
                "platform": "linux-64",
                "python": "3.11",
                "requirements": REQUIREMENTS,
                "files": ["wheels/six-1.17.0-py3-none-any.whl"],
            }
        ],
        "files": [
            {"path": p, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
            for p, d in files.items()
        ],
    }
    (root / check.MANIFEST).write_text(json.dumps(manifest))
    return manifest


def test_an_intact_bundle_has_no_problem(tmp_path: Path) -> None:
    _bundle(tmp_path)
    manifest, problems = check.check_bundle(str(tmp_path))
    assert problems == []
    assert manifest["targets"][0]["variant"] == "cpu"


def test_a_changed_byte_is_named(tmp_path: Path) -> None:
    _bundle(tmp_path)
    wheel = tmp_path / "wheels/six-1.17.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel bytez")
    _, problems = check.check_bundle(str(tmp_path))
    assert [(p.path, p.why) for p in problems] == [
        ("wheels/six-1.17.0-py3-none-any.whl", "sha256 differs from the manifest (tampered)")
    ]


def test_a_manifest_edited_to_match_a_tampered_wheel_disagrees_with_the_lock(
    tmp_path: Path,
) -> None:
    manifest = _bundle(tmp_path)
    bad = b"evil bytes!"
    (tmp_path / "wheels/six-1.17.0-py3-none-any.whl").write_bytes(bad)
    for entry in manifest["files"]:
        if entry["path"].startswith("wheels/"):
            entry["sha256"] = hashlib.sha256(bad).hexdigest()
    (tmp_path / check.MANIFEST).write_text(json.dumps(manifest))
    _, problems = check.check_bundle(str(tmp_path))
    assert len(problems) == 1
    assert problems[0].path == check.MANIFEST
    assert REQUIREMENTS in problems[0].why


def test_missing_cut_and_extra_files_are_named(tmp_path: Path) -> None:
    _bundle(tmp_path)
    (tmp_path / REQUIREMENTS).unlink()
    (tmp_path / "wheels/six-1.17.0-py3-none-any.whl").write_bytes(b"short")
    (tmp_path / "wheels/extra.whl").write_bytes(b"x")
    _, problems = check.check_bundle(str(tmp_path))
    text = [str(p) for p in problems]
    assert f"{REQUIREMENTS}: is missing" in text
    assert any("is 5 bytes, the manifest says 11" in t for t in text)
    assert "wheels/extra.whl: is not in the manifest" in text


@pytest.mark.parametrize(
    ("doc", "why"),
    [
        (b"\xff\xfe", "is not JSON"),
        (b"[]", "is not an envgen bundle manifest"),
        (json.dumps({"schema": check.SCHEMA, "files": [], "targets": []}).encode(), "targets"),
        (
            json.dumps(
                {
                    "schema": check.SCHEMA,
                    "targets": [{}],
                    "files": [{"path": "../etc/passwd", "sha256": "0" * 64, "size": 1}],
                }
            ).encode(),
            "plain relative path",
        ),
        (
            json.dumps(
                {
                    "schema": check.SCHEMA,
                    "targets": [{}],
                    "files": [{"path": "a", "sha256": "0" * 64, "size": True}],
                }
            ).encode(),
            "byte count",
        ),
    ],
)
def test_a_manifest_that_is_not_one_is_refused(tmp_path: Path, doc: bytes, why: str) -> None:
    (tmp_path / check.MANIFEST).write_bytes(doc)
    with pytest.raises(check.BundleProblem) as exc:
        check.read_manifest(str(tmp_path))
    assert exc.value.path == check.MANIFEST
    assert why in exc.value.why


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("wheels/six-1.17.0-py3-none-any.whl", True),
        ("conda/linux-64/python-3.11.9-h955ad1f_0.conda", True),
        ("../x", False),
        ("/etc/passwd", False),
        ("a//b", False),
        ("a/./b", False),
        ("C:x", False),
        ("a\\b", False),
        ("a\nb", False),
        ("", False),
    ],
)
def test_member_paths(path: str, ok: bool) -> None:
    assert check.is_member_path(path) is ok


def test_choose_target_by_platform_variant_and_python(tmp_path: Path) -> None:
    manifest = _bundle(tmp_path)
    target = check.choose_target(manifest, "", "linux-64", "3.11")
    assert target["requirements"] == REQUIREMENTS
    with pytest.raises(check.BundleProblem, match=r"for Python 3.11, this is 3.12"):
        check.choose_target(manifest, "", "linux-64", "3.12")
    with pytest.raises(check.BundleProblem, match=r"no lock for this platform"):
        check.choose_target(manifest, "", "win-64", "3.11")
    with pytest.raises(check.BundleProblem, match=r"no variant 'cuda12'"):
        check.choose_target(manifest, "cuda12", "linux-64", "3.11")


def test_main_prints_the_lock_or_names_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _bundle(tmp_path)
    monkeypatch.setattr(check, "this_platform", lambda: "linux-64")
    monkeypatch.setattr(sys, "version_info", (3, 11, 0))
    assert check.main(["--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == REQUIREMENTS
    (tmp_path / REQUIREMENTS).write_text("edited\n")
    assert check.main(["--root", str(tmp_path)]) == check.EXIT_BAD
    assert f"bundle: {REQUIREMENTS}: is 7 bytes" in capsys.readouterr().err


def test_platform_names_are_the_lock_platforms() -> None:
    """check.py cannot import envgen; its table must agree with kb/lock-platforms.toml."""
    table = load_lock_platforms()
    system = {"linux": "linux", "macos": "darwin", "windows": "win32"}
    for platform in table.platforms:
        assert check.this_platform(system[platform.os_name], platform.arch) == platform.name
    assert set(check.PLATFORMS.values()) == set(table.names())


def test_checker_is_standard_library_python_3_7() -> None:
    source = Path(check.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source, feature_version=(3, 7))
    modules = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert modules <= set(sys.stdlib_module_names) | {"__future__"}
    assert not any(isinstance(n, ast.NamedExpr) for n in ast.walk(tree))
    calls = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert not calls & {"removeprefix", "removesuffix"}


@given(st.binary(max_size=400) | st.text(max_size=200).map(str.encode))
@settings(max_examples=300, deadline=None)
def test_any_manifest_bytes_are_read_or_refused_as_the_manifest(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as root:
        Path(root, check.MANIFEST).write_bytes(data)
        problem: check.BundleProblem | None = None
        try:
            check.read_manifest(root)
        except check.BundleProblem as exc:
            problem = exc
        if problem is not None:
            assert problem.path == check.MANIFEST
            assert str(problem).isprintable()
