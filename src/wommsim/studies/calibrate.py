"""``python -m wommsim.calibrate``: fit model parameters to an observed adoption curve.

    python -m wommsim.calibrate data=experiments/calibration/bass_example.csv \\
        'fit=[decision.p:0.001:0.1,decision.q:0.05:1]' \\
        decision=bass network=complete strategy=none consumer.initial_adopted_fraction=0 \\
        wom.enabled=false consumers=2000 replicates=10

A Hydra app (primary config ``configs/calibrate.yaml``): overrides, presets, ``-m``
(one calibration per job), ``--cfg job`` and ``hydra.run.dir=DIR`` work as for
``python -m wommsim``. The data are a CSV with a header and the columns ``step`` (integer, 0 to
:data:`MAX_DATA_STEP` = 10,000, each once) and ``adopted_fraction`` (share of consumers in
[0, 1]); other columns are ignored, blank lines
and lines starting with ``#`` skipped. ``fit=`` lists the parameters to fit as
``key:lo:hi`` in brackets, ``fit=[a:0:1,b:0:1]`` (one parameter needs none; without ``-m``,
``fit=a:0:1,b:0:1`` is refused: with it, it is a sweep of two one-parameter fits).
``scan`` (default 32) and ``budget`` (default 200) are explained below. Every other
``key=value`` is an override of the model config, as for ``python -m wommsim``; ``steps``
defaults to the last observed step.

**Objective.** The root mean squared error between the observed fraction and the model's
mean adopted fraction over ``replicates`` replicates, at the observed steps. Every
evaluation runs replicates ``0 .. R-1`` on the same seeds (common random numbers), so the
objective changes with the parameters only, not with the draws; it is still a step function
of them at the scale of one consumer's decision (about ``1 / (consumers × replicates)``).

**Optimiser** (scipy). In the unit box of the fitted parameters (each range mapped onto
[0, 1]): (1) a global scan of ``scan`` points of a scrambled Sobol sequence (seeded with the
config's ``seed``; ``scipy.stats.qmc.Sobol``), evaluated as one parallel batch; (2) a
Nelder–Mead polish (``scipy.optimize.minimize``, bounded to the box) from the best scan
point with an initial simplex of 0.1 per side, stopping when the simplex is smaller than
``xatol`` = 0.001 of each range (on a step function the values at the vertices never agree
to a tolerance, so their spread is no criterion); then restarted with a fresh simplex from
its optimum until a restart improves on nothing (a simplex pressed against a bound
collapses and stagnates; restarting is the remedy of Kelley 1999, SIAM J. Optim. 10:43),
all within a total of ``budget`` evaluations. Nelder–Mead needs no gradients, which a
step-function objective does not have, and costs a few dozen evaluations for two or three
parameters; the scan starts it in the right basin. Repeated points are not run again.

Results go to the run folder (``hydra.run.dir=DIR``, default
``outputs/calibrate/DATE/TIME.MICROSECONDS-PID``; in a sweep one numbered folder per job
under ``multirun/calibrate/``): ``fit.csv`` (observed
and simulated adoption by step, with the simulated 95% interval over replicates),
``evaluations.csv`` (every evaluation: its values and RMSE), ``fit.png`` (observed vs
simulated; the RMSE of each evaluation) and, last, ``fit.json`` (the fitted values, RMSE,
evaluations, optimiser settings and the configuration). They are written together (a
staging folder, then renamed into place), so an interrupted run leaves the folder as it
was (and removes it if it made it). Bad input (the CSV, ``fit=``, any override or unknown
key) ends with a message naming the file and line or the key and value, and exit status 2;
a folder that cannot be written is refused before the search (exit status 1), and Ctrl+C
or SIGTERM stops it (exit status 130 or 143), each with one line.
"""

from __future__ import annotations

import csv
import logging
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import pandas as pd
from scipy import optimize, stats

from wommsim.compose import configs_dir
from wommsim.config import Config, ConfigError, check_input_file, register
from wommsim.reporting.analysis import mean_ci
from wommsim.runs import faults
from wommsim.runs.results import write_atomic, write_together
from wommsim.studies.paramspace import (
    ParamRange,
    Simulator,
    at_point,
    model_config,
    number,
    parse_ranges,
    provenance,
    run_tool,
    tool_job,
    tool_schema,
    write_json,
)

log = logging.getLogger(__name__)

TOOL = "wommsim.calibrate"
TOOL_KEYS = ("data", "fit", "scan", "budget")
#: Optimiser defaults: Sobol scan points, total evaluations, Nelder–Mead simplex size at which
#: to stop and initial simplex side (both in the unit box).
SCAN, BUDGET, XATOL, SIMPLEX = 32, 200, 1e-3, 0.1
COLUMNS = ("step", "adopted_fraction")
#: Last step an observation may have: every evaluation simulates up to it ``replicates``
#: times, and a curve of more steps (200 years of weeks) is better aggregated first.
MAX_DATA_STEP = 10_000


# -- the data -------------------------------------------------------------------------------

def read_observed(path: str | Path) -> pd.DataFrame:
    """The observed curve: ``step`` (int) and ``adopted_fraction``, sorted by step.

    Raises :class:`ConfigError` naming the file (and line) for a missing or unreadable file,
    missing columns, a non-numeric or non-integer step, a negative or repeated step, a step
    beyond :data:`MAX_DATA_STEP`, a fraction outside [0, 1], or fewer than three
    observations."""
    path = Path(path)
    check_input_file("data", path)
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = [(n, cells) for n, cells in enumerate(csv.reader(fh), start=1)
                    if cells and any(c.strip() for c in cells)
                    and not cells[0].lstrip().startswith("#")]
    except (UnicodeDecodeError, csv.Error) as err:
        raise ConfigError(f"{path}: not a readable CSV file ({err})") from err
    if not rows:
        raise ConfigError(f"{path}: empty; expected a header line 'step,adopted_fraction'")
    header_line, header = rows[0]
    names = [c.strip() for c in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise ConfigError(f"{path}, line {header_line}: missing column(s) {', '.join(missing)} "
                          f"(found {', '.join(names) or 'none'}; expected a header "
                          "'step,adopted_fraction')")
    col = {c: names.index(c) for c in COLUMNS}
    steps: dict[int, int] = {}
    data: list[tuple[int, float]] = []
    for line, cells in rows[1:]:
        if len(cells) != len(names):
            raise ConfigError(f"{path}, line {line}: {len(cells)} fields, the header has "
                              f"{len(names)}")
        step = _cell(path, line, "step", cells[col["step"]])
        fraction = _cell(path, line, "adopted_fraction", cells[col["adopted_fraction"]])
        if step != int(step) or step < 0:
            raise ConfigError(f"{path}, line {line}: step={cells[col['step']].strip()}: must "
                              "be a whole number >= 0")
        if step > MAX_DATA_STEP:
            raise ConfigError(f"{path}, line {line}: step={cells[col['step']].strip()}: beyond "
                              f"step {MAX_DATA_STEP:,}, the last a calibration simulates; "
                              "aggregate the data into longer steps (e.g. weeks, not days)")
        if not 0.0 <= fraction <= 1.0:
            raise ConfigError(f"{path}, line {line}: adopted_fraction="
                              f"{cells[col['adopted_fraction']].strip()}: must be between 0 "
                              "and 1 (a share of consumers)")
        if int(step) in steps:
            raise ConfigError(f"{path}, line {line}: step {int(step)} repeats line "
                              f"{steps[int(step)]}")
        steps[int(step)] = line
        data.append((int(step), fraction))
    if len(data) < 3:
        raise ConfigError(f"{path}: {len(data)} observation(s); at least 3 are needed")
    frame = pd.DataFrame(data, columns=list(COLUMNS)).sort_values("step", ignore_index=True)
    return frame


def _cell(path: Path, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{path}, line {line}: {column}={text.strip()!r}: not a number"
                          ) from None
    if not math.isfinite(value):
        raise ConfigError(f"{path}, line {line}: {column}={text.strip()}: not a finite number")
    return value


# -- the fit --------------------------------------------------------------------------------

@dataclass
class Fit:
    """The outcome of :func:`calibrate`."""

    ranges: list[ParamRange]
    values: dict[str, float]
    rmse: float
    evaluations: pd.DataFrame  # one row per evaluation: index, stage, values, rmse
    curve: pd.DataFrame  # step, observed, simulated mean, lo, hi, residual
    config: Config
    optimiser: dict[str, Any] = field(default_factory=dict)


class Objective:
    """RMSE of the mean simulated curve against the observed one, memoised by point."""

    def __init__(self, base: Config, ranges: list[ParamRange], observed: pd.DataFrame,
                 sim: Simulator) -> None:
        self.base, self.ranges, self.sim = base, ranges, sim
        self.steps = observed["step"].to_numpy()
        self.observed = observed["adopted_fraction"].to_numpy(dtype=float)
        self.cache: dict[tuple[float, ...], float] = {}
        self.rows: list[dict[str, Any]] = []

    def values(self, unit: np.ndarray) -> list[float]:
        return [float(r.scale(u)) for r, u in zip(self.ranges, np.clip(unit, 0, 1), strict=True)]

    def curves(self, configs: Sequence[Config]) -> list[np.ndarray]:
        """Per config, the replicates' adopted fraction at every step (replicates x steps)."""
        runs = self.sim.run(configs, self.base.replicates)
        return [np.stack([f["adopted_fraction"].to_numpy() for f in frames]) for frames in runs]

    def batch(self, units: Sequence[np.ndarray], stage: str) -> list[float]:
        """Evaluate several points at once (one parallel batch); returns their RMSEs."""
        points = [tuple(self.values(u)) for u in units]
        new = list(dict.fromkeys(p for p in points if p not in self.cache))
        configs = [at_point(self.base, self.ranges, p) for p in new]
        for point, curves in zip(new, self.curves(configs), strict=True):
            rmse = float(np.sqrt(np.mean((curves.mean(axis=0)[self.steps] - self.observed) ** 2)))
            self.cache[point] = rmse
            self.rows.append({"evaluation": len(self.rows) + 1, "stage": stage,
                              **dict(zip((r.key for r in self.ranges), point, strict=True)),
                              "rmse": rmse})
            best = min(self.cache.values())
            log.info("evaluation %d (%s): %s -> RMSE %.5f (best %.5f)", len(self.rows), stage,
                     ", ".join(f"{r.key}={v:.5g}" for r, v in zip(self.ranges, point,
                                                                   strict=True)), rmse, best)
        return [self.cache[p] for p in points]

    def __call__(self, unit: np.ndarray) -> float:
        return self.batch([unit], "nelder-mead")[0]


class _BudgetSpent(Exception):
    pass


def calibrate(base: Config, ranges: list[ParamRange], observed: pd.DataFrame,
              scan: int = SCAN, budget: int = BUDGET) -> Fit:
    """Fit ``ranges`` of ``base`` to ``observed`` (see the module docstring for the
    objective and the optimiser); ``base.replicates`` replicates per evaluation, ``base.workers``
    processes."""
    last = int(observed["step"].iloc[-1])
    if last > base.steps:
        raise ConfigError(f"steps={base.steps}: the data go to step {last}; simulate at least "
                          "that many steps")
    if len(observed) <= len(ranges):
        raise ConfigError(f"{len(observed)} observations cannot identify {len(ranges)} "
                          "parameters; give more observations than fitted parameters")
    if scan >= budget:
        raise ConfigError(f"scan={scan}, budget={budget}: the budget of evaluations must "
                          "exceed the scan")
    for corner in ("lo", "hi"):  # fail on a bad corner before any run (e.g. shares over 1)
        at_point(base, ranges, [getattr(r, corner) for r in ranges])
    with Simulator(base.workers, max(scan, 1) * base.replicates) as sim:
        objective = Objective(base, ranges, observed, sim)
        sobol = stats.qmc.Sobol(len(ranges), scramble=True, seed=base.seed)
        with warnings.catch_warnings():  # a scan size that is not a power of 2 is allowed
            warnings.simplefilter("ignore", UserWarning)
            units = list(sobol.random(scan))
        scores = objective.batch(units, "scan")
        start = units[int(np.argmin(scores))]

        def limited(unit: np.ndarray) -> float:
            if len(objective.rows) >= budget and tuple(objective.values(unit)) \
                    not in objective.cache:
                raise _BudgetSpent
            return objective(unit)

        runs, message, converged = 0, "", False
        try:
            while True:  # restart from each new optimum until a restart finds nothing better
                before = objective(start)
                result = optimize.minimize(
                    limited, start, method="Nelder-Mead", bounds=[(0.0, 1.0)] * len(ranges),
                    options={"initial_simplex": _simplex(start), "xatol": XATOL,
                             "fatol": np.inf, "maxfev": 100 * budget})
                runs += 1
                message, converged = str(result.message), bool(result.success)
                if result.fun >= before:
                    break
                start = np.clip(result.x, 0.0, 1.0)
        except _BudgetSpent:
            message, converged = f"stopped at the budget of {budget} evaluations", False
        best = min(objective.cache, key=objective.cache.get)
        fitted = at_point(base, ranges, best)
        curves = objective.curves([fitted])[0]
    values = dict(zip((r.key for r in ranges), best, strict=True))
    log.info("fitted %s: RMSE %.5f after %d evaluations (%s)",
             ", ".join(f"{k}={v:.5g}" for k, v in values.items()), objective.cache[best],
             len(objective.rows), message)
    return Fit(ranges=ranges, values=values, rmse=objective.cache[best],
               evaluations=pd.DataFrame(objective.rows), curve=_curve(curves, observed),
               config=fitted,
               optimiser={"method": "Sobol scan, then bounded Nelder-Mead restarted from "
                                    "each optimum (scipy)",
                          "scan": scan, "nelder_mead_runs": runs, "budget": budget,
                          "xatol": XATOL,
                          "initial_simplex_side": SIMPLEX, "converged": converged,
                          "message": message})


def _simplex(start: np.ndarray) -> np.ndarray:
    """A fresh initial simplex: ``start`` and one step of :data:`SIMPLEX` along each axis,
    turned inward where it would leave the unit box."""
    steps = [np.where(start + SIMPLEX * e <= 1.0, start + SIMPLEX * e, start - SIMPLEX * e)
             for e in np.eye(start.size)]
    return np.array([start, *steps])


def _curve(curves: np.ndarray, observed: pd.DataFrame) -> pd.DataFrame:
    """Step by step: observed share (NaN where not observed), simulated mean and its 95%
    interval over replicates, and the residual (observed - simulated)."""
    obs = observed.set_index("step")["adopted_fraction"]
    rows = []
    for step in range(curves.shape[1]):
        mean, lo, hi = mean_ci(curves[:, step])
        seen = float(obs.get(step, np.nan))
        rows.append({"step": step, "observed": seen, "simulated": mean, "simulated_lo": lo,
                     "simulated_hi": hi, "residual": seen - mean})
    return pd.DataFrame(rows)


# -- output ---------------------------------------------------------------------------------

def save_figure(fit: Fit, path: Path) -> Path:
    """Observed vs simulated adoption (left) and the RMSE of each evaluation (right)."""
    from wommsim.reporting.figures import figure, save

    fig, (ax, trace) = figure(figsize=(11, 4.5), ncols=2, width_ratios=[3, 2])
    c = fit.curve
    ax.fill_between(c["step"], 100 * c["simulated_lo"], 100 * c["simulated_hi"],
                    color="tab:blue", alpha=0.2, linewidth=0)
    ax.plot(c["step"], 100 * c["simulated"], color="tab:blue",
            label=f"simulated, mean of {fit.config.replicates} replicates (95% interval)")
    seen = c.dropna(subset=["observed"])
    ax.plot(seen["step"], 100 * seen["observed"], "o", color="black", markersize=4,
            label="observed")
    fitted = ", ".join(f"{k} = {v:.4g}" for k, v in fit.values.items())
    ax.set(xlabel="step", ylabel="adopted (% of consumers)",
           title=f"Fit: {fitted}\nRMSE {100 * fit.rmse:.3f} percentage points")
    ax.title.set_fontsize("medium")
    ax.legend(fontsize="small", frameon=False)
    ev = fit.evaluations
    for stage, marker in (("scan", "s"), ("nelder-mead", "o")):
        part = ev[ev["stage"] == stage]
        trace.plot(part["evaluation"], 100 * part["rmse"], marker, markersize=3,
                   linestyle="none", label=stage)
    trace.plot(ev["evaluation"], 100 * ev["rmse"].cummin(), color="black", linewidth=1,
               label="best so far")
    trace.set(xlabel="evaluation", ylabel="RMSE (percentage points)", yscale="log",
              title="Objective by evaluation")
    trace.title.set_fontsize("medium")
    trace.legend(fontsize="small", frameon=False)
    return save(fig, path)


RESULT_FILES = ("fit.csv", "evaluations.csv", "fit.png", "fit.json")


def write_fit(fit: Fit, outdir: Path, data: Path, argv: Sequence[str], wall_time: float
              ) -> None:
    """``fit.csv``, ``evaluations.csv``, ``fit.png``, then ``fit.json``: all or none
    (:func:`wommsim.runs.runner.write_together`)."""
    write_together(outdir, RESULT_FILES, lambda stage: _write_fit_files(
        fit, stage, data, argv, wall_time))


def _write_fit_files(fit: Fit, outdir: Path, data: Path, argv: Sequence[str],
                     wall_time: float) -> None:
    write_atomic(outdir / "fit.csv", lambda p: fit.curve.to_csv(p, index=False))
    write_atomic(outdir / "evaluations.csv", lambda p: fit.evaluations.to_csv(p, index=False))
    save_figure(fit, outdir / "fit.png")
    write_json(outdir / "fit.json", {
        "data": str(data),
        "fitted": fit.values,
        "bounds": {r.key: [r.lo, r.hi] for r in fit.ranges},
        "rmse": fit.rmse,
        "evaluations": len(fit.evaluations),
        "replicates_per_evaluation": fit.config.replicates,
        "seed": fit.config.seed,
        "seed_rule": "every evaluation runs replicates r = 0 .. replicates-1 on numpy "
                     "SeedSequence([seed, r]) (common random numbers)",
        "optimiser": fit.optimiser,
        "wall_time_s": wall_time,
        **provenance(fit.config, TOOL, argv, inputs=[str(data)]),
    })


register()
tool_schema("calibrate", [("data", str | None, None), ("fit", Any, None), ("scan", int, SCAN),
                          ("budget", int, BUDGET)])


def _calibrate(own: Any, outdir: Path, overrides: list[str]) -> int:
    """The tool's job: ``own`` is the composed config (model and tool keys)."""
    for key in ("data", "fit"):
        if not own.get(key):
            raise ConfigError(f"{key}= is required; e.g. {TOOL} data=curve.csv "
                              "'fit=[decision.p:0.001:0.1,decision.q:0.05:1]' decision=bass")
    observed = read_observed(own["data"])
    base = model_config(own, TOOL_KEYS, overrides, steps=int(observed["step"].iloc[-1]))
    ranges = parse_ranges(own["fit"], base, "fit")
    scan = number(own, "scan", SCAN)
    budget = number(own, "budget", BUDGET, lo=2)
    faults.check_writable(outdir)  # before the search, not after it
    started = time.perf_counter()
    fit = calibrate(base, ranges, observed, scan=scan, budget=budget)
    write_fit(fit, outdir, Path(own["data"]), overrides, time.perf_counter() - started)
    print(f"fitted: {', '.join(f'{k}={v:.5g}' for k, v in fit.values.items())}")
    print(f"RMSE: {fit.rmse:.5f} (adopted share), {len(fit.evaluations)} evaluations "
          f"x {base.replicates} replicates, {time.perf_counter() - started:.1f} s")
    print(f"results: {outdir}")
    return 0


@hydra.main(version_base="1.3", config_path=str(configs_dir()), config_name="calibrate")
def _app(dictcfg: Any) -> None:
    tool_job(TOOL, _calibrate, dictcfg)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (``argv``: its arguments); returns the exit status (2 for bad
    input)."""
    return run_tool(_app, TOOL, argv, list_keys=("fit",))
