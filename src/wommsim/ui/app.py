"""The browser UI's pages (a Solara app): one model live, and two strategies compared.

``python -m wommsim.ui`` serves this module. ``/`` is the model page: the network drawn
by consumer state and the curves of adoption and awareness, last-touch credit (one curve per
influence), sentiment, followers and cost per adopter. In a market of several brands
(``market=duel``) the sidebar sets each brand's strategy, budget and quality, the network
is coloured by each consumer's current brand, and each brand's share of purchases,
customers and customers lost come first (from ``model.brand_rows``, the rows of
``brands.parquet``); in a repeat-purchase category the brand's customers and customers
lost are drawn too. ``/compare`` runs two strategies on the same network and seed,
stepping together: each alone in a market of its own, with their curves on shared axes,
or as brands a and b of one market (a duel, drawn as the model page draws one).

Both pages have the same sidebar (:func:`Sidebar`): Reset, Play and Step, the pause Play
makes between weeks, and the settings, each slider with its value and unit shown. The
settings are one dict per browser session (:data:`settings`) that both pages read and
write: a setting changed on one page is the other's too, and each page builds its models
from it when it opens and on Reset.

Mesa's SolaraViz sidebar is not used: it keeps the controls' values to itself (two pages
could not share them), shows a slider's value only while the slider has focus, and adds
Render Interval (weeks per redraw) and Use Threads (stepping apart from drawing), which
help models that are slow to step; here a week steps in milliseconds and its redraw is the
slow part (about 0.2 s). Each session builds its own models; networks and layouts are
cached across sessions by (network, consumers, seed), see :mod:`wommsim.ui.layout`.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import solara
import solara.lab

from wommsim.ui import draw, params
from wommsim.ui.models import UiModel, initial_kwargs

#: Environment variable with the start-up control values (JSON of model keywords), set by
#: ``python -m wommsim.ui KEY=VALUE ...``.
OVERRIDES_ENV = "WOMMSIM_UI_OVERRIDES"
TITLE = "wommsim: word of mouth vs advertising"
#: Play's pause after each week's redraw: default and slider range (ms).
PLAY_PAUSE_MS = 150
PLAY_PAUSE_SPAN = (0, 1000, 50)
#: The comparison's settings that the model page does not use.
COMPARE_KEYS = ("compare", "strategy_a", "strategy_b")
#: What the comparison page compares: strategies A and B each alone in a market of its own
#: (two monopolies), or as the two brands of one market (brand a takes A, brand b B).
TWO_MARKETS, DUEL = "two markets", "one market (duel)"
#: The market of the comparison's duel.
DUEL_MARKET = "duel"
#: Choosing a repeat-purchase category lengthens a shorter horizon to this many weeks (the
#: duel experiment's three years): long enough for repeat purchase, switching and churn.
REPEAT_HORIZON = 156
CSS = """
.wommsim-network { width: 100%; max-width: 640px; max-height: 640px; object-fit: contain;
                   display: block; margin: 0 auto; }
.wommsim-plot { width: 100%; }
.wommsim-note { font-size: 0.8em; color: #555; line-height: 1.35; display: block; }
.wommsim-settings-note { margin-bottom: 8px; }
.wommsim-setting { margin-top: 10px; }
.wommsim-setting-label { font-size: 0.9em; display: flex; justify-content: space-between;
                         gap: 8px; }
.wommsim-setting-value { white-space: nowrap; }
"""

#: This browser session's settings: every control's value (model keywords) and the
#: comparison's two strategies. Solara keeps a module-level reactive variable per session,
#: so the model page and the comparison page read and write this one dict. None until a
#: setting is changed (then :func:`initial_settings` holds).
settings: solara.Reactive[dict[str, Any] | None] = solara.reactive(None)


def startup_kwargs() -> dict[str, Any]:
    """The controls' defaults, with the values given on the command line."""
    raw = os.environ.get(OVERRIDES_ENV, "")
    return initial_kwargs(json.loads(raw) if raw else None)


def initial_settings() -> dict[str, Any]:
    """The start-up values; strategy A is ad-heavy, B the configured (default) strategy, and
    so are brands a and b of the duel (each brand's budget and quality the run's), unless
    the command line set them."""
    start = startup_kwargs()
    choices = params.control("strategy").choices
    first = "ad_heavy" if "ad_heavy" in choices else choices[0]
    second = start["strategy"]
    if second == first:
        second = next(c for c in choices if c != first)
    brands = {c.keyword: start[params.control(params.BRAND_KEYS[c.key.split(".")[3]]).keyword]
              for c in params.brand_controls()}  # the run's budget and quality
    for market in params.presets("market"):
        names = params.market_brands(market)
        if len(names) > 1:
            for name, strategy in zip(names, (first, second), strict=False):
                brands[f"market__brands__{name}__strategy"] = strategy
    return {**brands, **start, "compare": TWO_MARKETS, "strategy_a": first,
            "strategy_b": second}


def current_settings() -> dict[str, Any]:
    return settings.value or initial_settings()


def change_setting(name: str, value: Any) -> None:
    values = {**current_settings(), name: value}
    if name == "market__category" and value == "repeat":
        values["steps"] = max(values["steps"], REPEAT_HORIZON)
    settings.value = values


def model_inputs(values: dict[str, Any] | None = None) -> list[params.Control]:
    """The model page's settings: every control; in a market of several brands, each
    brand's strategy, budget and quality in place of the run's (which they would take)."""
    values = values or current_settings()
    brands = params.brand_controls_of(values["market"])
    if not brands:
        return list(params.controls())
    own = set(params.BRAND_KEYS.values())
    out = []
    for c in params.controls():
        if c.key == "strategy":
            out.extend(brands)
        elif c.key not in own:
            out.append(c)
    return out


def compare_inputs() -> list[params.Control]:
    """The comparison page's settings: what it compares, the two strategies, then every
    other control but the market (the comparison makes its own)."""
    strategy = params.control("strategy")
    mode = params.Control("compare", "Compare", "choice", TWO_MARKETS,
                          choices=(TWO_MARKETS, DUEL),
                          doc="two markets: each strategy alone in its own market; one "
                              "market (duel): brand a with strategy A against brand b with B")
    return [mode, dataclasses.replace(strategy, key="strategy_a", label="Strategy A"),
            dataclasses.replace(strategy, key="strategy_b", label="Strategy B"),
            *(c for c in params.controls() if c.key not in ("strategy", "market"))]


def make_model(values: dict[str, Any]) -> list[UiModel]:
    """The model page's model from the settings the page shows (what is seen is what
    runs: another market's brand settings are not passed)."""
    return [UiModel(**{c.keyword: values[c.keyword] for c in model_inputs(values)})]


def shared_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The comparison's settings of both strategies: every control but strategy and market."""
    return {c.keyword: values[c.keyword] for c in params.controls()
            if c.key not in ("strategy", "market")}


def make_pair(values: dict[str, Any]) -> tuple[UiModel, UiModel]:
    """Models A and B: the shared settings with each strategy, each brand alone in its
    market, on one network."""
    shared = shared_settings(values)
    a = UiModel(**{**shared, "strategy": values["strategy_a"]})
    b = UiModel(**{**shared, "strategy": values["strategy_b"]}, graph=a.graph)
    return a, b


def make_duel(values: dict[str, Any]) -> list[UiModel]:
    """One market, the ``duel`` preset: brand a with strategy A, brand b with strategy B,
    the shared settings (budget and quality alike) for the rest: as ``python -m wommsim
    market=duel market.brands.a.strategy=A market.brands.b.strategy=B ...``."""
    first, second = params.market_brands(DUEL_MARKET)[:2]
    return [UiModel(**shared_settings(values), market=DUEL_MARKET,
                    **{f"market__brands__{first}__strategy": values["strategy_a"],
                       f"market__brands__{second}__strategy": values["strategy_b"]})]


def make_comparison(values: dict[str, Any]) -> list[UiModel] | tuple[UiModel, UiModel]:
    """The comparison page's models: a duel, or the pair of markets."""
    return make_duel(values) if values["compare"] == DUEL else make_pair(values)


# -- running the models -----------------------------------------------------------------------

@dataclasses.dataclass
class Run:
    """A page's models and what the sidebar's buttons do to them."""

    models: list[UiModel]
    tick: int  # bumped on every Step and Reset: the drawings' cue to redraw
    playing: solara.Reactive[bool]
    pause_ms: solara.Reactive[int]
    error: str
    step: Callable[[], None]
    reset: Callable[[], None]

    @property
    def running(self) -> bool:
        """Whether a model has weeks left (each stops at its horizon, ``steps``)."""
        return any(m.running for m in self.models)


def use_run(build: Callable[[dict[str, Any]], list[UiModel] | tuple[UiModel, ...]]) -> Run:
    """Step, Play and Reset for the models ``build`` makes from the session's settings."""
    models = solara.use_reactive(solara.use_memo(lambda: list(build(current_settings())), []))
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    pause_ms = solara.use_reactive(PLAY_PAUSE_MS)
    error = solara.use_reactive("")
    lock = solara.use_memo(threading.Lock, [])

    def step():
        with lock:
            for model in models.value:
                if model.running:
                    model.step()
            finished = not any(m.running for m in models.value)
        if finished:
            playing.value = False
        tick.value += 1

    def reset():
        playing.value = False
        try:
            new = list(build(current_settings()))
        except ValueError as err:  # e.g. a market too large for this machine's memory
            error.value = str(err)
            return
        error.value = ""
        with lock:
            models.value = new
        tick.value += 1

    gone = solara.use_memo(threading.Event, [])
    solara.use_effect(lambda: gone.set, [])  # on unmount (page left, session closed)

    def play_loop():
        while playing.value and not gone.is_set():
            time.sleep(pause_ms.value / 1000)
            if playing.value and not gone.is_set():
                step()

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)
    return Run(models.value, tick.value, playing, pause_ms, error.value, step, reset)


# -- the sidebar ------------------------------------------------------------------------------

@solara.component
def LabelledSlider(name: str, label: str, shown: str, value: float, lo: float, hi: float,
                   step: float, on_value: Callable[[Any], None], tooltip: str = "",
                   integer: bool = False):
    """A slider under its label and its value (with unit), both shown at all times, and
    ``tooltip`` on hovering the label. (Vuetify's own slider shows its value only while it
    has focus.)"""
    with solara.Column(gap="0px", classes=["wommsim-setting"]) as main:
        solara.HTML(tag="div", classes=["wommsim-setting-label", f"wommsim-label-{name}"],
                    attributes={"title": tooltip},
                    unsafe_innerHTML=f"<span>{html.escape(label)}</span><b class="
                                     f"'wommsim-setting-value'>{html.escape(shown)}</b>")
        solara.v.Slider(v_model=value, min=lo, max=hi, step=step, thumb_label=False,
                        hide_details=True, class_=f"wommsim-slider-{name}",
                        on_v_model=lambda v: on_value(int(v) if integer else float(v)))
    return main


@solara.component
def Setting(c: params.Control, value: Any):
    """One setting of the session: a select, a text field or a slider."""
    def on_value(new: Any) -> None:
        change_setting(c.keyword, new)

    if c.kind == "choice":
        return solara.Select(c.label, value=value, values=list(c.choices), on_value=on_value)
    if c.kind == "text":
        return solara.InputText(c.label, value=str(value), on_value=on_value)
    return LabelledSlider(c.keyword, c.label, params.value_text(c, value), value, c.lo, c.hi,
                          c.step, on_value, tooltip=c.doc, integer=c.kind == "int")


@solara.component
def Sidebar(run: Run, inputs: list[params.Control], note: str):
    """Reset, Play, Step and Play's pause; the session's settings; the week on screen."""
    values = current_settings()
    lo, hi, step = PLAY_PAUSE_SPAN
    with solara.Sidebar(), solara.Column():
        with solara.Card("Controls"):
            with solara.Row(justify="space-between"):
                solara.Button("Reset", color="primary", on_click=run.reset)
                solara.Button("❚❚" if run.playing.value else "▶", color="primary",
                              on_click=lambda: run.playing.set(not run.playing.value),
                              disabled=not run.running)
                solara.Button("Step", color="primary", on_click=run.step,
                              disabled=run.playing.value or not run.running)
            if run.error:
                solara.Error(run.error)
            LabelledSlider("play-pause", "Play: pause between weeks",
                           f"{run.pause_ms.value} ms", run.pause_ms.value, lo, hi, step,
                           run.pause_ms.set, integer=True,
                           tooltip="how long Play waits after drawing a week (drawing takes "
                                "about 0.2 s more); 0 runs as fast as the page can draw")
            solara.Text("Step runs one week; Play runs week after week until paused or "
                        "the last week; Reset starts again with the settings below.",
                        classes=["wommsim-note", "wommsim-controls-help"])
        with solara.Card("Settings"):
            solara.Text(note, classes=["wommsim-note", "wommsim-settings-note"])
            for c in inputs:
                Setting(c, values[c.keyword])
        with solara.Card("Information"):
            solara.Text(f"Time: {run.models[0].time}")


# -- shared drawings --------------------------------------------------------------------------

def heading_html(model: UiModel, title: str = "", colour: str = "inherit") -> str:
    """The network's heading: ``title · week N``, or ``Week N``; a market of several brands
    names them in their colours (``a: ad_heavy vs b: conversation_led · week N``)."""
    week = f"week {model.steps}"
    if len(model.brands) > 1:
        names = " vs ".join(f"<span style='color:{draw.brand_colour(b.index)}'>"
                            f"{html.escape(draw.brand_label(b))}</span>" for b in model.brands)
        prefix = f"{html.escape(title)} · " if title else ""
        return f"<b>{prefix}{names} · {week}</b>"
    heading = f"{title} · {week}" if title else week.capitalize()
    return f"<b style='color:{colour}'>{html.escape(heading)}</b>"


@solara.component
def NetworkView(model: UiModel, tick: Any = None, title: str = "", colour: str = "inherit"):
    """The network coloured by consumer state (by brand in a market of several), with its
    legend and what is running."""
    drawn = model.drawn
    view = solara.use_memo(lambda: draw.NetworkView(drawn), [drawn])
    image = solara.use_memo(lambda: view.render(model), [view, model, model.steps, tick])
    with solara.Card(style={"width": "100%"}) as main:
        for warning in getattr(model, "ui_warnings", []):
            solara.Warning(warning, dense=True)
        solara.HTML(tag="div", classes=["wommsim-week"],
                    unsafe_innerHTML=heading_html(model, title, colour))
        solara.Image(image, classes=["wommsim-network"])
        solara.HTML(tag="div", unsafe_innerHTML=draw.legend_html(model))
        # separate blocks: each note its own paragraph (inline text runs together)
        solara.HTML(tag="p", classes=["wommsim-note", "wommsim-running"],
                    unsafe_innerHTML=html.escape(draw.running_note(model)))
        note = draw.sample_note(drawn)
        if note:
            solara.HTML(tag="p", classes=["wommsim-note", "wommsim-sample-note"],
                        unsafe_innerHTML=html.escape(note))
    return main


@solara.component
def PlotImage(view: draw.PlotView, series: list[draw.Series], dependencies: list):
    image = solara.use_memo(lambda: view.render(series), [view, *dependencies])
    return solara.Image(image, format="svg+xml", width="100%",
                        classes=["wommsim-plot", f"wommsim-plot-{view.kind}"])


def plot_series(named: list[tuple[UiModel, str, str | None]]
                ) -> dict[str, list[draw.Series]]:
    """The series of the market's plots and of the brands' plots, for models given as
    (model, name, colour)."""
    return {"market": [draw.series_of(m, name, colour) for m, name, colour in named],
            "brands": [s for m, name, colour in named
                       for s in draw.brand_series(m, name, colour)]}


def use_views(kinds: tuple[str, ...], brands: int) -> dict[str, draw.PlotView]:
    return solara.use_memo(lambda: {k: draw.PlotView(k, brands=brands) for k in kinds},
                           [kinds, brands])


# -- the model page ---------------------------------------------------------------------------

@solara.component
def Dashboard(model: UiModel, tick: int, title: str = ""):
    """A market's network and plots, redrawn every step: with several brands, each brand's
    share, customers and customers lost beside the network, then the market's five plots
    (:func:`wommsim.ui.draw.plot_kinds`)."""
    kinds = draw.plot_kinds(model)
    views = use_views(kinds, len(model.brands))
    series = plot_series([(model, "", None)])
    deps = [model, model.steps, tick]
    with solara.Column(style={"width": "100%"}) as main:
        with solara.Columns([3, 2]):
            NetworkView(model, tick, title=title)
            with solara.Column():
                for kind in kinds[:2]:
                    PlotImage(views[kind], series[source(kind)], deps)
        for row in range(2, len(kinds), 3):
            with solara.Columns([1, 1, 1]):
                for kind in kinds[row:row + 3]:
                    PlotImage(views[kind], series[source(kind)], deps)
    return main


def source(kind: str) -> str:
    """Whose series a plot draws: the brands' (``brands``) or the market's (``market``)."""
    return "brands" if kind in draw.BRAND_PLOTS else "market"


@solara.component
def ModelPage():
    """One model, live: the sidebar (Step, Play, Reset, the settings) and the dashboard."""
    run = use_run(make_model)
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    Sidebar(run, model_inputs(),
            note="The Compare strategies page runs with these settings too (its own "
                 "strategies A and B and market aside). A change applies on Reset. A duel "
                 "sets each brand's strategy, budget and quality; choosing the repeat "
                 f"category lengthens the horizon to {REPEAT_HORIZON} weeks.")
    Dashboard(run.models[0], run.tick)


# -- the comparison page ----------------------------------------------------------------------

@solara.component
def ComparePage():
    """Two strategies on the same network and seed, stepping together in two markets, or
    competing in one (a duel)."""
    run = use_run(make_comparison)
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle("wommsim: compare two strategies")
    Sidebar(run, compare_inputs(),
            note="Both strategies run with the same settings, those of the Model page "
                 "(every setting below but the strategies and what is compared), on one "
                 "network with the same consumers and seed: each alone in a market of its "
                 "own, or as brands a and b of one market, with the same budget and "
                 "quality. A change applies on Reset.")
    if len(run.models) == 1:
        Dashboard(run.models[0], run.tick, title="Duel")
        return
    a, b = run.models
    with solara.Column(style={"width": "100%"}):
        with solara.Columns([1, 1]):
            for name, model, colour in (("A", a, draw.ARM_COLOURS[0]),
                                        ("B", b, draw.ARM_COLOURS[1])):
                NetworkView(model, run.tick, title=f"{name}: {model.config.strategy.name}",
                            colour=colour)
        ComparedPlots(a, b, run.tick)


@solara.component
def ComparedPlots(a: UiModel, b: UiModel, tick: int):
    """The plots with both models on shared axes (A blue, B orange): the five of the market,
    after each brand's customers and customers lost in a repeat category."""
    kinds = draw.plot_kinds(a)
    views = use_views(kinds, 1)
    series = plot_series([(a, "A", draw.ARM_COLOURS[0]), (b, "B", draw.ARM_COLOURS[1])])
    deps = [a, b, a.steps, b.steps, tick]
    with solara.Column(style={"width": "100%"}) as main:
        for first in range(0, len(kinds), 2):
            row = kinds[first:first + 2]
            with solara.Columns([1] * 2):
                for kind in row:
                    PlotImage(views[kind], series[source(kind)], deps)
                if len(row) == 1:
                    solara.Div()  # keeps the last plot at half width
    return main


# -- routes -----------------------------------------------------------------------------------

@solara.component
def Layout(children=None):
    """Solara's AppLayout with tabs for the two pages."""
    route, siblings = solara.use_route()
    router = solara.use_router()
    index = siblings.index(route) if route in siblings else 0
    paths = [solara.resolve_path(r, level=0) for r in siblings]  # only during render

    def go(i):
        router.push(paths[i])

    with solara.AppLayout(title=TITLE) as main:
        with solara.AppBar(), solara.lab.Tabs(value=index, on_value=go, align="center"):
            for r in siblings:
                solara.lab.Tab(r.label)
        for child in children or []:
            solara.display(child)
    return main


routes = [
    solara.Route(path="/", component=ModelPage, label="Model", layout=Layout),
    solara.Route(path="compare", component=ComparePage, label="Compare strategies"),
]
