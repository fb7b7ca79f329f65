"""Per-brand outcomes of a run, from ``brands.parquet``: market share, churn, customer
equity, lifetime value by acquisition source, and incremental economics against an arm in
which the brand spends nothing (docs/ODD.md §3.3.16, §5.2)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from wommsim.mechanisms import INFLUENCES
from wommsim.reporting.analysis import interval_columns, paired_differences
from wommsim.reporting.tables import markdown_table, with_interval

#: Brand outcomes bounded by their definition: their intervals stay inside the bounds.
BRAND_BOUNDS: dict[str, tuple[float, float]] = {"market_share": (0.0, 1.0),
                                                "churn": (0.0, 1.0)}

#: Per-replicate outcomes of each brand, in column order, with their meaning.
BRAND_OUTCOMES: dict[str, str] = {
    "market_share": "the brand's share of all brands' purchases during the run",
    "customers_end": "the brand's customers at the last step",
    "churn": "customers lost per customer and year: 1 - (1 - churned / customer-steps)^"
             "steps_per_year (0 in a durable category)",
    "brand_revenue": "what the brand's purchases paid during the run, discounts deducted "
                     "(money)",
    "brand_margin": "the brand's margin during the run, before marketing spend (money)",
    "brand_spend": "the brand's marketing spend during the run (money)",
    "customer_equity": "discounted margin earned plus the discounted expected margin of the "
                       "customers held at the end, from their retention (money)",
    "cost_per_customer": "spend / customers acquired (first purchases) during the run "
                         "(money; n/a if none)",
    "incremental_customers": "customers acquired minus those acquired, on the same seeds, "
                             "in the arm where the brand spends nothing (n/a without one)",
    "incremental_cost_per_customer": "extra spend / incremental customers against that arm "
                                     "(money; n/a without one or without a gain)",
    **{f"ltv_{name}": f"discounted margin per customer acquired by {name} (money; n/a if "
                      "none)" for name in INFLUENCES},
}


def brand_outcomes(brands: pd.DataFrame, steps_per_year: float,
                   unspent: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per arm × replicate × brand with :data:`BRAND_OUTCOMES`. ``unspent`` maps a
    brand to the arm in which it spends nothing (its no-marketing arm), for the incremental
    outcomes (default: found in ``brands``, see :func:`no_marketing_arms`)."""
    unspent = no_marketing_arms(brands) if unspent is None else unspent
    last = brands["step"] == brands.groupby(["arm", "replicate", "brand"])["step"].transform("max")
    run = brands[brands["step"] > 0].groupby(["arm", "replicate", "brand"], sort=False)
    sums = run[["purchases", "churned", "customers", "revenue", "margin", "spend",
                "new_customers", *(f"new_adopters_{i}" for i in INFLUENCES)]].sum()
    end = brands[last].set_index(["arm", "replicate", "brand"])
    total = sums["purchases"].groupby(level=["arm", "replicate"]).transform("sum")
    per_step = sums["churned"] / sums["customers"].where(sums["customers"] > 0)
    out = pd.DataFrame({
        "market_share": sums["purchases"] / total.where(total > 0),
        "customers_end": end["customers"],
        "churn": 1.0 - (1.0 - per_step) ** steps_per_year,
        "brand_revenue": sums["revenue"], "brand_margin": sums["margin"],
        "brand_spend": sums["spend"], "customer_equity": end["customer_equity"],
        "cost_per_customer": sums["spend"] / sums["new_customers"].where(
            sums["new_customers"] > 0),
    })
    incremental = pd.Series(np.nan, index=out.index)
    cost = pd.Series(np.nan, index=out.index)
    for brand, base_arm in unspent.items():
        for (arm, rep, b) in out.index:
            if b != brand or arm == base_arm or (base_arm, rep, b) not in sums.index:
                continue
            gained = sums.loc[(arm, rep, b), "new_customers"] - sums.loc[
                (base_arm, rep, b), "new_customers"]
            extra = sums.loc[(arm, rep, b), "spend"] - sums.loc[(base_arm, rep, b), "spend"]
            incremental[(arm, rep, b)] = gained
            cost[(arm, rep, b)] = extra / gained if gained > 0 else np.nan
    out["incremental_customers"] = incremental
    out["incremental_cost_per_customer"] = cost
    for name in INFLUENCES:
        acquired = sums[f"new_adopters_{name}"]
        out[f"ltv_{name}"] = end[f"value_{name}"] / acquired.where(acquired > 0)
    return out[list(BRAND_OUTCOMES)].reset_index()


def no_marketing_arms(brands: pd.DataFrame) -> dict[str, str]:
    """For each brand, the first arm in which it spent nothing in any replicate, if any."""
    spend = brands.groupby(["brand", "arm"], sort=False)["spend"].sum()
    return {brand: arms.index.get_level_values("arm")[0]
            for brand, arms in spend[spend == 0].groupby(level="brand", sort=False)}


def summarise_brands(outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per arm × brand: ``<outcome>_mean``, ``_lo`` and ``_hi`` (95% interval over
    the replicates) of every :data:`BRAND_OUTCOMES`."""
    return pd.DataFrame([{"arm": arm, "brand": brand,
                          **interval_columns(group, BRAND_OUTCOMES, BRAND_BOUNDS)}
                         for (arm, brand), group in outcomes.groupby(["arm", "brand"],
                                                                     sort=False)])


def brand_differences(outcomes: pd.DataFrame,
                      reference: str | Mapping[str, str]) -> pd.DataFrame:
    """Each arm minus its reference (as in
    :func:`~wommsim.reporting.analysis.paired_differences`), brand by brand and replicate by
    replicate: the mean difference of every :data:`BRAND_OUTCOMES` with its 95% interval
    (the columns of ``differences.csv``)."""
    frames = []
    for brand, part in outcomes.groupby("brand", sort=False):
        diff = paired_differences(part, reference, tuple(BRAND_OUTCOMES))
        diff.insert(2, "brand", brand)
        frames.append(diff)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def with_brands(table: pd.DataFrame, brand_table: pd.DataFrame,
                keys: tuple[str, ...] = ("arm",)) -> pd.DataFrame:
    """``table`` (one row per ``keys``) with one row per brand instead: the brand's columns
    of ``brand_table`` after the row's own (the market's, repeated for each brand)."""
    merged = table.merge(brand_table, on=list(keys), how="left", sort=False)
    columns = [*keys, "brand", *(c for c in merged.columns if c not in (*keys, "brand"))]
    return merged[columns]


def brand_section(summary: pd.DataFrame, differences: pd.DataFrame) -> list[str]:
    """The report's section on the brands: per arm and brand its market share, customers,
    churn, customer equity, cost per customer (and per incremental customer), lifetime value
    by acquisition source, and a reading generated from the numbers. ``summary`` and
    ``differences`` are :func:`summarise_brands` and :func:`brand_differences`."""
    sources = [name for name in INFLUENCES if summary[f"ltv_{name}_mean"].notna().any()]
    incremental = summary["incremental_cost_per_customer_mean"].notna().any()
    rivals = summary.groupby("arm")["brand"].transform("size").gt(1).any()
    header = ["arm", "brand", *(["market share (%)"] if rivals else []), "customers at end",
              "churn (per year, %)",
              "customer equity", "cost per customer",
              *(["cost per incremental customer"] if incremental else []),
              *(f"lifetime value, {name}" for name in sources)]
    rows = []
    for _, r in summary.iterrows():
        rows.append([r["arm"], r["brand"], *([_ci(r, "market_share", 1, 100)] if rivals else []),
                     _ci(r, "customers_end", 0), _ci(r, "churn", 1, 100),
                     _ci(r, "customer_equity", 0), _ci(r, "cost_per_customer", 2),
                     *([_ci(r, "incremental_cost_per_customer", 2)] if incremental else []),
                     *(_ci(r, f"ltv_{name}", 2) for name in sources)])
    lines = ["## Brands", "",
             "Per arm and brand (mean [95% interval] over replicates; money discounted to "
             "step 0 where it says so in the definitions):", "",
             *markdown_table(header, rows).splitlines(), ""]
    defined = [*(["market_share"] if rivals else []), "churn", "customer_equity",
               "cost_per_customer", *(["incremental_cost_per_customer"] if incremental else [])]
    lines += [f"- **{name}**: {BRAND_OUTCOMES[name]}" for name in defined]
    if sources:
        lines.append("- **lifetime value, SOURCE**: discounted margin earned during the run "
                     "per customer that source acquired (the influence credited with the "
                     "customer's first purchase)")
    lines += ["", *(f"- {sentence}" for sentence in _brand_reading(summary, differences,
                                                                   sources)), ""]
    return lines


def _brand_reading(summary: pd.DataFrame, differences: pd.DataFrame,
                   sources: list[str]) -> list[str]:
    out = []
    for arm, rows in summary.groupby("arm", sort=False):
        rows = rows.sort_values("market_share_mean", ascending=False)
        if len(rows) > 1:
            lead, second = rows.iloc[0], rows.iloc[1]
            split = " against ".join(f"{r['brand']} {_ci(r, 'market_share', 1, 100)}%"
                                     for _, r in rows.iterrows())
            apart = lead["market_share_lo"] > second["market_share_hi"]
            out.append(f"{arm}: purchases split {split}"
                       + (f"; {lead['brand']} leads, the intervals apart." if apart else
                          "; the intervals overlap: no brand leads clearly."))
        for _, r in rows.iterrows():
            values = {name: r[f"ltv_{name}_mean"] for name in sources
                      if np.isfinite(r[f"ltv_{name}_mean"])}
            if len(values) >= 2:
                best = max(values, key=values.get)
                worst = min(values, key=values.get)
                ratio = values[best] / values[worst] if values[worst] > 0 else np.nan
                out.append(f"{arm}, {r['brand']}: customers acquired by {best} are worth "
                           f"{values[best]:,.2f} each, by {worst} {values[worst]:,.2f}"
                           + (f" ({ratio:.2f}×)." if np.isfinite(ratio) else "."))
    if not differences.empty:
        sure = differences[differences["outcome"].isin(["customer_equity", "market_share"])
                           & ((differences["lo"] > 0) | (differences["hi"] < 0))]
        for _, d in sure.iterrows():
            scale, unit = (100, " points") if d["outcome"] == "market_share" else (1, "")
            out.append(f"{d['arm']} against {d['reference']}, {d['brand']}: "
                       f"{d['outcome'].replace('_', ' ')} "
                       f"{d['difference'] * scale:+,.2f}{unit} "
                       f"[{d['lo'] * scale:+,.2f}, {d['hi'] * scale:+,.2f}] (paired).")
    return out


def _ci(row: pd.Series, outcome: str, decimals: int, scale: float = 1.0) -> str:
    """A summary row's ``<outcome>_mean [_lo, _hi]``."""
    return with_interval(*(row[f"{outcome}_{part}"] for part in ("mean", "lo", "hi")),
                         decimals, scale)
