"""Advertising response against the meta-analyses and the word-of-mouth comparison.

``ad_elasticity``: the elasticity of sales to advertising spend, measured as the
meta-analysis measures it (percentage change in sales per percentage change in spend),
short run (the same week) and long run (the weeks after, carry-over included), against
Sethuraman, Tellis & Briesch (2011). ``wom_elasticity``: the elasticity of new customers to
word of mouth against that to advertising, after Trusov, Bucklin & Pauwels (2009).

``ad_elasticity`` runs an advertising-only market: the brand spends only on impressions
(the default budget's worth, ``brand.budget_per_consumer × consumers × AD_SHARE``, in the
middle arm), so a change
of spend is a change of advertising alone, and word of mouth runs as usual.
``wom_elasticity`` runs the default market and scales the impressions (through their unit
cost) or the conversations (``WOM_KEY``). Arms are paired on seeds.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from wommsim.config import LEVERS, Config, PhaseConfig, validate, weekly_budget
from wommsim.mechanisms.advertising import arc_elasticity
from wommsim.reporting.tables import markdown_table
from wommsim.validation.core import Context, Finding, case, column, pct
from wommsim.validation.stats import bootstrap, bootstrap_p, format_p

ALPHA = 0.05
#: Share of the budget (``brand.budget_per_consumer``) on advertising in these designs (the
#: rest unspent), so the ad spend can move up and down within the budget from a phase.
AD_SHARE = 0.5
#: Change of the driver in each arm: spend (or talk) ×(1 - DELTA) against ×(1 + DELTA).
DELTA = 0.25
#: The word-of-mouth driver scaled by ``wom_elasticity`` (conversations per neighbour).
WOM_KEY = "wom.talk_prob"
#: Short-run and long-run elasticities of the meta-analysis, and the accepted short-run range.
SOURCE_SR, SOURCE_LR, SR_RANGE = 0.12, 0.24, (0.02, 0.30)


def _market(ctx: Context, budget_scale: float, steps: int, extra: tuple[str, ...] = ()
            ) -> tuple[list[str], int]:
    """Overrides of the advertising-only market: the default budget per consumer × 2 ×
    ``budget_scale`` (half of it on ads), its consumers."""
    n = ctx.size(10_000, 1_000)
    default = ctx.config([], "default")
    budget = 2 * default.brand.budget_per_consumer * budget_scale
    return (["strategy=none", f"strategy.advertising={AD_SHARE}",
             f"brand.budget_per_consumer={budget:g}", f"consumers={n}", f"steps={steps}",
             *extra], n)


def _ad_spend(cfg: Config) -> float:
    """The weekly ad spend of an arm before its phase: its budget × ``AD_SHARE``."""
    return weekly_budget(cfg, cfg.consumers) * AD_SHARE


def _spend_arm(ctx: Context, overrides: list[str], start: int, factor: float, name: str):
    """The market with ad spend × ``factor`` from step ``start`` on (a phase)."""
    cfg = ctx.config(overrides, name)
    off = dict.fromkeys(LEVERS, 0.0)
    return validate(dataclasses.replace(cfg, phases=[
        PhaseConfig(start=start, name=name, **{**off, "advertising": AD_SHARE * factor})]))


def elasticities(low: np.ndarray, high: np.ndarray, start: int, idx: np.ndarray | None = None
                 ) -> tuple[float, float]:
    """Short- and long-run arc elasticities of new customers from paired arms (replicates
    × steps) whose driver was ×(1 - DELTA) and ×(1 + DELTA) from step ``start``: the same
    step's, and the total from ``start`` to the end (carry-over included)."""
    if idx is not None:
        low, high = low[idx], high[idx]
    lo, hi = 1.0 - DELTA, 1.0 + DELTA
    short = arc_elasticity(low[:, start].mean(), high[:, start].mean(), lo, hi)
    long = arc_elasticity(low[:, start:].sum(axis=1).mean(), high[:, start:].sum(axis=1).mean(),
                          lo, hi)
    return short, long


@case("ad_elasticity", "stylised", "Advertising elasticity: short run small, long run larger",
      "Sethuraman, Tellis & Briesch (2011): across 751 short-run and 402 long-run estimates "
      "the mean advertising elasticity is 0.12 in the short run and 0.24 in the long run",
      experiments=("ads_vs_wom",))
def ad_elasticity(ctx: Context) -> Finding:
    start, window = 9, ctx.size(8, 4)
    steps = start + window - 1
    scales = ctx.size((0.5, 1.0, 2.0), (1.0,))
    replicates = ctx.size(300, 20)
    arms, n = {}, 0
    for scale in scales:
        overrides, n = _market(ctx, scale, steps)
        for sign, factor in (("-", 1 - DELTA), ("+", 1 + DELTA)):
            arms[f"{scale} {sign}"] = _spend_arm(ctx, overrides, start, factor,
                                                 f"ads x{scale} {sign}{DELTA:g}")
    # Mechanism check, not part of the verdict: the highest spend without annoyance.
    top = scales[-1]
    quiet_overrides, _ = _market(ctx, top, steps, ("advertising.annoy_prob=0",))
    for sign, factor in (("-", 1 - DELTA), ("+", 1 + DELTA)):
        arms[f"quiet {sign}"] = _spend_arm(ctx, quiet_overrides, start, factor,
                                           f"ads x{top} no annoyance {sign}{DELTA:g}")
    tables = ctx.run(arms, replicates)
    new = {k: column(t, "new_adopters") for k, t in tables.items()}
    adopted = {k: column(t, "adopted_fraction")[:, start - 1].mean() for k, t in tables.items()}
    rng = np.random.default_rng([ctx.seed, 501])
    rows, results = [], {}
    for scale in scales:
        low, high = new[f"{scale} -"], new[f"{scale} +"]
        sr, lr = elasticities(low, high, start)
        boot = bootstrap(lambda idx, lo=low, hi=high: np.subtract(
            *elasticities(lo, hi, start, idx)[::-1]), replicates, ctx.size(2000, 100), rng)
        p = bootstrap_p(boot, "greater")
        sr_boot = bootstrap(lambda idx, lo=low, hi=high: elasticities(lo, hi, start, idx)[0],
                            replicates, ctx.size(2000, 100), rng)
        sr_lo, sr_hi = np.nanpercentile(sr_boot, [2.5, 97.5])
        results[scale] = (sr, lr, p, sr_lo, sr_hi)
        spend = _ad_spend(arms[f"{scale} +"])
        rows.append((f"{spend:,.0f}", pct(adopted[f"{scale} -"]),
                     f"{low[:, start].mean():.1f}", f"{sr:.3f}",
                     f"[{sr_lo:.3f}, {sr_hi:.3f}]", f"{lr:.3f}", format_p(p)))
    quiet = elasticities(new["quiet -"], new["quiet +"], start)
    top_spend = _ad_spend(arms[f"{top} +"])
    rows.append((f"{top_spend:,.0f}, `advertising.annoy_prob=0` (check)",
                 pct(adopted["quiet -"]), f"{new['quiet -'][:, start].mean():.1f}",
                 f"{quiet[0]:.3f}", "", f"{quiet[1]:.3f}", ""))
    in_range = all(SR_RANGE[0] <= r[0] <= SR_RANGE[1] for r in results.values())
    longer = all(r[2] < ALPHA and r[1] > r[0] for r in results.values())
    passed = in_range and longer
    worst_p = max(r[2] for r in results.values())

    fig, (ax,) = ctx.figure()
    spends = [_ad_spend(arms[f"{s} +"]) for s in scales]
    ax.plot(spends, [results[s][0] for s in scales], "o-", label="short run (same week)")
    ax.plot(spends, [results[s][1] for s in scales], "s-",
            label=f"long run ({window} weeks, carry-over included)")
    ax.axhspan(*SR_RANGE, color="tab:green", alpha=0.1, label="accepted short-run range")
    ax.axhline(SOURCE_SR, color="tab:blue", ls=":", lw=1)
    ax.axhline(SOURCE_LR, color="tab:orange", ls=":", lw=1)
    ax.set(xscale="log", xlabel="ad spend per week (money)", ylabel="elasticity of sales",
           title="Advertising elasticity (dotted: Sethuraman et al. 2011)")
    ax.legend(fontsize="small")
    figure = ctx.save(fig, "ad_elasticity")
    calibrated = scales[len(scales) // 2] if 1.0 in scales else None
    shorter = [i for i, s in enumerate(scales) if results[s][1] <= results[s][0]]
    per_consumer = max((spends[i] for i in shorter), default=0.0) / (
        arms[f"{top} +"].advertising.cost_per_impression * n)
    annoyance_note = (
        "Where the long run falls below the short run (spend "
        f"{', '.join(f'{spends[i]:,.0f}' for i in shorter)}: about {per_consumer:.0f} "
        "impressions per consumer per week), the extra impressions annoy non-clickers "
        "(`advertising.annoy_prob`, an assumption), whose opinions stay lowered for weeks, "
        "and that outweighs the carry-over: without annoyance the highest spend gives short "
        f"run {quiet[0]:.3f} and long run {quiet[1]:.3f} (check row).")
    base = arms[f"{scales[0]} +"]
    return Finding(
        design=f"Advertising-only market (`strategy=none` with `strategy.advertising="
               f"{AD_SHARE:g}`: the brand spends only on impressions; word of mouth as by "
               f"default), {n:,} consumers, ad spend per week ∈ "
               f"{[f'{s:,.0f}' for s in spends]} (the middle one the default budget's worth). "
               f"The same spend for weeks 1–{start - 1}, then spend ×{1 - DELTA:g} or "
               f"×{1 + DELTA:g} from week {start} on (paired on seeds, {replicates} "
               f"replicates per arm). Elasticity = arc elasticity of new customers: short run "
               f"= week {start}'s, long run = the total of weeks {start}–{steps} (the carry-over "
               f"of adstock, `advertising.retention` = {base.advertising.retention:g}, and "
               "what the extra customers' word of mouth adds).",
        expected=f"short-run elasticity in [{SR_RANGE[0]:g}, {SR_RANGE[1]:g}] at every spend "
                 f"(source mean {SOURCE_SR:g}) and the long-run elasticity above the "
                 f"short-run one (source mean {SOURCE_LR:g})",
        measured="; ".join(f"spend {sp:,.0f}: short run {results[s][0]:.3f}, long run "
                           f"{results[s][1]:.3f}" for s, sp in zip(scales, spends, strict=True)),
        test=f"short run inside the range at every spend (point estimate; 95% bootstrap "
             f"intervals in the table); long run > short run by a paired bootstrap over "
             f"replicates, one-sided, at every spend: largest p = {format_p(worst_p)}",
        passed=passed, p_value=worst_p, alpha=ALPHA, figure=figure,
        explanation=("Caution: `decision.ad_weight` was calibrated so that the short-run "
                     "elasticity is about 0.12 at the default budget's worth of ads "
                     + (f"(spend {spends[scales.index(calibrated)]:,.0f}) " if calibrated
                        else "")
                     + "in this design, so the short run at that spend is not independent "
                     "evidence; the other spends and the long run were not calibrated. "
                     + ("Ads raise sales in the week they run (awareness and adstock) and "
                        "after it (adstock kept at `retention` per week, and the word of mouth "
                        "of the customers they won)." if passed else
                        "The model's advertising response departs from the meta-analysis "
                        "here. ")
                     + (annoyance_note if shorter else "")),
        table=markdown_table(["ad spend / week", f"adopted by week {start - 1}",
                              "new customers in week "
                              f"{start} (low arm)", "short-run elasticity", "95% interval",
                              "long-run elasticity", "p (long > short)"], rows))


@case("wom_elasticity", "stylised",
      "New customers respond far more to word of mouth than to advertising",
      "Trusov, Bucklin & Pauwels (2009): long-run elasticity of sign-ups 0.53 to word-of-mouth "
      "referrals, about 20 times that of promotional events and 30 times that of media "
      "appearances (about 0.026 and 0.017)",
      experiments=("ads_vs_wom",))
def wom_elasticity(ctx: Context) -> Finding:
    steps = ctx.size(12, 8)
    replicates = ctx.size(300, 20)
    n = ctx.size(10_000, 1_000)
    overrides = [f"consumers={n}", f"steps={steps}"]
    base = ctx.config(overrides, "base")
    talk = getattr(base.wom, WOM_KEY.split(".")[1])
    cost = base.advertising.cost_per_impression
    arms = {}
    for sign, factor in (("-", 1 - DELTA), ("+", 1 + DELTA)):
        # The same money buys `factor` times the impressions.
        arms[f"ads {sign}"] = ctx.config(
            [*overrides, f"advertising.cost_per_impression={cost / factor!r}"], f"ads {sign}")
        arms[f"wom {sign}"] = ctx.config([*overrides, f"{WOM_KEY}={talk * factor!r}"],
                                         f"wom {sign}")
    tables = ctx.run(arms, replicates)
    new = {k: column(t, "new_adopters") for k, t in tables.items()}
    ads = elasticities(new["ads -"], new["ads +"], 1)[1]
    wom = elasticities(new["wom -"], new["wom +"], 1)[1]
    strategy = base.strategy
    rng = np.random.default_rng([ctx.seed, 502])

    def gap(idx: np.ndarray) -> float:
        return (elasticities(new["wom -"], new["wom +"], 1, idx)[1]
                - 2 * elasticities(new["ads -"], new["ads +"], 1, idx)[1])

    boot = bootstrap(gap, replicates, ctx.size(2000, 100), rng)
    p = bootstrap_p(boot, "greater")
    passed = bool(p < ALPHA and wom > 2 * ads)
    ratio = wom / ads if ads > 0 else float("inf")
    rows = [("word of mouth", f"`{WOM_KEY}` ×{1 - DELTA:g} / ×{1 + DELTA:g}", f"{wom:.3f}",
             "0.53"),
            ("advertising", f"impressions ×{1 - DELTA:g} / ×{1 + DELTA:g}", f"{ads:.3f}",
             "0.017 (media), 0.026 (events)")]
    fig, (ax,) = ctx.figure()
    ax.bar([0, 1], [wom, ads], color=["tab:blue", "tab:orange"])
    ax.scatter([0, 1], [0.53, 0.017], color="k", marker="_", s=400,
               label="Trusov et al. (2009)")
    ax.set_xticks([0, 1], ["word of mouth", "advertising"])
    ax.set(ylabel="elasticity of new customers", title=f"First {steps} weeks")
    ax.legend(fontsize="small")
    figure = ctx.save(fig, "wom_elasticity")
    return Finding(
        design=f"The default market (`strategy={strategy.name}`: "
               f"{100 * strategy.advertising:g}% of the budget on ads), {n:,} consumers, "
               f"{steps} weeks, {replicates} replicates per arm paired on seeds. "
               f"Word-of-mouth arms scale `{WOM_KEY}` (conversations per neighbour, the "
               f"model's counterpart of referrals sent) by ×{1 - DELTA:g} and "
               f"×{1 + DELTA:g}; advertising arms scale the impressions by the same factors "
               "(`advertising.cost_per_impression` divided by them, so the same money buys "
               "more or fewer: the media weight the source's elasticities are about); both "
               f"for the whole run. Elasticity = arc elasticity of the new customers of the "
               f"{steps} weeks (long run: carry-over included), before the market saturates.",
        expected="the elasticity of new customers to word of mouth well above that to "
                 "advertising (source 0.53 against 0.017–0.026, 20–30 times); tolerance: "
                 "at least twice",
        measured=f"word of mouth {wom:.3f}, advertising {ads:.3f} (ratio {ratio:.1f})",
        test=f"paired bootstrap over replicates ({boot.size} resamples), H1: WOM elasticity "
             f"- 2 × ad elasticity > 0, one-sided p = {format_p(p)}",
        passed=passed, p_value=p, alpha=ALPHA, figure=figure,
        explanation=(("More conversations make more consumers aware and move their opinions, "
                      "and every customer won talks in turn, so word of mouth compounds; "
                      "advertising's adstock fades within weeks. " if passed else
                      "Word of mouth's elasticity is not well above advertising's here. ")
                     + "The driver is not the source's (invitations sent, not conversations "
                       "per neighbour), so the ratio, not the level, is compared."),
        table=markdown_table(["driver", "arms", "elasticity (model)", "Trusov et al. 2009"],
                             rows))
