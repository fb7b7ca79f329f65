"""Summaries of the per-step table: per-replicate outcomes, per-arm means with 95%
intervals, paired differences between arms, money, and the Bass curve fitted to each arm
(:mod:`wommsim.reporting.bass`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from wommsim.config import EconomicsConfig
from wommsim.reporting.bass import fit_bass

#: Per-replicate outcome measures, in summary column order, with their meaning.
OUTCOMES: dict[str, str] = {
    "final_adoption": "adopted share of consumers at the last step",
    "time_to_half": "first step at which adoption gained reaches half its final gain (steps)",
    "peak_new_adopters": "largest number of new adopters in one step",
    "cost_per_adopter": "cumulative spend / adopters won during the run (money; n/a if none)",
    "net_sentiment": "(positive - negative) / all conversations over the run, in [-1, 1]",
    "followers_end": "followers of the brand at the last step",
    "revenue": "what all purchases paid during the run, repeat purchases included and "
               "discounts deducted (money)",
    "gross_margin": "revenue less the unit cost of each purchase, before marketing spend "
                    "(money)",
    "spend": "marketing spend during the run (money)",
    "roms": "return on marketing spend: (gross margin - spend) / spend (n/a without spend)",
    "npv": "net present value of gross margin minus spend, discounted per step (money)",
    "online_sales": "purchases made online during the run",
    "offline_sales": "purchases made offline during the run (web-influenced or not)",
}


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
            "roms": (margin_t.sum() - spend) / spend if spend > 0 else np.nan,
            "npv": float(((margin_t - run["spend"].to_numpy()) * discount).sum()),
            "online_sales": float(run["online_sales"].sum()),
            "offline_sales": float(run["offline_sales"].sum()),
        })
    return pd.DataFrame(rows)


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t interval of the mean; NaN bounds with fewer than two values."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.nan, np.nan, np.nan
    mean = float(values.mean())
    if values.size < 2:
        return mean, np.nan, np.nan
    sem = values.std(ddof=1) / np.sqrt(values.size)
    half = stats.t.ppf(0.5 + level / 2, values.size - 1) * sem
    return mean, mean - half, mean + half


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
        for outcome in OUTCOMES:
            mean, lo, hi = mean_ci(group[outcome].to_numpy(dtype=float))
            row.update({f"{outcome}_mean": mean, f"{outcome}_lo": lo, f"{outcome}_hi": hi})
        curve = ts[ts["arm"] == arm].groupby("step")["adopted_fraction"].mean()
        row.update(fit_bass(curve.index.to_numpy(dtype=float),
                            (curve - curve.iloc[0]).to_numpy()))
        rows.append(row)
    return pd.DataFrame(rows)


def paired_differences(outcomes: pd.DataFrame, reference: str,
                       measures: tuple[str, ...] = tuple(OUTCOMES)) -> pd.DataFrame:
    """Each arm minus ``reference``, replicate by replicate (the arms share seeds), with
    the mean difference and its 95% interval, per outcome of ``measures``."""
    ref = outcomes[outcomes["arm"] == reference].set_index("replicate")
    rows = []
    for arm, group in outcomes.groupby("arm", sort=False):
        if arm == reference:
            continue
        group = group.set_index("replicate")
        common = group.index.intersection(ref.index)
        for outcome in measures:
            diff = group.loc[common, outcome] - ref.loc[common, outcome]
            mean, lo, hi = mean_ci(diff.to_numpy(dtype=float))
            rows.append({"arm": arm, "reference": reference, "outcome": outcome,
                         "difference": mean, "lo": lo, "hi": hi,
                         "pairs": int(np.isfinite(diff.to_numpy(dtype=float)).sum())})
    return pd.DataFrame(rows, columns=["arm", "reference", "outcome", "difference", "lo", "hi",
                                       "pairs"])
