"""Matplotlib drawings for the UI: the network coloured by consumer state, and the curves.

Everything is drawn with matplotlib's object-oriented API (no pyplot, so no global state
shared between browser sessions). The network is a 600 × 600 PNG of about 300 kB, where
a Vega-Lite chart of 2,000 consumers would ship megabytes of JSON. :class:`NetworkView`
renders the edges once per layout and, on every frame, only recolours the consumers on
top of that background (matplotlib blitting), so a frame costs milliseconds, not the tens
of milliseconds that redrawing thousands of edges takes. The legend with each state's
share of all consumers is HTML (:func:`legend_html`). In a market of several brands the
consumers are coloured by the brand whose customer each is now (:func:`colouring`).

The curves are small SVGs (text stays text: cheaper than rasterising it) drawn by
:class:`PlotView`, which keeps its figure and updates the lines' data each frame. It takes
one or more models' time series, so the comparison page draws both strategies on the same
axes with the same code; the brands' plots (:data:`BRAND_PLOTS`) take one series per brand
from the model's brand rows (:func:`brand_series`).
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

from wommsim.config import budget_text
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
#: Colours of a market's brands, in the market's order: the first two are the comparison's
#: A and B, so a duel of strategy A against B keeps their colours.
BRAND_COLOURS = (*ARM_COLOURS, "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
#: A market of several brands draws consumers by their current brand; those of none so.
NO_BRAND_STATES: tuple[tuple[str, str], ...] = (
    ("unaware of every brand", "#dcdcdc"),
    ("aware, no brand's customer", "#8f8f8f"),
)
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


def brand_colour(index: int) -> str:
    return BRAND_COLOURS[index % len(BRAND_COLOURS)]


def brand_label(brand) -> str:
    """A brand as the page names it: its name and strategy, e.g. ``a: ad_heavy``."""
    return f"{brand.name}: {brand.config.strategy.name}"


def several_brands(model) -> bool:
    return len(model.brands) > 1


@dataclass(frozen=True)
class Colouring:
    """What the network view shows of each consumer: a code (index into ``states``), and
    whether it follows (a ring) and talked this week (a larger dot)."""

    codes: np.ndarray
    states: tuple[tuple[str, str], ...]  # (name, colour) per code
    follower: np.ndarray
    talked: np.ndarray
    follower_label: str


def colouring(model) -> Colouring:
    """One brand: consumers by their state toward it (:data:`STATES`). Several brands: by
    the brand whose customer each consumer is now (``state.current_brand``), else unaware
    of every brand or aware of one (:data:`NO_BRAND_STATES`); a ring for a follower of any
    brand, a larger dot for a consumer who talked about any brand this week. One picture
    then shows which brand holds which part of the network, and switching shows as a dot
    changing colour; a view of one brand at a time would hide the competition."""
    if not several_brands(model):
        s = model.state.brand(0)
        return Colouring(consumer_states(model), STATES, s.follower, s.talked != 0,
                         "follower")
    s = model.state
    codes = s.aware.any(axis=0).astype(np.int16)  # 0 unaware, 1 aware
    customer = s.current_brand >= 0
    codes[customer] = len(NO_BRAND_STATES) + s.current_brand[customer]
    states = (*NO_BRAND_STATES,
              *((f"customer of {brand_label(b)}", brand_colour(b.index)) for b in model.brands))
    return Colouring(codes, states, s.follower.any(axis=0), (s.talked != 0).any(axis=0),
                     "follower of a brand")


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
        view = colouring(model)
        colours = np.array([colour for _, colour in view.states])
        self.points.set_facecolor(colours[view.codes[nodes]])
        follower = view.follower[nodes]
        self.points.set_edgecolor(np.where(follower, FOLLOWER_EDGE, "none"))
        self.points.set_linewidths(np.where(follower, 0.9, 0.0))
        talked = view.talked[nodes]
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
    view = colouring(model)
    codes = view.codes
    n = max(codes.size, 1)
    counts = np.bincount(codes, minlength=len(view.states))
    dot = ("<span style='display:inline-block;width:10px;height:10px;border-radius:50%;"
           "background:{fill};border:{border};margin-right:6px'></span>")
    rows = [(dot.format(fill=colour, border=f"1px solid {colour}"), name, c / n)
            for (name, colour), c in zip(view.states, counts, strict=True)]
    rows.append((dot.format(fill="white", border=f"2px solid {FOLLOWER_EDGE}"),
                 view.follower_label, np.count_nonzero(view.follower) / n))
    rows.append((dot.format(fill="#aaaaaa", border="1px solid #aaaaaa").replace(
        "10px;height:10px", "14px;height:14px"), "talked this week",
        np.count_nonzero(view.talked) / n))
    items = [f"<span style='display:inline-flex;align-items:center;white-space:nowrap;"
             f"margin-right:14px'>{icon}{html.escape(name)}&nbsp;<b>{share:.1%}</b></span>"
             for icon, name, share in rows]
    return ("<div class='wommsim-legend' style='display:flex;flex-wrap:wrap;"
            "font-size:0.85em;line-height:1.8'>" + "".join(items) + "</div>")


def running_lines(model) -> list[str]:
    """The main settings of the model on screen (changed settings apply on Reset)."""
    cfg = model.config
    horizon = f"{cfg.market.category} category, {cfg.steps} weeks"
    if several_brands(model):
        return [f"{cfg.market.name}: " + " vs ".join(
                    f"{brand_label(b)} (budget {budget_text(b.config, model.n)}, quality "
                    f"{b.config.brand.quality:+.2f})" for b in model.brands),
                horizon, f"{cfg.network.kind}, {model.n:,} consumers",
                f"never click {cfg.consumer.ad_blind_fraction:.0%}, seed {cfg.seed}"]
    return [f"{cfg.strategy.name}", horizon,
            f"{cfg.network.kind}, {model.n:,} consumers",
            f"never click {cfg.consumer.ad_blind_fraction:.0%}",
            f"budget {budget_text(cfg, model.n)}",
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


#: The columns of ``model.brand_rows`` the brands' plots draw.
BRAND_COLUMNS = ("share", "customers", "churned")


def brand_series(model, name: str = "", colour: str | None = None) -> list[Series]:
    """One series per brand from ``model.brand_rows`` (the rows of ``brands.parquet``): in a
    market of several brands each named and coloured after its brand (``a: ad_heavy``,
    prefixed by ``name`` if given), else the one brand's as ``name`` and ``colour``. The
    rows are step by step, brand by brand, so brand ``b``'s are every ``k``-th from ``b``."""
    rows, k = model.brand_rows, len(model.brands)
    out = []
    for brand in model.brands:
        mine = rows[brand.index::k]
        frame = pd.DataFrame({c: np.array([r[c] for r in mine], dtype=float)
                              for c in BRAND_COLUMNS})
        if k > 1:
            label = brand_label(brand)
            out.append(Series(frame, f"{name} {label}" if name else label,
                              brand_colour(brand.index), model.n))
        else:
            out.append(Series(frame, name, colour, model.n))
    return out


#: Plot kind -> (title, y-axis label).
PLOTS: dict[str, tuple[str, str]] = {
    "adoption": ("Adoption and awareness", "share of consumers"),
    "attribution": ("Last-touch credit: adopters by influence (cumulative)", "consumers"),
    "sentiment": ("Sentiment: advocates and detractors", "share of consumers"),
    "followers": ("Followers of the brand", "share of consumers"),
    "cost": ("Cost per adopter gained", "money per adopter"),
}
#: The brands' plots (from :func:`brand_series`): kind -> (title, y-axis label).
BRAND_PLOTS: dict[str, tuple[str, str]] = {
    "share": ("Share of the week's purchases", "share of purchases"),
    "customers": ("Customers of each brand", "share of consumers"),
    "churn": ("Customers lost (cumulative)", "consumers"),
}
ALL_PLOTS = {**BRAND_PLOTS, **PLOTS}


def plot_kinds(model) -> tuple[str, ...]:
    """The plots a model's page draws: with several brands, each brand's share of purchases,
    customers and customers lost first; with one brand in a repeat category its customers
    and customers lost (its share is always 100%); then the market's :data:`PLOTS`."""
    if several_brands(model):
        return (*BRAND_PLOTS, *PLOTS)
    if model.config.market.category == "repeat":
        return ("customers", "churn", *PLOTS)
    return tuple(PLOTS)

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
    if kind == "share":
        return [("share", frame["share"].to_numpy(), "#444444", "-")]
    if kind == "customers":
        return [("customers", frame["customers"].to_numpy() / n, "#1a9850", "-")]
    if kind == "churn":
        return [("customers lost", frame["churned"].cumsum().to_numpy(), "#d7301f", "-")]
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

    def __init__(self, kind: str, *, size: tuple[float, float] = (4.4, 3.0),
                 brands: int = 1) -> None:
        self.kind = kind
        title, ylabel = ALL_PLOTS[kind]
        if brands > 1 and kind in PLOTS:  # a market plot of several brands: their totals
            title += " · all brands"
        self.fig = Figure(figsize=size, dpi=DPI)  # fixed margins: a layout engine is slower
        self.canvas = FigureCanvasSVG(self.fig)
        self.fig.subplots_adjust(left=0.16, bottom=0.15, right=0.97, top=0.9)
        ax = self.ax = self.fig.add_subplot()
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("week", fontsize=9)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if ylabel.startswith("share"):  # shares in percent
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
                key = label
                if several:  # a brand plot has one line per series: named by the series
                    key = one.name if self.kind in BRAND_PLOTS else f"{one.name}: {label}"
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
        floor = 0.01 if ALL_PLOTS[self.kind][1].startswith("share") else 5.0
        self.ax.set_ylim(0, max(top * 1.08, floor))
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="svg", metadata={"Date": None})
        return buffer.getvalue()
