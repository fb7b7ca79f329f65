"""The report's sections on what each lever adds (``attribution.csv``, counterfactual
attribution, :mod:`wommsim.attribution`) and on incremental economics per unit of spend
(``incremental.csv``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from wommsim.attribution import ALL_LEVERS
from wommsim.mechanisms import INFLUENCES, SCHEDULE
from wommsim.reporting.tables import markdown_table, number, with_interval

#: The lever of each influence that the last-touch credit names, from the mechanisms that
#: declare both (word of mouth is no lever).
_LEVER_OF = {m.influence.name: m.name for m in SCHEDULE if m.lever and m.influence}


def _ci(row: pd.Series, measure: str, decimals: int, sign: bool = True) -> str:
    return with_interval(row[measure], row[f"{measure}_lo"], row[f"{measure}_hi"], decimals,
                         sign=sign)


def _clear(row: pd.Series, measure: str = "shapley") -> int:
    """+1 (-1) when the measure's interval lies above (below) 0, else 0."""
    lo, hi = row[f"{measure}_lo"], row[f"{measure}_hi"]
    return 1 if lo > 0 else -1 if hi < 0 else 0


def last_touch_credit(brands: pd.DataFrame) -> pd.DataFrame:
    """Per arm and brand (the index), the mean over replicates of the adopters won during the
    run credited to each influence (``new_adopters_<influence>`` of ``brands.parquet``'s
    rows): the last-touch weighted credit, brand by brand."""
    cols = [f"new_adopters_{i}" for i in INFLUENCES if f"new_adopters_{i}" in brands]
    later = brands[brands["step"] > 0]
    return later.groupby(["arm", "replicate", "brand"], sort=False)[cols].sum().groupby(
        level=["arm", "brand"], sort=False).mean()


def contribution_section(attribution: pd.DataFrame, last_touch: pd.DataFrame | None = None
                         ) -> list[str]:
    """The report's section on each lever's counterfactual contribution: a table per arm
    and brand of the Shapley values (customers, purchases, revenue, customer equity; customer
    equity split into expansion and acceleration; the loss when switched off alone), and a
    reading. ``last_touch`` (:func:`last_touch_credit`) lets the reading say where the
    last-touch credit ranks the levers differently."""
    if attribution.empty:
        return ["## What each lever adds (counterfactual attribution)", "",
                "No arm spends on any lever: there is nothing to attribute (the last-touch "
                "credit figure shows which influence each purchase was credited to).", ""]
    several = attribution["brand"].nunique() > 1
    header = ["arm", *(["brand"] if several else []), "lever", "customers won", "purchases",
              "revenue", "customer equity", "of which expansion", "of which acceleration",
              "customers lost if switched off alone"]
    rows, reading = [], []
    keyed = attribution.set_index("outcome")
    for (arm, brand), group in attribution.groupby(["arm", "brand"], sort=False):
        for lever in pd.unique(group["lever"]):
            mine = group[group["lever"] == lever].set_index("outcome")
            c, p, r, e = (mine.loc[o] for o in ("customers", "purchases", "revenue",
                                                "customer_equity"))
            rows.append([arm, *([brand] if several else []),
                         "**all levers**" if lever == ALL_LEVERS else lever,
                         _ci(c, "shapley", 0), _ci(p, "shapley", 0), _ci(r, "shapley", 0),
                         _ci(e, "shapley", 0), _ci(e, "expansion", 0),
                         _ci(e, "acceleration", 0), _ci(c, "switch_off", 0)])
        reading += _arm_reading(arm, brand if several else "", group, last_touch)
    replicates = int(keyed["replicates"].max())
    return ["## What each lever adds (counterfactual attribution)", "",
            "Each arm was run again, on the same seeds, with every subset of its brand's "
            "levers switched off (their money unspent). A lever's contribution is its "
            "**Shapley value**: what adding it changes, averaged over the orders in which the "
            "levers could be added; the contributions add up to the effect of all levers "
            "together (the row **all levers**: the arm against its own no-marketing run). "
            "**Expansion** is the part from consumers who would never have bought (within the "
            "horizon) without the lever, **acceleration** the part from consumers who would "
            "have bought anyway, later or less (Libai, Muller & Peres 2013); customers won "
            "change only by expansion. The last column is what switching the lever off alone "
            f"loses. Mean [95% interval] over {replicates} paired replicates "
            "(attribution.csv has every outcome and measure).", "",
            *markdown_table(header, rows).splitlines(), "",
            *(f"- {sentence}" for sentence in reading), ""]


def _arm_reading(arm: str, brand: str, group: pd.DataFrame,
                 last_touch: pd.DataFrame | None) -> list[str]:
    who = f"{arm}" + (f", {brand}" if brand else "")
    levers = group[group["lever"] != ALL_LEVERS]
    equity = levers[levers["outcome"] == "customer_equity"].set_index("lever")
    customers = levers[levers["outcome"] == "customers"].set_index("lever")
    total = group[(group["lever"] == ALL_LEVERS)
                  & (group["outcome"] == "customer_equity")].iloc[0]
    out = []
    order = equity["shapley"].sort_values(ascending=False)
    ranked = ", ".join(f"{lever} {number(value, 0, sign=True)}" for lever, value in order.items())
    share = (f" ({number(total['expansion'] / total['shapley'] * 100, 0)}% of it expansion)"
             if total["shapley"] != 0 else "")
    out.append(f"{who}: the levers add {_ci(total, 'shapley', 0)} customer equity "
               f"together{share}; by lever: {ranked}.")
    harmful = [lever for lever, row in equity.iterrows() if _clear(row) < 0]
    idle = [lever for lever, row in equity.iterrows() if _clear(row) == 0]
    if harmful:
        out.append(f"{who}: {', '.join(harmful)} clearly lowers customer equity (interval "
                   "below 0).")
    if idle:
        out.append(f"{who}: the contribution of {', '.join(idle)} to customer equity is not "
                   "distinguishable from 0.")
    brand = brand or group["brand"].iloc[0]
    if last_touch is not None and (arm, brand) in last_touch.index:
        row = last_touch.loc[(arm, brand)]
        credit = {_LEVER_OF[i]: row.get(f"new_adopters_{i}", np.nan)
                  for i in INFLUENCES if i in _LEVER_OF and _LEVER_OF[i] in customers.index}
        credit = {k: v for k, v in credit.items() if np.isfinite(v)}
        causal = customers["shapley"].to_dict()
        if len(credit) >= 2:
            by_credit = sorted(credit, key=credit.get, reverse=True)
            by_cause = sorted(credit, key=causal.get, reverse=True)
            if by_credit != by_cause:
                out.append(f"{who}: the last-touch credit ranks the levers {', '.join(by_credit)} "
                           f"on customers won; their counterfactual contributions rank them "
                           f"{', '.join(by_cause)}. The credit is a heuristic, not an effect.")
    return out


#: The incremental outcomes shown in the report, with their decimals per unit of spend.
_PER_SPEND = {"customers": ("customers per 1,000 spent", 1000.0, 1),
              "revenue": ("revenue per unit spent", 1.0, 2),
              "margin": ("margin per unit spent", 1.0, 2),
              "customer_equity": ("customer equity per unit spent", 1.0, 2)}


def incremental_section(incremental: pd.DataFrame) -> list[str]:
    """The report's section on incremental economics: per arm, brand and baseline (no
    marketing, and the reference arm), the incremental customers and customer equity, the
    extra spend, and the incremental outcomes per unit of extra spend."""
    if incremental.empty:
        return []
    several = incremental["brand"].nunique() > 1
    header = ["arm", *(["brand"] if several else []), "against", "incremental customers",
              "incremental customer equity", "extra spend",
              *(label for label, _, _ in _PER_SPEND.values())]
    rows = []
    for (arm, brand, baseline), group in incremental.groupby(["arm", "brand", "baseline"],
                                                             sort=False):
        by = group.set_index("outcome")
        per = [with_interval(by.loc[o, "per_spend"], by.loc[o, "per_spend_lo"],
                             by.loc[o, "per_spend_hi"], decimals, scale)
               for o, (_, scale, decimals) in _PER_SPEND.items()]
        rows.append([arm, *([brand] if several else []),
                     "no marketing" if baseline == "no_marketing" else baseline,
                     _ci(by.loc["customers"], "incremental", 0),
                     _ci(by.loc["customer_equity"], "incremental", 0),
                     _ci(by.loc["customers"], "extra_spend", 0, sign=False), *per])
    return ["## Incremental economics", "",
            "What each arm gains over a baseline, on the same seeds: its own run with the "
            "brand's levers all switched off (no marketing; with attribution=counterfactual) "
            "and its reference arm. Per unit of spend: the gain divided by the extra spend, "
            "replicate by replicate (n/a where the arm did not spend more than the baseline "
            "in every replicate, as at equal budget). Mean [95% interval] over the paired "
            "replicates (incremental.csv has purchases too).", "",
            *markdown_table(header, rows).splitlines(), ""]
