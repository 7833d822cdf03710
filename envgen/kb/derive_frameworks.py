"""Release rows of `jax-releases.toml` and `torch-releases.toml`, derived from PyPI's answers.

Like `envgen.kb.derive` for TensorFlow, and with its wheel-file readers: no I/O of its own (a
`Source` answers), one row per final release, every fact from the PEP 691 simple index and the
wheels' METADATA.

* jax: the jaxlib wheels of the same version per platform and Python, the `jax-cudaNN-plugin`
  wheels per CUDA major and platform (only where the plugin's `jax-cudaNN-pjrt`, when that
  project has the release, has a wheel there too), the `cudaNN` extras jax declares.
* torch: the wheels per platform and Python, and the CUDA each platform's wheel was built with,
  read from the exact pin its Requires-Dist gives one of torch-builds.toml's `runtime-packages`
  (markers evaluated for that platform and Python); none pinned is a CPU build.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.markers import InvalidMarker, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envgen.kb.derive import (
    Metadata,
    Source,
    WheelFile,
    all_pythons,
    parse_index,
    parse_metadata,
    wheel_entry,
)
from envgen.versions import DottedVersion, major_minor

# The first releases envgen lists: Keras 3's minimum backends (keras-backends.toml `minimum` is
# 0.4.20 for jax; torch 2.0 is listed so a refusal can name what 2.0 lacks).
JAX_OLDEST = Version("0.4.20")
TORCH_OLDEST = Version("2.0.0")

_CUDA_EXTRA = re.compile(r"cuda\d+")


@dataclass(frozen=True)
class FrameworkFacts:
    """The knowledge base's part of a derivation."""

    platforms: tuple[str, ...]
    markers: Mapping[str, Mapping[str, str]]
    """PEP 508 environment values per platform (lock-platforms.toml)."""
    cuda_majors: tuple[str, ...] = ()
    """jax: the CUDA majors of jax-builds.toml (which plugin projects to ask)."""
    runtime_packages: tuple[str, ...] = ()
    """torch: torch-builds.toml's `runtime-packages`."""


class _Pages:
    """Each project's wheels, parsed once."""

    def __init__(self, source: Source, facts: FrameworkFacts, oldest: Version) -> None:
        self.source, self.facts, self.oldest = source, facts, oldest
        self._wheels: dict[str, list[WheelFile]] = {}

    def all(self, project: str) -> list[WheelFile]:
        if project not in self._wheels:
            body = self.source.simple(project)
            self._wheels[project] = parse_index(
                project, body, self.facts.platforms, oldest=self.oldest
            )
        return self._wheels[project]

    def of(self, project: str, version: Version, platform: str | None = None) -> list[WheelFile]:
        return [
            w
            for w in self.all(project)
            if w.version == version and (platform is None or platform in w.platforms)
        ]

    def metadata(self, wheel: WheelFile) -> Metadata:
        return parse_metadata(self.source.metadata(wheel.url, wheel.size))


def _newest_python(wheels: Sequence[WheelFile]) -> WheelFile:
    """The wheel for the highest Python: the one whose METADATA stands for the others."""
    return max(
        wheels,
        key=lambda w: (max((DottedVersion(p).parts for p in w.pythons), default=()), w.filename),
    )


def _requires_python(meta: Metadata, wheel: WheelFile) -> str | None:
    return meta.requires_python or wheel.requires_python


# --- jax --------------------------------------------------------------------------------------


def _cuda_extras(meta: Metadata) -> list[str]:
    """The `cudaNN` extras a jax METADATA declares (`extra == "cuda12"`)."""
    found = set()
    for line in meta.requires_dist:
        for name in re.findall(r"extra\s*==\s*['\"]([^'\"]+)['\"]", line):
            if _CUDA_EXTRA.fullmatch(name):
                found.add(name)
    return sorted(found, key=lambda e: int(e.removeprefix("cuda")))


def derive_jax_release(pages: _Pages, version: Version) -> dict[str, Any]:
    """One `[[release]]` row of jax-releases.toml as a plain dict."""
    facts = pages.facts
    row: dict[str, Any] = {"version": str(version)}
    own = pages.of("jax", version)
    meta = pages.metadata(_newest_python(own)) if own else Metadata(None, ())
    requires_python = _requires_python(meta, own[0]) if own else None
    if requires_python:
        row["requires-python"] = requires_python
    extras = _cuda_extras(meta)
    if extras:
        row["extras"] = extras
    row["source"] = (
        f"https://pypi.org/project/jax/{version}/#files (simple index of jax, jaxlib, "
        "jax-cudaNN-plugin, jax-cudaNN-pjrt + METADATA)"
    )
    for platform in facts.platforms:
        jaxlib = pages.of("jaxlib", version, platform)
        if jaxlib:
            row[platform] = wheel_entry("jaxlib", jaxlib, platform, all_pythons(jaxlib), shim=False)
    for major in facts.cuda_majors:
        plugin, pjrt = f"jax-cuda{major}-plugin", f"jax-cuda{major}-pjrt"
        pjrt_released = bool(pages.of(pjrt, version))
        for platform in facts.platforms:
            wheels = pages.of(plugin, version, platform)
            if not wheels or (pjrt_released and not pages.of(pjrt, version, platform)):
                continue
            row[f"cuda{major}-{platform}"] = wheel_entry(
                plugin, wheels, platform, all_pythons(wheels), shim=False
            )
    return row


def derive_jax_releases(source: Source, facts: FrameworkFacts) -> list[dict[str, Any]]:
    """Every final jax release from `JAX_OLDEST` with a wheel on PyPI."""
    pages = _Pages(source, facts, JAX_OLDEST)
    versions = sorted({w.version for w in pages.all("jax")})
    return [derive_jax_release(pages, v) for v in versions]


# --- torch ------------------------------------------------------------------------------------


def built_cuda(
    requires_dist: Iterable[str], runtime: Iterable[str], env: Mapping[str, str]
) -> str | None:
    """The CUDA X.Y a wheel was built with: the exact pin of a runtime package whose marker holds
    in `env` (`nvidia-cuda-runtime-cu12==12.1.105` -> 12.1); None for a CPU build."""
    names = {canonicalize_name(n) for n in runtime}
    for line in requires_dist:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(req.name) not in names:
            continue
        try:
            if req.marker is not None and not req.marker.evaluate({**env, "extra": ""}):
                continue
        except (InvalidMarker, UndefinedEnvironmentName, InvalidVersion):
            continue
        exact = [s.version for s in req.specifier if s.operator == "=="]
        if exact:
            return major_minor(exact[0].split("+")[0])
    return None


def derive_torch_release(pages: _Pages, version: Version) -> dict[str, Any]:
    """One `[[release]]` row of torch-releases.toml as a plain dict."""
    facts = pages.facts
    row: dict[str, Any] = {"version": str(version)}
    own = pages.of("torch", version)
    first = _newest_python(own)
    requires_python = _requires_python(pages.metadata(first), first)
    if requires_python:
        row["requires-python"] = requires_python
    row["source"] = (
        f"https://pypi.org/project/torch/{version}/#files (simple index + METADATA of each "
        "platform's wheel)"
    )
    for platform in facts.platforms:
        wheels = pages.of("torch", version, platform)
        if not wheels:
            continue
        entry = wheel_entry("torch", wheels, platform, all_pythons(wheels), shim=False)
        stand_in = _newest_python(wheels)
        python = max(stand_in.pythons, key=DottedVersion, default="3.12")
        env = {
            **facts.markers[platform],
            "python_version": python,
            "python_full_version": f"{python}.0",
        }
        cuda = built_cuda(pages.metadata(stand_in).requires_dist, facts.runtime_packages, env)
        if cuda is not None:
            entry["cuda"] = cuda
        row[platform] = entry
    return row


def derive_torch_releases(source: Source, facts: FrameworkFacts) -> list[dict[str, Any]]:
    """Every final torch release from `TORCH_OLDEST` with a wheel on PyPI."""
    pages = _Pages(source, facts, TORCH_OLDEST)
    versions = sorted({w.version for w in pages.all("torch")})
    return [derive_torch_release(pages, v) for v in versions]
