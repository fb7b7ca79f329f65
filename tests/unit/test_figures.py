"""Publication figures: vector output and resolution that do not change results, intervals
on every mean curve, labels for people, no title under a legend, small multiples for many
arms, and grid points joined only where a line means something."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from matplotlib import image
from matplotlib.collections import PolyCollection
from matplotlib.container import ErrorbarContainer

from tests.unit.test_plots_report import _run
from wommsim.compose import compose
from wommsim.config import FiguresConfig
from wommsim.reporting import plots
from wommsim.reporting.figures import MAX_LINES, joined
from wommsim.runs.results import config_hash
from wommsim.runs.runner import run
from wommsim.sweeps import plots as sweep_plots
from wommsim.sweeps.sweep import sweep_name


@pytest.fixture(scope="module")
def data():
    return _run({"ad_heavy": ["strategy=ad_heavy"], "conversation_led": []})


def _drawn(monkeypatch, module=plots) -> dict[str, object]:
    """Capture the figures ``module`` saves, by file name, instead of writing them."""
    figures = {}

    def capture(fig, path, output=None):
        figures[path.stem] = fig
        return path

    monkeypatch.setattr(module, "save", capture)
    return figures


def _figures(d, tmp_path, grid_keys=(), **kwargs):
    return plots.save_figures(d["ts"], d["outcomes"], d["summary"], tmp_path, grid_keys,
                              **kwargs)


def _visible_axes(fig):
    return [ax for ax in fig.get_axes() if ax.get_visible()]


def _texts(fig) -> list[str]:
    """Every piece of text a reader sees: titles, axis and tick labels, legends."""
    fig.canvas.draw()
    out = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")
                                             and a.get_visible())]
    return [t for t in out if t]


def test_vector_figures_and_resolution_come_from_the_config(data, tmp_path):
    paths = _figures(data, tmp_path, output=FiguresConfig(dpi=60, vector="svg"))
    for path in paths:
        svg = path.with_suffix(".svg")
        assert svg.is_file() and "<svg" in svg.read_text()[:2000], svg
    assert image.imread(tmp_path / "adoption.png").shape[:2] == (300, 480)  # 8 x 5 in at 60
    pdf = _figures(data, tmp_path / "pdf", output=FiguresConfig(vector="pdf"))
    assert all(p.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-" for p in pdf)
    assert not list((tmp_path / "pdf").glob("*.svg"))
    assert image.imread(tmp_path / "pdf" / "adoption.png").shape[:2] == (600, 960)  # 120 dpi


def test_figure_settings_change_neither_the_configuration_hash_nor_the_sweep_name():
    base = compose(["+debug=tiny"])
    styled = compose(["+debug=tiny", "figures.dpi=300", "figures.vector=pdf"])
    assert config_hash(base) == config_hash(styled)
    assert (sweep_name(["consumers=100,200"])
            == sweep_name(["consumers=100,200", "figures.dpi=300", "figures.vector=svg"]))


def test_a_run_writes_vector_figures_next_to_its_pngs(tmp_path):
    cfg = compose(["+debug=tiny", "figures.vector=svg", "figures.dpi=50"])
    run(cfg, tmp_path)
    pngs = sorted(p.stem for p in (tmp_path / "figures").glob("*.png"))
    assert pngs and pngs == sorted(p.stem for p in (tmp_path / "figures").glob("*.svg"))
    recorded = json.loads((tmp_path / "manifest.json").read_text())
    assert "figures/adoption.svg" in json.dumps(recorded)  # checksummed like the rest


def test_every_curve_of_a_mean_over_replicates_has_its_interval(data, tmp_path, monkeypatch):
    figures = _drawn(monkeypatch)
    _figures(data, tmp_path)
    for name in ("adoption", "new_adopters", "sentiment"):
        for ax in _visible_axes(figures[name]):
            lines = [line for line in ax.get_lines() if len(line.get_xdata()) > 2]
            bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
            assert lines and len(bands) == len(lines), (name, ax.get_title())
    panels = _visible_axes(figures["last_touch_credit"])
    assert panels
    for ax in panels:  # a bar per arm, each with its error bar
        assert ax.containers and all(c.errorbar is not None for c in ax.containers
                                     if not isinstance(c, ErrorbarContainer)), ax.get_title()


def test_labels_are_for_people(data, tmp_path, monkeypatch):
    figures = _drawn(monkeypatch)
    _figures(data, tmp_path)
    for name, fig in figures.items():
        texts = _texts(fig)
        assert not [t for t in texts if "_" in t], (name, [t for t in texts if "_" in t])
    assert "ad-heavy" in _texts(figures["adoption"])
    assert "conversation-led" in _texts(figures["cost_per_adopter"])


def _overlaps(fig) -> list[tuple[str, str]]:
    """(legend, title) pairs whose drawn boxes intersect."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.get_axes() if ax.get_legend())]
    for sub in fig.subfigs:
        legends += sub.legends
    titles = [t for t in fig.findobj(lambda a: hasattr(a, "get_text") and a.get_visible())
              if t.get_text() and t in {*(ax.title for ax in fig.get_axes()),
                                        *(s._suptitle for s in (fig, *fig.subfigs)
                                          if s._suptitle is not None),
                                        *(s._supxlabel for s in (fig, *fig.subfigs)
                                          if s._supxlabel is not None),
                                        *(ax.xaxis.label for ax in fig.get_axes())}]
    return [(legend.get_title().get_text(), title.get_text())
            for legend in legends for title in titles
            if legend.get_window_extent(renderer).overlaps(title.get_window_extent(renderer))]


def _many(d: dict, n: int, grid: bool = False) -> dict:
    """``d``'s two arms copied into ``n`` arms (as grid values of the two when ``grid``)."""
    out = {"ts": [], "outcomes": [], "summary": []}
    for i in range(n):
        for key in out:
            part = d[key].copy()
            base = part["arm"]
            part["arm"] = base + f" x={i}" if grid else base + f" {i}"
            if key == "summary":
                part["base_arm"] = base
                part["grid.x"] = i
            out[key].append(part)
    return {k: pd.concat(v, ignore_index=True) for k, v in out.items()}


@pytest.mark.parametrize("arms,grid", [(2, False), (8, True), (8, False)])
def test_no_title_lies_under_a_legend(data, tmp_path, monkeypatch, arms, grid):
    d = data if arms == 2 else _many(data, arms // 2, grid)
    figures = _drawn(monkeypatch)
    _figures(d, tmp_path, ["grid.x"] if grid else ())
    for name, fig in figures.items():
        assert not _overlaps(fig), name


def test_many_arms_are_drawn_as_small_multiples(data, tmp_path, monkeypatch):
    figures = _drawn(monkeypatch)
    _figures(_many(data, 7), tmp_path)  # 14 arms
    panels = _visible_axes(figures["adoption"])
    assert len(panels) == 14
    assert all(len(ax.get_lines()) <= MAX_LINES for ax in panels)


def test_a_grid_draws_a_panel_per_grid_value_comparing_the_arms(data, tmp_path, monkeypatch):
    figures = _drawn(monkeypatch)
    _figures(_many(data, 4, grid=True), tmp_path, ["grid.x"])
    panels = _visible_axes(figures["adoption"])
    assert [ax.get_title() for ax in panels] == [f"x = {i}" for i in range(4)]
    for ax in panels:
        assert sorted(line.get_label() for line in ax.get_lines()) == [
            "ad-heavy", "conversation-led"]


def _grid_lines(fig) -> list[str]:
    return [c.lines[0].get_linestyle() for ax in fig.get_axes() for c in ax.containers
            if isinstance(c, ErrorbarContainer)]


@pytest.mark.parametrize("values", [2, 4])
def test_grid_points_are_joined_only_when_the_grid_has_enough_values(data, tmp_path,
                                                                     monkeypatch, values):
    figures = _drawn(monkeypatch)
    _figures(_many(data, values, grid=True), tmp_path, ["grid.x"])
    styles = set(_grid_lines(figures["grid"]))
    assert styles == ({"-"} if values >= 4 else {"None"})
    assert joined(range(values)) == (values >= 4) and not joined(["a", "b", "c", "d"])


@pytest.mark.parametrize("values", [2, 5])
def test_sweep_figures_join_points_only_on_enough_values_and_label_outcomes(
        tmp_path, monkeypatch, values):
    rows = []
    for v in range(values):
        for arm in ("ad_heavy", "conversation_led"):
            rows.append({"arm": arm, "brand.budget_per_consumer": 0.01 * (v + 1),
                         "final_adoption_mean": 0.5, "final_adoption_lo": 0.4,
                         "final_adoption_hi": 0.6, "cost_per_adopter_mean": 3.0,
                         "cost_per_adopter_lo": 2.0, "cost_per_adopter_hi": 4.0})
    runs = pd.DataFrame(rows)
    figures = _drawn(monkeypatch, sweep_plots)
    grid = runs[["brand.budget_per_consumer"]].drop_duplicates()
    sweep_plots.save_sweep_figures(runs, grid, tmp_path)
    fig = figures["outcomes_vs_brand.budget_per_consumer"]
    assert set(_grid_lines(fig)) == ({"-"} if values >= 4 else {"None"})
    texts = _texts(fig)
    assert "Final adoption (%)" in texts
    assert "budget per consumer (money per consumer per step)" in texts
    assert not [t for t in texts if "_" in t]
    assert not _overlaps(fig)
    panel = fig.get_axes()[0]
    assert max(max(line.get_ydata()) for line in panel.get_lines()) == pytest.approx(60.0)

