"""Customers over time and brands in competition: what a customer is worth by how it was
acquired, and whether two identical brands split their market.

The value cases read the purchase log (``transactions.parquet``'s rows) of a repeat-purchase
monopoly. They follow the customers the brand acquired in the first year (first purchase of
the brand in steps ``1 .. year``) over the same fixed window after each one's own first
purchase (``year`` steps, that purchase included), so every customer is valued over the same
span whatever its week of acquisition. A customer's value is the margin of its purchases in
that window (price paid less the unit cost, so a discount redeemed comes off it in full),
discounted to its first purchase at ``economics.discount_rate``. Existing customers at step 0
were not acquired during the run and are left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from wommsim.config import Config, EconomicsConfig, validate
from wommsim.reporting.analysis import mean_ci
from wommsim.reporting.tables import markdown_table
from wommsim.validation.core import (
    Context,
    Finding,
    MarketTables,
    case,
    expectation_shift_text,
    pct,
)
from wommsim.validation.stats import two_sided_t

ALPHA = 0.05
#: Lewis (2006): a 35% acquisition discount; customers acquired with it are worth about half.
LEWIS_DISCOUNT, LEWIS_RANGE = 0.35, (0.3, 0.7)
#: Villanueva, Yoo & Hanssens (2008): word-of-mouth customers are worth about twice as much.
VILLANUEVA_RANGE = (1.3, 3.0)
#: The influences whose customers count as marketing-induced: the brand's paid, firm-initiated
#: pushes, as the source's broadcast media, direct mail and promotions. Content, dialogue and
#: reviews are neither the source's marketing actions nor its referrals, and are left out.
MARKETING = ("ads", "incentives")
#: The mirror duel passes only if brand a's mean share is within this of one half.
SHARE_TOLERANCE = 0.02


def _size(ctx: Context) -> tuple[int, int, int]:
    """Consumers, a year in steps and replicates: 10,000 consumers, 52 weeks and 20
    replicates (quick: 400, 8 and 3). Runs last two years."""
    return ctx.size(10_000, 400), ctx.size(52, 8), ctx.size(20, 3)


def step_rate(economics: EconomicsConfig) -> float:
    """The discount rate per step, from ``economics.discount_rate`` per year."""
    return (1.0 + economics.discount_rate) ** (1.0 / economics.steps_per_year) - 1.0


def purchase_values(log: pd.DataFrame, economics: EconomicsConfig) -> pd.DataFrame:
    """The purchases of the customers acquired during the run (rows of ``log`` with an
    acquisition source), with the customer's first purchase of the brand (``acquired``),
    whether that first purchase redeemed an offer (``redeemed``), each purchase's ``age``
    (steps since it) and ``value``: its margin, price paid less the unit cost (list price,
    paid plus discount, times ``1 - economics.margin``), discounted to the first purchase."""
    bought = log[log["acquired_by"].notna()]
    key = ["brand", "consumer"]
    first = bought.loc[bought.groupby(key, sort=False)["step"].idxmin(), [*key, "step",
                                                                         "discount"]]
    first = first.rename(columns={"step": "acquired", "discount": "first_discount"})
    out = bought.merge(first, on=key, how="left")
    out["age"] = out["step"] - out["acquired"]
    cost = (out["price_paid"] + out["discount"]) * (1.0 - economics.margin)
    out["value"] = (out["price_paid"] - cost) * (1.0 + step_rate(economics)) ** -out["age"]
    out["redeemed"] = out.pop("first_discount") > 0
    return out


def cohort_purchases(log: pd.DataFrame, economics: EconomicsConfig, last: int,
                     window: int) -> pd.DataFrame:
    """The purchases (:func:`purchase_values`) of the customers acquired in steps
    ``1 .. last``, in the ``window`` steps from each one's first purchase (that one
    included)."""
    p = purchase_values(log, economics)
    return p[(p["acquired"] <= last) & (p["age"] < window)]


def per_customer(purchases: pd.DataFrame) -> pd.DataFrame:
    """One row per customer of ``purchases`` (:func:`cohort_purchases`): ``brand``,
    ``consumer``, ``acquired``, ``acquired_by``, ``redeemed``, ``value`` (of its purchases),
    ``first_value`` (of its first purchase alone) and ``purchases``."""
    p = purchases.assign(first_value=purchases["value"].where(purchases["age"] == 0, 0.0))
    return (p.groupby(["brand", "consumer"], sort=True)
            .agg(acquired=("acquired", "first"), acquired_by=("acquired_by", "first"),
                 redeemed=("redeemed", "first"), value=("value", "sum"),
                 first_value=("first_value", "sum"), purchases=("step", "size"))
            .reset_index())


def customer_values(log: pd.DataFrame, economics: EconomicsConfig, last: int,
                    window: int) -> pd.DataFrame:
    """One row per customer acquired in steps ``1 .. last``, valued over the ``window``
    steps from its first purchase (:func:`cohort_purchases`, :func:`per_customer`)."""
    return per_customer(cohort_purchases(log, economics, last, window))


def value_ratio(customers: pd.DataFrame, group: pd.Series, reference: pd.Series) -> float:
    """Mean value of the customers in ``group`` (a mask) over the mean value of those in
    ``reference``; NaN if either is empty or the reference's mean is not positive."""
    if not group.any() or not reference.any():
        return np.nan
    base = customers.loc[reference, "value"].mean()
    return float(customers.loc[group, "value"].mean() / base) if base > 0 else np.nan


def inside(lo: float, hi: float, bounds: tuple[float, float]) -> bool:
    """Whether the interval ``[lo, hi]`` lies within ``bounds`` (False if it is undefined)."""
    return bool(np.isfinite(lo) and np.isfinite(hi) and bounds[0] <= lo and hi <= bounds[1])


def overlaps(lo: float, hi: float, bounds: tuple[float, float]) -> bool:
    """Whether ``[lo, hi]`` meets ``bounds`` (False if it is undefined)."""
    return bool(np.isfinite(lo) and np.isfinite(hi) and lo <= bounds[1] and hi >= bounds[0])


Grouping = Callable[[pd.DataFrame], pd.Series]


@dataclass
class GroupValue:
    """What the customers of one group were worth, pooled over replicates."""

    customers: float     # per replicate
    value: float         # mean per customer
    first: float         # of it, the first purchase's
    purchases: float     # per customer, in the window
    again: float         # share who bought again in the window
    redeemed: float      # share whose first purchase redeemed an offer
    curve: np.ndarray    # mean cumulative value by steps since acquisition

    @property
    def later(self) -> float:
        return self.value - self.first


@dataclass
class ValueComparison:
    """Per-replicate value ratios of a group of customers to a reference group, their
    interval, and each group's values."""

    ratios: np.ndarray
    mean: float
    lo: float
    hi: float
    groups: dict[str, GroupValue]
    customers: list[pd.DataFrame]

    def verdict(self, bounds: tuple[float, float], agree: str, above: str, below: str,
                unit: str) -> str:
        """``agree``, ``above`` or ``below`` as the interval lies within ``bounds`` or the
        mean ratio above or below them, with the mean ratio in ``unit``."""
        if inside(self.lo, self.hi, bounds):
            lead = agree
        elif self.mean > bounds[1]:
            lead = above
        elif self.mean < bounds[0]:
            lead = below
        else:
            lead = ("The mean ratio is in the expected range, but its interval reaches beyond "
                    "it (too few replicates or customers to be sure)")
        return f"{lead}: {self.mean:.2f} {unit}."

    def reading(self, bounds: tuple[float, float]) -> str:
        """The interval against the expected range, in words."""
        where = ("lies within" if inside(self.lo, self.hi, bounds) else
                 "overlaps" if overlaps(self.lo, self.hi, bounds) else "lies outside")
        return (f"the 95% interval {_interval(self.lo, self.hi)} {where} the expected range "
                f"{bounds[0]:g}–{bounds[1]:g}")


def compare_values(runs: Sequence[MarketTables], cfg: Config, year: int,
                   groups: dict[str, Grouping]) -> ValueComparison:
    """Value of the customers acquired in the first ``year`` steps over ``year`` steps from
    their first purchase, by group (``groups``: label -> mask of :func:`customer_values`'s
    rows; the first is compared with the second), in each replicate of ``runs``."""
    purchases = [cohort_purchases(t.transactions, cfg.economics, year, year) for t in runs]
    tables = [per_customer(p) for p in purchases]
    numerator, denominator = list(groups.values())[:2]
    ratios = np.array([value_ratio(c, numerator(c), denominator(c)) for c in tables])
    values = {}
    for label, grouping in groups.items():
        chosen = [c[grouping(c)] for c in tables]
        pooled = pd.concat(chosen, ignore_index=True)
        count = max(len(pooled), 1)
        curve = np.zeros(year)
        for bought, members in zip(purchases, chosen, strict=True):
            p = bought.merge(members[["brand", "consumer"]])
            curve += np.bincount(p["age"], p["value"], minlength=year)
        values[label] = GroupValue(
            customers=len(pooled) / len(tables), value=float(pooled["value"].sum() / count),
            first=float(pooled["first_value"].sum() / count),
            purchases=float(pooled["purchases"].sum() / count),
            again=float((pooled["purchases"] > 1).sum() / count),
            redeemed=float(pooled["redeemed"].sum() / count), curve=np.cumsum(curve) / count)
    mean, lo, hi = mean_ci(ratios)
    return ValueComparison(ratios, mean, lo, hi, values, tables)


def _interval(lo: float, hi: float, digits: int = 2) -> str:
    return (f"[{lo:.{digits}f}, {hi:.{digits}f}]" if np.isfinite(lo) and np.isfinite(hi)
            else "(undefined)")


def _value_figure(ctx: Context, comparison: ValueComparison, bounds: tuple[float, float],
                  name: str, ratio_label: str) -> str:
    fig, (ax, ax_ratio) = ctx.figure(ncols=2)
    for label, group in comparison.groups.items():
        ax.plot(np.arange(group.curve.size), group.curve, label=label)
    ax.set(xlabel="weeks since the customer's first purchase",
           ylabel="discounted margin per customer (cumulative)",
           title="Value of the customers acquired in the first window")
    ax.legend(fontsize="small")
    finite = comparison.ratios[np.isfinite(comparison.ratios)]
    ax_ratio.axhspan(*bounds, color="tab:green", alpha=0.15, label="expected range")
    ax_ratio.plot(np.zeros(finite.size), finite, "o", alpha=0.5, label="replicates")
    if np.isfinite(comparison.lo):
        ax_ratio.errorbar([0.3], [comparison.mean], fmt="ks", capsize=4,
                          yerr=[[comparison.mean - comparison.lo],
                                [comparison.hi - comparison.mean]], label="mean, 95% interval")
    ax_ratio.set_xlim(-0.5, 0.8)
    ax_ratio.set_xticks([])
    ax_ratio.set(ylabel=ratio_label, title="Value ratio per replicate")
    ax_ratio.legend(fontsize="small")
    return ctx.save(fig, name)


def _group_table(comparison: ValueComparison, window: int) -> str:
    """Per group: customers acquired, their value (first purchase, later ones, in all),
    purchases and repeat buyers in the window."""
    return markdown_table(
        ["customers", "acquired per replicate", "first purchase redeemed an offer",
         "first purchase", "later purchases", f"value ({window} weeks)",
         "purchases per customer", "bought again"],
        [(label, f"{g.customers:,.1f}", pct(g.redeemed, 1), f"{g.first:.2f}", f"{g.later:.2f}",
          f"{g.value:.2f}", f"{g.purchases:.2f}", pct(g.again, 1))
         for label, g in comparison.groups.items()])


def _repeat_monopoly(ctx: Context, n: int, year: int, extra: Sequence[str], arm: str) -> Config:
    return ctx.config(["market.category=repeat", "transactions=true", f"consumers={n}",
                       f"steps={2 * year}", *extra], arm)


def _decomposition(comparison: ValueComparison, group: str, reference: str) -> str:
    """Where the ratio comes from: first purchase and later purchases, in words."""
    g, r = comparison.groups[group], comparison.groups[reference]
    first = g.first / r.first if r.first > 0 else np.nan
    later = g.later / r.later if r.later > 0 else np.nan
    return (f"{group.capitalize()} earn {g.first:.2f} on their first purchase against "
            f"{r.first:.2f} (a ratio of {first:.2f}; {pct(g.redeemed, 1)} of them redeemed an "
            f"offer then, against {pct(r.redeemed, 1)}) and {g.later:.2f} from later "
            f"purchases in the window against {r.later:.2f} (a ratio of {later:.2f}): "
            f"{g.purchases:.2f} purchases per customer against {r.purchases:.2f}, and "
            f"{pct(g.again, 1)} bought again against {pct(r.again, 1)}.")


@case("discount_acquired_value", "stylised",
      "Customers acquired with a deep discount are worth about half",
      "Lewis (2006), 'Customer acquisition promotions and customer asset value', *J. "
      "Marketing Research* 43(2):195–203: customers acquired with a 35% discount have about "
      "half the long-term value of customers acquired at the regular price",
      experiments=("incentive_backfire",))
def discount_acquired_value(ctx: Context) -> Finding:
    n, year, replicates = _size(ctx)
    cfg = _repeat_monopoly(ctx, n, year, ["strategy=incentive_push",
                                          f"incentives.discount={LEWIS_DISCOUNT}"],
                           f"incentive_push discount={LEWIS_DISCOUNT}")
    runs = ctx.run_markets({"lewis": cfg}, replicates)["lewis"]
    discounted, full = "discount-acquired customers", "full-price customers"
    comparison = compare_values(runs, cfg, year, {
        discounted: lambda c: c["redeemed"], full: lambda c: ~c["redeemed"]})
    passed = inside(comparison.lo, comparison.hi, LEWIS_RANGE)
    figure = _value_figure(ctx, comparison, LEWIS_RANGE, "discount_acquired_value",
                           "value of discount-acquired / full-price customers")
    econ = cfg.economics
    d, f = comparison.groups[discounted], comparison.groups[full]
    share_first = (f"The first purchase is {pct(d.first / d.value, 0)} of a discount-acquired "
                   f"customer's value and {pct(f.first / f.value, 0)} of a full-price one's"
                   if d.value > 0 and f.value > 0 else "")
    verdict = comparison.verdict(
        LEWIS_RANGE, "As Lewis found, discount-acquired customers are worth about half",
        "The model's discount-acquired customers are worth more than Lewis found",
        "The model's discount-acquired customers are worth less than Lewis found",
        "of full-price customers' value")
    explanation = (f"{verdict} {_decomposition(comparison, discounted, full)} The discount "
                   f"takes {LEWIS_DISCOUNT * econ.price:.2f} of the first purchase's margin of "
                   f"{econ.margin * econ.price:.2f}. "
                   + (f"{share_first}." if share_first else "")
                   + " Lewis's mechanism is lower repeat buying among promotionally acquired "
                   "customers. Two of the model's rules act on takers' repeat buying: their "
                   "expected quality is "
                   f"{expectation_shift_text(cfg.incentives.expectation_shift)}, and "
                   "the offer's utility bonus brings in consumers who would not have bought "
                   "without it (§3.3.8); this case does not separate the two.")
    return Finding(
        design=f"A repeat-purchase monopoly (`market.category=repeat`, as the source's "
               f"newspaper subscriptions and groceries are bought again) with offers "
               f"(`strategy=incentive_push`: 60% of the budget on follow-for-discount offers) "
               f"at the source's discount (`incentives.discount={LEWIS_DISCOUNT}`), "
               f"`transactions=true` for the purchase log; default configuration otherwise, "
               f"{n:,} consumers, {2 * year} weeks, {replicates} replicates. Customers "
               f"acquired in weeks 1–{year} whose first purchase redeemed the discount against "
               f"those whose first purchase paid full price, each valued by its discounted "
               f"margin (first purchase included) over the {year} weeks from its first "
               "purchase. Ratio = mean value of discount-acquired / full-price customers, "
               "per replicate.",
        expected=f"value ratio of discount-acquired to full-price customers about one half "
                 f"({LEWIS_RANGE[0]:g}–{LEWIS_RANGE[1]:g})",
        measured=f"ratio {comparison.mean:.2f} {_interval(comparison.lo, comparison.hi)} "
                 f"(95% interval over replicates); {d.value:.2f} against {f.value:.2f} per "
                 "customer",
        test=f"t interval over {np.isfinite(comparison.ratios).sum()} replicates' ratios; pass "
             f"if it lies within {LEWIS_RANGE[0]:g}–{LEWIS_RANGE[1]:g}: "
             f"{comparison.reading(LEWIS_RANGE)}",
        passed=passed, figure=figure, explanation=explanation,
        table=_group_table(comparison, year))


@case("wom_acquired_value", "stylised",
      "Customers acquired by word of mouth are worth about twice",
      "Villanueva, Yoo & Hanssens (2008), 'The impact of marketing-induced versus "
      "word-of-mouth customer acquisition on customer equity growth', *J. Marketing "
      "Research* 45(1):48–59: word-of-mouth customers add nearly twice as much long-term "
      "value as marketing-induced ones",
      experiments=("ads_vs_wom", "duel"))
def wom_acquired_value(ctx: Context) -> Finding:
    n, year, replicates = _size(ctx)
    cfg = _repeat_monopoly(ctx, n, year, ["strategy=balanced"], "balanced")
    runs = ctx.run_markets({"villanueva": cfg}, replicates)["villanueva"]
    wom, marketing = "word-of-mouth customers", "marketing-induced customers"
    groups: dict[str, Grouping] = {
        wom: lambda c: c["acquired_by"] == "wom",
        marketing: lambda c: c["acquired_by"].isin(MARKETING)}
    for source in MARKETING:
        groups[f"of which {source}"] = lambda c, s=source: c["acquired_by"] == s
    comparison = compare_values(runs, cfg, year, groups)
    passed = inside(comparison.lo, comparison.hi, VILLANUEVA_RANGE)
    figure = _value_figure(ctx, comparison, VILLANUEVA_RANGE, "wom_acquired_value",
                           "value of word-of-mouth / marketing-induced customers")
    pooled = pd.concat(comparison.customers, ignore_index=True)
    by_source = pooled.groupby("acquired_by")["value"].agg(["size", "mean"])
    reference = comparison.groups[marketing].value
    others = "; ".join(f"{source} {row['mean']:.2f} ({row['size'] / replicates:,.1f} per "
                       "replicate)" for source, row in by_source.iterrows()
                       if source not in (*MARKETING, "wom"))
    parts = {s: comparison.groups[f"of which {s}"] for s in MARKETING}
    mix = ", ".join(f"{pct(parts[s].customers / max(comparison.groups[marketing].customers, 1),
                           0)} {s}" for s in MARKETING)
    verdict = comparison.verdict(
        VILLANUEVA_RANGE, "As Villanueva et al. found, word-of-mouth customers are worth more",
        "The model's word-of-mouth customers are worth more than the source found",
        "The model's word-of-mouth customers are not worth the source's premium",
        "times the value of marketing-induced ones")
    explanation = (f"{verdict} {_decomposition(comparison, wom, marketing)} Marketing-induced "
                   f"customers are {mix}; the offers' discount "
                   f"({pct(cfg.incentives.discount, 0)} of the price) comes off the first "
                   "purchase of the consumers who redeem one, whichever influence is credited "
                   "with it (§3.3.10). In the model a customer's later buying rests on its "
                   "occasion rate, its experience against its expectation and what reaches "
                   "it afterwards (§3.3.11, §3.3.16); none of these depends on the influence "
                   "credited with its first purchase, except that offer takers' expected "
                   "quality is "
                   f"{expectation_shift_text(cfg.incentives.expectation_shift)}. So that "
                   "influence matters only through which "
                   "consumers it draws in: word of mouth gives a customer no lasting "
                   "advantage of its own. Customers acquired by the other influences "
                   f"(left out) are worth {others or 'nothing: there were none'}. The "
                   "source's long-term value also counts the customers a customer brings "
                   "through later referrals; the model does not record who referred whom, so "
                   "only a customer's own purchases are valued here"
                   + (f" (against {reference:.2f} for marketing-induced customers)."
                      if reference > 0 else "."))
    return Finding(
        design=f"A repeat-purchase monopoly (`market.category=repeat`: the source's web "
               f"hosting customers pay again and again) under `strategy=balanced` (every "
               f"lever, so customers come both ways), `transactions=true` for the purchase "
               f"log; default configuration otherwise, {n:,} consumers, {2 * year} weeks, "
               f"{replicates} replicates. Customers acquired in weeks 1–{year} whose first "
               f"purchase was credited to word of mouth (`acquired_by` = wom) against those "
               f"credited to {' or '.join(MARKETING)} (marketing-induced: the brand's paid "
               "pushes, as the source's broadcast media and direct mail; content, dialogue "
               "and reviews are left out of both groups), each valued by its discounted "
               f"margin (first purchase included) over the {year} weeks from its first "
               "purchase. Ratio = mean value of word-of-mouth / marketing-induced "
               "customers, per replicate.",
        expected=f"word-of-mouth customers worth about twice marketing-induced ones (ratio "
                 f"{VILLANUEVA_RANGE[0]:g}–{VILLANUEVA_RANGE[1]:g})",
        measured=f"ratio {comparison.mean:.2f} {_interval(comparison.lo, comparison.hi)} "
                 f"(95% interval over replicates); {comparison.groups[wom].value:.2f} "
                 f"against {reference:.2f} per customer",
        test=f"t interval over {np.isfinite(comparison.ratios).sum()} replicates' ratios; pass "
             f"if it lies within {VILLANUEVA_RANGE[0]:g}–{VILLANUEVA_RANGE[1]:g}: "
             f"{comparison.reading(VILLANUEVA_RANGE)}",
        passed=passed, figure=figure, explanation=explanation,
        table=_group_table(comparison, year))


def brand_share(brands: pd.DataFrame, brand: str) -> float:
    """``brand``'s share of the purchases made during the run (steps 1 on: the initial
    customers are drawn, not chosen); NaN if there were none."""
    run = brands[brands["step"] >= 1]
    total = run["purchases"].sum()
    return float(run.loc[run["brand"] == brand, "purchases"].sum() / total) if total else np.nan


def with_brands_reversed(cfg: Config) -> Config:
    """``cfg`` with ``market.brands`` listed in the other order."""
    brands = dict(reversed(list(cfg.market.brands.items())))
    return validate(dataclasses.replace(cfg, market=dataclasses.replace(cfg.market,
                                                                        brands=brands)))


def mirrored(first: MarketTables, second: MarketTables, names: dict[str, str]) -> bool:
    """Whether ``second`` is ``first`` with its brands renamed by ``names``: the same
    per-step table, and the same per-brand table once ``second``'s brands are renamed."""
    def ordered(table: pd.DataFrame) -> pd.DataFrame:
        return table.sort_values(["step", "brand"], kind="stable").reset_index(drop=True)

    renamed = second.brands.assign(brand=second.brands["brand"].map(names))
    return bool(first.steps.equals(second.steps)
                and ordered(first.brands).equals(ordered(renamed)))


@case("mirror_duel", "corner", "Two identical brands split their market evenly",
      "Symmetry: no brand may gain by its name or its place in the list (issue 13; "
      "`docs/ODD.md` §3.3.16)", experiments=("duel",))
def mirror_duel(ctx: Context) -> Finding:
    n, year, _ = _size(ctx)
    # Shares vary from replicate to replicate (s.d. about 0.05 at full size): 40 replicates
    # make the mean's standard error well below the tolerance. Swapping places is exact or
    # not in every replicate, so a few replicates check it.
    replicates, checked = ctx.size(40, 3), ctx.size(5, 2)
    cfg = ctx.config(["market=duel", "market.category=repeat", f"consumers={n}",
                      f"steps={2 * year}"], "mirror duel")
    names = list(cfg.market.brands)
    swap = dict(zip(names, reversed(names), strict=True))
    runs = ctx.run_markets({"listed": cfg}, replicates)["listed"]
    reversed_runs = ctx.run_markets({"reversed": with_brands_reversed(cfg)}, checked)["reversed"]
    first, other = names
    share = np.array([brand_share(t.brands, first) for t in runs])
    result = two_sided_t(share - (1.0 - share))
    mean, lo, hi = mean_ci(share)
    same = sum(mirrored(a, b, swap) for a, b in zip(runs[:checked], reversed_runs, strict=True))
    gap = abs(mean - 0.5)
    passed = result.p_value >= ALPHA and gap < SHARE_TOLERANCE and same == checked
    fig, (ax,) = ctx.figure()
    ax.plot(np.arange(replicates), share, "o", label=f"brand {first}, per replicate")
    ax.axhline(0.5, color="k", lw=0.8)
    ax.axhspan(0.5 - SHARE_TOLERANCE, 0.5 + SHARE_TOLERANCE, color="tab:green", alpha=0.15,
               label="tolerance")
    ax.set(xlabel="replicate", ylabel=f"brand {first}'s share of purchases",
           title="Two identical brands in one market")
    ax.legend(fontsize="small")
    figure = ctx.save(fig, "mirror_duel")
    failures = []
    if result.p_value < ALPHA:
        failures.append(f"brand {first}'s share differs from one half (p = "
                        f"{result.p_value:.3g} < {ALPHA:g})")
    if gap >= SHARE_TOLERANCE:
        failures.append(f"its mean share is {gap:.4f} from one half, beyond the tolerance "
                        f"{SHARE_TOLERANCE:g}")
    if same < checked:
        failures.append(f"listing the brands the other way round changed the results in "
                        f"{checked - same} of {checked} replicates")
    explanation = ("Every brand enters the choice by the same rule, one uniform draw per "
                   "buyer picks the brand, and each brand draws from the streams of its place "
                   "(§3.3.16), so identical brands split the market evenly and swapping their "
                   "places swaps their results exactly." if passed else
                   "The market is not symmetric: " + "; ".join(failures) + ".")
    spread = share.std(ddof=1) if share.size > 1 else np.nan
    return Finding(
        design=f"`market=duel` (brands {first} and {other}) with both brands on the run's "
               f"strategy (`{cfg.strategy.name}`) and settings, a repeat-purchase category "
               f"(`market.category=repeat`: shares are made again at every occasion); default "
               f"configuration otherwise, {n:,} consumers, {2 * year} weeks, {replicates} "
               f"replicates; and the same market with the brands listed as {other}, {first} "
               f"(replicates 0–{checked - 1}). "
               f"Share = brand {first}'s share of the purchases of weeks 1–{2 * year}.",
        expected=f"brand {first}'s mean share equals one half, and listing the brands the "
                 "other way round gives the same results with the names swapped",
        measured=f"share of brand {first} {mean:.4f} {_interval(lo, hi, 4)} (95% interval; "
                 f"s.d. {spread:.4f} across replicates); other order identical with names "
                 f"swapped in {same} of {checked} replicates",
        test=f"{result.text} (shares of {first} against {other}, paired by replicate); pass if "
             f"p ≥ {ALPHA:g}, |mean − 0.5| < {SHARE_TOLERANCE:g} and every replicate is "
             "identical with the names swapped",
        passed=passed, p_value=result.p_value, alpha=ALPHA, figure=figure,
        explanation=explanation,
        table=markdown_table(["replicates", f"mean share of {first}", "95% interval",
                              "|mean − 0.5|", "identical when listed the other way"],
                             [(replicates, f"{mean:.4f}", _interval(lo, hi, 4), f"{gap:.4f}",
                               f"{same} of {checked}")]))
