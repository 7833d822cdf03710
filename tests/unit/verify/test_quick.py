"""The quick re-check: installed files against their RECORD, and the record of the last full
verification (`.envgen-verified.json`) that lets a re-run prove an environment without Python.

The environments here are real directories written the way an installer writes them (files, then
a RECORD of their sha256 in URL-safe base64); nothing is mocked but the interpreter, which the
quick path must never start (the unit tests' guard refuses any subprocess).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envgen.kb import load_kb
from envgen.verify import record, stamp, verify
from envgen.verify.expect import for_backend
from envgen.verify.record import parse_record, scan, site_dirs_of

KB = load_kb()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def install(site: Path, name: str, files: dict[str, bytes], outside: dict[str, bytes] | None = None
            ) -> Path:  # fmt: skip
    """A distribution as an installer leaves it: its files and a RECORD of their hashes."""
    rows = []
    for rel, data in {**files, **(outside or {})}.items():
        path = Path(os.path.normpath(site / rel))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        rows.append(f"{rel},sha256={_b64(data)},{len(data)}")
    info = site / f"{name}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    rows.append(f"{name}.dist-info/RECORD,,")
    (info / "RECORD").write_text("\n".join(rows) + "\n")
    return info


@pytest.fixture
def env(tmp_path: Path) -> Path:
    """A virtualenv's layout: pyvenv.cfg, bin/python, one site directory with two packages."""
    prefix = tmp_path / "venv"
    site = prefix / "lib" / "python3.12" / "site-packages"
    site.mkdir(parents=True)
    (prefix / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.12.3\n")
    (prefix / "bin").mkdir()
    (prefix / "bin" / "python").write_text("")
    install(site, "alpha-1.0", {"alpha/__init__.py": b"A = 1\n", "alpha/data.bin": b"\0" * 4096},
            outside={"../../../bin/alpha": b"#!/usr/bin/env python\n"})  # fmt: skip
    install(site, "beta-2.0", {"beta.py": b"B = 2\n"})
    return prefix


def _site(prefix: Path) -> Path:
    return prefix / "lib" / "python3.12" / "site-packages"


# --- RECORD -------------------------------------------------------------------------------------


def test_a_real_record_reads_as_its_rows(data_dir: Path) -> None:
    """namex 0.1.0's RECORD as uv installed it (tests/data/verify/record/)."""
    rows = parse_record((data_dir / "verify" / "record" / "namex-0.1.0.RECORD").read_text())
    assert len(rows) == 11
    assert rows[7] == ("namex/__init__.py", "_Yz5JIy3h2oXqki99ieRNfajFfWk7wJQOV08wdnglKY", 121)
    recorded = next(r for r in rows if r.path.endswith("/RECORD"))
    assert (recorded.sha256, recorded.size) == (None, None)  # RECORD cannot hash itself


@given(st.text(max_size=400))
def test_any_record_text_reads_without_error(text: str) -> None:
    for row in parse_record(text):
        assert row.path
        assert row.sha256 is None or len(row.sha256) == 43
        assert row.size is None or row.size >= 0


def test_scan_hashes_files_inside_and_counts_scripts_outside(env: Path) -> None:
    (site,) = scan([str(_site(env))], hashed=True)
    alpha = site.dists["alpha-1.0.dist-info"]
    assert (alpha.files, alpha.hashed, alpha.outside) == (4, 2, 1)
    assert alpha.differ == {}
    assert alpha.missing == ()
    # Same size, other bytes: only the hash tells.
    (_site(env) / "alpha" / "data.bin").write_bytes(b"\1" * 4096)
    (_site(env) / "beta.py").unlink()
    (site,) = scan([str(_site(env))], hashed=True)
    assert list(site.dists["alpha-1.0.dist-info"].differ) == ["alpha/data.bin"]
    assert site.dists["beta-2.0.dist-info"].missing == ("beta.py",)


def test_a_file_larger_than_its_record_says_is_not_read_whole(env: Path) -> None:
    (_site(env) / "beta.py").write_bytes(b"x" * 100_000)
    (site,) = scan([str(_site(env))], hashed=True)
    assert site.dists["beta-2.0.dist-info"].differ == {"beta.py": record.UNREADABLE}


def test_site_directories_include_what_pth_files_add(env: Path, tmp_path: Path) -> None:
    base = tmp_path / "base-site"
    install(base, "gamma-3.0", {"gamma.py": b""})
    (_site(env) / "base.pth").write_text(f"# a comment\nimport os\n{base}\n")
    assert site_dirs_of(env) == [str(_site(env).resolve()), str(base.resolve())]


# --- the record of a full verification, and the quick check -------------------------------------


def _record(env: Path, **changes: str | None) -> dict[str, str | None]:
    expect = for_backend(None, "jax")
    ctx = stamp.context(env / "bin" / "python", env, target="gpu", expect=expect,
                        profile_hash="p1")  # fmt: skip
    sites = scan(site_dirs_of(env), hashed=True)
    checks = [{"name": "jax:keras-fit", "ok": True, "required": True, "detail": "fit"}]
    summary = {"target": "gpu", "python-version": "3.12.3"}
    assert stamp.write(env, ctx, summary=summary, checks=checks, sites=sites, seconds=9.5)
    return {**ctx, **changes}


def test_nothing_changed_is_proved_from_the_record(env: Path) -> None:
    ctx = _record(env)
    found = stamp.check(env, ctx)
    assert isinstance(found, stamp.Quick)
    assert (found.files, found.dists, found.rehashed, found.target) == (6, 2, 0, "gpu")
    assert found.checks[0]["name"] == "jax:keras-fit"


def test_a_touched_file_is_hashed_again_once(env: Path) -> None:
    ctx = _record(env)
    later = time.time() + 5
    os.utime(_site(env) / "beta.py", (later, later))
    found = stamp.check(env, ctx)
    assert isinstance(found, stamp.Quick)
    assert found.rehashed == 1
    # Its new state is remembered: the next run hashes nothing.
    again = stamp.check(env, ctx)
    assert isinstance(again, stamp.Quick)
    assert again.rehashed == 0


def test_an_edited_file_needs_the_full_verification(env: Path) -> None:
    ctx = _record(env)
    (_site(env) / "beta.py").write_bytes(b"B = 3\n")
    found = stamp.check(env, ctx)
    assert isinstance(found, stamp.NoQuick)
    assert found.code == "quick-files"
    assert "'beta.py'" in found.fields["examples"]


def test_an_installed_package_needs_the_full_verification(env: Path) -> None:
    ctx = _record(env)
    install(_site(env), "delta-4.0", {"delta.py": b""})
    found = stamp.check(env, ctx)
    assert isinstance(found, stamp.NoQuick)
    assert found.code == "quick-entries"


@pytest.mark.parametrize("key", ["keras-backend", "profile", "build", "target", "environment"])
def test_another_context_needs_the_full_verification(env: Path, key: str) -> None:
    ctx = _record(env, **{key: "other"})
    found = stamp.check(env, ctx)
    assert isinstance(found, stamp.NoQuick)
    assert found.fields["what"] == key


def test_the_plans_variables_are_part_of_the_context_by_digest(env: Path) -> None:
    # The probe runs with the plan's variables (issue 14's LD_LIBRARY_PATH over conda's CUDA):
    # another value is another verification; the record names the variables, not their values.
    python = env / "bin" / "python"
    plan_vars = (("LD_LIBRARY_PATH", "$ORIGIN/../lib"),)
    expect = replace(for_backend(None, "tensorflow"), environment=plan_vars)
    ctx = stamp.context(python, env, target="gpu", expect=expect, profile_hash="p1")
    other = replace(expect, environment=(("LD_LIBRARY_PATH", "/opt/cuda/lib64"),))
    again = stamp.context(python, env, target="gpu", expect=other, profile_hash="p1")
    assert ctx["environment"] != again["environment"]
    assert str(ctx["environment"]).startswith("LD_LIBRARY_PATH:")
    assert "$ORIGIN" not in str(ctx["environment"])
    bare = stamp.context(python, env, target="gpu", expect=for_backend(None, "tensorflow"),
                         profile_hash="p1")  # fmt: skip
    assert bare["environment"] is None


@pytest.mark.parametrize("text", ["", "{}", "[1]", '{"schema": "envgen.verified/1"}', "\xff"])
def test_no_usable_record_needs_the_full_verification(env: Path, text: str) -> None:
    ctx = _record(env)
    (env / stamp.NAME).write_text(text, encoding="latin-1")
    found = stamp.check(env, ctx)
    assert isinstance(found, stamp.NoQuick)
    assert found.code == "quick-none"


def test_verify_proves_it_quickly_without_starting_python(env: Path) -> None:
    """The unit tests refuse every subprocess: a quick verify that passes started none."""
    _record(env)
    report = verify(env / "bin" / "python", target="gpu", expect=for_backend(None, "jax"),
                    kb=KB, profile_hash="p1")  # fmt: skip
    assert report.mode == "quick"
    assert report.ok
    assert [c.name for c in report.checks] == ["proof", "files"]
    assert "6 installed files of 2 distributions" in report.checks[1].detail
    saved = report.to_dict()
    assert saved["mode"] == "quick"
    assert saved["proof"]["checks"][0]["detail"] == "fit"
    assert json.loads(report.to_json())["ok"] is True
