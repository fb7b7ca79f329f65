"""The statistics and analytic Bass results behind the validation cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from wommsim.validation import theory
from wommsim.validation.stats import (
    bonferroni_max_z,
    bootstrap,
    bootstrap_p,
    format_p,
    moving_average,
    paired_t,
    peak_location,
    slope_test,
    two_sided_t,
)
from wommsim.validation.stylised import mean_lag
from wommsim.validation.talk import clipped_mean, matched_quality

# -- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_paired_t_matches_scipy(alternative):
    d = np.random.default_rng(1).normal(0.3, 1.0, 25)
    ours = paired_t(d, alternative, null=0.1)
    ref = stats.ttest_1samp(d, 0.1, alternative=alternative)
    assert ours.statistic == pytest.approx(ref.statistic)
    assert ours.p_value == pytest.approx(ref.pvalue)
    assert "one-sided p" in ours.text


def test_paired_t_constant_differences():
    assert paired_t(np.full(5, 2.0), "greater").p_value == 0.0
    assert paired_t(np.full(5, 2.0), "less").p_value == 1.0
    assert paired_t(np.zeros(5), "greater").p_value == pytest.approx(0.5)


def test_paired_t_rejects_bad_input():
    with pytest.raises(ValueError, match="alternative='two-sided'"):
        paired_t(np.ones(3), "two-sided")
    with pytest.raises(ValueError, match="at least 2"):
        paired_t(np.ones(1), "greater")


def test_two_sided_t_matches_scipy():
    d = np.random.default_rng(3).normal(0.1, 1.0, 20)
    ours = two_sided_t(d)
    ref = stats.ttest_1samp(d, 0.0)
    assert ours.statistic == pytest.approx(ref.statistic)
    assert ours.p_value == pytest.approx(ref.pvalue)
    assert "two-sided p" in ours.text
    assert two_sided_t(np.zeros(4)).p_value == 1.0
    assert two_sided_t(np.full(4, -1.0)).p_value == 0.0
    with pytest.raises(ValueError, match="at least 2"):
        two_sided_t(np.ones(1))


def test_slope_test_detects_direction():
    rng = np.random.default_rng(2)
    x = np.repeat(np.linspace(0, 1, 5), 8)
    y = -2.0 * x + rng.normal(0, 0.3, x.size)
    falling = slope_test(x, y, "less")
    assert falling.statistic == pytest.approx(stats.linregress(x, y).slope)
    assert falling.p_value < 1e-6
    assert slope_test(x, y, "greater").p_value > 0.99
    with pytest.raises(ValueError, match="distinct"):
        slope_test(np.ones(5), y[:5], "less")


def test_bootstrap_p_counts_the_null_side_with_correction():
    assert bootstrap_p(np.ones(99), "greater") == pytest.approx(1 / 100)
    assert bootstrap_p(-np.ones(99), "greater") == 1.0
    assert bootstrap_p(np.r_[np.ones(49), -np.ones(50)], "less") == pytest.approx(50 / 100)


def test_bootstrap_resamples_replicates():
    values = np.arange(10.0)
    draws = bootstrap(lambda idx: values[idx].mean(), 10, 500, np.random.default_rng(3))
    assert draws.shape == (500,)
    assert draws.mean() == pytest.approx(4.5, abs=0.2)
    assert 0.5 < draws.std() < 1.5  # sd of the mean of 10 draws from 0..9: 0.91


def test_bonferroni_max_z():
    assert bonferroni_max_z(np.zeros(10)).p_value == 1.0
    result = bonferroni_max_z(np.array([0.1, -5.0, 1.0]))
    assert result.statistic == 5.0
    assert result.p_value == pytest.approx(3 * 2 * stats.norm.sf(5.0))


def test_peak_location_refines_with_a_parabola():
    t = np.arange(0, 10, 1.0)
    assert peak_location(t, -(t - 4.3) ** 2) == pytest.approx(4.3)
    assert peak_location(t, t) == 9.0  # at an end: the grid point


def test_moving_average_is_centred_and_keeps_the_ends_unbiased():
    np.testing.assert_allclose(moving_average(np.array([1.0, 2, 3, 4, 5]), 3),
                               [1.5, 2, 3, 4, 4.5])
    np.testing.assert_allclose(moving_average(np.arange(4.0), 1), np.arange(4.0))
    with pytest.raises(ValueError, match="odd"):
        moving_average(np.ones(3), 2)


def test_format_p():
    assert format_p(0.01234) == "0.0123"
    assert format_p(1e-12) == "< 1e-10"
    assert format_p(float("nan")) == "n/a"


# -- analytic Bass ----------------------------------------------------------------------------

def test_discrete_bass_recursion_and_pure_innovation():
    f = theory.discrete_bass(0.03, 0.38, 30)
    assert f[0] == 0 and f[1] == pytest.approx(0.03)
    assert f[2] == pytest.approx(f[1] + (0.03 + 0.38 * f[1]) * (1 - f[1]))
    t = np.arange(21)
    np.testing.assert_allclose(theory.discrete_bass(0.05, 0.0, 20), 1 - 0.95 ** t)


def test_continuous_peak_time_is_the_maximum_of_the_rate():
    p, q = 0.03, 0.38
    t = np.linspace(0, 20, 200_001)
    rate = np.gradient(theory.continuous_bass(t, p, q), t)
    assert t[np.argmax(rate)] == pytest.approx(theory.peak_time(p, q), abs=1e-3)
    assert theory.peak_time(0.5, 0.1) == 0.0


def test_continuous_ads_share_is_the_integral_of_the_innovation_term():
    p, q = 0.03, 0.38
    integral, _ = integrate.quad(lambda t: p * (1 - theory.continuous_bass(t, p, q)), 0, 400)
    assert theory.ads_share_continuous(p, q) == pytest.approx(integral, rel=1e-6)
    assert theory.ads_share_continuous(0.1, 0.0) == 1.0


def test_sub_steps_converge_to_the_continuous_model():
    p, q, horizon = 0.03, 0.38, 25
    t = np.arange(horizon + 1)
    target = theory.continuous_bass(t, p, q)
    errors = [np.abs(theory.discrete_bass(p / k, q / k, k * horizon)[k * t] - target).max()
              for k in (1, 10, 100)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 2e-3
    shares = [theory.ads_share_discrete(p / k, q / k, k * horizon) for k in (1, 100)]
    cont = theory.ads_share_continuous(p, q)
    assert abs(shares[1] - cont) < abs(shares[0] - cont) and abs(shares[1] - cont) < 2e-3


def test_docking_tolerance():
    curves = np.array([[0.0, 0.1], [0.0, 0.3]])
    np.testing.assert_allclose(theory.docking_tolerance(curves, n=100, z=4.0),
                               [0.02, 4 * np.std([0.1, 0.3], ddof=1) / np.sqrt(2) + 0.02])


# -- case helpers -----------------------------------------------------------------------------

@pytest.mark.parametrize(("mean", "spread"), [(0.3, 0.3), (0.9, 0.5), (-0.6, 0.8), (0.2, 0.0)])
def test_clipped_mean_is_the_mean_of_the_clipped_draws(mean, spread):
    draws = np.clip(np.random.default_rng(0).normal(mean, spread, 400_000), -1, 1)
    assert clipped_mean(mean, spread) == pytest.approx(draws.mean(), abs=0.003)


@pytest.mark.parametrize("share", [0.01, 0.05, 0.1])
def test_matched_quality_keeps_the_mean_experience_of_a_market_with_defects(share):
    q = matched_quality(share, 0.3, 0.3, -0.8)
    assert q < 0.3
    assert clipped_mean(q, 0.3) == pytest.approx((1 - share) * clipped_mean(0.3, 0.3)
                                                 + share * -0.8)


def test_mean_lag():
    assert mean_lag(np.array([1.0, 0.0, 0.0])) == 0.0
    assert mean_lag(np.array([1.0, 1.0, 1.0])) == 1.0
    assert np.isnan(mean_lag(np.array([1.0, -2.0])))
