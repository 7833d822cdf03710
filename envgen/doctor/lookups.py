"""The knowledge-base lookups a finding's templates may use (`[[lookup]]` in signatures.toml).

Each lookup reads some fields of the case (what the log's pattern captured, the facts it gave away,
what earlier lookups gave) and derives numbers from the knowledge base: the Pythons a TensorFlow
release has wheels for, the driver a CUDA version needs, the cuDNN a build was made with. It
returns the fields it could fill and the input fields it used, so a finding can say where its
numbers came from. A lookup never guesses: what it cannot derive, it leaves out, and the
template falls back to a variant that does not need it.

Judgements (does this driver run that build?) go through the rule book (`envgen.rules`); this
module only selects rows and formats lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envgen import rules
from envgen.doctor.found import NOTHING, Fields, Found
from envgen.doctor.no_avx import NO_AVX_LOOKUPS
from envgen.kb import KnowledgeBase
from envgen.kb.tensorflow import Build, Release
from envgen.profile import NvidiaDriver, OSInfo
from envgen.versions import is_dotted, major_minor, parse_dotted

# The platform the knowledge base is asked about when the log names none: TensorFlow's reference
# platform (every release has wheels there).
DEFAULT_PLATFORM = "linux-x86_64"
# The machine each OS has when the log does not say: the only one with TensorFlow wheels on
# Windows, Apple silicon for macOS (Intel Macs' last wheels are years old).
_DEFAULT_ARCH = {"linux": "x86_64", "windows": "x86_64", "macos": "arm64"}
_ARCHES = {"linux": ("x86_64", "aarch64"), "windows": ("x86_64",), "macos": ("arm64", "x86_64")}


def _version(text: str | None) -> Version | None:
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None


def _release(kb: KnowledgeBase, text: str | None) -> Release | None:
    """The release `text` names ("2.9.1"), or the last release of a minor ("2.9")."""
    version = _version(text)
    if version is None:
        return None
    found = kb.tensorflow.release(version)
    if found is None and len(version.release) == 2:
        of_minor = kb.tensorflow.releases_of(f"{version.major}.{version.minor}")
        found = of_minor[-1] if of_minor else None
    return found


def _build(kb: KnowledgeBase, text: str | None) -> Build | None:
    version = _version(text)
    return kb.tensorflow.build(f"{version.major}.{version.minor}") if version else None


def _span(minors: list[str]) -> str:
    """ "2.4" or "2.4 to 2.14": the builds a fact applies to, in table order."""
    if not minors:
        return ""
    return minors[0] if len(minors) == 1 else f"{minors[0]} to {minors[-1]}"


def _distinct(values: Iterable[str]) -> str:
    seen: list[str] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return ", ".join(sorted(seen, key=parse_dotted))


def _os_info(fields: Fields) -> OSInfo:
    return OSInfo(name=fields.get("os") or "linux")


def _gpu_builds(kb: KnowledgeBase, fields: Fields) -> list[Build]:
    """The builds with an official GPU wheel on the log's OS (all Linux ones when unknown)."""
    platform = "windows-x86_64" if fields.get("os") == "windows" else DEFAULT_PLATFORM
    return [b for b in kb.tensorflow.builds if platform in b.gpu_platforms]


# PEP 425 platform tags -> the knowledge base's platform names.
def _tag_platform(tag: str) -> str | None:
    tag = tag.lower()
    if tag == "win_amd64":
        return "windows-x86_64"
    for machine in ("x86_64", "aarch64"):
        if "linux" in tag and tag.endswith(machine):
            return f"linux-{machine}"
    for machine in ("arm64", "x86_64"):
        if tag.startswith("macosx") and tag.endswith(machine):
            return f"macos-{machine}"
    return None


def _platform(fields: Fields) -> tuple[str | None, tuple[str, ...]]:
    """The platform the case is about and the fields that said so (None: the log does not say)."""
    tag = fields.get("wheel_plat")
    if tag:
        found = _tag_platform(tag)
        if found:
            return found, ("wheel_plat",)
    os_name = fields.get("os")
    if tag and os_name not in _DEFAULT_ARCH:
        return None, ()  # a wheel for a platform the knowledge base has no wheels for
    if os_name in _DEFAULT_ARCH:
        arch = fields.get("arch")
        if arch in _ARCHES[os_name]:
            return f"{os_name}-{arch}", ("os", "arch")
        return f"{os_name}-{_DEFAULT_ARCH[os_name]}", ("os",)
    return None, ()


def _wheel_pythons(release: Release, platform: str, gpu: bool) -> tuple[str, ...]:
    """The Pythons with wheels of `release` on `platform` (of its GPU build when `gpu`)."""
    wheels = release.wheel(platform)
    if gpu:
        wheels = release.gpu_wheel(platform) or wheels
    return wheels.python if wheels else ()


# --- the lookups -------------------------------------------------------------------------------


def tf_boundaries(kb: KnowledgeBase, fields: Fields) -> Found:
    b = rules.boundaries(kb)
    builds = kb.tensorflow.builds
    gives = {
        "last_windows_gpu": b.last_windows_gpu,
        "first_keras3": b.first_keras3,
        "last_protobuf_cap": b.last_protobuf_cap,
        "last_numpy_cap": b.last_numpy_cap,
        "latest_tf": str(kb.tensorflow.releases[-1].version),
    }
    keras2 = [x.minor for x in builds if x.keras.kind != "keras3"]
    if keras2:
        gives["last_keras2"] = keras2[-1]
    capped = kb.tensorflow.build(b.last_protobuf_cap)
    if capped is not None and capped.protobuf_cap is not None:
        gives["protobuf_cap_last"] = str(capped.protobuf_cap)
        later = [x.minor for x in builds if parse_dotted(x.minor) > parse_dotted(capped.minor)]
        if later:
            gives["first_protobuf4_tf"] = later[0]
    tf1 = [x.minor for x in builds if parse_dotted(x.minor)[0] == 1]
    if tf1:
        gives["last_tf1"] = tf1[-1]
        last = kb.tensorflow.releases_of(tf1[-1])
        pythons = _wheel_pythons(last[-1], DEFAULT_PLATFORM, False) if last else ()
        if pythons:
            gives["last_tf1_pythons"] = ", ".join(pythons)
            python = fields.get("python")
            if python and python not in pythons:
                gives["tf1_python_missing"] = python
    return Found(gives, also={"tf1_python_missing": ("python",)})


def tf_build(kb: KnowledgeBase, fields: Fields) -> Found:
    text = fields.get("tensorflow")
    release = _release(kb, text)
    build = release.build if release else _build(kb, text)
    if build is None:
        return NOTHING
    gives: dict[str, str] = {
        "tf_minor": build.minor,
        "tf_cuda": build.cuda,
        "tf_cudnn": build.cudnn,
    }
    if build.keras.requirement:
        gives["tf_keras"] = build.keras.requirement
    if build.keras.tf_keras:
        gives["tf_keras_pin"] = build.keras.tf_keras
    if build.protobuf_cap is not None:
        gives["tf_protobuf_cap"] = str(build.protobuf_cap)
    also: dict[str, tuple[str, ...]] = {}
    if release is not None:
        wheels = release.wheel(DEFAULT_PLATFORM)
        python = fields.get("python") or (wheels.python[0] if wheels else "")
        numpy = str(release.numpy_effective(python)) if python else ""
        if numpy:
            gives["tf_numpy"] = numpy
            also["tf_numpy"] = ("python",) if fields.get("python") else ()
        nvcc = [t for t in release.and_cuda or () if t.startswith("nvidia-cuda-nvcc")]
        if nvcc:
            gives["tf_nvcc"] = nvcc[0]
    return Found(gives, ("tensorflow",), also)


def python_with_wheels(kb: KnowledgeBase, fields: Fields) -> Found:
    used: list[str] = []
    release = None
    for key in ("requested", "wheel_version", "tensorflow"):
        if fields.get(key):
            release = _release(kb, fields[key])
            used.append(key)
            break
    if release is None:
        if used:
            return NOTHING  # a release the knowledge base does not know: nothing to say about it
        release = kb.tensorflow.releases[-1]
    platform, said = _platform(fields)
    if platform is None and fields.get("wheel_plat"):
        return NOTHING
    used += said
    platform = platform or DEFAULT_PLATFORM
    # A wheel of another distribution than the main one (tensorflow_gpu-...) is the GPU build's.
    dist = fields.get("wheel_dist")
    gpu = bool(dist) and canonicalize_name(dist or "") != kb.distributions.only("main")
    pythons = _wheel_pythons(release, platform, gpu)
    if not pythons:
        return NOTHING
    gives = {
        "kb_release": str(release.version),
        "kb_platform": platform,
        "kb_pythons": ", ".join(pythons),
    }
    python = fields.get("python")
    if python:
        fits = [
            str(r.version)
            for r in kb.tensorflow.releases
            if python in _wheel_pythons(r, platform, gpu)
        ]
        if fits:
            gives["oldest_tf_for_python"], gives["newest_tf_for_python"] = fits[0], fits[-1]
    by_python = dict.fromkeys(("oldest_tf_for_python", "newest_tf_for_python"), ("python",))
    return Found(gives, tuple(used), by_python)


def python_from_offered(kb: KnowledgeBase, fields: Fields) -> Found:
    """The Python pip ran under, from the TensorFlow releases it offered: the oldest of them is the
    first release with wheels for exactly one Python (2.16.1 for 3.12)."""
    offered = [v for t in (fields.get("offered") or "").split(",") if (v := _version(t.strip()))]
    finals = sorted(v for v in offered if not v.is_prerelease and not v.is_devrelease)
    if not finals:
        return NOTHING
    platform = _platform(fields)[0] or DEFAULT_PLATFORM
    first: dict[str, Version] = {}
    for r in kb.tensorflow.releases:
        for python in _wheel_pythons(r, platform, False):
            first.setdefault(python, r.version)
    candidates = [p for p, v in first.items() if v == finals[0]]
    if len(candidates) != 1:
        return NOTHING
    return Found({"python": candidates[0], "offered_first": str(finals[0])}, ("offered",))


def driver_floor(kb: KnowledgeBase, fields: Fields) -> Found:
    key = "cuda" if fields.get("cuda") else "tf_cuda"
    cuda = fields.get(key, "")
    if not is_dotted(cuda):
        return NOTHING
    cuda = major_minor(cuda)
    os_info = _os_info(fields)
    floor = rules.cuda_driver_floor(kb, cuda, os_info)
    minimum = kb.drivers.toolkit_minimum(cuda, rules.driver_os(os_info)) or floor.driver
    if minimum is None:
        return NOTHING
    used = (key, "os") if fields.get("os") else (key,)
    return Found({"floor_cuda": cuda, "min_driver": minimum}, used)


def tf_for_driver(kb: KnowledgeBase, fields: Fields) -> Found:
    driver = fields.get("driver", "")
    if not is_dotted(driver):
        return NOTHING
    os_info = _os_info(fields)
    ceiling = fields.get("driver_cuda") or kb.drivers.max_cuda(driver, rules.driver_os(os_info))
    gives = {"driver_ceiling": ceiling} if ceiling else {}
    nvidia = NvidiaDriver(driver=driver, cuda=fields.get("driver_cuda") or None)
    for build in reversed(_gpu_builds(kb, fields)):
        if rules.driver(kb, rules.driver_floor(kb, build, os_info), nvidia, os_info).ok:
            gives["newest_tf_for_driver"] = build.minor
            break
    used = tuple(k for k in ("driver", "driver_cuda", "os") if fields.get(k))
    return Found(gives, used) if gives else NOTHING


def tf_for_cuda(kb: KnowledgeBase, fields: Fields) -> Found:
    """The builds made with a CUDA runtime. Since CUDA 11 the runtime's soname carries the major
    only (libcudart.so.11.0 and cudart64_110.dll serve every 11.x), so it names a major."""
    cuda = fields.get("cuda", "")
    if not is_dotted(cuda):
        return NOTHING
    wanted = parse_dotted(cuda)
    major = wanted[0]
    exact = major < 11 and len(wanted) > 1

    def fits(build: Build) -> bool:
        have = parse_dotted(build.cuda)
        return have[:2] == wanted[:2] if exact else have[0] == major

    builds = [b for b in _gpu_builds(kb, fields) if fits(b)]
    gives = {"cuda_major": str(major)}
    if builds:
        gives["cuda_tf_range"] = _span([b.minor for b in builds])
        gives["cuda_builds"] = _distinct(b.cuda for b in builds)
    used = ("cuda", "os") if fields.get("os") else ("cuda",)
    return Found(gives, used)


def tf_for_cudnn(kb: KnowledgeBase, fields: Fields) -> Found:
    major = fields.get("cudnn_major", "")
    if not major.isdigit():
        return NOTHING
    builds = [b for b in _gpu_builds(kb, fields) if parse_dotted(b.cudnn)[0] == int(major)]
    if not builds:
        return NOTHING
    gives = {
        "cudnn_tf_range": _span([b.minor for b in builds]),
        "cudnn_builds": _distinct(b.cudnn for b in builds),
    }
    return Found(gives, ("os",) if fields.get("os") else ())


def and_cuda_pin(kb: KnowledgeBase, fields: Fields) -> Found:
    try:
        pin = Requirement(fields.get("pin", ""))
    except InvalidRequirement:
        return NOTHING

    def same(text: str) -> bool:
        req = Requirement(text)
        return canonicalize_name(req.name) == canonicalize_name(pin.name) and (
            req.specifier == pin.specifier
        )

    releases = kb.tensorflow.releases
    found = [r for r in releases if r.and_cuda and any(same(t) for t in r.and_cuda)]
    if not found:
        return NOTHING
    tensorflow = fields.get("tensorflow")
    named = [str(r.version) for r in found if tensorflow and str(r.version) == tensorflow]
    gives = {"and_cuda_tf": named[0] if named else ", ".join(str(r.version) for r in found)}
    # The first later release whose extra pulls no TensorRT at all (tensorrt, tensorrt-libs, ...).
    later = [r for r in releases if r.version > found[-1].version and r.and_cuda is not None]
    clean = [r for r in later if not any(Requirement(t).name.startswith("tensorrt")
                                         for t in r.and_cuda or ())]  # fmt: skip
    if clean:
        gives["no_trt_tf"] = str(clean[0].version)
    return Found(gives, ("pin", "tensorflow") if named else ("pin",))


def glibc_floor(kb: KnowledgeBase, fields: Fields) -> Found:
    needed = fields.get("glibc", "")
    if not is_dotted(needed):
        return NOTHING
    host = fields.get("glibc_host", "")
    floors = [
        (str(r.version), w.glibc)
        for r in kb.tensorflow.releases
        if (w := r.wheel(DEFAULT_PLATFORM)) is not None and w.glibc
    ]
    if not floors:
        return NOTHING
    gives: dict[str, str] = {"latest_glibc_floor": floors[-1][1]}
    # The host's glibc when known; else only that it is below the one the binary wanted.
    if is_dotted(host):
        usable = [v for v, floor in floors if parse_dotted(floor) <= parse_dotted(host)]
    else:
        usable = [v for v, floor in floors if parse_dotted(floor) < parse_dotted(needed)]
    if usable:
        gives["newest_tf_for_glibc"] = usable[-1]
    return Found(gives, ("glibc", "glibc_host") if is_dotted(host) else ("glibc",))


def macos_arm64_tf(kb: KnowledgeBase, _fields: Fields) -> Found:
    arm = [r for r in kb.tensorflow.releases if r.wheel("macos-arm64")]
    if not arm:
        return NOTHING
    wheels = arm[-1].wheel("macos-arm64")
    assert wheels is not None
    return Found(
        {
            "arm64_tf": str(arm[-1].version),
            "arm64_pythons": ", ".join(wheels.python),
            "arm64_package": wheels.install_name,
            "first_arm64_tf": str(arm[0].version),
        }
    )


def keras_pairing(kb: KnowledgeBase, fields: Fields) -> Found:
    """The Keras that pairs with the case's TensorFlow (what `--keras 2` pins) and the
    TensorFlow range of the keras the case has (keras.toml)."""
    gives: dict[str, str] = {}
    also: dict[str, tuple[str, ...]] = {}
    multi = [v for line in kb.keras.lines if line.kind == "multi-backend" for v in line.versions]
    if multi:
        gives["last_multibackend"] = str(max(multi))
    keras = _version(fields.get("keras"))
    line = kb.keras.line_of("keras", keras) if keras is not None else None
    if line is not None:
        gives["keras_needs"] = rules.keras_tensorflow_range([line])
        also["keras_needs"] = ("keras",)
    release = _release(kb, fields.get("tensorflow"))
    if release is not None:
        verdict = rules.keras_request(kb, release, "2")
        pairing = release.keras
        pin = (
            f"keras=={verdict.get('version')}"
            if verdict.code == "keras-pin"
            else pairing.tf_keras
            if pairing.kind == "keras3"
            else pairing.requirement
        )
        if pin:
            gives["keras_pin"] = pin
            gives["keras_tf_minor"] = release.minor
            also["keras_pin"] = also["keras_tf_minor"] = ("tensorflow",)
    return Found(gives, (), also) if gives else NOTHING


LOOKUPS: dict[str, Callable[[KnowledgeBase, Fields], Found]] = {
    "and-cuda-pin": and_cuda_pin,
    "driver-floor": driver_floor,
    "glibc-floor": glibc_floor,
    "keras-pairing": keras_pairing,
    "macos-arm64-tf": macos_arm64_tf,
    "python-from-offered": python_from_offered,
    "python-with-wheels": python_with_wheels,
    "tf-boundaries": tf_boundaries,
    "tf-build": tf_build,
    "tf-for-cuda": tf_for_cuda,
    "tf-for-cudnn": tf_for_cudnn,
    "tf-for-driver": tf_for_driver,
    **NO_AVX_LOOKUPS,
}
"""Each `[[lookup]]` kind of signatures.toml, by name (a test checks that the two agree)."""
