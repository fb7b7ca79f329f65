"""Advertising (issue 14, item 5): non-clickers affected less but not zero, wear-out, hype that
fades like adstock, frequency caps, targeting, and the derivation helpers of its parameters."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import small_config
from wommsim.mechanisms import advertising, decay
from wommsim.mechanisms.advertising import ADS
from wommsim.state import ConsumerState


def _ads(**changes):
    return dataclasses.replace(small_config().advertising, **changes)


def _market(n: int = 2000, clickers: float = 0.5) -> ConsumerState:
    s = ConsumerState(n)
    s.ad_receptive[: int(n * clickers)] = True
    return s


# -- derivations ---------------------------------------------------------------------------

def test_nonclicker_effect_from_lewis_and_reiley():
    # 78% of the lift from the 96% who never click, 22% from the 4% who do.
    assert advertising.nonclicker_effect(0.78, 0.04) == pytest.approx(
        (0.78 / 0.96) / (0.22 / 0.04))
    assert advertising.nonclicker_effect(0.78, 0.04) == pytest.approx(0.148, abs=1e-3)
    # Lift shared in proportion to the exposed: every exposed person counts the same.
    assert advertising.nonclicker_effect(0.96, 0.04) == pytest.approx(1.0)
    assert small_config().advertising.nonclicker_effect == pytest.approx(
        advertising.nonclicker_effect(0.78, 1 - small_config().consumer.ad_blind_fraction),
        abs=0.005)
    with pytest.raises(ValueError):
        advertising.nonclicker_effect(0.78, 0.0)


def test_koyck_retention_from_the_meta_analysis():
    assert advertising.koyck_retention(0.12, 0.24) == pytest.approx(0.5)
    assert small_config().advertising.retention == advertising.koyck_retention(0.12, 0.24)
    assert advertising.koyck_retention(0.1, 0.1) == 0.0
    with pytest.raises(ValueError):
        advertising.koyck_retention(0.3, 0.2)


@given(st.floats(0.01, 0.5), st.floats(0.01, 1.0))
def test_koyck_long_run_is_short_run_over_one_minus_retention(sr, extra):
    lr = sr * (1 + extra)
    lam = advertising.koyck_retention(sr, lr)
    assert 0 <= lam < 1
    assert sr / (1 - lam) == pytest.approx(lr)


def test_arc_elasticity():
    # Sales up 2% around the midpoint for spend up 20%: elasticity 0.1.
    assert advertising.arc_elasticity(99.0, 101.0, 0.9, 1.1) == pytest.approx(0.1)
    assert advertising.arc_elasticity(100.0, 90.0, 0.9, 1.1) < 0
    assert np.isnan(advertising.arc_elasticity(0.0, 0.0, 0.9, 1.1))


# -- who is affected -------------------------------------------------------------------------

def test_nonclickers_are_affected_less_but_not_zero():
    s = _market()
    cfg = _ads(annoy_prob=0.0)
    clicker = s.ad_receptive.copy()
    advertising.advertise(s, cfg, 20 * s.n * cfg.cost_per_impression, np.random.default_rng(1))
    for var in ("adstock", "hype"):
        values = getattr(s, var)
        assert values[~clicker].mean() > 0
        assert values[clicker].mean() > 2 * values[~clicker].mean()
    aware = s.aware_source == ADS
    assert 0 < aware[~clicker].mean() < aware[clicker].mean()


def test_nonclicker_effect_zero_leaves_nonclickers_unpersuaded():
    s = _market()
    advertising.advertise(s, _ads(nonclicker_effect=0.0, annoy_prob=0.0),
                          100.0, np.random.default_rng(2))
    assert (s.adstock[~s.ad_receptive] == 0).all()
    assert not s.aware[~s.ad_receptive].any()
    assert (s.expectation[~s.ad_receptive] == 0).all()
    assert s.adstock[s.ad_receptive].max() > 0


def test_nonclicker_adstock_follows_the_scaled_rate_exactly():
    # One consumer, a non-clicker, receives every impression: c impressions close
    # 1 - (1 - e g trust)^c of the gap (wear-out: each closes a share of what remains).
    s = ConsumerState(1)
    cfg = _ads(annoy_prob=0.0)
    shown = advertising.advertise(s, cfg, 7 * cfg.cost_per_impression, np.random.default_rng(0))
    assert shown["ad_impressions"] == 7
    rate = cfg.nonclicker_effect * cfg.gain * cfg.trust
    assert s.adstock[0] == pytest.approx(1 - (1 - rate) ** 7)
    assert s.adstock[0] < 7 * rate  # the seventh impression adds less than the first


def test_only_nonclickers_are_annoyed():
    s = _market()
    s.opinion[:] = 0.5
    advertising.advertise(s, _ads(annoy_prob=0.5), 50.0, np.random.default_rng(3))
    assert (s.opinion[s.ad_receptive] == 0.5).all()
    assert (s.opinion[~s.ad_receptive] < 0.5).any()


# -- hype fades --------------------------------------------------------------------------------

def test_hype_fades_like_adstock_and_leaves_the_prior_expectation():
    cfg = small_config()
    s = _market(500, clickers=1.0)
    s.expectation[:] = 0.1
    advertising.advertise(s, cfg.advertising, 100.0, np.random.default_rng(4))
    raised = s.expectation - 0.1
    assert raised.max() > 0
    np.testing.assert_allclose(s.hype, raised)
    decay.fade(s, cfg.advertising, cfg.consumer)
    r = cfg.advertising.retention
    np.testing.assert_allclose(s.expectation - 0.1, r * raised)
    np.testing.assert_allclose(s.hype, r * raised)
    for _ in range(60):
        decay.fade(s, cfg.advertising, cfg.consumer)
    np.testing.assert_allclose(s.expectation, 0.1, atol=1e-9)


def test_buyers_drop_their_hype_and_keep_their_expectation():
    cfg = small_config()
    s = ConsumerState(3)
    s.hype[:] = 0.2
    s.expectation[:] = 0.5
    decay.fade(s, cfg.advertising, cfg.consumer, buyers=np.array([1]))
    assert s.hype[1] == 0 and s.expectation[1] == 0.5
    r = cfg.advertising.retention
    np.testing.assert_allclose(s.expectation[[0, 2]], 0.5 - (1 - r) * 0.2)


def test_hype_fades_in_the_model():
    cfg = small_config("strategy.name=ads_only", "strategy.advertising=1", "strategy.dialogue=0",
                       "strategy.content=0", "strategy.reviews=0", "strategy.incentives=0",
                       "wom.enabled=false", "purchase.enabled=false")
    from wommsim.model import WommModel

    model = WommModel(cfg)
    for _ in range(3):
        model.step()
    s = model.state.brand(0)
    raised = s.hype.copy()
    assert raised.max() > 0
    model.config = dataclasses.replace(
        cfg, advertising=dataclasses.replace(cfg.advertising, enabled=False))
    for _ in range(3):
        model.step()
    never_bought = s.adopted_step < 0
    np.testing.assert_allclose(s.hype[never_bought],
                               cfg.advertising.retention ** 3 * raised[never_bought])


# -- frequency cap and targeting -------------------------------------------------------------

@given(st.integers(1, 5), st.integers(0, 20_000))
def test_frequency_cap_is_respected_and_only_shown_impressions_are_paid(cap, impressions):
    s = _market(200)
    cfg = _ads(frequency_cap=cap)
    before = s.adstock.copy()
    out = advertising.advertise(s, cfg, impressions * cfg.cost_per_impression,
                                np.random.default_rng(impressions))
    assert out["ad_impressions"] <= min(impressions, cap * s.n)
    assert out["spend"] == pytest.approx(out["ad_impressions"] * cfg.cost_per_impression)
    # No consumer's adstock moved by more than `cap` clicker impressions would move it.
    most = 1 - (1 - cfg.gain * cfg.trust) ** cap
    assert (s.adstock - before <= most + 1e-12).all()


def test_no_cap_spends_everything():
    s = _market(200)
    cfg = _ads()
    out = advertising.advertise(s, cfg, 5000 * cfg.cost_per_impression, np.random.default_rng(5))
    assert out["ad_impressions"] == 5000


def test_followers_targeting_reaches_only_followers():
    s = _market(1000, clickers=1.0)
    s.follower[::10] = True
    advertising.advertise(s, _ads(targeting="followers"), 20.0, np.random.default_rng(6))
    assert (s.adstock[~s.follower] == 0).all()
    assert (s.adstock[s.follower] > 0).mean() > 0.5


def test_lookalike_targeting_reaches_customers_neighbours():
    # A path 0-1-2-3-4-5: customer 2; its look-alikes are 1 and 3.
    n = 6
    edges = [(i, i + 1) for i in range(n - 1)]
    rows = [[] for _ in range(n)]
    for a, b in edges:
        rows[a].append(b)
        rows[b].append(a)
    indptr = np.cumsum([0] + [len(r) for r in rows])
    indices = np.array([v for r in rows for v in r])
    s = ConsumerState(n)
    s.ad_receptive[:] = True
    s.adopted[2] = True
    advertising.advertise(s, _ads(targeting="lookalike"), 1.0, np.random.default_rng(7),
                          indptr, indices)
    assert set(np.flatnonzero(s.adstock)) == {1, 3}


def test_empty_target_group_falls_back_to_everyone():
    s = _market(300, clickers=1.0)
    advertising.advertise(s, _ads(targeting="followers"), 30.0, np.random.default_rng(8))
    assert (s.adstock > 0).mean() > 0.5


def test_targeting_runs_in_the_model():
    from wommsim.model import WommModel

    for targeting in ("followers", "lookalike"):
        cfg = small_config("strategy=ad_heavy", f"advertising.targeting={targeting}")
        model = WommModel(cfg)
        for _ in range(3):
            model.step()
        assert model.timeseries()["ad_impressions"].iloc[1:].gt(0).all()


# -- validation helpers ------------------------------------------------------------------------

def test_short_and_long_run_elasticities_of_paired_arms():
    from wommsim.validation import CASES
    from wommsim.validation.advertising import DELTA, elasticities

    # Two replicates x 4 steps; the driver changes from step 1. Same-step sales 10 vs 11,
    # later steps 10 vs 12 (carry-over builds up): the long run exceeds the short run.
    low = np.array([[5, 10, 10, 10], [5, 10, 10, 10]], dtype=float)
    high = np.array([[5, 11, 12, 12], [5, 11, 12, 12]], dtype=float)
    short, long = elasticities(low, high, 1)
    spend = 2 * DELTA  # (x_high - x_low) / midpoint, the midpoint being 1
    assert short == pytest.approx((1 / 10.5) / spend)
    assert long == pytest.approx((5 / 32.5) / spend)
    assert long > short
    assert elasticities(low, high, 1, np.array([0, 0]))[0] == pytest.approx(short)
    assert {"ad_elasticity", "wom_elasticity"} <= set(CASES)
