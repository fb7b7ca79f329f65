"""The UI's pages built without a browser (``solara.render``): controls, Step, Reset."""

from __future__ import annotations

import html
import json

import ipyvuetify as v
import ipywidgets as widgets
import pytest
import solara
import solara.widgets

from wommsim.ui import app, layout, params

CONSUMERS = 300


@pytest.fixture(autouse=True)
def small_market(monkeypatch):
    monkeypatch.setenv(app.OVERRIDES_ENV, json.dumps({"consumers": CONSUMERS}))
    app.settings.set(None)  # each test a new session (the page's state is per session)
    yield
    app.settings.set(None)


def render(page):
    # the sidebar (Step, Reset, the settings) exists only inside an AppLayout
    _, rc = solara.render(solara.AppLayout(children=[page]), handle_error=False)
    return rc


def shows(rc, text: str) -> bool:
    """Whether some element's whole text is ``text`` (e.g. the sidebar's "Time: 3.0")."""
    return bool(rc.find(v.Html, children=[text]).widgets)


def html_snippets(rc) -> list[str]:
    return [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets]


def html_of(rc, css_class: str) -> list[solara.widgets.HTML]:
    """The HTML elements with this CSS class, in page order."""
    return [w for w in rc.find(solara.widgets.HTML).widgets
            if css_class in (w.attributes or {}).get("class", "").split()]


def notes(rc, kind: str) -> list[str]:
    """The texts of the notes of one kind (``running``, ``sample-note``), in page order."""
    return [html.unescape(w.unsafe_innerHTML) for w in html_of(rc, f"wommsim-{kind}")]


def running(rc) -> str:
    """The model page's line saying which settings the model on screen runs with."""
    (line,) = notes(rc, "running")
    return line


def slider(rc, keyword: str) -> v.Slider:
    return rc.find(v.Slider, class_=f"wommsim-slider-{keyword}").widget


def slider_label(rc, keyword: str) -> str:
    """The text above a slider: its label and its value with unit."""
    (label,) = html_of(rc, f"wommsim-label-{keyword}")
    return html.unescape(label.unsafe_innerHTML)


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
            widget = slider(rc, c.keyword)
            expected = CONSUMERS if c.key == "consumers" else c.value
            assert (widget.min, widget.max, widget.v_model) == (c.lo, c.hi, expected), c.key
            label = slider_label(rc, c.keyword)
            assert c.label in label and params.value_text(c, expected) in label, c.key
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
    slider(rc, "consumers").v_model = 400
    slider(rc, "consumer__ad_blind_fraction").v_model = 0.5
    assert "conversation_led" in running(rc)  # not applied before Reset
    click(rc, "Reset")
    assert shows(rc, "Time: 0.0")
    line = running(rc)
    assert "ad_heavy" in line and "400 consumers" in line and "never click 50%" in line
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
    a, b = app.make_pair(app.initial_settings())
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


def test_every_slider_shows_its_value_and_unit_as_it_moves():
    rc = render(app.ModelPage())
    for keyword, value, shown in [("consumer__ad_blind_fraction", 0.5, "50%"),
                                  ("consumers", 400, "400 consumers"),
                                  ("brand__budget_per_consumer", 0.25,
                                   "0.25 per consumer per week"),
                                  ("brand__quality", -0.25, "-0.25 quality"),
                                  ("wom__talk_prob", 0.05, "5.0% per neighbour per week"),
                                  ("wom__negativity_bias", 3.0, "×3.0"),
                                  ("play-pause", 300, "300 ms")]:
        assert shown not in slider_label(rc, keyword)
        slider(rc, keyword).v_model = value
        assert f"<b class='wommsim-setting-value'>{shown}</b>" in slider_label(rc, keyword)
    for c in params.controls():  # each label's tooltip says what the setting is
        if c.kind in ("int", "float"):
            (label,) = html_of(rc, f"wommsim-label-{c.keyword}")
            assert label.attributes["title"] == c.doc and c.doc, c.key


def test_the_two_pages_share_one_set_of_settings():
    model_page = render(app.ModelPage())
    slider(model_page, "consumer__ad_blind_fraction").v_model = 0.5  # not applied: no Reset
    assert "never click 96%" in running(model_page)

    compare = render(app.ComparePage())  # opens with the settings made on the model page
    assert slider(compare, "consumer__ad_blind_fraction").v_model == 0.5
    assert all("never click 50%" in line for line in notes(compare, "running"))
    note = compare.find(v.Html, class_="wommsim-note wommsim-settings-note").widget.children[0]
    assert "same settings" in note and "Model page" in note
    slider(compare, "consumers").v_model = 400
    compare.find(v.Select, label="Strategy B").widget.v_model = "none"
    click(compare, "Reset")
    assert all("400 consumers" in line for line in notes(compare, "running"))

    assert slider(model_page, "consumers").v_model == 400  # the open page shows it too
    assert model_page.find(v.Select, label="Strategy").widget.v_model == "conversation_led"
    click(model_page, "Reset")
    line = running(model_page)
    assert "400 consumers" in line and "never click 50%" in line and "conversation_led" in line


def test_running_and_sample_notes_are_separate_paragraphs(monkeypatch):
    monkeypatch.setattr(layout, "MAX_DRAWN", 100)
    layout.clear_caches()
    try:
        rc = render(app.ModelPage())
        (run_line,) = html_of(rc, "wommsim-running")
        (sample,) = html_of(rc, "wommsim-sample-note")
    finally:
        layout.clear_caches()
    assert run_line.tag == sample.tag == "p"  # blocks: never one run-on line
    assert run_line.unsafe_innerHTML.endswith("seed 42.")
    assert sample.unsafe_innerHTML.startswith("Drawing a sample of 100 of 300 consumers")


def test_the_sidebar_explains_its_controls_and_has_no_unused_ones():
    rc = render(app.ModelPage())
    texts = [str(w.children) for w in rc.find(v.Html).widgets] + [
        w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets] + [
        str(w.label) for w in rc.find(v.Checkbox).widgets]
    for mesa_only in ("Render Interval", "Use Threads", "Play Interval"):
        assert not any(mesa_only in t for t in texts), mesa_only
    help_text = rc.find(v.Html, class_="wommsim-note wommsim-controls-help").widget.children[0]
    assert all(word in help_text for word in ("Step", "Play", "Reset"))
    (pause,) = html_of(rc, "wommsim-label-play-pause")
    assert "Play waits" in pause.attributes["title"]


@pytest.mark.parametrize("page,build", [(app.ModelPage, "make_model"),
                                        (app.ComparePage, "make_pair")])
def test_step_and_play_stop_at_the_horizon(page, build, monkeypatch):
    horizon = params.default_config().steps
    made = getattr(app, build)

    def one_week_left(values):  # the models a page builds, run to a week before the end
        models = made(values)
        for model in models:
            for _ in range(horizon - 1):
                model.step()
        return models

    monkeypatch.setattr(app, build, one_week_left)
    rc = render(page())
    assert shows(rc, f"Time: {horizon - 1}.0")
    click(rc, "Step")
    assert shows(rc, f"Time: {horizon}.0")
    assert rc.find(v.Btn, children=["Step"]).widget.disabled
    assert rc.find(v.Btn, children=["▶"]).widget.disabled
    click(rc, "Reset")
    assert shows(rc, f"Time: {horizon - 1}.0")
    assert not rc.find(v.Btn, children=["Step"]).widget.disabled


def select(rc, label: str, value: str) -> None:
    rc.find(v.Select, label=label).widget.v_model = value


def plots(rc) -> list[widgets.Image]:
    return [i for i in rc.find(widgets.Image).widgets if i.format == "svg+xml"]


def test_a_duel_on_the_model_page_has_each_brands_settings_and_plots():
    rc = render(app.ModelPage())
    assert not rc.find(v.Select, label="Brand a: strategy").widgets  # a monopoly: none
    select(rc, "Market", "duel")
    # each brand's strategy, budget and quality in place of the run's
    assert not rc.find(v.Select, label="Strategy").widgets
    assert rc.find(v.Select, label="Brand a: strategy").widget.v_model == "ad_heavy"
    assert rc.find(v.Select, label="Brand b: strategy").widget.v_model == "conversation_led"
    for gone in ("brand__budget_per_consumer", "brand__quality"):
        assert not rc.find(v.Slider, class_=f"wommsim-slider-{gone}").widgets
    select(rc, "Brand b: strategy", "none")
    slider(rc, "market__brands__a__budget_per_consumer").v_model = 0.25
    assert "0.25 per consumer per week" in slider_label(
        rc, "market__brands__a__budget_per_consumer")
    assert len(plots(rc)) == 5  # not applied before Reset
    click(rc, "Reset")
    line = running(rc)
    assert ("duel: a: ad_heavy (budget 0.25 per consumer per week (75 a week for 300 "
            "consumers)" in line and "b: none (budget 0.1 per consumer per week (30 a week"
            in line)
    assert any("a: ad_heavy</span> vs" in s and "week 0" in s for s in html_snippets(rc))
    legend = " ".join(html_snippets(rc))
    assert "customer of a: ad_heavy" in legend and "customer of b: none" in legend
    before = [bytes(i.value) for i in plots(rc)]
    assert len(before) == 8  # share, customers, customers lost, then the market's five
    for title in ("Share of the week's purchases", "Customers of each brand",
                  "Customers lost (cumulative)", "Adoption and awareness · all brands"):
        assert sum(f">{title}<".encode() in image for image in before) == 1, title
    for expected in ("Time: 1.0", "Time: 2.0"):
        click(rc, "Step")
        assert shows(rc, expected)
    after = [bytes(i.value) for i in plots(rc)]
    assert all(a != b for a, b in zip(before, after, strict=True))
    select(rc, "Market", "monopoly")  # back to one brand: the run's strategy again
    click(rc, "Reset")
    assert running(rc).startswith("Running: conversation_led;") and len(plots(rc)) == 5


def test_the_repeat_category_lengthens_the_horizon_and_adds_customer_plots():
    rc = render(app.ModelPage())
    assert "52 weeks" in slider_label(rc, "steps")
    select(rc, "Category", "repeat")
    assert slider(rc, "steps").v_model == app.REPEAT_HORIZON
    assert f"{app.REPEAT_HORIZON} weeks" in slider_label(rc, "steps")
    click(rc, "Reset")
    assert "repeat category, 156 weeks" in running(rc)
    assert len(plots(rc)) == 7  # the brand's customers and customers lost, then five
    slider(rc, "steps").v_model = 60  # a shorter horizon stays once chosen
    click(rc, "Reset")
    assert "repeat category, 60 weeks" in running(rc)


def test_the_comparison_page_shows_a_duel():
    rc = render(app.ComparePage())
    assert rc.find(v.Select, label="Compare").widget.v_model == app.TWO_MARKETS
    assert not rc.find(v.Select, label="Market").widgets  # the comparison makes its own
    select(rc, "Compare", app.DUEL)
    select(rc, "Strategy B", "balanced")
    click(rc, "Reset")
    assert shows(rc, "Time: 0.0")
    images = rc.find(widgets.Image).widgets
    assert sorted(i.format for i in images) == ["png"] + ["svg+xml"] * 8  # one market
    heading = next(s for s in html_snippets(rc) if "week 0" in s)
    assert heading.startswith("<b>Duel · ") and "a: ad_heavy" in heading
    assert "b: balanced" in heading
    (line,) = notes(rc, "running")
    assert "duel: a: ad_heavy" in line and "vs b: balanced" in line
    for expected in ("Time: 1.0", "Time: 2.0"):
        click(rc, "Step")
        assert shows(rc, expected)
    select(rc, "Compare", app.TWO_MARKETS)
    click(rc, "Reset")
    assert sorted(i.format for i in rc.find(widgets.Image).widgets) == (
        ["png"] * 2 + ["svg+xml"] * 5)
    assert any("B: balanced · week 0" in s for s in html_snippets(rc))


def test_two_markets_of_a_repeat_category_compare_their_customers():
    rc = render(app.ComparePage())
    select(rc, "Category", "repeat")
    click(rc, "Reset")
    click(rc, "Step")
    assert shows(rc, "Time: 1.0")
    images = plots(rc)
    assert len(images) == 7  # each brand's customers and customers lost, then five
    (customers,) = [svg for svg in map(bytes, (i.value for i in images))
                    if b">Customers of each brand<" in svg]
    assert b">A<" in customers and b">B<" in customers  # one line per market, A and B
    assert all("repeat category, 156 weeks" in line for line in notes(rc, "running"))
