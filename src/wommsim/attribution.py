"""Counterfactual attribution: what each lever adds, from runs with levers switched off.

For each arm, each brand and each replicate, the model runs once for every subset of the
brand's active levers (a *coalition*; the levers outside it get no money, as if their
shares were 0) on the replicate's seeds: the same network, the same consumers and, since
each rule draws from its own random stream (:mod:`wommsim.rng`), the same draws wherever
the runs have not diverged (common random numbers). From these runs:

- **Shapley value** of lever ``i`` on outcome ``v``: its marginal contribution
  ``v(S ∪ {i}) - v(S)`` averaged over the orders in which the levers could be added,
  ``Σ_S |S|! (k - |S| - 1)! / k! · (v(S ∪ {i}) - v(S))`` over the subsets ``S`` of the
  other ``k - 1`` levers (Shapley 1953). The values add up to the effect of all levers
  together, ``v(all) - v(none)``, with no interaction left over or counted twice.
- **Switch-off**: ``v(all) - v(all without i)``, what the brand loses by dropping lever ``i``
  alone (equal to the Shapley value only when the lever does not interact with the others).
- **Expansion and acceleration** (Libai, Muller & Peres 2013): every marginal contribution
  compares two runs consumer by consumer. The part from consumers who bought in one run and
  never in the other (within the horizon) is *expansion*; the rest, from consumers who
  bought in both (earlier, more often or at another price), is *acceleration*. Each Shapley
  value splits the same way, and the two parts add up to it. Customers won change only by
  expansion; purchases, revenue and customer equity change by both.

The empty coalition is the brand's no-marketing counterfactual, against which incremental
economics per unit of spend are computed (:func:`incremental_table`).

The same games played week by week give the ground truth of a **media panel**
(:func:`media_panel`): per week, the brand's spend and exposure per lever, its sales, its
no-marketing baseline and each lever's weekly Shapley contribution, in the shape
marketing-mix models read, to test whether one recovers the simulated truth.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from wommsim.config import LEVERS, Config, brands_of
from wommsim.network import build_network
from wommsim.reporting.analysis import mean_ci
from wommsim.rng import Streams

#: What a contribution is measured in, with its meaning (per brand, during the run).
CONTRIBUTION_OUTCOMES: dict[str, str] = {
    "customers": "consumers whose first purchase of the brand falls in the run",
    "purchases": "purchases of the brand during the run",
    "revenue": "what the brand's purchases paid during the run, discounts deducted (money)",
    "customer_equity": "the brand's customer equity at the end: discounted margin earned plus "
                       "the discounted expected margin of the customers held (money)",
}
#: Run totals kept besides the contribution outcomes, for incremental economics.
TOTALS = (*CONTRIBUTION_OUTCOMES, "margin", "spend")
#: The measures of a contribution (columns of ``attribution.csv``, each with mean, lo, hi).
MEASURES = ("shapley", "expansion", "acceleration", "switch_off")
#: The lever name of the row holding the effect of all levers together.
ALL_LEVERS = "all"
#: The lever name of the rows holding a brand's weekly panel (:func:`weekly_rows`).
WEEKLY = "week"
#: The brand's weekly outcomes (columns of ``brands.parquet``) kept from every coalition run
#: for the weekly truth: the media panel's KPIs.
WEEKLY_OUTCOMES = ("revenue", "purchases", "new_customers")
#: Per lever, the exposure its mechanism reports each step: the panel's
#: ``impressions_<lever>``.
EXPOSURES = {"advertising": "ad_impressions", "dialogue": "replies",
             "content": "content_reach", "reviews": "review_invitations",
             "incentives": "incentive_offers"}
#: The Monday that begins step 1's week in the media panel (a fixed date, so that the file
#: is the same whenever it is written).
PANEL_START = "2024-01-01"
#: The media panel's columns from the counterfactual runs (:func:`weekly_rows`).
WEEKLY_COLUMNS = (*(f"spend_{lever}" for lever in LEVERS),
                  *(f"impressions_{lever}" for lever in LEVERS),
                  *(f"baseline_{outcome}" for outcome in WEEKLY_OUTCOMES),
                  *(f"contribution_{outcome}_{lever}" for outcome in WEEKLY_OUTCOMES
                    for lever in LEVERS))
#: The columns of ``media_panel.csv``, in order.
PANEL_COLUMNS = ("arm", "replicate", "brand", "week", "step", *WEEKLY_OUTCOMES,
                 *WEEKLY_COLUMNS)


def active_levers(cfg: Config) -> tuple[str, ...]:
    """The levers a brand's config spends on at some step: a share above 0 in its strategy
    or in one of its phases, and the lever enabled. Other levers get no money, so they
    contribute nothing and need no counterfactual runs."""
    plans = [cfg.strategy, *cfg.phases]
    return tuple(lever for lever in LEVERS
                 if getattr(getattr(cfg, lever), "enabled", True)
                 and any(getattr(plan, lever) > 0 for plan in plans))


def coalitions(levers: Sequence[str]) -> list[frozenset[str]]:
    """Every subset of ``levers``, smallest first."""
    return [frozenset(c) for size in range(len(levers) + 1)
            for c in itertools.combinations(levers, size)]


def shapley_weights(k: int) -> dict[int, float]:
    """The weight of a marginal contribution ``v(S ∪ {i}) - v(S)`` with ``|S| = s`` among
    ``k`` players: ``s! (k - s - 1)! / k!``."""
    return {s: math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k)
            for s in range(k)}


def shapley(values: Mapping[frozenset[str], float], levers: Sequence[str]) -> dict[str, float]:
    """Shapley values of ``levers`` in the game ``values`` (coalition -> worth; every
    subset of ``levers`` present)."""
    return shapley_of(lambda with_lever, without: values[with_lever] - values[without], levers)


def shapley_of(marginal: Callable[[frozenset[str], frozenset[str]], float],
               levers: Sequence[str]) -> dict[str, float]:
    """Each lever's Shapley-weighted sum of ``marginal(S ∪ {lever}, S)`` over the subsets
    ``S`` of the other levers: its Shapley value when ``marginal`` is the game's difference
    of worths, or a part of it (such as its expansion) when ``marginal`` is that part of
    each difference."""
    weights = shapley_weights(len(levers))
    values = {}
    for lever in levers:
        total = 0.0  # plain addition in subset order, as the findings of record were summed
        for s in coalitions([x for x in levers if x != lever]):
            total = total + weights[len(s)] * marginal(s | {lever}, s)
        values[lever] = total
    return values


def _run(cfg: Config, replicate: int, graph, brand: str, off: frozenset[str]
         ) -> dict[str, object]:
    """One counterfactual run: the brand's run totals (:data:`TOTALS`), per consumer
    whether it bought the brand by the end and each contribution outcome, and per step
    (1 .. ``steps``) its :data:`WEEKLY_OUTCOMES` and its spend and exposure per lever."""
    from wommsim.model import WommModel

    model = WommModel(cfg, replicate=replicate, graph=graph, switched_off={brand: off},
                      ledger=True)
    side = next(s for s in model.markets if s.name == brand)
    reported = {**{f"spend_{lever}": f"spend_{lever}" for lever in LEVERS},
                **{f"impressions_{lever}": EXPOSURES[lever] for lever in LEVERS}}
    media = {column: np.zeros(cfg.steps) for column in reported}
    for t in range(cfg.steps):
        model.step()
        # The brand's own lever metrics: the market's per-step table adds up the brands.
        for column, name in reported.items():
            media[column][t] = side.step_metrics.get(name, 0.0)
    state, ledger = side.state, side.ledger
    rows = [r for r in model.brand_rows if r["brand"] == brand and r["step"] > 0]
    last = rows[-1]
    held = model.state.current_brand == side.index
    # The customer equity's future part, shared equally among the customers held at the end.
    future = last["customer_equity"] - side.discounted_margin
    per_held = future / np.count_nonzero(held) if held.any() else 0.0
    per_consumer = {
        "customers": (state.adopted_step >= 1).astype(float),
        "purchases": ledger["purchases"].astype(float),
        "revenue": ledger["revenue"],
        "customer_equity": ledger["value"] + np.where(held, per_held, 0.0),
    }
    totals = {
        "customers": float(sum(r["new_customers"] for r in rows)),
        "purchases": float(sum(r["purchases"] for r in rows)),
        "revenue": float(sum(r["revenue"] for r in rows)),
        "customer_equity": float(last["customer_equity"]),
        "margin": float(sum(r["margin"] for r in rows)),
        "spend": float(sum(r["spend"] for r in rows)),
    }
    weekly = {outcome: np.array([r[outcome] for r in rows], dtype=float)
              for outcome in WEEKLY_OUTCOMES}
    return {"totals": totals, "bought": state.adopted.copy(), "per_consumer": per_consumer,
            "weekly": weekly, "media": media}


def expansion(with_lever: Mapping[str, object], without: Mapping[str, object],
              outcome: str) -> float:
    """The expansion part of ``v(with) - v(without)``: what the consumers who bought in
    one run and never in the other bring (their value where they bought); the rest of the
    difference is acceleration."""
    a, b = with_lever["bought"], without["bought"]
    only_a, only_b = a & ~b, b & ~a
    return float(with_lever["per_consumer"][outcome][only_a].sum()
                 - without["per_consumer"][outcome][only_b].sum())


def attribute_replicate(cfg: Config, replicate: int) -> list[dict[str, object]]:
    """Counterfactual attribution of one arm's replicate: for each brand with active levers,
    one row per lever (and one for all levers, ``lever == "all"``) and contribution outcome,
    with its :data:`MEASURES`; one row per run total with ``lever == "none"`` and
    ``"full"`` holding the no-marketing and full runs' totals (for incremental economics);
    and one row per step with ``lever == "week"`` (:func:`weekly_rows`, the media panel)."""
    graph = build_network(cfg.network, cfg.consumers, Streams(cfg.seed, replicate).network)
    rows: list[dict[str, object]] = []
    for brand in brands_of(cfg):
        levers = active_levers(brand.config)
        if not levers:
            continue
        everything = frozenset(levers)
        runs = {s: _run(cfg, replicate, graph, brand.name, everything - s)
                for s in coalitions(levers)}
        base = {"arm": cfg.arm_name, "replicate": replicate, "brand": brand.name}
        value = {o: shapley({s: run["totals"][o] for s, run in runs.items()}, levers)
                 for o in CONTRIBUTION_OUTCOMES}
        exp = {o: shapley_of(lambda a, b, o=o, r=runs: expansion(r[a], r[b], o), levers)
               for o in CONTRIBUTION_OUTCOMES}
        for lever in levers:
            dropped = runs[everything - {lever}]
            for outcome in CONTRIBUTION_OUTCOMES:
                v, e = value[outcome][lever], exp[outcome][lever]
                rows.append({**base, "lever": lever, "outcome": outcome, "shapley": v,
                             "expansion": e, "acceleration": v - e,
                             "switch_off": runs[everything]["totals"][outcome]
                             - dropped["totals"][outcome]})
        full, none = runs[everything], runs[frozenset()]
        for outcome in CONTRIBUTION_OUTCOMES:
            total = full["totals"][outcome] - none["totals"][outcome]
            e = expansion(full, none, outcome)
            rows.append({**base, "lever": ALL_LEVERS, "outcome": outcome, "shapley": total,
                         "expansion": e, "acceleration": total - e, "switch_off": total})
        for name, run in (("none", none), ("full", full)):
            rows += [{**base, "lever": name, "outcome": outcome, "total": run["totals"][outcome]}
                     for outcome in TOTALS]
        rows += weekly_rows(base, levers, runs)
    return rows


def weekly_rows(base: Mapping[str, object], levers: Sequence[str],
                runs: Mapping[frozenset[str], Mapping[str, object]]) -> list[dict[str, object]]:
    """A brand's rows of the media panel, one per step 1 .. ``steps`` (``lever`` is
    :data:`WEEKLY`): the full run's spend and exposure per lever, the no-marketing run's
    :data:`WEEKLY_OUTCOMES` (``baseline_<outcome>``) and each lever's Shapley value in the
    game of that step's outcome (``contribution_<outcome>_<lever>``, 0 for a lever without
    money). Shapley values are linear in the game, so a lever's weekly values add up to its
    value for the run total."""
    full, none = runs[frozenset(levers)], runs[frozenset()]
    columns: dict[str, object] = {"step": np.arange(1, none["weekly"]["revenue"].size + 1),
                                  **full["media"]}
    for outcome in WEEKLY_OUTCOMES:
        columns[f"baseline_{outcome}"] = none["weekly"][outcome]
        values = shapley({s: run["weekly"][outcome] for s, run in runs.items()}, levers)
        for lever in LEVERS:
            columns[f"contribution_{outcome}_{lever}"] = values.get(lever, 0.0)
    return [{**base, "lever": WEEKLY, **row} for row in pd.DataFrame(columns).to_dict("records")]


def media_panel(rows: Iterable[dict[str, object]], brands: pd.DataFrame) -> pd.DataFrame:
    """``media_panel.csv``: one row per arm, replicate (a market: a "geo" to a marketing-mix
    model), brand and step 1 .. ``steps`` (:data:`PANEL_COLUMNS`): its week (the Monday
    :data:`PANEL_START` + 7 days per step after the first), the brand's
    :data:`WEEKLY_OUTCOMES` (from ``brands``, the arms as they ran), and the weekly rows of
    :func:`attribute_replicate` (spend and exposure per lever, the no-marketing baseline, each
    lever's weekly contribution). A brand without active levers spends nothing, so its run is
    its own no-marketing run: no spend, no contribution, its outcomes its baseline."""
    keys = ["arm", "replicate", "brand", "step"]
    panel = brands.loc[brands["step"] > 0, [*keys, *WEEKLY_OUTCOMES]]
    # Each market's weeks together, arms and brands in the order they ran (the long,
    # per-geo shape marketing-mix tools read).
    market = panel.groupby(keys[:3], sort=False).ngroup()
    panel = panel.assign(market=market).sort_values(["market", "step"], kind="stable")
    weekly = pd.DataFrame([r for r in rows if r.get("lever") == WEEKLY],
                          columns=["lever", *keys, *WEEKLY_COLUMNS])
    panel = panel.merge(weekly.drop(columns="lever"), on=keys, how="left",
                        validate="one_to_one")
    for outcome in WEEKLY_OUTCOMES:
        panel[f"baseline_{outcome}"] = panel[f"baseline_{outcome}"].fillna(panel[outcome])
    panel = panel.fillna(dict.fromkeys(WEEKLY_COLUMNS, 0.0))
    for lever in LEVERS:  # exposures are counts
        panel[f"impressions_{lever}"] = panel[f"impressions_{lever}"].astype(np.int64)
    start = pd.Timestamp(PANEL_START)
    panel["week"] = (start + pd.to_timedelta(7 * (panel["step"] - 1), unit="D")
                     ).dt.strftime("%Y-%m-%d")
    return panel[list(PANEL_COLUMNS)].reset_index(drop=True)


def attribute_task(task: tuple[Config, int]) -> list[dict[str, object]]:
    """One ``(config, replicate)`` task of :func:`attribute_replicate` (for process pools)."""
    return attribute_replicate(*task)


def contributions(rows: Iterable[dict[str, object]]) -> pd.DataFrame:
    """The per-replicate rows of :func:`attribute_replicate` that hold contributions."""
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return pd.DataFrame(columns=["arm", "replicate", "brand", "lever", "outcome",
                                     *MEASURES])
    return frame[frame["lever"].isin([*LEVERS, ALL_LEVERS])][
        ["arm", "replicate", "brand", "lever", "outcome", *MEASURES]].reset_index(drop=True)


def attribution_table(per_replicate: pd.DataFrame) -> pd.DataFrame:
    """``attribution.csv``: per arm, brand, lever and outcome, the mean and 95% interval
    over the replicates of each of :data:`MEASURES` (``<measure>``, ``<measure>_lo``,
    ``<measure>_hi``) and the number of replicates."""
    rows = []
    for keys, group in per_replicate.groupby(["arm", "brand", "lever", "outcome"], sort=False):
        row = dict(zip(["arm", "brand", "lever", "outcome"], keys, strict=True))
        for measure in MEASURES:
            mean, lo, hi = mean_ci(group[measure].to_numpy(dtype=float))
            row.update({measure: mean, f"{measure}_lo": lo, f"{measure}_hi": hi})
        row["replicates"] = len(group)
        rows.append(row)
    columns = ["arm", "brand", "lever", "outcome",
               *(f"{m}{part}" for m in MEASURES for part in ("", "_lo", "_hi")), "replicates"]
    return pd.DataFrame(rows, columns=columns)


#: Outcomes of incremental economics, each against a baseline and per unit of extra spend.
INCREMENTAL_OUTCOMES = ("customers", "purchases", "revenue", "margin", "customer_equity")


def run_totals(brands: pd.DataFrame) -> pd.DataFrame:
    """Per arm, replicate and brand, the run totals of :data:`TOTALS` from the rows of
    ``brands.parquet`` (the arms as they ran)."""
    later = brands[brands["step"] > 0]
    keys = ["arm", "replicate", "brand"]
    sums = later.groupby(keys, sort=False)[["new_customers", "purchases", "revenue", "margin",
                                            "spend"]].sum()
    last = brands["step"] == brands.groupby(keys)["step"].transform("max")
    equity = brands[last].set_index(keys)["customer_equity"]
    return pd.DataFrame({"customers": sums["new_customers"].astype(float),
                         "purchases": sums["purchases"].astype(float),
                         "revenue": sums["revenue"], "margin": sums["margin"],
                         "spend": sums["spend"], "customer_equity": equity}).reset_index()


def incremental_table(totals: pd.DataFrame, no_marketing: pd.DataFrame,
                      references: Mapping[str, str]) -> pd.DataFrame:
    """``incremental.csv``: per arm, brand, baseline and outcome of
    :data:`INCREMENTAL_OUTCOMES`, the incremental outcome against the baseline, the extra
    spend, and the incremental outcome per unit of extra spend (each a mean over the paired
    replicates with its 95% interval; per unit of spend only where the arm spent more than
    the baseline in every replicate). Baselines: ``no_marketing`` (the arm's own run with
    every lever of the brand switched off, from :func:`attribute_replicate`) and the arm's
    reference arm (``references``, as in ``differences.csv``)."""
    keys = ["arm", "replicate", "brand"]
    arm_totals = totals.set_index(keys)
    rows = []

    def add(arm: str, brand: str, baseline: str, mine: pd.DataFrame, base: pd.DataFrame
            ) -> None:
        common = mine.index.intersection(base.index)
        if common.empty:
            return
        extra = (mine.loc[common, "spend"] - base.loc[common, "spend"]).to_numpy(dtype=float)
        for outcome in INCREMENTAL_OUTCOMES:
            gain = (mine.loc[common, outcome] - base.loc[common, outcome]).to_numpy(dtype=float)
            per = gain / extra if (extra > 0).all() else np.full(gain.size, np.nan)
            row = {"arm": arm, "brand": brand, "baseline": baseline, "outcome": outcome}
            for name, values in (("incremental", gain), ("extra_spend", extra),
                                 ("per_spend", per)):
                mean, lo, hi = mean_ci(values)
                row.update({name: mean, f"{name}_lo": lo, f"{name}_hi": hi})
            row["pairs"] = int(common.size)
            rows.append(row)

    by_brand = {key: group.droplevel(["arm", "brand"])
                for key, group in arm_totals.groupby(level=["arm", "brand"], sort=False)}
    if not no_marketing.empty:
        none = no_marketing.set_index(keys)
        for (arm, brand), group in none.groupby(level=["arm", "brand"], sort=False):
            if (arm, brand) in by_brand:
                add(arm, brand, "no_marketing", by_brand[(arm, brand)],
                    group.droplevel(["arm", "brand"]))
    for (arm, brand), mine in by_brand.items():
        reference = references.get(arm)
        if reference is not None and (reference, brand) in by_brand:
            add(arm, brand, reference, mine, by_brand[(reference, brand)])
    return pd.DataFrame(rows)


def no_marketing_totals(rows: Iterable[dict[str, object]]) -> pd.DataFrame:
    """Per arm, replicate and brand, the totals of the run with all the brand's levers
    switched off (the rows ``lever == "none"`` of :func:`attribute_replicate`)."""
    frame = pd.DataFrame([r for r in rows if r.get("lever") == "none"])
    if frame.empty:
        return pd.DataFrame(columns=["arm", "replicate", "brand", *TOTALS])
    return (frame.pivot_table(index=["arm", "replicate", "brand"], columns="outcome",
                              values="total", sort=False)
            .reset_index()[["arm", "replicate", "brand", *TOTALS]])


def with_counterfactual(brand_summary: pd.DataFrame, attribution: pd.DataFrame | None,
                        incremental: pd.DataFrame) -> pd.DataFrame:
    """The per arm × brand summary with, when the run attributed counterfactually, each
    lever's Shapley contribution to each outcome (``contribution_<outcome>_<lever>`` and
    ``_all``, with ``_mean``, ``_lo``, ``_hi``; exactly 0 for a lever the arm does not spend
    on) and the incremental outcomes per unit of spend against no marketing
    (``incremental_<outcome>_per_spend``)."""
    if attribution is None:
        return brand_summary
    out = brand_summary.copy()
    keyed = attribution.set_index(["arm", "brand", "lever", "outcome"])
    for outcome in CONTRIBUTION_OUTCOMES:
        for lever in (*LEVERS, ALL_LEVERS):
            for part, column in (("mean", "shapley"), ("lo", "shapley_lo"),
                                 ("hi", "shapley_hi")):
                out[f"contribution_{outcome}_{lever}_{part}"] = [
                    keyed[column].get((arm, brand, lever, outcome), 0.0)
                    for arm, brand in zip(out["arm"], out["brand"], strict=True)]
    versus = (incremental[incremental["baseline"] == "no_marketing"]
              .set_index(["arm", "brand", "outcome"]) if not incremental.empty else None)
    for outcome in INCREMENTAL_OUTCOMES:
        for part, column in (("mean", "per_spend"), ("lo", "per_spend_lo"),
                             ("hi", "per_spend_hi")):
            out[f"incremental_{outcome}_per_spend_{part}"] = [
                versus[column].get((arm, brand, outcome), np.nan) if versus is not None
                else np.nan for arm, brand in zip(out["arm"], out["brand"], strict=True)]
    return out
