"""Does a simple marketing-mix model recover the simulated truth? A worked example.

Reads a run's ``media_panel.csv`` (any run with ``attribution=counterfactual``, e.g.
``python -m wommsim +experiment=ads_vs_wom``), fits per arm a transparent marketing-mix
model (MMM) that pools the replicates as geos, and compares each lever's estimated
contribution to revenue with its true contribution, the Shapley value from the
counterfactual runs (docs/ODD.md §5.6)::

    python experiments/media_panel/mmm_example.py RUN_DIR [--out DIR]

The model, for geo ``g`` (a replicate) and week ``t``::

    revenue[g, t] = a (1 - s_t) + c s_t + Σ_l β_l · hill(adstock(spend_l[g, :t]; θ_l))

- ``adstock``: geometric carry-over, ``A_t = spend_t + θ A_{t-1}``, ``θ`` in
  :data:`DECAYS`, chosen per lever by a grid search on the residual sum of squares;
- ``hill``: ``A / (A + K_l)`` with ``K_l`` the lever's mean adstocked spend (half the
  effect at the usual level: diminishing returns without a parameter to estimate);
- ``a (1 - s_t) + c s_t``: the baseline (what sells without marketing), a straight line
  in time (``s_t = t / weeks``) from ``a`` to ``c``, both ``≥ 0``: no negative sales;
- every coefficient ``≥ 0`` (spend does not hurt), by non-negative least squares
  (SciPy ``nnls``), for each combination of decays.

A lever's estimated contribution is ``Σ_t β_l · hill(...)``, what the model says revenue
would lose without the lever; its true contribution is the sum over weeks of
``contribution_revenue_<lever>``. Both are per geo and averaged over the geos. Writes
``mmm_vs_truth.csv`` and ``mmm_vs_truth.png`` into ``--out`` (default ``RUN_DIR/mmm``)
and prints the table. Needs only numpy, pandas, SciPy and matplotlib.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import nnls

LEVERS = ("advertising", "dialogue", "content", "reviews", "incentives")
#: The adstock decays tried for each lever (weekly carry-over of spend).
DECAYS = (0.0, 0.2, 0.4, 0.6, 0.8)


def adstock(spend: np.ndarray, decay: float) -> np.ndarray:
    """Geometric adstock along the last axis (weeks): ``A_t = x_t + decay * A_{t-1}``."""
    out = np.empty_like(spend)
    carried = np.zeros(spend.shape[:-1])
    for t in range(spend.shape[-1]):
        carried = spend[..., t] + decay * carried
        out[..., t] = carried
    return out


def hill(x: np.ndarray) -> np.ndarray:
    """Diminishing returns, half the effect at the mean: ``x / (x + mean(x))``."""
    return x / (x + x.mean())


def wide(panel: pd.DataFrame, column: str) -> np.ndarray:
    """A column as a geos × weeks array."""
    return panel.pivot(index="replicate", columns="step", values=column).to_numpy(float)


def fit_arm(panel: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit the model to one arm's rows; returns per lever (and ``baseline``, and ``all``
    levers together) the spend,
    the variation of weekly spend, the chosen decay, and the estimated and true
    contributions per geo; and per week the mean actual revenue, the true baseline and the
    model's baseline and fit."""
    revenue = wide(panel, "revenue")
    geos, weeks = revenue.shape
    levers = [lever for lever in LEVERS if panel[f"spend_{lever}"].gt(0).any()]
    spend = {lever: wide(panel, f"spend_{lever}") for lever in levers}
    share = np.broadcast_to(np.arange(1, weeks + 1) / weeks, revenue.shape)
    base = [(1.0 - share).ravel(), share.ravel()]
    best = None
    for decays in itertools.product(DECAYS, repeat=len(levers)):
        media = [hill(adstock(spend[lever], d)) for lever, d in zip(levers, decays,
                                                                     strict=True)]
        design = np.column_stack([*base, *(m.ravel() for m in media)])
        coef, residual = nnls(design, revenue.ravel())
        if best is None or residual < best[0]:
            best = residual, coef, decays, media
    _, coef, decays, media = best
    baseline = coef[0] * (1.0 - share) + coef[1] * share
    rows = [{"lever": "baseline", "spend": 0.0, "spend_cv": np.nan, "decay": np.nan,
             "estimated": baseline.sum() / geos,
             "true": panel["baseline_revenue"].sum() / geos}]
    for i, lever in enumerate(levers):
        weekly = spend[lever].mean(axis=0)
        rows.append({"lever": lever, "spend": spend[lever].sum() / geos,
                     "spend_cv": weekly.std() / weekly.mean(), "decay": decays[i],
                     "estimated": coef[2 + i] * media[i].sum() / geos,
                     "true": panel[f"contribution_revenue_{lever}"].sum() / geos})
    # All marketing together: what the model and the truth say it added over the baseline.
    rows.append({"lever": "all", "spend": sum(r["spend"] for r in rows), "spend_cv": np.nan,
                 "decay": np.nan, "estimated": sum(r["estimated"] for r in rows[1:]),
                 "true": sum(r["true"] for r in rows[1:])})
    table = pd.DataFrame(rows)
    fitted = baseline + sum(c * m for c, m in zip(coef[2:], media, strict=True))
    r2 = 1.0 - ((revenue - fitted) ** 2).sum() / ((revenue - revenue.mean()) ** 2).sum()
    table["r2"] = r2
    curves = pd.DataFrame({"step": np.arange(1, weeks + 1), "revenue": revenue.mean(axis=0),
                           "true_baseline": wide(panel, "baseline_revenue").mean(axis=0),
                           "model_baseline": baseline.mean(axis=0),
                           "model_fit": fitted.mean(axis=0)})
    return table, curves


def compare(panel: pd.DataFrame) -> tuple[pd.DataFrame, dict[tuple[str, str], pd.DataFrame]]:
    """Fit every arm that spends (one brand at a time); the table and weekly curves."""
    tables, curves = [], {}
    for (arm, brand), part in panel.groupby(["arm", "brand"], sort=False):
        if not part[[f"spend_{lever}" for lever in LEVERS]].gt(0).any().any():
            continue  # no spend: nothing to model (the arm is its own baseline)
        table, weekly = fit_arm(part)
        tables.append(table.assign(arm=arm, brand=brand))
        curves[(arm, brand)] = weekly
    table = pd.concat(tables, ignore_index=True)
    table["ratio"] = table["estimated"] / table["true"]
    table["roi_true"] = table["true"] / table["spend"].where(table["spend"] > 0)
    table["roi_estimated"] = table["estimated"] / table["spend"].where(table["spend"] > 0)
    columns = ["arm", "brand", "lever", "spend", "spend_cv", "decay", "true", "estimated",
               "ratio", "roi_true", "roi_estimated", "r2"]
    return table[columns], curves


def draw(table: pd.DataFrame, curves: dict[tuple[str, str], pd.DataFrame], path: Path
         ) -> None:
    """Per arm: estimated against true contribution per lever (and the baseline), and the
    weekly revenue with the true and the model's baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(curves), 2, figsize=(11, 3.4 * len(curves)), squeeze=False)
    brands = table["brand"].nunique()
    for row, ((arm, brand), weekly) in zip(axes, curves.items(), strict=True):
        name = arm if brands == 1 else f"{arm}, brand {brand}"
        part = table[(table["arm"] == arm) & (table["brand"] == brand)]
        x = np.arange(len(part))
        row[0].bar(x - 0.2, part["true"], 0.4, label="true (Shapley)", color="0.3")
        row[0].bar(x + 0.2, part["estimated"], 0.4, label="MMM estimate", color="tab:orange")
        row[0].set_xticks(x, part["lever"])
        row[0].axhline(0, color="black", lw=0.6)
        row[0].set_title(f"{name}: revenue per geo by source")
        row[0].legend(frameon=False, fontsize=8)
        row[1].plot(weekly["step"], weekly["revenue"], color="black", label="revenue")
        row[1].plot(weekly["step"], weekly["model_fit"], color="tab:orange", ls=":",
                    label="MMM fit")
        row[1].plot(weekly["step"], weekly["true_baseline"], color="0.3", ls="--",
                    label="true baseline (no marketing)")
        row[1].plot(weekly["step"], weekly["model_baseline"], color="tab:orange", ls="--",
                    label="MMM baseline")
        row[1].set_xlabel("week")
        row[1].set_title(f"{name}: weekly revenue, mean over geos")
        row[1].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a run's folder with media_panel.csv")
    parser.add_argument("--out", type=Path, help="where to write (default RUN_DIR/mmm)")
    args = parser.parse_args(argv)
    source = args.run_dir / "media_panel.csv"
    if not source.is_file():
        parser.error(f"{source} not found: run with attribution=counterfactual")
    table, curves = compare(pd.read_csv(source))
    out = args.out or args.run_dir / "mmm"
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "mmm_vs_truth.csv", index=False)
    draw(table, curves, out / "mmm_vs_truth.png")
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.round({"spend": 0, "spend_cv": 3, "true": 0, "estimated": 0,
                           "ratio": 2, "roi_true": 2, "roi_estimated": 2, "r2": 3})
              .to_string(index=False))
    print(f"written: {out / 'mmm_vs_truth.csv'}, {out / 'mmm_vs_truth.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
