"""`python -m envgen` runs the command-line interface."""

import sys

from envgen.cli import main

sys.exit(main())
