"""The UI's pieces without a page: controls, layouts, drawings, assets, the command line."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest

from wommsim.compose import compose
from wommsim.config import brands_of, iter_params
from wommsim.mechanisms import INFLUENCE_LABELS, INFLUENCES
from wommsim.model import WommModel
from wommsim.ui import app, assets, draw, layout, params
from wommsim.ui.__main__ import DEFAULT_HOST, DEFAULT_PORT, parse_args
from wommsim.ui.models import UiModel, ui_config

# -- controls -----------------------------------------------------------------------------


def test_controls_take_defaults_and_ranges_from_the_config():
    cfg = compose([])
    schema = {key: (f, value) for key, f, value in iter_params(cfg)}
    for c in params.controls():
        if c.kind == "choice":
            assert c.value in c.choices
            continue
        f, default = schema[c.key]
        assert c.value == default, c.key  # the CLI's default
        lo, hi = f.metadata["lo"], f.metadata["hi"]
        assert lo <= c.lo <= c.value <= c.hi <= hi, c.key  # within the schema's range
    assert params.control("strategy").value == cfg.strategy.name
    assert params.control("network").value == cfg.network.kind
    assert "edgelist" not in params.control("network").choices  # needs a file


def test_every_control_is_a_model_keyword():
    values = params.defaults()
    model = UiModel(**{**values, "consumers": 200})
    for c in params.controls():
        if c.kind in ("int", "float", "text") and c.key != "consumers":
            section, _, key = c.key.rpartition(".")
            obj = getattr(model.config, section) if section else model.config
            assert getattr(obj, key) == c.value, c.key


def test_command_line_overrides_are_typed_and_checked():
    assert params.parse_overrides(["consumers=500", "strategy=ad_heavy", "seed=7",
                                   "consumer.ad_blind_fraction=0.5"]) == {
        "consumers": 500, "strategy": "ad_heavy", "seed": 7, "consumer__ad_blind_fraction": 0.5}
    for bad, fragment in [("consumers=5", "between 100"), ("strategy=nope", "one of"),
                          ("consumers", "KEY=VALUE"), ("replicates=3", "KEY=VALUE"),
                          ("steps=3", "between 10"), ("market=nope", "one of"),
                          ("market.brands.a.strategy=nope", "one of"),
                          ("market.brands.c.strategy=none", "KEY=VALUE"),
                          ("seed=x", "whole number")]:
        with pytest.raises(ValueError, match=fragment):
            params.parse_overrides([bad])


def test_ui_model_matches_the_plain_model():
    kwargs = {"consumers": 300, "strategy": "ad_heavy", "seed": 5}
    ui, plain = UiModel(**kwargs), WommModel(**kwargs)
    assert ui.config == plain.config
    for _ in range(5):
        ui.step()
        plain.step()
    assert ui.timeseries().equals(plain.timeseries())


def duel_settings(**changes) -> dict:
    """The UI's settings for a duel, changed as a user changes them on the page."""
    app.settings.set(None)
    try:
        for name, value in {"consumers": 300, "market": "duel", **changes}.items():
            app.change_setting(name, value)
        return app.current_settings()
    finally:
        app.settings.set(None)


def test_a_duel_built_by_the_ui_is_the_command_lines():
    values = duel_settings(market__category="repeat",
                           market__brands__a__budget_per_consumer=0.2,
                           market__brands__b__quality=0.1)
    assert values["steps"] == app.REPEAT_HORIZON  # the repeat category lengthened it
    (ui,) = app.make_model(values)
    cli = compose(["market=duel", "market.category=repeat", "steps=156", "consumers=300",
                   "market.brands.a.strategy=ad_heavy",
                   "market.brands.b.strategy=conversation_led",
                   "market.brands.a.budget_per_consumer=0.2",
                   "market.brands.b.budget_per_consumer=0.1",
                   "market.brands.a.quality=0.3", "market.brands.b.quality=0.1"])
    assert ui.config == cli and not ui.ui_warnings
    assert [(b.name, b.config.strategy.name, b.config.brand.budget_per_consumer,
             b.config.brand.quality)
            for b in ui.brands] == [("a", "ad_heavy", 0.2, 0.3),
                                    ("b", "conversation_led", 0.1, 0.1)]
    plain = WommModel(cli)
    for _ in range(30):  # past a few purchase occasions: repeat purchase, switching, churn
        ui.step()
        plain.step()
    table = ui.brand_timeseries()
    pd.testing.assert_frame_equal(table, plain.brand_timeseries())
    pd.testing.assert_frame_equal(ui.timeseries(), plain.timeseries())
    assert table["repeat_purchases"].sum() > 0 and table["churned"].sum() > 0


def test_the_comparisons_duel_is_the_command_lines():
    values = {**duel_settings(), "compare": app.DUEL, "strategy_a": "incentive_push",
              "strategy_b": "balanced"}
    (ui,) = app.make_comparison(values)
    cli = compose(["market=duel", "consumers=300", "market.brands.a.strategy=incentive_push",
                   "market.brands.b.strategy=balanced"])
    assert ui.config == cli
    plain = WommModel(cli)
    for _ in range(5):
        ui.step()
        plain.step()
    pd.testing.assert_frame_equal(ui.brand_timeseries(), plain.brand_timeseries())
    a, b = app.make_comparison({**values, "compare": app.TWO_MARKETS})  # two monopolies
    assert [len(m.brands) for m in (a, b)] == [1, 1]
    assert (a.config.strategy.name, b.config.strategy.name) == ("incentive_push", "balanced")


def test_another_markets_brand_settings_are_not_passed():
    warnings: list[str] = []
    cfg = ui_config(warnings, consumers=300, market__brands__a__strategy="ad_heavy")
    assert [b.name for b in brands_of(cfg)] == ["brand"]  # no brand "a" added to a monopoly
    assert "not a brand of market monopoly" in warnings[0]
    with pytest.raises(ValueError, match="not a brand"):
        ui_config(consumers=300, market__brands__a__strategy="ad_heavy")


def test_ui_model_reuses_the_network_of_the_same_key():
    a = UiModel(consumers=300, seed=3)
    b = UiModel(consumers=300, seed=3, strategy="none")
    c = UiModel(consumers=300, seed=4)
    assert a.graph is b.graph and a.graph is not c.graph
    assert a.drawn is b.drawn


def test_refused_values_fall_back_with_a_warning():
    warnings: list[str] = []
    cfg = ui_config(warnings, consumers=300, seed="abc")
    assert cfg.seed == params.control("seed").value and "seed='abc'" in warnings[0]
    with pytest.raises(ValueError):
        ui_config(consumers=300, seed="abc")


# -- layouts ------------------------------------------------------------------------------


def test_layout_is_seeded_cached_and_in_the_unit_square():
    a = UiModel(consumers=400, seed=11)
    first = a.drawn
    assert UiModel(consumers=400, seed=11).drawn is first  # cached per key
    layout.clear_caches()
    again = UiModel(consumers=400, seed=11).drawn
    assert again is not first and np.array_equal(again.pos, first.pos)  # seeded
    other = UiModel(consumers=400, seed=12).drawn
    assert not np.array_equal(other.pos, first.pos)
    assert first.pos.shape == (400, 2)
    assert first.pos.min() >= 0 and first.pos.max() <= 1
    assert not first.sampled and first.segments.shape[0] == a.graph.n_edges


def test_large_populations_draw_a_sample():
    model = UiModel(consumers=3000, seed=1)
    drawn = model.drawn
    assert drawn.sampled and drawn.nodes.size == layout.MAX_DRAWN and drawn.n_total == 3000
    assert np.all(np.diff(drawn.nodes) > 0)
    note = draw.sample_note(drawn)
    assert "2,000 of 3,000" in note and "cover all consumers" in note
    assert draw.sample_note(UiModel(consumers=300).drawn) == ""


def test_edges_are_capped(monkeypatch):
    monkeypatch.setattr(layout, "MAX_EDGES", 100)
    layout.clear_caches()
    try:
        drawn = UiModel(consumers=200, seed=2).drawn
        assert drawn.segments.shape[0] == 100 and drawn.edges_total > 100
        assert "100 of" in draw.sample_note(drawn)
    finally:
        layout.clear_caches()


# -- drawings -----------------------------------------------------------------------------


def test_states_and_legend_agree_with_the_metrics():
    model = UiModel(consumers=500, seed=9)
    for _ in range(12):
        model.step()
    codes = draw.consumer_states(model)
    assert np.count_nonzero(codes == draw.ADVOCATE) == model.metrics["advocates"]
    assert np.count_nonzero(codes == draw.DETRACTOR) == model.metrics["detractors"]
    assert np.count_nonzero(codes >= draw.ADVOCATE) == round(
        model.metrics["adopted_fraction"] * model.n)
    assert np.count_nonzero(codes == draw.UNAWARE) == round(
        (1 - model.metrics["aware_fraction"]) * model.n)
    legend = draw.legend_html(model)
    for name, _ in draw.STATES:
        assert name in legend
    view = draw.NetworkView(model.drawn)
    png = view.render(model)
    assert png.startswith(b"\x89PNG") and png != draw.NetworkView(model.drawn).render(
        UiModel(consumers=500, seed=9))


def duel(steps: int = 12, **kwargs) -> UiModel:
    model = UiModel(consumers=500, seed=9, market="duel", market__category="repeat",
                    market__brands__a__strategy="ad_heavy", **kwargs)
    for _ in range(steps):
        model.step()
    return model


def test_a_market_of_several_brands_is_drawn_by_current_brand():
    model = duel()
    view = draw.colouring(model)
    s = model.state
    customer = s.current_brand >= 0
    assert np.array_equal(view.codes[customer], 2 + s.current_brand[customer])
    assert np.array_equal(view.codes[~customer], s.aware.any(axis=0)[~customer])
    assert [name for name, _ in view.states] == [
        "unaware of every brand", "aware, no brand's customer",
        "customer of a: ad_heavy", "customer of b: conversation_led"]
    assert [c for _, c in view.states[2:]] == list(draw.ARM_COLOURS)  # A's and B's colours
    assert np.array_equal(view.follower, s.follower.any(axis=0))
    rows = model.brand_timeseries().query(f"step == {model.steps}").set_index("brand")
    legend = html.unescape(draw.legend_html(model))
    for b in ("a", "b"):
        name = f"customer of {b}: {'ad_heavy' if b == 'a' else 'conversation_led'}"
        share = rows.loc[b, "customers"] / model.n
        assert f"{name}\xa0<b>{share:.1%}</b>" in legend
        assert np.count_nonzero(view.codes == 2 + "ab".index(b)) == rows.loc[b, "customers"]
    png = draw.NetworkView(model.drawn).render(model)
    assert png.startswith(b"\x89PNG")


def test_the_brand_plots_draw_each_brands_rows():
    model = duel()
    table = model.brand_timeseries()
    series = draw.brand_series(model)
    assert [one.name for one in series] == ["a: ad_heavy", "b: conversation_led"]
    for kind, column, per in [("share", "share", 1.0),
                              ("customers", "customers", model.n),  # a share of consumers
                              ("churn", "churned", None)]:
        view = draw.PlotView(kind, brands=2)
        svg = view.render(series)
        assert draw.BRAND_PLOTS[kind][0].encode() in svg
        lines = {line.get_label(): line for line in view.ax.get_lines()}
        assert list(lines) == ["a: ad_heavy", "b: conversation_led"]
        for b, label in zip("ab", lines, strict=True):
            mine = table[table["brand"] == b][column].to_numpy(dtype=float)
            expected = mine.cumsum() if per is None else mine / per
            np.testing.assert_array_equal(lines[label].get_ydata(), expected)
            assert lines[label].get_color() == draw.brand_colour("ab".index(b))
    market = draw.PlotView("followers", brands=2)  # the market's plots: all brands' totals
    assert "Followers of the brand · all brands".encode() in market.render([draw.series_of(model)])


def test_the_plots_follow_the_market():
    assert draw.plot_kinds(UiModel(consumers=300)) == tuple(draw.PLOTS)
    assert draw.plot_kinds(UiModel(consumers=300, market__category="repeat")) == (
        "customers", "churn", *draw.PLOTS)  # one brand: its share is always 100%
    assert draw.plot_kinds(duel(0)) == (*draw.BRAND_PLOTS, *draw.PLOTS)
    line = draw.running_note(duel(0))
    assert ("duel: a: ad_heavy (budget 0.1 per consumer per week (50 a week for 500 "
            "consumers), quality +0.30) vs b: conversation_led" in line
            and "repeat category, 52 weeks" in line)


@pytest.mark.parametrize("kind", list(draw.PLOTS))
def test_plots_draw_one_or_two_models(kind):
    a, b = UiModel(consumers=300, strategy="ad_heavy"), UiModel(consumers=300)
    for _ in range(4):
        a.step()
        b.step()
    view = draw.PlotView(kind)
    one = view.render([draw.series_of(a)])
    assert one.startswith(b"<?xml") and draw.PLOTS[kind][0].encode() in one
    two = view.render([draw.series_of(a, "A", draw.ARM_COLOURS[0]),
                       draw.series_of(b, "B", draw.ARM_COLOURS[1])])
    assert b"A: " in two and b"B: " in two


def test_attribution_shows_each_influence_on_its_own():
    a, b = UiModel(consumers=300, strategy="ad_heavy"), UiModel(consumers=300)
    for _ in range(6):
        a.step()
        b.step()
    view = draw.PlotView("attribution")
    svg = view.render([draw.series_of(b)])
    frame = b.timeseries()
    lines = {line.get_label(): line for line in view.ax.get_lines()}
    assert list(lines) == [INFLUENCE_LABELS[name] for name in INFLUENCES]  # the schedule's
    assert len(set(draw.INFLUENCE_COLOURS.values())) == len(INFLUENCES)
    for name in INFLUENCES:
        line = lines[INFLUENCE_LABELS[name]]
        assert np.array_equal(line.get_ydata(), frame[f"new_adopters_{name}"].cumsum())
        assert line.get_color() == draw.INFLUENCE_COLOURS[name]
        assert f">{INFLUENCE_LABELS[name]}<".encode() in svg  # in the legend
    assert b"other levers" not in svg
    # two models: colour is the influence, style the model; each named once in the legend
    two = view.render([draw.series_of(a, "A", draw.ARM_COLOURS[0]),
                       draw.series_of(b, "B", draw.ARM_COLOURS[1])])
    legend = [t.get_text() for t in view.ax.get_legend().texts]
    assert legend == [*(INFLUENCE_LABELS[n] for n in INFLUENCES), "A: solid line",
                      "B: dashed line"]
    styles = {line.get_label(): (line.get_color(), line.get_linestyle())
              for line in view.ax.get_lines()}
    wom = INFLUENCE_LABELS["wom"]
    assert styles[f"A: {wom}"] == (draw.INFLUENCE_COLOURS["wom"], "-")
    assert styles[f"B: {wom}"] == (draw.INFLUENCE_COLOURS["wom"], "--")
    assert b"A: solid line" in two


# -- assets -------------------------------------------------------------------------------


def test_the_server_hides_solaras_badge():
    # the badge ("This website runs on Solara") sat on the last plot's axis label
    code = ("from pathlib import Path; from wommsim.ui import assets; "
            "assets.configure_server(Path('.')); import solara.server.settings as s; "
            "print(s.theme.show_banner)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOLARA_")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env=env, check=True)
    assert result.stdout.strip() == "False"


def test_required_assets_follow_the_installed_solara():
    packages = {p.name: p.version for p in assets.required_packages()}
    assert set(packages) == set(assets.FALLBACK_VERSIONS)
    template = (assets._solara_files()[0]).read_text()
    assert f"@widgetti/solara-vuetify-app@{packages['@widgetti/solara-vuetify-app']}/" in template
    assert f"requirejs@{packages['requirejs']}/" in template


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def registry():
    """A fake npm registry on 127.0.0.1 serving one package, ``demo@1.0.0``."""
    tarball = _tarball({"package/dist/app.js": b"console.log(1)",
                        "package/dist/app.js.map": b"{}",
                        "package/../escape.txt": b"no"})
    state = {"integrity": "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            host = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/demo/1.0.0":
                body = json.dumps({"dist": {"tarball": f"{host}/demo/-/demo-1.0.0.tgz",
                                            "integrity": state["integrity"]}}).encode()
            elif self.path == "/demo/-/demo-1.0.0.tgz":
                body = tarball
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", state
    finally:
        server.shutdown()
        server.server_close()


def test_assets_are_fetched_checked_and_unpacked(registry, tmp_path):
    url, _ = registry
    package = assets.Package("demo", "1.0.0")
    folder = assets.fetch_package(package, tmp_path, url)
    assert folder == tmp_path / "demo@1.0.0"
    assert (folder / "dist" / "app.js").read_bytes() == b"console.log(1)"
    assert not (folder / "dist" / "app.js.map").exists()  # source maps are skipped
    assert not (tmp_path / "escape.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["demo@1.0.0"]  # no partial folder left


def test_a_tampered_tarball_is_refused(registry, tmp_path):
    url, state = registry
    state["integrity"] = "sha512-" + base64.b64encode(b"0" * 64).decode()
    with pytest.raises(assets.AssetError, match="checksum"):
        assets.fetch_package(assets.Package("demo", "1.0.0"), tmp_path, url)
    assert not (tmp_path / "demo@1.0.0").exists()


def test_an_unreachable_registry_says_what_to_do(tmp_path, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", f"http://127.0.0.1:{port}")
    monkeypatch.setenv(assets.CACHE_ENV, str(tmp_path / "cache"))
    with pytest.raises(assets.AssetError) as err:
        assets.ensure_assets(quiet=True)
    message = str(err.value)
    assert "npm registry" in message and "--fetch-assets" in message
    assert assets.CACHE_ENV in message


def test_the_cache_folder_can_be_chosen(tmp_path, monkeypatch):
    monkeypatch.setenv(assets.CACHE_ENV, str(tmp_path))
    assert assets.cache_dir() == tmp_path.resolve()
    for package in assets.required_packages():
        (tmp_path / package.folder).mkdir(parents=True)
    assert assets.missing() == []
    assert assets.ensure_assets(quiet=True) == tmp_path.resolve()  # nothing to fetch


# -- command line -------------------------------------------------------------------------


def test_the_server_listens_on_localhost_by_default():
    args = parse_args([])
    assert (args.host, args.port, DEFAULT_HOST, DEFAULT_PORT) == (
        "127.0.0.1", 8765, "127.0.0.1", 8765)
    args = parse_args(["--host", "0.0.0.0", "--port", "9000", "consumers=500"])
    assert (args.host, args.port, args.overrides) == ("0.0.0.0", 9000, ["consumers=500"])
