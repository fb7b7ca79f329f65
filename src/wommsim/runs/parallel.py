"""Worker processes: one pool factory for runs, validation, calibration and sensitivity.

Workers are spawned fresh, die with the process that started them (even a killed one), and a
worker that dies (as under the out-of-memory killer) ends the pool with
:class:`~wommsim.runs.faults.WorkerLost` naming the signal. Results come back in task order,
so a parallel computation gives exactly the numbers of a serial one.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path

from wommsim.runs.faults import WorkerLost, lost_worker

log = logging.getLogger(__name__)


def worker_count(workers: int, tasks: int) -> int:
    """Processes to use: ``workers`` (0 = one per core), never more than there are tasks."""
    return max(1, min(workers or os.cpu_count() or 1, tasks))


def _init_worker(parent: int) -> None:
    """Worker initialiser: one process per core, so numerical libraries use one thread;
    Ctrl+C is left to the main process (which stops the workers); and die with the
    ``parent`` process (:func:`die_with`)."""
    import signal

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with(parent)


def die_with(process: int) -> None:
    """In a worker process: die (SIGKILL) when ``process``, the run's or the sweep's main
    process, dies, so that a killed run or sweep leaves no orphan computing; exit at once if
    it is gone already (e.g. killed while this worker was starting). On Linux the kernel
    sends the signal when ``process`` is the parent (``PR_SET_PDEATHSIG``: pool and loky
    workers); when it is a more distant ancestor (submitit's local controller sits in
    between, and ignores SIGTERM), a daemon thread waits for it to end. Elsewhere, only
    the check at start."""
    if os.getppid() == process and sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            pr_set_pdeathsig = 1
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        except OSError:
            pass
    elif process in _ancestors() and hasattr(os, "pidfd_open"):
        import threading

        try:
            watch = os.pidfd_open(process)
        except ProcessLookupError:
            os._exit(1)
        except OSError:  # no pidfd (an old kernel): only the check below
            watch = None
        if watch is not None:
            threading.Thread(target=_kill_self_when_readable, args=(watch,), daemon=True,
                             name=f"die-with-{process}").start()
    if process not in _ancestors():  # checked after arming: no window in between
        os._exit(1)


def _kill_self_when_readable(fd: int) -> None:
    import select
    import signal

    select.select([fd], [], [])  # a pidfd becomes readable when its process ends
    os.kill(os.getpid(), signal.SIGKILL)


def _ancestors() -> list[int]:
    """This process's parent, its parent, ... (on Linux; elsewhere only the parent)."""
    found, pid = [], os.getppid()
    while pid > 1 and pid not in found:
        found.append(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
    return found


@contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A :func:`process_pool` for a ``with`` block, shut down at its end. On an error or an
    interrupt no worker computes on (:func:`stop_workers`), and a worker that died (as
    the out-of-memory killer's SIGKILL leaves it) is reported as
    :class:`~wommsim.runs.faults.WorkerLost`, naming the signal, instead of Python's
    ``BrokenProcessPool``."""
    pool = process_pool(workers)
    processes = pool._processes  # the pool's own dict: it fills as workers start
    try:
        yield pool
    except BaseException as err:
        started = list((processes or {}).values())
        stop_workers(pool)
        if isinstance(err, BrokenProcessPool):
            pool.shutdown(wait=True, cancel_futures=True)  # reaps them: exit codes known
            raise WorkerLost(lost_worker(p.exitcode for p in started)) from None
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def process_pool(workers: int) -> ProcessPoolExecutor:
    """``workers`` fresh (spawned) processes for :func:`run_task`, set up by
    :func:`_init_worker`; stop them with :func:`stop_workers` on an error or interrupt
    (:func:`worker_pool` does both)."""
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                               initializer=_init_worker, initargs=(os.getpid(),))


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's worker processes (Python 3.14 has a method for it)."""
    if hasattr(pool, "terminate_workers"):
        pool.terminate_workers()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()


def progress_bar(total: int, label: str) -> Callable[[Iterator], Iterator]:
    """A tqdm bar in a terminal; in logs, a line at every tenth of the work."""
    if sys.stderr.isatty():
        from tqdm import tqdm

        return lambda it: tqdm(it, total=total, desc=label, unit="run", file=sys.stderr)

    def logged(it: Iterator) -> Iterator:
        started = time.perf_counter()
        step = max(1, total // 10)
        for done, item in enumerate(it, start=1):
            if done % step == 0 or done == total:
                log.info("%s: %d/%d runs done (%.1f s)", label, done, total,
                         time.perf_counter() - started)
            yield item

    return logged
