"""The command table: each command, its handler module, its help and the options it takes (by
their `dest` in `table.OPTIONS`), as data.
"""

from __future__ import annotations

from envgen.options.table import REQUEST
from envgen.options.types import Command

COMMANDS: tuple[Command, ...] = (
    Command(
        "create",
        "the whole job: plan, write files and locks, build the environment, prove it works",
        "envgen.cli.create",
        (
            *REQUEST,
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
        (*REQUEST, "why_not", "no_pypi_check"),
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
            *REQUEST,
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
        (*REQUEST, "platform", "variants", "output_dir", "conda_channel", "uv", "check", "force"),
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
