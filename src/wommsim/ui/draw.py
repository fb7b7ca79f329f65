"""Matplotlib drawings for the UI: the network coloured by consumer state, and the curves.

Everything is drawn with matplotlib's object-oriented API (no pyplot, so no global state
shared between browser sessions). The network is a 600 × 600 PNG of about 300 kB, where
a Vega-Lite chart of 2,000 consumers would ship megabytes of JSON. :class:`NetworkView`
renders the edges once per layout and, on every frame, only recolours the consumers on
top of that background (matplotlib blitting), so a frame costs milliseconds, not the tens
of milliseconds that redrawing thousands of edges takes. The legend with each state's
share of all consumers is HTML (:func:`legend_html`).

The curves are small SVGs (text stays text: cheaper than rasterising it) drawn by
:class:`PlotView`, which keeps its figure and updates the lines' data each frame. It takes
one or more models' time series, so the comparison page draws both strategies on the same
axes with the same code.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator, PercentFormatter
from PIL import Image

from wommsim.mechanisms import INFLUENCE_LABELS, INFLUENCES
from wommsim.ui.layout import DrawnNetwork

#: Consumer states in drawing order: (name, colour).
STATES: tuple[tuple[str, str], ...] = (
    ("unaware", "#cfcfcf"),
    ("aware", "#4a90d9"),
    ("adopter, advocate", "#1a9850"),
    ("adopter, neutral", "#a6a045"),
    ("adopter, detractor", "#d7301f"),
)
UNAWARE, AWARE, ADVOCATE, NEUTRAL, DETRACTOR = range(len(STATES))
STATE_COLOURS = np.array([_c for _, _c in STATES])
FOLLOWER_EDGE = "#111111"
#: Colours of the two strategies on the comparison page.
ARM_COLOURS = ("#1f5fbf", "#e8710a")
DPI = 100
# SVG text as text (the browser draws it): smaller and faster than glyph outlines.
matplotlib.rcParams["svg.fonttype"] = "none"


def consumer_states(model) -> np.ndarray:
    """Each consumer's state code (index into :data:`STATES`), for the market's first brand."""
    s = model.state.brand(0)
    band = model.config.wom.neutral_band
    code = np.where(s.aware, AWARE, UNAWARE).astype(np.int8)
    code[s.adopted] = NEUTRAL
    code[s.adopted & (s.opinion > band)] = ADVOCATE
    code[s.adopted & (s.opinion < -band)] = DETRACTOR
    return code


class NetworkView:
    """One drawn network; :meth:`render` gives the PNG coloured by a model's state."""

    def __init__(self, drawn: DrawnNetwork, *, inches: float = 6.0) -> None:
        self.drawn = drawn
        self.fig = Figure(figsize=(inches, inches), dpi=DPI)
        self.canvas = FigureCanvasAgg(self.fig)
        ax = self.ax = self.fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_axis_off()
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_aspect("equal")
        k = max(drawn.nodes.size, 1)
        n_edges = drawn.segments.shape[0]
        width = 0.5 if n_edges < 3 * k else 0.35
        alpha = float(np.clip(9.0 / max(n_edges, 1) ** 0.5, 0.04, 0.35))  # dense: fainter
        ax.add_collection(LineCollection(drawn.segments, colors="#7a7a7a", linewidths=width,
                                         alpha=alpha, zorder=1))
        self.base_size = float(np.clip(450.0 * inches**2 / k, 4.0, 40.0))  # points²
        x, y = drawn.pos[:, 0], drawn.pos[:, 1]
        self.points = ax.scatter(x, y, s=self.base_size, c=STATE_COLOURS[np.zeros(k, int)],
                                 linewidths=0.0, zorder=2, animated=True)
        self.canvas.draw()  # the edges, once; animated artists are left out
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)

    def render(self, model) -> bytes:
        """The PNG of the network coloured by the model's current state."""
        nodes = self.drawn.nodes
        s = model.state.brand(0)
        codes = consumer_states(model)[nodes]
        self.points.set_facecolor(STATE_COLOURS[codes])
        follower = s.follower[nodes]
        self.points.set_edgecolor(np.where(follower, FOLLOWER_EDGE, "none"))
        self.points.set_linewidths(np.where(follower, 0.9, 0.0))
        talked = s.talked[nodes] != 0
        self.points.set_sizes(np.where(talked, 2.6 * self.base_size, self.base_size))
        self.canvas.restore_region(self.background)
        self.ax.draw_artist(self.points)
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw",
                                 "RGBA", 0, 1).convert("RGB")  # opaque: smaller, faster
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=1)  # more effort saves little here
        return buffer.getvalue()


def legend_html(model) -> str:
    """The states' colours with their shares of all consumers, followers and talkers."""
    codes = consumer_states(model)
    n = max(codes.size, 1)
    counts = np.bincount(codes, minlength=len(STATES))
    dot = ("<span style='display:inline-block;width:10px;height:10px;border-radius:50%;"
           "background:{fill};border:{border};margin-right:6px'></span>")
    rows = [(dot.format(fill=colour, border=f"1px solid {colour}"), name, c / n)
            for (name, colour), c in zip(STATES, counts, strict=True)]
    rows.append((dot.format(fill="white", border=f"2px solid {FOLLOWER_EDGE}"), "follower",
                 np.count_nonzero(model.state.follower[0]) / n))
    rows.append((dot.format(fill="#aaaaaa", border="1px solid #aaaaaa").replace(
        "10px;height:10px", "14px;height:14px"), "talked this week",
        np.count_nonzero(model.state.talked[0]) / n))
    items = [f"<span style='display:inline-flex;align-items:center;white-space:nowrap;"
             f"margin-right:14px'>{icon}{html.escape(name)}&nbsp;<b>{share:.1%}</b></span>"
             for icon, name, share in rows]
    return ("<div class='wommsim-legend' style='display:flex;flex-wrap:wrap;"
            "font-size:0.85em;line-height:1.8'>" + "".join(items) + "</div>")


def running_lines(model) -> list[str]:
    """The main settings of the model on screen (changed settings apply on Reset)."""
    cfg = model.config
    return [f"{cfg.strategy.name}",
            f"{cfg.network.kind}, {model.n:,} consumers",
            f"ad-blind {cfg.consumer.ad_blind_fraction:.0%}, budget {cfg.brand.budget:,.0f}/week",
            f"quality {cfg.brand.quality:+.2f}, seed {cfg.seed}"]


def running_note(model) -> str:
    return "Running: " + "; ".join(running_lines(model)) + "."


def sample_note(drawn: DrawnNetwork) -> str:
    """What the view shows, when it is not everyone and every edge."""
    notes = []
    if drawn.sampled:
        notes.append(f"Drawing a sample of {drawn.nodes.size:,} of {drawn.n_total:,} consumers "
                     "(random consumers with their neighbours); the plots and percentages "
                     "cover all consumers.")
    if drawn.edges_sampled:
        notes.append(f"{drawn.segments.shape[0]:,} of {drawn.edges_total:,} edges drawn.")
    return " ".join(notes)


# -- curves -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Series:
    """One model's time series on a plot: its table, legend name and colour (or None)."""

    frame: pd.DataFrame
    name: str = ""
    colour: str | None = None
    consumers: int = 1


def series_of(model, name: str = "", colour: str | None = None) -> Series:
    return Series(model.datacollector.get_model_vars_dataframe(), name, colour, model.n)


#: Plot kind -> (title, y-axis label).
PLOTS: dict[str, tuple[str, str]] = {
    "adoption": ("Adoption and awareness", "share of consumers"),
    "attribution": ("Adopters by influence (cumulative)", "consumers"),
    "sentiment": ("Sentiment: advocates and detractors", "share of consumers"),
    "followers": ("Followers of the brand", "share of consumers"),
    "cost": ("Cost per adopter gained", "money per adopter"),
}

#: Colours of the attribution plot's curves: one per influence, in the schedule's order.
INFLUENCE_PALETTE = ("#d7301f", "#1a9850", "#7b3294", "#e6ab02", "#e7298a", "#8c564b",
                     "#17becf", "#666666")
INFLUENCE_COLOURS: dict[str, str] = {
    name: INFLUENCE_PALETTE[i % len(INFLUENCE_PALETTE)] for i, name in enumerate(INFLUENCES)}
#: Line styles (matplotlib's and in words) of models A and B where colour means an
#: influence, not a model.
ARM_STYLES = (("-", "solid"), ("--", "dashed"))


def _lines(kind: str, frame: pd.DataFrame, n: int) -> list[tuple[str, np.ndarray, str, str]]:
    """(label, values, colour, line style) of each curve of a plot for one model."""
    if kind == "adoption":
        return [("adopted", frame["adopted_fraction"].to_numpy(), "#1a9850", "-"),
                ("aware", frame["aware_fraction"].to_numpy(), "#4a90d9", "--")]
    if kind == "attribution":
        return [(INFLUENCE_LABELS[name], frame[f"new_adopters_{name}"].cumsum().to_numpy(),
                 INFLUENCE_COLOURS[name], "-") for name in INFLUENCES]
    if kind == "sentiment":
        return [("advocates", frame["advocates"].to_numpy() / n, "#1a9850", "-"),
                ("detractors", frame["detractors"].to_numpy() / n, "#d7301f", "--")]
    if kind == "followers":
        return [("followers", frame["followers"].to_numpy() / n, "#111111", "-")]
    if kind == "cost":
        adopted = frame["adopted_fraction"].to_numpy() * n
        gained = np.rint(adopted - adopted[0])
        spend = frame["cumulative_spend"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            cost = np.where(gained > 0, spend / np.maximum(gained, 1), np.nan)
        return [("cost per adopter", cost, "#444444", "-")]
    raise KeyError(kind)


class PlotView:
    """One plot, kept between frames: :meth:`render` updates its lines and returns an SVG."""

    def __init__(self, kind: str, *, size: tuple[float, float] = (4.4, 3.0)) -> None:
        self.kind = kind
        title, ylabel = PLOTS[kind]
        self.fig = Figure(figsize=size, dpi=DPI)  # fixed margins: a layout engine is slower
        self.canvas = FigureCanvasSVG(self.fig)
        self.fig.subplots_adjust(left=0.16, bottom=0.15, right=0.97, top=0.9)
        ax = self.ax = self.fig.add_subplot()
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("week", fontsize=9)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if ylabel.startswith("share"):
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        ax.grid(alpha=0.3)
        self._lines: dict[str, object] = {}

    def render(self, series: list[Series]) -> bytes:
        """The SVG of the plot with every series on the same axes.

        Several models are told apart by colour (A blue, B orange), except on the
        attribution plot, whose colours are the influences: there model A is drawn solid,
        B dashed, and the legend names each colour and each style once.
        """
        several = len(series) > 1
        by_style = several and self.kind == "attribution"
        wanted, curves = [], {}
        last, top = 1, 0.0
        for i, one in enumerate(series):
            for label, values, colour, style in _lines(self.kind, one.frame, one.consumers):
                key = f"{one.name}: {label}" if several else label
                wanted.append(key)
                curves[label] = colour
                line = self._lines.get(key)
                if line is None:
                    (line,) = self.ax.plot(
                        [], [], lw=1.8, label=key,
                        ls=ARM_STYLES[i % len(ARM_STYLES)][0] if by_style else style,
                        color=one.colour if several and one.colour and not by_style
                        else colour)
                    self._lines[key] = line
                line.set_data(np.arange(values.size), values)
                last = max(last, values.size - 1)
                if np.isfinite(values).any():
                    top = max(top, float(np.nanmax(values)))
        for key in list(self._lines):
            if key not in wanted:
                self._lines.pop(key).remove()
        handles = None
        if by_style:  # one entry per influence and one per model, not one per line
            handles = [Line2D([], [], color=colour, lw=1.8, label=label)
                       for label, colour in curves.items()]
            for i, one in enumerate(series):
                dash, words = ARM_STYLES[i % len(ARM_STYLES)]
                handles.append(Line2D([], [], color="#555555", lw=1.4, ls=dash,
                                      label=f"{one.name}: {words} line"))
        entries = len(handles) if handles else len(wanted)
        if self.ax.get_legend() is None or len(self.ax.get_legend().texts) != entries:
            self.ax.legend(handles=handles, fontsize=7.5 if several else 8, frameon=False,
                           loc="upper right" if self.kind == "cost" else "upper left",
                           ncols=2 if entries > 4 else 1, columnspacing=1.0)
        self.ax.set_xlim(0, last)
        floor = 0.01 if PLOTS[self.kind][1].startswith("share") else 5.0
        self.ax.set_ylim(0, max(top * 1.08, floor))
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="svg", metadata={"Date": None})
        return buffer.getvalue()
