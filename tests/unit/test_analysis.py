"""Summaries: Bass fit, intervals, paired differences, money."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wommsim.compose import compose
from wommsim.config import EconomicsConfig
from wommsim.reporting.analysis import (
    OUTCOMES,
    lever_allowance,
    mean_ci,
    paired_differences,
    replicate_outcomes,
    response_shape,
    summarise,
)
from wommsim.reporting.bass import bass_cumulative, fit_bass


@pytest.mark.parametrize("p,q,m", [(0.03, 0.38, 1.0), (0.005, 0.2, 0.6), (0.1, 0.05, 0.8)])
def test_bass_fit_recovers_p_q_and_market_size(p, q, m):
    t = np.arange(0, 60, dtype=float)
    fit = fit_bass(t, bass_cumulative(t, p, q, m))
    assert fit["bass_p"] == pytest.approx(p, rel=1e-3)
    assert fit["bass_q"] == pytest.approx(q, rel=1e-3, abs=1e-4)
    assert fit["bass_m"] == pytest.approx(m, rel=1e-3)


def test_bass_fit_standard_errors_cover_the_truth_on_noisy_data():
    rng = np.random.default_rng(5)
    t = np.arange(0, 52, dtype=float)
    curve = bass_cumulative(t, 0.01, 0.25, 0.7) + rng.normal(0, 0.005, t.size)
    fit = fit_bass(t, curve)
    assert abs(fit["bass_p"] - 0.01) < 4 * fit["bass_p_se"]
    assert abs(fit["bass_q"] - 0.25) < 4 * fit["bass_q_se"]
    assert fit["bass_q_se"] > 0


def test_bass_fit_without_adoption_is_not_identified():
    assert np.isnan(fit_bass(np.arange(10.0), np.zeros(10))["bass_p"])


def test_mean_ci_is_the_student_t_interval():
    mean, _, hi = mean_ci(np.array([1.0, 2.0, 3.0, 4.0]))
    assert mean == 2.5
    assert hi - mean == pytest.approx(3.182446 * np.std([1, 2, 3, 4], ddof=1) / 2, rel=1e-5)
    assert np.isnan(mean_ci(np.array([1.0]))[1])


def test_paired_differences_pair_by_replicate():
    outcomes = pd.DataFrame({
        "arm": ["a"] * 3 + ["b"] * 3,
        "replicate": [0, 1, 2, 2, 1, 0],
        **{k: [1.0, 2.0, 3.0, 13.0, 12.0, 11.0] for k in ("final_adoption",)},
    })
    for outcome in OUTCOMES:
        if outcome != "final_adoption":
            outcomes[outcome] = 0.0
    diff = paired_differences(outcomes, "a").set_index("outcome").loc["final_adoption"]
    assert diff["difference"] == 10.0 and diff["lo"] == diff["hi"] == 10.0  # no pair noise


def _table(new_adopters: list[int], spend: list[float]) -> pd.DataFrame:
    steps = len(new_adopters)
    return pd.DataFrame({
        "arm": "x", "replicate": 0, "step": np.arange(steps),
        "adopted_fraction": np.cumsum(new_adopters) / 100, "new_adopters": new_adopters,
        "positive_wom": 1, "negative_wom": 0, "followers": 5, "spend": spend,
        "online_sales": 0, "offline_sales": new_adopters,
    })


def test_money_outcomes():
    econ = EconomicsConfig(price=10.0, margin=0.5, discount_rate=0.0, steps_per_year=52)
    row = replicate_outcomes(_table([0, 4, 6], [0.0, 10.0, 10.0]), econ).iloc[0]
    assert row["revenue"] == 100.0 and row["gross_margin"] == 50.0 and row["spend"] == 20.0
    assert row["roms"] == pytest.approx(1.5) and row["npv"] == pytest.approx(30.0)
    assert row["cost_per_adopter"] == pytest.approx(2.0)
    discounted = replicate_outcomes(_table([0, 4, 6], [0.0, 10.0, 10.0]),
                                    EconomicsConfig(price=10.0, margin=0.5, discount_rate=1.0,
                                                    steps_per_year=1)).iloc[0]
    assert discounted["npv"] == pytest.approx((20 - 10) / 2 + (30 - 10) / 4)


def test_time_to_half_is_measured_from_the_initial_level():
    row = replicate_outcomes(_table([10, 0, 10, 10, 20], [0.0] * 5)).iloc[0]
    assert row["time_to_half"] == 3.0  # gained 40 in all; 20 reached at step 3


@pytest.mark.parametrize("values", [[0.99, 1.0, 0.97, 1.0], [0.0, 0.02, 0.0, 0.01],
                                    [0.3, 0.9, 0.5]])
def test_the_interval_of_a_share_stays_inside_0_1(values):
    mean, lo, hi = mean_ci(np.array(values), bounds=(0.0, 1.0))
    _, t_lo, t_hi = mean_ci(np.array(values))
    assert 0.0 <= lo < mean < hi <= 1.0
    assert t_lo < 0.0 or t_hi > 1.0 or values == [0.3, 0.9, 0.5]  # where the t interval leaves


def test_the_bounded_interval_is_the_t_interval_away_from_the_bounds():
    values = np.array([0.49, 0.5, 0.51, 0.5, 0.5])
    assert mean_ci(values, bounds=(0.0, 1.0)) == pytest.approx(mean_ci(values), abs=1e-5)
    assert mean_ci(values * 2 - 1, bounds=(-1.0, 1.0)) == pytest.approx(
        mean_ci(values * 2 - 1), abs=1e-4)


def test_summary_intervals_of_final_adoption_and_net_sentiment_stay_in_bounds():
    outcomes = pd.DataFrame({"arm": "x", "replicate": range(3),
                             **{k: 1.0 for k in OUTCOMES}})
    outcomes["final_adoption"] = [0.999, 0.96, 1.0]
    outcomes["net_sentiment"] = [-0.99, -0.9, -1.0]
    ts = pd.DataFrame({"arm": "x", "replicate": 0, "step": range(5),
                       "adopted_fraction": np.linspace(0.1, 0.9, 5)})
    row = summarise(ts, outcomes).iloc[0]
    assert 0.0 <= row["final_adoption_lo"] < row["final_adoption_mean"]
    assert row["final_adoption_mean"] < row["final_adoption_hi"] <= 1.0
    assert -1.0 <= row["net_sentiment_lo"] < row["net_sentiment_mean"]
    assert row["net_sentiment_mean"] < row["net_sentiment_hi"] <= 1.0
    assert row["followers_end_hi"] == row["followers_end_lo"] == 1.0  # unbounded: plain t


def test_every_lever_spend_is_an_outcome():
    ts = pd.DataFrame({"arm": "x", "replicate": 0, "step": range(3),
                       "adopted_fraction": [0.1, 0.2, 0.3], "new_adopters": [0, 5, 5],
                       "positive_wom": 1, "negative_wom": 0, "followers": 5,
                       "spend": [0.0, 30.0, 30.0], "spend_advertising": [0.0, 20.0, 20.0],
                       "spend_content": [0.0, 10.0, 10.0], "online_sales": 0,
                       "offline_sales": 0})
    row = replicate_outcomes(ts).iloc[0]
    assert row["spend_advertising"] == 40.0 and row["spend_content"] == 20.0
    assert np.isnan(row["spend_reviews"])  # no such column: unknown, not zero


def test_lever_allowance_counts_whole_units_phases_and_switched_off_levers():
    # ad_heavy on 500 a week: content's 10% is 50 a week, less than one piece (100): carried
    # over, it buys one piece every second week.
    cfg = compose(["strategy=ad_heavy", "brand.budget_per_consumer=0.05", "steps=10"])
    a = lever_allowance(cfg)
    assert a.at["content", "allotted"] == 500.0 and a.at["content", "spendable"] == 500.0
    assert a.at["content", "steps_without_unit"] == 5 and a.at["content", "left"] == 0.0
    assert a.at["advertising", "spendable"] == a.at["advertising", "allotted"] == 4250.0
    # conversation_led on 1,000: content's 350 a week buys 3 pieces, then 4 with the 50
    # carried over: all 3,500 over 10 weeks.
    a = lever_allowance(compose(["steps=10"]))
    assert (a.at["content", "allotted"], a.at["content", "spendable"]) == (3500.0, 3500.0)
    assert a.at["content", "steps_without_unit"] == 0
    # 9 weeks: 3,150 allotted buys 31 pieces, 50 still carried at the end
    a = lever_allowance(compose(["steps=9"]))
    assert (a.at["content", "spendable"], a.at["content", "left"]) == (3100.0, 50.0)
    off = lever_allowance(compose(["steps=10", "content.enabled=false"]))
    assert off.at["content", "spendable"] == 0.0 and not off.at["content", "enabled"]
    phased = lever_allowance(compose(["steps=10", "strategy=ad_heavy",
                                      "brand.budget_per_consumer=0.05",
                                      "phases=[{start: 7, name: x, content: 1.0, "
                                      "advertising: 0.0, dialogue: 0.0, reviews: 0.0, "
                                      "incentives: 0.0}]"]))
    # steps 1..6 on ad_heavy buy pieces in weeks 2, 4 and 6; the phase's 500 a week 5 each
    assert phased.at["content", "steps_without_unit"] == 3
    assert phased.at["content", "spendable"] == 300.0 + 4 * 500.0


@pytest.mark.parametrize("mean,shape", [
    ([77, 67, 65, 69, 84, 90, 92], "U-shaped"),
    ([10, 20, 25, 15], "inverted-U"),
    ([1, 2, 2, 3], "rising"),
    ([3, 1], "falling"),
    ([1, 3, 1, 3], "non-monotone"),
    ([5], "single"),
])
def test_response_shape_is_read_from_the_means(mean, shape):
    mean = np.array(mean, dtype=float)
    assert response_shape(mean, mean - 0.1, mean + 0.1) == shape


def test_a_response_whose_intervals_all_overlap_is_flat():
    mean = np.array([1.0, 1.2, 0.9])
    assert response_shape(mean, mean - 0.5, mean + 0.5) == "flat"


def test_paired_differences_within_grid_values():
    outcomes = pd.DataFrame({"arm": ["a 0", "a 1", "b 0", "b 1"] * 2,
                             "replicate": [0] * 4 + [1] * 4,
                             **{k: 0.0 for k in OUTCOMES}})
    outcomes["final_adoption"] = [0.1, 0.5, 0.3, 0.6, 0.1, 0.5, 0.3, 0.6]
    diffs = paired_differences(outcomes, {"b 0": "a 0", "b 1": "a 1"})
    fa = diffs[diffs["outcome"] == "final_adoption"].set_index("arm")
    assert list(fa.index) == ["b 0", "b 1"]
    assert fa.at["b 0", "reference"] == "a 0" and fa.at["b 1", "reference"] == "a 1"
    assert fa["difference"].to_numpy() == pytest.approx([0.2, 0.1])
