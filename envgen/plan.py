"""The request a user makes and the plan the resolver decides: the contract between stages.

`Plan` is what render, lock, build and verify consume. It names every package to install with the
channel it comes from and the reason it was chosen; exact versions where the knowledge base decides
them (TensorFlow, CUDA wheels), specifiers where the lock stage pins the newest that satisfies
them (numpy, Keras). Both objects are frozen and serialise to the `envgen plan --json` form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from envgen.documents import bad_char, shown
from envgen.errors import OptionError
from envgen.versions import is_dotted

TARGETS = ("cpu", "gpu", "auto")
CHANNELS = ("pip", "conda", "system")
KERAS_CHOICES = ("2", "3")


@dataclass(frozen=True)
class Request:
    """What the user asked for; None means "decide for me"."""

    target: str = "auto"
    python: str | None = None
    tensorflow: str | None = None
    """A PEP 440 specifier (`==2.15.*`, `>=2.12,<2.16`) or a bare version (`2.15`, `2.15.1`)."""
    keras: str | None = None
    """"2" (Keras 2 behaviour: standalone 2.x, or tf-keras on TF >= 2.16) or "3"."""
    channel: str = "pip"
    """How CUDA and cuDNN arrive: pip wheels, conda packages, or the system toolkit."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "python": self.python,
            "tensorflow": self.tensorflow,
            "keras": self.keras,
            "channel": self.channel,
        }


@dataclass(frozen=True)
class Pin:
    """One package of the plan."""

    name: str
    version: str
    """An exact version ("2.21.0") or a specifier (">=1.26.0,<2")."""
    channel: str
    """pip, conda, or system (installed outside the environment: the driver, a system toolkit)."""
    reason: str
    extras: tuple[str, ...] = ()

    @property
    def exact(self) -> bool:
        return self.version[:1].isdigit()

    def requirement(self) -> str:
        """pip form: `tensorflow[and-cuda]==2.21.0`, `numpy<2,>=1.23.5`."""
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        version = f"=={self.version}" if self.exact else self.version
        return f"{self.name}{extras}{version}"

    def conda_spec(self) -> str:
        """conda form: `cudatoolkit=11.2` (= 11.2.*), `numpy>=1.23.5,<2`."""
        return f"{self.name}={self.version}" if self.exact else f"{self.name}{self.version}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "channel": self.channel,
            "reason": self.reason,
        }
        if self.extras:
            out["extras"] = list(self.extras)
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
    target: str
    """"cpu" or "gpu" (auto is resolved)."""
    platform: str
    """Knowledge-base platform: linux-x86_64, linux-aarch64, windows-x86_64, macos-x86_64, macos-arm64."""
    python: str
    tensorflow: Pin
    cuda: str | None
    cudnn: str | None
    cuda_channel: str | None
    """How CUDA/cuDNN arrive: pip (`and-cuda` wheels), conda, system; None for a CPU plan."""
    packages: tuple[Pin, ...]
    """Every package to install, TensorFlow included, in install order."""
    environment: tuple[tuple[str, str], ...] = ()
    """Variables the environment must set (e.g. TF_USE_LEGACY_KERAS=1 for tf-keras)."""
    warnings: tuple[Note, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    inputs: dict[str, str] = field(default_factory=dict)
    """Hashes of what the plan was decided from: profile, request, knowledge base."""

    def pip_packages(self) -> tuple[Pin, ...]:
        return tuple(p for p in self.packages if p.channel == "pip")

    def conda_packages(self) -> tuple[Pin, ...]:
        return tuple(p for p in self.packages if p.channel == "conda")

    def to_dict(self) -> dict[str, Any]:
        """The `plan` object of `envgen plan --json`."""
        return {
            "target": self.target,
            "platform": self.platform,
            "python": self.python,
            "tensorflow": {
                "name": self.tensorflow.name,
                "version": self.tensorflow.version,
                "extras": list(self.tensorflow.extras),
            },
            "cuda": self.cuda,
            "cudnn": self.cudnn,
            "cuda-channel": self.cuda_channel,
            "packages": [p.to_dict() for p in self.packages],
            "environment": dict(self.environment),
            "request": self.request.to_dict(),
            "inputs": dict(self.inputs),
        }

    def digest(self) -> str:
        """A short hash of the decision itself, for file headers and lock indexes."""
        from envgen.digest import of_json

        return of_json(self.to_dict())


def tensorflow_spec(text: str | None, option: str = "tensorflow") -> SpecifierSet | None:
    """`--tensorflow`: a PEP 440 specifier, or a bare version (`2.15` means `==2.15.*`).

    `option` names the option the text came from, for the error."""
    if text is None or not text.strip():
        return None
    spec = text.strip().removeprefix("tensorflow").strip()
    if is_dotted(spec):
        return SpecifierSet(f"=={spec}.*" if spec.count(".") == 1 else f"=={spec}")
    try:
        return SpecifierSet(spec)
    except InvalidSpecifier as exc:
        raise OptionError(
            option,
            f"{shown(text)} is not a version specifier",
            hint="use e.g. 2.15, 2.15.1, '==2.15.*' or '>=2.12,<2.16'",
        ) from exc


def validate(request: Request) -> None:
    """Reject malformed requests naming the option (the CLI names where its value came from)."""
    for name, value in request.to_dict().items():
        if isinstance(value, str) and bad_char(value) is not None:
            # The request is written into lock indexes and file headers, one value a line.
            raise OptionError(name, f"holds a control character: {shown(value)}")
    if request.target not in TARGETS:
        raise OptionError(
            "target", f"expected one of {', '.join(TARGETS)}, got {shown(request.target)}"
        )
    if request.python is not None and not (
        is_dotted(request.python, parts=2) and request.python == request.python.strip()
    ):
        raise OptionError("python", f"expected a version like 3.11, got {shown(request.python)}")
    if request.keras is not None and request.keras not in KERAS_CHOICES:
        raise OptionError("keras", f"expected 2 or 3, got {shown(request.keras)}")
    if request.channel not in (*CHANNELS, "auto"):
        raise OptionError(
            "channel", f"expected pip, conda, system or auto, got {shown(request.channel)}"
        )
    tensorflow_spec(request.tensorflow)
