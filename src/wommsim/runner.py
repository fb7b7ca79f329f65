"""Run every arm for every replicate, in parallel, and write the results atomically.

No Hydra in here: the entry point composes the config, this module runs it, so the runner
can be called from Python and tests with a :class:`~wommsim.config.Config`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from wommsim import __version__, rundir
from wommsim.analysis import paired_differences, replicate_outcomes, summarise
from wommsim.config import LEVERS, RUN_ONLY_KEYS, Config, validate
from wommsim.experiment import Arm, reference_arm, resolve_arms
from wommsim.memory import check_memory
from wommsim.model import WommModel
from wommsim.network import build_network
from wommsim.rng import Streams

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
    Ctrl+C is left to the main process (which stops the workers); and on Linux, die with
    the ``parent`` process, so a killed run leaves no orphan computing (also when it was
    killed while this worker was still starting)."""
    import signal

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            pr_set_pdeathsig = 1
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
        except OSError:
            pass
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)


def simulate(tasks: list[tuple[Config, int]], jobs: int,
             progress: Callable[[Iterator], Iterator] | None = None) -> list[pd.DataFrame]:
    """Run ``(config, replicate)`` tasks, in parallel when ``jobs`` allows; results come
    back in task order, so a parallel run gives exactly the tables of a serial one."""
    workers = worker_count(jobs, len(tasks))
    wrap = progress or (lambda it: it)
    if workers == 1:
        return list(wrap(map(run_task, tasks)))
    pool = process_pool(workers)
    try:
        return list(wrap(pool.map(run_task, tasks)))
    except BaseException:  # interrupted, or a task failed: no worker computes on
        stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def process_pool(workers: int) -> ProcessPoolExecutor:
    """``workers`` fresh (spawned) processes for :func:`run_task`, set up by
    :func:`_init_worker`; stop them with :func:`stop_workers` on an error or interrupt."""
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

def config_hash(cfg: Config) -> str:
    """SHA-256 of the resolved configuration, for matching results to configs. ``jobs`` and
    ``overwrite`` are left out: they set how the results are computed and written, not
    what they are."""
    settings = asdict(cfg)
    for key in RUN_ONLY_KEYS:
        settings.pop(key)
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


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


def write_manifest(outdir: Path, cfg: Config, arms: list[Arm], completed: bool,
                   wall_time: float | None) -> None:
    import mesa
    import numpy as np

    manifest = {
        "package": "wommsim",
        "version": __version__,
        "git_commit": git_commit(),
        "config_hash": config_hash(cfg),
        "experiment": cfg.experiment.name if cfg.experiment else None,
        "arms": [arm.name for arm in arms],
        "seed": cfg.seed,
        "replicates": cfg.replicates,
        "seeds": [[cfg.seed, r] for r in range(cfg.replicates)],
        "seed_rule": "every arm's replicate r draws from numpy SeedSequence([seed, r])",
        "wall_time_s": wall_time,
        "completed": completed,
        "files": list(RESULT_FILES) if completed else [],
        "command": sys.argv,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mesa": mesa.__version__,
    }
    write_atomic(outdir / "manifest.json",
                 lambda p: p.write_text(json.dumps(manifest, indent=2) + "\n"))


# -- resume ---------------------------------------------------------------------------------

NOT_BEGUN = ("no results yet: the job was stopped (or is still running) before it began "
             "simulating")


def results_state(outdir: Path, cfg: Config) -> tuple[str, str, dict | None]:
    """``(state, reason, manifest)`` of the results in ``outdir`` for ``cfg``: ``complete``
    (``completed: true``, the same :func:`config_hash`, every result file present; reason
    empty), ``incomplete`` (no manifest, ``completed: false`` or result files missing) or
    ``stale`` (complete results of another configuration)."""
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


def preflight(arms: list[Arm]) -> None:
    """Refuse a run that will not fit in memory (:func:`wommsim.memory.check_memory`), and
    fail on bad network input (e.g. a malformed edge list), before anything is written."""
    configs = [arm.config for arm in arms]
    check_memory(configs, worker_count(configs[0].jobs, sum(c.replicates for c in configs)))
    seen = set()
    for arm in arms:
        c = arm.config
        key = (repr(c.network), c.consumers, c.seed)
        if key not in seen:
            seen.add(key)
            build_network(c.network, c.consumers, Streams(c.seed, 0).network)


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
    preflight(arms)
    with rundir.claimed(outdir, cfg.overwrite):
        return _run(cfg, arms, outdir)


def _run(cfg: Config, arms: list[Arm], outdir: Path) -> pd.DataFrame:
    started = time.perf_counter()
    write_manifest(outdir, cfg, arms, completed=False, wall_time=None)

    tasks = [(arm.config, r) for arm in arms for r in range(cfg.replicates)]
    label = cfg.experiment.name if cfg.experiment else cfg.arm_name
    log.info("%s: %d arms x %d replicates on %d processes", label, len(arms), cfg.replicates,
             worker_count(cfg.jobs, len(tasks)))
    timeseries = pd.concat(simulate(tasks, cfg.jobs, progress_bar(len(tasks), label)),
                           ignore_index=True)
    write_results(outdir, cfg, arms, timeseries, time.perf_counter() - started)
    write_manifest(outdir, cfg, arms, completed=True, wall_time=time.perf_counter() - started)
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


def remove_stale_partials(outdir: Path) -> None:
    """Remove ``.NAME.partial-PID`` leftovers of killed runs (whose PID is gone)."""
    for path in outdir.glob(".*.partial-*"):
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
