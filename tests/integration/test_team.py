"""The team workflow, played for real in temporary git repositories (issue 13).

A lead locks on this machine for the GPU box from its profile (cpu and gpu variants, linux-64 and
win-64), renders the GPU files, commits. A teammate clones on this CPU machine and installs with
`create --frozen` and `create --locked`: the cpu variant is built and verified, and the clone is
left exactly as committed. A teammate profile with other CPU flags is current too; a changed
request and a newer knowledge base make `--locked` fail with the stale-lock code, naming the
change; a GPU variant forced on this machine is refused with the reason; the pre-commit hook runs
through `pre-commit` itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
H100 = ROOT / "tests" / "data" / "profiles" / "issue-example-h100.toml"
REQUEST = ("--python", "3.11", "--tensorflow", "2.21")


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVGEN_")}
    env.update(
        GIT_AUTHOR_NAME="lead",
        GIT_AUTHOR_EMAIL="lead@example.invalid",
        GIT_COMMITTER_NAME="lead",
        GIT_COMMITTER_EMAIL="lead@example.invalid",
        **extra,
    )
    return env


def _envgen(
    cwd: Path, *args: str, timeout: float = 900, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envgen", *args],
        cwd=cwd,
        env=env or _env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def lead_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lead's repository: a lock set for the GPU box (cpu + gpu, linux-64 + win-64), the GPU
    files rendered from the same profile, a .gitignore for the environment, all committed."""
    repo = tmp_path_factory.mktemp("lead")
    _git(repo, "init", "-q", "-b", "main")
    lock = _envgen(
        repo,
        "lock",
        "--profile",
        str(H100),
        *REQUEST,
        "--variants",
        "cpu,gpu",
        "--platform",
        "linux-64,win-64",
    )
    assert lock.returncode == 0, lock.stderr
    render = _envgen(repo, "render", "--profile", str(H100), *REQUEST)
    assert render.returncode == 0, render.stderr
    assert "tensorflow[and-cuda]==2.21.0" in (repo / "requirements.txt").read_text()
    (repo / ".gitignore").write_text(".venv/\n")
    _git(repo, "add", "-A")
    subprocess.run(
        ["git", "-C", str(repo), "commit", "-q", "-m", "environment"],
        env=_env(),
        check=True,
        timeout=60,
    )
    return repo


@pytest.fixture(scope="module")
def teammate(lead_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    clone = tmp_path_factory.mktemp("teammate") / "project"
    subprocess.run(["git", "clone", "-q", str(lead_repo), str(clone)], check=True, timeout=60)
    return clone


def _clean(repo: Path) -> None:
    assert _git(repo, "status", "--porcelain") == "", "the clone must stay as committed"


def test_frozen_then_locked_install_the_cpu_variant_and_touch_nothing(teammate: Path) -> None:
    for mode in ("--frozen", "--locked"):
        done = _envgen(teammate, "create", mode, "--json")
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        assert out["variant"] == "cpu"
        assert out["choice"].startswith("this machine: no NVIDIA driver -> cpu variant")
        assert out["verify"]["ok"] is True
        assert out["locks-changed"] == []
        assert all(not f["changed"] for f in out["files"])
        human = _envgen(teammate, "create", mode).stdout.splitlines()
        assert not [line for line in human if line.strip().startswith("commit ")], human
        _clean(teammate)
    # The build stage alone: the same variant, reused, nothing planned or written.
    built = _envgen(teammate, "build", "--frozen", "--json")
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout)["build"]["reused"] is True
    _clean(teammate)
    # The GPU files stayed the team's GPU files.
    assert "tensorflow[and-cuda]==2.21.0" in (teammate / "requirements.txt").read_text()
    marker = json.loads((teammate / ".venv" / ".envgen-complete.json").read_text())
    assert marker["chosen"]["variant"] == "cpu"


def test_a_teammate_with_other_cpu_flags_is_current(teammate: Path) -> None:
    other = teammate.parent / "other-cpu.toml"
    other.write_text(
        'schema = 1\n[os]\nname = "linux"\narch = "x86_64"\n'
        '[cpu]\nflags = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw"]\n'
        '[python]\nversion = "3.11"\n'
    )
    done = _envgen(teammate, "create", "--locked", "--profile", str(other), "--no-verify")
    assert done.returncode == 0, done.stderr
    _clean(teammate)
    check = _envgen(teammate, "lock", "--check")
    assert check.returncode == 0, check.stderr
    assert "lock set is current" in check.stdout


def test_a_changed_request_is_a_stale_lock_naming_the_change(teammate: Path) -> None:
    done = _envgen(teammate, "create", "--locked", "--tensorflow", "2.20", "--json")
    assert done.returncode == 9, done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["code"] == "stale-lock"
    assert "request changed: tensorflow 2.21 -> 2.20" in error["message"]
    assert any("tensorflow-cpu 2.21.0 -> 2.20" in c for c in error["changes"])
    assert "re-lock with: envgen lock --output-dir locks" in error["hint"]
    _clean(teammate)


def test_a_newer_knowledge_base_is_a_stale_lock_naming_the_change(
    teammate: Path, tmp_path: Path
) -> None:
    # A newer envgen whose knowledge base pairs TF 2.21 with another Keras floor.
    newer = tmp_path / "newer"
    shutil.copytree(ROOT / "envgen", newer / "envgen")
    builds = newer / "envgen" / "kb" / "tensorflow-builds.toml"
    text = builds.read_text()
    minor = text.index('minor = "2.21"')
    start = text.index("keras = ", minor)
    end = text.index("\n", start)
    builds.write_text(text[:start] + 'keras = "keras>=3.13.0"' + text[end:])
    env = _env(PYTHONPATH=str(newer))
    done = _envgen(teammate, "create", "--locked", "--json", env=env)
    assert done.returncode == 9, done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["changes"][0].startswith("knowledge base changed (")
    assert any("keras >=3.12.0 -> >=3.13.0" in c for c in error["changes"]), error
    _clean(teammate)


def test_a_gpu_variant_on_this_machine_is_refused_with_the_reason(teammate: Path) -> None:
    done = _envgen(teammate, "create", "--frozen", "--target", "gpu", "--json")
    assert done.returncode == 4, done.stderr
    error = json.loads(done.stdout)["error"]
    assert "no variant of the committed lock set runs on this machine" in error["message"]
    assert "cuda12: no NVIDIA GPU with a working driver" in error["remedies"]
    _clean(teammate)


def test_the_pre_commit_hook_runs_through_pre_commit(lead_repo: Path, tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    subprocess.run([sys.executable, "-m", "venv", str(tools)], check=True, timeout=300)
    pip = subprocess.run(
        [str(tools / "bin" / "pip"), "install", "-q", "pre-commit"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if pip.returncode != 0:
        pytest.skip(f"pre-commit could not be installed: {pip.stderr[-300:]}")
    # envgen's repository as it stands (try-repo takes uncommitted changes too).
    source = tmp_path / "envgen-src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".venv", ".ci-venv", "*.egg-info", "__pycache__", "demo"),
    )
    repo = tmp_path / "hooked"
    subprocess.run(["git", "clone", "-q", str(lead_repo), str(repo)], check=True, timeout=60)

    def hook() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(tools / "bin" / "pre-commit"),
                "try-repo",
                str(source),
                "envgen-lock-check",
                "--all-files",
            ],
            cwd=repo,
            env=_env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home")),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    current = hook()
    assert current.returncode == 0, current.stdout + current.stderr
    assert "envgen lock set is current" in current.stdout
    with (repo / "locks" / "requirements.cpu-linux-64.txt").open("a") as fh:
        fh.write("# edited\n")
    stale = hook()
    assert stale.returncode != 0, stale.stdout
    assert "requirements.cpu-linux-64.txt was edited" in stale.stdout + stale.stderr
