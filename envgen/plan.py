"""The request a user makes and the plan the resolver decides: the contract between stages.

`Plan` is what render, lock, build and verify consume. It names every package to install with the
channel it comes from and the reason it was chosen; exact versions where the knowledge base decides
them (TensorFlow, CUDA wheels), specifiers where the lock stage pins the newest that satisfies
them (numpy, Keras). Both objects are frozen and serialise to the `envgen plan --json` form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from envgen.documents import bad_char, shown
from envgen.errors import OptionError
from envgen.versions import is_dotted


class Target(StrEnum):
    """What the environment runs on; `AUTO` only in a request (the hardware decides)."""

    CPU = "cpu"
    GPU = "gpu"
    AUTO = "auto"


class Channel(StrEnum):
    """Where a package comes from: pip, conda, or the system (installed outside the environment:
    the driver, a system toolkit); `AUTO` only in a request (pip wheels, else conda, else system).
    """

    PIP = "pip"
    CONDA = "conda"
    SYSTEM = "system"
    AUTO = "auto"


# The choices as text, for option tables and messages (StrEnum members are their values).
TARGETS: tuple[str, ...] = tuple(Target)
CHANNELS: tuple[str, ...] = tuple(c for c in Channel if c is not Channel.AUTO)
KERAS_CHOICES = ("2", "3", "tf")
"""`--keras` words; a Keras line (`2.3`, `2.2.4`, `3.12`) is accepted too (`keras_request`)."""
KERAS_BACKENDS = ("tensorflow", "jax", "torch")
"""`--keras-backend`: the framework Keras 3 runs on (envgen/kb/keras-backends.toml)."""
DEFAULT_BACKEND = "tensorflow"


class ExactVersion(str):
    """A pin's exact version: `==2.21.0` for pip, `=11.2` (11.2.*) for conda."""

    __slots__ = ()


class VersionSpec(str):
    """A pin's PEP 440 specifier (`>=1.26.0,<2`), or "" for any version."""

    __slots__ = ()


E = TypeVar("E", Target, Channel)


def _choice(kind: type[E], value: str, option: str) -> E:
    """`value` as a member of `kind`; text that names none is the option's error (the CLI names
    it by where the value came from)."""
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(str(c) for c in kind)
        raise OptionError(option, f"expected one of {choices}, got {shown(value)}") from None


@dataclass(frozen=True)
class Request:
    """What the user asked for; None means "decide for me"."""

    target: Target = Target.AUTO
    python: str | None = None
    tensorflow: str | None = None
    """A PEP 440 specifier (`==2.15.*`, `>=2.12,<2.16`) or a bare version (`2.15`, `2.15.1`)."""
    keras: str | None = None
    """`2` (Keras 2 behaviour: the standalone Keras 2 paired with the TensorFlow, its own keras
    2.x, or tf-keras on TF >= 2.16), `3`, `tf` (tf.keras only: no Keras package pinned), or a Keras
    line: a minor (`2.3`) or a release (`2.2.4`)."""
    channel: Channel = Channel.PIP
    """How CUDA and cuDNN arrive: pip wheels, conda packages, or the system toolkit."""
    keras_backend: str = DEFAULT_BACKEND
    """The framework Keras 3 runs on: tensorflow, jax or torch (`KERAS_BACKEND`)."""
    allow_community_builds: bool = False
    """Whether a third-party community build may be planned where no official build runs
    (`--allow-community-builds`; families.toml)."""

    def __post_init__(self) -> None:
        # Flags, ENVGEN_* variables and config keys hand over text: it becomes the enum here.
        object.__setattr__(self, "target", _choice(Target, self.target, "target"))
        object.__setattr__(self, "channel", _choice(Channel, self.channel, "channel"))
        if self.keras_backend not in KERAS_BACKENDS:
            raise OptionError(
                "keras_backend",
                f"expected one of {', '.join(KERAS_BACKENDS)}, got {shown(self.keras_backend)}",
            )

    def to_dict(self) -> dict[str, Any]:
        """The request as plans, lock indexes and digests record it; the Keras backend only
        where it is not TensorFlow, so a TensorFlow request hashes as it always has."""
        backend = (
            {"keras-backend": self.keras_backend} if self.keras_backend != DEFAULT_BACKEND else {}
        )
        # Recorded only where given, for the same reason: a request without it hashes as before.
        community = {"allow-community-builds": True} if self.allow_community_builds else {}
        return {
            "target": self.target,
            "python": self.python,
            "tensorflow": self.tensorflow,
            "keras": self.keras,
            "channel": self.channel,
            **backend,
            **community,
        }


PYPI_FAMILY = "pypi"
"""The family of a pin that comes from PyPI as usual (families.toml names them all)."""


@dataclass(frozen=True)
class Pin:
    """One package of the plan."""

    name: str
    version: ExactVersion | VersionSpec
    """An exact version ("2.21.0") or a specifier (">=1.26.0,<2"), told apart by type."""
    channel: Channel
    reason: str
    extras: tuple[str, ...] = ()
    family: str = PYPI_FAMILY
    """Where the build comes from (families.toml): pypi, conda-forge, community."""
    build: str | None = None
    """A conda build-string match (`cpu_py311h*_3`): which of the release's builds."""
    url: str | None = None
    """A direct URL (a community wheel): installed from it, pinned by the lock's sha256."""
    third_party: bool = False
    """Built by neither TensorFlow nor a distribution's build service: outputs say so."""

    def __post_init__(self) -> None:
        if not isinstance(self.version, ExactVersion | VersionSpec):
            raise TypeError(f"{self.name}: a pin's version is an ExactVersion or a VersionSpec")
        if self.channel is Channel.AUTO:
            raise ValueError(f"{self.name}: a pin comes from one channel, not auto")
        if self.url is not None and not (self.exact and self.url.startswith("https://")):
            raise ValueError(f"{self.name}: a direct URL pin is exact and https")

    @property
    def exact(self) -> bool:
        return isinstance(self.version, ExactVersion)

    def requirement(self) -> str:
        """pip form: `tensorflow[and-cuda]==2.21.0`, `numpy<2,>=1.23.5`; a direct URL pin in
        PEP 508's form without spaces (one word, as every requirements.txt value envgen writes):
        `tensorflow-gpu@https://.../tensorflow_gpu-2.0.0-cp37-cp37m-win_amd64.whl`."""
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        if self.url is not None:
            return f"{self.name}{extras}@{self.url}"
        version = f"=={self.version}" if self.exact else self.version
        return f"{self.name}{extras}{version}"

    def conda_spec(self) -> str:
        """conda form: `cudatoolkit=11.2` (= 11.2.*), `numpy>=1.23.5,<2`, and with a build:
        `tensorflow=2.19.1=cpu_py311h*_3`."""
        if self.build is not None:
            return f"{self.name}={self.version}={self.build}"
        return f"{self.name}={self.version}" if self.exact else f"{self.name}{self.version}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "version": self.version}
        out |= {"channel": self.channel, "family": self.family, "reason": self.reason}
        optional = {"extras": list(self.extras), "build": self.build, "url": self.url}
        out |= {k: v for k, v in optional.items() if v}
        return out | ({"third-party": True} if self.third_party else {})

    def fingerprint(self) -> list[Any]:
        """What a lock of this pin depends on; a PyPI pin as it always was (so digests of plans
        made before families stay as they were), others with their family, build and URL."""
        out: list[Any] = [self.name, str(self.version), str(self.channel), list(self.extras)]
        if self.family != PYPI_FAMILY or self.build or self.url:
            out += [self.family, self.build, self.url]
        return out


@dataclass(frozen=True)
class Note:
    """A warning or an informational remark attached to a plan."""

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Rejection:
    """A candidate the resolver considered and refused, with every reason."""

    candidate: str
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"candidate": self.candidate, "reasons": list(self.reasons)}


@dataclass(frozen=True)
class Plan:
    request: Request
    target: Target
    """CPU or GPU (auto is resolved)."""
    platform: str
    """Knowledge-base platform: linux-x86_64, linux-aarch64, windows-x86_64, macos-x86_64, macos-arm64."""
    python: str
    tensorflow: Pin
    """The Keras backend's own package: tensorflow (or its platform's name), jax or torch. The
    field keeps the name it had when TensorFlow was the only one; `framework` reads it too."""
    cuda: str | None
    cudnn: str | None
    cuda_channel: Channel | None
    """How CUDA/cuDNN arrive: pip (`and-cuda` wheels), conda, system; None for a CPU plan."""
    packages: tuple[Pin, ...]
    """Every package to install, TensorFlow included, in install order."""
    environment: tuple[tuple[str, str], ...] = ()
    """Variables the environment must set (e.g. TF_USE_LEGACY_KERAS=1 for tf-keras)."""
    warnings: tuple[Note, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    inputs: dict[str, str] = field(default_factory=dict)
    """Hashes of what the plan was decided from: profile, request, knowledge base."""
    keras_backend: str = DEFAULT_BACKEND
    """The framework Keras 3 runs on; KERAS_BACKEND in `environment` for every other one."""
    indexes: tuple[str, ...] = ()
    """Package indexes besides PyPI that a pin needs (the PyTorch index of an index-only build),
    canonical URLs: a mirror is applied when installing."""

    @property
    def framework(self) -> Pin:
        """The Keras backend's package pin (`tensorflow`, `jax[cuda13]`, `torch`)."""
        return self.tensorflow

    def pip_packages(self) -> tuple[Pin, ...]:
        return tuple(p for p in self.packages if p.channel == "pip")

    def conda_packages(self) -> tuple[Pin, ...]:
        return tuple(p for p in self.packages if p.channel == "conda")

    def to_dict(self) -> dict[str, Any]:
        """The `plan` object of `envgen plan --json` (`tensorflow` too on TensorFlow plans, the
        key it always had)."""
        pin = {
            "name": self.framework.name,
            "version": self.framework.version,
            "extras": list(self.framework.extras),
        }
        named = {"tensorflow": pin} if self.keras_backend == DEFAULT_BACKEND else {}
        return {
            "target": self.target,
            "platform": self.platform,
            "python": self.python,
            "keras-backend": self.keras_backend,
            "framework": pin,
            **named,
            "indexes": list(self.indexes),
            "cuda": self.cuda,
            "cudnn": self.cudnn,
            "cuda-channel": self.cuda_channel,
            "packages": [p.to_dict() for p in self.packages],
            "environment": dict(self.environment),
            "request": self.request.to_dict(),
            "inputs": dict(self.inputs),
        }

    def fingerprint(self) -> dict[str, Any]:
        """What a lock of this plan depends on: the resolved request (every pin with its channel
        and extras, CUDA, cuDNN, Python, platform, target, environment), not the machine it was
        planned on nor the words that explain it. The backend and the indexes count only where
        they are not TensorFlow's and PyPI, so digests of TensorFlow plans made before Keras
        had other backends here stay as they were."""
        extra: dict[str, Any] = {}
        if self.keras_backend != DEFAULT_BACKEND:
            extra["keras-backend"] = self.keras_backend
        if self.indexes:
            extra["indexes"] = list(self.indexes)
        return {
            **extra,
            "target": str(self.target),
            "platform": self.platform,
            "python": self.python,
            "cuda": self.cuda,
            "cudnn": self.cudnn,
            "cuda-channel": None if self.cuda_channel is None else str(self.cuda_channel),
            "packages": [p.fingerprint() for p in self.packages],
            "environment": dict(self.environment),
        }

    def resolved_digest(self) -> str:
        """The digest of `fingerprint()`: equal for equal resolved requests, on any machine."""
        from envgen.digest import of_json

        return of_json(self.fingerprint())

    def pin_lines(self) -> tuple[str, ...]:
        """Each pin as one line, for a lock index and for naming what changed."""
        out = []
        for p in self.packages:
            family = f"; {p.family}" if p.family != PYPI_FAMILY else ""
            third = "; third-party" if p.third_party else ""
            if p.channel == "pip":
                out.append(p.requirement() + (f" ({family[2:]}{third})" if family else ""))
            else:
                out.append(f"{p.conda_spec()} ({p.channel}{family}{third})")
        return tuple(out)

    def digest(self) -> str:
        """A short hash of the decision itself, for file headers and lock indexes."""
        from envgen.digest import of_json

        return of_json(self.to_dict())


def _bare_spec(text: str, option: str, package: str) -> str:
    """The specifier part of `text`, without the framework's distribution name in front.

    Users type what they would give pip: `tensorflow-gpu==1.12.0` (the name of 1.x GPU builds),
    `tensorflow[and-cuda]==2.15.1`, `tensorflow_cpu>=2.12`, `jax==0.5.3`, `torch>=2.8`. For
    TensorFlow the name must be one of its own distributions (tensorflow-distributions.toml),
    for JAX and PyTorch the package itself; the version part selects releases."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    if not text[:1].isalpha():
        return text
    try:
        req = Requirement(text)
    except InvalidRequirement:
        # `jax 0.5.3`: the name, then a bare version; anything else the specifier parser names.
        return text.removeprefix(package).strip()
    if package == DEFAULT_BACKEND:
        from envgen.kb.distributions import load_distributions

        names: tuple[str, ...] = tuple(load_distributions().names)
    else:
        names = (package,)
    if canonicalize_name(req.name) not in names or req.marker is not None or req.url:
        raise OptionError(
            option,
            f"{shown(text)} names {shown(req.name)}, not a {package} distribution",
            hint="give a version (2.15, '==2.15.*') or one of: " + ", ".join(names),
        )
    return str(req.specifier)


def tensorflow_spec(
    text: str | None, option: str = "tensorflow", package: str = DEFAULT_BACKEND
) -> SpecifierSet | None:
    """`--tensorflow`: a PEP 440 specifier, or a bare version (`2.15` means `==2.15.*`), with or
    without a distribution's name in front (`tensorflow-gpu==1.12.0`); a bare wildcard
    (`2.15.*`) means `==2.15.*`. `--why-not` takes the same for the framework `package`
    (`jax==0.5.3`, `torch>=2.8`).

    `option` names the option the text came from, for the error."""
    if text is None or not text.strip():
        return None
    spec = _bare_spec(text.strip(), option, package).strip()
    if not spec:
        return SpecifierSet()  # `tensorflow` alone: any release
    if is_dotted(spec):
        return SpecifierSet(f"=={spec}.*" if spec.count(".") == 1 else f"=={spec}")
    if spec.endswith(".*") and is_dotted(spec[:-2]):
        return SpecifierSet(f"=={spec}")
    if spec[:1].isdigit():
        # A bare release that is not plain dotted: a pre-release (2.22.0rc0), a post (2.15.0.post1).
        from packaging.version import InvalidVersion, Version

        try:
            return SpecifierSet(f"=={Version(spec)}")
        except InvalidVersion:
            pass
    try:
        return SpecifierSet(spec)
    except InvalidSpecifier as exc:
        raise OptionError(
            option,
            f"{shown(text)} is not a version specifier",
            hint="use e.g. 2.15, 2.15.1, 2.15.*, '==2.15.*', '>=2.12,<2.16' or "
            "tensorflow-gpu==1.12.0",
        ) from exc


def keras_request_ok(text: str) -> bool:
    """`--keras`: a word of KERAS_CHOICES, or a Keras 2/3 line (`2.3`, `2.2.4`, `3.12`)."""
    if text in KERAS_CHOICES:
        return True
    return (
        is_dotted(text)
        and text.count(".") in (1, 2)
        and text.split(".", maxsplit=1)[0] in ("2", "3")
    )


def validate(request: Request) -> None:
    """Reject malformed requests naming the option (the CLI names where its value came from)."""
    for name, value in request.to_dict().items():
        if isinstance(value, str) and bad_char(value) is not None:
            # The request is written into lock indexes and file headers, one value a line.
            raise OptionError(name.replace("-", "_"), f"holds a control character: {shown(value)}")
    if request.python is not None and not (
        is_dotted(request.python, parts=2) and request.python == request.python.strip()
    ):
        raise OptionError("python", f"expected a version like 3.11, got {shown(request.python)}")
    if request.keras is not None and not keras_request_ok(request.keras):
        raise OptionError(
            "keras",
            f"expected 2, 3, tf or a Keras line like 2.3 or 2.2.4, got {shown(request.keras)}",
        )
    if request.keras_backend != DEFAULT_BACKEND:
        # Keras 2, tf.keras, a Keras line (keras.toml pairs lines with TensorFlow releases) and
        # a TensorFlow version exist on the TensorFlow backend only.
        if request.keras is not None and request.keras != "3":
            what = (
                "tf.keras is TensorFlow's own"
                if request.keras == "tf"
                else "Keras 2 runs on TensorFlow only"
                if request.keras.startswith("2")
                else f"a Keras line ({request.keras}) is paired with TensorFlow releases only"
            )
            raise OptionError(
                "keras",
                f"{what}, not with --keras-backend {request.keras_backend}",
                hint="leave --keras out (Keras 3), or use --keras-backend tensorflow",
            )
        if request.tensorflow is not None:
            raise OptionError(
                "tensorflow",
                f"names a TensorFlow, which --keras-backend {request.keras_backend} does not use",
                hint="leave --tensorflow out, or use --keras-backend tensorflow",
            )
    tensorflow_spec(request.tensorflow)
