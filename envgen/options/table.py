"""The option table: every option of every command, as data (`commands.py` says which command
takes which).

`envgen.options` reads it (types, resolution, sources); `envgen.cli` builds the parser of the
command being run from it. Help texts live here, next to the option they describe.
"""

from __future__ import annotations

from envgen.options.types import Option

REQUEST = (
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
