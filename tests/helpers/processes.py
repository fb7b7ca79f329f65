"""Commands run as a user runs them (``python -m wommsim ...`` in a subprocess), signals
sent at chosen moments, and the processes they leave, read from ``/proc``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def wommsim(*args: str, cwd: Path, env: dict | None = None, timeout: float = 300):
    return subprocess.run([sys.executable, "-m", "wommsim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def descendants(pid: int) -> list[int]:
    """Every process under ``pid`` (children of all its threads, theirs, ...)."""
    found = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids = [int(p) for p in children.read_text().split()]
        except OSError:
            continue
        for kid in kids:
            found += [kid, *descendants(kid)]
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


WAIT_S = 300  # generous upper bound for slow shared machines; polling ends far earlier


def default_signals() -> None:
    """In the child before exec: SIGINT and SIGTERM as a terminal gives them (a test runner
    started in the background inherits SIGINT ignored, which wommsim would keep)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def wait_for(predicate, what: str, proc: subprocess.Popen, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended (status {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def signal_when(proc: subprocess.Popen, ready, what: str, sig: signal.Signals,
                before=lambda: None) -> tuple[str, object]:
    """Wait until ``ready()``, call ``before()``, send ``sig``; the stderr and what
    ``before`` returned. The process never outlives the test."""
    try:
        wait_for(ready, what, proc)
        seen = before()
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=WAIT_S)
        return stderr, seen
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def assert_one_line_message(proc_stderr: str, *fragments: str, tool: str = "wommsim") -> None:
    lines = [line for line in proc_stderr.splitlines() if line.startswith(f"{tool}:")]
    assert len(lines) == 1, proc_stderr
    for fragment in fragments:
        assert fragment in lines[0], proc_stderr
    assert "Traceback" not in proc_stderr


def blocking_patch(method: str, fragment: str) -> str:
    """Python code making ``DataFrame.METHOD`` block (after writing half a file, and
    touching the marker file ``$WOMMSIM_TEST_MARKER``) when it writes a path containing
    ``fragment``: the command is then mid-way through writing its results."""
    return textwrap.dedent(f"""
        import os, time
        from pathlib import Path
        import pandas as pd

        original = pd.DataFrame.{method}

        def blocking(self, path=None, *args, **kwargs):
            if path is not None and {fragment!r} in str(path):
                Path(path).write_text("arm,final_adoption_mean\\nhalf")
                Path(os.environ["WOMMSIM_TEST_MARKER"]).touch()
                time.sleep(3600)
            return original(self, path, *args, **kwargs)

        pd.DataFrame.{method} = blocking
    """)


def blocking_writer(module: str, method: str, fragment: str) -> str:
    """A script that runs ``python -m MODULE`` with :func:`blocking_patch` in place."""
    return blocking_patch(method, fragment) + textwrap.dedent(f"""
        import runpy, sys
        sys.argv = [{module!r}, *sys.argv[1:]]
        runpy.run_module({module!r}, run_name="__main__", alter_sys=True)
    """)


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def run_blocked(tmp_path: Path, module: str, method: str, fragment: str, *args: str,
                sig: signal.Signals = signal.SIGINT) -> tuple[subprocess.Popen, str]:
    """``python -m MODULE ARGS`` stopped by ``sig`` while it writes a file whose path
    contains ``fragment`` (:func:`blocking_writer`)."""
    marker = tmp_path / "writing"
    proc = subprocess.Popen(
        [sys.executable, "-c", blocking_writer(module, method, fragment), *args],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "WOMMSIM_TEST_MARKER": str(marker)}, preexec_fn=default_signals)
    stderr, _ = signal_when(proc, marker.exists, f"{module} to block while writing", sig)
    return proc, stderr
