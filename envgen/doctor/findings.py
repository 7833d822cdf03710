"""What an environment's own facts say, even when nothing crashed: the rule book applied to it.

The probe reported what is installed, whether `import tensorflow` survived, the build info and
the GPUs TensorFlow sees; the hardware profile says what the machine is. Each check below asks
the rule book (`envgen.rules`) the same question the resolver asks before it plans, so the doctor
and the resolver cannot disagree; `doctor-checks.toml` words each finding.
"""

from __future__ import annotations

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envgen import rules
from envgen.doctor.context import Context
from envgen.doctor.facts import environment_facts
from envgen.doctor.model import Environment, Finding, ImportResult
from envgen.doctor.signatures import from_signatures
from envgen.kb.tensorflow import Build, Release
from envgen.versions import is_dotted, major_minor


def _version(text: str | None) -> Version | None:
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None


def _platform(ctx: Context, env: Environment) -> str:
    """The knowledge-base platform name (`linux-x86_64`, `macos-arm64`, ...)."""
    if ctx.profile is not None:
        return f"{ctx.profile.os.name}-{ctx.profile.os.arch}"
    name = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(env.platform, env.platform)
    machine = env.machine.lower().replace("amd64", "x86_64")
    return f"{name}-{machine}"


def environment_findings(env: Environment, ctx: Context) -> list[Finding]:
    from envgen.doctor.backends import backend_findings

    found = env.tensorflow()
    if found is None and env.backends:
        return backend_findings(env, ctx)  # a Keras 3 environment on JAX or PyTorch
    if found is None:
        return [
            ctx.finding(
                "tensorflow-missing",
                f"no tensorflow distribution in {env.prefix}",
                "environment",
                python_exe=env.executable,
            )
        ]
    package, version = found
    imp = env.tensorflow_import
    release = ctx.kb.tensorflow.release(version) if _version(version) else None
    build = release.build if release else None
    if build is None and (v := _version(version)) is not None:
        build = ctx.kb.tensorflow.build(f"{v.major}.{v.minor}")
    fields = {
        "tensorflow": version,
        "package": package,
        "minor": build.minor if build else version,
        "python": env.python_minor,
    }
    out: list[Finding] = []
    if build is None:
        out.append(ctx.finding("tensorflow-unknown", f"{package} {version}", "environment", fields))
    if imp is not None:
        out += _import_findings(imp, build, ctx, fields, env)
    if build is not None:
        out += _cpu_findings(build, ctx, fields)
        out += _gpu_findings(env, build, ctx, fields)
        out += _keras_findings(env, build, ctx, fields)
    if release is not None:
        out += _keras_line_findings(env, release, ctx, fields)
    if release is not None:
        out += _numpy_findings(env, release, ctx, fields)
        out += _python_findings(env, release, ctx, fields)
        out += _cuda_wheel_findings(env, release, ctx, fields)
    return out + backend_findings(env, ctx)


def _cpu_verdict(build: Build, ctx: Context) -> rules.Verdict | None:
    """The rule book on the profile's CPU; None when the CPU is unknown or not x86-64."""
    profile = ctx.profile
    if profile is None or profile.os.arch != "x86_64" or not profile.cpu.flags:
        return None
    if build.cpu_features is None:
        return None  # not known yet for this build (a row under review)
    return rules.cpu_features(ctx.kb, build.cpu_features, profile.cpu.flags)


def _import_findings(
    imp: ImportResult,
    build: Build | None,
    ctx: Context,
    fields: dict[str, str],
    env: Environment,
) -> list[Finding]:
    known = environment_facts(env)
    out = from_signatures(imp.stderr, ctx, "import", known)
    if imp.keras_error:
        # `import keras` beside TensorFlow failed: its message is one of the classic pairings.
        out += from_signatures(imp.keras_error, ctx, "import", known)
    explained = any(f.severity == "error" for f in out)
    last = next((ln for ln in reversed(imp.stderr.strip().splitlines()) if ln.strip()), "")
    status = f"exit status {imp.returncode}" if imp.returncode is not None else "no exit status"
    if imp.timed_out:
        out.append(ctx.finding("import-timed-out", "import tensorflow: timed out", "import"))
    elif imp.signal == "SIGILL":
        verdict = _cpu_verdict(build, ctx) if build else None
        needed = ", ".join(build.cpu_features) if build and build.cpu_features else "?"
        missing = verdict.get("missing_flags") if verdict and not verdict.ok else ""
        evidence = f"import tensorflow: killed by SIGILL ({status})"
        out.append(
            ctx.finding(
                "import-sigill",
                evidence + (f"; last output: {last}" if last else ""),
                "import",
                returncode=str(imp.returncode),
                needed=needed,
                missing_text=f"; this CPU lacks {missing}" if missing else "",
                fields=fields,
            )
        )
    elif imp.signal is not None:
        out.append(
            ctx.finding(
                "import-crashed",
                f"import tensorflow: killed by {imp.signal} ({status})",
                "import",
                signal=imp.signal,
                returncode=str(imp.returncode),
                fields=fields,
            )
        )
    elif not imp.ok and not explained:
        out.append(
            ctx.finding(
                "import-failed",
                last or status,
                "import",
                returncode=str(imp.returncode),
                last_line=last or "no output",
                fields=fields,
            )
        )
    return out


def _cpu_findings(build: Build, ctx: Context, fields: dict[str, str]) -> list[Finding]:
    verdict = _cpu_verdict(build, ctx)
    if verdict is None or verdict.ok or ctx.profile is None:
        return []
    cpu = ctx.profile.cpu
    simd = ctx.kb.cpu.simd
    have = [f for f in simd if f in set(cpu.flags)]
    return [
        ctx.finding(
            "tensorflow-cpu-features",
            f"CPU {cpu.model or 'unknown model'} has {', '.join(have) or 'none'} of "
            f"{', '.join(simd)}; TensorFlow {fields['tensorflow']} needs "
            f"{', '.join(build.cpu_features or ())}",
            "environment",
            needed=", ".join(build.cpu_features or ()),
            missing=verdict.get("missing_flags"),
            cpu=cpu.model or "unknown model",
            fields=fields,
        )
    ]


def _gpu_findings(
    env: Environment, build: Build, ctx: Context, fields: dict[str, str]
) -> list[Finding]:
    profile = ctx.profile
    imp = env.tensorflow_import
    info = imp.build_info if imp is not None else {}
    is_cuda = info.get("is_cuda_build")
    cuda = str(info.get("cuda_version") or build.cuda)
    fields = {**fields, "cuda": major_minor(cuda) if is_dotted(cuda) else cuda}
    if profile is None:
        return []
    if not profile.has_nvidia_gpu:
        if is_cuda:
            return [
                ctx.finding(
                    "cuda-build-without-gpu",
                    f"tf.sysconfig.get_build_info(): is_cuda_build=True, cuda_version={cuda}; "
                    "profile: no NVIDIA driver or GPU",
                    "environment",
                    fields=fields,
                )
            ]
        return []
    gpu = profile.gpus[0]
    nvidia = profile.nvidia
    assert nvidia is not None  # has_nvidia_gpu guarantees it
    fields = {**fields, "gpu": gpu.name, "driver": nvidia.driver, "driver_cuda": nvidia.cuda or "?"}
    if is_cuda is False:
        return [
            ctx.finding(
                "gpu-unused-cpu-build",
                f"tf.sysconfig.get_build_info(): is_cuda_build=False; profile: {gpu.name}",
                "environment",
                fields=fields,
            )
        ]
    out: list[Finding] = []
    driver_ok = True
    if is_dotted(cuda):
        # The build's own CUDA (build info) against the driver: the resolver's rule.
        documented = (
            None
            if profile.os.name == "windows"
            else (build.driver_wsl if profile.os.wsl else build.driver_linux)
        )
        same = major_minor(cuda) == build.cuda
        floor = rules.cuda_driver_floor(
            ctx.kb, cuda, profile.os, documented=documented if same else None
        )
        verdict = rules.driver(ctx.kb, floor, nvidia, profile.os)
        if verdict.code in ("driver-too-old", "driver-minor-compat"):
            driver_ok = verdict.ok
            out.append(
                ctx.finding(
                    verdict.code,
                    f"TensorFlow built with CUDA {cuda}; driver {nvidia.driver} supports CUDA "
                    f"up to {nvidia.cuda or '?'}",
                    "environment",
                    min_driver=verdict.get("min_driver"),
                    fields=fields,
                )
            )
    names = info.get("cuda_compute_capabilities") if imp is not None else None
    arch = (
        rules.Architectures.from_names(names, build)
        if isinstance(names, list) and names
        else rules.Architectures.of(build)
    )
    for g in profile.gpus:
        cc = g.compute_capability
        if cc is None or not is_dotted(cc, parts=2):
            continue
        verdict = rules.compute_capability(ctx.kb, arch, cc)
        gfields = {**fields, "gpu": g.name, "cc": cc, "min_cc": arch.minimum or "?"}
        if verdict.code == "cc-below-minimum":
            out.append(
                ctx.finding(
                    "gpu-below-minimum",
                    f"{g.name}: compute capability {cc}; TensorFlow {fields['tensorflow']} "
                    f"minimum {arch.minimum}",
                    "environment",
                    fields=gfields,
                )
            )
        elif verdict.code == "cc-no-kernel":
            out.append(
                ctx.finding(
                    "gpu-no-kernel",
                    f"{g.name}: compute capability {cc}; build has sm {', '.join(arch.sass)} "
                    f"and PTX {', '.join(arch.ptx) or 'none'}",
                    "environment",
                    sass=verdict.get("sass"),
                    ptx=verdict.get("ptx"),
                    fields=gfields,
                )
            )
    if driver_ok and imp is not None and imp.ok and imp.gpus == ():
        out.append(_not_visible(env, profile.os.name, ctx, fields))
    return out


def _not_visible(env: Environment, os_name: str, ctx: Context, fields: dict[str, str]) -> Finding:
    """TensorFlow lists no GPU although the driver works: why depends on how CUDA arrived."""
    evidence = "tf.config.list_physical_devices('GPU') == []"
    if os_name == "windows":
        last = rules.boundaries(ctx.kb).last_windows_gpu
        return ctx.finding(
            "gpu-not-visible-windows", evidence, "environment", fields, last_windows_gpu=last
        )
    # The nvidia-* wheels of tensorflow[and-cuda] are there: TensorFlow did not look in them.
    release = (
        ctx.kb.tensorflow.release(fields["tensorflow"]) if _version(fields["tensorflow"]) else None
    )
    pinned = (
        {canonicalize_name(Requirement(t).name) for t in (release.and_cuda or ())}
        if release
        else set()
    )
    wheels = sorted(n for n in env.packages if n in pinned)
    if wheels:
        listed = ", ".join(f"{n} {env.packages[n]}" for n in wheels)
        return ctx.finding(
            "gpu-not-visible-and-cuda", f"{evidence}; installed: {listed}", "environment", fields,
            wheels=listed,
        )  # fmt: skip
    return ctx.finding("gpu-not-visible", evidence, "environment", fields)


def _keras_findings(
    env: Environment, build: Build, ctx: Context, fields: dict[str, str]
) -> list[Finding]:
    out: list[Finding] = []
    pairing = build.keras
    keras = env.packages.get("keras")
    verdict = rules.installed_matches(pairing.requirement, keras)
    if verdict.get("name") and canonicalize_name(verdict.get("name")) == "keras":
        required = verdict.get("required")
        if verdict.code == "pkg-missing":
            out.append(
                ctx.finding(
                    "keras-missing", "keras: not installed", "environment",
                    required=required, fields=fields,
                )
            )  # fmt: skip
        elif verdict.code == "pkg-mismatch":
            first = rules.boundaries(ctx.kb).first_keras3
            major3 = int(verdict.get("major")) >= 3
            note = (
                f" (Keras 3 needs TensorFlow {first} or newer)"
                if major3 and pairing.kind != "keras3"
                else ""
            )
            out.append(
                ctx.finding(
                    "keras-mismatch",
                    f"keras {keras} installed; TensorFlow {fields['tensorflow']} pairs with "
                    f"{required}",
                    "environment",
                    required=required,
                    keras=keras or "",
                    keras_note=note,
                    keras_major=str(2 if pairing.kind != "keras3" else 3),
                    fields=fields,
                )
            )
    tf_keras = env.packages.get("tf-keras")
    verdict = rules.installed_matches(pairing.tf_keras, tf_keras)
    if verdict.code == "pkg-mismatch":
        out.append(
            ctx.finding(
                "tf-keras-mismatch",
                f"tf-keras {tf_keras} installed; TensorFlow {fields['tensorflow']} pairs with "
                f"{verdict.get('required')}",
                "environment",
                required=verdict.get("required"),
                version=str(tf_keras),
                fields=fields,
            )
        )
    return out


def _keras_line_findings(
    env: Environment, release: Release, ctx: Context, fields: dict[str, str]
) -> list[Finding]:
    """A standalone keras beside a TensorFlow that declares none (TF <= 2.4): its line's range."""
    if release.keras.requirement is not None:
        return []  # TensorFlow requires its own Keras: the keras-mismatch check judges it
    keras = env.packages.get("keras")
    verdict = rules.keras_installed(ctx.kb, release, keras)
    if verdict.code != "keras-line-mismatch":
        return []
    return [
        ctx.finding(
            "keras-line-mismatch",
            f"keras {keras} installed ({verdict.get('line')}: TensorFlow {verdict.get('needs')}); "
            f"TensorFlow {release.version}",
            "environment",
            fields,
            keras=keras or "",
            needs=verdict.get("needs"),
            pin=verdict.get("pin") or "?",
        )
    ]


def _numpy_findings(
    env: Environment, release: Release, ctx: Context, fields: dict[str, str]
) -> list[Finding]:
    verdict = rules.numpy_installed(release, env.python_minor, env.packages.get("numpy"))
    if verdict.code != "pkg-mismatch":
        return []
    spec = release.numpy_effective(env.python_minor)
    numpy = verdict.get("version")
    return [
        ctx.finding(
            "numpy-incompatible",
            f"numpy {numpy} installed; TensorFlow {release.version} needs numpy{spec}",
            "environment",
            required=str(spec),
            numpy=numpy,
            fields=fields,
        )
    ]


def _python_findings(
    env: Environment, release: Release, ctx: Context, fields: dict[str, str]
) -> list[Finding]:
    platform = _platform(ctx, env)
    wheels = release.wheel(platform)
    if wheels is None or not env.python:
        return []
    verdict = rules.python_wheel(wheels, env.python_minor, platform)
    if verdict.ok:
        return []
    return [
        ctx.finding(
            "python-unsupported",
            f"Python {env.python}; TensorFlow {release.version} wheels on {platform}: "
            f"{verdict.get('pythons_text')}",
            "environment",
            platform=platform,
            pythons=verdict.get("pythons_text"),
            best_python=verdict.get("best_python"),
            fields=fields,
        )
    ]


def _cuda_wheel_findings(
    env: Environment, release: Release, ctx: Context, fields: dict[str, str]
) -> list[Finding]:
    """nvidia-* wheels that tensorflow[and-cuda] pins, installed at a version outside the pin."""
    out = []
    for text in release.and_cuda or ():
        name = canonicalize_name(Requirement(text).name)
        verdict = rules.installed_matches(text, env.packages.get(name))
        if verdict.code == "pkg-mismatch":
            out.append(
                ctx.finding(
                    "cuda-wheel-mismatch",
                    f"{name} {verdict.get('version')} installed; "
                    f"tensorflow[and-cuda]=={release.version} requires {verdict.get('required')}",
                    "environment",
                    package=name,
                    version=verdict.get("version"),
                    required=verdict.get("required"),
                    fields=fields,
                )
            )
    return out
