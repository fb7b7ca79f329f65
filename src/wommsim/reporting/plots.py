"""Figures of one experiment: adoption curves, attribution, sentiment, cost and spread.

:func:`save_figures` writes PNGs (and optionally PDF or SVG, :class:`~wommsim.config.FiguresConfig`)
from the per-step table, the per-replicate outcomes and the per-arm summary (see
:mod:`wommsim.reporting.analysis`). Figures are drawn on the Agg canvas without pyplot, so
nothing is shown, no global backend is switched and no figure outlives its save.

Every curve or bar that is a mean over replicates carries its 95% interval. Arms are named
for people (``ad-heavy``). With more arms than :data:`~wommsim.reporting.figures.MAX_LINES`,
or a grid, the curves are small multiples: one panel per grid value (a line per experiment
arm, so the arms are compared at each grid value) or one panel per arm. Each series keeps
one colour across all figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from wommsim.config import FiguresConfig
from wommsim.mechanisms import INFLUENCE_LABELS, INFLUENCES
from wommsim.reporting.analysis import interval
from wommsim.reporting.figures import (
    MAX_LINES,
    arm_colours,
    arm_label,
    blank,
    category_x,
    dodge,
    figure,
    joined,
    outcome_label,
    param_label,
    save,
    wrap,
)


def influence_label(name: str, bass: bool = False) -> str:
    """An influence's label for people; under the Bass rule, the purchases credited to
    ``ads`` are the external (innovation) term ``p``, advertising's push included."""
    if bass and name == "ads":
        return "external influence (Bass p, ads included)"
    return INFLUENCE_LABELS[name]


#: Panels per row of a small-multiples figure.
PANEL_COLUMNS = 3


def mean_band(ts: pd.DataFrame, column: str, scale: float = 1.0,
              bounds: tuple[float, float] | None = None) -> pd.DataFrame:
    """Per arm and step: mean of ``column`` x ``scale`` over replicates and its 95%
    interval (``lo``/``hi``; NaN with a single replicate), inside ``bounds`` (of the
    unscaled column) when given (:func:`~wommsim.reporting.analysis.interval`)."""
    g = ts.groupby(["arm", "step"], sort=False)[column].agg(["mean", "std", "count"]) * 1.0
    lo, hi = interval(g["mean"], g["std"], g["count"], bounds=bounds)
    return pd.DataFrame({"mean": g["mean"] * scale, "lo": lo * scale, "hi": hi * scale,
                         "count": g["count"]}, index=g.index)


class Layout:
    """Which arms share a panel and how each is drawn: in a grid experiment, one panel per
    grid combination with a series per experiment arm; else one panel of every arm, or
    one panel per arm beyond :data:`MAX_LINES` arms."""

    def __init__(self, arms: Sequence[str], summary: pd.DataFrame,
                 grid_keys: Sequence[str]) -> None:
        info = summary.set_index("arm").reindex(arms)
        keys = [k for k in grid_keys if k in info.columns]
        if keys and "base_arm" in info.columns:
            self.series = {a: str(info.at[a, "base_arm"]) for a in arms}
            combos: dict[str, list[str]] = {}
            for a in arms:
                title = ", ".join(f"{param_label(k, unit=False)} = {info.at[a, k]}"
                                  for k in keys)
                combos.setdefault(title, []).append(a)
            self.panels: list[tuple[str | None, list[str]]] = list(combos.items())
        else:
            self.series = {a: a for a in arms}
            self.panels = ([(None, list(arms))] if len(arms) <= MAX_LINES
                           else [(arm_label(a), [a]) for a in arms])
        self.colours = arm_colours(list(dict.fromkeys(self.series.values())))

    def colour(self, arm: str) -> tuple:
        return self.colours[self.series[arm]]

    def label(self, arm: str) -> str:
        return wrap(arm_label(self.series[arm]))

    def grid(self, height: float = 2.6) -> tuple[int, int, tuple[float, float]]:
        """Rows, columns and the figure size of the panels."""
        n = len(self.panels)
        if n == 1:
            return 1, 1, (8.0, 5.0)
        ncols = min(n, PANEL_COLUMNS)
        nrows = math.ceil(n / ncols)
        return nrows, ncols, (3.6 * ncols + 0.8, height * nrows + 1.6)


def _panels(fig_or_sub, layout: Layout, nrows: int, ncols: int,
            xlabel: str | None = None) -> list:
    """The panels of ``layout`` (spare cells hidden); the lowest panel of each column shows
    the time axis, labelled ``xlabel``."""
    axes = fig_or_sub.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    n = len(layout.panels)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for i, ax in enumerate(axes.flat[:n]):
        if i + ncols >= n:  # nothing below it
            ax.tick_params(labelbottom=True)
            if xlabel:
                ax.set_xlabel(xlabel)
    return list(axes.flat[:n])


def _legend(fig, axes: Sequence, title: str | None, extra: Sequence = ()) -> None:
    """One legend for the figure, below the plots (clear of every title), its entries
    gathered from every panel, when there are several."""
    entries: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    handles = [*entries.values(), *extra]
    if len(handles) > 1:
        fig.legend(handles, [*entries, *(h.get_label() for h in extra)], title=title,
                   loc="outside lower center", ncols=min(len(handles), 4),
                   fontsize="small", title_fontsize="small", frameon=False)


def _curves(layout: Layout, path: Path, title: str, ylabel: str,
            draw: Callable[[object, list[str]], None], output: FiguresConfig | None,
            extra: Sequence = ()) -> Path:
    """A figure of curves against time: one panel per group of arms of ``layout``."""
    nrows, ncols, size = layout.grid()
    fig = blank(size)
    axes = _panels(fig, layout, nrows, ncols, "time (weeks)")
    for ax, (panel, members) in zip(axes, layout.panels, strict=True):
        draw(ax, members)
        ax.grid(alpha=0.3)
        if panel:
            ax.set_title(wrap(panel), fontsize="small")
    fig.supylabel(ylabel, fontsize="medium")
    fig.suptitle(title)
    _legend(fig, axes, "arm", extra)
    return save(fig, path, output)


def _bands(band: pd.DataFrame, layout: Layout, **style) -> Callable[[object, list[str]], None]:
    """Draw each arm's mean line with its 95% band."""
    def draw(ax, members: list[str]) -> None:
        for arm in members:
            d = band.loc[arm]
            ax.plot(d.index, d["mean"], color=layout.colour(arm), label=layout.label(arm),
                    **style)
            if np.isfinite(d["lo"]).any():
                ax.fill_between(d.index, d["lo"], d["hi"], color=layout.colour(arm),
                                alpha=0.15, linewidth=0)
    return draw


def _arm_axis(ax, labels: Sequence[str]) -> np.ndarray:
    """Horizontal-bar layout: one row per arm, first arm on top; returns the positions."""
    pos = np.arange(len(labels))
    ax.set_yticks(pos, [wrap(a) for a in labels], fontsize="small")
    ax.set_ylim(len(labels) - 0.5, -0.5)
    return pos


def _bar_height(n: int) -> tuple[float, float]:
    """Size of a one-row-per-arm figure."""
    return 8, max(5.0, 1.6 + 0.45 * n)


def _grid_figure(summary: pd.DataFrame, grid_keys: Sequence[str], path: Path,
                 output: FiguresConfig | None) -> Path:
    """Final adoption and cost per adopter against the first grid key, a series per
    experiment arm (dodged sideways, joined only on a numeric grid of enough values,
    :func:`~wommsim.reporting.figures.joined`); with a second key, one column of panels per
    value of it."""
    from wommsim.reporting.report import GRID_OUTCOMES

    key, *rest = grid_keys
    summary = summary.reset_index(drop=True)
    xs, cats = category_x(summary[key])
    base = (summary["base_arm"].astype(str) if "base_arm" in summary.columns
            else summary["arm"].astype(str))
    bases = list(pd.unique(base))
    colours = arm_colours(bases)
    line = "-" if joined(summary[key]) else "none"
    columns = list(pd.unique(summary[rest[0]])) if rest else [None]
    fig, axes = figure((max(8.0, 4.0 * len(columns) + 2), 8), nrows=2, ncols=len(columns),
                       squeeze=False, sharex=True, sharey="row")
    for j, value in enumerate(columns):
        part = summary if value is None else summary[summary[rest[0]] == value]
        for i, outcome in enumerate(GRID_OUTCOMES):
            ylabel, scale = outcome_label(outcome)
            ax = axes[i, j]
            for k, b in enumerate(bases):
                rows = part[base.loc[part.index] == b]
                x = xs[rows.index]
                order = np.argsort(x, kind="stable")
                mean, lo, hi = (rows[f"{outcome}_{c}"].to_numpy(dtype=float)[order] * scale
                                for c in ("mean", "lo", "hi"))
                err = np.nan_to_num(np.vstack([mean - lo, hi - mean]), nan=0.0).clip(0)
                ax.errorbar(dodge(k, len(bases), x[order]), mean, yerr=err, color=colours[b],
                            marker="o", linestyle=line, capsize=3, label=wrap(arm_label(b)))
            if cats:
                ax.set_xticks(range(len(cats)), cats)
            ax.grid(alpha=0.3)
            if j == 0:
                ax.set_ylabel(ylabel.lower().replace("(%)", "(% of consumers)"))
            if i == 0 and value is not None:
                ax.set_title(f"{param_label(rest[0], unit=False)} = {value}", fontsize="medium")
            if i == 1:
                ax.set_xlabel(param_label(key))
    _legend(fig, [axes[0, -1]], "arm")
    fig.suptitle(f"Final adoption and cost per adopter against "
                 f"{param_label(key, unit=False)}\n(mean and 95% interval over replicates)")
    return save(fig, path, output)


def save_figures(timeseries: pd.DataFrame, outcomes: pd.DataFrame, summary: pd.DataFrame,
                 figdir: Path, grid_keys: Sequence[str] = (),
                 output: FiguresConfig | None = None,
                 attribution: pd.DataFrame | None = None, bass: bool = False) -> list[Path]:
    """Write the experiment's figures into ``figdir`` and return their PNG paths: with
    ``attribution`` (``attribution.csv``), ``attribution.png`` shows each lever's
    counterfactual contribution; ``last_touch_credit.png`` always shows the last-touch
    weighted credit (``bass``: the runs used the Bass rule, whose external term is credited
    as advertising)."""
    figdir = Path(figdir)
    figdir.mkdir(parents=True, exist_ok=True)
    arms = list(pd.unique(timeseries["arm"]))
    layout = Layout(arms, summary, grid_keys)
    reps = timeseries.groupby("arm", sort=False)["replicate"].nunique()
    n_text = (f"{reps.min()}-{reps.max()} replicates" if reps.min() != reps.max()
              else f"{reps.min()} replicate{'' if reps.min() == 1 else 's'}")
    paths = []
    later = timeseries[timeseries["step"] > 0]  # step 0 is the initial state

    paths.append(_curves(
        layout, figdir / "adoption.png",
        f"Adoption over time (mean and 95% band, {n_text})", "adopted (% of consumers)",
        _bands(mean_band(timeseries, "adopted_fraction", 100.0, (0.0, 1.0)), layout),
        output))
    paths.append(_curves(
        layout, figdir / "new_adopters.png",
        f"New adopters per week (mean and 95% band, {n_text})",
        "new adopters (consumers per week)", _bands(mean_band(later, "new_adopters"), layout),
        output))
    if attribution is not None and not attribution.empty:
        paths.append(_contributions(attribution, arms, figdir / "attribution.png", n_text,
                                    output))
    paths.append(_attribution(later, arms, layout, figdir / "last_touch_credit.png", n_text,
                              output, bass))
    paths.append(_sentiment(timeseries, layout, figdir / "sentiment.png", n_text, output))
    paths.append(_cost(summary, arms, layout, figdir / "cost_per_adopter.png", n_text, output))
    paths.append(_spread(outcomes, arms, layout, figdir / "final_adoption.png", n_text,
                         output))
    if grid_keys:
        paths.append(_grid_figure(summary, list(grid_keys), figdir / "grid.png", output))
    return paths


#: The contribution outcomes drawn in ``attribution.png``, with their axis labels.
CONTRIBUTION_PANELS = {"customers": ("Customers won", "customers won (consumers)"),
                       "customer_equity": ("Customer equity", "customer equity (money)")}


def _contributions(attribution: pd.DataFrame, arms: list[str], path: Path, n_text: str,
                   output: FiguresConfig | None) -> Path:
    """Each lever's counterfactual contribution (Shapley value) to customers won and to
    customer equity, per arm (and brand): a bar per lever split into expansion (solid) and
    acceleration (light), with the Shapley value's 95% interval, and the loss from switching
    the lever off alone (a diamond with its interval)."""
    rows = attribution[attribution["lever"] != "all"]
    groups = [(arm, brand) for arm in arms
              for brand in pd.unique(rows.loc[rows["arm"] == arm, "brand"])]
    several_brands = rows["brand"].nunique() > 1
    levers = list(pd.unique(rows["lever"]))
    colours = dict(zip(levers, arm_colours(levers).values(), strict=True))
    labels, positions, y = [], [], 0.0
    for arm, brand in groups:
        for lever in pd.unique(rows.loc[(rows["arm"] == arm) & (rows["brand"] == brand),
                                        "lever"]):
            labels.append((arm, brand, lever))
            positions.append(y)
            y += 1.0
        y += 0.6  # a gap between arms
    fig, axes = figure((11.0, 1.6 + 0.32 * len(labels)), ncols=len(CONTRIBUTION_PANELS),
                       squeeze=False, sharey=True)
    keyed = rows.set_index(["arm", "brand", "lever", "outcome"])
    for ax, (outcome, (title, xlabel)) in zip(axes[0], CONTRIBUTION_PANELS.items(),
                                              strict=True):
        for (arm, brand, lever), pos in zip(labels, positions, strict=True):
            r = keyed.loc[(arm, brand, lever, outcome)]
            colour = colours[lever]
            ax.barh(pos, r["expansion"], color=colour, height=0.7)
            ax.barh(pos, r["acceleration"], left=r["expansion"], color=colour, alpha=0.4,
                    height=0.7)
            if np.isfinite(r["shapley_lo"]):
                ax.errorbar(r["shapley"], pos, xerr=[[r["shapley"] - r["shapley_lo"]],
                                                     [r["shapley_hi"] - r["shapley"]]],
                            color="black", capsize=2, linewidth=0.8)
            ax.errorbar(r["switch_off"], pos - 0.25,
                        xerr=([[r["switch_off"] - r["switch_off_lo"]],
                               [r["switch_off_hi"] - r["switch_off"]]]
                              if np.isfinite(r["switch_off_lo"]) else None),
                        fmt="D", color="dimgray", markersize=3, capsize=1.5, linewidth=0.6)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_xlabel(xlabel)
        ax.set_title(title, fontsize="small")
        ax.grid(axis="x", alpha=0.3)
    names = [f"{arm_label(arm)}{f' ({brand})' if several_brands else ''}: {lever}"
             for arm, brand, lever in labels]
    axes[0][0].set_yticks(positions, names, fontsize="small")
    axes[0][0].invert_yaxis()
    handles = [Line2D([], [], color="gray", linewidth=6, label="expansion (would never "
                      "have bought)"),
               Line2D([], [], color="gray", alpha=0.4, linewidth=6,
                      label="acceleration (would have bought anyway)"),
               Line2D([], [], color="black", marker="|", linestyle="none",
                      label="Shapley value, 95% interval"),
               Line2D([], [], color="dimgray", marker="D", linestyle="none", markersize=4,
                      label="loss when switched off alone")]
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize="small",
               frameon=False)
    fig.suptitle(f"What each lever adds: counterfactual contributions (mean and 95% "
                 f"interval, {n_text})")
    return save(fig, path, output)


def _attribution(later: pd.DataFrame, arms: list[str], layout: Layout, path: Path,
                 n_text: str, output: FiguresConfig | None, bass: bool = False) -> Path:
    """Last-touch weighted credit: adopters won during the run by the influence each
    purchase was credited to (drawn in proportion to the positive utility terms, the opinion
    term given to the influence that last raised it): a panel per influence, a bar per arm
    with its 95% interval over replicates. Under the Bass rule the ads panel is the
    external (innovation) term."""
    cols = [f"new_adopters_{name}" for name in INFLUENCES if f"new_adopters_{name}" in later]
    won = later.groupby(["arm", "replicate"], sort=False)[cols].sum()
    idle = [c for c in cols if not won[c].any()]  # no panel for an influence that won none
    cols = [c for c in cols if c not in idle] or cols[:1]
    stats = won.groupby("arm", sort=False).agg(["mean", "std", "count"])
    ncols = min(len(cols), PANEL_COLUMNS)
    nrows = math.ceil(len(cols) / ncols)
    panel = max(2.4, 0.8 + 0.3 * len(arms))
    fig, axes = figure((3.2 * ncols + 2.4, panel * nrows + 1.2), nrows=nrows, ncols=ncols,
                       squeeze=False, sharey=True)
    labels = [arm_label(a) for a in arms]
    for ax, col in zip(axes.flat, cols, strict=False):
        s = stats[col].reindex(arms)
        lo, hi = interval(s["mean"], s["std"], s["count"])
        mean = s["mean"].to_numpy(dtype=float)
        err = np.nan_to_num(np.vstack([mean - lo, hi - mean]), nan=0.0).clip(0)
        pos = _arm_axis(ax, labels)
        ax.barh(pos, mean, xerr=err, color=[layout.colour(a) for a in arms], capsize=2,
                height=0.7)
        ax.set_title(influence_label(col.removeprefix("new_adopters_"), bass),
                     fontsize="small")
        ax.set_xlim(left=0)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes.flat[len(cols):]:
        ax.set_visible(False)
    none = ", ".join(influence_label(c.removeprefix("new_adopters_"), bass) for c in idle
                     if c in stats.columns.get_level_values(0) and c not in cols)
    fig.supxlabel("adopters won during the run (consumers)"
                  + (f"\nno adopter won by: {none}" if none else ""), fontsize="medium")
    fig.suptitle(f"Last-touch weighted credit: adopters by the influence credited (mean and "
                 f"95% interval, {n_text})")
    return save(fig, path, output)


def _sentiment(ts: pd.DataFrame, layout: Layout, path: Path, n_text: str,
               output: FiguresConfig | None) -> Path:
    """Mean opinion (top) and advocates and detractors (bottom), with 95% bands."""
    nrows, ncols, (width, height) = layout.grid(2.2)
    fig = blank((width, height * 2 - 1.0 if nrows * ncols > 1 else 8.0))
    top, bottom = fig.subfigures(2, 1)
    opinion = _bands(mean_band(ts, "mean_opinion", bounds=(-1.0, 1.0)), layout)
    advocates = _bands(mean_band(ts, "advocates"), layout)
    detractors = _bands(mean_band(ts, "detractors"), layout, linestyle="--")
    upper = _panels(top, layout, nrows, ncols)
    lower = _panels(bottom, layout, nrows, ncols, "time (weeks)")
    for ax_top, ax_bottom, (panel, members) in zip(upper, lower, layout.panels, strict=True):
        opinion(ax_top, members)
        ax_top.axhline(0, color="grey", linewidth=0.8)
        advocates(ax_bottom, members)
        detractors(ax_bottom, members)  # same labels: the legend keeps the solid lines
        for ax in (ax_top, ax_bottom):
            ax.grid(alpha=0.3)
            if panel:
                ax.set_title(wrap(panel), fontsize="small")
    top.suptitle(f"Mean opinion of consumers (mean and 95% band, {n_text})",
                 fontsize="medium")
    top.supylabel("mean opinion (-1 to 1)", fontsize="small")
    bottom.suptitle("Advocates (solid) and detractors (dashed)", fontsize="medium")
    bottom.supylabel("adopters (consumers)", fontsize="small")
    styles = [Line2D([], [], color="black", linestyle=s, label=lab)
              for lab, s in (("advocates", "-"), ("detractors", "--"))]
    _legend(fig, upper, "arm", styles)
    return save(fig, path, output)


def _cost(summary: pd.DataFrame, arms: list[str], layout: Layout, path: Path, n_text: str,
          output: FiguresConfig | None) -> Path:
    fig, ax = figure(_bar_height(len(arms)))
    s = summary.set_index("arm").reindex(arms)
    mean, lo, hi = (s[f"cost_per_adopter_{x}"].to_numpy(dtype=float) for x in ("mean", "lo", "hi"))
    pos = _arm_axis(ax, [arm_label(a) for a in arms])
    ok = np.isfinite(mean)
    err = np.nan_to_num(np.vstack([mean - lo, hi - mean]), nan=0.0).clip(0)
    ax.barh(pos[ok], mean[ok], xerr=err[:, ok],
            color=[layout.colour(a) for a in np.array(arms)[ok]], capsize=3, height=0.7)
    spent = s["spend_mean"].to_numpy(dtype=float) > 0
    ends = np.fmax(np.nan_to_num(mean, nan=0.0), np.nan_to_num(hi, nan=0.0))
    for p, m, end, paid in zip(pos, mean, ends, spent, strict=True):
        text = ("n/a (no adopters won)" if not np.isfinite(m)
                else f"{m:,.1f}" if paid else f"{m:,.1f} (no spend)")
        ax.annotate(text, (end, p), xytext=(4, 0), textcoords="offset points", va="center",
                    fontsize="small")
    ax.set_xlim(0, max(ends.max(), 1.0) * 1.15)
    ax.set(title=f"Cost per adopter won (mean and 95% interval, {n_text})",
           xlabel="cost per adopter (money per consumer won)")
    ax.grid(axis="x", alpha=0.3)
    return save(fig, path, output)


def _spread(outcomes: pd.DataFrame, arms: list[str], layout: Layout, path: Path,
            n_text: str, output: FiguresConfig | None) -> Path:
    fig, ax = figure(_bar_height(len(arms)))
    pos = np.arange(len(arms))
    values = [outcomes.loc[outcomes["arm"] == a, "final_adoption"].to_numpy(float) * 100
              for a in arms]
    ax.boxplot(values, positions=pos, orientation="horizontal", widths=0.6, showfliers=False,
               medianprops={"color": "black"})
    _arm_axis(ax, [arm_label(a) for a in arms])
    rng = np.random.default_rng(0)
    for p, arm, v in zip(pos, arms, values, strict=True):
        ax.scatter(v, p + rng.uniform(-0.2, 0.2, v.size), color=layout.colour(arm), s=18,
                   alpha=0.8, zorder=3)
    ax.set(title=f"Final adoption across replicates ({n_text}; box: quartiles)",
           xlabel="final adoption (% of consumers)")
    ax.grid(axis="x", alpha=0.3)
    return save(fig, path, output)
