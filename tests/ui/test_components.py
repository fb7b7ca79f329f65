"""The UI's pages built without a browser (``solara.render``): controls, Step, Reset."""

from __future__ import annotations

import json

import ipyvuetify as v
import ipywidgets as widgets
import pytest
import solara
import solara.widgets

from wommsim.ui import app, params

CONSUMERS = 300


@pytest.fixture(autouse=True)
def small_market(monkeypatch):
    monkeypatch.setenv(app.OVERRIDES_ENV, json.dumps({"consumers": CONSUMERS}))


def render(page):
    # SolaraViz's sidebar (Step, Reset, the controls) exists only inside an AppLayout
    _, rc = solara.render(solara.AppLayout(children=[page]), handle_error=False)
    return rc


def shows(rc, text: str) -> bool:
    """Whether some element's whole text is ``text`` (e.g. SolaraViz's "Time: 3.0")."""
    return bool(rc.find(v.Html, children=[text]).widgets)


def html_snippets(rc) -> list[str]:
    return [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets]


def running(rc) -> str:
    """The model page's line saying which settings the model on screen runs with."""
    return rc.find(v.Html, class_="wommsim-note wommsim-running").widget.children[0]


def click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def test_model_page_builds_with_every_control():
    rc = render(app.ModelPage())
    assert shows(rc, "Time: 0.0")
    for label in ("Step", "Reset"):
        rc.find(v.Btn, children=[label]).assert_single()
    for c in params.controls():
        if c.kind == "choice":
            select = rc.find(v.Select, label=c.label).widget
            assert select.v_model == c.value and select.items == list(c.choices)
        elif c.kind == "text":
            assert rc.find(v.TextField, label=c.label).widget.v_model == str(c.value)
        else:
            slider = rc.find(v.Slider, label=c.label).widget
            expected = CONSUMERS if c.key == "consumers" else c.value
            assert (slider.min, slider.max, slider.v_model) == (c.lo, c.hi, expected), c.key
    images = rc.find(widgets.Image).widgets
    pngs = [i for i in images if i.format == "png"]
    svgs = [i for i in images if i.format == "svg+xml"]
    assert len(pngs) == 1 and bytes(pngs[0].value).startswith(b"\x89PNG")  # the network
    assert len(svgs) == 5 and all(b"<svg" in bytes(i.value[:1000]) for i in svgs)  # the plots
    assert any("Week 0" in snippet for snippet in html_snippets(rc))


def test_step_advances_the_step_count_and_redraws():
    rc = render(app.ModelPage())
    before = [bytes(w.value) for w in rc.find(widgets.Image).widgets]
    for expected in ("Time: 1.0", "Time: 2.0", "Time: 3.0"):
        click(rc, "Step")
        assert shows(rc, expected)
    after = [bytes(w.value) for w in rc.find(widgets.Image).widgets]
    assert all(a != b for a, b in zip(before, after, strict=True))
    assert any("Week 3" in snippet for snippet in html_snippets(rc))


def test_changed_controls_apply_on_reset():
    rc = render(app.ModelPage())
    click(rc, "Step")
    rc.find(v.Select, label="Strategy").widget.v_model = "ad_heavy"
    rc.find(v.Slider, label="Consumers").widget.v_model = 400
    rc.find(v.Slider, label="Ad-blind share").widget.v_model = 0.5
    assert "conversation_led" in running(rc)  # not applied before Reset
    click(rc, "Reset")
    assert shows(rc, "Time: 0.0")
    line = running(rc)
    assert "ad_heavy" in line and "400 consumers" in line and "ad-blind 50%" in line
    click(rc, "Step")
    assert shows(rc, "Time: 1.0")


def test_comparison_page_steps_both_models_on_one_network():
    rc = render(app.ComparePage())
    assert shows(rc, "Time: 0.0")
    assert rc.find(v.Select, label="Strategy A").widget.v_model == "ad_heavy"
    assert rc.find(v.Select, label="Strategy B").widget.v_model == "conversation_led"
    for _ in range(2):
        click(rc, "Step")
    assert shows(rc, "Time: 2.0")
    headings = [s for s in html_snippets(rc) if "week" in s]
    assert any("A: ad_heavy · week 2" in s for s in headings)
    assert any("B: conversation_led · week 2" in s for s in headings)
    images = rc.find(widgets.Image).widgets
    assert sorted(i.format for i in images) == ["png"] * 2 + ["svg+xml"] * 5
    rc.find(v.Select, label="Strategy B").widget.v_model = "none"
    click(rc, "Reset")
    assert shows(rc, "Time: 0.0")
    assert any("B: none · week 0" in s for s in html_snippets(rc))


def test_comparison_pair_shares_network_and_consumers():
    a, b = app.make_pair(app.compare_defaults(app.startup_kwargs()))
    assert a.graph is b.graph and a.drawn is b.drawn
    assert (a.state.threshold == b.state.threshold).all()  # same consumers: paired
    assert a.config.strategy.name != b.config.strategy.name


@pytest.mark.parametrize("page", [app.ModelPage, app.ComparePage])
def test_a_mistyped_seed_is_explained_not_fatal(page):
    rc = render(page())
    seed = rc.find(v.TextField, label="Seed").widget
    seed.v_model = "4x2"
    seed.fire_event("keyup.enter", None)  # text fields report their value on Enter or blur
    click(rc, "Reset")
    alerts = [str(w.children) for w in rc.find(v.Alert).widgets]
    assert alerts and all("seed='4x2'" in a and "using 42" in a for a in alerts)
    click(rc, "Step")
    assert shows(rc, "Time: 1.0")
