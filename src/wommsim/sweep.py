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
  configuration is skipped (:func:`wommsim.runner.completed_results`); a job that fails is
  logged and recorded in its ``error.txt`` instead of stopping the other jobs;
- :class:`SweepCallback`: when the sweep ends, ``<sweep dir>/aggregate/``
  (:mod:`wommsim.aggregate`), and exit status 1 if any job failed or is missing.
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
    launcher, nor ``jobs``, which change how a sweep runs, not what it computes), so the
    same sweep gets the same directory on every machine and every launcher.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    task = [o for o in parsed if not o.is_hydra_override() and o.key_or_group != "jobs"]
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
    """What ``jobs=0`` (one process per core) means inside one job of a sweep.

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
    sweep's aggregate instead, and the other jobs go on.
    """
    from wommsim.compose import to_config
    from wommsim.config import ConfigError
    from wommsim.runner import run, write_atomic

    label = f"job {hydra_cfg.job.num} ({' '.join(hydra_cfg.overrides.task) or 'defaults'})"
    error_file = outdir / ERROR_FILE
    error_file.unlink(missing_ok=True)
    try:
        cfg = to_config(dictcfg)
        processes = job_processes(str(hydra_cfg.launcher._target_), os.environ)
        if cfg.jobs == 0 and processes is not None:
            cfg = dataclasses.replace(cfg, jobs=processes)
        run(cfg, outdir, resume=True)
        return 0
    except ConfigError as err:
        log.error("%s failed: %s", label, err)
        detail = f"error: {err}"
    except Exception as err:
        log.exception("%s failed", label)
        detail = f"{type(err).__name__}: {err}\n\n{traceback.format_exc()}"
    write_atomic(error_file, lambda p: p.write_text(detail + "\n"))
    return 1


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
    from wommsim.aggregate import aggregate

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


def finish_interrupted_sweep() -> bool:
    """Aggregate a sweep that ended abnormally (a job's process died, a launcher error), so
    what did finish is tabulated and the rest is listed in ``missing.csv``. True if a sweep
    was under way in this process."""
    sweep_dir = _active.sweep_dir
    if sweep_dir is None:
        return False
    if not any(sweep_dir.rglob(".hydra")):
        return True  # no job began (e.g. Hydra refused an override): nothing to aggregate
    log.error("the sweep stopped before its end; aggregating what finished in %s", sweep_dir)
    try:
        finish_sweep(sweep_dir, _active.started, _active.figures)
    except Exception:
        log.exception("could not aggregate %s; run python -m wommsim.aggregate %s",
                      sweep_dir, sweep_dir)
    return True
