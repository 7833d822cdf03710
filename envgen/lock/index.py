"""The lock set's index, `envgen-lock.toml`: the team's request, the machine it was planned for,
each variant and what it needs, each (variant, platform) lock and what it pins, every file's sha256.

The index is what makes a committed lock set a contract a teammate can check anywhere: it records
the request as the team made it (`[request]`: target, Python, TensorFlow spec, Keras, channel and
the variants asked for) and the machine it was planned for (`[machine]`), so `envgen lock --check`
re-plans every lock from the index alone, on any machine, without a profile. Each lock records the
plan it locked (`plan`: its pins, as the plan wrote them) and that plan's digest, taken over the
resolved request only (no profile, no wording), so a change is named package by package.

Reading is strict and bounded (every value type-checked and named by its key; every file name a
plain name inside the lock folder); writing goes through tomlkit, so values are always escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envgen.documents import Table, is_plain_name, is_sha256, parse_toml, shown
from envgen.errors import InputFileError
from envgen.files import LOCK_FILE, read_text
from envgen.lock.machine import Machine

INDEX = "envgen-lock.toml"
SCHEMA = 2
"""2: the index records the team's request, its machine and each lock's plan (1 did not)."""
HINT = "regenerate the lock set with `envgen lock`"


@dataclass(frozen=True)
class PlatformLock:
    """One variant's lock for one platform."""

    platform: str
    os: str
    arch: str
    python: str
    framework: str
    """The framework's requirement (`tensorflow-cpu==2.21.0`, `jax[cuda13]==0.12.0.1`); the
    file's key is `tensorflow` for TensorFlow, as it always was, `framework` otherwise."""
    plan_digest: str
    """The digest of the plan's resolved request (Plan.fingerprint), not of any profile."""
    packages: int
    pylock: str | None
    requirements: str | None
    plan: tuple[str, ...] = ()
    """The plan's pins as written (`tensorflow-cpu==2.21.0`, `numpy>=1.26.0,<2`), to name what
    changed when the plan changes."""
    indexes: tuple[str, ...] = ()
    """Indexes besides PyPI the lock's packages come from (canonical URLs, in uv's order)."""

    @property
    def tensorflow(self) -> str:
        """The framework's requirement under the name TensorFlow sets have always used."""
        return self.framework


@dataclass(frozen=True)
class Variant:
    """A variant and the hardware it needs."""

    name: str
    target: str
    cuda: str | None
    cudnn: str | None
    cuda_channel: str | None
    min_compute_capability: str | None
    min_driver: tuple[tuple[str, str], ...]
    """(kind, driver): `linux`, `wsl` (the Windows driver under WSL2), `windows`."""
    conda_lock: str | None
    locks: tuple[PlatformLock, ...]
    cpu_features: tuple[str, ...] = ()
    """x86-64 features its TensorFlow build needs (the CPU variant on a CPU without AVX)."""
    environment: tuple[tuple[str, str], ...] = ()
    """Variables the environment must set, sorted (the plan's: KERAS_BACKEND, LD_LIBRARY_PATH
    over conda's CUDA, TF_USE_LEGACY_KERAS=1 for tf-keras); a built environment sets them."""

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(lk.platform for lk in self.locks)

    def lock_for(self, platform: str) -> PlatformLock | None:
        return next((lk for lk in self.locks if lk.platform == platform), None)


@dataclass(frozen=True)
class LockIndex:
    envgen_version: str
    kb_version: str
    input_hash: str
    request: dict[str, Any]
    platforms: tuple[str, ...]
    variants: tuple[Variant, ...]
    files: tuple[tuple[str, str], ...] = ()
    """(file name, sha256) of every lock file, sorted."""
    conda_channels: tuple[str, ...] = ()
    machine: Machine | None = None
    """The machine the set was planned for; None in an index an older envgen wrote."""
    command: str = ""
    """The command that made the set (headers and messages name it)."""

    def variant(self, name: str) -> Variant | None:
        return next((v for v in self.variants if v.name == name), None)

    @property
    def variant_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variants)

    @property
    def requested_variants(self) -> tuple[str, ...]:
        """The variants the team asked for (`cpu`, `gpu`), as `envgen lock --variants` takes."""
        asked = self.request.get("variants")
        if isinstance(asked, list) and asked:
            return tuple(str(v) for v in asked)
        return tuple(dict.fromkeys("cpu" if v.target == "cpu" else "gpu" for v in self.variants))


def render_index(index: LockIndex, header: list[str]) -> str:
    """Deterministic TOML through tomlkit: fixed key order, variants and platforms in the order
    they were asked, every string escaped by the TOML writer itself."""
    import tomlkit

    doc = tomlkit.document()
    for line in header:
        doc.add(tomlkit.comment(line))
    top: list[tuple[str, Any]] = [
        ("schema", SCHEMA),
        ("envgen-version", index.envgen_version),
        ("kb-version", index.kb_version),
        ("input-hash", index.input_hash),
        ("platforms", list(index.platforms)),
        ("conda-channels", list(index.conda_channels) or None),
    ]
    for key, value in top:
        if value is not None:
            doc.add(key, value)
    request = tomlkit.table()
    for key, value in sorted(index.request.items()):
        if value is not None:
            request.add(key, value)
    doc.add("request", request)
    if index.machine is not None:
        machine = tomlkit.table()
        for key, value in index.machine.to_dict().items():
            if key == "gpus":
                gpus = tomlkit.aot()
                for gpu in value:
                    gpus.append(tomlkit.item(gpu))
                machine.add(key, gpus)
            else:
                machine.add(key, value)
        doc.add("machine", machine)
    variants = tomlkit.aot()
    for var in index.variants:
        row = tomlkit.table()
        for key, value in (
            ("name", var.name),
            ("target", var.target),
            ("cuda", var.cuda),
            ("cudnn", var.cudnn),
            ("cuda-channel", var.cuda_channel),
            ("min-compute-capability", var.min_compute_capability),
            ("min-driver", dict(var.min_driver) or None),
            ("cpu-features", list(var.cpu_features) or None),
            ("platforms", list(var.platforms)),
            ("conda-lock", var.conda_lock),
            ("environment", dict(var.environment) or None),
        ):
            if isinstance(value, dict):
                inline = tomlkit.inline_table()
                inline.update(value)
                row.add(key, inline)
            elif value is not None:
                row.add(key, value)
        locks = tomlkit.aot()
        for lk in var.locks:
            lock = tomlkit.table()
            for key, value in (
                ("platform", lk.platform),
                ("os", lk.os),
                ("arch", lk.arch),
                ("python", lk.python),
                (_framework_key(lk.framework), lk.framework),
                ("plan-digest", lk.plan_digest),
                ("packages", lk.packages),
                ("pylock", lk.pylock),
                ("requirements", lk.requirements),
                ("plan", list(lk.plan)),
                ("indexes", list(lk.indexes) or None),
            ):
                if value is not None:
                    lock.add(key, value)
            locks.append(lock)
        row.add("lock", locks)
        variants.append(row)
    doc.add("variant", variants)
    files = tomlkit.table()
    for name, digest in index.files:
        files.add(name, digest)
    doc.add("files", files)
    return tomlkit.dumps(doc)


def _framework_key(requirement: str) -> str:
    """`tensorflow` for a TensorFlow requirement (sets made before other frameworks read the
    same), `framework` for JAX's and PyTorch's."""
    from packaging.requirements import InvalidRequirement, Requirement

    from envgen.kb.distributions import load_distributions

    try:
        name = Requirement(requirement).name
    except InvalidRequirement:
        return "framework"
    return "tensorflow" if name in load_distributions().names else "framework"


def _urls(table: Table, key: str) -> tuple[str, ...]:
    """A list of https index URLs, each one line."""
    urls = table.strings(key)
    for url in urls:
        if not url.startswith("https://") or any(c.isspace() for c in url):
            raise table.fail(key, f"expected https index URLs, got {shown(url)}")
    return urls


_VARIABLE = re.compile(r"[A-Z_][A-Z0-9_]*")


def _environment(row: Table) -> tuple[tuple[str, str], ...]:
    """A variant's `environment` table: names a shell, a Dockerfile and a YAML file all take."""
    found = row.mapping("environment")
    for name in found:
        if not _VARIABLE.fullmatch(name):
            raise row.fail(
                "environment", f"expected variable names (A-Z, 0-9, _), got {shown(name)}"
            )
    return tuple(sorted(found.items()))


def parse_index(text: str, origin: str = INDEX) -> LockIndex:
    """Read an index back, naming the exact key on any error.

    Every value is type-checked, and every file name it holds (a lock's `pylock` and
    `requirements`, a variant's `conda-lock`, each `[files]` key) must be a plain name inside
    the lock folder, so no reader can be sent elsewhere (`requirements = "../../etc/passwd"`).
    Unknown keys are ignored: an index a newer envgen wrote stays readable.
    """
    doc = Table(parse_toml(text, origin), "", origin, hint=HINT)
    schema = doc.get("schema")
    if type(schema) is not int or schema not in (1, SCHEMA):  # `true == 1` in Python
        raise doc.fail("schema", f"expected {SCHEMA}, got {shown(schema)}")
    variants = []
    for row in doc.tables("variant"):
        locks = [
            PlatformLock(
                platform=lk.text("platform"),
                os=lk.text("os"),
                arch=lk.text("arch"),
                python=lk.text("python"),
                framework=lk.string("framework") or lk.text("tensorflow"),
                plan_digest=lk.text("plan-digest"),
                packages=lk.integer("packages") or 0,
                pylock=lk.file_name("pylock"),
                requirements=lk.file_name("requirements"),
                plan=lk.strings("plan"),
                indexes=_urls(lk, "indexes"),
            )
            for lk in row.tables("lock")
        ]
        variants.append(
            Variant(
                name=row.text("name"),
                target=row.text("target"),
                cuda=row.string("cuda"),
                cudnn=row.string("cudnn"),
                cuda_channel=row.string("cuda-channel"),
                min_compute_capability=row.string("min-compute-capability", dotted=True),
                min_driver=tuple(sorted(row.mapping("min-driver").items())),
                conda_lock=row.file_name("conda-lock"),
                locks=tuple(locks),
                cpu_features=row.strings("cpu-features"),
                environment=_environment(row),
            )
        )
    files = doc.mapping("files")
    for name, digest in files.items():
        if not is_plain_name(name):
            raise doc.fail("files", f"expected file names in this folder, got {shown(name)}")
        if not is_sha256(digest):
            raise doc.fail(
                "files", f"{shown(name)}: expected a sha256 hex digest, got {shown(digest)}"
            )
    machine_table = doc.table("machine")
    request = doc.table("request")
    request_values: dict[str, Any] = {}
    if request is not None:
        from envgen.plan import CHANNELS, KERAS_BACKENDS, TARGETS

        choices = {
            "target": TARGETS,
            "channel": (*CHANNELS, "auto"),
            "keras-backend": KERAS_BACKENDS,
        }
        for key in ("target", "python", "tensorflow", "keras", "channel", "keras-backend"):
            value = request.string(key, choices=choices.get(key, ()))
            if value is not None:
                request_values[key] = value
        if request.boolean("allow-community-builds"):
            request_values["allow-community-builds"] = True
        variants_asked = request.strings("variants")
        if variants_asked:
            request_values["variants"] = list(variants_asked)
    return LockIndex(
        envgen_version=doc.text("envgen-version"),
        kb_version=doc.text("kb-version"),
        input_hash=doc.text("input-hash"),
        request=request_values,
        platforms=doc.strings("platforms"),
        variants=tuple(variants),
        files=tuple(sorted(files.items())),
        conda_channels=doc.strings("conda-channels"),
        machine=Machine.read(machine_table) if machine_table is not None else None,
    )


def load_index(path: Path) -> LockIndex:
    """The index at `path`: a regular UTF-8 file of at most SMALL_FILE bytes; see `parse_index`."""
    return parse_index(read_text(path, what="lock index"), str(path))


def lock_path(directory: Path, name: str) -> Path:
    """The lock file `name` (a plain name, checked when the index was read) of `directory`,
    refused where a symbolic link leads it out of the folder."""
    path = directory / name
    if path.resolve().parent != directory.resolve():
        raise InputFileError(f"{path} leads outside {directory}", hint=HINT)
    return path


def read_lock_file(directory: Path, name: str) -> str:
    """The text of the lock file `name` of `directory` (see `lock_path`), bounded like every lock."""
    return read_text(lock_path(directory, name), what="lock file", limit=LOCK_FILE)
