"""The rule book on the GPU: compute capabilities (floor, SASS, PTX, known failures, cuDNN's
floor) and the NVIDIA driver (the floor a build's CUDA needs, PTX JIT, minor-version
compatibility, a runtime newer than the driver). Every check returns a `Verdict`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from envgen.rules.verdict import FAIL, NOTE, Verdict, verdict
from envgen.versions import is_dotted, major_minor, parse_dotted

if TYPE_CHECKING:
    from envgen.kb import KnowledgeBase
    from envgen.kb.tensorflow import Build
    from envgen.profile import NvidiaDriver, OSInfo


# --- GPU compute capability ----------------------------------------------------------------------


@dataclass(frozen=True)
class Architectures:
    """What a build can run on: its floor, native (SASS) and PTX compute capabilities."""

    minimum: str | None
    """None: not known yet (a build row under review)."""
    sass: tuple[str, ...]
    ptx: tuple[str, ...]
    floor: bool = True
    """The framework ignores GPUs below `minimum` (TensorFlow); False: a GPU below every list has
    no kernel (JAX, PyTorch: `cc-no-kernel`)."""

    @classmethod
    def of(cls, build: Build) -> Architectures:
        return cls(build.min_compute_capability, build.sass, build.ptx)

    @classmethod
    def of_lists(cls, sass: Sequence[str], ptx: Sequence[str]) -> Architectures:
        """A build with no floor of its own (JAX, PyTorch): a GPU below every list has no
        kernel (`cc-no-kernel`), rather than being ignored as TensorFlow ignores one."""
        lowest = min((*sass, *ptx), key=parse_dotted)
        return cls(lowest, tuple(sass), tuple(ptx), floor=False)

    @classmethod
    def from_names(cls, names: Iterable[object], build: Build) -> Architectures:
        """From `tf.sysconfig.get_build_info()['cuda_compute_capabilities']` (`sm_89`,
        `compute_90`, `sm_90a`); the build row's lists where the names say nothing."""
        found = cls.from_arch_list(names)
        if found is None or found.minimum is None:
            return cls.of(build)
        # An unreviewed build row has no floor yet: the names' lowest is the floor then.
        floor = build.min_compute_capability or found.minimum
        return cls(max(found.minimum, floor, key=parse_dotted), found.sass, found.ptx)

    @classmethod
    def from_arch_list(cls, names: Iterable[object]) -> Architectures | None:
        """From a build's own architecture names (`sm_89`, `compute_90`, `sm_90a`: TensorFlow's
        build info, `torch.cuda.get_arch_list()`); the floor is the lowest one. None when the
        names say nothing."""
        sass: list[str] = []
        ptx: list[str] = []
        for name in names:
            kind, _, digits = str(name).partition("_")
            digits = digits.rstrip("abcdefghijklmnopqrstuvwxyz")
            if not digits.isdigit() or len(digits) < 2:
                continue
            # Only explicit compute_ entries count as PTX: a conservative reading.
            (sass if kind == "sm" else ptx).append(f"{digits[:-1]}.{digits[-1]}")
        if not sass and not ptx:
            return None
        return cls(min(sass + ptx, key=parse_dotted), (*sass,), (*ptx,))


def compute_capability(
    kb: KnowledgeBase,
    arch: Architectures,
    cc: str,
    *,
    tensorflow: str | None = None,
    cudnn: tuple[str, str] | None = None,
) -> Verdict:
    """Can a GPU of compute capability `cc` run a build with these architectures?

    SASS runs on the same major with an equal or higher minor; PTX is JIT-compiled for any
    newer GPU (CUDA C programming guide, "Binary Compatibility" / "PTX Compatibility").
    `tensorflow` looks up known failures (gpu-issues); `cudnn` = (cuDNN, CUDA) checks cuDNN's
    own compute-capability floor. Codes: cc-unreviewed (the build's architectures are not known
    yet), cc-below-minimum, cc-known-issue, cc-no-kernel, cc-cudnn, cc-sass, cc-ptx.
    """
    if arch.minimum is None:
        return verdict("cc-unreviewed", FAIL, cc=cc, minor=tensorflow or "?")
    have = parse_dotted(cc)
    if arch.floor and have < parse_dotted(arch.minimum):
        return verdict("cc-below-minimum", FAIL, cc=cc, min_cc=arch.minimum)
    if tensorflow is not None:
        from packaging.version import Version

        issue = kb.gpu_issues.find(cc, Version(tensorflow))
        if issue is not None:
            return verdict("cc-known-issue", FAIL, cc=cc, reason=issue.reason)
    sass = any(parse_dotted(s)[0] == have[0] and parse_dotted(s) <= have for s in arch.sass)
    ptx = any(parse_dotted(p) <= have for p in arch.ptx)
    if not sass and not ptx:
        return verdict(
            "cc-no-kernel",
            FAIL,
            cc=cc,
            sass=", ".join(arch.sass),
            ptx=", ".join(arch.ptx) or "none",
        )
    if cudnn is not None:
        floor = kb.cudnn.min_cc(*cudnn)
        if floor is not None and have < parse_dotted(floor):
            return verdict("cc-cudnn", FAIL, cc=cc, cudnn=cudnn[0], floor=floor)
    return verdict("cc-sass" if sass else "cc-ptx", cc=cc, sass=", ".join(arch.sass))


# --- the NVIDIA driver ---------------------------------------------------------------------------


def driver_os(os_info: OSInfo) -> str:
    """Which column of NVIDIA's driver table applies: WSL2 runs the Windows driver."""
    return "windows" if os_info.name == "windows" or os_info.wsl else "linux"


@dataclass(frozen=True)
class DriverFloor:
    driver: str | None
    """The hard minimum; None where no table knows the CUDA version."""
    who: str
    """Which rule set it: `documented`, `minor-compat` or `toolkit` (a `wording.toml` code)."""
    cuda: str
    major: str


def driver_floor(kb: KnowledgeBase, build: Build, os_info: OSInfo) -> DriverFloor:
    """The hard driver minimum for a TensorFlow build's CUDA on this OS, and who states it.

    TensorFlow's own documented minimum wins (Linux and WSL2 only); else NVIDIA's minor-version
    compatibility floor for the CUDA major; else NVIDIA's toolkit table.
    """
    return cuda_driver_floor(
        kb,
        build.cuda,
        os_info,
        documented=None
        if os_info.name == "windows"
        else (build.driver_wsl if os_info.wsl else build.driver_linux),
    )


def cuda_driver_floor(
    kb: KnowledgeBase, cuda: str, os_info: OSInfo, *, documented: str | None = None
) -> DriverFloor:
    """The driver minimum for CUDA `cuda` (X.Y) software on this OS.

    NVIDIA's floor: a driver runs CUDA X.Y natively from the toolkit table's minimum for X.Y, and
    through minor-version compatibility from the compatibility minimum of major X where one
    exists (CUDA 11 on); the lower of the two is the hard floor. TensorFlow's documented minimum
    wins where it is at least NVIDIA's: some documented minimums are branch names ("384.x"),
    which must not let 384.59 run CUDA 9.0 (NVIDIA: 384.81).
    """
    cuda = major_minor(cuda)
    major = str(parse_dotted(cuda)[0])
    column = driver_os(os_info)
    compat = kb.drivers.minor_compat_minimum(int(major), column)
    toolkit = kb.drivers.toolkit_minimum(cuda, column)
    options = [(v, who) for v, who in ((compat, "minor-compat"), (toolkit, "toolkit")) if v]
    nvidia, who = min(options, key=lambda o: parse_dotted(o[0])) if options else (None, "toolkit")
    if documented and (nvidia is None or parse_dotted(documented) >= parse_dotted(nvidia)):
        return DriverFloor(documented, "driver-who-documented", cuda, major)
    return DriverFloor(nvidia, f"driver-who-{who}", cuda, major)


def driver(
    kb: KnowledgeBase,
    floor: DriverFloor,
    nvidia: NvidiaDriver,
    os_info: OSInfo,
    *,
    ptx_only: bool = False,
) -> Verdict:
    """Does driver `nvidia` run software built with CUDA `floor.cuda`?

    Below the floor it fails (`driver-too-old`). Minor-version compatibility covers SASS, not
    PTX: a GPU that runs the build only through PTX JIT needs a driver whose CUDA is at least the
    build's (cudaErrorUnsupportedPtxVersion; kb-platform.md §0 rule 1) (`driver-ptx-jit`).
    A driver below NVIDIA's toolkit minimum but at or above the floor runs through minor-version
    compatibility, with a warning (`driver-minor-compat`). Else `driver-ok`.
    """
    who = kb.wording.render(floor.who, cuda=floor.cuda, major=floor.major)
    have = parse_dotted(nvidia.driver)
    toolkit = kb.drivers.toolkit_minimum(floor.cuda, driver_os(os_info))
    base = {
        "driver": nvidia.driver,
        "cuda": floor.cuda,
        "driver_cuda": nvidia.cuda or "?",
        "floor": floor.driver or "",
        "who": who,
        "min_driver": toolkit or floor.driver or "?",
    }
    if floor.driver is not None and have < parse_dotted(floor.driver):
        return verdict("driver-too-old", FAIL, **base)
    ceiling = nvidia.cuda
    if ptx_only and ceiling and parse_dotted(major_minor(ceiling)) < parse_dotted(floor.cuda):
        return verdict("driver-ptx-jit", FAIL, **base)
    if toolkit is not None and have < parse_dotted(toolkit):
        return verdict("driver-minor-compat", NOTE, **base)
    return verdict("driver-ok", **base)


def runtime_on_driver(build_cuda: str, driver_cuda: str) -> Verdict:
    """Does software built with CUDA `build_cuda` run on a driver whose CUDA is `driver_cuda`?

    CUDA minor-version compatibility: a driver runs any runtime of its own major version or older
    (docs.nvidia.com/deploy/cuda-compatibility, "Minor Version Compatibility"); a newer major
    needs a newer driver. Unparseable versions are not judged.
    """
    if not (is_dotted(major_minor(build_cuda)) and is_dotted(major_minor(driver_cuda))):
        return verdict("runtime-unknown", NOTE, cuda=build_cuda, driver_cuda=driver_cuda)
    if parse_dotted(build_cuda)[0] > parse_dotted(driver_cuda)[0]:
        return verdict("runtime-newer-major", FAIL, cuda=build_cuda, driver_cuda=driver_cuda)
    return verdict("runtime-ok", cuda=build_cuda, driver_cuda=driver_cuda)
