"""Figures of one experiment: adoption curves, attribution, sentiment, cost and spread.

:func:`save_figures` writes PNGs from the per-step table, the per-replicate outcomes and the
per-arm summary (see :mod:`wommsim.reporting.analysis`). Figures are drawn on the Agg canvas without
pyplot, so nothing is shown, no global backend is switched and no figure outlives its save.
Each arm keeps one colour across all figures (the arm order of the per-step table).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from scipy import stats

from wommsim.mechanisms import INFLUENCE_LABELS, INFLUENCES
from wommsim.reporting.figures import (
    arm_colours,
    category_x,
    figure,
    legend,
    save,
    wrap,
)


def mean_band(ts: pd.DataFrame, column: str, scale: float = 1.0) -> pd.DataFrame:
    """Per arm and step: mean of ``column`` x ``scale`` over replicates and its 95%
    t-interval (``lo``/``hi`` NaN with a single replicate)."""
    g = ts.groupby(["arm", "step"], sort=False)[column].agg(["mean", "std", "count"]) * 1.0
    g[["mean", "std"]] *= scale
    n = g["count"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.975, np.where(n > 1, n - 1, np.nan)) * g["std"] / np.sqrt(n)
    return g.assign(lo=g["mean"] - half, hi=g["mean"] + half)














def _lines(ax, band: pd.DataFrame, arms, colours, clip=(-np.inf, np.inf), **style) -> None:
    """One mean line per arm, with its band where ``band`` has finite bounds."""
    for arm in arms:
        d = band.loc[arm]
        ax.plot(d.index, d["mean"], color=colours[arm], label=wrap(arm), **style)
        if np.isfinite(d["lo"]).any():
            ax.fill_between(d.index, d["lo"].clip(*clip), d["hi"].clip(*clip),
                            color=colours[arm], alpha=0.15, linewidth=0)


def _arm_axis(ax, arms) -> np.ndarray:
    """Horizontal-bar layout: one row per arm, first arm on top; returns the positions."""
    pos = np.arange(len(arms))
    ax.set_yticks(pos, [wrap(a) for a in arms], fontsize="small")
    ax.set_ylim(len(arms) - 0.5, -0.5)
    return pos


def _bar_height(n: int) -> tuple[float, float]:
    """Size of a one-row-per-arm figure."""
    return 8, max(5.0, 1.6 + 0.45 * n)


def _legend_height(arms: Sequence[str], least: float = 5.0) -> tuple[float, float]:
    """Size of a line figure tall enough for its legend of (wrapped) arm names."""
    lines = sum(wrap(a).count("\n") + 1 for a in arms)
    return 8, max(least, 1.0 + 0.17 * lines + 0.1 * len(arms))





def _grid_figure(summary: pd.DataFrame, grid_keys: Sequence[str], path: Path) -> Path:
    """Final adoption and cost per adopter against the first grid key, one line per base
    arm; with a second key, one column of panels per value of it."""
    key, *rest = grid_keys
    summary = summary.reset_index(drop=True)
    xs, cats = category_x(summary[key])
    shorts = [k.rsplit(".", 1)[-1] for k in grid_keys[:2]]
    pattern = "|".join(re.escape(s) for s in shorts)
    base = summary["arm"].astype(str).str.replace(rf"\s+(?:{pattern})=\S+", "", regex=True)
    bases = list(pd.unique(base))
    colours = arm_colours(bases)
    columns = list(pd.unique(summary[rest[0]])) if rest else [None]
    fig, axes = figure((max(8.0, 4.0 * len(columns) + 2), 8), nrows=2, ncols=len(columns),
                        squeeze=False, sharex=True, sharey="row")
    panels = [("final_adoption", 100.0, "final adoption (% of consumers)"),
              ("cost_per_adopter", 1.0, "cost per adopter (money)")]
    for j, value in enumerate(columns):
        part = summary if value is None else summary[summary[rest[0]] == value]
        for i, (outcome, scale, ylabel) in enumerate(panels):
            ax = axes[i, j]
            for b in bases:
                rows = part[base.loc[part.index] == b]
                x = xs[rows.index]
                order = np.argsort(x, kind="stable")
                mean = rows[f"{outcome}_mean"].to_numpy(dtype=float)[order] * scale
                lo = rows[f"{outcome}_lo"].to_numpy(dtype=float)[order] * scale
                hi = rows[f"{outcome}_hi"].to_numpy(dtype=float)[order] * scale
                err = np.nan_to_num(np.vstack([mean - lo, hi - mean]), nan=0.0).clip(0)
                ax.errorbar(x[order], mean, yerr=err, color=colours[b], marker="o",
                            capsize=3, label=wrap(b))
            if cats:
                ax.set_xticks(range(len(cats)), cats)
            ax.grid(alpha=0.3)
            if j == 0:
                ax.set_ylabel(ylabel)
            if i == 0 and value is not None:
                ax.set_title(f"{rest[0]} = {value}", fontsize="medium")
            if i == 1:
                ax.set_xlabel(key)
    handles, labels = axes[0, -1].get_legend_handles_labels()
    if len(handles) > 1:
        fig.legend(handles, labels, title="arm (grid values removed)", fontsize="small",
                   loc="outside lower center", ncols=min(len(handles), 4), frameon=False)
    fig.suptitle(f"Final adoption and cost per adopter against {key} (95% intervals)")
    return save(fig, path)


def save_figures(timeseries: pd.DataFrame, outcomes: pd.DataFrame, summary: pd.DataFrame,
                 figdir: Path, grid_keys: Sequence[str] = ()) -> list[Path]:
    """Write the experiment's figures into ``figdir`` and return their paths."""
    figdir = Path(figdir)
    figdir.mkdir(parents=True, exist_ok=True)
    arms = list(pd.unique(timeseries["arm"]))
    colours = arm_colours(arms)
    reps = timeseries.groupby("arm", sort=False)["replicate"].nunique()
    n_text = (f"{reps.min()}-{reps.max()} replicates" if reps.min() != reps.max()
              else f"{reps.min()} replicate{'' if reps.min() == 1 else 's'}")
    paths = []

    fig, ax = figure(_legend_height(arms))
    _lines(ax, mean_band(timeseries, "adopted_fraction", 100.0), arms, colours, clip=(0, 100))
    ax.set(title=f"Adoption over time (mean and 95% band, {n_text})", xlabel="time (weeks)",
           ylabel="adopted (% of consumers)")
    ax.grid(alpha=0.3)
    legend(ax, title="arm")
    paths.append(save(fig, figdir / "adoption.png"))

    fig, ax = figure(_legend_height(arms))
    later = timeseries[timeseries["step"] > 0]  # step 0 is the initial state
    _lines(ax, mean_band(later, "new_adopters").assign(lo=np.nan, hi=np.nan), arms, colours)
    ax.set(title=f"New adopters per week (mean over {n_text})", xlabel="time (weeks)",
           ylabel="new adopters (consumers per week)")
    ax.grid(alpha=0.3)
    legend(ax, title="arm")
    paths.append(save(fig, figdir / "new_adopters.png"))

    fig, ax = figure(_bar_height(len(arms)))
    cols = [f"new_adopters_{name}" for name in INFLUENCES]
    won = (later.groupby(["arm", "replicate"], sort=False)[cols].sum()
           .groupby("arm", sort=False).mean().reindex(arms))
    pos, left = _arm_axis(ax, arms), np.zeros(len(arms))
    palette = matplotlib.colormaps["Set2"]
    for k, (name, col) in enumerate(zip(INFLUENCES, cols, strict=True)):
        ax.barh(pos, won[col], left=left, color=palette(k), label=INFLUENCE_LABELS[name],
                height=0.7)
        left += won[col].to_numpy()
    for p, total in zip(pos, left, strict=True):
        ax.annotate(f"{total:.1f}", (total, p), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize="small")
    ax.set_xlim(0, max(left.max(), 1.0) * 1.12)
    ax.set(title=f"Adopters won during the run by triggering influence (mean, {n_text})",
           xlabel="adopters won (consumers per run)")
    ax.grid(axis="x", alpha=0.3)
    legend(ax, title="influence")
    paths.append(save(fig, figdir / "attribution.png"))

    fig, (top, bottom) = figure(_legend_height(arms, 8.0), nrows=2, sharex=True)
    _lines(top, mean_band(timeseries, "mean_opinion").assign(lo=np.nan, hi=np.nan), arms,
           colours)
    top.axhline(0, color="grey", linewidth=0.8)
    top.set(title=f"Mean opinion of consumers (mean over {n_text})",
            ylabel="mean opinion (scale -1 to 1)")
    for column, style in (("advocates", "-"), ("detractors", "--")):
        band = mean_band(timeseries, column)
        for arm in arms:
            bottom.plot(band.loc[arm].index, band.loc[arm]["mean"], color=colours[arm],
                        linestyle=style)
    bottom.set(title="Advocates (solid) and detractors (dashed)", xlabel="time (weeks)",
               ylabel="consumers")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    legend(top, title="arm")
    bottom.legend(handles=[Line2D([], [], color="black", linestyle=s, label=lab)
                           for lab, s in (("advocates", "-"), ("detractors", "--"))],
                  loc="upper left", fontsize="small")
    paths.append(save(fig, figdir / "sentiment.png"))

    fig, ax = figure(_bar_height(len(arms)))
    s = summary.set_index("arm").reindex(arms)
    mean, lo, hi = (s[f"cost_per_adopter_{x}"].to_numpy(dtype=float) for x in ("mean", "lo", "hi"))
    pos = _arm_axis(ax, arms)
    ok = np.isfinite(mean)
    err = np.nan_to_num(np.vstack([mean - lo, hi - mean]), nan=0.0).clip(0)
    ax.barh(pos[ok], mean[ok], xerr=err[:, ok], color=[colours[a] for a in np.array(arms)[ok]],
            capsize=3, height=0.7)
    spent = s["spend_mean"].to_numpy(dtype=float) > 0
    ends = np.fmax(np.nan_to_num(mean, nan=0.0), np.nan_to_num(hi, nan=0.0))
    for p, m, end, paid in zip(pos, mean, ends, spent, strict=True):
        text = ("n/a (no adopters won)" if not np.isfinite(m)
                else f"{m:,.1f}" if paid else f"{m:,.1f} (no spend)")
        ax.annotate(text, (end, p), xytext=(4, 0), textcoords="offset points", va="center",
                    fontsize="small")
    ax.set_xlim(0, max(ends.max(), 1.0) * 1.15)
    ax.set(title=f"Cost per adopter won (mean and 95% interval, {n_text})",
           xlabel="cost per adopter (money per consumer)")
    ax.grid(axis="x", alpha=0.3)
    paths.append(save(fig, figdir / "cost_per_adopter.png"))

    fig, ax = figure(_bar_height(len(arms)))
    pos = np.arange(len(arms))
    values = [outcomes.loc[outcomes["arm"] == a, "final_adoption"].to_numpy(float) * 100
              for a in arms]
    ax.boxplot(values, positions=pos, orientation="horizontal", widths=0.6, showfliers=False,
               medianprops={"color": "black"})
    _arm_axis(ax, arms)
    rng = np.random.default_rng(0)
    for p, arm, v in zip(pos, arms, values, strict=True):
        ax.scatter(v, p + rng.uniform(-0.2, 0.2, v.size), color=colours[arm], s=18, alpha=0.8,
                   zorder=3)
    ax.set(title=f"Final adoption across replicates ({n_text}; box: quartiles)",
           xlabel="final adoption (% of consumers)")
    ax.grid(axis="x", alpha=0.3)
    paths.append(save(fig, figdir / "final_adoption.png"))

    if grid_keys:
        paths.append(_grid_figure(summary, list(grid_keys), figdir / "grid.png"))
    return paths
