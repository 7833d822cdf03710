"""The hardware profile: what envgen observed about a machine, as a frozen, serialisable value.

A profile is the only thing later stages know about the machine, so a file can stand in for
detection (`--profile FILE`): plan for a GPU box from a CPU-only CI runner, or test without a GPU.
The TOML and JSON forms use the same kebab-case keys. Only `schema` is required; every other key
has a default, and facts a person may leave out (the driver's CUDA ceiling, a GPU's compute
capability, the x86-64 level) are derived from the knowledge base by `complete()`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envgen.documents import Table, parse_json, parse_toml, shown
from envgen.files import read_text
from envgen.versions import is_dotted

if TYPE_CHECKING:
    from envgen.kb import KnowledgeBase

SCHEMA = 1
OS_NAMES = ("linux", "windows", "macos")
ARCHES = ("x86_64", "aarch64", "arm64", "armv7l")


@dataclass(frozen=True)
class OSInfo:
    name: str = "linux"
    arch: str = "x86_64"
    release: str | None = None
    kernel: str | None = None
    distribution: str | None = None
    glibc: str | None = None
    wsl: bool = False
    container: str | None = None
    # An x86_64 Python running under Rosetta 2 on Apple silicon.
    rosetta: bool = False


@dataclass(frozen=True)
class CPUInfo:
    vendor: str | None = None
    model: str | None = None
    flags: tuple[str, ...] = ()
    x86_64_level: int | None = None
    microarchitecture: str | None = None
    # Single-board computers (Raspberry Pi, Jetson) name themselves in the device tree.
    board: str | None = None
    apple_silicon: bool = False

    @functools.cached_property
    def flag_set(self) -> frozenset[str]:
        """`flags` for membership tests; built once, not once per candidate a resolver weighs."""
        return frozenset(self.flags)


@dataclass(frozen=True)
class Interpreter:
    version: str
    path: str


@dataclass(frozen=True)
class PythonInfo:
    version: str = "3.11"
    executable: str | None = None
    implementation: str | None = None
    found: tuple[Interpreter, ...] = ()


@dataclass(frozen=True)
class NvidiaDriver:
    driver: str
    # The highest CUDA version this driver supports (not an installed toolkit).
    cuda: str | None = None
    source: str | None = None
    cuda_visible_devices: str | None = None
    disagreements: tuple[str, ...] = ()


@dataclass(frozen=True)
class GPU:
    name: str
    index: int | None = None
    uuid: str | None = None
    compute_capability: str | None = None
    memory_mib: int | None = None


@dataclass(frozen=True)
class CudaToolkit:
    version: str
    path: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Cudnn:
    version: str
    path: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class HardwareProfile:
    os: OSInfo = field(default_factory=OSInfo)
    cpu: CPUInfo = field(default_factory=CPUInfo)
    python: PythonInfo = field(default_factory=PythonInfo)
    nvidia: NvidiaDriver | None = None
    gpus: tuple[GPU, ...] = ()
    cuda_toolkits: tuple[CudaToolkit, ...] = ()
    cudnn: tuple[Cudnn, ...] = ()
    # How each part was obtained ("nvml", "procfs", "profile", "env:ENVGEN_CUDA_DRIVER", ...).
    sources: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def has_nvidia_gpu(self) -> bool:
        """A driver that answered and at least one visible GPU: toolkits never count."""
        return self.nvidia is not None and bool(self.gpus)

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)


# --- serialisation -------------------------------------------------------------------------------
# Python attribute names map to kebab-case keys; the profile's list fields get singular TOML
# table names ([[gpu]], [[cuda-toolkit]]) as in the documented file form.
_LIST_KEYS = {"gpus": "gpu", "cuda_toolkits": "cuda-toolkit", "cudnn": "cudnn"}


def _key(name: str) -> str:
    return _LIST_KEYS.get(name, name.replace("_", "-"))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            _key(f.name): _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None
        }
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _to_dict(profile: HardwareProfile) -> dict[str, Any]:
    out: dict[str, Any] = {"schema": SCHEMA}
    for f in dataclasses.fields(profile):
        value = getattr(profile, f.name)
        if value is None:
            continue
        if f.name == "sources":
            out["sources"] = dict(value)
        else:
            out[_key(f.name)] = _plain(value)
    return out


def to_json(profile: HardwareProfile) -> str:
    return json.dumps(profile.to_dict(), indent=2, sort_keys=False)


def to_toml(profile: HardwareProfile) -> str:
    """Deterministic TOML: scalar tables first, arrays of tables after, key order fixed."""
    import tomlkit  # only the commands that write profiles pay for it

    doc = tomlkit.document()
    doc.add(tomlkit.comment("hardware profile generated by envgen; use it with --profile FILE"))
    data = profile.to_dict()
    for key, value in data.items():
        if value in ([], {}):
            continue  # an empty list says nothing a reader needs
        if isinstance(value, list) and value and isinstance(value[0], dict):
            aot = tomlkit.aot()
            for item in value:
                aot.append(_toml_table(item))
            doc.add(key, aot)
        elif isinstance(value, dict):
            doc.add(key, _toml_table(value))
        else:
            doc.add(key, value)
    return tomlkit.dumps(doc)


def _toml_table(data: dict[str, Any]) -> Any:
    import tomlkit

    table = tomlkit.table()
    nested = []
    for key, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            nested.append((key, value))
        else:
            table.add(key, value)
    for key, value in nested:
        aot = tomlkit.aot()
        for item in value:
            aot.append(_toml_table(item))
        table.add(key, aot)
    return table


# --- parsing with key-exact errors ---------------------------------------------------------------

_HINT = "see `envgen detect --output FILE.toml` for a complete example"


def from_dict(data: Any, origin: str = "profile") -> HardwareProfile:
    """Validate a parsed profile document (TOML or JSON) into a `HardwareProfile`."""
    root = Table(data, "", origin, hint=_HINT)
    schema = root.get("schema")
    if schema is None:
        raise root.fail("schema", f"missing (write `schema = {SCHEMA}` at the top)")
    if type(schema) is not int or schema != SCHEMA:  # `true == 1` in Python
        raise root.fail(
            "schema", f"unsupported version {shown(schema)}; this envgen reads {SCHEMA}"
        )

    os_info = OSInfo()
    if (r := root.table("os")) is not None:
        os_info = OSInfo(
            name=r.string("name", choices=OS_NAMES) or "linux",
            arch=r.string("arch", choices=ARCHES) or "x86_64",
            release=r.string("release", dotted=False),
            kernel=r.string("kernel"),
            distribution=r.string("distribution"),
            glibc=r.string("glibc", dotted=True),
            wsl=r.boolean("wsl"),
            container=r.string("container"),
            rosetta=r.boolean("rosetta"),
        )
        r.done()

    cpu = CPUInfo()
    if (r := root.table("cpu")) is not None:
        level = r.integer("x86-64-level")
        if level is not None and not 0 <= level <= 4:
            raise r.fail("x86-64-level", f"expected 0 to 4, got {level}")
        cpu = CPUInfo(
            vendor=r.string("vendor"),
            model=r.string("model"),
            flags=r.strings("flags"),
            x86_64_level=level,
            microarchitecture=r.string("microarchitecture"),
            board=r.string("board"),
            apple_silicon=r.boolean("apple-silicon"),
        )
        r.done()

    python = PythonInfo()
    if (r := root.table("python")) is not None:
        version = r.string("version", dotted=True)
        found = []
        for t in r.tables("found"):
            found.append(Interpreter(t.text("version", dotted=True), t.text("path")))
            t.done()
        python = PythonInfo(
            version=version or PythonInfo.version,
            executable=r.string("executable"),
            implementation=r.string("implementation"),
            found=tuple(found),
        )
        r.done()

    nvidia = None
    if (r := root.table("nvidia")) is not None:
        driver = r.string("driver", dotted=True)
        if driver is None:
            raise r.fail("driver", "missing (leave out the whole [nvidia] table for no driver)")
        nvidia = NvidiaDriver(
            driver=driver,
            cuda=r.string("cuda", dotted=True),
            source=r.string("source"),
            cuda_visible_devices=r.string("cuda-visible-devices"),
            disagreements=r.strings("disagreements"),
        )
        r.done()

    gpus = []
    for t in root.tables("gpu"):
        cc = t.string("compute-capability", dotted=True)
        if cc is not None and not is_dotted(cc, parts=2):
            raise t.fail("compute-capability", f'expected MAJOR.MINOR like "8.6", got {shown(cc)}')
        gpus.append(
            GPU(
                name=t.text("name"),
                index=t.integer("index"),
                uuid=t.string("uuid"),
                compute_capability=cc,
                memory_mib=t.integer("memory-mib"),
            )
        )
        t.done()

    def installs(key: str, kind: type[CudaToolkit | Cudnn]) -> tuple[Any, ...]:
        out = []
        for t in root.tables(key):
            out.append(
                kind(
                    version=t.text("version", dotted=True),
                    path=t.string("path"),
                    source=t.string("source"),
                )
            )
            t.done()
        return tuple(out)

    toolkits = installs("cuda-toolkit", CudaToolkit)
    cudnn = installs("cudnn", Cudnn)

    sources_raw = root.mapping("sources")
    notes = root.strings("notes")
    root.done()
    return HardwareProfile(
        os=os_info,
        cpu=cpu,
        python=python,
        nvidia=nvidia,
        gpus=tuple(gpus),
        cuda_toolkits=toolkits,
        cudnn=cudnn,
        sources=tuple(sorted(sources_raw.items())),
        notes=notes,
    )


def parse_profile_text(text: str, origin: str) -> HardwareProfile:
    """A profile from TOML or JSON text; `envgen detect --json` output is accepted as is."""
    data: Any
    if text.lstrip().startswith("{"):
        data = parse_json(text, origin)
        if isinstance(data, dict) and "profile" in data and "ok" in data:
            data = data["profile"]  # the `envgen detect --json` envelope
    else:
        data = parse_toml(text, origin)
    return from_dict(data, origin)


def load_profile(path: str | Path) -> HardwareProfile:
    """A profile file: a regular file of at most SMALL_FILE bytes of UTF-8 TOML or JSON."""
    path = Path(path)
    return parse_profile_text(read_text(path, what="profile"), str(path))


def digest(profile: HardwareProfile) -> str:
    """The profile's content hash: what plans, reports and locks record as their machine."""
    from envgen.digest import of_json

    return of_json(profile.to_dict())


def driver_os(os_info: OSInfo) -> str:
    """Which column of NVIDIA's driver table applies: WSL2 runs the Windows driver."""
    return "windows" if os_info.name == "windows" or os_info.wsl else "linux"


def complete(profile: HardwareProfile, kb: KnowledgeBase) -> HardwareProfile:
    """Fill in what the knowledge base can derive and the profile left out; never overrides."""
    sources = dict(profile.sources)
    cpu = profile.cpu
    flags = kb.cpu.normalise(cpu.flags, keep_all=True)
    level = cpu.x86_64_level
    if level is None and profile.os.arch == "x86_64" and flags:
        level = kb.cpu.x86_64_level(kb.cpu.with_implied(flags))
        sources.setdefault("cpu.x86-64-level", "derived from cpu.flags")
    cpu = dataclasses.replace(cpu, flags=flags, x86_64_level=level)

    nvidia = profile.nvidia
    if nvidia is not None and nvidia.cuda is None:
        cuda = kb.drivers.max_cuda(nvidia.driver, driver_os(profile.os))
        if cuda is not None:
            nvidia = dataclasses.replace(nvidia, cuda=cuda)
            sources.setdefault("nvidia.cuda", "derived from the driver version (cuda-drivers.toml)")

    gpus = []
    for gpu in profile.gpus:
        cc = gpu.compute_capability or kb.gpus.compute_capability(gpu.name)
        if cc != gpu.compute_capability:
            sources.setdefault("gpu.compute-capability", "derived from the GPU name (gpus.toml)")
        gpus.append(dataclasses.replace(gpu, compute_capability=cc))
    return dataclasses.replace(
        profile, cpu=cpu, nvidia=nvidia, gpus=tuple(gpus), sources=tuple(sorted(sources.items()))
    )
