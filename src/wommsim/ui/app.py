"""The browser UI's pages (a Solara app): one model live, and two strategies compared.

``python -m wommsim.ui`` serves this module. ``/`` is the model page: Mesa's SolaraViz
with the network drawn by consumer state and the curves of adoption and awareness,
attribution, sentiment, followers and cost per adopter; the sidebar holds Step, Play and
Reset and the controls (built from the configuration schema, see :mod:`wommsim.ui.params`).
``/compare`` runs two strategies side by side on the same network and seed, stepping
together, with their curves on shared axes.

Each browser session builds its own models (inside the page components), so sessions do
not share state; networks and layouts are cached across sessions by (network, consumers,
seed), see :mod:`wommsim.ui.layout`.
"""

from __future__ import annotations

import html
import json
import os
import threading
import time
from typing import Any

import solara
import solara.lab
from mesa.visualization import SolaraViz
from mesa.visualization.solara_viz import UserInputs
from mesa.visualization.utils import update_counter

from wommsim.ui import draw, params
from wommsim.ui.models import UiModel, initial_kwargs

#: Environment variable with the start-up control values (JSON of model keywords), set by
#: ``python -m wommsim.ui KEY=VALUE ...``.
OVERRIDES_ENV = "WOMMSIM_UI_OVERRIDES"
TITLE = "wommsim: word of mouth vs advertising"
PLAY_INTERVAL_MS = 150
CSS = """
.wommsim-network { width: 100%; max-width: 640px; max-height: 640px; object-fit: contain;
                   display: block; margin: 0 auto; }
.wommsim-plot { width: 100%; }
.wommsim-note { font-size: 0.8em; color: #555; line-height: 1.35; }
"""


def startup_kwargs() -> dict[str, Any]:
    """The controls' defaults, with the values given on the command line."""
    raw = os.environ.get(OVERRIDES_ENV, "")
    return initial_kwargs(json.loads(raw) if raw else None)


# -- shared components ----------------------------------------------------------------------

@solara.component
def NetworkView(model: UiModel, tick: Any = None, title: str = "", colour: str = "inherit"):
    """The network coloured by consumer state, with its legend and what is running."""
    drawn = model.drawn
    view = solara.use_memo(lambda: draw.NetworkView(drawn), [drawn])
    image = solara.use_memo(lambda: view.render(model), [view, model, model.steps, tick])
    heading = f"{title} · week {model.steps}" if title else f"Week {model.steps}"
    with solara.Card(style={"width": "100%"}) as main:
        for warning in getattr(model, "ui_warnings", []):
            solara.Warning(warning, dense=True)
        solara.HTML(tag="div", classes=["wommsim-week"],
                    unsafe_innerHTML=f"<b style='color:{colour}'>{html.escape(heading)}</b>")
        solara.Image(image, classes=["wommsim-network"])
        solara.HTML(tag="div", unsafe_innerHTML=draw.legend_html(model))
        solara.Text(draw.running_note(model), classes=["wommsim-note", "wommsim-running"])
        note = draw.sample_note(drawn)
        if note:
            solara.Text(note, classes=["wommsim-note", "wommsim-sample-note"])
    return main


@solara.component
def PlotImage(view: draw.PlotView, series: list[draw.Series], dependencies: list):
    image = solara.use_memo(lambda: view.render(series), [view, *dependencies])
    return solara.Image(image, format="svg+xml", width="100%",
                        classes=["wommsim-plot", f"wommsim-plot-{view.kind}"])


@solara.component
def Dashboard(model: UiModel):
    """The model page's main area: the network and the five plots, redrawn every step."""
    update_counter.get()  # SolaraViz bumps it after Step, during Play and on Reset
    tick = update_counter.value
    views = solara.use_memo(lambda: {kind: draw.PlotView(kind) for kind in draw.PLOTS}, [])
    series = [draw.series_of(model)]
    deps = [model, model.steps, tick]
    top, *rest = draw.PLOTS
    with solara.Column(style={"width": "100%"}) as main:
        with solara.Columns([3, 2]):
            NetworkView(model, tick)
            with solara.Column():
                for kind in (top, rest[0]):
                    PlotImage(views[kind], series, deps)
        with solara.Columns([1, 1, 1]):
            for kind in rest[1:]:
                PlotImage(views[kind], series, deps)
    return main


# -- the model page -------------------------------------------------------------------------

@solara.component
def ModelPage():
    """One model, live: Mesa's SolaraViz (controls, Step, Play, Reset) and the dashboard.

    SolaraViz gets the model as a reactive value and no components: it draws the sidebar
    and replaces the model on Reset; :func:`Dashboard` draws the main area from the same
    reactive model, so its layout is not bound to Mesa's fixed-height grid cells.
    """
    start = solara.use_memo(startup_kwargs, [])
    model = solara.use_reactive(solara.use_memo(lambda: UiModel(**start), []))
    solara.Style(CSS)
    SolaraViz(
        model,
        components=[],
        model_params=params.model_params(start),
        name=TITLE,
        play_interval=PLAY_INTERVAL_MS,
    )
    Dashboard(model.value)


# -- the comparison page --------------------------------------------------------------------

def make_pair(settings: dict[str, Any]) -> tuple[UiModel, UiModel]:
    """Models A and B: the shared settings with each strategy, on one network."""
    shared = {k: v for k, v in settings.items() if k not in ("strategy_a", "strategy_b")}
    a = UiModel(**{**shared, "strategy": settings["strategy_a"]})
    b = UiModel(**{**shared, "strategy": settings["strategy_b"]}, graph=a.graph)
    return a, b


def compare_defaults(start: dict[str, Any]) -> dict[str, Any]:
    """Strategy A: ad-heavy; strategy B: the configured (default) strategy; shared rest."""
    settings = {k: v for k, v in start.items() if k != "strategy"}
    choices = params.control("strategy").choices
    first = "ad_heavy" if "ad_heavy" in choices else choices[0]
    second = start.get("strategy", choices[-1])
    if second == first:
        second = next(c for c in choices if c != first)
    return {"strategy_a": first, "strategy_b": second, **settings}


def compare_inputs(settings: dict[str, Any]) -> dict[str, Any]:
    """Mesa ``UserInputs`` specs: the two strategies, then the shared controls."""
    specs = params.model_params(settings)
    choices = list(params.control("strategy").choices)
    shared = {k: v for k, v in specs.items() if k != "strategy"}
    return {
        "strategy_a": {"type": "Select", "value": settings["strategy_a"], "values": choices,
                       "label": "Strategy A"},
        "strategy_b": {"type": "Select", "value": settings["strategy_b"], "values": choices,
                       "label": "Strategy B"},
        **shared,
    }


@solara.component
def ComparePage():
    """Two strategies on the same network and seed, stepping together."""
    start = solara.use_memo(lambda: compare_defaults(startup_kwargs()), [])
    pending = solara.use_reactive(start)  # the controls' values, applied by Reset
    models = solara.use_reactive(solara.use_memo(lambda: make_pair(start), []))
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    error = solara.use_reactive("")
    lock = solara.use_memo(threading.Lock, [])

    def step():
        with lock:
            a, b = models.value
            a.step()
            b.step()
        tick.value += 1

    def reset():
        playing.value = False
        try:
            new = make_pair(pending.value)
        except ValueError as err:  # a control out of range, e.g. the seed typed as text
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
            time.sleep(PLAY_INTERVAL_MS / 1000)
            if playing.value and not gone.is_set():
                step()

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)

    def on_change(name, value):
        pending.value = {**pending.value, name: value}

    a, b = models.value
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle("wommsim: compare two strategies")
    with solara.Sidebar(), solara.Column():
        with solara.Card("Controls"):
            with solara.Row(justify="space-between"):
                solara.Button("Reset", color="primary", on_click=reset)
                solara.Button("❚❚" if playing.value else "▶", color="primary",
                              on_click=lambda: playing.set(not playing.value))
                solara.Button("Step", color="primary", on_click=step, disabled=playing.value)
            if error.value:
                solara.Error(error.value)
        with solara.Card("Model Parameters"):
            UserInputs(compare_inputs(start), on_change=on_change)
        with solara.Card("Information"), solara.Column(gap="6px"):
            solara.Text(f"Time: {a.time}")
            solara.Text("Both models share the network, the consumers and the seed; "
                        "Reset applies changed controls.", classes=["wommsim-note"])
    with solara.Column(style={"width": "100%"}):
        with solara.Columns([1, 1]):
            for name, model, colour in (("A", a, draw.ARM_COLOURS[0]),
                                        ("B", b, draw.ARM_COLOURS[1])):
                NetworkView(model, tick.value, title=f"{name}: {model.config.strategy.name}",
                            colour=colour)
        ComparedPlots(a, b, tick.value)


@solara.component
def ComparedPlots(a: UiModel, b: UiModel, tick: int):
    """The five plots with both models on shared axes (A blue, B orange)."""
    views = solara.use_memo(lambda: {kind: draw.PlotView(kind) for kind in draw.PLOTS}, [])
    series = [draw.series_of(a, "A", draw.ARM_COLOURS[0]),
              draw.series_of(b, "B", draw.ARM_COLOURS[1])]
    deps = [a, b, a.steps, b.steps, tick]
    kinds = list(draw.PLOTS)
    with solara.Column(style={"width": "100%"}) as main:
        for row in (kinds[:2], kinds[2:4], kinds[4:]):
            with solara.Columns([1] * 2):
                for kind in row:
                    PlotImage(views[kind], series, deps)
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
