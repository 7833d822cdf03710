"""Typed view of `doctor-checks.toml`: what `envgen doctor` says when facts disagree.

Log messages have `signatures.toml`; this file holds the texts for findings the doctor derives by
cross-checking an environment with the hardware profile and the knowledge base (numpy 2 under
TensorFlow 2.15, a CUDA 12.5 build on a CUDA 12.2 driver, ...), which GPU-only log signatures
are harmless on a machine without a GPU, and which findings are the failure where a GPU should be
used. The doctor decides when a check applies; the words, the
severity and the source live here.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass, field

from envgen.errors import KnowledgeBaseError
from envgen.kb import load_toml
from envgen.kb.fields import Kebab, Template, key, one_of
from envgen.kb.rows import DataFile, Table
from envgen.kb.signatures import MISSING, SEVERITIES

FILE = "doctor-checks.toml"


def fill(template: str, fields: dict[str, str]) -> str:
    """`template` with `{name}` replaced from `fields`; an unknown name shows as "?"."""
    names = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    return template.format_map({n: fields.get(n, MISSING) for n in names})


@dataclass(frozen=True)
class Check:
    code: str = field(metadata=key(Kebab(), unique=True))
    severity: str = field(metadata=key(one_of(SEVERITIES)))
    cause: str = field(metadata=key(Template()))
    fix: str = field(metadata=key(Template()))
    command: str | None = field(metadata=key(Template()))
    """The envgen subcommand (without "envgen") that gives a working environment."""
    source: str = field(metadata=key())


@dataclass(frozen=True)
class WithoutGpu:
    """A log signature that is expected noise on a machine without an NVIDIA GPU."""

    code: str = field(metadata=key(Kebab(), unique=True))
    severity: str = field(metadata=key(one_of(SEVERITIES)))
    note: str = field(metadata=key())
    source: str = field(metadata=key())


@dataclass(frozen=True)
class WithGpu:
    """A finding (log signature or check) that keeps the GPU unused: the reason it failed where
    the machine has an NVIDIA GPU or the user targets the GPU."""

    code: str = field(metadata=key(Kebab(), unique=True))
    severity: str = field(metadata=key(one_of(SEVERITIES)))
    note: str = field(metadata=key())
    source: str = field(metadata=key())


SCHEMA = DataFile(
    FILE,
    "What envgen doctor says when facts disagree, and how GPU findings rank with and without a GPU",
    (
        Table("check", Check, label="code"),
        Table("without-gpu", WithoutGpu, label="code"),
        Table("with-gpu", WithGpu, label="code"),
    ),
)


@dataclass(frozen=True)
class DoctorChecks:
    checks: dict[str, Check]
    without_gpu: dict[str, WithoutGpu]
    with_gpu: dict[str, WithGpu]

    def check(self, code: str) -> Check:
        found = self.checks.get(code)
        if found is None:
            raise KnowledgeBaseError(f"{FILE}: no check {code!r}")
        return found


@functools.cache
def load_doctor_checks() -> DoctorChecks:
    rows = SCHEMA.open(load_toml(FILE))
    return DoctorChecks(
        {c.code: c for c in rows.rows(Check)},
        {w.code: w for w in rows.rows(WithoutGpu)},
        {w.code: w for w in rows.rows(WithGpu)},
    )
