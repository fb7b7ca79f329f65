"""Summaries of the per-step table: per-replicate outcomes, per-arm means with 95%
intervals, paired differences between arms, money (what each lever could and did spend), and
the Bass curve fitted to each arm (:mod:`wommsim.reporting.bass`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import special, stats

from wommsim.config import (
    LEVERS,
    UNIT_COSTS,
    Config,
    EconomicsConfig,
    strategy_at,
    weekly_budget,
)
from wommsim.mechanisms.common import affordable, leftover
from wommsim.reporting.bass import fit_bass

#: Per-replicate outcome measures, in summary column order: what each measures, its label
#: for people with its unit (tables, figures) and the scale it is shown at.
_OUTCOMES: dict[str, tuple[str, str, float]] = {
    "final_adoption": ("adopted share of consumers at the last step",
                       "Final adoption (%)", 100.0),
    "time_to_half": ("first step at which adoption gained reaches half its final gain (steps)",
                     "Time to half (weeks)", 1.0),
    "peak_new_adopters": ("largest number of new adopters in one step",
                          "Peak new adopters (per week)", 1.0),
    "cost_per_adopter": ("cumulative spend / adopters won during the run (money; n/a if none)",
                         "Cost per adopter (money)", 1.0),
    "net_sentiment": ("(positive - negative) / all conversations over the run, in [-1, 1]",
                      "Net sentiment (-1 to 1)", 1.0),
    "followers_end": ("followers of the brand at the last step", "Followers at end", 1.0),
    "revenue": ("what all purchases paid during the run, repeat purchases included and "
                "discounts deducted (money)", "Revenue (money)", 1.0),
    "gross_margin": ("revenue less the unit cost of each purchase, before marketing spend "
                     "(money)", "Gross margin (money)", 1.0),
    "spend": ("marketing spend during the run (money)", "Spend (money)", 1.0),
    **{f"spend_{lever}": (f"money spent on {lever} during the run",
                          f"Spend on {lever} (money)", 1.0) for lever in LEVERS},
    "roms": ("return on marketing spend: (gross margin - spend) / spend (n/a without spend)",
             "ROMS", 1.0),
    "npv": ("net present value of gross margin minus spend, discounted per step (money)",
            "NPV (money)", 1.0),
    "online_sales": ("purchases made online during the run", "Online sales (purchases)", 1.0),
    "offline_sales": ("purchases made offline during the run (web-influenced or not)",
                      "Offline sales (purchases)", 1.0),
}
#: Per-replicate outcome measures, in summary column order, with their meaning.
OUTCOMES: dict[str, str] = {key: meaning for key, (meaning, *_) in _OUTCOMES.items()}
#: Per outcome: its label with its unit, and the scale it is shown at.
OUTCOME_LABELS: dict[str, tuple[str, float]] = {key: (label, scale) for key, (_, label, scale)
                                                in _OUTCOMES.items()}
#: Outcomes bounded by their definition, with their bounds: their intervals stay inside.
BOUNDS: dict[str, tuple[float, float]] = {"final_adoption": (0.0, 1.0),
                                          "net_sentiment": (-1.0, 1.0)}
#: How intervals are computed, for the reports' definitions.
INTERVALS = ("95% intervals of a mean are Student t intervals over the replicates; for a "
             "bounded outcome (final adoption, in [0, 1]; net sentiment, in [-1, 1]) the t "
             "interval is taken on the logit scale of the mean rescaled to [0, 1] (delta "
             "method) and transformed back, so it stays inside the bounds")


def replicate_outcomes(ts: pd.DataFrame, economics: EconomicsConfig | None = None,
                       brands: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per arm x replicate with the :data:`OUTCOMES` of that run. Revenue and
    margin are the brands' (``brands``, rows of ``brands.parquet``: every purchase, at the
    price paid); without them, ``economics.price`` per first purchase."""
    econ = economics or EconomicsConfig()
    takings = None
    if brands is not None:
        takings = brands.groupby(["arm", "replicate", "step"])[["revenue", "margin"]].sum()
    rows = []
    for (arm, rep), run in ts.groupby(["arm", "replicate"], sort=False):
        run = run.sort_values("step")
        steps = run["step"].to_numpy()
        adoption = run["adopted_fraction"].to_numpy()
        final, start = adoption[-1], adoption[0]
        won = int(run["new_adopters"].sum())
        talk = run["positive_wom"].sum() + run["negative_wom"].sum()
        half_reached = np.flatnonzero(adoption - start >= 0.5 * (final - start) - 1e-12)
        spend = float(run["spend"].sum())
        if takings is None:
            revenue_t = econ.price * run["new_adopters"].to_numpy(dtype=float)
            margin_t = econ.margin * revenue_t
        else:
            mine = takings.loc[(arm, rep)].reindex(steps, fill_value=0.0)
            revenue_t, margin_t = (mine[c].to_numpy(dtype=float) for c in ("revenue", "margin"))
        discount = (1.0 + econ.discount_rate) ** (-steps / econ.steps_per_year)
        rows.append({
            "arm": arm,
            "replicate": rep,
            "final_adoption": final,
            "time_to_half": float(steps[half_reached[0]]) if won > 0 else np.nan,
            "peak_new_adopters": float(run["new_adopters"].iloc[1:].max()),
            "cost_per_adopter": spend / won if won > 0 else np.nan,
            "net_sentiment": ((run["positive_wom"].sum() - run["negative_wom"].sum()) / talk
                              if talk > 0 else np.nan),
            "followers_end": float(run["followers"].iloc[-1]),
            "revenue": float(revenue_t.sum()),
            "gross_margin": float(margin_t.sum()),
            "spend": spend,
            **{f"spend_{lever}": (float(run[f"spend_{lever}"].sum())
                                  if f"spend_{lever}" in run else np.nan) for lever in LEVERS},
            "roms": (margin_t.sum() - spend) / spend if spend > 0 else np.nan,
            "npv": float(((margin_t - run["spend"].to_numpy()) * discount).sum()),
            "online_sales": float(run["online_sales"].sum()),
            "offline_sales": float(run["offline_sales"].sum()),
        })
    return pd.DataFrame(rows)


def mean_ci(values: np.ndarray, level: float = 0.95,
            bounds: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """Mean and Student-t interval of the mean; NaN bounds with fewer than two values.

    With ``bounds`` (values that cannot leave ``[lo, hi]``, such as shares), the interval
    is the t interval on the logit scale of the mean rescaled to ``[0, 1]``, its standard
    error carried over by the delta method, transformed back: inside the bounds, nearly
    the plain t interval away from them, and asymmetric near them (see :data:`INTERVALS`).
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.nan, np.nan, np.nan
    mean = float(values.mean())
    if values.size < 2:
        return mean, np.nan, np.nan
    lo, hi = interval(np.array(mean), np.array(values.std(ddof=1)), np.array(values.size),
                      level, bounds)
    return mean, float(lo), float(hi)


def interval(mean: np.ndarray, sd: np.ndarray, n: np.ndarray, level: float = 0.95,
             bounds: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Element-wise bounds of the interval of :func:`mean_ci` from the means, standard
    deviations and counts of samples (NaN where ``n < 2``)."""
    mean, sd, n = (np.asarray(v, dtype=float) for v in (mean, sd, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.5 + level / 2, np.where(n > 1, n - 1, np.nan)) * sd / np.sqrt(n)
        if bounds is None:
            return mean - half, mean + half
        low, high = bounds
        share = np.clip((mean - low) / (high - low), 0.0, 1.0)
        # A mean at a bound has every value there: no spread, the interval is the point.
        half = np.where(half == 0, 0.0, half / (high - low) / (share * (1.0 - share)))
        centre = special.logit(share)
        lo = np.where(half == 0, share, special.expit(centre - half))
        hi = np.where(half == 0, share, special.expit(centre + half))
    nan = np.isnan(half)
    return (np.where(nan, np.nan, low + (high - low) * lo),
            np.where(nan, np.nan, low + (high - low) * hi))


def summarise(ts: pd.DataFrame, per_rep: pd.DataFrame,
              arm_info: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per arm: ``<outcome>_mean``, ``_lo`` and ``_hi`` (95% interval over the
    replicates' outcomes ``per_rep``, from :func:`replicate_outcomes`) and the Bass fit of the
    arm's mean adoption curve in ``ts``. ``arm_info`` (indexed by arm) adds descriptive
    columns such as the strategy and grid values."""
    rows = []
    for arm, group in per_rep.groupby("arm", sort=False):
        row: dict[str, object] = {"arm": arm}
        if arm_info is not None:
            row.update(arm_info.loc[arm].to_dict())
        row["replicates"] = len(group)
        row.update(interval_columns(group, OUTCOMES, BOUNDS))
        curve = ts[ts["arm"] == arm].groupby("step")["adopted_fraction"].mean()
        row.update(fit_bass(curve.index.to_numpy(dtype=float),
                            (curve - curve.iloc[0]).to_numpy()))
        rows.append(row)
    return pd.DataFrame(rows)


def interval_columns(group: pd.DataFrame, outcomes: Iterable[str],
                     bounds: Mapping[str, tuple[float, float]]) -> dict[str, float]:
    """``<outcome>_mean``, ``_lo`` and ``_hi`` of each of ``outcomes`` over the rows of
    ``group`` (the replicates): :func:`mean_ci`, inside ``bounds`` for a bounded outcome."""
    columns = {}
    for outcome in outcomes:
        mean, lo, hi = mean_ci(group[outcome].to_numpy(dtype=float),
                               bounds=bounds.get(outcome))
        columns.update({f"{outcome}_mean": mean, f"{outcome}_lo": lo, f"{outcome}_hi": hi})
    return columns


def paired_differences(outcomes: pd.DataFrame, reference: str | Mapping[str, str],
                       measures: tuple[str, ...] = tuple(OUTCOMES)) -> pd.DataFrame:
    """Each arm minus its reference arm, replicate by replicate (the arms share seeds), with
    the mean difference and its 95% interval, per outcome of ``measures``. ``reference`` is
    one arm for every other arm, or a mapping from each compared arm to its reference (in a
    grid experiment, the reference arm at the same grid values; arms not in it are not
    compared)."""
    references = (reference if isinstance(reference, Mapping)
                  else {arm: reference for arm in pd.unique(outcomes["arm"])
                        if arm != reference})
    by_arm = {arm: group.set_index("replicate")
              for arm, group in outcomes.groupby("arm", sort=False)}
    rows = []
    for arm, group in by_arm.items():
        if arm not in references or references[arm] not in by_arm:
            continue
        ref = by_arm[references[arm]]
        common = group.index.intersection(ref.index)
        for outcome in measures:
            diff = group.loc[common, outcome] - ref.loc[common, outcome]
            mean, lo, hi = mean_ci(diff.to_numpy(dtype=float))
            rows.append({"arm": arm, "reference": references[arm], "outcome": outcome,
                         "difference": mean, "lo": lo, "hi": hi,
                         "pairs": int(np.isfinite(diff.to_numpy(dtype=float)).sum())})
    return pd.DataFrame(rows, columns=["arm", "reference", "outcome", "difference", "lo", "hi",
                                       "pairs"])


def lever_allowance(cfg: Config) -> pd.DataFrame:
    """What each lever of ``cfg`` may spend over the run, one row per lever: ``allotted``
    (its shares of the budget, step by step, phases included), ``spendable`` (what the whole
    units those shares buy cost, the fraction of a unit carried from step to step as the
    model carries it: :func:`~wommsim.mechanisms.common.leftover`; nothing if the lever is
    switched off), ``steps_without_unit`` (steps with a share that buy no unit), ``left``
    (the fraction of a unit still unspent after the last step) and ``unit_cost``, ``unit``
    and ``enabled``. The budget is for ``cfg.consumers`` (a run's report config holds the
    population its network had, an edge list's too)."""
    budget = weekly_budget(cfg, cfg.consumers)
    rows = []
    for lever in LEVERS:
        cost_key, unit = UNIT_COSTS[lever]
        section = getattr(cfg, lever)
        cost = getattr(section, cost_key)
        allotted = spendable = left = 0.0
        without_unit = 0
        for step in range(1, cfg.steps + 1):  # a loop over steps: the carry is sequential
            share = budget * getattr(strategy_at(cfg, step), lever)
            money = share + left
            units = affordable(money, cost)
            left = leftover(money, cost)
            allotted += share
            spendable += units * cost
            without_unit += share > 0 and units == 0
        rows.append({"lever": lever, "allotted": allotted,
                     "spendable": spendable if section.enabled else 0.0,
                     "steps_without_unit": without_unit, "left": left,
                     "unit_cost": cost, "unit": unit, "enabled": section.enabled})
    return pd.DataFrame(rows).set_index("lever")


def response_shape(mean: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> str:
    """The shape of an outcome's means along an ordered grid, with their 95% intervals:
    ``flat`` (every interval shares a point), ``rising`` or ``falling`` (monotone means),
    ``U-shaped`` (falling to a minimum inside the grid, then rising), ``inverted-U`` (rising
    to a maximum inside, then falling), else ``non-monotone``; ``single`` for one value."""
    mean, lo, hi = (np.asarray(v, dtype=float) for v in (mean, lo, hi))
    if mean.size < 2:
        return "single"
    if np.isfinite(lo).all() and np.isfinite(hi).all() and lo.max() <= hi.min():
        return "flat"
    steps = np.diff(mean)
    if (steps >= 0).all():
        return "rising"
    if (steps <= 0).all():
        return "falling"
    low, high = int(np.argmin(mean)), int(np.argmax(mean))
    if (steps[:low] <= 0).all() and (steps[low:] >= 0).all():
        return "U-shaped"
    if (steps[:high] >= 0).all() and (steps[high:] <= 0).all():
        return "inverted-U"
    return "non-monotone"
