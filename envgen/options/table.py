"""The option table: every option of every command and what each command takes, as data.

`envgen.options` reads it (types, resolution, sources); `envgen.cli` builds the parser of the
command being run from it. Help texts live here, next to the option they describe.
"""

from __future__ import annotations

from envgen.options.types import Command, Option

_REQUEST = (
    "profile",
    "target",
    "python",
    "tensorflow",
    "keras",
    "channel",
    "keras_backend",
    "allow_community_builds",
)

OPTIONS: dict[str, Option] = {
    o.dest: o
    for o in (
        Option("profile", "plan for the machine this hardware profile describes", metavar="FILE"),
        Option(
            "target",
            "auto (default): gpu when an NVIDIA driver and GPU are present",
            choices=("cpu", "gpu", "auto"),
            default="auto",
            config="target",
        ),
        Option("python", "Python version (default: the profile's)", metavar="X.Y", config="python"),
        Option(
            "tensorflow",
            "e.g. 2.15, 2.15.1, '>=2.12,<2.16'",
            metavar="SPEC",
            config="tensorflow",
        ),
        Option(
            "keras",
            "2 (Keras 2 paired with the TensorFlow), 3, tf (tf.keras only, no keras package), "
            "or a Keras line: 2.3, 2.2.4",
            metavar="2|3|tf|X.Y",
            config="keras",
        ),
        Option(
            "channel",
            "how CUDA/cuDNN arrive (default auto: pip wheels, else conda, else system)",
            choices=("pip", "conda", "system", "auto"),
            default="auto",
            config="channel",
        ),
        Option(
            "allow_community_builds",
            "where no official build runs, plan a third-party community build (fo40225's "
            "Windows wheels: no AVX, old GPUs), marked third-party and pinned by its sha256",
            kind="bool",
            default=False,
            config="allow-community-builds",
        ),
        Option(
            "no_pypi_check",
            "do not ask PyPI whether a TensorFlow newer than the knowledge base exists "
            "(asked once a day, 3 s at most, cached)",
            kind="bool",
            default=False,
        ),
        Option(
            "keras_backend",
            "the framework Keras 3 runs on (default tensorflow); KERAS_BACKEND is set in every "
            "output",
            choices=("tensorflow", "jax", "torch"),
            default="tensorflow",
            config="keras-backend",
        ),
        Option(
            "why_not",
            "explain why each release matching SPEC does (not) fit",
            metavar="SPEC",
        ),
        Option(
            "mirror",
            "package index: a preset (pypi, tuna, aliyun, ...), an https URL, or auto (fastest)",
            metavar="NAME|URL|auto",
            default="pypi",
            config="mirror",
        ),
        Option(
            "torch_mirror",
            "a mirror of the PyTorch index (https://download.pytorch.org/whl, same layout: "
            "<URL>/cu126) for torch builds only it serves; locks keep the canonical URL",
            metavar="URL",
            config="torch-mirror",
        ),
        Option(
            "allow_insecure_mirror",
            "accept an http:// mirror (pip gets --trusted-host; traffic is unencrypted)",
            kind="bool",
            default=False,
        ),
        Option(
            "output_dir",
            "the project directory to write into (default: .)",
            flags=("--output-dir", "-o"),
            metavar="DIR",
            default=".",
        ),
        Option(
            "format",
            "comma-separated, from: environment.yml, requirements.txt, Dockerfile, pip.conf, "
            "uv.toml, .condarc (default: the first three)",
            metavar="LIST",
            default="environment.yml,requirements.txt,Dockerfile",
            config="outputs",
        ),
        Option(
            "lock",
            "hashed lock under --output-dir for the Dockerfile to install from",
            metavar="FILE",
        ),
        Option("force", "overwrite files a person wrote or edited", kind="bool", default=False),
        Option(
            "save_config",
            "record the request in [tool.envgen] (pyproject.toml, else envgen.toml)",
            kind="bool",
            default=False,
        ),
        Option(
            "backend",
            "how to build: venv, conda or container (default: venv)",
            choices=("conda", "container", "venv"),
            default="venv",
        ),
        Option("prefix", "the environment's root directory", metavar="DIR"),
        Option(
            "base_image",
            "--backend container: the Dockerfile's BASE_IMAGE (a registry mirror, a local image)",
            metavar="IMAGE",
        ),
        Option(
            "locked",
            "fail (exit 9, naming what changed) if the committed lock set is stale",
            kind="bool",
            default=False,
        ),
        Option(
            "frozen",
            "install the committed lock set as it is, without checking it against its inputs",
            kind="bool",
            default=False,
        ),
        Option("no_verify", "skip the verification probe", kind="bool", default=False),
        Option(
            "full",
            "always run the full verification probe, even where the record of the last full "
            "verification proves that nothing changed",
            kind="bool",
            default=False,
        ),
        Option(
            "relock",
            "re-resolve the committed lock set and rewrite the team's files from it (with the "
            "request options given); without it, a committed set is installed as it is",
            kind="bool",
            default=False,
        ),
        Option(
            "wait",
            "when another envgen is building the same prefix, wait at most this long "
            "(default: until it is done; 0: refuse at once)",
            kind="wait",
            metavar="SECONDS",
        ),
        Option(
            "yes",
            "do not ask before building (create never asks without a terminal)",
            flags=("--yes", "-y"),
            kind="bool",
            default=False,
        ),
        Option(
            "output",
            "write the profile to FILE (.toml, or .json)",
            flags=("--output", "-o"),
            metavar="FILE",
        ),
        Option(
            "capture",
            "also save the raw text each source returned (for bug reports and tests)",
            metavar="DIR",
        ),
        Option("log", "an error log to diagnose (- for standard input)", metavar="FILE"),
        Option(
            # dest "interpreter", not "python": ENVGEN_PYTHON is a Python version to plan for.
            "interpreter",
            "the environment's interpreter",
            flags=("--python",),
            metavar="EXE",
        ),
        Option(
            "timeout",
            "seconds allowed per framework's import and checks (default 300)",
            kind="seconds",
            default=300.0,
            metavar="SECONDS",
        ),
        Option(
            "report",
            "where to write the JSON report (default: ./verify-report.json, or in --prefix; "
            "'-' for none)",
            metavar="FILE",
        ),
        Option(
            "platform",
            "comma-separated: linux-64, linux-aarch64, win-64, osx-64, osx-arm64 "
            "(default: the profile's)",
            metavar="LIST",
            config="platforms",
        ),
        Option(
            "variants",
            "comma-separated: cpu, gpu (default: the profile's target)",
            metavar="LIST",
        ),
        Option(
            "conda_channel",
            "also write conda-lock.yml, solved against this channel (repeatable)",
            kind="append",
            metavar="URL",
        ),
        Option(
            "uv",
            "the uv executable (default: uv on PATH or beside envgen's Python)",
            metavar="PATH",
        ),
        Option(
            "check",
            "write nothing; exit non-zero listing what no longer matches the inputs",
            kind="bool",
            default=False,
        ),
        Option("write", "replace the packaged file with the new rows", kind="bool", default=False),
        Option(
            "family",
            "which tables to refresh: pypi (TensorFlow, JAX and PyTorch from PyPI), conda-forge "
            "(conda-forge's TensorFlow records from the channel's repodata), or all",
            choices=("all", "pypi", "conda-forge"),
            default="all",
        ),
        Option(
            "pre",
            "include the pre-releases (release candidates) newer than the newest final release",
            kind="bool",
            default=False,
        ),
        Option(
            "lock_dir",
            "the committed lock set to read (default: locks)",
            metavar="DIR",
            default="locks",
        ),
        Option(
            "cache_dir",
            "where downloaded files are kept between runs (default: the user cache, "
            "e.g. ~/.cache/envgen/bundle)",
            metavar="DIR",
        ),
        Option(
            "from_bundle",
            "install offline from a bundle made by `envgen bundle` (no network)",
            metavar="FILE",
        ),
    )
}

COMMANDS: tuple[Command, ...] = (
    Command(
        "create",
        "the whole job: plan, write files and locks, build the environment, prove it works",
        "envgen.cli.create",
        (
            *_REQUEST,
            "backend",
            "prefix",
            "base_image",
            "output_dir",
            "mirror",
            "torch_mirror",
            "locked",
            "frozen",
            "relock",
            "no_verify",
            "full",
            "force",
            "wait",
            "yes",
            "from_bundle",
        ),
        description=(
            "Detect the machine (or read --profile), decide the stack, write environment.yml, "
            "requirements.txt, a Dockerfile and the lock set into the project, build the "
            "environment from the lock and verify it. A second run with nothing changed only "
            "re-checks the environment against the record of its last full verification, in "
            "well under a second (--full runs the whole probe)."
        ),
        helps={
            "prefix": "where the environment goes (default: .venv)",
            "output_dir": "the project directory for the files and locks/ (default: .)",
            "force": "replace files, locks or a directory that envgen did not make",
            "full": "verify with the full probe even when the environment's record of its last "
            "full verification still holds (a re-run with nothing changed checks quickly)",
        },
        exclusive=(("locked", "frozen", "relock"),),
    ),
    Command(
        "build",
        "build this machine's variant of the committed lock set (no planning, no verification)",
        "envgen.cli.build",
        (
            "profile",
            "target",
            "backend",
            "prefix",
            "base_image",
            "output_dir",
            "mirror",
            "torch_mirror",
            "locked",
            "frozen",
            "force",
            "wait",
        ),
        description=(
            "Build an environment (or an image) from the lock set committed in the project: "
            "the variant that fits this machine, installed with hashes. Nothing is planned, "
            "rendered or verified (envgen verify proves it; envgen create does all of it)."
        ),
        helps={
            "prefix": "where the environment goes (default: .venv)",
            "output_dir": "the project directory holding locks/ (default: .)",
            "force": "install a variant this machine cannot run; replace a directory envgen "
            "did not make",
            "target": "which variant: auto (the best this machine runs), cpu or gpu",
        },
        exclusive=(("locked", "frozen"),),
    ),
    Command(
        "bundle",
        "pack the committed lock set's packages into one archive that installs offline",
        "envgen.cli.bundle",
        (
            "variants",
            "platform",
            "mirror",
            "allow_insecure_mirror",
            "lock_dir",
            "output",
            "cache_dir",
            "force",
        ),
        description=(
            "Download every wheel (and conda package) the chosen variants of the lock set "
            "install, checked against the lock's sha256 as it arrives (parallel, resumable, "
            "cached), and write one tar with the lock set, a manifest, and installers that need "
            "only Python: install.sh, install.ps1; or `envgen create --from-bundle FILE`."
        ),
        helps={
            "variants": "comma-separated variants of the lock set (default: all)",
            "platform": "comma-separated platforms of the lock set (default: all)",
            "mirror": "download through this index: a preset, an https URL, or auto (the "
            "lock's hashes decide, whatever serves the files)",
            "output": "the archive to write (default: envgen-bundle-<variants>-<platforms>.tar)",
            "force": "overwrite an output file that is not an envgen bundle",
        },
    ),
    Command(
        "detect",
        "observe this machine: OS, CPU, NVIDIA driver and GPUs, CUDA/cuDNN, Pythons",
        "envgen.cli.detect",
        ("profile", "output", "capture", "force"),
        description="Observe this machine and print its hardware profile.",
        helps={
            "profile": "read a profile file instead of detecting (validates and completes it)",
            "force": "overwrite an output file that envgen did not write",
        },
    ),
    Command(
        "plan",
        "decide the TensorFlow stack for this machine and explain every choice",
        "envgen.cli.plan",
        (*_REQUEST, "why_not", "no_pypi_check"),
        description=(
            "Decide the newest TensorFlow that works here, with Keras, numpy, CUDA and cuDNN "
            "pinned, a reason for each pin and each rejected candidate."
        ),
    ),
    Command(
        "verify",
        "prove an environment works: imports, devices, GPU compute, installed versions",
        "envgen.cli.verify",
        (
            "prefix",
            "interpreter",
            "target",
            "lock",
            "keras_backend",
            "profile",
            "report",
            "timeout",
            "full",
            "force",
        ),
        description=(
            "Run a probe with the environment's own interpreter: installed versions against a "
            "lock, import of TensorFlow (or PyTorch/JAX) in a child process, devices, a matmul "
            "on each GPU against the CPU, a tiny training run, a Keras 3 fit on the chosen "
            "backend, and the NVIDIA driver through libcuda; meanwhile every installed file is "
            "hashed against its RECORD. A pass is recorded in the environment "
            "(.envgen-verified.json): a re-run with nothing changed proves it from that record "
            "and the installed files in well under a second, without starting Python (--full "
            "runs the probe anyway). Exits 6 when a required check fails."
        ),
        helps={
            "lock": "hold installed versions to this lock (pylock.toml or hashed requirements)",
            "keras_backend": "the Keras 3 backend that must fit (default tensorflow; without "
            "--lock, given here or by ENVGEN_KERAS_BACKEND / tool.envgen.keras-backend, only "
            "that framework is probed)",
            "target": "what must work (default: auto)",
            "profile": "hardware profile file instead of detecting",
            "force": "overwrite a report file that envgen did not write",
        },
        exclusive=(("prefix", "interpreter"),),
    ),
    Command(
        "kb",
        "maintain the knowledge base",
        "envgen.cli.kb",
        children=(
            Command(
                "check",
                "validate every data file and print its hash",
                "envgen.cli.kb",
                handler="run_check",
            ),
            Command(
                "update",
                "re-derive the TensorFlow, JAX and PyTorch release tables from PyPI metadata, "
                "and conda-forge's TensorFlow records from its repodata, and print the diff "
                "(network)",
                "envgen.cli.kb",
                ("write", "pre", "family", "conda_channel"),
                handler="run_update",
            ),
        ),
    ),
    Command(
        "doctor",
        "explain a failing TensorFlow environment or error log: cause, evidence, fix",
        "envgen.cli.doctor",
        ("log", "prefix", "interpreter", "profile", "target", "timeout"),
        description=(
            "Match an error log against known failure messages, and/or probe a Python "
            "environment and cross-check it with this machine's hardware profile. Exits 6 "
            "when an error-level finding exists."
        ),
        helps={
            "prefix": "the environment (virtualenv/conda) root",
            "interpreter": "the environment's interpreter (a command with arguments is split "
            "like a shell)",
            "profile": "hardware profile to check against instead of detecting this machine",
            "target": "gpu: what keeps TensorFlow off the GPU is an error; cpu: GPU messages are "
            "notes (default auto: from the profile's GPUs)",
            "timeout": "how long `import tensorflow` may take in the environment (default 300)",
        },
        exclusive=(("prefix", "interpreter"),),
    ),
    Command(
        "render",
        "write environment.yml, requirements.txt and a Dockerfile for the planned stack",
        "envgen.cli.render",
        (
            *_REQUEST,
            "mirror",
            "torch_mirror",
            "allow_insecure_mirror",
            "output_dir",
            "format",
            "lock",
            "force",
            "save_config",
        ),
        description=(
            "Plan the stack, then write the files a team commits. Options not given come from "
            "ENVGEN_* variables, then [tool.envgen] in pyproject.toml (or envgen.toml)."
        ),
        helps={"output_dir": "where to write (default: .)"},
    ),
    Command(
        "lock",
        "write hashed per-platform locks (pylock.toml, requirements, conda-lock.yml)",
        "envgen.cli.lock",
        (*_REQUEST, "platform", "variants", "output_dir", "conda_channel", "uv", "check", "force"),
        description=(
            "Resolve each variant for each platform and lock it with hashes in standard formats "
            "(PEP 751 pylock, pip --require-hashes requirements, conda-lock), plus an index "
            "saying which variant fits which hardware."
        ),
        defaults={"output_dir": "locks"},
        helps={
            "output_dir": "where the lock set goes (default: locks)",
            "force": "overwrite lock files a person edited",
        },
    ),
)
