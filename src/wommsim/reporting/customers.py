"""Customer-level readings (runs with ``transactions=true``): how an arm's offers split
their effect between the consumers who took an offer and everyone else.

Every arm of a replicate has the same consumers on the same network (the paired design), so
the consumers who took an offer in one arm can be followed into the reference arm: the
offers' effect on them is their value in the arm with offers minus the same consumers' value
in the reference, and the effect on everyone else (the spillover, through word of mouth,
reviews and social proof) is the rest of the brand's change.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from wommsim.reporting.analysis import mean_ci
from wommsim.reporting.tables import markdown_table, with_interval

#: The groups of :func:`takers_decomposition`.
GROUPS = ("takers", "everyone else")


def takers_decomposition(customers: pd.DataFrame, references: Mapping[str, str],
                         consumers: Mapping[str, int]) -> pd.DataFrame:
    """Per compared arm whose consumers took offers (``references`` maps each to its
    reference arm), brand and group (:data:`GROUPS`): the group's size and the mean over
    replicates, with its 95% interval, of the group's change against the reference in
    ``value`` (margin, discounted) and ``purchases``, in total and per consumer.
    ``consumers`` is each arm's population."""
    rows = []
    for (arm, brand), offered in customers.groupby(["arm", "brand"], sort=False):
        if arm not in references or not offered["took_offer"].any():
            continue
        reference = references[arm]
        ref = customers[customers["arm"] == reference]
        per_replicate = []
        for rep, mine in offered.groupby("replicate"):
            theirs = ref[(ref["replicate"] == rep) & (ref["brand"] == brand)]
            theirs = theirs.set_index("consumer")[["value", "purchases"]]
            mine = mine.set_index("consumer")
            takers = mine.index[mine["took_offer"].to_numpy()]
            for group, members in (("takers", takers), ("everyone else", None)):
                size = takers.size if members is not None else consumers[arm] - takers.size
                change = {}
                for measure in ("value", "purchases"):
                    if members is None:
                        now = mine[measure].sum() - mine.loc[takers, measure].sum()
                        before = theirs[measure].sum() - theirs[measure].reindex(
                            takers, fill_value=0).sum()
                    else:
                        now = mine.loc[takers, measure].sum()
                        before = theirs[measure].reindex(takers, fill_value=0).sum()
                    change[measure] = float(now - before)
                per_replicate.append({"group": group, "size": size, **change})
        table = pd.DataFrame(per_replicate)
        for group in GROUPS:
            part = table[table["group"] == group]
            row = {"arm": arm, "reference": reference, "brand": brand, "group": group,
                   "consumers": float(part["size"].mean()), "replicates": len(part)}
            for measure in ("value", "purchases"):
                for scale, values in (("", part[measure]),
                                      ("_per_consumer", part[measure] / part["size"].clip(1))):
                    mean, lo, hi = mean_ci(values.to_numpy(dtype=float))
                    row.update({f"{measure}{scale}": mean, f"{measure}{scale}_lo": lo,
                                f"{measure}{scale}_hi": hi})
            rows.append(row)
    return pd.DataFrame(rows)


def takers_section(table: pd.DataFrame) -> list[str]:
    """The report's section on offer takers and everyone else (``takers.csv``)."""
    if table.empty:
        return []
    rows = [[r["arm"], r["brand"], r["group"], f"{r['consumers']:,.0f}",
             _ci(r, "value", 0), _ci(r, "value_per_consumer", 2), _ci(r, "purchases", 0)]
            for _, r in table.iterrows()]
    return ["## Offer takers and everyone else", "",
            "The offers' effect against the reference arm, split between the consumers who "
            "took an offer and everyone else, the same consumers followed into the reference "
            "(the arms share consumers): change in discounted customer value and in purchases "
            "over the run, mean [95% interval] over replicates (`takers.csv`).", "",
            *markdown_table(["arm", "brand", "group", "consumers", "value", "value per consumer",
                             "purchases"], rows).splitlines(), "",
            *(f"- {line}" for line in decomposition_reading(table)), ""]


def _ci(row: pd.Series, measure: str, decimals: int) -> str:
    """A row's signed ``<measure> [_lo, _hi]``."""
    return with_interval(row[measure], row[f"{measure}_lo"], row[f"{measure}_hi"], decimals,
                         sign=True)


def decomposition_reading(table: pd.DataFrame) -> list[str]:
    """One sentence per arm and brand: the offers' effect on takers and on everyone else."""
    lines = []
    for (arm, brand), part in table.groupby(["arm", "brand"], sort=False):
        takers, rest = (part[part["group"] == g].iloc[0] for g in GROUPS)
        total = takers["value"] + rest["value"]
        lines.append(
            f"Against {takers['reference']}, the offers of {arm} changed {brand}'s customer value "
            f"by {total:+,.0f}: {takers['value']:+,.0f} "
            f"[{takers['value_lo']:+,.0f}, {takers['value_hi']:+,.0f}] among the "
            f"{takers['consumers']:,.0f} consumers who took an offer "
            f"({takers['value_per_consumer']:+,.2f} each) and {rest['value']:+,.0f} "
            f"[{rest['value_lo']:+,.0f}, {rest['value_hi']:+,.0f}] among everyone else "
            f"({rest['value_per_consumer']:+,.3f} each: "
            f"{'a spillover' if not _spans_zero(rest) else 'no spillover distinguishable from 0'}"
            ").")
    return lines


def _spans_zero(row: pd.Series) -> bool:
    return bool(np.isnan(row["value_lo"]) or row["value_lo"] <= 0 <= row["value_hi"])
