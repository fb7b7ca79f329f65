"""Figures of a whole sweep, from the aggregate's ``runs.csv``
(see :mod:`wommsim.sweeps.aggregate`).

- ``outcomes_vs_<parameter>.png`` for every swept parameter: every outcome (one row of
  panels each, labelled in words with its unit) against the parameter, as the mean with its
  95% interval over replicates (error bars), a series per arm (joined by lines only on a
  numeric parameter with enough values, :func:`~wommsim.reporting.figures.joined`); with
  other swept parameters, one column of panels per combination of their values.
- ``heatmaps.png`` when exactly two parameters are swept: every outcome's mean (one row
  each) over the grid of both parameters, one column per arm, one colour scale per outcome;
  a job without results is a hatched cell, an undefined mean (e.g. no adopters) says n/a.

Drawn on the Agg canvas without pyplot, like :mod:`wommsim.reporting.plots`, whose colours,
labels, helpers and output settings (PNG resolution, vector format: the sweep's
``figures.*``) they share.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from wommsim.config import FiguresConfig
from wommsim.reporting.figures import (
    DPI,
    arm_colours,
    arm_label,
    category_x,
    dodge,
    joined,
    outcome_label,
    param_label,
    save,
    wrap,
)

MAX_COLUMNS = 8  # more combinations of the other parameters than this: see runs.csv instead
MAX_ANNOTATED_CELLS = 80  # heatmaps with at most this many cells print their values


def interval_outcomes(runs: pd.DataFrame) -> list[str]:
    """Outcomes that ``runs`` gives as ``<name>_mean`` with ``_lo`` and ``_hi``."""
    return [c[:-5] for c in runs.columns if c.endswith("_mean")
            and f"{c[:-5]}_lo" in runs.columns and f"{c[:-5]}_hi" in runs.columns]


def _sheet(nrows: int, ncols: int, panel: tuple[float, float],
           margins: tuple[float, float, float, float], gap_w: float = 0.35,
           **kwargs) -> tuple[Figure, np.ndarray]:
    """A figure of ``nrows`` x ``ncols`` panels of ``panel`` inches (width, height) with
    fixed ``margins`` (left, right, top, bottom) and ``gap_w`` between columns, in inches:
    sheets of many panels draw faster than with a layout engine."""
    left, right, top, bottom = margins
    gap_h = 0.3  # between rows, inches
    width = left + right + ncols * panel[0] + (ncols - 1) * gap_w
    height = top + bottom + nrows * panel[1] + (nrows - 1) * gap_h
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height,
                        bottom=bottom / height, wspace=gap_w / panel[0],
                        hspace=gap_h / panel[1])
    return fig, axes


def _title(fig: Figure, text: str) -> None:
    """The figure's title in its top margin, clear of the panels' own titles."""
    fig.suptitle(text, y=1 - 0.08 / fig.get_figheight(), va="top", fontsize="medium")


def _file_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_")


def _ticks(values: pd.Series) -> tuple[dict[object, float], list[str] | None]:
    """Position of each value on an axis: numbers at their value, others in order."""
    xs, cats = category_x(values.drop_duplicates().reset_index(drop=True))
    return dict(zip(values.drop_duplicates(), xs, strict=True)), cats


def save_sweep_figures(runs: pd.DataFrame, grid: pd.DataFrame, figdir: Path,
                       output: FiguresConfig | None = None) -> tuple[list[Path], list[str]]:
    """Write the sweep's figures into ``figdir``: ``(paths, notes)``, the notes naming any
    figure not drawn and why. ``grid`` has one row per job of the sweep (complete or not)
    and one column per swept parameter; ``output`` sets the resolution and vector format."""
    figdir.mkdir(parents=True, exist_ok=True)
    params = list(grid.columns)
    outcomes = interval_outcomes(runs)
    if runs.empty or not params or not outcomes:
        why = ("no job has complete results" if runs.empty else
               "no parameter varies" if not params else "no outcome with intervals")
        return [], [f"figures: none drawn ({why})"]
    arms = list(pd.unique(runs["arm"].astype(str)))
    colours = arm_colours(arms)
    paths, notes = [], []
    for param in params:
        others = [p for p in params if p != param]
        combos = (grid[others].drop_duplicates().sort_values(others).to_dict("records")
                  if others else [{}])
        if len(combos) > MAX_COLUMNS:
            notes.append(f"figures: outcomes_vs_{_file_part(param)}.png not drawn: "
                         f"{len(combos)} combinations of {', '.join(others)} (more than "
                         f"{MAX_COLUMNS} columns of panels); see runs.csv")
            continue
        paths.append(_against(runs, param, combos, outcomes, arms, colours,
                              figdir / f"outcomes_vs_{_file_part(param)}.png", output))
    if len(params) == 2:
        paths.append(_heatmaps(runs, grid, outcomes, arms, figdir / "heatmaps.png", output))
    return paths, notes


def _against(runs: pd.DataFrame, param: str, combos: list[dict], outcomes: list[str],
             arms: list[str], colours: dict, path: Path,
             output: FiguresConfig | None = None) -> Path:
    """Every outcome (rows) against ``param``: a series per arm, a column per combination
    of the other swept parameters."""
    margins = (1.6, 2.0, 1.1, 0.6)  # left, right (the legend), top (the title), bottom
    fig, axes = _sheet(len(outcomes), len(combos), (3.4, 1.9), margins,
                       sharex=True, sharey="row")
    position, cats = _ticks(runs[param])
    line = "-" if joined(runs[param]) else "none"
    for j, combo in enumerate(combos):
        part = runs
        for key, value in combo.items():
            part = part[part[key] == value]
        for i, outcome in enumerate(outcomes):
            ax = axes[i, j]
            ylabel, scale = outcome_label(outcome)
            for k, arm in enumerate(arms):
                rows = part[part["arm"].astype(str) == arm]
                if rows.empty:
                    continue
                x = rows[param].map(position).to_numpy(dtype=float)
                order = np.argsort(x, kind="stable")
                mean, lo, hi = (rows[f"{outcome}_{c}"].to_numpy(dtype=float)[order] * scale
                                for c in ("mean", "lo", "hi"))
                err = np.nan_to_num(np.vstack([mean - lo, hi - mean]), nan=0.0).clip(0)
                ax.errorbar(dodge(k, len(arms), x[order]), mean, yerr=err,
                            color=colours[arm], marker="o", linestyle=line, markersize=4,
                            capsize=2, label=wrap(arm_label(arm)))
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize="x-small")
            if j == 0:
                ax.set_ylabel(wrap(ylabel), fontsize="small")
        if combo:
            axes[0, j].set_title(", ".join(f"{param_label(k, unit=False)} = {v}"
                                           for k, v in combo.items()), fontsize="small")
        if cats:
            axes[-1, j].set_xticks(range(len(cats)), cats)
        axes[-1, j].set_xlabel(param_label(param))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:  # in the right margin, below the title's
        top = 1 - margins[2] / fig.get_figheight()
        fig.legend(handles, labels, title="arm", loc="upper right", bbox_to_anchor=(1, top),
                   fontsize="small", title_fontsize="small", frameon=False)
    _title(fig, f"Outcomes against {param_label(param, unit=False)}:\nmean and 95% "
                "interval over replicates")
    return save(fig, path, output)


def _heatmaps(runs: pd.DataFrame, grid: pd.DataFrame, outcomes: list[str], arms: list[str],
              path: Path, output: FiguresConfig | None = None) -> Path:
    """Mean of every outcome (rows) over the two swept parameters, a column per arm; cells
    of jobs without results are hatched."""
    x_key, y_key = grid.columns
    xs = list(_ticks(grid[x_key].sort_values(kind="stable"))[0])
    ys = list(_ticks(grid[y_key].sort_values(kind="stable"))[0])
    fig, axes = _sheet(len(outcomes), len(arms),
                       (max(2.6, 0.6 * len(xs)), max(1.9, 0.3 * len(ys))), (1.6, 1.0, 1.1, 0.6),
                       gap_w=0.7)
    ran = np.zeros((len(arms), len(ys), len(xs)), dtype=bool)  # the job has results
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="lightgrey")
    for i, outcome in enumerate(outcomes):
        scale = outcome_label(outcome)[1]
        cells = np.full((len(arms), len(ys), len(xs)), np.nan)
        for a, arm in enumerate(arms):
            rows = runs[runs["arm"].astype(str) == arm]
            for xv, yv, value in zip(rows[x_key], rows[y_key], rows[f"{outcome}_mean"],
                                     strict=True):
                cells[a, ys.index(yv), xs.index(xv)] = value * scale
                ran[a, ys.index(yv), xs.index(xv)] = True
        finite = cells[np.isfinite(cells)]
        vmin, vmax = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        for a, arm in enumerate(arms):
            ax = axes[i, a]
            image = ax.imshow(np.ma.masked_invalid(cells[a]), cmap=cmap, vmin=vmin,
                              vmax=vmax, origin="lower", aspect="auto")
            for yi, xi in zip(*np.nonzero(~ran[a]), strict=True):
                ax.add_patch(matplotlib.patches.Rectangle(
                    (xi - 0.5, yi - 0.5), 1, 1, fill=False, hatch="//", edgecolor="grey",
                    linewidth=0))
            if cells[a].size <= MAX_ANNOTATED_CELLS:
                for (yi, xi), value in np.ndenumerate(cells[a]):
                    if np.isfinite(value):
                        shade = (value - vmin) / (vmax - vmin) if vmax > vmin else 0.5
                        ax.text(xi, yi, f"{value:.3g}", ha="center", va="center",
                                fontsize="x-small", color="black" if shade > 0.6 else "white")
                    elif ran[a, yi, xi]:
                        ax.text(xi, yi, "n/a", ha="center", va="center", fontsize="x-small")
            ax.set_xticks(range(len(xs)), [str(v) for v in xs], fontsize="x-small")
            ax.set_yticks(range(len(ys)), [str(v) for v in ys], fontsize="x-small")
            if i == 0:
                ax.set_title(wrap(arm_label(arm)), fontsize="small")
            if i == len(outcomes) - 1:
                ax.set_xlabel(param_label(x_key), fontsize="small")
            if a == 0:
                ax.set_ylabel(f"{wrap(outcome_label(outcome)[0])}\n{param_label(y_key)}",
                              fontsize="small")
        box = axes[i, -1].get_position()
        bar = fig.add_axes((box.x1 + 0.15 / fig.get_figwidth(), box.y0,
                            0.12 / fig.get_figwidth(), box.height))
        fig.colorbar(image, cax=bar).ax.tick_params(labelsize="x-small")
    _title(fig, f"Outcome means over {param_label(x_key, unit=False)} and "
                f"{param_label(y_key, unit=False)}\n(hatched: job without results; "
                "n/a: undefined, e.g. no adopters)")
    return save(fig, path, output)
