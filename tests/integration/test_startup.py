"""`envgen --help` starts without loading any stage: the parser comes from the option table."""

from __future__ import annotations

import json
import subprocess
import sys


def test_help_loads_no_stage() -> None:
    code = (
        "import json, sys, contextlib, io\n"
        "from envgen.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('envgen'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == [
        "envgen",
        "envgen.cli",
        "envgen.errors",
        "envgen.options",
        "envgen.options.commands",
        "envgen.options.table",
        "envgen.options.types",
    ]
