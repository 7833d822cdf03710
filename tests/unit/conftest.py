"""Unit tests run no programs and open no connections: one autouse guard enforces both.

Every subprocess envgen starts goes through `envgen.proc.run`, which uses `subprocess.Popen`; and
every connection goes through `socket.socket.connect`. Patching both here means a unit test that
would reach the outside fails loudly instead of passing by luck on a developer's machine.
"""

from __future__ import annotations

import socket
import subprocess
from typing import Any, NoReturn

import pytest


@pytest.fixture(autouse=True)
def _no_subprocess_or_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse_popen(*args: Any, **_: Any) -> NoReturn:
        raise AssertionError(f"unit tests must not start processes: {args[:1]}")

    def refuse_connect(*args: Any, **_: Any) -> NoReturn:
        raise AssertionError(f"unit tests must not open connections: {args[1:]}")

    monkeypatch.setattr(subprocess, "Popen", refuse_popen)
    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse_connect)

    # `envgen plan` asks PyPI (best effort) whether a newer TensorFlow exists: here it meets an
    # offline machine before a socket is made (a refused connect would leave one unclosed).
    def offline(url: str, *_: Any, **__: Any) -> NoReturn:
        raise OSError(f"unit tests are offline: {url}")

    monkeypatch.setattr("envgen.kb.newer.urllib_fetch", offline)
