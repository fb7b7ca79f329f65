"""Corner cases and relative tests (Rand & Rust 2011) of the ``bass`` rule, and the network
bound of Fibich & Levin (2024).

The corner cases run on the default Barabási–Albert network, so they check the rule where
the model is used, not only on the complete graph of the docking cases.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from wommsim.reporting.tables import markdown_table
from wommsim.validation.bass import BASS, BASS_TEXT
from wommsim.validation.core import Context, Finding, case, column, pct
from wommsim.validation.stats import bonferroni_max_z, format_p, moving_average, paired_t

ALPHA = 0.05


def _bass(ctx: Context, arm: str, p: float, q: float, *extra: str):
    return ctx.config([*BASS, f"decision.p={p}", f"decision.q={q}", *extra], arm)


def _on_networks(ctx: Context, networks: tuple[str, ...], p: float, q: float, n: int,
                 steps: int, replicates: int):
    """The bass rule with ``p``, ``q`` on each network (arms named by network), paired."""
    arms = {net: _bass(ctx, net, p, q, f"network={net}", f"consumers={n}", f"steps={steps}")
            for net in networks}
    return ctx.run(arms, replicates)


@case("p_zero", "corner", "No innovation and no seed: nobody adopts",
      "Bass (1969) with p = 0 and F(0) = 0: F(t) = 0 for all t (Rand & Rust 2011, corner "
      "cases)")
def p_zero(ctx: Context) -> Finding:
    n, steps, replicates = ctx.size(2000, 200), ctx.size(52, 10), ctx.size(5, 2)
    tables = _on_networks(ctx, ("barabasi_albert", "complete"), 0.0, 0.9, n, steps,
                          replicates)
    most = {net: float(column(t, "adopted_fraction").max()) for net, t in tables.items()}
    passed = all(v == 0.0 for v in most.values())
    return Finding(
        design=f"{BASS_TEXT}, `decision.p=0 decision.q=0.9`; Barabási–Albert and complete "
               f"graphs, {n:,} consumers, {steps} steps, "
               f"{replicates} replicates each.",
        expected="no adopter at any step in any replicate",
        measured="; ".join(f"{net}: largest adopted share {pct(v)}" for net, v in most.items()),
        test="exact: every adopted share is 0",
        passed=passed,
        explanation=("Without an external hazard and without a first adopter, the social term "
                     "q·a/k is 0 for everyone, so nobody ever adopts."
                     if passed else
                     "Someone adopted although both terms of the hazard are 0: an adoption "
                     "path outside the bass hazard exists."))


@case("q_zero", "corner", "No imitation: pure innovation",
      "Bass (1969) with q = 0: F(t) = 1 − (1 − p)^t exactly in expectation (Rand & Rust "
      "2011, corner cases)")
def q_zero(ctx: Context) -> Finding:
    n, steps, replicates, p = ctx.size(5000, 300), ctx.size(52, 10), ctx.size(20, 3), 0.03
    cfg = _bass(ctx, "q=0", p, 0.0, f"consumers={n}", f"steps={steps}")
    sim = column(ctx.run({"q=0": cfg}, replicates)["q=0"], "adopted_fraction")
    t = np.arange(steps + 1)
    expected = 1 - (1 - p) ** t
    mean = sim.mean(axis=0)
    # Each consumer adopts by t independently with probability expected[t]: binomial.
    se = np.sqrt(expected * (1 - expected) / (n * replicates))
    z = (mean[1:] - expected[1:]) / se[1:]
    result = bonferroni_max_z(z)
    passed = result.p_value >= 0.01
    worst = int(np.argmax(np.abs(z))) + 1

    fig, (ax,) = ctx.figure()
    ax.plot(t, 100 * mean, lw=1.5, label="model, mean")
    ax.plot(t, 100 * expected, "k--", lw=1, label="1 − (1 − p)^t")
    ax.set(xlabel="step", ylabel="adopted (%)", title=f"bass rule, p = {p}, q = 0")
    ax.legend(fontsize="small")
    figure = ctx.save(fig, "q_zero")
    return Finding(
        design=f"{BASS_TEXT}, `decision.p={p} decision.q=0`, Barabási–Albert network, "
               f"{n:,} consumers, {steps} steps, {replicates} "
               "replicates.",
        expected="mean adopted share = 1 − (1 − p)^t at every step (binomial sampling "
                 "error only)",
        measured=f"largest |z| = {result.statistic:.2f} at step {worst} (model "
                 f"{pct(mean[worst])}, expected {pct(expected[worst])})",
        test=result.text + "; pass at p ≥ 0.01",
        passed=passed, p_value=result.p_value, alpha=0.01, figure=figure,
        explanation=("Without imitation every consumer adopts independently with hazard p "
                     "whatever the network, and the mean follows the survival curve within "
                     "binomial error." if passed else
                     "The mean departs from the survival curve by more than binomial error: "
                     "something besides p drives adoption when q = 0."))


def _relative_runs(ctx: Context):
    def compute():
        n, steps, replicates = ctx.size(2000, 300), ctx.size(40, 15), ctx.size(20, 4)
        size = (f"consumers={n}", f"steps={steps}")
        arms = {"base": _bass(ctx, "base", 0.01, 0.2, *size),
                "2p": _bass(ctx, "2p", 0.02, 0.2, *size),
                "2q": _bass(ctx, "2q", 0.01, 0.4, *size)}
        return n, steps, replicates, ctx.run(arms, replicates)

    return ctx.cached("relative", compute)


def _relative_design(n: int, steps: int, replicates: int, arm: str) -> str:
    return (f"{BASS_TEXT}, Barabási–Albert network, {n:,} consumers, "
            f"{steps} steps, {replicates} replicates paired on seeds: base p = 0.01, q = 0.2 "
            f"against {arm}.")


@case("double_p", "corner", "Doubling p speeds early adoption",
      "Bass (1969); Rand & Rust (2011), relative tests: more external influence, faster "
      "take-off")
def double_p(ctx: Context) -> Finding:
    n, steps, replicates, tables = _relative_runs(ctx)
    early = min(5, steps)
    base = column(tables["base"], "adopted_fraction")[:, early]
    doubled = column(tables["2p"], "adopted_fraction")[:, early]
    result = paired_t(doubled - base, "greater")
    passed = result.p_value < ALPHA and doubled.mean() > base.mean()
    ratio = doubled.mean() / base.mean() if base.mean() > 0 else np.inf
    return Finding(
        design=_relative_design(n, steps, replicates, "p = 0.02"),
        expected=f"higher adoption at step {early} with 2p (about twice as high early on)",
        measured=f"{pct(base.mean())} with p, {pct(doubled.mean())} with 2p at step {early} "
                 f"(ratio {ratio:.2f})",
        test=result.text, passed=passed, p_value=result.p_value, alpha=ALPHA,
        explanation=("Early adoption is almost all innovation, so doubling p nearly doubles "
                     "it." if passed else "Doubling p did not raise early adoption."))


def _peak_steps(new_adopters: np.ndarray) -> np.ndarray:
    """Each replicate's step of most new adopters, on a centred 3-step moving average."""
    return np.array([moving_average(row[1:], 3).argmax() + 1.0 for row in new_adopters])


@case("double_q", "corner", "Doubling q brings the peak forward",
      "Bass (1969): t* = ln(q/p)/(p+q) falls as q rises (for q ≫ p); Rand & Rust (2011), "
      "relative tests")
def double_q(ctx: Context) -> Finding:
    n, steps, replicates, tables = _relative_runs(ctx)
    base = _peak_steps(column(tables["base"], "new_adopters"))
    doubled = _peak_steps(column(tables["2q"], "new_adopters"))
    result = paired_t(doubled - base, "less")
    passed = result.p_value < ALPHA and doubled.mean() < base.mean()

    fig, (ax,) = ctx.figure()
    for arm, label in (("base", "p = 0.01, q = 0.2"), ("2p", "p = 0.02, q = 0.2"),
                       ("2q", "p = 0.01, q = 0.4")):
        ax.plot(column(tables[arm], "new_adopters").mean(axis=0), label=label)
    ax.set(xlabel="step", ylabel="new adopters per step (mean)",
           title="Relative tests on the Barabási–Albert network")
    ax.legend(fontsize="small")
    figure = ctx.save(fig, "relative_tests")
    return Finding(
        design=_relative_design(n, steps, replicates, "q = 0.4") + " Peak = step of most "
               "new adopters (3-step moving average) per replicate.",
        expected="an earlier peak of new adopters with 2q",
        measured=f"peak at step {base.mean():.2f} with q, {doubled.mean():.2f} with 2q "
                 "(means over replicates)",
        test=result.text, passed=passed, p_value=result.p_value, alpha=ALPHA, figure=figure,
        explanation=("Stronger imitation makes each adopter recruit faster, so the adoption "
                     "rate peaks sooner." if passed else
                     "Doubling q did not bring the peak forward."))


SPARSE = ("erdos_renyi", "watts_strogatz", "barabasi_albert")


@case("network_bound", "network", "Sparse networks diffuse no faster than the complete graph",
      "Fibich & Levin (2024): under the Bass model the complete network gives the fastest "
      "adoption; every network's adoption level lies at or below it")
def network_bound(ctx: Context) -> Finding:
    n, steps, replicates = ctx.size(2000, 200), ctx.size(40, 15), ctx.size(20, 3)
    tables = _on_networks(ctx, ("complete", *SPARSE), 0.01, 0.2, n, steps, replicates)
    complete = column(tables["complete"], "adopted_fraction")
    tests = 0
    smallest_p, worst = 1.0, ("", 0)
    rows = []
    fig, (ax, ax_diff) = ctx.figure(ncols=2)
    t = np.arange(steps + 1)
    ax.plot(t, 100 * complete.mean(axis=0), "k", lw=1.5, label="complete")
    for net in SPARSE:
        sim = column(tables[net], "adopted_fraction")
        d = sim - complete
        mean, sd = d.mean(axis=0)[1:], d.std(axis=0, ddof=1)[1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            tstat = np.where(sd > 0, mean / (sd / np.sqrt(replicates)),
                             np.where(mean == 0, 0.0, np.sign(mean) * np.inf))
        p = stats.t.sf(tstat, replicates - 1)
        tests += p.size
        i = int(np.argmin(p))
        if p[i] < smallest_p:
            smallest_p, worst = float(p[i]), (net, i + 1)
        rows.append((net, f"{100 * mean.max():+.2f}", f"{100 * mean.min():+.2f}",
                     int(np.argmin(mean)) + 1, format_p(float(p.min()))))
        ax.plot(t, 100 * sim.mean(axis=0), lw=1.2, label=net)
        se = np.concatenate([[0.0], sd / np.sqrt(replicates)])
        full = np.concatenate([[0.0], mean])
        ax_diff.plot(t, 100 * full, lw=1.2, label=net)
        ax_diff.fill_between(t, 100 * (full - 2 * se), 100 * (full + 2 * se), alpha=0.2)
    ax.set(xlabel="step", ylabel="adopted (%)", title="bass rule, p = 0.01, q = 0.2")
    ax.legend(fontsize="small")
    ax_diff.axhline(0, color="k", lw=0.8)
    ax_diff.set(xlabel="step", ylabel="network − complete (points)",
                title="Paired difference, mean ± 2 s.e.")
    figure = ctx.save(fig, "network_bound")
    corrected = min(1.0, smallest_p * tests)
    passed = corrected >= ALPHA
    excess = max(float(r[1]) for r in rows)
    return Finding(
        design=f"{BASS_TEXT}, p = 0.01, q = 0.2; complete, Erdős–Rényi (mean degree 8), "
               f"Watts–Strogatz (k = 8, rewiring 0.1) and "
               f"Barabási–Albert (m = 4) networks, {n:,} consumers, {steps} steps, "
               f"{replicates} replicates paired on seeds.",
        expected="each sparse network's mean adoption at or below the complete graph's at "
                 "every step (within sampling error)",
        measured=f"largest mean excess over the complete graph {excess:+.2f} points; "
                 f"smallest one-sided p {format_p(smallest_p)} ({worst[0]}, step {worst[1]})",
        test=f"paired t-test per network and step, H1: network above complete; Bonferroni "
             f"over {tests} tests: p = {format_p(corrected)}; pass at p ≥ {ALPHA}",
        passed=passed, p_value=corrected, alpha=ALPHA, figure=figure,
        explanation=("No sparse network is significantly above the complete graph at any "
                     "step. Under the hazard p + q·a/k an adopter's influence falls on its "
                     "own few neighbours, many already adopters, while consumers far from "
                     "any adopter feel none, so sparse networks waste imitation."
                     if passed else
                     f"{worst[0]} is significantly above the complete graph at step "
                     f"{worst[1]}: the bound of Fibich & Levin is violated."),
        table=markdown_table(["network", "largest mean excess (points)",
                        "largest mean deficit (points)", "step of largest deficit",
                        "smallest one-sided p"], rows))
