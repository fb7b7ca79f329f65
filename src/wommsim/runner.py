"""Run every arm for every replicate, in parallel, and write the results atomically.

No Hydra in here: the entry point composes the config, this module runs it, so the runner
can be called from Python and tests with a :class:`~wommsim.config.Config`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import asdict
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from wommsim import __version__, rundir
from wommsim.analysis import paired_differences, replicate_outcomes, summarise
from wommsim.config import LEVERS, RUN_ONLY_KEYS, Config, input_file_problem, validate
from wommsim.experiment import Arm, reference_arm, resolve_arms
from wommsim.faults import WorkerLost, lost_worker
from wommsim.memory import check_memory
from wommsim.model import WommModel
from wommsim.network import read_edgelist

log = logging.getLogger(__name__)

RESULT_FILES = ("timeseries.parquet", "timeseries.csv", "summary.csv", "differences.csv",
                "outcomes.csv", "report.md", "figures")


def run_replicate(cfg: Config, replicate: int) -> pd.DataFrame:
    """Simulate one replicate; its per-step table with ``arm`` and ``replicate`` columns."""
    model = WommModel(cfg, replicate=replicate)
    for _ in range(cfg.steps):
        model.step()
    frame = model.timeseries()
    frame.insert(0, "replicate", replicate)
    frame.insert(0, "arm", cfg.arm_name)
    return frame


def run_task(task: tuple[Config, int]) -> pd.DataFrame:
    """One ``(config, replicate)`` task (for process pools)."""
    return run_replicate(*task)


def worker_count(jobs: int, tasks: int) -> int:
    """Processes to use: ``jobs`` (0 = one per core), never more than there are tasks."""
    return max(1, min(jobs or os.cpu_count() or 1, tasks))


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


def simulate(tasks: list[tuple[Config, int]], jobs: int,
             progress: Callable[[Iterator], Iterator] | None = None) -> list[pd.DataFrame]:
    """Run ``(config, replicate)`` tasks, in parallel when ``jobs`` allows; results come
    back in task order, so a parallel run gives exactly the tables of a serial one."""
    workers = worker_count(jobs, len(tasks))
    wrap = progress or (lambda it: it)
    if workers == 1:
        return list(wrap(map(run_task, tasks)))
    with worker_pool(workers) as pool:
        return list(wrap(pool.map(run_task, tasks)))


@contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A :func:`process_pool` for a ``with`` block, shut down at its end. On an error or an
    interrupt no worker computes on (:func:`stop_workers`), and a worker that died (as
    the out-of-memory killer's SIGKILL leaves it) is reported as
    :class:`~wommsim.faults.WorkerLost`, naming the signal, instead of Python's
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


# -- provenance -----------------------------------------------------------------------------

def config_hash(cfg: Config, inputs: Sequence[str] = ()) -> str:
    """SHA-256 of the resolved configuration, for matching results to configs. ``jobs`` and
    ``overwrite`` (:data:`~wommsim.config.RUN_ONLY_KEYS`) are left out: they set how the
    results are computed and written, not what they are.

    The content of the files the run reads (:func:`input_digests`: its edge lists, and
    ``inputs``, e.g. calibration data) is part of it, so a changed file is a changed
    configuration; a configuration that reads no file hashes as it always did."""
    settings = asdict(cfg)
    for key in RUN_ONLY_KEYS:
        settings.pop(key)
    digests = input_digests(cfg, inputs)
    if digests:
        settings["input_files"] = digests
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def input_files(cfg: Config) -> list[str]:
    """The files a run of ``cfg`` reads: the edge list of an ``edgelist`` network, set in
    the configuration or by an experiment's arm overrides or grid (``network.path``)."""
    paths = [cfg.network.path] if cfg.network.kind == "edgelist" else []
    if cfg.experiment is not None:
        paths += [arm.overrides.get("network.path") for arm in cfg.experiment.arms]
        grid = cfg.experiment.grid.get("network.path")
        paths += grid if isinstance(grid, list) else [grid]
    return list(dict.fromkeys(str(p) for p in paths if p))


def input_digests(cfg: Config, inputs: Sequence[str] = ()) -> dict[str, str]:
    """``{path: SHA-256 of its content}`` of the files a run reads (:func:`input_files`,
    then ``inputs``); a path that is not a readable regular file maps to its problem."""
    paths = dict.fromkeys([*input_files(cfg), *(str(p) for p in inputs)])
    return {path: file_digest(path) for path in paths}


def file_digest(path: str) -> str:
    """SHA-256 of a regular file's content (remembered while the file's size and
    modification time stay the same), or why it cannot be read (e.g. ``no such file``)."""
    problem = input_file_problem(path)
    if problem:
        return problem
    st = os.stat(path)
    return _digest(os.path.abspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _digest(path: str, *identity: int) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as file:
            while chunk := file.read(1 << 24):
                digest.update(chunk)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return digest.hexdigest()


def git_commit() -> str | None:
    """The commit of the source tree wommsim runs from, if it is a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def remove(path: Path) -> None:
    """Delete a file, link or folder (with its contents); nothing if it is not there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write via ``write(tmp_path)`` to a temporary name, then rename into place."""
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        remove(tmp)


def write_together(outdir: Path, names: Sequence[str], write: Callable[[Path], object]
                   ) -> None:
    """Write result files via ``write(stage)`` into a staging folder
    ``outdir/.results.partial-PID``, then move ``names`` into ``outdir`` in that order (a
    rename each): a failed or interrupted write leaves ``outdir`` as it was, and a killed
    one only a folder marked partial (removed by the next write into ``outdir``)."""
    outdir.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(outdir)
    stage = outdir / f".results.partial-{os.getpid()}"
    stage.mkdir()
    try:
        write(stage)
        for name in names:
            os.replace(stage / name, outdir / name)
    finally:
        remove(stage)


def write_manifest(outdir: Path, cfg: Config, arms: list[Arm], completed: bool,
                   wall_time: float | None, populations: list[int] | None = None) -> None:
    """``manifest.json``: provenance, and whether the results are complete; ``populations``
    (each arm's consumers, as :func:`preflight` found them) default to ``consumers``."""
    import mesa
    import numpy as np

    manifest = {
        "package": "wommsim",
        "version": __version__,
        "git_commit": git_commit(),
        "config_hash": config_hash(cfg),
        "input_files": input_digests(cfg),
        "experiment": cfg.experiment.name if cfg.experiment else None,
        "arms": [arm.name for arm in arms],
        "consumers": dict(zip((arm.name for arm in arms),
                              populations or [arm.config.consumers for arm in arms],
                              strict=True)),
        "seed": cfg.seed,
        "replicates": cfg.replicates,
        "seeds": [[cfg.seed, r] for r in range(cfg.replicates)],
        "seed_rule": "every arm's replicate r draws from numpy SeedSequence([seed, r])",
        "wall_time_s": wall_time,
        "completed": completed,
        "files": list(RESULT_FILES) if completed else [],
        "checksums": result_checksums(outdir) if completed else {},
        "command": sys.argv,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mesa": mesa.__version__,
    }
    write_atomic(outdir / "manifest.json",
                 lambda p: p.write_text(json.dumps(manifest, indent=2) + "\n"))


def result_checksums(outdir: Path) -> dict[str, dict[str, object]]:
    """Size and SHA-256 of every result file in ``outdir`` (each figure by its path in
    ``figures/``), recorded in ``manifest.json`` so that a resumed sweep and the aggregate
    can tell whole results from damaged ones (:func:`damaged_files`)."""
    sums: dict[str, dict[str, object]] = {}
    for name in RESULT_FILES:
        path = outdir / name
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file():
                sums[file.relative_to(outdir).as_posix()] = {"bytes": file.stat().st_size,
                                                             "sha256": _sha256(file)}
    return sums


def damaged_files(outdir: Path, checksums: dict[str, dict[str, object]]) -> list[str]:
    """The files of ``checksums`` (:func:`result_checksums`) that are missing from ``outdir``
    or differ from their recorded size or SHA-256, each with what is wrong."""
    damaged = []
    for name, recorded in checksums.items():
        path = outdir / name
        try:
            size = path.stat().st_size
            if size != recorded.get("bytes"):
                damaged.append(f"{name} ({size} bytes, {recorded.get('bytes')} written)")
            elif _sha256(path) != recorded.get("sha256"):
                damaged.append(f"{name} (its content changed: SHA-256 differs)")
        except OSError as err:
            damaged.append(f"{name} ({err.strerror or err})")
    return damaged


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- resume ---------------------------------------------------------------------------------

NOT_BEGUN = ("no results yet: the job was stopped (or is still running) before it began "
             "simulating")


def results_state(outdir: Path, cfg: Config) -> tuple[str, str, dict | None]:
    """``(state, reason, manifest)`` of the results in ``outdir`` for ``cfg``: ``complete``
    (``completed: true``, the same :func:`config_hash`, every result file present and as
    its size and SHA-256 in the manifest say; reason empty), ``incomplete`` (no manifest,
    ``completed: false``, result files missing, or no checksums to verify them by: an
    older wommsim's manifest), ``stale`` (complete results of another configuration) or
    ``damaged`` (a result file truncated or changed since it was written)."""
    try:
        manifest = json.loads((outdir / "manifest.json").read_text())
    except FileNotFoundError:
        return "incomplete", NOT_BEGUN, None
    except (OSError, ValueError):
        return "incomplete", "manifest.json cannot be read", None
    if not isinstance(manifest, dict) or manifest.get("completed") is not True:
        return ("incomplete", "manifest.json says completed: false (the job was stopped or "
                "is still running)", None)
    absent = [name for name in RESULT_FILES if not (outdir / name).exists()]
    if absent:
        return "incomplete", "result files missing: " + ", ".join(absent), None
    if manifest.get("config_hash") != config_hash(cfg):
        return ("stale", "its results are of another configuration (config hash differs); "
                "running the sweep again redoes it", None)
    checksums = manifest.get("checksums")
    if not isinstance(checksums, dict) or not checksums or not all(
            isinstance(c, dict) for c in checksums.values()):
        return ("incomplete", "manifest.json records no checksums of the result files (an "
                "older wommsim wrote it), so they cannot be verified; running the sweep "
                "again redoes it", None)
    damaged = damaged_files(outdir, checksums)
    if damaged:
        return ("damaged", "result files damaged since they were written: "
                + ", ".join(damaged) + "; running the sweep again redoes it", None)
    return "complete", "", manifest


def completed_results(outdir: Path, cfg: Config) -> dict | None:
    """The manifest of ``outdir`` if it holds the complete results of exactly ``cfg``
    (:func:`results_state`), else None. A sweep re-run reuses such a directory instead of
    computing it again."""
    return results_state(outdir, cfg)[2]


def reuse_results(outdir: Path, cfg: Config) -> pd.DataFrame | None:
    """The per-step table of ``outdir`` if it holds the complete results of ``cfg``
    (logged, with a warning when other code computed them), else None."""
    done = completed_results(outdir, cfg)
    if done is None:
        return None
    log.info("%s already holds the complete results of this configuration (config hash "
             "%s...): skipped, not recomputed", outdir, done["config_hash"][:12])
    then, now = (done.get("version"), done.get("git_commit")), (__version__, git_commit())
    if then != now:
        log.warning("%s was computed by wommsim %s (commit %s); this is %s (commit %s). "
                    "Delete it, or use another hydra.sweep.dir, to recompute with this code",
                    outdir, *then, *now)
    return pd.read_parquet(outdir / "timeseries.parquet")


# -- the run --------------------------------------------------------------------------------

def arm_table(arms: list[Arm]) -> pd.DataFrame:
    """Descriptive columns per arm for the summary: strategy, shares, grid values."""
    rows = []
    for arm in arms:
        row: dict[str, object] = {"arm": arm.name, "strategy": arm.config.strategy.name}
        row.update({f"share_{lever}": getattr(arm.config.strategy, lever) for lever in LEVERS})
        row["phases"] = "; ".join(f"{p.name} from step {p.start}" for p in arm.config.phases)
        row.update(arm.params)
        rows.append(row)
    return pd.DataFrame(rows).set_index("arm")


def preflight(arms: list[Arm]) -> list[int]:
    """Refuse a run that will not fit in memory (:func:`wommsim.memory.check_memory`), and
    fail on a malformed edge list, before anything is written.

    A generated network's feasibility is part of config validation, so only an edge list
    (whose lines are checked by reading it) is read here; generated networks are built once,
    by the replicates. Returns each arm's population: ``consumers``, or for an edge list the
    file's."""
    configs = [arm.config for arm in arms]
    check_memory(configs, worker_count(configs[0].jobs, sum(c.replicates for c in configs)))
    read = {path: read_edgelist(path).n
            for path in sorted({c.network.path for c in configs if c.network.kind == "edgelist"})}
    return [read[c.network.path] if c.network.kind == "edgelist" else c.consumers
            for c in configs]


def as_run(cfg: Config, arms: list[Arm], populations: list[int]) -> Config:
    """``cfg`` with ``consumers`` the population its network holds (for an edge list, the
    file's, whatever ``consumers=`` says), for the report."""
    for arm, n in zip(arms, populations, strict=True):
        if (arm.config.network, arm.config.consumers) == (cfg.network, cfg.consumers):
            return dataclasses.replace(cfg, consumers=n)
    return cfg


def run(cfg: Config, outdir: Path, *, resume: bool = False) -> pd.DataFrame:
    """Validate, pre-flight the networks, simulate every arm x replicate, write results.

    ``manifest.json`` says ``completed: false`` while the run is under way and ``true`` once
    every result is in place; each result appears only whole (temporary name, then rename),
    so an interrupted run never leaves a file that looks complete. With ``resume``, an
    ``outdir`` that already holds the complete results of this configuration
    (:func:`completed_results`) is kept as it is and its per-step table returned.
    ``outdir`` is locked while the run writes there, and refused if another run holds it
    or it holds result files no wommsim run wrote (:mod:`wommsim.rundir`).
    """
    validate(cfg)
    if resume and (reused := reuse_results(outdir, cfg)) is not None:
        return reused
    arms = resolve_arms(cfg)
    populations = preflight(arms)
    with rundir.claimed(outdir, cfg.overwrite):
        return _run(cfg, arms, populations, outdir)


def _run(cfg: Config, arms: list[Arm], populations: list[int], outdir: Path) -> pd.DataFrame:
    started = time.perf_counter()
    write_manifest(outdir, cfg, arms, completed=False, wall_time=None,
                   populations=populations)

    tasks = [(arm.config, r) for arm in arms for r in range(cfg.replicates)]
    label = cfg.experiment.name if cfg.experiment else cfg.arm_name
    log.info("%s: %d arms x %d replicates on %d processes", label, len(arms), cfg.replicates,
             worker_count(cfg.jobs, len(tasks)))
    timeseries = pd.concat(simulate(tasks, cfg.jobs, progress_bar(len(tasks), label)),
                           ignore_index=True)
    write_results(outdir, as_run(cfg, arms, populations), arms, timeseries,
                  time.perf_counter() - started)
    write_manifest(outdir, cfg, arms, completed=True, wall_time=time.perf_counter() - started,
                   populations=populations)
    log.info("results written to %s", outdir)
    return timeseries


def write_results(outdir: Path, cfg: Config, arms: list[Arm], timeseries: pd.DataFrame,
                  wall_time: float) -> None:
    """Tables, figures and the report, all or none.

    They are written into a staging folder ``.results.partial-PID`` inside ``outdir`` and
    moved into place together at the end (a rename each), so that even a run killed while
    writing (SIGKILL, power loss) leaves no result outside a folder marked partial; a
    failure or an interrupt removes the staging folder.
    """
    remove_stale_partials(outdir)
    stage = outdir / f".results.partial-{os.getpid()}"
    stage.mkdir()
    try:
        _write_result_files(stage, cfg, arms, timeseries, wall_time)
        for name in RESULT_FILES:  # earlier results (a rerun) go first: never a mix
            remove(outdir / name)
        for name in RESULT_FILES:
            if (stage / name).exists():
                os.replace(stage / name, outdir / name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def remove_stale_partials(outdir: Path, pattern: str = ".*.partial-*") -> None:
    """Remove ``.NAME.partial-PID`` leftovers (or others matching ``pattern``, ending in
    ``-PID``) of killed runs (whose PID is gone)."""
    for path in outdir.glob(pattern):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            remove(path)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _write_result_files(outdir: Path, cfg: Config, arms: list[Arm], timeseries: pd.DataFrame,
                        wall_time: float) -> None:
    """Tables, figures and the report into ``outdir``, each written atomically."""
    from wommsim.plots import save_figures
    from wommsim.report import write_report

    outcomes = replicate_outcomes(timeseries, cfg.economics)
    summary = summarise(timeseries, outcomes, arm_table(arms))
    differences = paired_differences(outcomes, reference_arm(cfg, arms))
    grid_keys = list(cfg.experiment.grid) if cfg.experiment else []

    write_atomic(outdir / "timeseries.parquet", lambda p: timeseries.to_parquet(p, index=False))
    write_atomic(outdir / "timeseries.csv", lambda p: timeseries.to_csv(p, index=False))
    write_atomic(outdir / "outcomes.csv", lambda p: outcomes.to_csv(p, index=False))
    write_atomic(outdir / "summary.csv", lambda p: summary.to_csv(p, index=False))
    write_atomic(outdir / "differences.csv", lambda p: differences.to_csv(p, index=False))

    figures: list[Path] = []

    def draw(tmp: Path) -> None:
        tmp.mkdir()
        figures.extend(outdir / "figures" / f.name
                       for f in save_figures(timeseries, outcomes, summary, tmp, grid_keys))

    write_atomic(outdir / "figures", draw)
    write_report(outdir / "report.md", cfg, [a.name for a in arms], summary, differences,
                 figures, wall_time)  # written atomically by write_report itself
