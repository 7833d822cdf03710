"""`envgen create`'s build and verify stages, run while the create stage holds the prefix lock.

The build installs the chosen lock with the backend asked for (a failure reading the index names
the next mirror to try); a container image's own check is its verification. A prefix is then
proved by `envgen verify` on the Keras backend the lock set's index records (a JAX set: JAX and
a Keras fit on it), with the variant's variables, quickly where the record of its last full
verification still holds.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from envgen.errors import VerificationError
from envgen.plan import DEFAULT_BACKEND

if TYPE_CHECKING:
    from envgen.backends import Backend
    from envgen.bundle import OpenedBundle
    from envgen.create import Clock, CreateOptions, CreateResult, Progress
    from envgen.kb import KnowledgeBase
    from envgen.lock.team import Use
    from envgen.mirrors import MirrorChoice
    from envgen.profile import HardwareProfile


def build_and_verify(
    out: CreateResult,
    *,
    use: Use,
    backend: Backend,
    profile: HardwareProfile,
    kb: KnowledgeBase,
    options: CreateOptions,
    mirror: MirrorChoice,
    clock: Clock,
    progress: Progress,
    bundle: OpenedBundle | None = None,
) -> None:
    """The build and verify stages, filling `out` (the create stage holds the prefix lock)."""
    from envgen import install
    from envgen.errors import ExternalToolError
    from envgen.mirrors import next_mirror_hint

    prefix = out.prefix
    start = time.perf_counter()
    request = install.request_for(
        use,
        project=options.project,
        prefix=prefix,
        mirror=mirror,
        force=options.force,
        base_image=options.base_image,
        progress=options.progress,
        offline_from=bundle.wheels if bundle is not None else None,
        origin=out.bundle,
        torch_mirror=options.torch_mirror,
    )
    progress(f"build   {backend.name} {install.where(backend, request)}")
    try:
        built = install.build(backend, request)
    except ExternalToolError as exc:
        if not exc.from_index:
            raise
        # The step that reads the index failed: name the next mirror to try.
        raise ExternalToolError(exc.message, hint=next_mirror_hint(mirror, kb.mirrors)) from exc
    out.python = built.python
    if built.image is not None:
        # The image's own check ran inside it (build() raises when it fails): that is the
        # verification; the host-side probe cannot see into the image.
        out.image = built.image
        how = "reused (same inputs)" if built.reused else f"built with {built.installer}"
        clock.step("build", start, f"{built.image} {how}")
        out.report = {"ok": True, "image": built.image, "check": built.check}
        clock.step("verify", time.perf_counter(), f"image check passed: {built.check}")
        return
    how = "reused (same lock)" if built.reused else f"installed with {built.installer}"
    if built.install_log is not None and built.install_log.phases:
        got = install.fetched(built, use, request)
        how += f": {built.install_log.describe()}" + (f"; {got.describe()}" if got else "")
        out.build = {
            "phases": built.install_log.to_dict(),
            **({"fetched": got.to_dict()} if got else {}),
        }
    clock.step("build", start, f"{prefix} {how}")
    if options.verify:
        _verify(
            out,
            built.python,
            use=use,
            profile=profile,
            kb=kb,
            options=options,
            clock=clock,
            progress=progress,
        )


def _verify(
    out: CreateResult,
    python: Path,
    *,
    use: Use,
    profile: HardwareProfile,
    kb: KnowledgeBase,
    options: CreateOptions,
    clock: Clock,
    progress: Progress,
) -> None:
    """Prove the built environment on the Keras backend its lock set records; the report goes
    beside it (verify-report.json); a failed check raises VerificationError."""
    from envgen.files import write_text
    from envgen.profile import digest
    from envgen.verify import verify
    from envgen.verify.expect import from_lock_set

    prefix, lock, variant = out.prefix, out.lock, use.choice.variant
    start = time.perf_counter()
    out.report_path = prefix / "verify-report.json"
    # A verification cut short must not leave an earlier run's "ok" behind.
    out.report_path.unlink(missing_ok=True)
    # The set's own backend (its index records it): what was installed is what is proved.
    keras_backend = str(use.index.request.get("keras-backend", DEFAULT_BACKEND))
    title = kb.keras_backends.get(keras_backend).title
    progress(
        f"verify  proving {title} works in the environment (quick where its last full proof holds)"
    )
    report = verify(
        python,
        target=variant.target,
        expect=from_lock_set(lock, keras_backend, variant.environment),
        cpu_flags=profile.cpu.flags,
        kb=kb,
        profile_hash=digest(profile),
        full=options.full_verify,
    )
    write_text(out.report_path, report.to_json(), force=True)
    out.report = report.to_dict()
    failed = report.failures
    passed = (
        "passed"
        if report.mode == "full"
        else "passed (quick: nothing changed since the last full verification)"
    )
    clock.step("verify", start, passed if not failed else f"{len(failed)} check(s) failed")
    if failed:
        details = "; ".join(f"{c.name}: {c.detail}" for c in failed)
        raise VerificationError(
            f"the environment at {prefix} was built but does not work: {details}",
            hint=f"details in {out.report_path}; `envgen doctor --prefix {prefix}` explains",
        )
