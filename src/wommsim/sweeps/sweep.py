"""Sweeps (``python -m wommsim -m ...``): where a sweep writes, how each job runs, and what
happens when the sweep ends.

Hydra expands the sweep into jobs and its launcher runs them: one after another in this
process (the default, ``basic``), in parallel on this machine (``hydra/launcher=joblib`` or
the ``cores`` preset), or as a SLURM job array (``hydra/launcher=slurm``, or
``submitit_local`` for the same code path on this machine). This module adds:

- a deterministic sweep directory, ``multirun/<experiment or run>/<swept keys>-<hash>``
  (:func:`sweep_name`, the ``wommsim.sweep_name`` resolver in ``configs/config.yaml``), so
  that the same command finds its earlier results;
- :func:`run_job`: one job. A job whose directory already holds complete results of the same
  configuration is skipped (:func:`wommsim.runs.runner.completed_results`); a job that fails is
  logged and recorded in its ``error.txt`` instead of stopping the other jobs;
- :class:`SweepCallback`: when the sweep ends, ``<sweep dir>/aggregate/``
  (:mod:`wommsim.sweeps.aggregate`), and exit status 1 if any job failed or is missing;
- when a worker process dies mid-sweep, :func:`finish_broken_sweep` lists the jobs it lost
  and aggregates what finished; when the sweep's own process dies, the jobs of a local
  launcher die with it (:func:`die_with_sweep`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import sys
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)

RESOLVER = "wommsim.sweep_name"
ERROR_FILE = "error.txt"  # in a job's directory: why the job failed
SWEEP_PID = "WOMMSIM_SWEEP_PID"  # environment: the sweep's main process, for its jobs
#: Launchers whose jobs run in processes under the sweep's own on this machine (loky
#: workers; submitit's local controller and its job): those die with the sweep.
LOCAL_LAUNCHERS = ("JoblibLauncher", "LocalLauncher")
NAME_KEYS_CHARS = 60  # the swept keys in a sweep directory's name are cut to this length


# -- the sweep directory -------------------------------------------------------------------

def command_overrides(argv: Sequence[str]) -> list[str]:
    """The overrides of a ``python -m wommsim`` command line, as Hydra parses it."""
    from hydra._internal.utils import get_args_parser

    args, _ = get_args_parser().parse_known_args(list(argv))
    return list(args.overrides)


def sweep_name(overrides: Sequence[str]) -> str:
    """``<experiment or run>/<swept keys>-<hash>`` for a sweep command's ``overrides``.

    The hash covers the task overrides in their order (not ``hydra.*`` settings such as the
    launcher, nor ``jobs``, ``overwrite`` and ``figures.*``, which change how a sweep runs,
    not what it computes: :data:`~wommsim.config.RUN_ONLY_KEYS`), so the same sweep gets the same
    directory on every machine and every launcher.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from wommsim.config import RUN_ONLY_KEYS

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    task = [o for o in parsed
            if not o.is_hydra_override()
            and o.key_or_group.split(".", 1)[0] not in RUN_ONLY_KEYS]
    experiment = next((o for o in task if o.key_or_group == "experiment"
                       and not o.is_sweep_override() and isinstance(o.value(), str)), None)
    name = _path_safe(experiment.value()) if experiment else "run"
    swept = "-".join(dict.fromkeys(_path_safe(o.key_or_group.rsplit(".", 1)[-1])
                                   for o in task if o.is_sweep_override()))
    digest = hashlib.sha256(json.dumps([o.input_line for o in task]).encode()).hexdigest()[:8]
    return f"{name}/{swept[:NAME_KEYS_CHARS]}-{digest}" if swept else f"{name}/{digest}"


def _path_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=+-]+", "_", text).strip("._") or "_"


def register_resolver() -> None:
    """Register ``${wommsim.sweep_name:}`` (idempotent). It is computed once, from this
    process's command line, and cached in the sweep's config; Hydra copies that cache into
    every job's config, so jobs running elsewhere (joblib workers, submitit) agree."""
    if not OmegaConf.has_resolver(RESOLVER):
        OmegaConf.register_new_resolver(
            RESOLVER, lambda: sweep_name(command_overrides(sys.argv[1:])), use_cache=True)


# -- one job -------------------------------------------------------------------------------

def job_processes(launcher_target: str, environ: Mapping[str, str]) -> int | None:
    """What ``workers=0`` (one process per core) means inside one job of a sweep.

    None under the sequential ``basic`` launcher, which runs one job at a time: every core.
    Under a parallel launcher (joblib, submitit, ...) the launcher already runs a job per
    core, so a job gets the CPUs SLURM allotted it (``SLURM_CPUS_PER_TASK``) or else one
    process; results are identical whatever the number.
    """
    if launcher_target.rsplit(".", 1)[-1] == "BasicLauncher":
        return None
    cpus = environ.get("SLURM_CPUS_PER_TASK", "").strip()
    return int(cpus) if cpus.isdigit() and int(cpus) > 0 else 1


def run_job(dictcfg: DictConfig, outdir: Path, hydra_cfg: Any) -> int:
    """Run one sweep job into ``outdir``; 0 on success, 1 on failure.

    Never raises an ``Exception``: Hydra's launchers stop the whole sweep on a job's
    exception, so a failure is logged, written to ``outdir/error.txt`` and reported by the
    sweep's aggregate instead, and the other jobs go on. In a worker process of a local
    launcher, the job dies with the sweep (:func:`die_with_sweep`).
    """
    from wommsim.compose import to_config
    from wommsim.config import ConfigError
    from wommsim.runs.faults import WorkerLost
    from wommsim.runs.results import write_atomic
    from wommsim.runs.rundir import FolderInUse
    from wommsim.runs.runner import run

    launcher = str(hydra_cfg.launcher._target_)
    die_with_sweep(launcher, os.environ)
    label = f"job {hydra_cfg.job.num} ({' '.join(hydra_cfg.overrides.task) or 'defaults'})"
    error_file = outdir / ERROR_FILE
    error_file.unlink(missing_ok=True)
    try:
        cfg = to_config(dictcfg)
        processes = job_processes(launcher, os.environ)
        if cfg.workers == 0 and processes is not None:
            cfg = dataclasses.replace(cfg, workers=processes)
        run(cfg, outdir, resume=True)
        return 0
    except FolderInUse as err:  # another run is writing there: record nothing in its folder
        log.error("%s not run: %s", label, err)
        return 1
    except (ConfigError, WorkerLost) as err:
        log.error("%s failed: %s", label, err)
        detail = f"error: {err}"
    except Exception as err:
        log.exception("%s failed", label)
        detail = f"{type(err).__name__}: {err}\n\n{traceback.format_exc()}"
    write_atomic(error_file, lambda p: p.write_text(detail + "\n"))
    return 1


def die_with_sweep(launcher_target: str, environ: Mapping[str, str]) -> None:
    """In a worker process of a local launcher (:data:`LOCAL_LAUNCHERS`) on Linux, die when
    the sweep's main process (:data:`SWEEP_PID`) dies, or at once if it is gone already
    (:func:`wommsim.runs.runner.die_with`): a killed sweep leaves no orphan computing and writing
    job results. Jobs in the sweep's own process (``basic``) and SLURM jobs are left alone."""
    from wommsim.runs.parallel import die_with

    sweep_pid = environ.get(SWEEP_PID, "")
    if (launcher_target.rsplit(".", 1)[-1] in LOCAL_LAUNCHERS and sweep_pid.isdigit()
            and int(sweep_pid) != os.getpid() and sys.platform.startswith("linux")):
        die_with(int(sweep_pid))


# -- the end of a sweep --------------------------------------------------------------------

@dataclasses.dataclass
class _Active:
    """The sweep running in this process, if any (for :func:`finish_interrupted_sweep`)."""

    sweep_dir: Path | None = None
    started: float = 0.0
    figures: bool = True


_active = _Active()


class SweepCallback(Callback):
    """Configured in ``hydra.callbacks`` (``configs/config.yaml``): logs the sweep
    directory when a sweep starts; when it ends, writes ``<sweep dir>/aggregate/`` (with
    figures unless ``figures`` is false) and exits with status 1 if any job failed or is
    missing (after writing everything)."""

    def __init__(self, figures: bool = True) -> None:
        self.figures = figures

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _active.sweep_dir = Path(str(config.hydra.sweep.dir))
        _active.started = time.time()
        _active.figures = self.figures
        os.environ[SWEEP_PID] = str(os.getpid())  # inherited by the launcher's workers
        log.info("sweep directory: %s", _active.sweep_dir)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        failed = finish_sweep(Path(str(config.hydra.sweep.dir)), _active.started,
                              self.figures)
        if failed:
            raise SystemExit(1)  # an Exception would only be turned into a warning by Hydra


def finish_sweep(sweep_dir: Path, started: float = 0.0, figures: bool = True) -> int:
    """Aggregate ``sweep_dir``, log what was computed, reused and missing; the number of
    jobs without complete results. Jobs finished before ``started`` (POSIX time) were
    reused from an earlier run."""
    from wommsim.sweeps.aggregate import aggregate

    _active.sweep_dir = None
    result = aggregate(sweep_dir, figures=figures)
    reused = sum(job.finished is not None and job.finished < started for job in result.jobs)
    complete = sum(job.complete for job in result.jobs)
    log.info("sweep: %d job(s): %d complete (%d computed now, %d reused from an earlier "
             "run), %d missing", len(result.jobs), complete, complete - reused, reused,
             len(result.jobs) - complete)
    for line in result.describe():
        (log.error if line.startswith("missing") else log.info)("%s", line)
    return len(result.jobs) - complete


def finish_interrupted_sweep() -> None:
    """Aggregate a sweep that ended abnormally (a job's process died, a launcher error), so
    what did finish is tabulated and the rest is listed in ``missing.csv``; first remove
    the staging folders of jobs that died writing (no live run holds their folder)."""
    from wommsim.runs.rundir import remove_abandoned_partials

    sweep_dir = _active.sweep_dir
    job_dirs = [] if sweep_dir is None else [p.parent for p in sweep_dir.rglob(".hydra")]
    if not job_dirs:
        return  # no job began (e.g. Hydra refused an override): nothing to aggregate
    for job_dir in job_dirs:  # jobs the launcher killed (joblib's workers get SIGKILL)
        remove_abandoned_partials(job_dir)
    log.error("the sweep stopped before its end; aggregating what finished in %s", sweep_dir)
    try:
        finish_sweep(sweep_dir, _active.started, _active.figures)
    except Exception:
        log.exception("could not aggregate %s; run python -m wommsim.aggregate %s",
                      sweep_dir, sweep_dir)


def finish_broken_sweep(err: Exception) -> bool:
    """The launcher failed while a sweep was under way (a worker process died, as the
    out-of-memory killer's SIGKILL leaves it, or a submitit job ended without a result):
    mark every job this sweep began and did not finish as failed (``lost: ...`` in its
    ``error.txt``), aggregate what finished, and say so in one line. False if no sweep was
    under way (the error is then not the sweep's)."""
    from wommsim.runs.results import write_atomic

    sweep_dir = _active.sweep_dir
    if sweep_dir is None:
        return False
    reason = launcher_failure(err)
    lost = 0
    for job_dir in unfinished_jobs(sweep_dir, _active.started):
        write_atomic(job_dir / ERROR_FILE,
                     lambda p: p.write_text(f"lost: {reason}; the sweep stopped while this "
                                            "job ran\n"))
        lost += 1
    finish_interrupted_sweep()
    print(f"wommsim: error: the sweep stopped: {reason}; {lost} job(s) lost; what finished "
          f"is aggregated in {sweep_dir / 'aggregate'} and missing.csv lists the rest (run "
          "the same command again to redo them)", file=sys.stderr)
    return True


def launcher_failure(err: Exception) -> str:
    """One line for a launcher's error: for a dead worker process the signal that killed it
    (loky's ``TerminatedWorkerError`` lists the workers' exit codes, e.g.
    ``{SIGKILL(-9)}``), else the error's first line."""
    from concurrent.futures import BrokenExecutor

    from wommsim.runs.faults import first_line, lost_worker

    if isinstance(err, BrokenExecutor):
        return lost_worker(int(code) for code in re.findall(r"\((-\d+)\)", str(err)))
    return first_line(err)


def unfinished_jobs(sweep_dir: Path, started: float) -> list[Path]:
    """Directories of jobs that began at or after ``started`` (POSIX time: Hydra wrote
    their ``.hydra/config.yaml`` then) and have neither complete results nor an error."""
    from wommsim.sweeps.aggregate import find_jobs

    return [job.dir for job in find_jobs(sweep_dir)
            if job.status == "incomplete" and job.dir is not None
            and _mtime(job.dir / ".hydra" / "config.yaml") >= started]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
