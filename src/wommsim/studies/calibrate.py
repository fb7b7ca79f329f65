"""``python -m wommsim.calibrate``: fit model parameters to an observed adoption curve, with
intervals.

    python -m wommsim.calibrate data=experiments/calibration/bass_example.csv \\
        'fit=[decision.p:0.001:0.1,decision.q:0.05:1]' \\
        decision=bass network=complete strategy=none consumer.initial_adopted_fraction=0 \\
        wom.enabled=false consumers=2000 replicates=10

A Hydra app (primary config ``configs/calibrate.yaml``): overrides, presets, ``-m``
(one calibration per job), ``--cfg job`` and ``hydra.run.dir=DIR`` work as for
``python -m wommsim``. The data are a CSV with a header, the column ``step`` (integer, 0 to
:data:`MAX_DATA_STEP` = 10,000, each once) and exactly one data column: ``adopted_fraction``
(share of consumers in [0, 1]), ``cumulative_sales`` (units sold up to and including the
step, a count >= 0 that never falls) or ``sales`` (units sold in the step, between steps
t-1 and t, so from step 1; a count >= 0). Other columns are ignored, blank lines and lines
starting with ``#`` skipped. ``fit=`` lists the parameters to fit as
``key:lo:hi`` in brackets, ``fit=[a:0:1,b:0:1]`` (one parameter needs none; without ``-m``,
``fit=a:0:1,b:0:1`` is refused: with it, it is a sweep of two one-parameter fits).
``scan`` (default 32), ``budget`` (default 200), ``bootstrap`` (default 10) and
``confidence`` (default 0.95) are explained below. Every other ``key=value`` is an override
of the model config, as for ``python -m wommsim``; ``steps`` defaults to the last observed
step.

**Sales in units.** Sales data are fitted with the market size M (the number of potential
buyers, ``market_size`` in the results) as one more fitted parameter: the model's adopted
fraction F(t) x M is the cumulative sales, M (F(t) - F(t-1)) the sales in step t. M enters
linearly, so at every point of the search it is fitted exactly, M = sum(y s) / sum(s^2) for
the data y and the model's shares s (least squares; variable projection, Golub & Pereyra
1973, SIAM J. Numer. Anal. 10:413): the search runs over the model's parameters only, as for
shares. M is at least the buyers the data have seen (each consumer buys once) unless
``fit=`` bounds it, ``market_size:lo:hi`` (only with sales data). ``consumers`` stays the
model's computational choice: the model's shares stand for a market of M.

**Objective.** The root mean squared error between the data and the model's mean over
``replicates`` replicates, at the observed steps (in the data's unit: a share, or units).
Every evaluation runs replicates ``0 .. R-1`` on the same seeds (common random numbers), so
the objective changes with the parameters only, not with the draws; it is still a step
function of them at the scale of one consumer's decision (about
``1 / (consumers × replicates)``).

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

**Intervals: a parametric bootstrap** (Efron & Tibshirani 1993, *An Introduction to the
Bootstrap*, ch. 6). A fitted value is uncertain for two reasons: the data are one
realisation of a stochastic market, and the objective averages only ``replicates`` runs. The
bootstrap repeats both: resample b = 1 .. ``bootstrap`` simulates one new data set at the
fitted point (replicate b(R+1)+R; times the fitted M for sales) and refits it, Nelder–Mead
from the fitted point within ``budget - scan`` evaluations, on replicates b(R+1) ..
b(R+1)+R-1: fresh seeds for the data and for the objective, so the spread of the refits
holds both sources of error (refitting on the fit's own replicates 0 .. R-1 would cancel the
second). The interval is the fitted value ± t x the refits' standard deviation, with t the
Student quantile of ``bootstrap - 1`` degrees of freedom at level ``confidence``, cut at
the search range (and flagged, with a warning, when cut): with few refits the standard
deviation is itself uncertain, and the t quantile keeps the coverage at the level under
normality, where percentile intervals need a thousand refits. Why this rather than ABC or
a profile likelihood: the model has no likelihood and its objective is a step function (no
profile to read), and a bootstrap needs no prior and no new dependency, runs on the
calibration's own optimiser and seeds, and is tested for coverage
(``experiments/calibration/bootstrap_coverage.py``). What it assumes: the data are a
realisation of the model as configured, a market of ``consumers`` consumers; a real market
larger than that is less noisy, so the interval is then conservative; misfit beyond the
model's own noise is not in it (compare the RMSE with the refits' in ``bootstrap.csv``).
Each refit is started from the fitted point, so a second basin of the objective far from it
is not explored. Reproducible: the same seed gives the same refits, serial or parallel, and
the first k refits do not depend on how many follow. **Cost:** each refit costs about what
the fit's Nelder–Mead polish costs (75 to 156 evaluations for two parameters in the shipped
example), so the default 10 refits cost about six times the fit (913 evaluations against
148 there); ``bootstrap=0`` gives the point estimate only,
``bootstrap=30`` or more a steadier interval. Each refit is logged with an estimate of the
time left; the runs of an evaluation are parallel (``workers``), as in the fit.

Results go to the run folder (``hydra.run.dir=DIR``, default
``outputs/calibrate/DATE/TIME.MICROSECONDS-PID``; in a sweep one numbered folder per job
under ``multirun/calibrate/``): ``fit.csv`` (observed and simulated data by step, in the
data's unit, with the simulated 95% interval over replicates), ``evaluations.csv`` (every
evaluation: its values, ``market_size`` for sales data, and RMSE), ``bootstrap.csv`` (with
intervals: one row per refit, its ``resample`` number, the ``data_replicate`` it was
simulated on, its fitted values, RMSE and evaluations), ``fit.png`` (observed vs simulated
with the fitted values and intervals; the RMSE of each evaluation) and, last, ``fit.json``
(``data_column``, ``fitted``, ``bounds``, ``confidence``, ``intervals`` (null with
``bootstrap=0``), ``rmse`` and its ``rmse_unit``, evaluations, optimiser and ``bootstrap``
settings with the ``standard_errors``, and the configuration). They are written together (a
staging folder, then renamed into place), so an interrupted run leaves the folder as it
was (and removes it if it made it), and a run without the bootstrap leaves no earlier
``bootstrap.csv`` beside its ``fit.json``. Bad input (the CSV, ``fit=``, any override or
unknown key) ends with a message naming the file and line or the key and value, and exit
status 2; a folder that cannot be written is refused before the search (exit status 1), and
Ctrl+C or SIGTERM stops it (exit status 130 or 143), each with one line.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
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
    as_list,
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
TOOL_KEYS = ("data", "fit", "scan", "budget", "bootstrap", "confidence")
#: Optimiser defaults: Sobol scan points, total evaluations, Nelder–Mead simplex size at which
#: to stop and initial simplex side (both in the unit box).
SCAN, BUDGET, XATOL, SIMPLEX = 32, 200, 1e-3, 0.1
#: Interval defaults: bootstrap refits (0: the point estimate only) and confidence level.
BOOTSTRAP, CONFIDENCE = 10, 0.95
#: The data columns: a CSV gives ``step`` and exactly one of these (module docstring).
DATA_COLUMNS = ("adopted_fraction", "cumulative_sales", "sales")
SALES_COLUMNS = ("cumulative_sales", "sales")
#: The fitted number of potential buyers that turns the model's shares into units.
MARKET_SIZE = "market_size"
#: Last step an observation may have: every evaluation simulates up to it ``replicates``
#: times, and a curve of more steps (200 years of weeks) is better aggregated first.
MAX_DATA_STEP = 10_000


# -- the data -------------------------------------------------------------------------------

def read_observed(path: str | Path) -> pd.DataFrame:
    """The observed curve: ``step`` (int) and one data column of :data:`DATA_COLUMNS`
    (``adopted_fraction``, ``cumulative_sales`` or ``sales``), sorted by step.

    Raises :class:`ConfigError` naming the file (and line) for a missing or unreadable file,
    a missing ``step``, no data column or more than one, a non-numeric or non-integer step,
    a negative or repeated step, a step beyond :data:`MAX_DATA_STEP`, a fraction outside
    [0, 1], a negative count of sales, ``sales`` at step 0, cumulative sales that fall, or
    fewer than three observations."""
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
        raise ConfigError(f"{path}: empty; expected a header line such as "
                          "'step,adopted_fraction' or 'step,sales'")
    header_line, header = rows[0]
    names = [c.strip() for c in header]
    given = [c for c in DATA_COLUMNS if c in names]
    missing = ["step"] if "step" not in names else []
    if not given:
        missing.append("one of adopted_fraction, cumulative_sales or sales")
    if missing:
        raise ConfigError(f"{path}, line {header_line}: missing column(s) {', '.join(missing)} "
                          f"(found {', '.join(names) or 'none'}; expected a header such as "
                          "'step,adopted_fraction' or 'step,sales')")
    if len(given) > 1:
        raise ConfigError(f"{path}, line {header_line}: columns {' and '.join(given)}: give "
                          "one data column, adopted_fraction, cumulative_sales or sales")
    column = given[0]
    col = {c: names.index(c) for c in ("step", column)}
    steps: dict[int, int] = {}
    data: list[tuple[int, float]] = []
    for line, cells in rows[1:]:
        if len(cells) != len(names):
            raise ConfigError(f"{path}, line {line}: {len(cells)} fields, the header has "
                              f"{len(names)}")
        step = _cell(path, line, "step", cells[col["step"]])
        value = _cell(path, line, column, cells[col[column]])
        text = cells[col[column]].strip()
        if step != int(step) or step < 0:
            raise ConfigError(f"{path}, line {line}: step={cells[col['step']].strip()}: must "
                              "be a whole number >= 0")
        if step > MAX_DATA_STEP:
            raise ConfigError(f"{path}, line {line}: step={cells[col['step']].strip()}: beyond "
                              f"step {MAX_DATA_STEP:,}, the last a calibration simulates; "
                              "aggregate the data into longer steps (e.g. weeks, not days)")
        if column == "adopted_fraction" and not 0.0 <= value <= 1.0:
            raise ConfigError(f"{path}, line {line}: adopted_fraction={text}: must be between 0 "
                              "and 1 (a share of consumers)")
        if column != "adopted_fraction" and value < 0:
            raise ConfigError(f"{path}, line {line}: {column}={text}: must be >= 0 (a count "
                              "of units sold)")
        if column == "sales" and step == 0:
            raise ConfigError(f"{path}, line {line}: sales at step 0: sales in step t are "
                              "those between steps t-1 and t, so they start at step 1 (step 0 "
                              "is the market before any step)")
        if int(step) in steps:
            raise ConfigError(f"{path}, line {line}: step {int(step)} repeats line "
                              f"{steps[int(step)]}")
        steps[int(step)] = line
        data.append((int(step), value))
    if len(data) < 3:
        raise ConfigError(f"{path}: {len(data)} observation(s); at least 3 are needed")
    data.sort()
    if column == "cumulative_sales":  # a count of buyers so far cannot fall
        for (before, low), (step, value) in itertools.pairwise(data):
            if value < low:
                raise ConfigError(f"{path}, line {steps[step]}: cumulative_sales={value:g} at "
                                  f"step {step} is below the {low:g} of step {before} (line "
                                  f"{steps[before]}): cumulative sales cannot fall")
    return pd.DataFrame(data, columns=["step", column])


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

def data_column(observed: pd.DataFrame) -> str:
    """The data column of a curve from :func:`read_observed` (its column after ``step``)."""
    return str(observed.columns[1])


def model_shares(curves: np.ndarray, steps: np.ndarray, column: str) -> np.ndarray:
    """Per replicate (rows of ``curves``, the adopted fraction at every step), the model's
    counterpart of the data ``column`` at ``steps`` as a share of the market: the adopted
    fraction, or for ``sales`` the share that adopted in the step, F(t) - F(t-1)."""
    if column == "sales":
        return curves[:, steps] - curves[:, steps - 1]
    return curves[:, steps]


def default_market(observed: pd.DataFrame) -> ParamRange:
    """The market size's range when ``fit=`` gives none: at least the buyers the data have
    seen (each consumer buys once), no upper bound."""
    values = observed[data_column(observed)]
    seen = values.max() if data_column(observed) == "cumulative_sales" else values.sum()
    return ParamRange(MARKET_SIZE, float(seen), math.inf)


def parse_market(items: Sequence[str], observed: pd.DataFrame, data: str) -> ParamRange | None:
    """The market size's range from the ``market_size:lo:hi`` items of ``fit=`` (at most
    one): fitted to sales data only, where it defaults to :func:`default_market`."""
    column = data_column(observed)
    if items and column not in SALES_COLUMNS:
        raise ConfigError(f"fit: {items[0]}: the market size is fitted to sales data only (a "
                          f"column cumulative_sales or sales); {data} gives {column}")
    if len(items) > 1:
        raise ConfigError(f"fit: {MARKET_SIZE} given more than once")
    if column not in SALES_COLUMNS:
        return None
    if not items:
        return default_market(observed)
    fields = items[0].split(":")
    try:
        lo, hi = float(fields[1]), float(fields[2])
    except (IndexError, ValueError):
        raise ConfigError(f"fit: {items[0]!r}: expected {MARKET_SIZE}:lo:hi with numbers, "
                          f"e.g. {MARKET_SIZE}:1000:1e6") from None
    if len(fields) != 3 or math.isnan(lo) or math.isnan(hi) or not 0 <= lo < hi:
        raise ConfigError(f"fit: {items[0]!r}: expected {MARKET_SIZE}:lo:hi with 0 <= lo < hi")
    return ParamRange(MARKET_SIZE, lo, hi)


def least_squares_market(share: np.ndarray, observed: np.ndarray, market: ParamRange) -> float:
    """The market size M minimising sum((observed - M share)^2) within ``market``'s range:
    M = sum(observed share) / sum(share^2), clipped (the sum is a parabola in M, so the
    clipped value is the constrained optimum)."""
    denom = float(share @ share)
    size = float(observed @ share) / denom if denom > 0 else market.lo
    return float(np.clip(size, market.lo, market.hi))


@dataclass
class Fit:
    """The outcome of :func:`calibrate`, with intervals once :func:`bootstrap` has run."""

    ranges: list[ParamRange]
    values: dict[str, float]  # the fitted parameters, and market_size for sales data
    rmse: float  # in the unit of data_column
    evaluations: pd.DataFrame  # one row per evaluation: index, stage, values, rmse
    curve: pd.DataFrame  # step, observed, simulated mean, lo, hi, residual
    config: Config
    optimiser: dict[str, Any] = field(default_factory=dict)
    data_column: str = "adopted_fraction"
    market: ParamRange | None = None  # the market size's range (sales data only)
    confidence: float | None = None
    intervals: dict[str, tuple[float, float]] | None = None  # per key of values
    resamples: pd.DataFrame | None = None  # one row per bootstrap refit
    uncertainty: dict[str, Any] | None = None  # the bootstrap's settings and standard errors

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Each key of :attr:`values` with the range it was fitted in."""
        every = [*self.ranges, *([self.market] if self.market else [])]
        return {r.key: (r.lo, r.hi) for r in every}


class Objective:
    """RMSE of the mean simulated curve against the observed one, memoised by point.

    For sales data the simulated shares are scaled by the least-squares market size at each
    point (:func:`least_squares_market`; variable projection: the market size is fitted
    exactly at every point, not searched). Replicates ``first .. first + R - 1``."""

    def __init__(self, base: Config, ranges: list[ParamRange], observed: pd.DataFrame,
                 sim: Simulator, market: ParamRange | None = None, first: int = 0,
                 level: int = logging.INFO) -> None:
        self.base, self.ranges, self.sim, self.market, self.level = (base, ranges, sim,
                                                                     market, level)
        self.column = data_column(observed)
        self.steps = observed["step"].to_numpy()
        self.observed = observed[self.column].to_numpy(dtype=float)
        self.replicates = range(first, first + base.replicates)
        self.cache: dict[tuple[float, ...], float] = {}
        self.markets: dict[tuple[float, ...], float] = {}
        self.rows: list[dict[str, Any]] = []

    def values(self, unit: np.ndarray) -> list[float]:
        return [float(r.scale(u)) for r, u in zip(self.ranges, np.clip(unit, 0, 1), strict=True)]

    def curves(self, configs: Sequence[Config]) -> list[np.ndarray]:
        """Per config, the replicates' adopted fraction at every step (replicates x steps)."""
        runs = self.sim.run(configs, self.replicates)
        return [np.stack([f["adopted_fraction"].to_numpy() for f in frames]) for frames in runs]

    def predict(self, curves: np.ndarray) -> tuple[np.ndarray, float | None]:
        """The mean simulated data column at the observed steps, and the market size (None
        for shares)."""
        share = model_shares(curves, self.steps, self.column).mean(axis=0)
        if self.market is None:
            return share, None
        size = least_squares_market(share, self.observed, self.market)
        return size * share, size

    def batch(self, units: Sequence[np.ndarray], stage: str) -> list[float]:
        """Evaluate several points at once (one parallel batch); returns their RMSEs."""
        points = [tuple(self.values(u)) for u in units]
        new = list(dict.fromkeys(p for p in points if p not in self.cache))
        configs = [at_point(self.base, self.ranges, p) for p in new]
        for point, curves in zip(new, self.curves(configs), strict=True):
            simulated, size = self.predict(curves)
            rmse = float(np.sqrt(np.mean((simulated - self.observed) ** 2)))
            self.cache[point] = rmse
            row = {"evaluation": len(self.rows) + 1, "stage": stage,
                   **dict(zip((r.key for r in self.ranges), point, strict=True))}
            if size is not None:
                self.markets[point] = size
                row[MARKET_SIZE] = size
            self.rows.append({**row, "rmse": rmse})
            log.log(self.level, "evaluation %d (%s): %s -> RMSE %.5g (best %.5g)",
                    len(self.rows), stage, _show(row, self.ranges, size), rmse,
                    min(self.cache.values()))
        return [self.cache[p] for p in points]

    def best(self) -> tuple[tuple[float, ...], dict[str, float]]:
        """The best point so far, and its values by key (with the market size)."""
        point = min(self.cache, key=self.cache.get)
        values = dict(zip((r.key for r in self.ranges), point, strict=True))
        if point in self.markets:
            values[MARKET_SIZE] = self.markets[point]
        return point, values

    def __call__(self, unit: np.ndarray) -> float:
        return self.batch([unit], "nelder-mead")[0]


def _show(values: dict[str, Any], ranges: Sequence[ParamRange], size: float | None) -> str:
    shown = [f"{r.key}={values[r.key]:.5g}" for r in ranges]
    return ", ".join(shown + ([f"{MARKET_SIZE}={size:.6g}"] if size is not None else []))


class _BudgetSpent(Exception):
    pass


def _polish(objective: Objective, start: np.ndarray, budget: int) -> tuple[int, str, bool]:
    """Nelder–Mead from ``start``, restarted from each new optimum until a restart finds
    nothing better, within ``budget`` evaluations of ``objective`` in all. Returns the
    number of Nelder–Mead runs, the last message and whether it converged."""
    def limited(unit: np.ndarray) -> float:
        if len(objective.rows) >= budget and tuple(objective.values(unit)) \
                not in objective.cache:
            raise _BudgetSpent
        return objective(unit)

    runs, message, converged = 0, "", False
    try:
        while True:  # restart from each new optimum until a restart finds nothing better
            before = limited(start)
            result = optimize.minimize(
                limited, start, method="Nelder-Mead",
                bounds=[(0.0, 1.0)] * len(objective.ranges),
                options={"initial_simplex": _simplex(start), "xatol": XATOL,
                         "fatol": np.inf, "maxfev": 100 * budget})
            runs += 1
            message, converged = str(result.message), bool(result.success)
            if result.fun >= before:
                break
            start = np.clip(result.x, 0.0, 1.0)
    except _BudgetSpent:
        message, converged = f"stopped at the budget of {budget} evaluations", False
    return runs, message, converged


def calibrate(base: Config, ranges: list[ParamRange], observed: pd.DataFrame,
              scan: int = SCAN, budget: int = BUDGET, market: ParamRange | None = None) -> Fit:
    """Fit ``ranges`` of ``base`` to ``observed`` (see the module docstring for the
    objective and the optimiser); ``base.replicates`` replicates per evaluation, ``base.workers``
    processes. For sales data the market size is fitted too, within ``market`` (default
    :func:`default_market`). The point estimate only: :func:`bootstrap` adds intervals."""
    column = data_column(observed)
    if column in SALES_COLUMNS:
        market = market or default_market(observed)
    elif market is not None:
        raise ConfigError(f"fit: {MARKET_SIZE}: fitted to sales data only; the data give "
                          f"{column}")
    if not ranges:
        raise ConfigError("fit: give at least one model parameter to fit (key:lo:hi), e.g. "
                          "decision.p:0.001:0.1")
    last = int(observed["step"].iloc[-1])
    if last > base.steps:
        raise ConfigError(f"steps={base.steps}: the data go to step {last}; simulate at least "
                          "that many steps")
    fitted_count = len(ranges) + (market is not None)
    if len(observed) <= fitted_count:
        raise ConfigError(f"{len(observed)} observations cannot identify {fitted_count} "
                          "parameters; give more observations than fitted parameters")
    if scan >= budget:
        raise ConfigError(f"scan={scan}, budget={budget}: the budget of evaluations must "
                          "exceed the scan")
    for corner in ("lo", "hi"):  # fail on a bad corner before any run (e.g. shares over 1)
        at_point(base, ranges, [getattr(r, corner) for r in ranges])
    with Simulator(base.workers, max(scan, 1) * base.replicates) as sim:
        objective = Objective(base, ranges, observed, sim, market)
        sobol = stats.qmc.Sobol(len(ranges), scramble=True, seed=base.seed)
        with warnings.catch_warnings():  # a scan size that is not a power of 2 is allowed
            warnings.simplefilter("ignore", UserWarning)
            units = list(sobol.random(scan))
        scores = objective.batch(units, "scan")
        runs, message, converged = _polish(objective, units[int(np.argmin(scores))], budget)
        best, values = objective.best()
        fitted = at_point(base, ranges, best)
        curves = objective.curves([fitted])[0]
    log.info("fitted %s: RMSE %.5g after %d evaluations (%s)",
             _show(values, ranges, values.get(MARKET_SIZE)), objective.cache[best],
             len(objective.rows), message)
    return Fit(ranges=ranges, values=values, rmse=objective.cache[best],
               evaluations=pd.DataFrame(objective.rows),
               curve=_curve(curves, observed, values.get(MARKET_SIZE)), config=fitted,
               optimiser={"method": "Sobol scan, then bounded Nelder-Mead restarted from "
                                    "each optimum (scipy)",
                          "scan": scan, "nelder_mead_runs": runs, "budget": budget,
                          "xatol": XATOL,
                          "initial_simplex_side": SIMPLEX, "converged": converged,
                          "message": message},
               data_column=column, market=market)


def check_bootstrap(resamples: int, confidence: float) -> None:
    """Refuse a number of refits that gives no standard error, or a level outside (0, 1)."""
    if resamples < 0 or resamples == 1:
        raise ConfigError(f"bootstrap={resamples}: must be 0 (no intervals) or at least 2 (a "
                          "standard error needs two refits)")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence={confidence:g}: must be between 0 and 1, e.g. 0.95")


def bootstrap(fit: Fit, observed: pd.DataFrame, resamples: int = BOOTSTRAP,
              confidence: float = CONFIDENCE, budget: int = BUDGET - SCAN) -> Fit:
    """``fit`` with intervals at level ``confidence`` for each fitted value: a parametric
    bootstrap of ``resamples`` refits, each a Nelder–Mead polish from the fitted point
    within ``budget`` evaluations (see the module docstring for the method and its seeds).
    Needs at least 2 resamples; 0 returns ``fit`` as it is."""
    check_bootstrap(resamples, confidence)
    if resamples == 0:
        return fit
    cfg, reps = fit.config, fit.config.replicates
    steps = observed["step"].to_numpy()
    start = np.array([float(r.unscale(fit.values[r.key])) for r in fit.ranges])
    size = fit.values.get(MARKET_SIZE)
    # Resample b draws its data from replicate b(R+1) + R and refits on replicates
    # b(R+1) .. b(R+1) + R - 1: disjoint from the fit's 0 .. R-1 and from each other, and the
    # same whatever the number of resamples.
    data_reps = [b * (reps + 1) + reps for b in range(1, resamples + 1)]
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    log.info("bootstrap: %d refits of the fit to data simulated at it (%d replicates each, "
             "at most %d evaluations)", resamples, reps, budget)
    with Simulator(cfg.workers, max(reps, resamples)) as sim:
        frames = sim.run([cfg], data_reps)[0]
        for b, frame in enumerate(frames, start=1):
            curve = frame["adopted_fraction"].to_numpy()[None, :]
            share = model_shares(curve, steps, fit.data_column)[0]
            data = pd.DataFrame({"step": steps,
                                 fit.data_column: share if size is None else size * share})
            objective = Objective(cfg, fit.ranges, data, sim, fit.market,
                                  first=b * (reps + 1), level=logging.DEBUG)
            _polish(objective, start, budget)
            point, values = objective.best()
            rows.append({"resample": b, "data_replicate": data_reps[b - 1], **values,
                         "rmse": objective.cache[point], "evaluations": len(objective.rows)})
            spent = time.perf_counter() - started
            log.info("bootstrap %d/%d: %s (%d evaluations; %.0f s, about %.0f s left)", b,
                     resamples, _show(values, fit.ranges, values.get(MARKET_SIZE)),
                     len(objective.rows), spent, spent / b * (resamples - b))
    table = pd.DataFrame(rows)
    quantile = float(stats.t.ppf(0.5 + confidence / 2, resamples - 1))
    errors, intervals, clipped = {}, {}, []
    for key, (lo, hi) in fit.bounds().items():
        error = float(table[key].std(ddof=1))
        low, high = fit.values[key] - quantile * error, fit.values[key] + quantile * error
        if low < lo or high > hi:
            clipped.append(key)
        errors[key], intervals[key] = error, (max(low, lo), min(high, hi))
    for key in clipped:
        log.warning("%s: the %g%% interval reaches the search range %s: the data do not "
                    "pin it down within the range, so the interval is cut there", key,
                    100 * confidence, list(fit.bounds()[key]))
    return dataclasses.replace(fit, confidence=confidence, intervals=intervals,
                               resamples=table, uncertainty={
        "method": "parametric bootstrap: refit to data simulated at the fitted point, on "
                  "fresh replicates",
        "interval": "fitted value +/- Student t quantile (resamples - 1 degrees of freedom) "
                    "x bootstrap standard error, cut at the search range",
        "resamples": resamples, "refit_budget": budget,
        "refit_start": "the fitted point (Nelder-Mead, restarted as in the fit)",
        "standard_errors": errors, "cut_at_range": clipped,
        "evaluations": int(table["evaluations"].sum()),
        "seed_rule": "resample b = 1 .. resamples draws its data from replicate b(R+1)+R "
                     "and refits on replicates b(R+1) .. b(R+1)+R-1 (R = replicates)",
        "wall_time_s": time.perf_counter() - started})


def _simplex(start: np.ndarray) -> np.ndarray:
    """A fresh initial simplex: ``start`` and one step of :data:`SIMPLEX` along each axis,
    turned inward where it would leave the unit box."""
    steps = [np.where(start + SIMPLEX * e <= 1.0, start + SIMPLEX * e, start - SIMPLEX * e)
             for e in np.eye(start.size)]
    return np.array([start, *steps])


def _curve(curves: np.ndarray, observed: pd.DataFrame, size: float | None) -> pd.DataFrame:
    """Step by step, in the unit of the data column (shares, or units with the market size
    ``size``): observed value (NaN where not observed), simulated mean and its 95% interval
    over replicates, and the residual (observed - simulated). Per-step ``sales`` from step 1."""
    column = data_column(observed)
    obs = observed.set_index("step")[column]
    steps = np.arange(1 if column == "sales" else 0, curves.shape[1])
    series = (1.0 if size is None else size) * model_shares(curves, steps, column)
    rows = []
    for i, step in enumerate(steps):
        mean, lo, hi = mean_ci(series[:, i])
        seen = float(obs.get(step, np.nan))
        rows.append({"step": int(step), "observed": seen, "simulated": mean,
                     "simulated_lo": lo, "simulated_hi": hi, "residual": seen - mean})
    return pd.DataFrame(rows)


# -- output ---------------------------------------------------------------------------------

#: The unit of each data column, as shown on the figure's axis and in fit.json's rmse_unit.
UNITS = {"adopted_fraction": "share of consumers", "cumulative_sales": "units sold so far",
         "sales": "units sold in the step"}


def fitted_text(fit: Fit, sep: str = ", ") -> str:
    """The fitted values, each with its interval when the bootstrap ran."""
    parts = []
    for key, value in fit.values.items():
        shown = f"{key}={value:.5g}"
        if fit.intervals:
            lo, hi = fit.intervals[key]
            shown += f" [{lo:.5g}, {hi:.5g}]"
        parts.append(shown)
    return sep.join(parts)


def interval_note(fit: Fit) -> str:
    """What the brackets of :func:`fitted_text` are, or that there are none."""
    if not fit.intervals:
        return "no intervals (bootstrap=0)"
    return (f"{100 * fit.confidence:g}% intervals, parametric bootstrap of "
            f"{fit.uncertainty['resamples']} refits")


def save_figure(fit: Fit, path: Path) -> Path:
    """Observed vs simulated (left, with the fitted values and their intervals) and the RMSE
    of each evaluation (right)."""
    from wommsim.reporting.figures import figure, save

    fig, (ax, trace) = figure(figsize=(11, 4.5), ncols=2, width_ratios=[3, 2])
    c = fit.curve
    shares = fit.data_column == "adopted_fraction"
    scale = 100 if shares else 1  # shares in percent, sales in units
    ax.fill_between(c["step"], scale * c["simulated_lo"], scale * c["simulated_hi"],
                    color="tab:blue", alpha=0.2, linewidth=0)
    ax.plot(c["step"], scale * c["simulated"], color="tab:blue",
            label=f"simulated, mean of {fit.config.replicates} replicates (95% interval)")
    seen = c.dropna(subset=["observed"])
    ax.plot(seen["step"], scale * seen["observed"], "o", color="black", markersize=4,
            label="observed")
    ylabel = {"adopted_fraction": "adopted (% of consumers)",
              "cumulative_sales": "cumulative sales (units)",
              "sales": "sales in the step (units)"}[fit.data_column]
    error = (f"{100 * fit.rmse:.3f} percentage points" if shares
             else f"{fit.rmse:.4g} units")
    ax.set(xlabel="step", ylabel=ylabel,
           title=f"Fit ({interval_note(fit)}):\n{fitted_text(fit, chr(10))}\nRMSE {error}")
    ax.title.set_fontsize("medium")
    ax.legend(fontsize="small", frameon=False)
    ev = fit.evaluations
    for stage, marker in (("scan", "s"), ("nelder-mead", "o")):
        part = ev[ev["stage"] == stage]
        trace.plot(part["evaluation"], scale * part["rmse"], marker, markersize=3,
                   linestyle="none", label=stage)
    trace.plot(ev["evaluation"], scale * ev["rmse"].cummin(), color="black", linewidth=1,
               label="best so far")
    trace.set(xlabel="evaluation", ylabel="RMSE (percentage points)" if shares
              else "RMSE (units)", yscale="log", title="Objective by evaluation")
    trace.title.set_fontsize("medium")
    trace.legend(fontsize="small", frameon=False)
    return save(fig, path)


RESULT_FILES = ("fit.csv", "evaluations.csv", "bootstrap.csv", "fit.png", "fit.json")


def write_fit(fit: Fit, outdir: Path, data: Path, argv: Sequence[str], wall_time: float
              ) -> None:
    """``fit.csv``, ``evaluations.csv``, ``bootstrap.csv`` (when the bootstrap ran),
    ``fit.png``, then ``fit.json``: all or none (:func:`wommsim.runs.runner.write_together`)."""
    write_together(outdir, RESULT_FILES, lambda stage: _write_fit_files(
        fit, stage, data, argv, wall_time))


def _write_fit_files(fit: Fit, outdir: Path, data: Path, argv: Sequence[str],
                     wall_time: float) -> None:
    write_atomic(outdir / "fit.csv", lambda p: fit.curve.to_csv(p, index=False))
    write_atomic(outdir / "evaluations.csv", lambda p: fit.evaluations.to_csv(p, index=False))
    if fit.resamples is not None:
        write_atomic(outdir / "bootstrap.csv", lambda p: fit.resamples.to_csv(p, index=False))
    save_figure(fit, outdir / "fit.png")
    write_json(outdir / "fit.json", {
        "data": str(data),
        "data_column": fit.data_column,
        "fitted": fit.values,
        # JSON has no infinity: an open upper bound (the market size's default) is null
        "bounds": {key: [lo, hi if math.isfinite(hi) else None]
                   for key, (lo, hi) in fit.bounds().items()},
        "confidence": fit.confidence,
        "intervals": ({key: list(bounds) for key, bounds in fit.intervals.items()}
                      if fit.intervals else None),
        "rmse": fit.rmse,
        "rmse_unit": UNITS[fit.data_column],
        "evaluations": len(fit.evaluations),
        "replicates_per_evaluation": fit.config.replicates,
        "seed": fit.config.seed,
        "seed_rule": "every evaluation runs replicates r = 0 .. replicates-1 on numpy "
                     "SeedSequence([seed, r]) (common random numbers)",
        "optimiser": fit.optimiser,
        "bootstrap": fit.uncertainty,
        "wall_time_s": wall_time,
        **provenance(fit.config, TOOL, argv, inputs=[str(data)]),
    })


register()
tool_schema("calibrate", [("data", str | None, None), ("fit", Any, None), ("scan", int, SCAN),
                          ("budget", int, BUDGET), ("bootstrap", int, BOOTSTRAP),
                          ("confidence", float, CONFIDENCE)])


def _calibrate(own: Any, outdir: Path, overrides: list[str]) -> int:
    """The tool's job: ``own`` is the composed config (model and tool keys)."""
    for key in ("data", "fit"):
        if not own.get(key):
            raise ConfigError(f"{key}= is required; e.g. {TOOL} data=curve.csv "
                              "'fit=[decision.p:0.001:0.1,decision.q:0.05:1]' decision=bass")
    observed = read_observed(own["data"])
    base = model_config(own, TOOL_KEYS, overrides, steps=int(observed["step"].iloc[-1]))
    items = [item.strip() for item in as_list(own["fit"])]
    sizes = [item for item in items if item.split(":")[0] == MARKET_SIZE]
    ranges = parse_ranges([item for item in items if item not in sizes], base, "fit")
    market = parse_market(sizes, observed, own["data"])
    scan = number(own, "scan", SCAN)
    budget = number(own, "budget", BUDGET, lo=2)
    resamples, confidence = int(own["bootstrap"]), float(own["confidence"])
    check_bootstrap(resamples, confidence)  # before the search, not after it
    faults.check_writable(outdir)  # before the search, not after it
    started = time.perf_counter()
    fit = calibrate(base, ranges, observed, scan=scan, budget=budget, market=market)
    fit = bootstrap(fit, observed, resamples, confidence, budget=budget - scan)
    write_fit(fit, outdir, Path(own["data"]), overrides, time.perf_counter() - started)
    print(f"fitted: {fitted_text(fit)} ({interval_note(fit)})")
    refits = (f" + {fit.uncertainty['evaluations']} in the bootstrap" if fit.uncertainty
              else "")
    print(f"RMSE: {fit.rmse:.5g} ({UNITS[fit.data_column]}), {len(fit.evaluations)} "
          f"evaluations{refits} x {base.replicates} replicates, "
          f"{time.perf_counter() - started:.1f} s")
    print(f"results: {outdir}")
    return 0


@hydra.main(version_base="1.3", config_path=str(configs_dir()), config_name="calibrate")
def _app(dictcfg: Any) -> None:
    tool_job(TOOL, _calibrate, dictcfg)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (``argv``: its arguments); returns the exit status (2 for bad
    input)."""
    return run_tool(_app, TOOL, argv, list_keys=("fit",))
