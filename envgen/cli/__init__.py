"""Command-line interface: the only layer that parses arguments, prints and picks exit codes.

argparse keeps start-up cheap (click/typer add 70-120 ms, lab report §6). Every option is
declared once, in `envgen.options`; the parser is built from that table, only for the command
being run, and its handler module (one per subcommand here: a handler that calls the stage and
formats its result) is imported only then, so `envgen --help` loads no stage. A handler takes
the run's frozen `Options` and returns a `Result`; `main()` prints it as a versioned JSON
envelope (`--json`) or as human text, and maps `EnvgenError` subclasses to their exit codes.
Tracebacks only with --debug.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

# json, logging, importlib and pathlib load only in main(), once a command runs: `envgen --help`
# pays for argparse and the option table alone (logging alone costs ~14 ms to import).
from envgen import __version__
from envgen.errors import EnvgenError, NoSolutionError, OptionError, StaleLockError, UsageError
from envgen.options import COMMANDS, OPTIONS, Command, Options

EXIT_INTERRUPTED = 130


@dataclass
class Result:
    """What a command produced: JSON payload keys, human text, and whether it succeeded."""

    command: str
    payload: dict[str, Any]
    human: str
    ok: bool = True
    exit_code: int = 0
    warnings: list[str] = field(default_factory=list)


Handler = Callable[["Options"], Result]


def envelope(command: str, ok: bool, **payload: Any) -> dict[str, Any]:
    return {"schema": f"envgen.{command}/1", "ok": ok, **payload}


# --- parser --------------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS lets `envgen --json detect` and `envgen detect --json` both work.
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print a versioned JSON envelope instead of text",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log every step and show tracebacks",
    )


class _ArgumentError(Exception):
    """argparse refused the command line; raised instead of its exit so that main() can answer
    in the output format asked for (a JSON envelope under --json)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser, self.message = parser, message


class _Parser(argparse.ArgumentParser):
    # Subparsers are made with the parent's class, so every level raises instead of exiting.
    def error(self, message: str) -> NoReturn:
        raise _ArgumentError(self, message)


def _add_options(parser: argparse.ArgumentParser, cmd: Command) -> None:
    """The command's arguments, from the option table. Every flag defaults to None ("not
    given"), so that `options.resolve` can tell it from its ENVGEN_* twin and the config."""
    grouped = {dest: group for group in cmd.exclusive for dest in group}
    groups: dict[tuple[str, ...], Any] = {}
    for dest in cmd.options:
        option = OPTIONS[dest]
        target: Any = parser
        if dest in grouped:
            group = grouped[dest]
            if group not in groups:
                groups[group] = parser.add_mutually_exclusive_group()
            target = groups[group]
        kwargs: dict[str, Any] = {"dest": dest, "help": cmd.helps.get(dest, option.help)}
        if option.kind == "bool":
            kwargs.update(action="store_true", default=None)
        elif option.kind == "append":
            kwargs.update(action="append", metavar=option.metavar)
        else:
            kwargs["metavar"] = option.metavar
            if option.choices:
                kwargs.update(choices=option.choices, metavar=None)
        target.add_argument(*(option.flags or (option.flag,)), **kwargs)


def _command_name(words: Sequence[str]) -> str | None:
    """The subcommand on the command line: the first word that is no option (only the global
    flags, which take no value, may come before it)."""
    names = {c.name for c in COMMANDS}
    word = next((w for w in words if not w.startswith("-")), None)
    return word if word in names else None


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The parser; only `chosen`'s sub-parser is filled in with its arguments (none for
    `envgen --help`, which lists the commands)."""
    parser = _Parser(
        prog="envgen",
        description="Detect the machine, decide a known-good TensorFlow stack, build and verify it.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"envgen {__version__}")
    _common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for cmd in COMMANDS:
        if chosen != cmd.name:
            # Listed in `envgen --help`; its arguments (and its epilog's imports) only when run.
            sub.add_parser(cmd.name, help=cmd.help, allow_abbrev=False)
            continue
        p = sub.add_parser(
            cmd.name,
            help=cmd.help,
            description=cmd.description or cmd.help,
            epilog=_epilog(cmd),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            allow_abbrev=False,
        )
        _common(p)
        _add_options(p, cmd)
        if cmd.children:
            kids = p.add_subparsers(dest="subcommand", metavar=f"{cmd.name.upper()}_COMMAND")
            kids.required = True
            for child in cmd.children:
                c = kids.add_parser(child.name, help=child.help, allow_abbrev=False)
                _common(c)
                _add_options(c, child)
    return parser


def _epilog(cmd: Command) -> str:
    if cmd.name != "detect":
        return cmd.epilog
    from envgen.overrides import PROFILE_VARIABLES

    overrides = "\n".join(f"  {k:<22} {v}" for k, v in PROFILE_VARIABLES.items())
    return "Environment variables that override single facts (testing, CI):\n" + overrides


# --- main ----------------------------------------------------------------------------------------


def _print_error(exc: EnvgenError, command: str, as_json: bool) -> None:
    """The one printer of every error: a JSON envelope, or one line (plus remedies and a hint)."""
    remedies = exc.remedies if isinstance(exc, NoSolutionError) else []
    changes = exc.changes if isinstance(exc, StaleLockError) else []
    if as_json:
        error: dict[str, Any] = {"code": exc.code, "message": exc.message}
        if exc.hint:
            error["hint"] = exc.hint
        payload: dict[str, Any] = {"error": error}
        if isinstance(exc, NoSolutionError):
            # The same shape from every command: plan, render, lock, create.
            error["remedies"] = remedies
            payload["rejections"] = exc.rejections
        if isinstance(exc, StaleLockError):
            error["changes"] = changes
        import json

        print(json.dumps(envelope(command, False, **payload), indent=2), flush=True)
        return
    print(f"envgen: error: {exc.message}", file=sys.stderr)
    if remedies:
        print("remedies, cheapest first:", file=sys.stderr)
    for line in (*remedies, *changes[1:]):
        print(f"  - {line}", file=sys.stderr)
    if exc.hint:
        print(f"hint: {exc.hint}", file=sys.stderr)


class _Internal(EnvgenError):
    """An exception envgen did not expect: a bug. Exit 1, as errors.py reserves it."""

    code = "internal"


class _Interrupted(EnvgenError):
    exit_code = EXIT_INTERRUPTED
    code = "interrupted"


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _parse(parser: argparse.ArgumentParser, words: list[str]) -> argparse.Namespace | int:
    """The parsed command line, or the exit code of a refusal, printed as argparse does (usage,
    then the error on stderr) or as an envelope on stdout when --json is on the command line."""
    try:
        return parser.parse_args(words)
    except _ArgumentError as exc:
        command = _command_name(words)
        if "--json" in words or os.environ.get("ENVGEN_JSON", "") == "1":
            where = f"envgen {command}" if command else "envgen"
            error = UsageError(" ".join(exc.message.split()), hint=f"see {where} --help")
            # Before a command is known the envelope is the command line's own: envgen.cli/1.
            _print_error(error, command or "cli", as_json=True)
        else:
            exc.parser.print_usage(sys.stderr)
            print(f"{exc.parser.prog}: error: {exc.message}", file=sys.stderr)
        return UsageError.exit_code


def _options(args: argparse.Namespace) -> Options:
    """The run's options from the parsed flags, the ENVGEN_* variables and, for a command whose
    options a project may set, the project's [tool.envgen] table (read only then: a broken
    pyproject.toml must not stop `envgen detect`)."""
    from envgen import options

    name = args.command + (f" {args.subcommand}" if getattr(args, "subcommand", None) else "")
    cmd = options._find(name)
    config: dict[str, Any] | None = None
    labels: dict[str, str] | None = None
    if any(OPTIONS[d].config is not None for d in cmd.options):
        from pathlib import Path

        from envgen import config as project_config

        project = project_config.load(Path.cwd())
        config, labels = project.flag_values(), project.labels()
    given = {dest: getattr(args, dest, None) for dest in cmd.options}
    extra = {
        "json": bool(getattr(args, "json", False)),
        "debug": bool(getattr(args, "debug", False)),
    }
    return options.resolve(name, given, os.environ, config, labels, extra=extra)


def main(argv: Sequence[str] | None = None) -> int:
    from envgen import options

    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_name(words))
    args = _parse(parser, words)
    if isinstance(args, int):
        return args
    as_json = bool(getattr(args, "json", False)) or os.environ.get("ENVGEN_JSON", "") == "1"
    debug = bool(getattr(args, "debug", False)) or os.environ.get("ENVGEN_DEBUG", "") == "1"
    import importlib
    import logging

    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="envgen: %(levelname)s: %(message)s",
    )
    opts: Options | None = None
    try:
        opts = _options(args)
        cmd = options._find(opts.command)
        module = importlib.import_module(cmd.module)
        handler: Handler = getattr(module, cmd.handler)
        result = handler(opts)
    except EnvgenError as exc:
        if debug:
            logging.getLogger("envgen").exception("failed")
        if isinstance(exc, OptionError):
            # Named by how the user set the value: --target, ENVGEN_TARGET, tool.envgen.target.
            exc = options.named(opts, exc)
        _print_error(exc, args.command, as_json)
        return exc.exit_code
    except KeyboardInterrupt:
        # The line on stderr in every mode (where the progress lines went), and under --json
        # the envelope on stdout too, so a script reads the outcome where it reads every other.
        print("envgen: interrupted", file=sys.stderr)
        if as_json:
            _print_error(_Interrupted("interrupted"), args.command, as_json)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if debug:
            raise
        # Even a bug answers a script in the format it asked for, on one line.
        internal = _Internal(
            f"internal error: {_one_line(exc)}",
            hint="rerun with --debug for the traceback, and report it",
        )
        if as_json:
            _print_error(internal, args.command, as_json)
        else:
            print(f"envgen: {internal.message}", file=sys.stderr)
            print(f"hint: {internal.hint}", file=sys.stderr)
        return 1
    try:
        if as_json:
            payload = envelope(result.command, result.ok, **result.payload)
            import json

            print(json.dumps(payload, indent=2))
        else:
            print(result.human, file=sys.stdout if result.ok else sys.stderr)
        sys.stdout.flush()
    except BrokenPipeError:
        # `envgen ... | head`: the reader left; not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return result.exit_code


def entry() -> NoReturn:
    """The `envgen` executable (and `python -m envgen`): main(), then the exit.

    Where py-rattler ran, the process ends without interpreter finalisation: its tokio worker
    threads may still release Python objects while the interpreter tears down, which crashes
    the process (SIGSEGV, or SIGABRT "PyGILState_Release: thread state … must be current")
    after envgen has printed its answer, and the crash replaces the exit code. Seen here in
    about one run in four of a failed conda solve; a known race of pyo3-async-runtimes with no
    shutdown API (PyO3/pyo3-async-runtimes#40). Everything is written and flushed first.
    """
    code = main()
    if "rattler" not in sys.modules:
        sys.exit(code)
    import contextlib
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


__all__ = ["UsageError", "entry", "main"]
