"""One figure style for every figure wommsim writes (run reports, sweeps, calibration,
sensitivity, validation): the resolution, arm colours, labels for people (arms, parameters,
outcomes), wrapped labels, a figure drawn without pyplot, the legend outside the plots, when
grid points are joined by lines, and an atomic save in PNG and optionally a vector format
(:class:`~wommsim.config.FiguresConfig`)."""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from wommsim.config import Config, FiguresConfig, iter_params
from wommsim.runs.results import write_atomic

DPI = FiguresConfig().dpi  # the screen resolution figures are drawn at; saved at the config's
WRAP = 28  # characters per line of an arm name in legends and tick labels
#: Grid points are joined by lines only when a numeric grid has at least this many values:
#: two or three points joined read as a linear response between them.
JOIN_MIN_POINTS = 4
#: Most curves in one panel; figures with more arms draw one panel per arm or grid value.
MAX_LINES = 6


def arm_colours(arms: Sequence[str]) -> dict[str, tuple]:
    """One colour per arm, in arm order: tab10 up to 10 arms, tab20 up to 20, then turbo."""
    n = len(arms)
    if n <= 10:
        cmap = [matplotlib.colormaps["tab10"](i) for i in range(n)]
    elif n <= 20:  # the ten dark tab20 colours first, then their light twins
        cmap = [matplotlib.colormaps["tab20"](i) for i in [*range(0, 20, 2), *range(1, 20, 2)]]
    else:
        cmap = [matplotlib.colormaps["turbo"](x) for x in np.linspace(0.05, 0.95, n)]
    return dict(zip(arms, cmap[:n], strict=True))


def wrap(name: str) -> str:
    return textwrap.fill(str(name), WRAP, break_long_words=True)


def arm_label(name: str) -> str:
    """An arm or strategy name for people: ``ad_heavy`` -> ``ad-heavy``; grid values
    (``key=value``) as ``key = value`` in words."""
    base, *params = str(name).split(" ")
    parts = [base.replace("_", "-")]
    for param in params:
        key, sep, value = param.partition("=")
        parts.append(f"{key.replace('_', ' ')} = {value}" if sep else param.replace("_", "-"))
    return ", ".join(parts)


def param_label(key: str, unit: bool = True) -> str:
    """A parameter's dotted key for people: its last part in words, with the schema's unit
    (``consumer.ad_blind_fraction`` -> ``ad blind fraction (share)``)."""
    words = key.rsplit(".", 1)[-1].replace("_", " ")
    known = _units().get(key, "")
    return f"{words} ({known})" if unit and known else words


@functools.cache
def _units() -> dict[str, str]:
    return {k: f.metadata.get("unit", "") for k, f, _ in iter_params(Config())}


def outcome_label(outcome: str) -> tuple[str, float]:
    """An outcome's label with its unit and the scale it is shown at
    (:data:`~wommsim.reporting.analysis.OUTCOME_LABELS`); other columns in words."""
    from wommsim.reporting.analysis import OUTCOME_LABELS

    return OUTCOME_LABELS.get(outcome, (outcome.replace("_", " "), 1.0))


def joined(values: Sequence[object]) -> bool:
    """Whether points at these grid values are joined by lines: numbers, and at least
    :data:`JOIN_MIN_POINTS` distinct ones."""
    distinct = pd.unique(pd.Series(list(values)))
    numeric = pd.to_numeric(pd.Series(distinct), errors="coerce").notna().all()
    return bool(numeric) and len(distinct) >= JOIN_MIN_POINTS


def dodge(k: int, n: int, xs: np.ndarray) -> np.ndarray:
    """Positions of the ``k``-th of ``n`` series at ``xs``, spread sideways by a fraction
    of the smallest gap so that their error bars do not hide each other."""
    distinct = np.unique(xs[np.isfinite(xs)])
    gap = np.diff(distinct).min() if distinct.size > 1 else 1.0
    return xs + (k - (n - 1) / 2) * 0.12 * gap / max(n - 1, 1) * (n > 1)


def blank(figsize: tuple[float, float] = (8, 5)) -> Figure:
    """An empty figure on the Agg canvas, laid out by the constrained layout engine."""
    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure(figsize: tuple[float, float] = (8, 5), **kwargs) -> tuple[Figure, object]:
    fig = blank(figsize)
    return fig, fig.subplots(**kwargs)


def legend(ax, title: str | None = None) -> None:
    """The figure's legend outside the plots on the right, when it has several entries."""
    handles, labels = ax.get_legend_handles_labels()
    if len(handles) > 1:
        ax.figure.legend(handles, labels, title=title, loc="outside right upper",
                         fontsize="small", title_fontsize="small", frameon=False)


def save(fig: Figure, path: Path, output: FiguresConfig | None = None) -> Path:
    """Write ``fig`` as PNG at ``output.dpi`` and, with ``output.vector``, in that vector
    format next to it (same name, ``.pdf`` or ``.svg``), each atomically (temporary name,
    then rename). Returns the PNG's path."""
    output = output or FiguresConfig()
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=output.dpi))
    if output.vector != "none":
        write_atomic(path.with_suffix(f".{output.vector}"),
                     lambda tmp: fig.savefig(tmp, format=output.vector))
    return path


def category_x(values: pd.Series) -> tuple[np.ndarray, list[str] | None]:
    """Numeric grid values as they are; other values as positions with tick labels."""
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all():
        return numeric.to_numpy(dtype=float), None
    cats = list(pd.unique(values.astype(str)))
    return np.array([cats.index(v) for v in values.astype(str)], dtype=float), cats
