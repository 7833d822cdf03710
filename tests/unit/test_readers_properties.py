"""Property-based tests of every reader of outside input (issue 11, section 8).

Profiles, the project configuration, lock indexes, hashed requirements locks, PEP 751 pylocks and
conda-lock files: whatever text or document arrives, the reader returns its value or raises an
`EnvgenError` whose message and hint are one line each; never another exception. Documents are
built from hypothesis strategies (the documented shape with hostile values mixed in: wrong types,
deep nesting, long lists, control characters, numbers where strings belong) and from the real
files envgen writes and reads (the committed lock set, captured uv answers) with one value
replaced. Time is bounded by hypothesis's per-example deadline: an input that made a reader work
for minutes (a million CPU flags did) fails it.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import tomllib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envgen import config
from envgen.backends.conda_lock import parse_conda_lock
from envgen.documents import MAX_ITEMS, is_plain_name
from envgen.errors import EnvgenError
from envgen.kb import load_kb
from envgen.lock import pip
from envgen.lock.index import LockIndex, parse_index
from envgen.profile import HardwareProfile, complete, from_dict, parse_profile_text
from envgen.verify import expect

REPO = Path(__file__).resolve().parents[2]
UV = REPO / "tests/data/uv"
INDEX_TEXT = (REPO / "locks/envgen-lock.toml").read_text()
PYLOCK_TEXT = (UV / "tf2.21-cpu-py3.11-linux-64.pylock.toml").read_text()
REQUIREMENTS_TEXT = (UV / "tf2.21-cpu-py3.11-linux-64.requirements.txt").read_text()
# uv's answers for a direct-URL wheel resolved from its downloaded copy (issue 18), the copy's
# path as the canonical URL a lock records.
_DIRECT_URL = "https://github.com/fo40225/tensorflow-windows-wheel/raw/8b3704bd783f7964951b85ec5f635436e4a916ad/2.0.0/py37/CPU/sse2/tensorflow-2.0.0-cp37-cp37m-win_amd64.whl"
DIRECT_REQUIREMENTS = (
    (UV / "direct-url-py3.7-win-64.requirements.txt")
    .read_text()
    .replace("file://{local}", _DIRECT_URL)
)
DIRECT_PYLOCK = (
    (UV / "direct-url-py3.7-win-64.pylock.toml")
    .read_text()
    .replace('path = "{local}"', f'url = "{_DIRECT_URL}"')
)
KB = load_kb()

# A reader may take its time on a 1 MiB document; no example here should come near this.
READERS = settings(
    max_examples=150,
    deadline=timedelta(seconds=2),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- strategies ----------------------------------------------------------------------------------

NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\n",
        "line\nbreak",
        "\r\n",
        "\x00",
        "\x1b[2J",
        "\u2028",
        "\x85",
        "3.10",
        "12",
        "535.104.05",
        "8.6",
        "linux",
        "x86_64",
        "../../etc/passwd",
        "a/b",
        "..",
        "C:x",
        "x" * 5000,
        "requirements.cpu-linux-64.txt",
    ]
)
TEXT = st.text(max_size=30) | NASTY_TEXT
NUMBER = st.integers() | st.floats() | st.sampled_from([3.10, 12, 2.35, -1, 10**40, True, False])
LEAF = TEXT | NUMBER


def _nest(depth: int) -> Any:
    value: Any = "avx"
    for _ in range(depth):
        value = [value]
    return value


# Nesting deep enough to matter (past the readers' depth limit) but shallow enough for the
# serialisers the tests use; deeper nesting is generated as text below.
DEEP = st.integers(1, 120).map(_nest)
LONG = st.tuples(
    st.sampled_from([0, 2, MAX_ITEMS, MAX_ITEMS + 1, 3 * MAX_ITEMS]),
    st.sampled_from(["text", 1, 3.1, {"a": 1}]),
).map(lambda pair: [f"f{i}" if pair[1] == "text" else pair[1] for i in range(pair[0])])
VALUE = st.recursive(
    LEAF,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(TEXT, kids, max_size=4),
    max_leaves=10,
)
HOSTILE = VALUE | DEEP | LONG


def _or_hostile(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly well formed (so readers get far), often hostile."""
    return st.one_of(good, good, HOSTILE)


def _table(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    extra = st.dictionaries(TEXT, HOSTILE, max_size=1)
    optional = {k: _or_hostile(v) for k, v in fields.items()}
    return st.tuples(st.fixed_dictionaries({}, optional=optional), extra).map(
        lambda pair: {**pair[1], **pair[0]}
    )


VERSION = st.sampled_from(["3.11", "3.8", "12.2", "535.104.05", "2.17", "9.0", "8.6", "1"])
NAMES = st.sampled_from(["NVIDIA H100 80GB HBM3", "NVIDIA GeForce GTX 650", "Tesla K80", "x"])
FLAGS = st.lists(st.sampled_from(["avx", "avx2", "fma", "sse4_2", "avx512f", "AVX", " "]))
PROFILE_DOC = st.fixed_dictionaries(
    {"schema": _or_hostile(st.just(1))},
    optional={
        "os": _table(
            {
                "name": st.sampled_from(["linux", "windows", "macos"]),
                "arch": st.sampled_from(["x86_64", "aarch64", "arm64", "armv7l"]),
                "glibc": VERSION,
                "release": VERSION,
                "wsl": st.booleans(),
            }
        ),
        "cpu": _table({"flags": FLAGS, "x86-64-level": st.integers(-1, 5), "model": TEXT}),
        "python": _table(
            {
                "version": VERSION,
                "found": st.lists(_table({"version": VERSION, "path": TEXT}), max_size=2),
            }
        ),
        "nvidia": _table({"driver": VERSION, "cuda": VERSION, "disagreements": st.lists(TEXT)}),
        "gpu": st.lists(
            _table({"name": NAMES, "compute-capability": VERSION, "memory-mib": st.integers()}),
            max_size=3,
        ),
        "cuda-toolkit": st.lists(_table({"version": VERSION, "path": TEXT}), max_size=2),
        "cudnn": st.lists(_table({"version": VERSION}), max_size=2),
        "sources": st.dictionaries(TEXT, TEXT, max_size=3),
        "notes": st.lists(TEXT, max_size=3),
    },
)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
        )
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    # A JSON string is a TOML basic string (a lone surrogate's escape makes the text invalid
    # TOML, which the reader must refuse as any other syntax error).
    return json.dumps(value)


def _toml(doc: Any) -> str:
    """`doc` as TOML text, every table inline (tomlkit takes seconds on a list of thousands)."""
    if not isinstance(doc, dict):
        return _toml_value(doc)  # not a document: the reader must say so
    return "".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in doc.items())


def _leaf_paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in _leaf_paths(v, (*prefix, k))] or [prefix]
    if isinstance(doc, list):
        return [p for i, v in enumerate(doc) for p in _leaf_paths(v, (*prefix, i))] or [prefix]
    return [prefix]


def _replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of `doc` with the value at `path` replaced (the whole document for `()`)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {**doc, head: _replaced(doc[head], rest, value)}
    return [_replaced(v, rest, value) if i == head else v for i, v in enumerate(doc)]


def _mutations(text: str) -> st.SearchStrategy[Any]:
    """A real TOML document with one value (or table) replaced by a hostile one."""
    doc = tomllib.loads(text)
    paths = _leaf_paths(doc)
    # Also replace whole tables and arrays, not only leaves.
    paths += sorted({p[:n] for p in paths for n in range(len(p))}, key=len)
    return st.tuples(st.sampled_from(paths), HOSTILE).map(lambda pv: _replaced(doc, *pv))


def _lines(real: str) -> st.SearchStrategy[str]:
    """A real line-based file with lines dropped, duplicated or replaced by hostile ones."""
    lines = real.splitlines()
    fragments = st.sampled_from(lines) | TEXT
    return st.lists(fragments, max_size=40).map("\n".join) | st.tuples(
        st.integers(0, len(lines)), TEXT
    ).map(lambda it: "\n".join([*lines[: it[0]], it[1], *lines[it[0] + 1 :]]))


def _value_or_error(read: Callable[[], Any]) -> Any:
    """What `read` returns, or None after an EnvgenError whose text is one line each."""
    try:
        return read()
    except EnvgenError as exc:
        error = exc
    for text in (error.message, error.hint):
        assert "\n" not in text, text
        assert "\r" not in text, text
    return None


# --- profiles ------------------------------------------------------------------------------------


def _check_profile(text: str) -> None:
    profile = _value_or_error(lambda: parse_profile_text(text, "p.toml"))
    if profile is not None:
        assert isinstance(profile, HardwareProfile)
        assert len(profile.cpu.flags) <= MAX_ITEMS
        # What a reader accepts, the stages after it must take too.
        _value_or_error(lambda: complete(profile, KB))


@READERS
@given(st.text() | st.text().map(lambda t: "{" + t))
def test_profile_from_any_text(text: str) -> None:
    _check_profile(text)


@READERS
@given(PROFILE_DOC)
def test_profile_documents_as_toml(doc: dict[str, Any]) -> None:
    _check_profile(_toml(doc))


@READERS
@given(PROFILE_DOC)
def test_profile_documents_as_json(doc: dict[str, Any]) -> None:
    _check_profile(json.dumps(doc))


@READERS
@given(PROFILE_DOC | HOSTILE)
def test_profile_from_any_document(doc: Any) -> None:
    profile = _value_or_error(lambda: from_dict(doc, "p.json"))
    assert profile is None or isinstance(profile, HardwareProfile)


@READERS
@given(
    st.integers(1, 20_000),
    st.sampled_from(
        [
            ("schema = 1\n[cpu]\nflags = VALUE", "[", "]"),
            ("schema = 1\nx = VALUE", "{a = ", "}"),
            ('{"schema": 1, "cpu": {"flags": VALUE}}', "[", "]"),
            ('{"schema": 1, "x": VALUE}', '{"a": ', "}"),
        ]
    ),
)
def test_profile_nested_to_any_depth(depth: int, shape: tuple[str, str, str]) -> None:
    frame, opening, closing = shape
    _check_profile(frame.replace("VALUE", opening * depth + "1" + closing * depth))


LIST_KEYS = [
    ("cpu", "flags", "avx"),
    ("nvidia", "disagreements", "x"),
    (None, "notes", "x"),
    (None, "gpu", {"name": "T4"}),
    (None, "cudnn", {"version": "8.9"}),
    ("python", "found", {"version": "3.11", "path": "/p"}),
]


@READERS
@given(st.sampled_from(LIST_KEYS), st.integers(MAX_ITEMS - 2, MAX_ITEMS + 2) | st.integers(0, 5000))
def test_profile_lists_are_capped(where: tuple[str | None, str, Any], size: int) -> None:
    table, key, item = where
    items = [f"{item}{i}" if isinstance(item, str) else item for i in range(size)]
    doc: dict[str, Any] = {"schema": 1, key: items} if table is None else {"schema": 1}
    if table is not None:
        doc[table] = {key: items, **({"driver": "535.1"} if table == "nvidia" else {})}
    profile = _value_or_error(lambda: from_dict(doc, "p.json"))
    assert (profile is not None) == (size <= MAX_ITEMS)


# --- project configuration -----------------------------------------------------------------------

CONFIG_TABLE = _table(
    {
        "target": st.sampled_from(["cpu", "gpu", "auto"]),
        "python": VERSION,
        "tensorflow": st.sampled_from(["2.15", ">=2.12,<2.16"]),
        "keras": st.sampled_from(["2", "3"]),
        "channel": st.sampled_from(["pip", "conda", "system", "auto"]),
        "mirror": st.sampled_from(["tuna", "https://mirror.example/simple"]),
        "outputs": st.lists(st.sampled_from(["environment.yml", "Dockerfile"])),
        "platforms": st.lists(st.sampled_from(["linux-64", "win-64"])),
    }
)
CONFIG_NAMES = st.sampled_from([config.PYPROJECT, config.ENVGEN_TOML])


def _check_config(text: str, name: str) -> None:
    found = _value_or_error(lambda: config.parse(text, Path(name)))
    if found is not None:
        assert isinstance(found, config.ProjectConfig)
        assert set(found.labels()) == set(found.flag_values())


@READERS
@given(st.text(), CONFIG_NAMES)
def test_config_from_any_text(text: str, name: str) -> None:
    _check_config(text, name)


@READERS
@given(CONFIG_TABLE, CONFIG_NAMES, st.booleans())
def test_config_documents(table: dict[str, Any], name: str, under_tool: bool) -> None:
    doc = {"tool": {"envgen": table}} if under_tool else table
    _check_config(_toml(doc), name)


@READERS
@given(CONFIG_TABLE | HOSTILE)
def test_config_validate_any_table(table: Any) -> None:
    if isinstance(table, dict):
        _value_or_error(lambda: config.validate(table, "pyproject.toml", "tool.envgen"))


# --- lock indexes --------------------------------------------------------------------------------


def _check_index(text: str) -> None:
    index = _value_or_error(lambda: parse_index(text, "envgen-lock.toml"))
    if index is None:
        return
    assert isinstance(index, LockIndex)
    # Whatever an index says, every file it names stays inside the lock folder.
    names = [name for name, _ in index.files]
    for var in index.variants:
        names += [n for lk in var.locks for n in (lk.pylock, lk.requirements) if n is not None]
        names += [var.conda_lock] if var.conda_lock is not None else []
    assert all(is_plain_name(n) for n in names), names


@READERS
@given(st.text())
def test_index_from_any_text(text: str) -> None:
    _check_index(text)


@READERS
@given(_mutations(INDEX_TEXT))
def test_committed_index_with_one_value_replaced(doc: Any) -> None:
    _check_index(_toml(doc) if isinstance(doc, dict) else str(doc))


def test_committed_index_reads() -> None:
    # The unmutated document, so the properties above start from a file the reader accepts.
    index = parse_index(INDEX_TEXT)
    assert {"cpu", "cuda12"} <= {v.name for v in index.variants}


# Names that would lead a reader out of the lock folder, or break a line, on some system.
ESCAPING_NAMES = st.sampled_from(
    ["../x.txt", "../../../../etc/passwd", "/etc/passwd", "a/b", "a\\b", "..", ".", "C:x", "x\n"]
)


def _file_name_paths(doc: Any) -> list[tuple[Any, ...]]:
    """Where the committed index holds a file name: lock and variant keys, and [files] keys."""
    keys = {"pylock", "requirements", "conda-lock"}
    return [p for p in _leaf_paths(doc) if p[-1] in keys or p[:1] == ("files",)]


@READERS
@given(st.data())
def test_index_file_names_stay_inside_the_folder(data: st.DataObject) -> None:
    doc = tomllib.loads(INDEX_TEXT)
    path = data.draw(st.sampled_from(_file_name_paths(doc)))
    name = data.draw(ESCAPING_NAMES | st.text(max_size=8))
    if path[0] == "files":  # the name is the key
        files = {(name if k == path[1] else k): v for k, v in doc["files"].items()}
        doc = {**doc, "files": files}
    else:
        doc = _replaced(doc, path, name)
    _check_index(_toml(doc))


# --- requirements locks --------------------------------------------------------------------------


@READERS
@given(st.text() | _lines(REQUIREMENTS_TEXT))
def test_requirements_lock_from_any_text(text: str) -> None:
    pins = _value_or_error(lambda: pip.parse_requirements(text, "r.txt"))
    assert pins is None or all(isinstance(v, tuple) for v in pins.values())
    exact = _value_or_error(lambda: expect.parse_requirements_lock(text, "r.txt"))
    assert exact is None or all(isinstance(v, str) for _, v in exact)


@READERS
@given(
    st.sampled_from(["a==1 ;{} x", "a==1{};", "a{}=", "a==1 ; {}", "  --hash=sha256:{}x"]),
    st.integers(1_000, 50_000),
)
def test_requirements_lock_long_lines_stay_linear(shape: str, size: int) -> None:
    # Long lines shaped to make a backtracking pattern try many split points (a marker of
    # spaces, a version of digits); the deadline bounds each.
    line = shape.format(" " * size if " " in shape else "1" * size)
    _value_or_error(functools.partial(pip.parse_requirements, line + " \\\n", "r.txt"))
    _value_or_error(functools.partial(expect.parse_requirements_lock, line, "r.txt"))


@READERS
@given(_lines(DIRECT_REQUIREMENTS))
def test_a_requirements_lock_with_a_direct_url_from_any_edit(text: str) -> None:
    pins = _value_or_error(lambda: pip.parse_requirements(text, "r.txt"))
    assert pins is None or all(isinstance(v, tuple) for v in pins.values())
    found = expect.direct_build(text)
    assert found is None or all(isinstance(f, str) for f in found[0])


@READERS
@given(
    st.sampled_from(
        ["a @ https://{}.whl \\", "a@https://x/{}", "a @ file://{}x.whl", "{}@ https:"]
    ),
    st.integers(1_000, 50_000),
)
def test_direct_url_lines_stay_linear(shape: str, size: int) -> None:
    line = shape.format("/" * size if "file" in shape else "a" * size)
    _value_or_error(functools.partial(pip.parse_requirements, line + "\n", "r.txt"))
    assert expect.direct_build(line) is None


def test_the_direct_url_lock_reads() -> None:
    files = {f.name: f for f in pip.install_files(DIRECT_PYLOCK, "3.7")}
    assert files["tensorflow-gpu"].url == _DIRECT_URL
    assert expect.direct_build(DIRECT_REQUIREMENTS) == (
        (),
        "fo40225 2.0.0\\py37\\CPU\\sse2 (SIMD x86_64)",
    )


# --- PEP 751 pylocks -----------------------------------------------------------------------------


def _check_pylock(text: str) -> None:
    _value_or_error(lambda: pip.parse_pylock(text, "pylock.toml"))
    _value_or_error(lambda: pip.install_files(text, "3.11", "pylock.toml"))
    _value_or_error(lambda: expect.parse_pylock(text, "pylock.toml"))


@READERS
@given(st.text())
def test_pylock_from_any_text(text: str) -> None:
    _check_pylock(text)


@READERS
@given(_mutations(PYLOCK_TEXT) | _mutations(DIRECT_PYLOCK))
def test_captured_pylock_with_one_value_replaced(doc: Any) -> None:
    _check_pylock(_toml(doc) if isinstance(doc, dict) else str(doc))


def test_captured_pylock_reads() -> None:
    assert len(pip.install_files(PYLOCK_TEXT, "3.11")) == len(pip.parse_pylock(PYLOCK_TEXT)) > 20


# --- conda-lock files ----------------------------------------------------------------------------


@READERS
@given(
    st.text()
    | st.sampled_from(["version: 1\npackage: &a [*a]\n", "version: 1\npackage:\n- &r {name: *r}\n"])
)
def test_conda_lock_from_any_text(text: str) -> None:
    _value_or_error(lambda: parse_conda_lock(text, "conda-lock.yml"))
