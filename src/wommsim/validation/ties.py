"""Ties and seeding: weak against strong ties as Goldenberg, Libai & Muller (2001) ran it, and
hub against fringe seeding as Hinz, Skiera, Barrot & Becker (2011) measured it.

Both cases reproduce their source's setup on the model's own rules, state what they expect,
what they measured, the test and its tolerance, and may fail honestly.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from wommsim.reporting.tables import markdown_table
from wommsim.validation.core import Context, Finding, case, column, pct
from wommsim.validation.stats import format_p, paired_t

#: Shares of consumers informed (aware) whose times Goldenberg, Libai & Muller (2001) report.
INFORMED = (0.16, 0.50, 0.95)

#: The factorial design of the weak-ties case: two levels per factor. β_s (talk over a strong
#: tie per contact and week) and β_w (over a weak tie) and the external influence α (per
#: consumer and week) are the ranges of Goldenberg, Libai & Muller (2001)'s design, except
#: β_s's low level, raised from 0.01 to 0.02 so that β_w <= β_s in every cell (the model's
#: weak ties talk at most as often as strong ones: wom.weak_tie_talk <= 1). Ties out: the
#: source's range of weak ties per consumer (5 to 29), scaled to a quarter at the quick size.
FACTORS = {
    "beta_s": (0.02, 0.07),
    "beta_w": (0.005, 0.015),
    "alpha": (0.0005, 0.01),
    "ties_out": (5.0, 29.0),
}


@dataclass(frozen=True)
class Effects:
    """Standardised OLS coefficients of a regression of ``log(time)`` on the standardised
    factors (beta weights), with their standard errors, in the order of ``names``."""

    names: tuple[str, ...]
    beta: np.ndarray
    se: np.ndarray
    r2: float

    def __getitem__(self, name: str) -> tuple[float, float]:
        i = self.names.index(name)
        return float(self.beta[i]), float(self.se[i])


def time_to(aware: np.ndarray, share: float) -> np.ndarray:
    """Per replicate (rows of ``aware``, the informed share at steps 0, 1, ...), the first
    step at which at least ``share`` is informed; ``steps + 1`` (censored) if never."""
    reached = aware >= share
    first = reached.argmax(axis=1).astype(float)
    first[~reached.any(axis=1)] = aware.shape[1]  # one step past the last
    return first


def standardised_effects(factors: dict[str, np.ndarray], outcome: np.ndarray) -> Effects:
    """Beta weights of an OLS regression of ``outcome`` on ``factors`` (every variable
    standardised to mean 0 and s.d. 1), as Goldenberg, Libai & Muller (2001) report them."""
    names = tuple(factors)
    x = np.column_stack([_z(np.asarray(factors[k], dtype=float)) for k in names])
    y = _z(np.asarray(outcome, dtype=float))
    design = np.column_stack([np.ones(y.size), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    dof = y.size - design.shape[1]
    sigma2 = float(resid @ resid) / dof if dof > 0 else np.nan
    cov = sigma2 * np.linalg.pinv(design.T @ design)
    r2 = 1.0 - float(resid @ resid) / float(y @ y) if float(y @ y) > 0 else np.nan
    return Effects(names, coef[1:], np.sqrt(np.diag(cov))[1:], r2)


def _z(values: np.ndarray) -> np.ndarray:
    sd = values.std()
    return (values - values.mean()) / sd if sd > 0 else values * 0.0


def ad_budget(alpha: float, consumers: int, awareness_prob: float,
              cost_per_impression: float) -> float:
    """The weekly advertising budget that informs each (ad-receptive) consumer with
    probability about ``alpha`` a week: ``alpha × consumers / awareness_prob`` impressions
    (each informs with ``awareness_prob``), at ``cost_per_impression``. For small ``alpha``
    the chance of two impressions to one consumer is negligible."""
    return alpha * consumers / awareness_prob * cost_per_impression


def weak_ties_overrides(beta_s: float, beta_w: float, alpha: float, ties_out: float,
                        size: int, networks: int, awareness_prob: float,
                        cost_per_impression: float) -> list[str]:
    """One cell of the weak-ties design as overrides: personal networks of ``size`` (cliques
    of strong ties) with ``ties_out`` weak ties each, word of mouth at ``beta_s`` per strong
    and ``beta_w`` per weak contact, advertising alone at the budget giving ``alpha``, no
    consumer ad-blind, nobody informed but half a personal network of seeds."""
    n = size * networks
    return ["network=personal_networks", f"network.network_size={size}",
            f"network.strong_degree={size - 1}", f"network.weak_degree={ties_out:g}",
            f"consumers={n}", f"wom.talk_prob={beta_s:g}",
            f"wom.weak_tie_talk={beta_w / beta_s:.6g}",
            "strategy=none", "strategy.advertising=1.0",
            "brand.budget_per_consumer="
            f"{ad_budget(alpha, n, awareness_prob, cost_per_impression) / n:.6g}",
            "consumer.ad_blind_fraction=0.0", "consumer.initial_aware_fraction=0.0",
            "consumer.initial_adopters=community",
            f"consumer.initial_adopted_fraction={0.5 * size / n:.6g}"]


@case("weak_ties", "stylised", "Weak ties speed the spread of information at least as much as "
      "strong ties",
      "Goldenberg, Libai & Muller (2001), 'Talk of the network': in a market of many small "
      "personal networks, the standardised effect of weak ties (β_w) on the time until 16%, "
      "50% and 95% of consumers are informed is at least as large as that of strong ties "
      "(β_s), over a factorial design of β_w, β_s, advertising and ties out")
def weak_ties(ctx: Context) -> Finding:
    size = 20
    networks, steps = ctx.size(150, 20), ctx.size(156, 60)
    replicates = ctx.size(4, 1)
    levels = dict(FACTORS)
    if ctx.quick:  # a quarter of the ties out in a twentieth of the networks
        levels["ties_out"] = (1.0, 7.0)
    base = ctx.config([], "defaults")
    awareness, cost = base.advertising.awareness_prob, base.advertising.cost_per_impression
    cells = list(itertools.product(*levels.values()))
    arms = {}
    for cell in cells:
        label = " ".join(f"{k}={v:g}" for k, v in zip(levels, cell, strict=True))
        arms[label] = ctx.config([*weak_ties_overrides(*cell, size, networks, awareness, cost),
                                  f"steps={steps}"], label)
    tables = ctx.run(arms, replicates)
    design = {k: np.repeat([cell[i] for cell in cells], replicates)
              for i, k in enumerate(levels)}
    aware = {label: column(t, "aware_fraction") for label, t in tables.items()}
    times = {share: np.concatenate([time_to(aware[label], share) for label in arms])
             for share in INFORMED}
    censored = {share: int(np.count_nonzero(times[share] > steps)) for share in INFORMED}
    effects = {share: standardised_effects(design, np.log(times[share])) for share in INFORMED}
    diffs = {}
    for share, fit in effects.items():
        (bw, sw), (bs, ss) = fit["beta_w"], fit["beta_s"]
        diffs[share] = (abs(bw) - abs(bs), np.hypot(sw, ss), bw, bs)
    primary = 0.50
    diff, se, bw, bs = diffs[primary]
    passed = bool(bw < 0 and diff >= 0)

    fig, (ax,) = ctx.figure()
    x = np.arange(len(INFORMED))
    for offset, (name, label) in enumerate((("beta_w", "weak ties β_w"),
                                            ("beta_s", "strong ties β_s"),
                                            ("alpha", "advertising α"),
                                            ("ties_out", "ties out"))):
        vals = [effects[s][name] for s in INFORMED]
        ax.errorbar(x + 0.15 * (offset - 1.5), [v[0] for v in vals],
                    yerr=[2 * v[1] for v in vals], fmt="o", capsize=3, label=label)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(x, [f"{pct(s, 0)} informed" for s in INFORMED])
    ax.set(ylabel="standardised effect on log(time)",
           title="Effects on the time to inform the market (± 2 s.e.)")
    ax.legend(fontsize="small")
    figure = ctx.save(fig, "weak_ties")
    rows = [(pct(s, 0), *(f"{effects[s][k][0]:+.3f}" for k in levels),
             f"{effects[s].r2:.2f}", f"{diffs[s][0]:+.3f} ± {2 * diffs[s][1]:.3f}",
             censored[s]) for s in INFORMED]
    n = size * networks
    censored_note = ", ".join(f"{censored[s]} at {pct(s, 0)}" for s in INFORMED)
    return Finding(
        design=f"`network=personal_networks`: {networks} personal networks of {size} "
               f"consumers ({n:,} in all), each a clique of strong ties, with ties out "
               f"(weak ties per consumer) ∈ {list(levels['ties_out'])}; β_s = "
               f"`wom.talk_prob` ∈ {list(levels['beta_s'])}, β_w = `wom.talk_prob × "
               f"wom.weak_tie_talk` ∈ {list(levels['beta_w'])}; external influence α ∈ "
               f"{list(levels['alpha'])} per consumer and week, given by advertising alone "
               "(`strategy=none` with `strategy.advertising=1`, no consumer ad-blind, the "
               "budget buying α × consumers / `advertising.awareness_prob` impressions a "
               "week); nobody informed at the start but half a personal network of "
               "existing customers, all in one network (`consumer.initial_adopters="
               f"community`). Full factorial, {len(cells)} cells × {replicates} replicates, "
               f"{steps} weeks; informed = aware. Standardised effects: OLS of the "
               "standardised log time on the standardised factors (beta weights).",
        expected="weak ties' effect on the time to 50% informed at least as large as strong "
                 "ties' (|β_w effect| ≥ |β_s effect|, the β_w effect negative: faster); the "
                 "16% and 95% times reported alongside",
        measured=f"at 50% informed: β_w effect {bw:+.3f}, β_s effect {bs:+.3f}, |β_w| − "
                 f"|β_s| = {diff:+.3f} (s.e. {se:.3f})",
        test="point estimate of |β_w effect| − |β_s effect| ≥ 0 at 50% informed, with the "
             "β_w effect negative; tolerance 0 (the source states 'at least as large'); the "
             "standard error is shown, not tested",
        passed=passed, figure=figure,
        explanation=(("Weak ties carry the news between personal networks, where strong "
                      "ties only repeat it inside one; once a network is informed, more "
                      "strong-tie talk adds little, so the speed of the whole market turns on "
                      "the weak ties. " if passed else
                      "In the model strong ties' talk rate moved the time to half the market "
                      "informed more than weak ties' did. ")
                     + "Across the thresholds |β_w| − |β_s| is "
                     + ", ".join(f"{diffs[s][0]:+.3f} at {pct(s, 0)}" for s in INFORMED)
                     + "." + (" Runs that never reached a threshold count as one week past "
                              f"the last ({censored_note})." if any(censored.values()) else "")
                     + " The factor levels are the source's ranges as recalled (β_s's low "
                     "level raised to 0.02, see `FACTORS`); external influence is "
                     "advertising's awareness, whose other effects (adstock, hype) do not "
                     "touch awareness."),
        table=markdown_table(["informed", "β_s", "β_w", "α", "ties out", "R²",
                              "|β_w| − |β_s| (± 2 s.e.)", "runs censored"], rows))


#: Hinz, Skiera, Barrot & Becker (2011): hub (and bridge) seeding brought up to eight times
#: the referrals of fringe seeding; the issue asks for 2-8 times.
HUB_FRINGE_RANGE = (2.0, 8.0)
#: Weeks over which the seeds' referrals are counted: a campaign's horizon, well before the
#: market saturates (over a year every seeding ends near the same adoption); assumption
#: (range 4-13 weeks: Hinz et al.'s campaigns ran for days to weeks).
CAMPAIGN_WEEKS = 8
#: Per-contact conversion of the hubs' market at most this multiple of the fringe's: the
#: gain comes from participation, not persuasiveness (Hinz et al. 2011).
CONVERSION_MAX_RATIO = 1.2


@case("hub_seeding", "stylised", "Hub seeding beats fringe seeding through participation",
      "Hinz, Skiera, Barrot & Becker (2011), 'Seeding strategies for viral marketing': "
      "seeding hubs brought up to eight times the referrals of seeding the fringe, because "
      "well-connected seeds take part more and reach more people; their contacts convert "
      "no more often per contact",
      experiments=("seeding",))
def hub_seeding(ctx: Context) -> Finding:
    n, steps = ctx.size(10_000, 1000), CAMPAIGN_WEEKS
    replicates = ctx.size(20, 2)
    common = ["strategy=none", "consumer.initial_adopted_fraction=0.01", f"consumers={n}",
              f"steps={steps}"]
    arms = {rule: ctx.config([*common, f"consumer.initial_adopters={rule}"], f"{rule} seeds")
            for rule in ("hubs", "fringe")}
    tables = ctx.run(arms, replicates)
    gained = {r: column(t, "new_adopters_wom")[:, 1:].sum(axis=1) for r, t in tables.items()}
    talk = {r: (column(t, "positive_wom") + column(t, "negative_wom"))[:, 1:].sum(axis=1)
            for r, t in tables.items()}
    conversion = {r: gained[r] / np.maximum(talk[r], 1) for r in arms}
    ratio = gained["hubs"].mean() / max(gained["fringe"].mean(), 1e-9)
    talk_ratio = talk["hubs"].mean() / max(talk["fringe"].mean(), 1e-9)
    conv_ratio = conversion["hubs"].mean() / max(conversion["fringe"].mean(), 1e-12)
    # paired on seeds: the log ratio of word-of-mouth adoptions, hubs over fringe
    log_ratio = np.log(np.maximum(gained["hubs"], 1) / np.maximum(gained["fringe"], 1))
    above = paired_t(log_ratio, "greater", null=np.log(HUB_FRINGE_RANGE[0]))
    lo, hi = HUB_FRINGE_RANGE
    passed = bool(lo <= ratio <= hi and conv_ratio <= CONVERSION_MAX_RATIO
                  and talk_ratio >= ratio / CONVERSION_MAX_RATIO)

    fig, (ax,) = ctx.figure()
    for rule in arms:
        ax.plot(np.arange(steps + 1),
                np.cumsum(column(tables[rule], "new_adopters_wom"), axis=1).mean(axis=0),
                label=f"free samples to {rule}")
    ax.set(xlabel="week", ylabel="adopters won by word of mouth (cumulative)",
           title=f"{pct(0.01, 0)} of consumers get a free sample")
    ax.legend(fontsize="small")
    figure = ctx.save(fig, "hub_seeding")
    rows = [(rule, f"{gained[rule].mean():,.1f}", f"{talk[rule].mean():,.0f}",
             f"{1000 * conversion[rule].mean():.2f}") for rule in arms]
    return Finding(
        design=f"Organic market (`strategy=none`) on the default network, {n:,} consumers, "
               f"{steps} weeks (a campaign's horizon, before the market saturates); 1% of "
               "consumers get a free sample (existing customers at step 0), placed on the "
               "highest-degree consumers (`consumer.initial_adopters=hubs`) or the "
               "lowest-degree ones (`fringe`); "
               f"{replicates} replicates paired on seeds. Gain = adopters credited to word "
               "of mouth; participation = conversations held (`positive_wom + "
               "negative_wom`); per-contact conversion = gain / conversations, per arm.",
        expected=f"hubs win {lo:g}–{hi:g}× the fringe's word-of-mouth adopters; per-contact "
                 f"conversion in the hubs' market at most {CONVERSION_MAX_RATIO:g}× the "
                 "fringe's, so the gain comes from conversations (participation)",
        measured=f"hubs/fringe: {ratio:.2f}× the word-of-mouth adopters, {talk_ratio:.2f}× "
                 f"the conversations, {conv_ratio:.2f}× the per-contact conversion",
        test=f"ratio of means within [{lo:g}, {hi:g}], conversion ratio ≤ "
             f"{CONVERSION_MAX_RATIO:g}, and conversations ratio ≥ adopters ratio / "
             f"{CONVERSION_MAX_RATIO:g}; reported: {above.text} on the log ratio against "
             f"log {lo:g}",
        passed=passed, figure=figure,
        explanation=(("Hubs, once customers, talk to many neighbours, so more conversations "
                      "reach non-adopters; each conversation converts about as often as in "
                      "the fringe-seeded market. " if passed else
                      "The model does not reproduce the source's pattern: "
                      + "; ".join(reason for reason, failed in (
                          ("the gain is outside the range", not lo <= ratio <= hi),
                          ("conversations in the hubs' market convert more often than in "
                           "the fringe's", conv_ratio > CONVERSION_MAX_RATIO),
                          ("the gain is not carried by more conversations",
                           talk_ratio < ratio / CONVERSION_MAX_RATIO)) if failed) + ". ")
                     + "Per-contact conversion is measured for each market as a whole (every "
                     "speaker's conversations, not only the seeds'), from the per-step table; "
                     f"the log-ratio test is one-sided p = {format_p(above.p_value)}. Hinz "
                     "et al.'s 'up to eight times' spans their studies; the issue's 2–8× is "
                     "the tolerance."),
        table=markdown_table(["seeds", "word-of-mouth adopters (per run)",
                              "conversations (per run)", "conversion per 1,000 conversations"],
                             rows))
