"""The log reader and matcher on arbitrary and hostile text, and the lookups' contract.

Whatever a log holds, `diagnose_log` returns a diagnosis whose every text is one printable line,
and it finishes in bounded time: hypothesis mixes arbitrary text with pieces of the real wordings
(tests/data/logs/real/) so that patterns match partly and often; a pathological test repeats the
start of each real wording on one long line, the input that makes a careless regular expression
quadratic or worse. The lookups are checked against their declarations in signatures.toml.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envgen.doctor import diagnose_log
from envgen.doctor.facts import read_facts
from envgen.doctor.lookups import LOOKUPS
from envgen.doctor.signatures import normalise
from envgen.kb import load_kb

KB = load_kb()
REAL = Path(__file__).parents[1] / "data" / "logs" / "real"
_HEADER = re.compile(r"# [a-z-]+: ")


def _body(path: Path) -> str:
    return "\n".join(ln for ln in path.read_text(encoding="utf-8").split("\n")
                     if not _HEADER.match(ln))  # fmt: skip


BODIES = [_body(p) for p in sorted(REAL.rglob("*.log"))]
# Lines of the real logs that some signature or fact matches, and their first halves.
LINES = sorted({ln for body in BODIES for ln in body.split("\n") if 8 < len(ln) < 400})
PIECES = sorted({*LINES, *(ln[: len(ln) // 2] for ln in LINES)})

HOSTILE = settings(
    max_examples=150,
    deadline=timedelta(seconds=3),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029]")

logs = st.lists(
    st.one_of(
        st.sampled_from(PIECES),
        st.text(max_size=200),
        st.sampled_from(["\n", "\r\n", "\r", "'", "(", ")", "==", " ", "\x1b[31m", "\u2028"]),
    ),
    max_size=40,
).map("".join)


def _one_line(text: str) -> bool:
    return not _CONTROL.search(text)


@HOSTILE
@given(logs)
def test_any_log_gives_a_diagnosis_of_single_printable_lines(text: str) -> None:
    d = diagnose_log(text, KB)
    for f in d.findings:
        for value in (f.evidence, f.cause, f.fix, f.command or "", *f.inferred):
            assert _one_line(value), (f.code, value)
        assert f.severity in ("error", "warning", "info")


@HOSTILE
@given(logs)
def test_facts_are_short_single_lines(text: str) -> None:
    for fact in read_facts(normalise(text), KB.signatures.facts).values():
        assert _one_line(fact.value)
        assert len(fact.value) <= 200
        assert _one_line(fact.explain())


def test_control_characters_in_a_log_do_not_reach_the_findings() -> None:
    text = "failed call to cuInit: \x1b[2J\x1b[31mCUDA_ERROR_NO_DEVICE\x07\x00 \u2028end\n"
    (finding,) = diagnose_log(text, KB).findings
    assert finding.code == "cuinit-failed"
    assert "CUDA_ERROR_NO_DEVICE" in finding.cause
    assert _one_line(finding.cause)
    assert _one_line(finding.evidence)


def test_long_lines_of_a_wording_s_start_take_bounded_time() -> None:
    """Each real wording's start, repeated on one 100 KB line: nothing may backtrack for long."""
    starts = sorted({ln[:k] for ln in LINES for k in (24, 48) if len(ln) > k})
    slowest = (0.0, "")
    for start in starts:
        text = start * (100_000 // len(start))
        began = time.perf_counter()
        diagnose_log(text, KB)
        slowest = max(slowest, (time.perf_counter() - began, start))
    # Linear scans take milliseconds here; a quadratic pattern takes many seconds.
    assert slowest[0] < 3.0, slowest


# --- the lookups' contract -----------------------------------------------------------------------


def test_every_declared_lookup_is_implemented_and_no_other() -> None:
    assert set(LOOKUPS) == set(KB.signatures.lookups)


def test_lookups_give_only_what_they_declare_and_read_only_what_they_need() -> None:
    table = KB.signatures
    checked = 0
    for body in BODIES:
        text = normalise(body)
        facts = {k: f.value for k, f in read_facts(text, table.facts).items()}
        for m in table.match(text):
            fields = {**facts, **m.groups}
            for kind, lookup in LOOKUPS.items():
                declared = table.lookups[kind]
                found = lookup(KB, fields)
                assert set(found.gives) <= set(declared.gives), kind
                for name in found.gives:
                    assert set(found.inputs(name)) <= set(declared.needs), (kind, name)
                    assert found.gives[name], (kind, name)
                    assert _one_line(found.gives[name]), (kind, name)
                checked += bool(found.gives)
    assert checked > 100
