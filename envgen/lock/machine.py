"""The machine a lock set was planned for: only the facts plans depend on, kept in its index.

A team's lead locks on one machine (often a CPU laptop, with `--profile gpu-box.toml` for the GPU
box); teammates install on others. To tell whether the committed set is still current, anyone,
anywhere (a teammate, CI, a pre-commit hook) re-plans it from the same request for the same
machine, so the index records that machine: OS and architecture, Python, the C library, the CPU's
SIMD features, and for GPU variants the driver and the GPUs' compute capabilities. No host name,
no serial, no CPU model: nothing that says whose machine it was, and nothing plans ignore (so a
teammate's other CPU flags never make a lock stale).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from envgen.documents import Table
from envgen.kb import KnowledgeBase
from envgen.profile import GPU, CPUInfo, HardwareProfile, NvidiaDriver, OSInfo, PythonInfo


@dataclass(frozen=True)
class Machine:
    os: str
    arch: str
    python: str
    glibc: str | None = None
    release: str | None = None
    """The OS release where plans read it (macOS)."""
    wsl: bool = False
    cpu_flags: tuple[str, ...] = ()
    """The SIMD features builds are told apart by (cpu-levels.toml [simd]), as the CPU has them."""
    driver: str | None = None
    gpus: tuple[tuple[str, str | None], ...] = ()
    """(name, compute capability) of each GPU."""

    @classmethod
    def of(cls, profile: HardwareProfile, kb: KnowledgeBase) -> Machine:
        have = kb.cpu.with_implied(kb.cpu.normalise(profile.cpu.flags, keep_all=True))
        return cls(
            os=profile.os.name,
            arch=profile.os.arch,
            python=profile.python.version,
            glibc=profile.os.glibc,
            release=profile.os.release if profile.os.name == "macos" else None,
            wsl=profile.os.wsl,
            cpu_flags=tuple(f for f in kb.cpu.simd if f in have),
            driver=profile.nvidia.driver if profile.nvidia is not None else None,
            gpus=tuple((g.name, g.compute_capability) for g in profile.gpus)
            if profile.nvidia is not None
            else (),
        )

    def profile(self, kb: KnowledgeBase) -> HardwareProfile:
        """A hardware profile with these facts (the knowledge base fills in the rest)."""
        from envgen.profile import complete

        nvidia = NvidiaDriver(self.driver, source="lock set") if self.driver else None
        return complete(
            HardwareProfile(
                os=OSInfo(
                    name=self.os,
                    arch=self.arch,
                    glibc=self.glibc,
                    release=self.release,
                    wsl=self.wsl,
                ),
                cpu=CPUInfo(flags=self.cpu_flags),
                python=PythonInfo(version=self.python),
                nvidia=nvidia,
                gpus=tuple(
                    GPU(name=n, index=i, compute_capability=cc)
                    for i, (n, cc) in enumerate(self.gpus)
                ),
                sources=(("profile", "the lock set's machine"),),
            ),
            kb,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"os": self.os, "arch": self.arch, "python": self.python}
        for key, value in (("glibc", self.glibc), ("release", self.release)):
            if value is not None:
                out[key] = value
        if self.wsl:
            out["wsl"] = True
        out["cpu-flags"] = list(self.cpu_flags)
        if self.driver is not None:
            out["driver"] = self.driver
            out["gpus"] = [
                {"name": n, **({"compute-capability": cc} if cc else {})} for n, cc in self.gpus
            ]
        return out

    @classmethod
    def read(cls, table: Table) -> Machine:
        """From the index's `[machine]` table, each value checked and named by its key."""
        gpus = []
        for gpu in table.tables("gpus"):
            gpus.append((gpu.text("name"), gpu.string("compute-capability", dotted=True)))
        return cls(
            os=table.text("os"),
            arch=table.text("arch"),
            python=table.text("python", dotted=True),
            glibc=table.string("glibc", dotted=True),
            release=table.string("release"),
            wsl=table.boolean("wsl"),
            cpu_flags=table.strings("cpu-flags"),
            driver=table.string("driver", dotted=True),
            gpus=tuple(gpus),
        )


def describe(machine: Machine | Mapping[str, Any]) -> str:
    """One line naming the machine, for messages."""
    m = machine if isinstance(machine, Machine) else None
    if m is None:
        return "an unknown machine"
    gpu = f", NVIDIA driver {m.driver}" if m.driver else ", no NVIDIA GPU"
    return f"{m.os}-{m.arch}, Python {m.python}{gpu}"
