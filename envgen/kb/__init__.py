"""The knowledge base: compatibility facts as TOML data files, loaded into typed, validated objects.

Facts live in the `*.toml` files beside this module, never in Python `if` chains. Every row carries
a `source` (a URL or a citation of the reference notes) so a reviewer can check it. Each data file
has one module here (`drivers.py` for `cuda-drivers.toml`, ...) that declares its rows as frozen
dataclasses; one reader (`rows.py`) loads every file from those declarations and names the exact
key on error, and `schema.py` writes each file's JSON Schema from the same declarations.
`load_kb()` bundles the tables, each parsed on first use only, so commands pay only for the tables
they read.
"""

from __future__ import annotations

import functools
import hashlib
import tomllib
from importlib import resources
from typing import TYPE_CHECKING, Any

from envgen.digest import SHORT
from envgen.errors import KnowledgeBaseError

if TYPE_CHECKING:
    from envgen.kb.community import CommunityTable
    from envgen.kb.conda import CondaTable
    from envgen.kb.conda_forge import CondaForgeTable
    from envgen.kb.cpu import CpuTable
    from envgen.kb.cuda_arch import CudaArchTable
    from envgen.kb.cudnn import CudnnTable
    from envgen.kb.distributions import DistributionTable
    from envgen.kb.doctor_checks import DoctorChecks
    from envgen.kb.drivers import DriverTable
    from envgen.kb.families import FamilyTable
    from envgen.kb.gpu_issues import GpuIssueTable
    from envgen.kb.gpus import GpuTable
    from envgen.kb.images import ImageTable
    from envgen.kb.jax import JaxTable
    from envgen.kb.keras import KerasTable
    from envgen.kb.keras_backends import KerasBackendTable
    from envgen.kb.lock_platforms import LockPlatformTable
    from envgen.kb.metal import MetalTable
    from envgen.kb.mirrors import MirrorTable
    from envgen.kb.pytorch import TorchTable
    from envgen.kb.remedies import RemedyTable
    from envgen.kb.signatures import SignatureTable
    from envgen.kb.tensorflow import TensorFlowTable
    from envgen.kb.wording import Wording


def data_text(name: str) -> str:
    """The text of a packaged knowledge-base file, e.g. `cuda-drivers.toml`."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


@functools.cache
def load_toml(name: str) -> dict[str, Any]:
    """Parse a packaged data file; a syntax error is envgen's bug and says which file."""
    try:
        return tomllib.loads(data_text(name))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeBaseError(f"knowledge base file {name}: {exc}") from exc


def data_files() -> list[str]:
    """Every packaged data file, sorted, for invariant tests and the knowledge-base hash."""
    return sorted(p.name for p in resources.files(__name__).iterdir() if p.name.endswith(".toml"))


@functools.cache
def kb_hash() -> str:
    """A short content hash of every data file: it goes into lock and file headers."""
    digest = hashlib.sha256()
    for name in data_files():
        digest.update(name.encode())
        digest.update(data_text(name).encode())
    return digest.hexdigest()[:SHORT]


class KnowledgeBase:
    """All tables, each parsed and validated on first access."""

    @property
    def digest(self) -> str:
        """The content hash of the data this knowledge base reads (its version in headers)."""
        return kb_hash()

    @functools.cached_property
    def drivers(self) -> DriverTable:
        from envgen.kb.drivers import load_drivers

        return load_drivers()

    @functools.cached_property
    def cpu(self) -> CpuTable:
        from envgen.kb.cpu import load_cpu

        return load_cpu()

    @functools.cached_property
    def gpus(self) -> GpuTable:
        from envgen.kb.gpus import load_gpus

        return load_gpus()

    @functools.cached_property
    def cuda_arch(self) -> CudaArchTable:
        from envgen.kb.cuda_arch import load_cuda_arch

        return load_cuda_arch()

    @functools.cached_property
    def cudnn(self) -> CudnnTable:
        from envgen.kb.cudnn import load_cudnn

        return load_cudnn()

    @functools.cached_property
    def conda(self) -> CondaTable:
        from envgen.kb.conda import load_conda

        return load_conda()

    @functools.cached_property
    def conda_forge(self) -> CondaForgeTable:
        from envgen.kb.conda_forge import load_conda_forge

        return load_conda_forge()

    @functools.cached_property
    def community(self) -> CommunityTable:
        from envgen.kb.community import load_community

        return load_community()

    @functools.cached_property
    def families(self) -> FamilyTable:
        from envgen.kb.families import load_families

        return load_families()

    @functools.cached_property
    def mirrors(self) -> MirrorTable:
        from envgen.kb.mirrors import load_mirrors

        return load_mirrors()

    @functools.cached_property
    def tensorflow(self) -> TensorFlowTable:
        from envgen.kb.tensorflow import load_tensorflow

        return load_tensorflow()

    @functools.cached_property
    def keras(self) -> KerasTable:
        from envgen.kb.keras import load_keras

        return load_keras()

    @functools.cached_property
    def keras_backends(self) -> KerasBackendTable:
        from envgen.kb.keras_backends import load_keras_backends

        return load_keras_backends()

    @functools.cached_property
    def jax(self) -> JaxTable:
        from envgen.kb.jax import load_jax

        return load_jax()

    @functools.cached_property
    def torch(self) -> TorchTable:
        from envgen.kb.pytorch import load_torch

        return load_torch()

    @functools.cached_property
    def distributions(self) -> DistributionTable:
        from envgen.kb.distributions import load_distributions

        return load_distributions()

    @functools.cached_property
    def signatures(self) -> SignatureTable:
        from envgen.kb.signatures import load_signatures

        return load_signatures()

    @functools.cached_property
    def metal(self) -> MetalTable:
        from envgen.kb.metal import load_metal

        return load_metal()

    @functools.cached_property
    def gpu_issues(self) -> GpuIssueTable:
        from envgen.kb.gpu_issues import load_gpu_issues

        return load_gpu_issues()

    @functools.cached_property
    def remedies(self) -> RemedyTable:
        from envgen.kb.remedies import load_remedies

        return load_remedies()

    @functools.cached_property
    def images(self) -> ImageTable:
        from envgen.kb.images import load_images

        return load_images()

    @functools.cached_property
    def doctor_checks(self) -> DoctorChecks:
        from envgen.kb.doctor_checks import load_doctor_checks

        return load_doctor_checks()

    @functools.cached_property
    def lock_platforms(self) -> LockPlatformTable:
        from envgen.kb.lock_platforms import load_lock_platforms

        return load_lock_platforms()

    @functools.cached_property
    def wording(self) -> Wording:
        from envgen.kb.wording import load_wording

        return load_wording()


@functools.cache
def load_kb() -> KnowledgeBase:
    return KnowledgeBase()
