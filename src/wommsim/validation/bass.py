"""Docking cases: the ``bass`` rule on the complete graph against analytic Bass results.

One family of runs serves all four cases: the complete graph, no marketing, no seed
adopters, ``p = 0.03`` and ``q = 0.38`` per unit of time (the means of Sultan, Farley &
Lehmann 1990), each unit split into ``K`` sub-steps run with ``p / K`` and ``q / K``. Word of
mouth is switched off in these runs: it does not enter the ``bass`` hazard (§3.3.9) and on
the complete graph it dominates the run time.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.ticker import NullFormatter

import wommsim.validation.theory as theory
from wommsim.reporting.tables import markdown_table
from wommsim.validation.core import Context, Finding, case, column, pct, plain_log_ticks
from wommsim.validation.stats import bootstrap, moving_average, peak_location

#: The Bass rule with nothing else acting: no spend, no seed adopters, no talk.
BASS = ("decision=bass", "strategy=none", "consumer.initial_adopted_fraction=0",
        "wom.enabled=false")
#: How :data:`BASS` reads in a design line of the report.
BASS_TEXT = ("`decision=bass strategy=none consumer.initial_adopted_fraction=0 "
             "wom.enabled=false` (word of mouth does not enter the bass hazard)")
P, Q = 0.03, 0.38  # per unit of time: Sultan, Farley & Lehmann (1990) means


@dataclass
class SubstepRuns:
    """Runs of the complete graph with each unit of time split into ``k`` sub-steps."""

    ks: tuple[int, ...]
    n: int
    horizon: int          # units of time
    replicates: int
    tables: dict[int, list[pd.DataFrame]]

    def adoption(self, k: int) -> np.ndarray:
        """Adopted share, replicates x (k * horizon + 1) sub-steps."""
        return column(self.tables[k], "adopted_fraction")


def substep_runs(ctx: Context) -> SubstepRuns:
    """The shared run family (computed once per context)."""

    def compute() -> SubstepRuns:
        ks = ctx.size((1, 2, 4, 8), (1, 2))
        n, horizon, replicates = ctx.size(2000, 300), ctx.size(25, 12), ctx.size(30, 3)
        arms = {f"K={k}": ctx.config([*BASS, "network=complete", f"consumers={n}",
                                      f"steps={k * horizon}", f"decision.p={P / k!r}",
                                      f"decision.q={Q / k!r}"], f"K={k}") for k in ks}
        tables = ctx.run(arms, replicates)
        return SubstepRuns(ks, n, horizon, replicates,
                           {k: tables[f"K={k}"] for k in ks})

    return ctx.cached("bass_substeps", compute)


def _design(runs: SubstepRuns, what: str) -> str:
    return (f"{BASS_TEXT}, `network=complete`, {runs.n:,} consumers, {runs.replicates} "
            f"replicates, p = {P}, q = {Q} per unit of time; {what}")


@case("bass_discrete", "docking", "Discrete Bass equation on the complete graph",
      "Bass (1969); the discrete form of `docs/ODD.md` §3.3.15",
      experiments=("bass_docking",))
def bass_discrete(ctx: Context) -> Finding:
    runs = substep_runs(ctx)
    sim = runs.adoption(1)
    steps = sim.shape[1] - 1
    expected = theory.discrete_bass(P, Q, steps)
    mean = sim.mean(axis=0)
    se = sim.std(axis=0, ddof=1) / np.sqrt(sim.shape[0])
    gap = np.abs(mean - expected)
    tolerance = theory.docking_tolerance(sim, runs.n)
    worst = int(np.argmax(gap))
    ratio = float(np.max(gap / tolerance))
    passed = bool((gap <= tolerance).all())

    t = np.arange(steps + 1)
    fig, (ax,) = ctx.figure()
    ax.fill_between(t, 100 * (mean - 2 * se), 100 * (mean + 2 * se), alpha=0.3,
                    label="model, mean ± 2 s.e.")
    ax.plot(t, 100 * mean, lw=1.5, label="model, mean")
    ax.plot(t, 100 * expected, "k--", lw=1, label="discrete Bass equation")
    ax.plot(t, 100 * theory.continuous_bass(t, P, Q), ":", color="grey",
            label="continuous Bass (same p, q)")
    ax.set(xlabel="step", ylabel="adopted (%)", title="Complete graph, bass rule")
    ax.legend(fontsize="small")
    figure = ctx.save(fig, "bass_discrete")

    rows = [(s, pct(expected[s]), f"{pct(mean[s])} ± {100 * se[s]:.2f}",
             f"{100 * gap[s]:.2f}", f"{100 * tolerance[s]:.2f}")
            for s in sorted({1, 2, 5, 8, 10, 15, 20, steps} & set(t))]
    return Finding(
        design=_design(runs, f"{steps} steps of one unit."),
        expected="mean adoption curve = `F(t+1) = F(t) + (p + q F(t))(1 - F(t))`, within "
                 "4 standard errors + 2/n at every step",
        measured=f"largest gap {100 * gap[worst]:.2f} points (step {worst}); largest "
                 f"gap / tolerance = {ratio:.2f}",
        test="gap ≤ 4 s.e. + 2/n at every step (a 4-sigma band per step; 2/n covers the "
             "finite-population terms of §3.3.15)",
        passed=passed, figure=figure,
        explanation=("The mean curve docks with the discrete equation at every step."
                     if passed else
                     f"The mean curve leaves the tolerance band at step {worst}: the model "
                     "does not reduce to the discrete Bass equation as §3.3.15 says."),
        table=markdown_table(["step", "discrete Bass", "model mean ± s.e.", "gap (points)",
                        "tolerance (points)"], rows))


@case("bass_continuous", "docking", "Continuous Bass curve as sub-steps shrink",
      "Bass (1969), closed-form solution `F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t})`",
      experiments=("bass_docking",))
def bass_continuous(ctx: Context) -> Finding:
    runs = substep_runs(ctx)
    times = np.arange(runs.horizon + 1)
    target = theory.continuous_bass(times, P, Q)
    rows, sim_err, rec_err, docks = [], [], [], []
    fig, (ax, ax_err) = ctx.figure(ncols=2)
    for k in runs.ks:
        sim = runs.adoption(k)
        recursion = theory.discrete_bass(P / k, Q / k, k * runs.horizon)
        dock_gap = np.abs(sim.mean(axis=0) - recursion)
        docks.append(bool((dock_gap <= theory.docking_tolerance(sim, runs.n)).all()))
        at_times = sim[:, k * times].mean(axis=0)
        sim_err.append(float(np.max(np.abs(at_times - target))))
        rec_err.append(float(np.max(np.abs(recursion[k * times] - target))))
        ax.plot(np.arange(sim.shape[1]) / k, 100 * sim.mean(axis=0), lw=1.2, label=f"K = {k}")
        rows.append((k, f"{100 * sim_err[-1]:.2f}", f"{100 * rec_err[-1]:.2f}",
                     f"{k * rec_err[-1]:.3f}", "yes" if docks[-1] else "no"))
    ax.plot(times, 100 * target, "k--", lw=1, label="continuous Bass")
    ax.set(xlabel="time (units of K sub-steps)", ylabel="adopted (%)",
           title="Mean adoption with K sub-steps per unit")
    ax.legend(fontsize="small")
    ks = np.array(runs.ks, dtype=float)
    ax_err.loglog(ks, 100 * np.array(sim_err), "o-", label="model (mean of replicates)")
    ax_err.loglog(ks, 100 * np.array(rec_err), "s--", label="discrete equation")
    ax_err.loglog(ks, 100 * rec_err[0] / ks, ":", color="grey", label="∝ 1/K")
    ax_err.set(xlabel="sub-steps per unit K", ylabel="largest gap to continuous (points)",
               title="Error against the continuous curve")
    plain_log_ticks(ax_err, runs.ks)
    ax_err.legend(fontsize="small")
    figure = ctx.save(fig, "bass_continuous")

    shrinking = all(b < a for a, b in itertools.pairwise(sim_err))
    rec_shrinking = all(b < a for a, b in itertools.pairwise(rec_err))
    passed = shrinking and rec_shrinking and all(docks)
    errs = ", ".join(f"K={k}: {100 * e:.2f}" for k, e in zip(runs.ks, sim_err, strict=True))
    if passed:
        explanation = (f"The gap to the continuous curve falls from {100 * sim_err[0]:.2f} to "
                       f"{100 * sim_err[-1]:.2f} points as K goes from {runs.ks[0]} to "
                       f"{runs.ks[-1]}. Each step uses the adoption level at its start, an "
                       "explicit Euler step of the Bass differential equation, whose error is "
                       f"of first order: K × the equation's gap goes from {rec_err[0]:.3f} "
                       f"to {runs.ks[-1] * rec_err[-1]:.3f}.")
    else:
        reasons = []
        if not all(docks):
            reasons.append("at some K the mean curve leaves the discrete equation's band")
        if not shrinking:
            reasons.append("the model's gap does not fall at every K (sampling error is "
                           "comparable to the remaining discretisation error)")
        if not rec_shrinking:
            reasons.append("the discrete equation itself does not converge monotonically")
        explanation = "Not shown: " + "; ".join(reasons) + "."
    return Finding(
        design=_design(runs, f"each unit of time split into K ∈ {list(runs.ks)} sub-steps "
                             f"(p/K, q/K per sub-step), {runs.horizon} units."),
        expected="the gap between the mean curve at t = step/K and the continuous Bass curve "
                 "shrinks as K grows; at each K the mean docks with the discrete equation",
        measured=f"largest gap (points): {errs}",
        test="gap falls at every K; docking band (4 s.e. + 2/n) at every sub-step and K",
        passed=passed, figure=figure, explanation=explanation,
        table=markdown_table(["K", "model gap (points)", "equation gap (points)",
                        "K × equation gap", "docks with equation"], rows))


@case("bass_peak_time", "docking", "Peak time of new adopters",
      "Bass (1969): the adoption rate peaks at `t* = ln(q/p) / (p + q)`",
      experiments=("bass_docking",))
def bass_peak_time(ctx: Context) -> Finding:
    runs = substep_runs(ctx)
    expected = theory.peak_time(P, Q)
    rng = np.random.default_rng([ctx.seed, 101])
    rows, measured = [], {}
    fig, (ax,) = ctx.figure()
    for k in runs.ks:
        new = column(runs.tables[k], "new_adopters")[:, 1:] / runs.n * k  # per unit of time
        mids = (np.arange(1, new.shape[1] + 1) - 0.5) / k  # each sub-step's midpoint
        width = k + 1 - k % 2  # about one unit of time, odd so that it is centred

        def peak_of(curve: np.ndarray, mids=mids, width=width) -> float:
            return peak_location(mids, moving_average(curve, width))

        peak = peak_of(new.mean(axis=0))
        boot = bootstrap(lambda idx, new=new, peak_of=peak_of: peak_of(new[idx].mean(axis=0)),
                         runs.replicates, ctx.size(400, 50), rng)
        se = float(boot.std(ddof=1))
        rec_peak = peak_of(np.diff(theory.discrete_bass(P / k, Q / k, k * runs.horizon)) * k)
        measured[k] = (peak, se, rec_peak)
        rows.append((k, f"{peak:.3f} ± {se:.3f}", f"{rec_peak:.3f}", f"{expected:.3f}"))
        ax.plot(mids, 100 * new.mean(axis=0), lw=1.2, label=f"K = {k}")
    ax.axvline(expected, color="k", ls="--", lw=1, label="ln(q/p)/(p+q)")
    ax.set(xlabel="time (units)", ylabel="new adopters (% per unit of time)",
           title="Adoption rate, mean of replicates")
    ax.legend(fontsize="small")
    figure = ctx.save(fig, "bass_peak_time")

    k = runs.ks[-1]
    peak, se, rec_peak = measured[k]
    allowance = abs(rec_peak - expected) + 3 * se
    gap = abs(peak - expected)
    passed = gap <= allowance
    return Finding(
        design=_design(runs, f"K ∈ {list(runs.ks)} sub-steps per unit; the peak of the mean "
                             "new-adopter curve (sub-step midpoints, centred moving average "
                             "over about one unit of time, refined by a parabola; the same "
                             "for the discrete equation), bootstrap standard error over "
                             "replicates."),
        expected=f"t* = ln(q/p)/(p+q) = {expected:.3f} units",
        measured=f"peak at {peak:.3f} ± {se:.3f} units with K = {k} (discrete equation: "
                 f"{rec_peak:.3f})",
        test=f"|peak − t*| = {gap:.3f} ≤ |equation's peak − t*| + 3 s.e. = {allowance:.3f}",
        passed=passed, figure=figure,
        explanation=("The adoption rate peaks where the continuous model says, up to the "
                     "discretisation shift of the equation with K sub-steps and sampling error."
                     if passed else
                     f"The peak with K = {k} is {gap:.3f} units from t*, more than the "
                     "discretisation shift plus 3 standard errors allow."),
        table=markdown_table(["K", "model peak ± s.e. (units)", "discrete equation's peak",
                        "t* (continuous)"], rows))


@case("bass_ads_share", "docking", "Share of adoptions triggered by the external term",
      "Mahajan, Muller & Srivastava (1990): innovators are a share `(p/q) ln(1 + q/p)` of "
      "the market in the continuous Bass model",
      experiments=("bass_docking",))
def bass_ads_share(ctx: Context) -> Finding:
    runs = substep_runs(ctx)
    continuous = theory.ads_share_continuous(P, Q)
    rows, ok, gaps_to_cont = [], [], []
    shares_by_k = {}
    for k in runs.ks:
        tables = runs.tables[k]
        ads = np.array([t["new_adopters_ads"].sum() for t in tables], dtype=float)
        total = np.array([t["new_adopters"].sum() for t in tables], dtype=float)
        share = ads / total
        mean, se = float(share.mean()), float(share.std(ddof=1) / np.sqrt(share.size))
        discrete = theory.ads_share_discrete(P / k, Q / k, k * runs.horizon)
        ok.append(abs(mean - discrete) <= 4 * se + 1.0 / runs.n)
        gaps_to_cont.append(abs(discrete - continuous))
        shares_by_k[k] = (mean, se, discrete)
        rows.append((k, f"{pct(mean)} ± {100 * se:.2f}", pct(discrete), pct(continuous),
                     "yes" if ok[-1] else "no"))
    k = runs.ks[-1]
    mean, se, discrete = shares_by_k[k]
    converging = all(b < a for a, b in itertools.pairwise(gaps_to_cont))
    near = abs(mean - continuous) <= abs(discrete - continuous) + 4 * se + 1.0 / runs.n
    passed = all(ok) and converging and near

    fig, (ax,) = ctx.figure()
    ks = list(runs.ks)
    ax.errorbar(ks, [100 * shares_by_k[j][0] for j in ks],
                yerr=[200 * shares_by_k[j][1] for j in ks], fmt="o", capsize=3,
                label="model (mean ± 2 s.e.)")
    ax.plot(ks, [100 * shares_by_k[j][2] for j in ks], "s--", label="discrete expectation")
    ax.axhline(100 * continuous, color="k", lw=1, label="(p/q) ln(1 + q/p)")
    ax.set(xscale="log", xlabel="sub-steps per unit K", ylabel="adoptions credited to ads (%)",
           title="External-influence share of adoptions")
    ax.set_xticks(ks, [str(j) for j in ks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize="small")
    figure = ctx.save(fig, "bass_ads_share")
    one = shares_by_k[runs.ks[0]]
    return Finding(
        design=_design(runs, f"K ∈ {list(runs.ks)} sub-steps per unit, {runs.horizon} units "
                             "(the market saturates); each adoption is credited to `ads` "
                             "with probability p_i / hazard (§3.3.10)."),
        expected=f"(p/q) ln(1 + q/p) = {pct(continuous)} in continuous time; the discrete "
                 "expectation `Σ p(1-F) / Σ (p+qF)(1-F)` at each K",
        measured=f"{pct(mean)} ± {100 * se:.2f} with K = {k} (discrete expectation "
                 f"{pct(discrete)}); {pct(one[0])} with K = {runs.ks[0]} "
                 f"(discrete expectation {pct(one[2])})",
        test="each K within 4 s.e. + 1/n of its discrete expectation; the discrete "
             "expectation approaches the continuous value as K grows; the largest K within "
             "that remaining gap + 4 s.e. + 1/n of the continuous value",
        passed=passed, figure=figure,
        explanation=(f"With K = {runs.ks[0]} the discrete model credits {pct(one[2])} of "
                     f"adoptions to the external term, against {pct(continuous)} in continuous "
                     "time: within a step the social term uses the adoption level at the "
                     "step's start, so imitation lags and the external term takes a "
                     f"{'larger' if one[2] > continuous else 'smaller'} share. With sub-steps "
                     "the share approaches the continuous value."
                     if passed else
                     "The credited share does not follow the discrete expectation at every "
                     "K, or does not approach the continuous value."),
        table=markdown_table(["K", "model share ± s.e.", "discrete expectation",
                        "continuous (p/q) ln(1+q/p)", "matches discrete"], rows))
