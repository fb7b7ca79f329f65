"""What the command line does when a run is interrupted or cannot write its results.

* SIGINT (Ctrl+C) and SIGTERM raise :class:`Interrupted` in the main process (a second
  signal kills at once). The runner stops its worker processes; the entry point removes
  the result files this run had written (each is whole, but together they would be an
  incomplete set) and any ``.NAME.partial-PID`` temporary, leaves ``manifest.json`` at
  ``"completed": false``, prints one line and exits with ``128 + signal number`` (130 for
  SIGINT, 143 for SIGTERM), as shells do.
* An operating-system error while writing (full disk, unwritable or missing folder) gets
  the same clean-up, one line naming the path and the error, and exit status 1.
* SIGKILL cannot be caught: the manifest still says ``"completed": false``, and a result
  being written at that moment is left only under its temporary ``.NAME.partial-PID`` name.
* A worker process that dies (the out-of-memory killer sends SIGKILL) raises
  :class:`WorkerLost` in the main process: the same clean-up, one line naming the signal,
  and exit status 1.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

#: Exit status for an operating-system error or a lost worker (2 is bad input, 128 + N a
#: signal).
EXIT_OS_ERROR = 1


class Interrupted(BaseException):
    """The run was stopped by a signal (a BaseException, like KeyboardInterrupt, so that
    ``except Exception`` in libraries does not swallow it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


class WorkerLost(Exception):
    """A worker process died without a word: killed by a signal (the out-of-memory killer
    sends SIGKILL) or crashed. The message names the signal (:func:`lost_worker`)."""


def lost_worker(exit_codes: Iterable[int | None]) -> str:
    """What killed a worker, from the exit codes of a pool's processes (``-N``: signal N).
    A pool stops its other workers with SIGTERM when one dies, so another signal, if any,
    is the cause."""
    signals = {-code for code in exit_codes if code is not None and code < 0}
    if signals - {signal.SIGTERM}:
        signals.discard(signal.SIGTERM)
    if not signals:
        return "a worker process died"
    names = " or ".join(f"{n} ({signal.Signals(n).name})" if n in signal.valid_signals()
                        else str(n) for n in sorted(signals))
    hint = (", as the out-of-memory killer does when memory runs out"
            if signal.SIGKILL in signals else "")
    return f"a worker process was killed by signal {names}{hint}"


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):  # a second signal stops at once
        if signal.getsignal(sig) is _raise_interrupted:  # (another's handler stays)
            signal.signal(sig, signal.SIG_DFL)
    raise Interrupted(signum)


def install_signal_handlers(only_defaults: bool = False) -> None:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` (main thread only). A signal the
    process was started ignoring (``nohup``, a background job of a script) stays ignored;
    with ``only_defaults``, so does one with a handler of its own (e.g. submitit's)."""
    defaults = (signal.SIG_DFL, signal.default_int_handler)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            handler = signal.getsignal(sig)
            if handler is not signal.SIG_IGN and (not only_defaults or handler in defaults):
                signal.signal(sig, _raise_interrupted)


@contextmanager
def interruptible() -> Iterator[None]:
    """:func:`install_signal_handlers` for the block, for code that may run in a process
    the command line did not set up (a joblib worker running a sweep job), so that a
    SIGTERM there too cleans up instead of killing the process mid-write. Only signals
    left at their default are taken (submitit's SIGTERM handler stays), and they go back
    to it afterwards; in the main process nothing changes (and a handler a first signal
    replaced stays replaced: a second signal still kills)."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    install_signal_handlers(only_defaults=True)
    changed = {sig: handler for sig, handler in previous.items()
               if signal.getsignal(sig) is not handler}
    try:
        yield
    finally:
        for sig, handler in changed.items():
            if signal.getsignal(sig) is _raise_interrupted:  # no signal came
                signal.signal(sig, signal.SIG_DFL if handler is None else handler)


def discard_results(outdir: Path) -> list[Path]:
    """Remove the result files (and leftover temporaries) of an unfinished run in ``outdir``.

    ``manifest.json`` stays, saying ``completed: false``; Hydra's ``.hydra/`` and the log
    stay too (they say what was run). If the manifest still says ``completed: true`` the run
    failed before touching it (e.g. a full disk refused the new manifest, or it was stopped
    while building its networks), so the results are an earlier complete run's and stay,
    with that run's ``.hydra/`` (:func:`wommsim.runs.rundir.restore_hydra_files`). Returns what
    was removed.
    """
    from wommsim.runs.results import EVERY_RESULT_FILE, remove
    from wommsim.runs.rundir import restore_hydra_files

    if not outdir.is_dir():
        return []
    doomed = list(outdir.glob(".*.partial-*"))
    if _claims_complete(outdir / "manifest.json"):  # an earlier run's results, untouched
        restore_hydra_files()
    else:
        doomed += [outdir / name for name in EVERY_RESULT_FILE]
    removed = []
    for path in doomed:
        if not (path.exists() or path.is_symlink()):
            continue
        try:
            remove(path)
        except OSError:
            continue  # e.g. the disk went away: nothing more can be done here
        removed.append(path)
    return removed


def _claims_complete(manifest: Path) -> bool:
    try:
        return json.loads(manifest.read_text()).get("completed") is True
    except (OSError, ValueError, AttributeError):
        return False


def describe_os_error(err: OSError) -> str:
    """One line naming the path and the operating system's reason."""
    path = err.filename if err.filename is not None else "(no path)"
    reason = err.strerror or str(err)
    hint = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
            errno.EROFS: "the file system is read-only",
            errno.EACCES: "no permission to write there",
            errno.ENOTDIR: "a part of the path is a file, not a folder"}.get(err.errno or 0)
    return f"cannot write {path}: {reason}" + (f" ({hint})" if hint else "")


def first_line(err: BaseException) -> str:
    """``TYPE: the first line of its message``, for errors whose message runs on."""
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


#: The faults a command line reports in one line (:func:`report`), besides bad input.
FAULTS = (Interrupted, KeyboardInterrupt, OSError, WorkerLost)


def check_writable(folder: Path) -> None:
    """Raise the OSError that writing results into ``folder`` would raise (a read-only or
    virtual file system, a file in the way, no permission, a full disk), before a long
    computation rather than after it. Creates ``folder`` as writing would, writes and
    removes a probe file, and removes again the folders it created: nothing is left."""
    created = [path for path in (folder, *folder.parents) if not path.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test.partial-{os.getpid()}"
        probe.write_bytes(b"probe")
        probe.unlink()
    finally:
        for path in created:  # the innermost first
            with contextlib.suppress(OSError):
                path.rmdir()


def report(tool: str, err: BaseException, note: str = "") -> int:
    """Print the one line for a handled fault of command ``tool`` (an interrupt, an
    operating-system error, a lost worker), ending with ``note`` (what is left), and return
    its exit status."""
    where = f"; {note}" if note else ""
    if isinstance(err, KeyboardInterrupt):  # SIGINT without install_signal_handlers
        err = Interrupted(signal.SIGINT)
    if isinstance(err, Interrupted):
        print(f"{tool}: interrupted by {err.name}{where}", file=sys.stderr)
        return err.exit_status
    reason = describe_os_error(err) if isinstance(err, OSError) else str(err)
    print(f"{tool}: error: {reason}{where}", file=sys.stderr)
    return EXIT_OS_ERROR


def nothing_written(outdir: Path | None) -> str:
    """The note for :func:`report` of a tool that writes its results all or none."""
    return f"no results were written to {outdir}" if outdir is not None else ""
