"""Summaries of the per-step table: per-arm means with 95% intervals over replicates."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

#: Per-replicate outcome measures, in summary column order, with their meaning.
OUTCOMES: dict[str, str] = {
    "final_adoption": "adopted share of consumers at the last step",
    "time_to_half": "first step at which adoption reaches half its final level (steps)",
    "peak_new_adopters": "largest number of new adopters in one step",
    "cost_per_adopter": "cumulative spend / adopters won during the run (money; NaN if none)",
    "net_sentiment": "(positive - negative) / all conversations over the run, in [-1, 1]",
    "followers_end": "followers of the brand at the last step",
}


def replicate_outcomes(ts: pd.DataFrame, consumers: int) -> pd.DataFrame:
    """One row per arm x replicate with the :data:`OUTCOMES` of that run."""
    rows = []
    for (arm, rep), run in ts.groupby(["arm", "replicate"], sort=False):
        run = run.sort_values("step")
        adoption = run["adopted_fraction"].to_numpy()
        final = adoption[-1]
        start = adoption[0]
        won = (final - start) * consumers
        talk = run["positive_wom"].sum() + run["negative_wom"].sum()
        # Half of the adoption gained during the run, measured from the initial level.
        half_reached = np.flatnonzero(adoption - start >= 0.5 * (final - start))
        rows.append({
            "arm": arm,
            "replicate": rep,
            "final_adoption": final,
            "time_to_half": (float(run["step"].to_numpy()[half_reached[0]])
                             if won > 0 else np.nan),
            "peak_new_adopters": float(run["new_adopters"].iloc[1:].max()),
            "cost_per_adopter": (run["cumulative_spend"].iloc[-1] / won if won > 0 else np.nan),
            "net_sentiment": ((run["positive_wom"].sum() - run["negative_wom"].sum()) / talk
                              if talk > 0 else np.nan),
            "followers_end": float(run["followers"].iloc[-1]),
        })
    return pd.DataFrame(rows)


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t interval of the mean; NaN bounds with fewer than two values."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.nan, np.nan, np.nan
    mean = float(values.mean())
    if values.size < 2:
        return mean, np.nan, np.nan
    half = stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    return mean, mean - half, mean + half


def summarise(ts: pd.DataFrame, consumers: int) -> pd.DataFrame:
    """One row per arm: ``<outcome>_mean``, ``<outcome>_lo`` and ``<outcome>_hi`` (95%)."""
    per_rep = replicate_outcomes(ts, consumers)
    rows = []
    for arm, group in per_rep.groupby("arm", sort=False):
        row = {"arm": arm, "replicates": len(group)}
        for outcome in OUTCOMES:
            mean, lo, hi = mean_ci(group[outcome].to_numpy(dtype=float))
            row.update({f"{outcome}_mean": mean, f"{outcome}_lo": lo, f"{outcome}_hi": hi})
        rows.append(row)
    return pd.DataFrame(rows)
