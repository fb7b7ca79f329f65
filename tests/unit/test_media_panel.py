"""The media panel (``media_panel.csv``): each market's weekly spend, exposure and sales per
lever with each lever's true weekly contribution, for testing marketing-mix models
(wommsim.attribution), and the worked example that fits one (experiments/media_panel)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers import small_config
from wommsim.attribution import (
    EXPOSURES,
    WEEKLY,
    active_levers,
    attribute_replicate,
    contributions,
    media_panel,
)
from wommsim.config import LEVERS
from wommsim.runs.runner import run_replicate

ROOT = Path(__file__).resolve().parents[2]
#: The panel's columns: a contract with whoever reads the file.
CONTRACT = [
    "arm", "replicate", "brand", "week", "step", "revenue", "purchases", "new_customers",
    *(f"spend_{lever}" for lever in LEVERS), *(f"impressions_{lever}" for lever in LEVERS),
    "baseline_revenue", "baseline_purchases", "baseline_new_customers",
    *(f"contribution_{outcome}_{lever}" for outcome in ("revenue", "purchases", "new_customers")
      for lever in LEVERS),
]
#: Each weekly outcome and the run total (an outcome of ``attribution.csv``) it sums to.
RUN_TOTALS = {"revenue": "revenue", "purchases": "purchases", "new_customers": "customers"}


def _levers_sum(panel: pd.DataFrame, outcome: str) -> pd.Series:
    return sum(panel[f"contribution_{outcome}_{lever}"] for lever in LEVERS)


@pytest.fixture(scope="module")
def conversation():
    cfg = small_config("strategy=conversation_led", "arm=conversation_led", consumers=400,
                       steps=16)
    return cfg, attribute_replicate(cfg, 1)


def test_weekly_contributions_add_up_to_the_run_shapley_values(conversation):
    cfg, rows = conversation
    shapley = contributions(rows).set_index(["lever", "outcome"])["shapley"]
    weeks = pd.DataFrame([r for r in rows if r["lever"] == WEEKLY])
    assert weeks["step"].tolist() == list(range(1, cfg.steps + 1))
    levers = active_levers(cfg)
    for outcome, total in RUN_TOTALS.items():
        for lever in levers:
            assert weeks[f"contribution_{outcome}_{lever}"].sum() == pytest.approx(
                shapley[(lever, total)], rel=1e-9, abs=1e-9)
        for lever in set(LEVERS) - set(levers):  # no money, no contribution
            assert (weeks[f"contribution_{outcome}_{lever}"] == 0).all()
    assert (weeks[[f"contribution_revenue_{lever}" for lever in levers]] != 0).any().all()


def test_the_panel_is_the_runs_own_spend_exposure_and_sales_plus_the_truth(conversation):
    cfg, rows = conversation
    timeseries, brands, _, _ = run_replicate(cfg, 1, brands=True)
    panel = media_panel(rows, brands)
    assert panel.columns.tolist() == CONTRACT
    later = timeseries[timeseries["step"] > 0].reset_index(drop=True)
    for lever in LEVERS:  # a monopoly: the brand's spend and exposure are the market's
        assert panel[f"spend_{lever}"].tolist() == later[f"spend_{lever}"].tolist()
        assert panel[f"impressions_{lever}"].tolist() == later[EXPOSURES[lever]].tolist()
    own = brands[brands["step"] > 0].reset_index(drop=True)
    for outcome in RUN_TOTALS:
        assert panel[outcome].tolist() == own[outcome].tolist()
        # the full counterfactual run is the arm: its baseline plus what the levers add
        assert (panel[f"baseline_{outcome}"] + _levers_sum(panel, outcome)).to_numpy() == (
            pytest.approx(panel[outcome].to_numpy(dtype=float), abs=1e-9))
    assert panel["week"].iloc[:2].tolist() == ["2024-01-01", "2024-01-08"]


def test_in_a_market_of_brands_each_brand_has_its_own_spend_and_truth():
    duel = small_config("market=duel", "market.brands.a.strategy=ad_heavy",
                        "market.brands.b.strategy=conversation_led", consumers=400, steps=12)
    timeseries, brands, _, _ = run_replicate(duel, 0, brands=True)
    panel = media_panel(attribute_replicate(duel, 0), brands)
    assert panel.groupby("brand")["step"].apply(list).to_dict() == {
        "a": list(range(1, 13)), "b": list(range(1, 13))}
    spend = [f"spend_{lever}" for lever in LEVERS]
    market = panel.groupby("step")[spend].sum()
    np.testing.assert_allclose(market.to_numpy(), timeseries.set_index("step").loc[
        market.index, spend].to_numpy())
    own = brands[brands["step"] > 0].sort_values(["brand", "step"], kind="stable")
    np.testing.assert_allclose(panel[spend].sum(axis=1), own["spend"])
    assert panel.loc[panel["brand"] == "a", "spend_reviews"].eq(0).all()  # ad_heavy: none
    assert panel.loc[panel["brand"] == "b", "spend_reviews"].gt(0).any()
    for outcome in RUN_TOTALS:
        assert (panel[f"baseline_{outcome}"] + _levers_sum(panel, outcome)).to_numpy() == (
            pytest.approx(panel[outcome].to_numpy(dtype=float), abs=1e-9))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from wommsim.compose import compose
    from wommsim.runs.runner import run

    out = tmp_path_factory.mktemp("panel")
    run(compose(["+experiment=ads_vs_wom", "+debug=tiny"]), out)
    return out


def test_a_counterfactual_run_writes_the_panel_of_every_arm_replicate_and_week(tiny_run):
    panel = pd.read_csv(tiny_run / "media_panel.csv")
    assert panel.columns.tolist() == CONTRACT
    assert len(panel) == 3 * 2 * 10  # arms x replicates (geos) x weeks, one brand
    assert panel.groupby(["arm", "replicate"], sort=False).ngroups == 6
    assert panel["week"].nunique() == 10
    assert (pd.to_datetime(panel["week"]).dt.day_of_week == 0).all()  # Mondays
    timeseries = pd.read_parquet(tiny_run / "timeseries.parquet")
    later = timeseries[timeseries["step"] > 0].reset_index(drop=True)
    brands = pd.read_parquet(tiny_run / "brands.parquet")
    own = brands[brands["step"] > 0].reset_index(drop=True)
    for lever in LEVERS:
        np.testing.assert_array_equal(panel[f"spend_{lever}"], later[f"spend_{lever}"])
        np.testing.assert_array_equal(panel[f"impressions_{lever}"], later[EXPOSURES[lever]])
    for outcome in RUN_TOTALS:
        np.testing.assert_array_equal(panel[outcome], own[outcome])
        np.testing.assert_allclose(panel[f"baseline_{outcome}"] + _levers_sum(panel, outcome),
                                   panel[outcome], atol=1e-9)
    # the organic arm spends nothing: no contribution, its own run its baseline
    organic = panel[panel["arm"] == "organic"]
    assert (organic.filter(regex="^(spend|impressions|contribution)_") == 0).all().all()
    assert (organic["baseline_revenue"] == organic["revenue"]).all()
    # the weekly truth sums to attribution.csv's Shapley values (means over the geos)
    attribution = pd.read_csv(tiny_run / "attribution.csv").set_index(
        ["arm", "lever", "outcome"])["shapley"]
    for (arm, lever, outcome), value in attribution.items():
        weekly = {v: k for k, v in RUN_TOTALS.items()}.get(outcome)
        if weekly and lever in LEVERS:
            total = panel.loc[panel["arm"] == arm, f"contribution_{weekly}_{lever}"].sum() / 2
            assert total == pytest.approx(value, rel=1e-9, abs=1e-9)


def test_the_marketing_mix_example_fits_a_panel_and_compares_it_with_the_truth(tiny_run,
                                                                                tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "experiments/media_panel/mmm_example.py"),
                           str(tiny_run), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "estimated" in done.stdout
    table = pd.read_csv(tmp_path / "mmm_vs_truth.csv")
    assert set(table["arm"]) == {"ad_heavy", "conversation_led"}  # organic spends nothing
    panel = pd.read_csv(tiny_run / "media_panel.csv")
    for (arm, lever), true in table.set_index(["arm", "lever"])["true"].items():
        if lever in LEVERS:
            expected = panel.loc[panel["arm"] == arm, f"contribution_revenue_{lever}"].sum() / 2
            assert true == pytest.approx(expected)
    assert (tmp_path / "mmm_vs_truth.png").stat().st_size > 0
