"""``python -m wommsim.aggregate DIR``: one table, one time series and one set of figures for
a whole sweep (``python -m wommsim -m ...``).

A sweep writes each job into ``DIR/<job number>/`` with Hydra's record of the job in
``.hydra/``. This module finds every job the sweep was meant to run (by expanding the sweep's
overrides from ``DIR/multirun.yaml`` as Hydra's basic sweeper does), reads the results of the
complete ones and writes ``DIR/aggregate/``:

- ``runs.csv``: one row per job x arm: ``job``, the swept parameters (the overrides whose
  value differs between jobs), then the job's ``summary.csv`` columns (per-arm means and 95%
  intervals of every outcome, Bass fit), then ``job_dir`` (relative to DIR);
- ``outcomes.csv``: the same per job x arm x replicate (each job's ``outcomes.csv``);
- ``timeseries.parquet``: every job's per-step table with ``job`` and the swept parameters
  in front;
- ``missing.csv``: every job without complete results (``failed``: it raised an error or
  its worker process was lost, given in ``reason``; ``incomplete``: stopped or still
  running; ``stale``: its results are of another configuration; ``damaged``: a result file
  or the job's record cannot be read, or differs from the checksum in its manifest;
  ``not started``: no directory) — written even when empty;
- ``figures/``: each outcome against each swept parameter (:mod:`wommsim.sweeps.plots`).

Complete means what a re-run would reuse (:func:`wommsim.runs.runner.completed_results`): the
manifest says ``completed: true``, its config hash is that of the job's
``.hydra/config.yaml`` and every result file matches its recorded size and SHA-256. The
directory is rebuilt whole and replaces the previous one; the leftovers of an aggregate that
was killed (``.aggregate.old-PID``, ``.aggregate.partial-PID`` of a process that is gone)
are removed. Exit status: 0 when every job is complete, 1 when some are missing or the
aggregate cannot be written, 2 when DIR is not a sweep (or its ``multirun.yaml`` cannot be
read), 130/143 on SIGINT/SIGTERM (the previous aggregate stays as it was).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from wommsim.config import ConfigError, FiguresConfig
from wommsim.runs import faults
from wommsim.sweeps.sweep import ERROR_FILE

log = logging.getLogger(__name__)

OUTPUT = "aggregate"
#: What reading a damaged record (YAML) or result file (CSV, Parquet) raises: pandas' and
#: pyarrow's errors are ValueErrors or OSErrors, and so is undecodable text.
UNREADABLE = (OSError, ValueError, yaml.YAMLError, OmegaConfBaseException)
RUN_TABLE_COLUMNS = ("job",)  # before the swept parameters
MISSING_COLUMNS = ("status", "reason", "job_dir")  # after the swept parameters


@dataclass
class Job:
    """One job of a sweep: its number, overrides, directory and whether its results are
    complete (``status``: complete, failed, incomplete, stale or not started)."""

    num: int
    overrides: list[str]
    dir: Path | None
    status: str
    reason: str = ""
    finished: float | None = None  # when its manifest was written (POSIX time), if complete

    @property
    def complete(self) -> bool:
        return self.status == "complete"


@dataclass
class SweepAggregate:
    """What :func:`aggregate` found and wrote."""

    sweep_dir: Path
    jobs: list[Job]
    params: list[str]
    runs: pd.DataFrame
    missing: pd.DataFrame
    figures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def out_dir(self) -> Path:
        return self.sweep_dir / OUTPUT

    def describe(self) -> list[str]:
        """Human-readable lines: where the aggregate is, then one line per missing job."""
        arms = self.runs["arm"].nunique() if "arm" in self.runs else 0
        complete = sum(job.complete for job in self.jobs)
        lines = [f"aggregate of {_count(len(self.jobs), 'job')} ({complete} complete) in "
                 f"{self.out_dir}: runs.csv ({_count(len(self.runs), 'row')}: "
                 f"{_count(complete, 'job')} x {_count(arms, 'arm')}), outcomes.csv, "
                 f"timeseries.parquet, missing.csv ({_count(len(self.missing), 'job')}), "
                 f"{_count(len(self.figures), 'figure')}",
                 "swept parameters: " + (", ".join(self.params) or "none")]
        for job in self.jobs:
            if not job.complete:
                where = f" [{job.dir}]" if job.dir else ""
                lines.append(f"missing: job {job.num} ({' '.join(job.overrides) or 'defaults'})"
                             f": {job.status}: {job.reason}{where}")
        return lines + self.notes


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# -- finding the jobs ------------------------------------------------------------------------

def expected_jobs(sweep_dir: Path) -> list[list[str]] | None:
    """The override list of every job of the sweep, in job-number order, expanded from
    ``multirun.yaml`` as Hydra's basic sweeper expands it; None if that cannot be known (no
    ``multirun.yaml``, or another sweeper)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    path = sweep_dir / "multirun.yaml"
    if not path.is_file():
        return None
    try:  # a damaged record would list the wrong jobs: refuse it rather than guess
        hydra = OmegaConf.load(path).hydra
        if str(hydra.sweeper.get("_target_", "")).rsplit(".", 1)[-1] != "BasicSweeper":
            return None
        params = [f"{key}={value}"
                  for key, value in (hydra.sweeper.get("params") or {}).items()]
        parsed = OverridesParser.create().parse_overrides([*params, *hydra.overrides.task])
        return [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]
    except Exception as err:  # YAML, OmegaConf and Hydra's override errors alike
        raise ConfigError(f"{path}: cannot be read as Hydra's record of the sweep "
                          f"({faults.first_line(err)})") from err


def _job_dirs(sweep_dir: Path) -> list[tuple[list[str] | None, Path]]:
    """Every job directory under ``sweep_dir`` (it holds ``.hydra/overrides.yaml``) with its
    overrides (None if that file cannot be read)."""
    found: list[tuple[list[str] | None, Path]] = []
    for path in sorted(sweep_dir.rglob("overrides.yaml")):
        job_dir = path.parent.parent
        if path.parent.name != ".hydra" or job_dir == sweep_dir:
            continue
        if any(part in (OUTPUT, ".submitit") for part in job_dir.relative_to(sweep_dir).parts):
            continue
        try:
            found.append(([str(o) for o in OmegaConf.load(path)], job_dir))
        except (*UNREADABLE, TypeError) as err:  # TypeError: not a list
            log.warning("%s: cannot be read (%s)", path, faults.first_line(err))
            found.append((None, job_dir))
    return found


def _job_number(job_dir: Path, default: int) -> int:
    try:
        return int(OmegaConf.load(job_dir / ".hydra" / "hydra.yaml").hydra.job.num)
    except Exception:  # an unreadable record: number by position instead
        return default


def job_status(job_dir: Path) -> tuple[str, str, float | None]:
    """``(status, reason, finished)`` of the job in ``job_dir``: ``failed`` (its
    ``error.txt``, or a configuration that no longer validates), else the state of its
    results (:func:`wommsim.runs.runner.results_state`)."""
    from wommsim.compose import to_config
    from wommsim.runs.results import NOT_BEGUN, results_state

    manifest_path = job_dir / "manifest.json"
    if not manifest_path.is_file():  # no need to read its configuration
        return _failure(job_dir) or ("incomplete", NOT_BEGUN, None)
    try:
        cfg = to_config(OmegaConf.load(job_dir / ".hydra" / "config.yaml"))
    except ConfigError as err:
        return _failure(job_dir) or ("failed", f"error: {err}", None)
    except UNREADABLE as err:
        return "damaged", f".hydra/config.yaml cannot be read ({faults.first_line(err)})", None
    state, reason, _ = results_state(job_dir, cfg)
    if state == "complete":  # a job that completed after it was marked lost
        return state, reason, manifest_path.stat().st_mtime
    return _failure(job_dir) or (state, reason, None)


def _failure(job_dir: Path) -> tuple[str, str, None] | None:
    """``("failed", first line of error.txt, None)`` if the job recorded a failure."""
    try:
        lines = (job_dir / ERROR_FILE).read_text(errors="replace").strip().splitlines()
    except FileNotFoundError:
        return None
    except OSError as err:
        lines = [f"{ERROR_FILE} cannot be read ({err.strerror or err})"]
    return "failed", (lines[0] if lines else "failed (no message)"), None


def find_jobs(sweep_dir: Path) -> list[Job]:
    """Every job of the sweep in ``sweep_dir``, with its status; jobs that were expected but
    have no directory are ``not started``."""
    dirs = _job_dirs(sweep_dir)
    by_overrides: dict[tuple[str, ...], list[Path]] = {}
    unreadable = {d.name: d for o, d in dirs if o is None}
    for overrides, job_dir in dirs:
        if overrides is not None:
            by_overrides.setdefault(tuple(sorted(overrides)), []).append(job_dir)
    expected = expected_jobs(sweep_dir)
    if expected is None:
        expected_list = [(_job_number(d, i), o or []) for i, (o, d) in enumerate(dirs)]
    else:
        expected_list = list(enumerate(expected))
    jobs = []
    for num, overrides in sorted(expected_list, key=lambda item: item[0]):
        candidates = by_overrides.get(tuple(sorted(overrides)), [])
        if not candidates and str(num) in unreadable:  # Hydra's default subdir: the number
            jobs.append(Job(num, list(overrides), unreadable[str(num)], "damaged",
                            ".hydra/overrides.yaml cannot be read"))
            continue
        if not candidates:
            jobs.append(Job(num, list(overrides), None, "not started",
                            "no job directory: the sweep stopped before this job began"))
            continue
        found = [Job(num, list(overrides), d, *job_status(d)) for d in candidates]
        # Several directories for one job (e.g. after changing hydra.sweep.subdir): the
        # newest complete one, else the first.
        complete = [job for job in found if job.complete]
        jobs.append(max(complete, key=lambda job: job.finished) if complete else found[0])
    return jobs


# -- swept parameters ------------------------------------------------------------------------

def parameter_table(jobs: Sequence[Job]) -> pd.DataFrame:
    """One row per job (index ``job``), one column per swept parameter: the overrides whose
    value differs between jobs, typed as Hydra parses them (numbers stay numbers)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    rows: dict[int, dict[str, object]] = {}
    for job in jobs:
        row: dict[str, object] = {}
        for override in parser.parse_overrides(job.overrides):
            key = override.key_or_group + (f"@{override.package}" if override.package else "")
            value = override.value()
            row[key] = value if isinstance(value, (str, int, float, bool)) else json.dumps(value)
        rows[job.num] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "job"
    swept = [c for c in table.columns if table[c].astype(str).nunique(dropna=False) > 1]
    table = table[swept].infer_objects()
    for column in swept:  # mixed types (1 and "abc") would not fit one Parquet column
        if table[column].dtype == object:
            table[column] = table[column].astype(str)
    return table


def _with_params(frame: pd.DataFrame, num: int, params: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``job`` and the job's swept-parameter values as its first columns (a
    parameter the frame already has, e.g. a grid key, keeps the frame's per-arm values)."""
    front = {"job": num}
    front.update({k: params.at[num, k] for k in params.columns if k not in frame.columns})
    head = pd.DataFrame({k: [v] * len(frame) for k, v in front.items()}, index=frame.index)
    for key in params.columns:
        if key in head:
            head[key] = head[key].astype(params[key].dtype)
    return pd.concat([head, frame], axis=1)


# -- writing the aggregate -------------------------------------------------------------------

def _figure_output(jobs: Sequence[Job]) -> FiguresConfig:
    """The sweep's figure settings (``figures.*``, the same for every job: they are not
    swept), from the first complete job's configuration; the defaults without one."""
    from wommsim.compose import to_config

    for job in jobs:
        if job.complete and job.dir is not None:
            try:
                return to_config(OmegaConf.load(job.dir / ".hydra" / "config.yaml")).figures
            except (ConfigError, *UNREADABLE):
                continue
    return FiguresConfig()


def aggregate(sweep_dir: Path | str, figures: bool = True) -> SweepAggregate:
    """Find the jobs of the sweep in ``sweep_dir`` and (re)write ``sweep_dir/aggregate/``."""
    from wommsim.runs.results import write_atomic
    from wommsim.sweeps.plots import save_sweep_figures

    sweep_dir = Path(sweep_dir)
    jobs = find_jobs(sweep_dir)
    if not jobs:
        raise ConfigError(f"{sweep_dir}: not a sweep directory (no multirun.yaml and no job "
                          "directories with .hydra/overrides.yaml)")
    params = parameter_table(jobs)
    runs, outcomes, series = [], [], []
    for job in jobs:
        if job.complete:
            assert job.dir is not None
            try:  # the checksums passed, but a file can still be of an unreadable kind
                tables = (pd.read_csv(job.dir / "summary.csv"),
                          pd.read_csv(job.dir / "outcomes.csv"),
                          pd.read_parquet(job.dir / "timeseries.parquet"))
            except UNREADABLE as err:
                job.status, job.finished = "damaged", None
                job.reason = f"its results cannot be read ({faults.first_line(err)})"
                continue
            where = job.dir.relative_to(sweep_dir).as_posix()
            runs.append(_with_params(tables[0], job.num, params).assign(job_dir=where))
            outcomes.append(_with_params(tables[1], job.num, params))
            series.append(_with_params(tables[2], job.num, params))
    empty = pd.DataFrame(columns=[*RUN_TABLE_COLUMNS, *params.columns])
    run_table = pd.concat(runs, ignore_index=True) if runs else empty
    outcome_table = pd.concat(outcomes, ignore_index=True) if outcomes else empty
    series_table = pd.concat(series, ignore_index=True) if series else empty
    missing = pd.DataFrame([
        {"job": job.num, **params.loc[job.num].to_dict(), "status": job.status,
         "reason": job.reason,
         "job_dir": job.dir.relative_to(sweep_dir).as_posix() if job.dir else ""}
        for job in jobs if not job.complete],
        columns=["job", *params.columns, *MISSING_COLUMNS])

    result = SweepAggregate(sweep_dir, jobs, list(params.columns), run_table, missing)
    out = sweep_dir / OUTPUT

    def build(tmp: Path) -> None:
        tmp.mkdir()
        run_table.to_csv(tmp / "runs.csv", index=False)
        outcome_table.to_csv(tmp / "outcomes.csv", index=False)
        series_table.to_parquet(tmp / "timeseries.parquet", index=False)
        missing.to_csv(tmp / "missing.csv", index=False)
        if figures:
            paths, notes = save_sweep_figures(run_table, params, tmp / "figures",
                                              _figure_output(jobs))
            result.figures = [out / "figures" / p.name for p in paths]
            result.notes.extend(notes)

    remove_stale_aggregates(sweep_dir)
    old = sweep_dir / f".{OUTPUT}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)  # the previous aggregate stays until the new one is whole
    try:
        write_atomic(out, build)
    except BaseException:
        if old.exists() and not out.exists():
            old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return result


def remove_stale_aggregates(sweep_dir: Path) -> None:
    """Remove what aggregates killed while writing left: the previous aggregate moved aside
    (``.aggregate.old-PID``) and the new one half-written (``.aggregate.partial-PID``),
    when process PID is gone (one still running is left alone)."""
    from wommsim.runs.results import remove_stale_partials

    remove_stale_partials(sweep_dir, f".{OUTPUT}.old-*")
    remove_stale_partials(sweep_dir, f".{OUTPUT}.partial-*")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m wommsim.aggregate",
        description="Rebuild DIR/aggregate/ for a sweep directory DIR (multirun/...): "
                    "runs.csv, outcomes.csv, timeseries.parquet, missing.csv, figures/.")
    parser.add_argument("sweep_dir", metavar="DIR", type=Path, help="the sweep directory")
    parser.add_argument("--no-figures", action="store_true", help="tables only")
    parser.add_argument("settings", nargs="*", metavar="figures=false",
                        help="figures=false is --no-figures, with the name the sweep's "
                             "callback uses (hydra.callbacks.sweep.figures)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    figures = not args.no_figures
    for setting in args.settings:
        key, _, value = setting.partition("=")
        if key != "figures" or value not in ("true", "false"):
            print(f"wommsim.aggregate: error: {setting!r}: expected figures=true or "
                  "figures=false", file=sys.stderr)
            return 2
        figures = figures and value == "true"
    if not args.sweep_dir.is_dir():
        print(f"wommsim.aggregate: error: {args.sweep_dir}: no such directory", file=sys.stderr)
        return 2
    try:
        result = aggregate(args.sweep_dir, figures=figures)
    except ConfigError as err:
        print(f"wommsim.aggregate: error: {err}", file=sys.stderr)
        return 2
    except faults.FAULTS as err:
        return faults.report("wommsim.aggregate", err,
                             f"{args.sweep_dir / OUTPUT} is as it was")
    for line in result.describe():
        print(line)
    return 1 if len(result.missing) else 0
