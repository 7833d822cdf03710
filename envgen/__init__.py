"""envgen: detect the machine, decide a known-good TensorFlow stack, write its files, build and verify it.

The package root stays import-light on purpose: `envgen --help` and `envgen detect` must start fast,
so heavy modules are imported inside the commands that need them.
"""

__version__ = "0.1.0"
