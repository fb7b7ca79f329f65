"""Counterfactual attribution: Shapley values over the levers, switch-off runs on common random
numbers, expansion and acceleration, and incremental economics (wommsim.attribution)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import run_model, small_config
from wommsim.attribution import (
    ALL_LEVERS,
    CONTRIBUTION_OUTCOMES,
    active_levers,
    attribute_replicate,
    coalitions,
    contributions,
    run_totals,
    shapley,
)
from wommsim.config import ConfigError, brands_of
from wommsim.model import WommModel
from wommsim.runs.runner import run_replicate

LEVER_NAMES = ("advertising", "dialogue", "content", "reviews", "incentives")


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 5), st.data())
def test_shapley_values_add_up_to_the_worth_of_all_players(k, data):
    levers = LEVER_NAMES[:k]
    worth = {s: data.draw(st.floats(-1e6, 1e6)) for s in coalitions(levers)}
    values = shapley(worth, levers)
    scale = 1 + max(map(abs, worth.values()))
    assert sum(values.values()) == pytest.approx(
        worth[frozenset(levers)] - worth[frozenset()], abs=1e-6 * scale)


def test_shapley_of_an_additive_game_is_each_players_own_worth_and_splits_synergy_evenly():
    own = {"advertising": 3.0, "dialogue": -1.0, "content": 7.0}
    additive = {s: sum(own[x] for x in s) for s in coalitions(list(own))}
    assert shapley(additive, list(own)) == pytest.approx(own)
    # A synergy that needs both dialogue and content is split between them, not given to
    # whichever comes last.
    synergy = {s: additive[s] + (10.0 if {"dialogue", "content"} <= s else 0.0)
               for s in additive}
    assert shapley(synergy, list(own)) == pytest.approx(
        {"advertising": 3.0, "dialogue": 4.0, "content": 12.0})


def test_a_switched_off_lever_runs_exactly_as_a_share_of_zero():
    cfg = small_config("strategy=conversation_led")
    zero = small_config("strategy=conversation_led", "strategy.content=0")
    off = WommModel(cfg, switched_off={"brand": ["content"]})
    for _ in range(cfg.steps):
        off.step()
    direct = run_model(zero)
    pd.testing.assert_frame_equal(off.timeseries(), direct.timeseries())
    with pytest.raises(ValueError, match="no brand"):
        WommModel(cfg, switched_off={"nobody": ["content"]})


def test_the_ledger_changes_no_result_and_adds_up_to_the_brand_totals():
    cfg = small_config("strategy=balanced")
    plain = run_model(cfg)
    kept = WommModel(cfg, ledger=True)
    for _ in range(cfg.steps):
        kept.step()
    pd.testing.assert_frame_equal(plain.timeseries(), kept.timeseries())
    brands = pd.DataFrame(kept.brand_rows)
    ledger = kept.markets[0].ledger
    assert ledger["purchases"].sum() == brands["purchases"].sum()
    assert ledger["revenue"].sum() == pytest.approx(brands["revenue"].sum())
    assert ledger["value"].sum() == pytest.approx(kept.markets[0].discounted_margin)


@pytest.fixture(scope="module")
def conversation():
    cfg = small_config("strategy=conversation_led", "arm=conversation_led", consumers=800,
                       steps=30)
    return cfg, pd.DataFrame(attribute_replicate(cfg, 1))


def test_contributions_add_up_to_the_effect_of_all_levers(conversation):
    cfg, rows = conversation
    found = contributions(rows.to_dict("records"))
    assert set(found["lever"]) == {*active_levers(cfg), ALL_LEVERS}
    for outcome, part in found.groupby("outcome"):
        levers = part[part["lever"] != ALL_LEVERS]
        total = part[part["lever"] == ALL_LEVERS].iloc[0]
        assert levers["shapley"].sum() == pytest.approx(total["shapley"], rel=1e-9, abs=1e-6)
        # and each Shapley value splits into expansion and acceleration exactly
        assert (levers["expansion"] + levers["acceleration"]).to_numpy() == pytest.approx(
            levers["shapley"].to_numpy(), abs=1e-6)
        if outcome == "customers":  # customers won change only by expansion
            assert (part["acceleration"].abs() < 1e-9).all()
    totals = rows[rows["lever"].isin(["full", "none"])].pivot(index="outcome",
                                                                columns="lever",
                                                                values="total")
    for outcome in CONTRIBUTION_OUTCOMES:
        total = found[(found["lever"] == ALL_LEVERS) & (found["outcome"] == outcome)]
        assert total["shapley"].iloc[0] == pytest.approx(
            totals.loc[outcome, "full"] - totals.loc[outcome, "none"])
    assert (found.loc[found["lever"] != ALL_LEVERS, "shapley"] != 0).any()


def _brand_totals(cfg, replicate: int) -> pd.Series:
    _, brands, _, _ = run_replicate(cfg, replicate, brands=True)
    return run_totals(brands).set_index("brand").iloc[0]


def test_switch_off_and_the_full_run_match_direct_runs_of_those_arms(conversation):
    cfg, rows = conversation
    full = _brand_totals(cfg, 1)
    recorded = rows[rows["lever"] == "full"].set_index("outcome")["total"]
    for outcome in recorded.index:  # the counterfactual 'all levers' run is the arm itself
        assert recorded[outcome] == pytest.approx(full[outcome], rel=1e-12)
    found = contributions(rows.to_dict("records")).set_index(["lever", "outcome"])
    for lever in ("dialogue", "reviews"):
        without = _brand_totals(dataclasses.replace(
            cfg, strategy=dataclasses.replace(cfg.strategy, **{lever: 0.0})), 1)
        for outcome in CONTRIBUTION_OUTCOMES:
            assert found.loc[(lever, outcome), "switch_off"] == pytest.approx(
                full[outcome] - without[outcome], rel=1e-12, abs=1e-9)


def test_with_one_lever_its_shapley_value_is_the_direct_switch_off_effect():
    cfg = small_config("strategy=none", "strategy.advertising=0.5", "arm=ads_only",
                       consumers=800, steps=30)
    found = contributions(attribute_replicate(cfg, 0)).set_index(["lever", "outcome"])
    with_ads, without = _brand_totals(cfg, 0), _brand_totals(small_config(
        "strategy=none", "arm=ads_only", consumers=800, steps=30), 0)
    for outcome in CONTRIBUTION_OUTCOMES:
        effect = with_ads[outcome] - without[outcome]
        assert found.loc[("advertising", outcome), "shapley"] == pytest.approx(effect, abs=1e-6)
        assert found.loc[(ALL_LEVERS, outcome), "shapley"] == pytest.approx(effect, abs=1e-6)


def test_only_levers_with_money_are_players_and_each_brand_of_a_market_is_attributed():
    assert active_levers(small_config("strategy=ad_heavy")) == ("advertising", "dialogue",
                                                                  "content")
    assert active_levers(small_config("strategy=none")) == ()
    assert active_levers(small_config("strategy=balanced", "incentives.enabled=false")) == (
        "advertising", "dialogue", "content", "reviews")
    assert attribute_replicate(small_config("strategy=none"), 0) == []
    duel = small_config("market=duel", "market.brands.a.strategy=ad_heavy",
                        "market.brands.b.strategy=none", consumers=400, steps=12)
    found = contributions(attribute_replicate(duel, 0))
    assert set(found["brand"]) == {"a"}  # b spends nothing: nothing to attribute
    assert set(found["lever"]) == {"advertising", "dialogue", "content", ALL_LEVERS}
    assert [b.name for b in brands_of(duel)] == ["a", "b"]


def test_expansion_counts_the_value_of_consumers_who_bought_in_one_world_only():
    from wommsim.attribution import expansion

    bought_a = np.array([True, True, False, True])
    bought_b = np.array([True, False, True, False])
    value_a = np.array([5.0, 7.0, 0.0, 1.0])
    value_b = np.array([4.0, 0.0, 3.0, 0.0])
    a = {"bought": bought_a, "per_consumer": {"revenue": value_a}}
    b = {"bought": bought_b, "per_consumer": {"revenue": value_b}}
    # consumers 1 and 3 bought only with the lever (7 + 1), consumer 2 only without (3)
    assert expansion(a, b, "revenue") == pytest.approx(5.0)
    # the rest of the difference (consumer 0: 5 - 4) is acceleration
    assert value_a.sum() - value_b.sum() - expansion(a, b, "revenue") == pytest.approx(1.0)


def test_an_unknown_attribution_is_refused_with_one_line_naming_the_key():
    with pytest.raises(ConfigError, match="attribution"):
        small_config("attribution=shapley")


def test_coalitions_are_every_subset_once():
    subsets = coalitions(LEVER_NAMES)
    assert len(subsets) == 32 and len(set(subsets)) == 32
    assert subsets[0] == frozenset() and subsets[-1] == frozenset(LEVER_NAMES)
    assert all(len(a) <= len(b) for a, b in itertools.pairwise(subsets))


def test_a_counterfactual_run_writes_its_tables_figure_and_report_the_same_serial_or_parallel(
        tmp_path):
    from wommsim.compose import compose
    from wommsim.runs.runner import run

    tables, panels = {}, {}
    for workers in (1, 2):
        cfg = compose(["+experiment=ads_vs_wom", "+debug=tiny", "attribution=counterfactual",
                       f"workers={workers}"])
        out = tmp_path / str(workers)
        run(cfg, out)
        tables[workers] = pd.read_csv(out / "attribution.csv")
        panels[workers] = (out / "media_panel.csv").read_bytes()
    out = tmp_path / "2"
    pd.testing.assert_frame_equal(tables[1], tables[2])
    assert panels[1] == panels[2]  # the weekly media panel too, byte for byte
    found = tables[1]
    assert set(found["arm"]) == {"ad_heavy", "conversation_led"}  # organic has no lever
    assert (found["replicates"] == 2).all()
    summary = pd.read_csv(out / "summary.csv").set_index("arm")
    assert summary.loc["organic", "contribution_customers_all_mean"] == 0
    lever_sum = sum(summary.loc["conversation_led", f"contribution_customer_equity_{lever}_mean"]
                    for lever in LEVER_NAMES)
    assert lever_sum == pytest.approx(
        summary.loc["conversation_led", "contribution_customer_equity_all_mean"])
    incremental = pd.read_csv(out / "incremental.csv")
    assert set(incremental["baseline"]) == {"no_marketing", "ad_heavy"}
    report = (out / "report.md").read_text()
    assert "## What each lever adds (counterfactual attribution)" in report
    assert "## Incremental economics" in report
    assert (out / "figures" / "attribution.png").stat().st_size > 0
    assert (out / "figures" / "last_touch_credit.png").stat().st_size > 0
    plain = tmp_path / "plain"
    run(compose(["+experiment=ads_vs_wom", "+debug=tiny", "attribution=last_touch"]), plain)
    assert not (plain / "attribution.csv").exists()
    assert not (plain / "media_panel.csv").exists()
    assert not (plain / "figures" / "attribution.png").exists()


def test_a_counterfactual_run_that_will_not_fit_is_refused_naming_attribution(monkeypatch):
    from wommsim.runs import memory

    plain = small_config("strategy=balanced", consumers=2_000_000)
    counterfactual = small_config("strategy=balanced", "attribution=counterfactual",
                                  consumers=2_000_000)
    # 32 runs of the five levers kept per consumer: 33 B each, and the ledger
    assert memory.estimate([counterfactual], 2).counterfactual == 2_000_000 * (32 * 33 + 20)
    limit = memory.estimate([plain], 2).total + memory.GB
    monkeypatch.setattr(memory, "available_bytes", lambda: (limit, "a test's limit"))
    memory.check_memory([plain], 2)  # fits
    with pytest.raises(ConfigError, match=r"^attribution=counterfactual: .*attribution=last_touch"):
        memory.check_memory([counterfactual], 2)


def test_the_last_touch_credit_is_counted_brand_by_brand():
    from wommsim.reporting.contributions import last_touch_credit

    rows = []
    for rep in (0, 1):
        for step in (0, 1, 2):
            rows += [{"arm": "x", "replicate": rep, "brand": "a", "step": step,
                      "new_adopters_ads": 5, "new_adopters_content": 1},
                     {"arm": "x", "replicate": rep, "brand": "b", "step": step,
                      "new_adopters_ads": 0, "new_adopters_content": 3}]
    credit = last_touch_credit(pd.DataFrame(rows))
    assert credit.loc[("x", "a"), "new_adopters_ads"] == 10  # steps 1 and 2, not step 0
    assert credit.loc[("x", "b"), "new_adopters_content"] == 6
    assert credit.loc[("x", "b"), "new_adopters_ads"] == 0
