"""Summaries: Bass fit, intervals, paired differences, money."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wommsim.config import EconomicsConfig
from wommsim.reporting.analysis import mean_ci, paired_differences, replicate_outcomes
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
    for outcome in ("time_to_half", "peak_new_adopters", "cost_per_adopter", "net_sentiment",
                    "followers_end", "revenue", "gross_margin", "spend", "roms", "npv",
                    "online_sales", "offline_sales"):
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
