"""The escaping layer (envgen/escape.py): each format's filter, the environment's refusal of an
unfiltered field, and every template rendered with hostile values in every field.

The hostile renders must either be refused with one clean error, or produce files that still
parse (YAML, TOML, INI, requirements, Dockerfile instructions) with the same line structure as
the same field holding a benign value; hadolint reads the Dockerfiles in
tests/integration/test_render_tools.py.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import jinja2
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from envgen import escape
from envgen.errors import EnvgenError, UsageError
from envgen.render import _environment, _template_dir, render
from tests.hostile import (
    BENIGN,
    FIELDS,
    HOSTILE,
    check_parses,
    inputs_for,
    render_case,
    same_structure,
)

# Fields whose every value is escaped (only comments or quoted strings), never refused.
ESCAPED = {
    "plan.tensorflow.version",
    "plan.platform",
    "plan.target",
    "plan.cuda",
    "plan.cudnn",
    "pin.reason",
    "mirror.title",
    "options.command",
    "images.cuda.os-python",
}


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_hostile_values_in_every_field_keep_every_file_well_formed(field: str) -> None:
    baseline = render_case(field, BENIGN)
    assert not isinstance(baseline, EnvgenError), baseline
    base_files = {f.name: f.text for f in baseline.files}
    assert base_files, field
    for value in HOSTILE:
        result = render_case(field, value)
        if isinstance(result, EnvgenError):
            # Refused: one line, the value shown escaped, and only a field that cannot escape.
            assert isinstance(result, UsageError), (field, value)
            assert escape.is_single_line(result.message), result.message
            # A value with lone surrogates has no escape in any format, even a quoted one.
            assert field not in ESCAPED or "\udcff" in value, (field, value, result.message)
            continue
        files = {f.name: f.text for f in result.files}
        assert sorted(files) == sorted(base_files), (field, value)
        for name, text in files.items():
            check_parses(name, text)
            assert same_structure(base_files[name], text), (field, value, name, text)
            assert not any(line.startswith("RUN id") for line in text.splitlines()), name


def test_yaml_values_survive_the_round_trip() -> None:
    inputs = inputs_for("environment.value", 'x"\\\n#y\u2028')
    options = replace(inputs.options, formats=("environment.yml",))
    env = yaml.safe_load(render(inputs.plan, options, inputs.images).files[0].text)
    assert env["variables"] == {"TF_X": 'x"\\\n#y\u2028'}


# --- the filters ---------------------------------------------------------------------------------

# Lone surrogates cannot be encoded to UTF-8 and have no escape in YAML or TOML.
TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=60)


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_quoted_is_valid_yaml_and_toml_and_round_trips(text: str) -> None:
    field = escape.quoted(text)
    assert field.isascii()
    assert field.isprintable()
    assert yaml.safe_load(field) == text
    assert tomllib.loads(f"k = {field}")["k"] == text


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_comment_is_always_one_printable_line(text: str) -> None:
    assert escape.comment(text).isprintable()


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_strict_filters_give_one_word_or_a_clean_error(text: str) -> None:
    for filt in (escape.docker, escape.requirements, escape.requirement, escape.ini, escape.name):
        try:
            out: str = filt(text)
        except UsageError as exc:
            out = exc.message  # refused: the message must be one printable line too
        assert out.isprintable()
        if filt is not escape.ini and out == text:
            assert " " not in out


def test_quoted_matches_json_for_printable_ascii() -> None:
    # The goldens were written with json.dumps; the filter keeps those bytes.
    import json

    value = 'a"b\\c >=1,<2 [x] #y: z'
    assert escape.quoted(value) == json.dumps(value)


def test_docker_escapes_dollar_and_refuses_what_it_cannot_carry() -> None:
    assert escape.docker("https://h/$x") == "https://h/\\$x"
    for bad in ("a b", "a\nb", 'a"b', "a'b", "a\\b", "", "a`b"):
        with pytest.raises(UsageError, match="Dockerfile"):
            escape.docker(bad)


def test_requirements_refuses_pip_syntax() -> None:
    for bad in ("a b", "a#b", "${HOME}", "a\\", 'a"', "a\rb"):
        with pytest.raises(UsageError, match="requirements"):
            escape.requirements(bad)
    assert escape.requirements("tensorflow[and-cuda]==2.21.0") == "tensorflow[and-cuda]==2.21.0"


def test_name_refuses_what_yaml_would_read_as_something_else() -> None:
    assert escape.name("TF_USE_LEGACY_KERAS") == "TF_USE_LEGACY_KERAS"
    assert escape.name("conda-forge") == "conda-forge"
    for bad in ("ON", "null", "-x", "a:b", "1x", "a b", ""):
        with pytest.raises(UsageError):
            escape.name(bad)


def test_shell_join_writes_control_characters_as_ansi_c() -> None:
    assert escape.shell_join(["envgen", "a b", "c'd"]) == "envgen 'a b' 'c'\"'\"'d'"
    assert escape.shell_join(["x\ny", "t\t'\\", "\u2028", "\udcff"]) == (
        "$'x\\ny' $'t\\t\\'\\\\' $'\\u2028' $'\\xff'"
    )


def test_visible_escapes_every_line_break_python_knows() -> None:
    breaks = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
    assert len(("a" + escape.visible(breaks) + "b").splitlines()) == 1


# --- the environment -----------------------------------------------------------------------------


def test_a_field_without_a_format_filter_is_refused() -> None:
    env = _environment()
    with pytest.raises(TypeError, match="without a format filter"):
        env.from_string("x = {{ value }}").render(value="fine")
    assert env.from_string("x = {{ value | toml }}").render(value="fine") == 'x = "fine"'


def _templates() -> list[Path]:
    return sorted(_template_dir().glob("*.j2"))


def _macros(name: str) -> set[str]:
    """Macros a template defines or imports (what `| lines` may follow)."""
    env = _environment()
    assert env.loader is not None
    source = env.loader.get_source(env, name)[0]
    tree = env.parse(source)
    names = {m.name for m in tree.find_all(jinja2.nodes.Macro)}
    for imp in tree.find_all(jinja2.nodes.FromImport):
        names |= {n if isinstance(n, str) else n[1] for n in imp.names}
    return names


@pytest.mark.parametrize("path", _templates(), ids=lambda p: p.name)
def test_every_template_field_ends_in_a_format_filter(path: Path) -> None:
    env = _environment()
    tree = env.parse(path.read_text(encoding="utf-8"))
    macros = _macros(path.name)
    fields = 0
    for output in tree.find_all(jinja2.nodes.Output):
        for node in output.nodes:
            if isinstance(node, jinja2.nodes.TemplateData):
                continue
            fields += 1
            assert isinstance(node, jinja2.nodes.Filter), (path.name, node)
            assert node.name in escape.FILTERS, (path.name, node.name)
            if node.name == "lines":
                # Only a macro's own output is taken as whole lines.
                call = node.node
                assert isinstance(call, jinja2.nodes.Call), (path.name, call)
                assert isinstance(call.node, jinja2.nodes.Name), (path.name, call)
                assert call.node.name in macros, (path.name, call.node.name)
    assert fields, path.name


@given(st.lists(st.text(max_size=20), max_size=5))
@settings(max_examples=300, deadline=None)
def test_shell_join_is_shlex_join_for_printable_arguments_and_always_one_line(
    argv: list[str],
) -> None:
    import shlex

    joined = escape.shell_join(argv)
    assert joined.isprintable()
    if all(a.isprintable() for a in argv):
        # Headers of files rendered before this layer existed keep their bytes.
        assert joined == shlex.join(argv)
