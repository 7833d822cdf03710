"""Failure signatures for `envgen doctor`: schema, one message per required case, and real logs.

The logs in `tests/data/logs/` are quoted from the public issues named on their first line; each
must be matched by the expected signature with the numbers it carries.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_kb, load_toml
from envgen.kb import signatures as sig_kb
from envgen.kb.signatures import SEVERITIES, Match, SignatureTable

LOGS = Path(__file__).parents[2] / "data" / "logs"


@pytest.fixture(scope="module")
def table() -> SignatureTable:
    return load_kb().signatures


def _codes(table: SignatureTable, text: str) -> dict[str, Match]:
    return {m.code: m for m in table.match(text)}


# ---------------------------------------------------------------------------------------------
# Schema and canonical form


def test_codes_are_unique_kebab_case_and_sorted(table: SignatureTable) -> None:
    codes = [s.code for s in table.signatures]
    assert codes == sorted(set(codes))
    assert all(re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", c) for c in codes)
    assert all(s.severity in SEVERITIES for s in table.signatures)
    assert all(s.source.strip() for s in table.signatures)


def _row(doc: dict[str, Any], code: str) -> int:
    return next(i for i, row in enumerate(doc["signature"]) if row["code"] == code)


_CODE = "cuda-driver-insufficient"
_KNOWN = "not a named group of the pattern, a fact, or a field its lookups give"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("pattern", "Loaded (?P<x>", ".pattern: does not compile"),
        ("pattern", ["Loaded", "(?P<x>"], ".pattern[1]: does not compile"),
        ("pattern", [], ".pattern: must be one item or a non-empty list"),
        ("patterns", ["x"], ".patterns: unknown key"),
        ("severity", "fatal", ".severity: must be one of error, warning, info, got 'fatal'"),
        ("cause", "needs {nope}", f".cause: uses {{nope}}, {_KNOWN} (code {_CODE!r})"),
        ("fix", ["known {floor_cuda}", "not {nope}"], f".fix[1]: uses {{nope}}, {_KNOWN}"),
        ("fix", [], ".fix: must be one item or a non-empty list"),
        ("fix", 3, ".fix: must be a non-empty string, got 3"),
        ("fix", ["a fix", ""], ".fix[1]: must be a non-empty string, got ''"),
        ("cause", "a {broken", ".cause: not a valid template"),
        ("lookups", ["no-such-lookup"], ".lookups[0]: no [[lookup]] 'no-such-lookup'"),
        ("lookups", "driver-floor", ".lookups: must be a list, got 'driver-floor'"),
        ("command", "create --tensorflow {nope}", f".command: uses {{nope}}, {_KNOWN}"),
        ("command", "", ".command: must be a non-empty string, got ''"),
        ("code", "Bad_Code", ".code: must be kebab-case, got 'Bad_Code' (code 'Bad_Code')"),
        ("code", "conda-cuda-virtual-package", ".code: duplicate 'conda-cuda-virtual-package'"),
        ("source", "", ".source: missing: every row cites its source"),
    ],
)
def test_a_broken_row_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch, key: str, value: Any, message: str
) -> None:
    doc = copy.deepcopy(load_toml(sig_kb.FILE))
    i = _row(doc, _CODE)
    doc["signature"][i][key] = value
    monkeypatch.setattr(sig_kb, "load_toml", lambda _name: doc)
    with pytest.raises(KnowledgeBaseError) as info:
        sig_kb.load_signatures()
    assert str(info.value).startswith(f"signatures.toml: signature[{i}]{message}")


@pytest.mark.parametrize(
    ("table", "key", "value", "message"),
    [
        ("fact", "value", "{nope}", "fact[0].value: uses {nope}, not a named group of the pattern"),
        ("fact", "value", ["{major}", "{nope}"], "fact[0].value[1]: uses {nope}"),
        ("fact", "says", "{python}", "fact[0].says: uses {python}, not {value}"),
        ("fact", "name", "Python", "fact[0].name: must be a snake_case name, got 'Python'"),
        ("fact", "pattern", "(", "fact[0].pattern: does not compile"),
        ("lookup", "gives", [], "lookup[0].gives: must not be empty (kind 'and-cuda-pin')"),
        ("lookup", "needs", ["Bad-Name"], "lookup[0].needs[0]: must be a snake_case name"),
        ("lookup", "says", "{nope}", "lookup[0].says: uses {nope}, not one of its needs or gives"),
        ("lookup", "kind", "driver-floor", "lookup[1].kind: duplicate 'driver-floor'"),
    ],
)
def test_a_broken_fact_or_lookup_row_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch, table: str, key: str, value: Any, message: str
) -> None:
    doc = copy.deepcopy(load_toml(sig_kb.FILE))
    doc[table][0][key] = value
    monkeypatch.setattr(sig_kb, "load_toml", lambda _name: doc)
    with pytest.raises(KnowledgeBaseError) as info:
        sig_kb.load_signatures()
    assert str(info.value).startswith(f"signatures.toml: {message}")


def test_one_wording_or_template_reads_as_a_list_of_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key that takes one item or a list reads the same either way (`one_or_many`)."""
    table = sig_kb.load_signatures()
    doc = copy.deepcopy(load_toml(sig_kb.FILE))
    for row in doc["signature"]:
        for key in ("pattern", "cause", "fix"):
            if isinstance(row[key], str):
                row[key] = [row[key]]
    for row in doc["fact"]:
        if isinstance(row["value"], str):
            row["value"] = [row["value"]]
    monkeypatch.setattr(sig_kb, "load_toml", lambda _name: doc)
    assert sig_kb.load_signatures() == table


def test_template_variants_fall_back_to_what_is_known() -> None:
    variants = ("CUDA {cuda} needs driver {min_driver}.", "CUDA {cuda} needs a newer driver.")
    assert sig_kb.render(variants, {"cuda": "12.2", "min_driver": "525.60.13"}) == (
        "CUDA 12.2 needs driver 525.60.13.",
        ["cuda", "min_driver"],
    )
    assert sig_kb.render(variants, {"cuda": "12.2"})[0] == "CUDA 12.2 needs a newer driver."
    # Nothing known: the last variant, with "?" for each gap.
    assert sig_kb.render(variants, {})[0] == "CUDA ? needs a newer driver."


def test_every_wording_is_searched_and_the_earliest_wins(table: SignatureTable) -> None:
    sig = table.get("keras3-on-keras2-code")
    assert sig is not None
    assert len(sig.patterns) > 1
    text = "x\nNo module named 'keras.src.engine'\nA KerasTensor cannot be used as input to a TensorFlow function\n"
    found = _codes(table, text)["keras3-on-keras2-code"]
    assert found.line_number == 2


# Every pattern is searched in logs of up to 64 MiB: after a wildcard (".", "\S", a negated
# class) a quantifier must be bounded, or one long line full of a pattern's prefix makes the
# search quadratic.
_WILDCARD_REPEAT = re.compile(r"(?:\.|\\S|\[\^(?:\\.|[^\]])*\])(?:[*+]|\{\d*,\})")


def _unbounded(pattern: str) -> bool:
    text = re.sub(r"\\[^S]", "", pattern)  # escapes other than \S are literal characters
    text = re.sub(r"\[(?!\^)(?:\\.|[^\]])*\]", "c", text)  # "." inside [...] is a literal
    return _WILDCARD_REPEAT.search(text) is not None


def test_wildcards_have_bounded_repeats(table: SignatureTable) -> None:
    patterns = [(s.code, p.pattern) for s in table.signatures for p in s.patterns]
    patterns += [(f"fact {f.name}", f.regex.pattern) for f in table.facts]
    bad = [(code, p) for code, p in patterns if _unbounded(p)]
    assert not bad, bad


@pytest.mark.parametrize(
    ("pattern", "unbounded"),
    [
        (r"ptxas[^\n]*not found", True),
        (r"a.+b", True),
        (r"at (?P<p>\S+)", True),
        (r"x[^)\n]{2,}", True),
        (r"at (?P<p>\S{1,300}) \d+ \.+ [\w.*]{0,30} [^)\n]{0,6000}", False),
    ],
)
def test_the_bound_check_sees_an_unbounded_wildcard(pattern: str, unbounded: bool) -> None:
    assert _unbounded(pattern) is unbounded


# ---------------------------------------------------------------------------------------------
# The messages envgen must recognise (one line each, as printed)

REQUIRED = [
    (
        "ImportError: DLL load failed with error code -1073741795",
        "dll-load-illegal-instruction",
        {},
    ),
    (
        (
            "ImportError: DLL load failed while importing _pywrap_tensorflow_internal: A dynamic link"
            " library (DLL) initialization routine failed."
        ),
        "dll-init-failed",
        {"module": "_pywrap_tensorflow_internal"},
    ),
    (
        "ImportError: DLL load failed: A dynamic link library (DLL) initialization routine failed.",
        "dll-init-failed",
        {},
    ),
    ("Illegal instruction (core dumped)", "illegal-instruction", {}),
    (
        (
            "I tensorflow/core/platform/cpu_feature_guard.cc:141] Your CPU supports instructions that"
            " this TensorFlow binary was not compiled to use: AVX2 FMA"
        ),
        "cpu-instructions-unused",
        {"instructions": "AVX2 FMA"},
    ),
    (
        (
            "This TensorFlow binary is optimized to use available CPU instructions in"
            " performance-critical operations.\nTo enable the following instructions: AVX2 FMA, in"
            " other operations, rebuild TensorFlow with the appropriate compiler flags."
        ),
        "cpu-instructions-available",
        {"instructions": "AVX2 FMA"},
    ),
    ("ModuleNotFoundError: No module named 'numpy.core._multiarray_umath'", "numpy-too-old", {}),
    (
        "A module that was compiled using NumPy 1.x cannot be run in\nNumPy 2.0.0 as it may crash.",
        "numpy-2-abi",
        {"numpy": "2.0.0"},
    ),
    ("AttributeError: _ARRAY_API not found", "numpy-2-abi", {}),
    (
        (
            "ImportError: Keras requires TensorFlow 2.2 or higher. Install TensorFlow via"
            " `pip install tensorflow`"
        ),
        "keras-needs-tf22",
        {},
    ),
    (
        "AttributeError: module 'keras.backend.tensorflow_backend' has no attribute '_is_tf_1'",
        "keras-tf1-backend",
        {"mixed": "_is_tf_1"},
    ),
    ("ImportError: cannot import name 'np_utils' from 'keras.utils'", "keras-np-utils", {}),
    (
        (
            "W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic"
            " library 'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file"
        ),
        "cudart-missing",
        {"cuda": "11.0"},
    ),
    (
        "ImportError: libcudart.so.10.0: cannot open shared object file: No such file or directory",
        "cudart-missing",
        {"cuda": "10.0"},
    ),
    (
        (
            "W tensorflow/stream_executor/platform/default/dso_loader.cc:60] Could not load dynamic"
            " library 'cudart64_110.dll'; dlerror: cudart64_110.dll not found"
        ),
        "cudart-missing-windows",
        {"cuda_major": "11", "cuda_minor": "0"},
    ),
    (
        (
            "ImportError: Could not find 'cudart64_100.dll'. TensorFlow requires that this DLL be"
            " installed"
        ),
        "cudart-missing-windows",
        {"cuda_major": "10", "cuda_minor": "0"},
    ),
    (
        "Could not load dynamic library 'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open",
        "cudnn-library-missing",
        {"library": "libcudnn.so.8", "cudnn_major": "8"},
    ),
    (
        "Could not load dynamic library 'libcublas.so.11'; dlerror: libcublas.so.11: cannot open",
        "cuda-library-missing",
        {"library": "libcublas.so.11", "version": "11"},
    ),
    (
        (
            "E cuda_dnn.cc:362] Loaded runtime CuDNN library: 8.0.5 but source was compiled with:"
            " 8.1.0.  CuDNN library needs to have matching major version and equal or higher minor"
            " version."
        ),
        "cudnn-version-mismatch",
        {"loaded": "8.0.5", "compiled": "8.1.0"},
    ),
    (
        "E cuda_dnn.cc:378] Loaded cudnn library: 4007 but source was compiled against 4004",
        "cudnn-version-mismatch-legacy",
        {"loaded": "4007", "compiled": "4004"},
    ),
    (
        (
            "W tensorflow/compiler/xla/stream_executor/cuda/cudart_stub.cc:28] Could not find cuda"
            " drivers on your machine, GPU will not be used."
        ),
        "cuda-drivers-not-found",
        {},
    ),
    (
        (
            "InternalError: CUDA runtime implicit initialization on GPU:0 failed. Status: no kernel"
            " image is available for execution on the device"
        ),
        "no-kernel-image",
        {},
    ),
    (
        (
            "I gpu_device.cc:1406] Ignoring visible gpu device (device: 0, name: GeForce GTX 660M, pci"
            " bus id: 0000:01:00.0, compute capability: 3.0) with Cuda compute capability 3.0. The"
            " minimum required Cuda capability is 3.5."
        ),
        "gpu-capability-too-low",
        {"cc": "3.0", "min_cc": "3.5"},
    ),
    (
        (
            "docker: Error response from daemon: OCI runtime create failed: container_linux.go:349:"
            ' starting container process caused "process_linux.go:449: container init caused'
            ' \\"process_linux.go:432: running prestart hook 0 caused \\\\\\"error running hook:'
            " exit status 1, stdout: , stderr: nvidia-container-cli: initialization error: load"
            " library failed: libnvidia-ml.so.1: cannot open shared object file"
        ),
        "docker-nvml-missing",
        {"library": "libnvidia-ml.so.1"},
    ),
    (
        (
            "docker: Error response from daemon: OCI runtime create failed: container_linux.go:345:"
            ' starting container process caused "process_linux.go:430: container init caused'
            " nvidia-container-cli: requirement error: unsatisfied condition: cuda>=11.0"
        ),
        "docker-oci-nvidia",
        {"detail": "requirement error: unsatisfied condition: cuda>=11.0"},
    ),
    (
        (
            'docker: Error response from daemon: could not select device driver "" with capabilities:'
            " [[gpu]]."
        ),
        "docker-no-gpu-driver",
        {},
    ),
    (
        "RuntimeError: CUDA driver version is insufficient for CUDA runtime version",
        "cuda-driver-insufficient",
        {},
    ),
    ("Failed to initialize NVML: Driver/library version mismatch", "driver-library-mismatch", {}),
    (
        (
            "E cuda_diagnostics.cc:313] kernel version 384.111.0 does not match DSO version 384.130.0"
            " -- cannot find working devices in this configuration"
        ),
        "driver-library-mismatch",
        {"kernel": "384.111.0", "dso": "384.130.0"},
    ),
    ('Field "compute_cap" is not a valid field to query.', "smi-no-compute-cap", {}),
    (
        "  - nothing provides __cuda >=12 needed by tensorflow-2.19.1-cuda128py312h0_203",
        "conda-cuda-virtual-package",
        {"constraint": ">=12"},
    ),
]


@pytest.mark.parametrize(("text", "code", "groups"), REQUIRED, ids=[c for _, c, _ in REQUIRED])
def test_required_message_is_recognised(
    table: SignatureTable, text: str, code: str, groups: dict[str, str]
) -> None:
    found = _codes(table, text)
    assert code in found, f"{code} not matched; got {sorted(found)}"
    for key, value in groups.items():
        assert found[code].groups.get(key) == value


def test_info_signatures_are_marked_info(table: SignatureTable) -> None:
    found = _codes(table, "Your CPU supports instructions that this TensorFlow binary was not"
                   " compiled to use: AVX2")  # fmt: skip
    assert found["cpu-instructions-unused"].severity == "info"


def test_templates_are_filled_with_the_captured_numbers(table: SignatureTable) -> None:
    found = _codes(
        table, "Loaded runtime CuDNN library: 8.0.5 but source was compiled with: 8.1.0."
    )
    match = found["cudnn-version-mismatch"]
    assert "8.1.0" in match.cause
    assert "8.0.5" in match.cause
    assert "{" not in match.fix


def test_a_group_that_did_not_match_shows_a_placeholder(table: SignatureTable) -> None:
    match = _codes(table, "Failed to initialize NVML: Driver/library version mismatch")[
        "driver-library-mismatch"
    ]
    assert "kernel ?" in match.cause
    assert match.groups == {}


def test_nothing_is_reported_for_a_clean_log(table: SignatureTable) -> None:
    assert table.match("2024-01-01 I tensorflow ... Created device /GPU:0 with 22000 MB\n") == []


def test_matches_are_reported_in_log_order_with_their_line(table: SignatureTable) -> None:
    text = "first line\nIllegal instruction (core dumped)\nthird\nFailed to initialize NVML: Driver/library version mismatch\n"
    found = table.match(text)
    assert [m.code for m in found] == ["illegal-instruction", "driver-library-mismatch"]
    assert found[0].line == "Illegal instruction (core dumped)"
    assert found[0].line_number == 2


# ---------------------------------------------------------------------------------------------
# Real logs quoted from public issues

LOG_CASES = [
    ("cudnn-mismatch-8.0.4-vs-8.1.0.log", "cudnn-version-mismatch", {"loaded": "8.0.4", "compiled": "8.1.0"}),
    ("cudnn-mismatch-9.1.0-vs-9.3.0.log", "cudnn-version-mismatch", {"loaded": "9.1.0", "compiled": "9.3.0"}),
    ("cudnn-mismatch-9.1.0-vs-9.3.0.log", "cudnn-not-initialized", {}),
    ("cudart-missing-11.0.log", "cudart-missing", {"cuda": "11.0"}),
    ("gpu-capability-3.0-gt750m.log", "gpu-capability-too-low", {"cc": "3.0", "min_cc": "3.5"}),
    ("gpu-capability-6.1-gtx1070.log", "gpu-capability-too-low", {"cc": "6.1", "min_cc": "7.0"}),
    ("windows-dll-illegal-instruction.log", "dll-load-illegal-instruction", {"error_code": "-1073741795"}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "code", "groups"), LOG_CASES)
def test_real_log_is_matched(
    table: SignatureTable, name: str, code: str, groups: dict[str, str]
) -> None:
    text = (LOGS / name).read_text(encoding="utf-8")
    assert text.startswith("# https://"), "first line must cite the issue the log came from"
    found = _codes(table, text)
    assert code in found
    assert found[code].groups == {**found[code].groups, **groups}
    for key, value in groups.items():
        assert found[code].groups[key] == value


def test_every_log_file_is_tested() -> None:
    tested = {name for name, _, _ in LOG_CASES}
    assert {p.name for p in LOGS.glob("*.log")} == tested
