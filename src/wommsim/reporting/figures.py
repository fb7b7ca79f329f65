"""One figure style for every figure wommsim writes (run reports, sweeps, calibration,
sensitivity, validation): the resolution, arm colours, wrapped labels, a figure drawn without
pyplot, the legend outside the plots, and an atomic save."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from wommsim.runs.results import write_atomic

DPI = 120
WRAP = 28  # characters per line of an arm name in legends and tick labels


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


def figure(figsize: tuple[float, float] = (8, 5), **kwargs) -> tuple[Figure, object]:
    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(**kwargs)


def legend(ax, title: str | None = None) -> None:
    """The figure's legend outside the plots on the right, when it has several entries."""
    handles, labels = ax.get_legend_handles_labels()
    if len(handles) > 1:
        ax.figure.legend(handles, labels, title=title, loc="outside right upper",
                         fontsize="small", title_fontsize="small", frameon=False)


def save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as PNG atomically (temporary name, then rename)."""
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=DPI))
    return path


def category_x(values: pd.Series) -> tuple[np.ndarray, list[str] | None]:
    """Numeric grid values as they are; other values as positions with tick labels."""
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all():
        return numeric.to_numpy(dtype=float), None
    cats = list(pd.unique(values.astype(str)))
    return np.array([cats.index(v) for v in values.astype(str)], dtype=float), cats
