"""Facts a log gives away beside its error line, and where it gave them.

A traceback's paths name the Python (`.../lib/python3.6/site-packages`), an nvidia-smi header the
driver, a `cudart64_110.dll` the CUDA runtime, a pip line the TensorFlow release. The `[[fact]]`
rows of signatures.toml say how to read each; `read_facts` applies them and remembers the line and
the words each value was read from, so a finding can say "Python 3.6, from line 3: .../python3.6/
site-packages". The hardware profile, when one is given, fills what the log does not say.

Every value that leaves this module is one line of printable text of bounded length: a log is
outside input and may hold anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from envgen.doctor.context import clean
from envgen.doctor.model import Environment
from envgen.kb.signatures import FactRule, fields_of
from envgen.profile import HardwareProfile

# A value or a quoted snippet is cut to this many characters.
VALUE_CHARS = 200
_SNIPPET_CHARS = 90


@dataclass(frozen=True)
class Fact:
    """One fact: its field name, value, what it means, and where it was read."""

    name: str
    value: str
    says: str
    where: str

    def explain(self) -> str:
        return f"{self.says}, from {self.where}"


def _where(text: str, start: int, end: int) -> str:
    """ "line N: <the words around the match>", cut around the match when long."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    # The whitespace-delimited words the match touches: a whole path, "Python 3.8.2".
    lo = max(
        text.rfind(" ", line_start, start), text.rfind("\t", line_start, start), line_start - 1
    )
    lo += 1
    hi_space = [i for i in (text.find(" ", end, line_end), text.find("\t", end, line_end)) if i > 0]
    hi = min(hi_space) if hi_space else line_end
    lo, hi = max(lo, start - _SNIPPET_CHARS // 2), min(hi, end + _SNIPPET_CHARS // 2)
    snippet = ("…" if lo > line_start else "") + text[lo:hi] + ("…" if hi < line_end else "")
    number = text.count("\n", 0, start) + 1
    return f"line {number}: {clean(snippet, _SNIPPET_CHARS + 2)}"


def _value(rule: FactRule, groups: dict[str, str]) -> str | None:
    """The first value template whose groups all matched, filled; None if none did."""
    for template in rule.value:
        names = fields_of(template)
        if all(groups.get(n) for n in names):
            return clean(template.format_map({n: groups[n] for n in names}), VALUE_CHARS)
    return None


def read_facts(text: str, rules: Sequence[FactRule]) -> dict[str, Fact]:
    """Each fact the log states, from the first (most reliable) row that finds it."""
    out: dict[str, Fact] = {}
    for rule in rules:
        if rule.name in out:
            continue
        hit = rule.regex.search(text)
        if hit is None:
            continue
        groups = {k: v for k, v in hit.groupdict().items() if v}
        value = _value(rule, groups)
        if value:
            out[rule.name] = Fact(
                rule.name, value, rule.says.format(value=value), _where(text, *hit.span())
            )
    return out


def profile_facts(profile: HardwareProfile | None) -> dict[str, Fact]:
    """What the hardware profile says about the machine, as facts a log may lack."""
    if profile is None:
        return {}
    where = "the hardware profile"
    out = {
        "os": Fact("os", profile.os.name, f"OS {profile.os.name}", where),
        "arch": Fact("arch", profile.os.arch, f"machine {profile.os.arch}", where),
    }
    if profile.os.arch == "x86_64" and profile.cpu.flags:
        # The SIMD level of fo40225's folders the CPU runs (community-builds.toml `simd`).
        flags = set(profile.cpu.flags)
        simd = "avx2" if "avx2" in flags else "avx" if "avx" in flags else "sse2"
        out["cpu_simd"] = Fact("cpu_simd", simd, f"a CPU with {simd.upper()} at most", where)
    if profile.os.glibc:
        glibc = clean(profile.os.glibc, VALUE_CHARS)
        out["glibc_host"] = Fact("glibc_host", glibc, f"glibc {glibc} on this system", where)
    if profile.nvidia is not None:
        driver = clean(profile.nvidia.driver, VALUE_CHARS)
        out["driver"] = Fact("driver", driver, f"NVIDIA driver {driver}", where)
        if profile.nvidia.cuda:
            cuda = clean(profile.nvidia.cuda, VALUE_CHARS)
            out["driver_cuda"] = Fact(
                "driver_cuda", cuda, f"a driver that runs CUDA {cuda} and older", where
            )
    return out


def environment_facts(env: Environment | None) -> dict[str, Fact]:
    """What an examined environment has installed (the probe's importlib.metadata), as facts:
    more reliable than anything a log says about the versions in it."""
    if env is None:
        return {}
    where = f"the environment {clean(env.executable, VALUE_CHARS)} (installed distributions)"
    out: dict[str, Fact] = {}
    found = env.tensorflow()
    if found is not None:
        version = clean(found[1], VALUE_CHARS)
        out["tensorflow"] = Fact("tensorflow", version, f"{found[0]} {version}", where)
    keras = env.packages.get("keras")
    if keras:
        version = clean(keras, VALUE_CHARS)
        out["keras"] = Fact("keras", version, f"keras {version}", where)
    if env.python:
        minor = clean(env.python_minor, VALUE_CHARS)
        out["python"] = Fact("python", minor, f"Python {minor}", where)
    return out
