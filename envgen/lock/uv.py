"""Running `uv pip compile` for a lock set: one online run per distinct input, the rest offline.

A lock needs two answers per (plan, platform) (envgen.lock.pip says why): the hashed
requirements and the PEP 751 pylock. uv writes one format per run, and every online run
revalidates each index page it reads; the index here sends no cache headers (lab report §0), so
each revalidation is a round trip. `lock_plans` goes online only where an input is new:

1. The leads resolve online, side by side: the plan with the most pins (a GPU plan's CUDA
   wheels), then each plan that asks for a package no earlier lead asked for (`tensorflow-cpu`
   on Linux beside `tensorflow` elsewhere). Beside each, its pylock resolves `--offline` from
   what the cache already holds, kept only if it agrees with the online answer file by file.
2. The other plans then resolve `--offline`, both formats side by side: the leads have just
   revalidated the pages they read. An answer that pins a package no lead pinned (a
   Windows-only dependency) could rest on a stale page, so that plan resolves online after
   all, as does one whose pages are not in the cache.
3. A pylock whose offline run found the cache short is resolved online.

The result is what one online run per answer would give (every page an answer rests on was
revalidated in this lock), for one online run per lead plus offline reads (~0.2 s for TF 2.21).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from packaging.utils import canonicalize_name

from envgen.errors import ExternalToolError, InputFileError
from envgen.kb.lock_platforms import LockPlatform
from envgen.lock.pip import PipLock, pip_lock, requirements_in
from envgen.plan import Plan
from envgen.proc import Completed, run, summary

# The index every lock is resolved against: canonical URLs only (mirror-neutral locks, DESIGN.md).
PYPI = "https://pypi.org/simple"
# uv resolves TF 2.15 in 2-15 s here (lab report §2); ten minutes means a hung network.
UV_TIMEOUT = 600.0

# Variables through which uv would take an index, a constraint or a resolution mode from outside
# the inputs envgen hashes (uv's docs, "Environment variables").
_UV_SCRUB = (
    "UV_CONFIG_FILE",
    "UV_CONSTRAINT",
    "UV_DEFAULT_INDEX",
    "UV_EXCLUDE_NEWER",
    "UV_EXTRA_INDEX_URL",
    "UV_FIND_LINKS",
    "UV_INDEX",
    "UV_INDEX_STRATEGY",
    "UV_INDEX_URL",
    "UV_NO_BINARY",
    "UV_NO_BUILD",
    "UV_OFFLINE",
    "UV_ONLY_BINARY",
    "UV_OVERRIDE",
    "UV_PRERELEASE",
    "UV_RESOLUTION",
    "UV_TORCH_BACKEND",
)


def uv_argv(uv: str, plan: Plan, platform: LockPlatform, *, fmt: str, index: str) -> list[str]:
    """The `uv pip compile` command for one answer: fmt is "pylock" or "requirements".

    A plan's other indexes (the PyTorch index of an index-only build) come before PyPI, as
    `--index`: uv's default strategy takes each package from the first index that has it, the
    way PyTorch's own instructions install (`pip install torch --index-url <its index>`), and an
    install hands uv the same indexes in the same order. Always the canonical URLs: the lock
    records them, a mirror is applied when installing."""
    extra = [a for url in plan.indexes for a in ("--index", url)]
    argv = [
        uv,
        "pip",
        "compile",
        "-",
        "--quiet",
        "--no-config",
        "--no-header",
        *extra,
        "--default-index",
        index,
        "--python-version",
        plan.python,
        "--python-platform",
        platform.uv_target,
    ]
    if fmt == "pylock":
        return [*argv, "--format", "pylock.toml"]
    return [*argv, "--generate-hashes", "--no-annotate"]


def uv_environment(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k not in _UV_SCRUB}


def uv_failure(stderr: str, where: str, index: str = PYPI) -> ExternalToolError:
    """uv's multi-line report as one line, with uv's hint as the hint.

    "No solution found" gives its first `cause:` (the conflict); any other failure (the index
    did not answer, DNS, TLS) its headline and last cause, and a hint naming the index."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    hint = next((ln.removeprefix("hint:").strip() for ln in lines if ln.startswith("hint:")), "")
    body = [ln for ln in lines if not ln.startswith("hint:")]
    if body and "no solution found" in body[0].lower():
        causes = [ln.removeprefix("cause:").strip() for ln in body if ln.startswith("cause:")]
        cause = causes[0] if causes else body[0]
        return ExternalToolError(f"uv found no solution for {where}: {cause}", hint=hint)
    text = "\n".join(body)
    return ExternalToolError(
        f"uv pip compile failed for {where}: {summary(text).removeprefix('error:').strip()}",
        hint=hint
        or f"envgen lock resolves against {index} (locks stay mirror-neutral): check that it "
        "answers from here (network, or a proxy in HTTPS_PROXY)",
    )


class _Job:
    """One (plan, platform): its two uv commands, run through `run`."""

    def __init__(
        self,
        plan: Plan,
        platform: LockPlatform,
        uv: str,
        index: str,
        env: Mapping[str, str],
        *,
        local: Mapping[str, str],
    ) -> None:
        self.plan, self.platform, self.index = plan, platform, index
        self.where = f"{platform.name}, Python {plan.python}"
        self._uv, self._env, self._text = uv, env, requirements_in(plan, local)

    def uv(self, fmt: str, *, offline: bool) -> Completed:
        argv = uv_argv(self._uv, self.plan, self.platform, fmt=fmt, index=self.index)
        argv += ["--offline"] if offline else []
        return run(argv, timeout=UV_TIMEOUT, check=False, env=self._env, input_text=self._text)

    def failed(self, done: Completed) -> ExternalToolError:
        indexes = " and ".join([*self.plan.indexes, self.index])
        return uv_failure(done.stderr or done.stdout, self.where, indexes)

    def joined(self, requirements: Completed, pylock: Completed) -> PipLock | None:
        """Both answers as one lock, or None when they do not match (the pylock came from a
        cache the requirements run has since revalidated, or found the cache short)."""
        if requirements.returncode != 0 or pylock.returncode != 0:
            return None
        try:
            return pip_lock(
                self.platform.name, self.plan.python, pylock.stdout, requirements.stdout
            )
        except (ExternalToolError, InputFileError):
            return None

    def pylock_after(self, requirements: Completed) -> PipLock:
        """The pylock once `requirements` is known good: offline (its pages are fresh now),
        online if the cache still lacks something. Answers that disagree even so are refused
        (pip_lock names the package)."""
        pylock = self.uv("pylock", offline=True)
        if pylock.returncode != 0:
            pylock = self.uv("pylock", offline=False)
            if pylock.returncode != 0:
                raise self.failed(pylock)
        return pip_lock(self.platform.name, self.plan.python, pylock.stdout, requirements.stdout)


def lock_plans(
    jobs: Sequence[tuple[Plan, LockPlatform]],
    *,
    uv: str = "uv",
    index: str = PYPI,
    environ: Mapping[str, str] | None = None,
    local: Mapping[str, str] | None = None,
) -> list[PipLock]:
    """Lock every (plan, platform) of `jobs`, in order; see the module docstring for how.
    `local` maps a direct-URL pin's URL to its downloaded copy (`file://...`, envgen.lock.direct),
    which uv reads instead."""
    if not jobs:
        return []
    env = uv_environment(os.environ if environ is None else environ)
    work = [_Job(plan, plat, uv, index, env, local=local or {}) for plan, plat in jobs]
    leads = _leads([job.plan for job in work])
    out: dict[int, PipLock] = {}
    # Two pools: a plan's task waits on its uv commands, so they must not queue behind it.
    with (
        ThreadPoolExecutor(max_workers=2 * len(work)) as commands,
        ThreadPoolExecutor(max_workers=len(work)) as plans,
    ):

        def both(job: _Job, offline: bool) -> tuple[Completed, Completed]:
            futures = (
                commands.submit(job.uv, "requirements", offline=offline),
                commands.submit(job.uv, "pylock", offline=True),
            )
            return futures[0].result(), futures[1].result()

        def online(job: _Job) -> PipLock:
            requirements, early = both(job, offline=False)
            if requirements.returncode != 0:
                raise job.failed(requirements)
            return job.joined(requirements, early) or job.pylock_after(requirements)

        first = {i: plans.submit(online, work[i]) for i in leads}
        out.update({i: f.result() for i, f in first.items()})
        fresh = {p.name for lock in out.values() for p in lock.packages}

        def follow(job: _Job) -> PipLock:
            found = job.joined(*both(job, offline=True))
            if found is not None and {p.name for p in found.packages} <= fresh:
                return found
            requirements = job.uv("requirements", offline=False)
            if requirements.returncode != 0:
                raise job.failed(requirements)
            return job.pylock_after(requirements)

        rest = {i: plans.submit(follow, job) for i, job in enumerate(work) if i not in first}
        out.update({i: f.result() for i, f in rest.items()})
    return [out[i] for i in range(len(work))]


def _leads(plans: Sequence[Plan]) -> list[int]:
    """The plans that resolve online: most pins first, each one that asks for a package no
    earlier lead asked for (tensorflow-cpu on Linux beside tensorflow elsewhere), or reads an
    index no earlier lead read (the PyTorch index of a torch build). The others follow offline,
    from the pages the leads revalidated."""
    order = sorted(range(len(plans)), key=lambda i: (-len(plans[i].pip_packages()), i))
    asked: set[str] = set()
    leads = []
    for i in order:
        names: set[str] = {canonicalize_name(p.name) for p in plans[i].pip_packages()}
        names |= {f"index {url}" for url in plans[i].indexes}
        if not names <= asked:
            leads.append(i)
            asked |= names
    return sorted(leads)
