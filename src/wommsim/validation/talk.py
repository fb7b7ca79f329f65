"""Word of mouth against its sources: what bad news costs, and how much of talk is bad.

``dissatisfied_buyers`` follows Goldenberg, Libai, Moldovan & Muller (2007), "The NPV of bad
news": a share of buyers gets a clearly bad unit, and the market is compared with one of the
same mean quality and no defective unit, and with the same market where detractors are
silenced. ``wom_ratio`` checks East, Hammond & Wright (2007): positive word of mouth is about
three times as common as negative. Both are stated one-sided on replicates paired by seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from wommsim.reporting.analysis import replicate_outcomes
from wommsim.reporting.tables import markdown_table
from wommsim.validation.core import Context, Finding, case, column, pct
from wommsim.validation.stats import paired_t

ALPHA = 0.05


def clipped_mean(mean: float, spread: float) -> float:
    """The mean of ``clip(Normal(mean, spread), -1, 1)``, the experienced quality of a
    unit that is not defective (§3.3.11)."""
    if spread == 0:
        return float(np.clip(mean, -1.0, 1.0))
    a, b = (-1.0 - mean) / spread, (1.0 - mean) / spread
    inside = mean * (stats.norm.cdf(b) - stats.norm.cdf(a)) + spread * (
        stats.norm.pdf(a) - stats.norm.pdf(b))
    return float(inside - stats.norm.cdf(a) + stats.norm.sf(b))


def matched_quality(defects: float, quality: float, spread: float, defect: float) -> float:
    """``brand.quality`` giving, with no defective unit, the mean experienced quality of a
    market where a share ``defects`` of units is experienced at ``defect`` and the rest
    are drawn around ``quality``."""
    target = (1.0 - defects) * clipped_mean(quality, spread) + defects * defect
    return float(optimize.brentq(lambda q: clipped_mean(q, spread) - target, -1.0, 1.0,
                                 xtol=1e-10))


def _outcomes(ctx_tables: list[pd.DataFrame], cfg) -> pd.DataFrame:
    return replicate_outcomes(pd.concat(ctx_tables, ignore_index=True), cfg.economics)


@case("dissatisfied_buyers", "stylised",
      "Clearly bad units cost more than their share, through bad news",
      "Goldenberg, Libai, Moldovan & Muller (2007), 'The NPV of bad news': negative word of "
      "mouth from a few dissatisfied customers costs a disproportionate share of a new "
      "product's net present value",
      experiments=("incentive_backfire",))
def dissatisfied_buyers(ctx: Context) -> Finding:
    n, steps = ctx.size(10_000, 1000), ctx.size(52, 30)
    size = (f"consumers={n}", f"steps={steps}", "strategy=none")
    shares = ctx.size((0.01, 0.02, 0.05, 0.10), (0.05,))
    primary = 0.05
    replicates = ctx.size(20, 3)
    base = ctx.config(list(size), "no defects")
    quality, spread = base.brand.quality, base.brand.quality_spread
    defect = base.brand.defect_quality
    arms = {"none": base}
    for d in shares:
        arms[f"defects {d}"] = ctx.config([*size, f"brand.defect_share={d}"],
                                          f"defects {pct(d, 0)}")
        arms[f"matched {d}"] = ctx.config(
            [*size, f"brand.quality={matched_quality(d, quality, spread, defect):.8f}"],
            f"mean-matched {pct(d, 0)}")
        arms[f"silenced {d}"] = ctx.config([*size, f"brand.defect_share={d}",
                                            "wom.negative_talk=false"],
                                           f"defects {pct(d, 0)}, detractors silenced")
    tables = ctx.run(arms, replicates)
    out = {name: _outcomes(tables[name], base) for name in arms}
    npv = {name: out[name]["npv"].to_numpy() for name in arms}
    half = {name: out[name]["time_to_half"].to_numpy() for name in arms}
    rejecters = {name: column(tables[name], "rejecters")[:, -1] for name in arms}
    # Loss as a ratio of means: a replicate's own ratio is unstable where an organic
    # market barely takes off.
    loss = {name: 1.0 - npv[name].mean() / npv["none"].mean() for name in arms}

    key = f"{primary}"
    vs_matched = paired_t(npv[f"matched {key}"] - npv[f"defects {key}"], "greater")
    vs_silenced = paired_t(npv[f"silenced {key}"] - npv[f"defects {key}"], "greater")
    disproportion = paired_t((1.0 - primary) * npv["none"] - npv[f"defects {key}"], "greater")
    passed = all(r.p_value < ALPHA and r.statistic > 0
                 for r in (vs_matched, vs_silenced, disproportion))

    fig, (ax, ax_half) = ctx.figure(ncols=2)
    for kind, label in (("defects", "defective units"), ("matched", "mean-matched, no defects"),
                        ("silenced", "defective units, detractors silenced")):
        ax.plot([100 * d for d in shares], [100 * loss[f"{kind} {d}"] for d in shares],
                "o-", label=label)
        ax_half.plot([100 * d for d in shares],
                     [np.nanmean(half[f"{kind} {d}"]) for d in shares], "o-", label=label)
    top = 100 * max(shares) * 1.1
    ax.plot([0, top], [0, top], "k--", lw=1, label="loss = share defective")
    ax.set(xlabel="units defective (%)", ylabel="NPV lost vs no defects (%)",
           title="The loss curve")
    ax_half.axhline(np.nanmean(half["none"]), color="k", ls="--", lw=1, label="no defects")
    ax_half.set(xlabel="units defective (%)", ylabel="time to half adoption (weeks)")
    ax.legend(fontsize="small")
    ax_half.legend(fontsize="small")
    figure = ctx.save(fig, "dissatisfied_buyers")

    rows = [("none", "—", f"{npv['none'].mean():,.0f}", "—",
             f"{np.nanmean(half['none']):.1f}", f"{rejecters['none'].mean():,.0f}")]
    for d in shares:
        for kind in ("defects", "matched", "silenced"):
            name = f"{kind} {d}"
            rows.append((arms[name].arm, pct(d, 0), f"{npv[name].mean():,.0f}",
                         pct(loss[name], 1), f"{np.nanmean(half[name]):.1f}",
                         f"{rejecters[name].mean():,.0f}"))
    ratio = loss[f"defects {key}"] / primary
    matched = arms[f"matched {key}"].brand.quality  # the quality that arm ran with
    return Finding(
        design=f"Organic market (`strategy=none`: expectations stay 0, nothing is spent), "
               f"`brand.quality` {quality}, spread {spread}. Defective arms: a share d of "
               f"units sold is experienced at `brand.defect_quality` ({defect}); mean-matched "
               "arms: no defective unit and `brand.quality` lowered so that the mean "
               "experienced quality is the same; silenced arms: the defective market with "
               f"`wom.negative_talk=false`; d ∈ {[pct(d, 0) for d in shares]}; {n:,} "
               f"consumers, {steps} weeks, {replicates} replicates paired on seeds. Outcome "
               "NPV (discounted margin less spend, `analysis.OUTCOMES`) and time to half "
               "adoption; loss = 1 − mean NPV / mean NPV with no defects.",
        expected=f"at d = {pct(primary, 0)} the defective market's NPV is below the "
                 "mean-matched market's and below the same market with detractors silenced, "
                 f"and its NPV loss exceeds {pct(primary, 0)}",
        measured=f"NPV loss {pct(loss[f'defects {key}'], 1)} at d = "
                 f"{pct(primary, 0)} (loss / share {ratio:.2f}); mean-matched loss "
                 f"{pct(loss[f'matched {key}'], 1)}, silenced loss "
                 f"{pct(loss[f'silenced {key}'], 1)} (negative: above the market without "
                 "defects)",
        test=f"NPV of mean-matched minus defective: {vs_matched.text}; of silenced minus "
             f"defective: {vs_silenced.text}; (1 − d) × NPV without defects minus defective: "
             f"{disproportion.text}",
        passed=passed, p_value=max(vs_matched.p_value, vs_silenced.p_value,
                                   disproportion.p_value),
        alpha=ALPHA, figure=figure,
        explanation=("A defective unit makes a strong detractor, who talks more than a "
                     "satisfied buyer (`wom.dissatisfied_talk`), with a dose "
                     "`wom.negativity_bias` times a praise's, and listeners who hear enough "
                     "become rejecters who never buy (§3.3.7). "
                     + ("The loss exceeds both controls: it is the bad news, not the lower "
                        "mean. " if passed else
                        "The defective market does not lose significantly more than both "
                        "controls and more than its share; see the table. ")
                     + (f"Lowering every unit's quality by {quality - matched:.3g} (the "
                        f"mean-matched {pct(primary, 0)} arm, quality {matched:.3g}) already "
                        f"costs {pct(loss[f'matched {key}'], 1)} of NPV: the organic market's "
                        "NPV is steep in mean quality near the default: a small shift moves "
                        "more buyers of an ordinary unit below their expectation, and a "
                        f"shortfall weighs {base.purchase.loss_aversion:g} times a surplus "
                        "(`purchase.loss_aversion`), so the mean-matched control is no milder "
                        "than the defects. "
                        if loss[f"matched {key}"] >= loss[f"defects {key}"] else "")
                     + "Loss / share across d: "
                     + ", ".join(f"{loss[f'defects {d}'] / d:.2f} at {pct(d, 0)}"
                                 for d in shares)
                     + ". Silencing negative talk raises NPV far above the market without "
                     "defects: that market too has disappointed buyers (quality spread) and "
                     "rejecters. Time to half adoption is shorter where fewer adopt (the "
                     "gain is smaller), so NPV is the outcome that ranks the arms."),
        table=markdown_table(["arm", "defective", "NPV", "NPV lost", "time to half (weeks)",
                              "rejecters at end"], rows))


@case("wom_ratio", "stylised",
      "Positive word of mouth is about three times as common as negative",
      "East, Hammond & Wright (2007): across 15 categories positive word of mouth was about "
      "three times as frequent as negative (a ratio in 1.5–6 passes)")
def wom_ratio(ctx: Context) -> Finding:
    n, steps = ctx.size(10_000, 400), ctx.size(52, 12)
    replicates = ctx.size(5, 2)
    strategies = ("none", "conversation_led", "ad_heavy", "balanced", "incentive_push")
    arms = {s: ctx.config([f"strategy={s}", f"consumers={n}", f"steps={steps}"], s)
            for s in strategies}
    tables = ctx.run(arms, replicates)
    low, high = 1.5, 6.0
    ratio, rows = {}, []
    for s in strategies:
        positive = column(tables[s], "positive_wom")[:, 1:].sum(axis=1)
        negative = column(tables[s], "negative_wom")[:, 1:].sum(axis=1)
        ratio[s] = positive.sum() / max(negative.sum(), 1.0)
        rows.append((s, f"{positive.mean():,.0f}", f"{negative.mean():,.0f}",
                     f"{ratio[s]:.1f}"))
    passed = all(low <= r <= high for r in ratio.values())
    outside = [s for s, r in ratio.items() if not low <= r <= high]
    fig, (ax,) = ctx.figure()
    ax.bar(range(len(strategies)), [ratio[s] for s in strategies], color="tab:blue")
    ax.axhspan(low, high, color="tab:green", alpha=0.15, label=f"pass band {low:g}–{high:g}")
    ax.axhline(3.0, color="k", ls="--", lw=1, label="East et al. (2007): about 3")
    ax.set_xticks(range(len(strategies)), strategies, rotation=20, fontsize="small")
    ax.set(ylabel="positive / negative conversations", yscale="log",
           title=f"Good product (quality {arms['none'].brand.quality}), {steps} weeks")
    ax.legend(fontsize="small")
    figure = ctx.save(fig, "wom_ratio")
    return Finding(
        design=f"Default product (`brand.quality` {arms['none'].brand.quality}: a good one), "
               f"every strategy preset as an arm ({', '.join(strategies)}); {n:,} consumers, "
               f"{steps} weeks, {replicates} replicates. Ratio = positive over negative "
               "conversations (`positive_wom`, `negative_wom`) summed over the run and the "
               "replicates.",
        expected=f"about 3:1 in every arm (pass: every ratio in {low:g}–{high:g})",
        measured=", ".join(f"{s} {ratio[s]:.1f}" for s in strategies),
        test=f"every arm's ratio in [{low:g}, {high:g}] (a tolerance band, no test statistic)",
        passed=passed, figure=figure,
        explanation=("Every arm is within the band." if passed else
                     f"Outside the band: {', '.join(outside)}. Negative talk comes from "
                     "disappointed buyers and rejecters; positive talk from satisfied buyers "
                     "and from every non-adopter whose opinion talk has warmed, so where "
                     "praise spreads among non-adopters the ratio exceeds the survey's, "
                     "which counts mostly talk about brands people use or have used."),
        table=markdown_table(["arm", "positive conversations (per run)",
                              "negative conversations (per run)", "ratio"], rows))
