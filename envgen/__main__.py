"""`python -m envgen` runs the command-line interface."""

from envgen.cli import entry

entry()
