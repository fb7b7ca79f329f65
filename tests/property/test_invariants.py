"""Hypothesis property tests: invariants that hold for any valid configuration."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import small_config
from wommsim.config import weekly_budget
from wommsim.mechanisms import INFLUENCES
from wommsim.model import WommModel

STRATEGIES = ("none", "ad_heavy", "conversation_led", "incentive_push", "balanced")
NETWORKS = ("barabasi_albert", "watts_strogatz", "erdos_renyi", "stochastic_block", "complete")


@st.composite
def configs(draw):
    overrides = [
        f"strategy={draw(st.sampled_from(STRATEGIES))}",
        f"network={draw(st.sampled_from(NETWORKS))}",
        f"decision={draw(st.sampled_from(('opinion', 'bass')))}",
        f"seed={draw(st.integers(0, 2**32 - 1))}",
        f"brand.budget_per_consumer={draw(st.floats(0, 50)):.4f}",
        f"brand.quality={draw(st.floats(-1, 1)):.3f}",
        f"consumer.ad_blind_fraction={draw(st.floats(0, 1)):.3f}",
        f"consumer.initial_adopted_fraction={draw(st.floats(0, 0.2)):.3f}",
        f"wom.negativity_bias={draw(st.floats(0, 5)):.3f}",
        f"content.seeding={draw(st.sampled_from(('followers', 'random', 'hubs')))}",
        f"agents={draw(st.sampled_from(('on', 'off')))}",
    ]
    return small_config(*overrides, consumers=draw(st.integers(40, 250)), steps=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs())
def test_invariants_hold_every_step(cfg):
    model = WommModel(cfg)
    s = model.state
    adopted_before = s.adopted.copy()
    for _ in range(cfg.steps):
        model.step()
        assert (s.adopted >= adopted_before).all(), "an adoption reverted"
        assert (s.adopted_step[adopted_before] <= model.steps).all()
        adopted_before = s.adopted.copy()
        assert (s.adstock >= 0).all() and (s.adstock <= 1).all()
        assert (np.abs(s.opinion) <= 1 + 1e-12).all()
        assert (s.expectation <= 1 + 1e-12).all()
        assert s.aware[s.adopted].all(), "an adopter who never heard of the brand"
    ts = model.timeseries()
    n = model.n
    for column in ("adopted_fraction", "aware_fraction"):
        assert ts[column].between(0, 1).all()
    assert (ts["adopted_fraction"].diff().iloc[1:] >= 0).all()
    gained = np.rint(ts["adopted_fraction"].diff().iloc[1:] * n).astype(int)
    assert (gained.to_numpy() == ts["new_adopters"].iloc[1:].to_numpy()).all()
    credited = ts[[f"new_adopters_{name}" for name in INFLUENCES]].sum(axis=1)
    assert (credited == ts["new_adopters"]).all()
    assert (ts["online_sales"] + ts["offline_sales"] == ts["new_adopters"]).all()
    assert (ts["advocates"] + ts["detractors"] <= ts["adopted_fraction"] * n + 1e-9).all()
    assert (ts["followers"] <= n).all()
    assert (ts["reviews"].diff().iloc[1:] >= 0).all()
    assert (ts["reviews"] <= ts["adopted_fraction"] * n + 1e-9).all()
    assert ts["cumulative_spend"].iloc[-1] <= weekly_budget(cfg, n) * cfg.steps + 1e-6
    assert ts["review_score"].between(-1, 1).all()


@settings(max_examples=200, deadline=None)
@given(opinion=st.floats(-1, 1), satisfaction=st.floats(-2, 2), warmth=st.floats(0, 1),
       ceiling=st.floats(0, 1), times=st.integers(1, 50))
def test_content_warmth_stays_below_its_ceiling_and_never_lowers(opinion, satisfaction,
                                                                 warmth, ceiling, times):
    import dataclasses

    from wommsim.mechanisms import content
    from wommsim.state import ConsumerState

    cfg = dataclasses.replace(small_config().content, warmth=warmth, warmth_ceiling=ceiling)
    s = ConsumerState(1)
    s.opinion[0], s.satisfaction[0] = opinion, satisfaction
    bound = max(opinion, 0.0 if satisfaction < 0 else ceiling)
    for _ in range(times):
        content.warm_toward_ceiling(s, cfg, np.arange(1))
    assert opinion <= s.opinion[0] <= bound + 1e-12
