"""The doctor's lookup for a CPU without AVX: the build of another family that runs there.

A Windows `DLL load failed` (STATUS_ILLEGAL_INSTRUCTION on Windows 7, "A dynamic link library
(DLL) initialization routine failed" on Windows 10) or a Linux `Illegal instruction` means the
official wheels' AVX (since 1.6) met a CPU without it. The way out is a build compiled without
AVX: on Windows a community wheel of community-builds.toml (fo40225's sse2 folders), on Linux
conda-forge's own TensorFlow (conda-forge-tensorflow.toml, `-march=nocona`). This names the one
for the log's Python (else the newest, with its Python), with the option that plans it.

Where the hardware profile is given, it says whether the CPU lacks AVX (`cpu_simd`): a finding
whose text has two possible causes (the Windows 10 wording is also a missing VC++ runtime) can
then say which. Registered in `lookups.LOOKUPS` under the kinds of signatures.toml.
"""

from __future__ import annotations

from collections.abc import Callable

from envgen.doctor.found import NOTHING, Fields, Found
from envgen.kb import KnowledgeBase
from envgen.kb.families import COMMUNITY
from envgen.plan import Channel


def _community(kb: KnowledgeBase, python: str | None) -> tuple[dict[str, str], str] | None:
    """The newest installable CPU community build without AVX, for `python` where one exists."""
    rows = [
        w
        for w in kb.community.newest_first("windows-x86_64")
        if w.kind == "CPU" and not w.cpu_features and w.wheel_file() is not None
    ]
    mine = [w for w in rows if w.python == python]
    if not (mine or rows):
        return None
    row = (mine or rows)[0]
    family = kb.families.get(COMMUNITY)
    text = f"TensorFlow {row.release} for Python {row.python} ({row.label}, third-party)"
    return {
        "no_avx_build": text,
        "no_avx_python": row.python,
        "no_avx_option": family.option or "",
    }, "python" if mine else ""


def _forge(kb: KnowledgeBase, python: str | None) -> tuple[dict[str, str], str] | None:
    """The newest conda-forge linux-64 CPU build compiled without AVX, for `python` if any
    (it comes with `--channel conda`: conda-forge's family is weighed under that channel)."""
    found = [
        (b, v)
        for b, v in kb.conda_forge.newest_first("linux-64")
        if v.cuda is None and "avx" not in v.cpu_features and (v.microarch_level or 1) == 1
    ]
    mine = [(b, v) for b, v in found if python is not None and v.supports_python(python)]
    if not (mine or found):
        return None
    build, variant = (mine or found)[0]
    py = python if mine and python else variant.python[-1]
    spec = variant.build_spec(py)
    text = f"TensorFlow {build.version} for Python {py} (conda-forge's {spec}, {variant.baseline})"
    return {
        "no_avx_build": text,
        "no_avx_python": py,
        "no_avx_option": f"--channel {Channel.CONDA}",
    }, "python" if mine else ""


def _simd(fields: Fields) -> dict[str, str]:
    """What the profile says of the CPU: `no_avx_cpu` / `avx_only_cpu` where it says so."""
    simd = fields.get("cpu_simd")
    if simd == "sse2":
        return {"no_avx_cpu": "this CPU has no AVX (hardware profile)"}
    if simd == "avx":
        return {"avx_only_cpu": "this CPU has AVX but no AVX2 (hardware profile)"}
    return {}


def _lookup(default_os: str) -> Callable[[KnowledgeBase, Fields], Found]:
    def find(kb: KnowledgeBase, fields: Fields) -> Found:
        os_name = fields.get("os") or default_os
        python = fields.get("python") or None
        pick = _community if os_name == "windows" else _forge if os_name == "linux" else None
        found = pick(kb, python) if pick is not None else None
        if found is None:
            return NOTHING
        gives, used = found
        gives |= _simd(fields)
        inputs = tuple(n for n in ("os", used) if n and fields.get(n))
        also: dict[str, tuple[str, ...]] = {
            k: ("cpu_simd",) for k in ("no_avx_cpu", "avx_only_cpu") if k in gives
        }
        return Found(gives, inputs, also)

    return find


# By signatures.toml's [[lookup]] kind: a DLL error is Windows' where the log does not say.
NO_AVX_LOOKUPS: dict[str, Callable[[KnowledgeBase, Fields], Found]] = {
    "no-avx-build": _lookup("linux"),
    "no-avx-build-windows": _lookup("windows"),
}
