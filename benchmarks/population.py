"""Population-size study: do intensive outcomes settle as the simulated population grows?

Usage::

    python benchmarks/population.py [--sizes 1000 2000 5000 10000 20000 50000 100000 200000]
                                    [--replicates 8] [--steps 52] [--workers 0] [--quick]
                                    [--out benchmarks/results/population.csv]

``consumers`` is a computational choice only if a result does not depend on it. Every
market here is the default one (budget per consumer, every lever's unit fractions carried
over, review credibility per consumer) at sizes from 1,000 to 200,000 consumers, for the two
headline strategies (``ad_heavy``, ``conversation_led``), at the default ad-blind share (0.96)
and at 0.5 (the case that exposed the drift), on a Barabási–Albert network (hubs grow with n:
the largest degree of a BA graph grows about as sqrt(n)) and an Erdős–Rényi one of the same
mean degree (no hubs). Replicates ``0 .. R-1`` per point, the model's seed rule.

Outcomes per run, all intensive: final adoption, mean adoption over the run, time to half
(weeks), net sentiment, rejecters at the end (share of consumers), spend per consumer and
cost per adopter. For every market and outcome the table gives the mean and 95% interval at
each size and the difference from the largest size (Welch 95% interval), and the smallest
size from which every larger size agrees with the largest one: its difference is not shown to
exceed a stated tolerance (|difference| − its half-width ≤ tolerance: 1 point of adoption, 1
week, 0.02 of sentiment, 1 point of rejecters, 2% of cost per adopter and of spend per
consumer). Replicates are few, so read it with the intervals: a small size "agrees" partly
because its interval is wide.

Writes the per-run table (``--out``, CSV), the summary beside it (``*_summary.csv``) and a
figure (``.png`` and ``.pdf``): one panel per outcome, mean and 95% interval against
population (log scale), one line per market. No timings; run it on any machine.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SIZES = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000)
QUICK_SIZES = (500, 1_000)
STRATEGIES = ("ad_heavy", "conversation_led")
AD_BLIND = (0.96, 0.5)
NETWORKS = {"barabasi_albert": "BA", "erdos_renyi": "ER"}
#: Outcome: (label, scale shown, tolerance in shown units).
OUTCOMES = {
    "final_adoption": ("final adoption (%)", 100.0, 1.0),
    "mean_adoption": ("mean adoption over the run (%)", 100.0, 1.0),
    "time_to_half": ("time to half (weeks)", 1.0, 1.0),
    "net_sentiment": ("net sentiment", 1.0, 0.02),
    "rejecters_end": ("rejecters at the end (%)", 100.0, 1.0),
    "spend_per_consumer": ("spend per consumer", 1.0, None),  # relative: 2%
    "cost_per_adopter": ("cost per adopter", 1.0, None),  # relative: 2%
}
RELATIVE_TOLERANCE = 0.02


def markets() -> list[tuple[str, list[str]]]:
    """(label, overrides) of every market studied."""
    out = []
    for network, short in NETWORKS.items():
        for strategy in STRATEGIES:
            for blind in AD_BLIND:
                out.append((f"{strategy}, ad-blind {blind:g}, {short}",
                            [f"network={network}", f"strategy={strategy}",
                             f"consumer.ad_blind_fraction={blind}"]))
    return out


def run_outcomes(ts: pd.DataFrame, n: int) -> dict[str, float]:
    """The intensive outcomes of one run's per-step table."""
    from wommsim.reporting.analysis import replicate_outcomes

    base = replicate_outcomes(ts.assign(arm="run", replicate=0)).iloc[0]
    last = ts.iloc[-1]
    return {"final_adoption": float(base["final_adoption"]),
            "mean_adoption": float(ts["adopted_fraction"].iloc[1:].mean()),
            "time_to_half": float(base["time_to_half"]),
            "net_sentiment": float(base["net_sentiment"]),
            "rejecters_end": float(last["rejecters"]) / n,
            "spend_per_consumer": float(last["cumulative_spend"]) / n,
            "cost_per_adopter": float(base["cost_per_adopter"])}


def one_run(task: tuple[str, int, object, int]) -> dict:
    """One (market, size, config, replicate) run: its outcomes."""
    from wommsim.model import WommModel

    label, _, cfg, replicate = task
    model = WommModel(cfg, replicate=replicate)
    for _ in range(cfg.steps):
        model.step()
    return {"market": label, "consumers": model.n, "replicate": replicate,
            **run_outcomes(model.timeseries(), model.n)}


def run_study(sizes, replicates: int, steps: int, workers: int) -> pd.DataFrame:
    from wommsim.compose import compose
    from wommsim.runs.parallel import worker_count, worker_pool

    tasks = [(label, n, compose([*overrides, f"consumers={n}", f"steps={steps}",
                                 "agents=off"]), r)
             for n in sizes for label, overrides in markets() for r in range(replicates)]
    # Largest first: the long runs start early, so the pool does not end on one of them.
    order = sorted(range(len(tasks)), key=lambda i: -tasks[i][1])
    workers = worker_count(workers, len(tasks))
    started, rows = time.perf_counter(), [None] * len(tasks)
    with worker_pool(workers) as pool:
        for done, (i, row) in enumerate(zip(order, pool.map(one_run, [tasks[i] for i in order]),
                                            strict=True), 1):
            rows[i] = row
            if done % max(1, len(tasks) // 20) == 0 or done == len(tasks):
                print(f"  {done:,} of {len(tasks):,} runs, {time.perf_counter() - started:.0f} s",
                      file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Per market, outcome and size: mean, 95% half-width, difference from the largest size
    (Welch 95% interval), and whether it is within tolerance; plus, per market and outcome,
    ``settled_from``: the smallest size from which every size agrees with the largest."""
    from scipy import stats

    from wommsim.reporting.analysis import mean_ci

    rows = []
    for market, outcome in itertools.product(runs["market"].unique(), OUTCOMES):
        _, scale, tolerance = OUTCOMES[outcome]
        by_size = {n: g[outcome].to_numpy(float) * scale
                   for n, g in runs[runs["market"] == market].groupby("consumers")}
        largest = max(by_size)
        ref = by_size[largest][np.isfinite(by_size[largest])]
        ref_mean = ref.mean() if ref.size else np.nan
        tol = tolerance if tolerance is not None else RELATIVE_TOLERANCE * abs(ref_mean)
        for n, values in sorted(by_size.items()):
            mean, lo, hi = mean_ci(values)  # NaN-skipping; NaN bounds below 2 values
            half = (hi - lo) / 2
            finite = values[np.isfinite(values)]
            if n == largest or finite.size < 2 or ref.size < 2:
                diff, diff_half = mean - ref_mean, np.nan
            else:
                diff = mean - ref_mean
                va, vb = finite.var(ddof=1) / finite.size, ref.var(ddof=1) / ref.size
                dof = (va + vb) ** 2 / (va**2 / (finite.size - 1) + vb**2 / (ref.size - 1)) \
                    if va + vb > 0 else 1.0
                diff_half = stats.t.ppf(0.975, dof) * np.sqrt(va + vb)
            rows.append({"market": market, "outcome": outcome, "consumers": n, "mean": mean,
                         "half_width": half, "diff_from_largest": diff,
                         "diff_half_width": diff_half, "tolerance": tol,
                         "within": bool(abs(diff) - np.nan_to_num(diff_half) <= tol)})
    table = pd.DataFrame(rows)
    settled = {}
    for key, g in table.groupby(["market", "outcome"]):
        g = g.sort_values("consumers")
        within = g["within"].to_numpy()
        # The first size from which this and every larger size is within tolerance.
        outside = np.flatnonzero(~within)
        first = 0 if outside.size == 0 else outside[-1] + 1
        settled[key] = int(g["consumers"].iloc[first]) if first < len(g) else np.nan
    table["settled_from"] = [settled[(m, o)] for m, o in zip(table["market"], table["outcome"],
                                                              strict=True)]
    return table


def figure(table: pd.DataFrame, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outcomes = list(OUTCOMES)
    cols = 4
    fig, axes = plt.subplots(2, cols, figsize=(16, 7.5), constrained_layout=True)
    colours = plt.get_cmap("tab10")
    labels = list(dict.fromkeys(table["market"]))
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        for i, market in enumerate(labels):
            g = table[(table["market"] == market) & (table["outcome"] == outcome)]
            g = g.sort_values("consumers")
            style = "-" if market.endswith("BA") else "--"
            ax.plot(g["consumers"], g["mean"], style, marker="o", ms=3,
                    color=colours(i % 4), label=market)
            ax.fill_between(g["consumers"], g["mean"] - g["half_width"],
                            g["mean"] + g["half_width"], color=colours(i % 4), alpha=0.15,
                            linewidth=0)
        ax.set_xscale("log")
        ax.set(xlabel="consumers", ylabel=OUTCOMES[outcome][0])
        ax.grid(alpha=0.3)
    legend_ax = axes.flat[len(outcomes)]
    legend_ax.axis("off")
    handles, names = axes.flat[0].get_legend_handles_labels()
    legend_ax.legend(handles, names, loc="center", fontsize=8,
                     title="market (solid: Barabási–Albert, dashed: Erdős–Rényi);\n"
                           "bands: 95% intervals over replicates", title_fontsize=8)
    fig.suptitle("Intensive outcomes against the simulated population (mean and 95% interval)")
    for suffix in (".png", ".pdf"):
        fig.savefig(out.with_suffix(suffix), dpi=150)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--replicates", type=int, default=8)
    parser.add_argument("--steps", type=int, default=52)
    parser.add_argument("--workers", type=int, default=0, help="0 = one per core")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 500 and 1,000 consumers, 2 replicates, 8 steps")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "population.csv")
    parser.add_argument("--summarise-only", action="store_true",
                        help="read the runs from --out and redo the summary and figure")
    args = parser.parse_args(argv)
    if args.summarise_only:
        runs = pd.read_csv(args.out)
    else:
        sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
        replicates, steps = (2, 8) if args.quick else (args.replicates, args.steps)
        print(f"population study: {len(markets())} markets x {len(sizes)} sizes x "
              f"{replicates} replicates, {steps} steps", file=sys.stderr)
        runs = run_study(sizes, replicates, steps, args.workers)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        runs.to_csv(args.out, index=False)
    table = summarise(runs)
    summary = args.out.with_name(args.out.stem + "_summary.csv")
    table.to_csv(summary, index=False)
    figure(table, args.out)
    show = table.copy()
    show["mean ± 95%"] = [f"{m:.3g} ± {h:.2g}" for m, h in zip(show["mean"], show["half_width"],
                                                                strict=True)]
    for outcome in OUTCOMES:
        part = show[show["outcome"] == outcome].pivot(index="market", columns="consumers",
                                                     values="mean ± 95%")
        part["settled from"] = (show[show["outcome"] == outcome]
                                .groupby("market")["settled_from"].first())
        print(f"\n{OUTCOMES[outcome][0]}\n{part.to_string()}")
    print(f"\nwrote {args.out}, {summary}, {args.out.with_suffix('.png')} and .pdf")
    return 0


if __name__ == "__main__":
    sys.exit(main())
