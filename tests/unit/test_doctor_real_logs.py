"""`envgen doctor --log` on real error logs from public threads whose cause was settled there.

Each file under `tests/data/logs/real/<failure>/` is one log, verbatim, under a header that cites
the thread and says what the doctor must answer (`tests/data/README.md` describes the format):

    # source: <thread URL>          # settled-cause: ...           # facts: ...
    # expected: <code> <severity>   (or: none, for a log with only informational lines)
    # cause-mentions: a | b         # fix-mentions: a | b          # inferred-mentions: a | b
    # command: <the envgen command> (or: none)

The numbers a fix must name come from the knowledge base; the headers spell out those that are
history (the Pythons TensorFlow 2.13.0 had wheels for), and the tests below compute the ones that
follow the newest release.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from envgen.detect import load_or_detect
from envgen.doctor import Diagnosis, Finding, diagnose_log
from envgen.kb import load_kb
from envgen.profile import HardwareProfile, OSInfo

REAL = Path(__file__).parents[1] / "data" / "logs" / "real"
_HEADER = re.compile(r"# ([a-z-]+): (.*)")
_KEYS = {
    "source", "settled-cause", "facts", "expected", "cause-mentions", "fix-mentions",
    "inferred-mentions", "command",
}  # fmt: skip
_RANK = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class RealLog:
    path: Path
    header: dict[str, str]
    body: str

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}/{self.path.stem}"

    @property
    def expected(self) -> tuple[str, str] | None:
        words = self.header["expected"].split()
        return None if words == ["none"] else (words[0], words[1])

    def mentions(self, key: str) -> list[str]:
        return [m.strip() for m in self.header.get(key, "").split(" | ") if m.strip()]


def _read(path: Path) -> RealLog:
    lines = path.read_text(encoding="utf-8").split("\n")
    header: dict[str, str] = {}
    n = 0
    while n < len(lines) and (m := _HEADER.fullmatch(lines[n])) and m.group(1) in _KEYS:
        header[m.group(1)] = m.group(2)
        n += 1
    return RealLog(path, header, "\n".join(lines[n:]))


LOGS = [_read(p) for p in sorted(REAL.rglob("*.log"))]
KB = load_kb()


def _diagnose(log: RealLog, profile: HardwareProfile | None = None) -> Diagnosis:
    return diagnose_log(log.body, KB, profile)


def _finding(d: Diagnosis, code: str) -> Finding:
    return next(f for f in d.findings if f.code == code)


def _log(name: str) -> RealLog:
    return next(log for log in LOGS if log.name == name)


# --- the corpus itself -------------------------------------------------------------------------


def test_the_corpus_is_cited_and_every_failure_has_two_logs() -> None:
    assert len(LOGS) >= 70
    for log in LOGS:
        assert log.header.get("source", "").startswith("https://github.com/"), log.name
        assert log.header.get("settled-cause"), log.name
        assert log.header.get("facts"), log.name
        assert log.body.strip(), log.name
    per_failure: dict[str, int] = {}
    for log in LOGS:
        per_failure[log.path.parent.name] = per_failure.get(log.path.parent.name, 0) + 1
    assert all(n >= 2 for n in per_failure.values()), per_failure


def test_every_expected_code_is_a_signature() -> None:
    codes = {s.code for s in KB.signatures.signatures}
    assert {log.expected[0] for log in LOGS if log.expected} <= codes


# --- each log gets its cause ---------------------------------------------------------------------


@pytest.mark.parametrize("log", LOGS, ids=lambda log: log.name)
def test_real_log_gets_its_cause(log: RealLog) -> None:
    d = _diagnose(log)
    got = [(f.code, f.severity) for f in d.findings]
    if log.expected is None:
        # Only informational lines: no failure, whatever notes there are.
        assert all(f.severity == "info" for f in d.findings), got
        assert d.ok
        return
    code, severity = log.expected
    assert (code, severity) in got, got
    assert not any(_RANK[s] < _RANK[severity] for _, s in got), f"ranked above {code}: {got}"
    assert d.ok == (severity != "error")
    finding = _finding(d, code)
    assert finding.evidence.startswith("line ")
    # Every field of the text chosen was known: no "?" stands for a number.
    assert "?" not in finding.cause.split(), finding.cause
    assert "?" not in finding.fix.split(), finding.fix


MENTIONED = [log for log in LOGS if {"cause-mentions", "fix-mentions", "inferred-mentions",
                                      "command"} & set(log.header)]  # fmt: skip


@pytest.mark.parametrize("log", MENTIONED, ids=lambda log: log.name)
def test_real_log_cause_and_fix_name_the_right_numbers(log: RealLog) -> None:
    assert log.expected is not None
    finding = _finding(_diagnose(log), log.expected[0])
    for text in log.mentions("cause-mentions"):
        assert text in finding.cause, (text, finding.cause)
    for text in log.mentions("fix-mentions"):
        assert text in finding.fix, (text, finding.fix)
    inferred = "\n".join(finding.inferred)
    for text in log.mentions("inferred-mentions"):
        assert text in inferred, (text, finding.inferred)
    if "command" in log.header:
        want = log.header["command"]
        assert finding.command == (None if want == "none" else want)


def test_enough_logs_check_their_numbers() -> None:
    assert len({log.path.parent.name for log in MENTIONED}) >= 14
    assert len(MENTIONED) >= 40


# --- what a log gives away, and where ----------------------------------------------------------


def test_inferred_facts_say_where_they_were_read() -> None:
    finding = _finding(_diagnose(_log("no-wheel/no-wheel-32bit-python--1")), "wheel-not-supported")
    assert "a 32-bit Python, from line 1: …(x86)\\Python38-32\\Scripts>pip…" in finding.inferred
    d = _diagnose(_log("apple-rosetta/apple-rosetta-illegal-instruction--1"))
    assert "Python 3.8, from line 3: Python 3.8.2…" in d.findings[0].inferred


def test_a_fact_the_text_did_not_use_is_not_reported() -> None:
    # cudnn-lib-missing--1 names Python 3.6 in its paths; the cuDNN fix does not depend on it.
    finding = _finding(_diagnose(_log("cuda-libraries/cudnn-lib-missing--1")),
                       "cuda-library-import-error")  # fmt: skip
    assert not any("Python" in line for line in finding.inferred)


def test_the_first_error_in_the_log_ranks_first() -> None:
    # Keras's "requires TensorFlow 2.2" is what a failed TensorFlow import looks like through
    # keras 2.4's import guard; the DLL failure above it is the cause (tensorflow#43152).
    d = _diagnose(_log("keras-classic/keras-requires-tf22--1"))
    assert [f.code for f in d.findings] == ["dll-not-found", "keras-needs-tf22"]


@pytest.mark.parametrize(
    ("name", "platform"),
    [
        ("no-wheel/no-wheel-python-version--1", "windows-x86_64"),  # python.exe in the log
        ("no-wheel/no-wheel-python-version--2", "linux-x86_64"),  # nothing: the reference one
    ],
)
def test_no_wheel_at_all_names_the_pythons_of_the_newest_release(name: str, platform: str) -> None:
    newest = KB.tensorflow.releases[-1]
    wheels = newest.wheel(platform)
    assert wheels is not None
    finding = _finding(_diagnose(_log(name)), "no-matching-distribution")
    assert f"TensorFlow {newest.version} has {platform} wheels" in finding.cause
    assert ", ".join(wheels.python) in finding.fix


def test_glibc_fix_follows_the_newest_release_and_the_profile() -> None:
    log = _log("glibc/glibc-too-old--2")  # CentOS 6.5: glibc 2.12, the wheel wants 2.16
    newest = KB.tensorflow.releases[-1].wheel("linux-x86_64")
    assert newest is not None
    finding = _finding(_diagnose(log), "glibc-too-old")
    assert f"wheels need glibc {newest.glibc}" in finding.fix
    # With the machine's profile, the host's own glibc picks the release.
    base = load_or_detect(str(REAL.parents[1] / "profiles" / "issue-example-h100.toml"), environ={})
    centos = dataclasses.replace(base, os=OSInfo(name="linux", arch="x86_64", glibc="2.12"))
    fits = [r for r in KB.tensorflow.releases if (w := r.wheel("linux-x86_64")) and w.glibc
            and tuple(map(int, w.glibc.split("."))) <= (2, 12)]  # fmt: skip
    finding = _finding(_diagnose(log, centos), "glibc-too-old")
    assert "is glibc 2.12, older than glibc 2.16" in finding.cause
    assert f"is {fits[-1].version}." in finding.fix
    assert "glibc 2.12 on this system, from the hardware profile" in finding.inferred


def test_a_tensorflow_version_in_the_log_picks_the_pin_for_that_release() -> None:
    # The same protobuf failure (tensorflow#56266), with the TensorFlow release printed before it
    # as a script does: the fix is that release's bound, from tensorflow-builds.toml.
    body = _log("protobuf/protobuf-too-new--1").body
    build = KB.tensorflow.build("2.7")
    assert build is not None
    assert build.protobuf_cap is not None
    finding = _finding(diagnose_log("TensorFlow version: 2.7.1\n" + body, KB), "protobuf-too-new")
    assert f'protobuf{build.protobuf_cap}" (the bound for TensorFlow 2.7.1' in finding.fix
    assert finding.inferred == ("TensorFlow 2.7.1, from line 1: TensorFlow version: 2.7.1",)


def test_informational_lines_alone_are_no_failure() -> None:
    for log in LOGS:
        if log.expected is None:
            d = _diagnose(log)
            assert d.ok, log.name
            assert all(f.command is None for f in d.findings), log.name


def test_workload_failures_suggest_no_new_environment() -> None:
    d = _diagnose(_log("gpu-oom/gpu-oom--1"))
    assert not d.ok
    assert _finding(d, "gpu-out-of-memory").command is None


def test_gpu_library_warnings_are_notes_on_a_machine_without_a_gpu() -> None:
    base = load_or_detect(str(REAL.parents[1] / "profiles" / "issue-example-h100.toml"), environ={})
    cpu_only = dataclasses.replace(base, nvidia=None, gpus=())
    for name in ("cuda-libraries/cudart-lib-missing--2", "cuda-libraries/cudnn-lib-missing--3"):
        d = _diagnose(_log(name), cpu_only)
        assert {f.severity for f in d.findings} == {"info"}, name
    # TensorFlow 1.x links cuDNN at import: without it nothing runs, GPU or not.
    d = _diagnose(_log("cuda-libraries/cudnn-lib-missing--1"), cpu_only)
    assert _finding(d, "cuda-library-import-error").severity == "error"


def test_the_index_lists_every_log() -> None:
    index = (REAL / "README.md").read_text(encoding="utf-8")
    for log in LOGS:
        assert f"| `{log.path.name}` | {log.header['expected']} | {log.header['source']} |" in index
    assert f"{len(LOGS)} logs copied verbatim" in index


def test_the_driver_number_in_the_log_gives_the_driver_floor() -> None:
    """tensorflow#31319 as the reporter saw it: the nvidia-smi header of the thread (driver
    410.72), a TensorFlow that loads the CUDA 10.1 runtime (a real TF 2.3 line), and the error."""
    smi = _log("driver/driver-too-old--2").body
    cuda = _log("informational/informational-only--4").body.split("\n")[1]
    error = _log("driver/driver-too-old--1").body.split("\n")[0]
    assert "libcudart.so.10.1" in cuda
    assert "CUDA driver version is insufficient" in error
    finding = _finding(diagnose_log(f"{smi}\n{cuda}\n{error}", KB), "cuda-driver-insufficient")
    floor = KB.drivers.toolkit_minimum("10.1", "linux")
    assert floor is not None
    assert "driver 410.72 is older than the CUDA 10.1 runtime" in finding.cause
    assert f"Upgrade the NVIDIA driver to {floor} or newer" in finding.fix
    assert (
        "TensorFlow 2.0 or older, the newest whose GPU build runs on driver 410.72" in finding.fix
    )
    assert finding.inferred[0] == "NVIDIA driver 410.72, from line 2: …Driver Version: 410.72…"
    assert finding.inferred[1] == "CUDA 10.1, from line 10: …libcudart.so.10.1"
