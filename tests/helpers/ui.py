"""Start ``python -m wommsim.ui`` as a user does, for the tests that talk to a real server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

import pytest

START_TIMEOUT_S = 180  # the first start fetches the browser assets from the npm registry


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def offline_env(**extra: str) -> dict[str, str]:
    """The environment for a server whose browser assets must come from the local folder:
    Solara's CDN fallback points at a closed local port, so a missing asset fails, never
    leaves this machine."""
    env = {**os.environ, "SOLARA_ASSETS_CDN": f"http://127.0.0.1:{free_port()}/npm/", **extra}
    env.pop("WOMMSIM_UI_OVERRIDES", None)
    return env


@contextmanager
def ui_server(port: int, args: list[str], env: dict[str, str], ready: Callable[[], bool],
              log: IO | None = None, describe: Callable[[], str] = lambda: "") -> Iterator[None]:
    """Run the UI on ``port`` until the block ends; wait until ``ready()`` is true (failing
    the test if the server exits or never gets ready), then stop its whole process group."""
    out = log if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-m", "wommsim.ui", "--port", str(port), *args],
                            env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the UI server exited with {proc.returncode}{describe()}")
            try:
                if ready():
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the UI server did not answer within {START_TIMEOUT_S} s")
            time.sleep(0.2)
        yield
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
