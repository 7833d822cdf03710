"""The option table: every option declared once, resolved with its source, checked whatever
its source, and the parser built from it."""

from __future__ import annotations

import pytest

from envgen.cli import build_parser
from envgen.errors import InputFileError, UsageError
from envgen.options import COMMANDS, OPTIONS, resolve


def _leaves() -> list[str]:
    out = []
    for cmd in COMMANDS:
        out += [f"{cmd.name} {c.name}" for c in cmd.children] or [cmd.name]
    return out


def test_every_command_option_is_declared_and_every_declared_option_used() -> None:
    used = {d for cmd in COMMANDS for c in (cmd, *cmd.children) for d in c.options}
    assert used <= set(OPTIONS)
    assert set(OPTIONS) <= used, set(OPTIONS) - used


@pytest.mark.parametrize("name", _leaves())
def test_every_option_takes_its_envgen_twin(name: str) -> None:
    cmd = next(c for c in COMMANDS if c.name == name.split(maxsplit=1)[0])
    if " " in name:
        cmd = next(c for c in cmd.children if c.name == name.split()[1])
    for dest in cmd.options:
        option = OPTIONS[dest]
        raw = {"bool": "1", "seconds": "12.5", "wait": "0", "append": "a b"}.get(
            option.kind, option.choices[0] if option.choices else "x"
        )
        opts = resolve(name, {}, {option.env: raw})
        assert opts.source(dest).label == option.env
        assert opts.get(dest) == {
            "bool": True,
            "seconds": 12.5,
            "wait": 0.0,
            "append": ["a", "b"],
        }.get(option.kind, raw)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ENVGEN_TARGET": "bogus"}, "ENVGEN_TARGET: expected one of cpu, gpu, auto"),
        ({"ENVGEN_FORCE": "maybe"}, "ENVGEN_FORCE: 'maybe' is not a boolean"),
    ],
)
def test_a_bad_variable_is_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        resolve("render", {}, environ)


def test_a_bad_config_value_is_a_bad_input_file_named_by_its_key() -> None:
    with pytest.raises(InputFileError, match=r"^p\.toml: tool\.envgen\.channel: expected one of"):
        resolve("plan", {}, {}, {"channel": "apt"}, {"channel": "p.toml: tool.envgen.channel"})


def test_seconds_must_be_positive() -> None:
    with pytest.raises(UsageError, match="ENVGEN_TIMEOUT: expected a positive number"):
        resolve("doctor", {}, {"ENVGEN_TIMEOUT": "-1"})
    assert resolve("doctor", {"timeout": "30"}, {}).timeout == 30.0


def test_flag_beats_variable_beats_config_beats_default() -> None:
    config = {"target": "gpu", "mirror": "tuna"}
    opts = resolve("render", {"target": "cpu"}, {"ENVGEN_MIRROR": "aliyun"}, config)
    assert (opts.target, opts.mirror, opts.channel) == ("cpu", "aliyun", "auto")
    assert [opts.source(d).kind for d in ("target", "mirror", "channel")] == [
        "flag",
        "env",
        "default",
    ]


def test_per_command_defaults() -> None:
    assert resolve("lock", {}, {}).output_dir == "locks"
    assert resolve("render", {}, {}).output_dir == "."


@pytest.mark.parametrize("name", [c.name for c in COMMANDS])
def test_each_command_parser_builds_from_the_table(name: str) -> None:
    parser = build_parser(name)
    words = [name, "check"] if name == "kb" else [name]
    args = parser.parse_args(words)
    assert args.command == name
