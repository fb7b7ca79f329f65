"""The contract every decision rule and every brand strategy must meet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tests.helpers import CONTRACT_COLUMNS, run_model, small_config
from wommsim.config import UNIT_COSTS, DecisionConfig, weekly_budget
from wommsim.mechanisms import INFLUENCES
from wommsim.mechanisms.decision import bass_hazard, opinion_probability
from wommsim.model import METRICS

STRATEGIES = ("none", "ad_heavy", "conversation_led", "incentive_push", "balanced")
RULES = ("opinion", "bass")


@pytest.fixture(scope="module", params=[(s, r) for s in STRATEGIES for r in RULES],
                ids=lambda p: f"{p[0]}-{p[1]}")
def arm(request):
    strategy, rule = request.param
    cfg = small_config(f"strategy={strategy}", f"decision={rule}", "decision.p=0.01",
                       "decision.q=0.2", consumers=400, steps=15)
    return cfg, run_model(cfg).timeseries(), run_model(cfg).timeseries()


def test_deterministic_for_a_seed(arm):
    _, first, second = arm
    pd.testing.assert_frame_equal(first, second)


def test_spend_never_above_budget(arm):
    cfg, ts, _ = arm
    budget = weekly_budget(cfg, cfg.consumers)
    # A step may spend the fraction of a unit each lever carried from the last (less than
    # one unit each); up to any step, no more than the budget of the steps so far.
    carried = sum(getattr(getattr(cfg, lever), cost) for lever, (cost, _) in UNIT_COSTS.items()
                  if getattr(cfg.strategy, lever) > 0)
    assert (ts["spend"] <= budget + carried).all()
    assert (ts["cumulative_spend"] <= budget * ts["step"] + 1e-6).all()
    assert np.allclose(ts["cumulative_spend"], ts["spend"].cumsum())
    if cfg.strategy.name == "none":
        assert (ts["spend"] == 0).all()


def test_every_adoption_is_attributed(arm):
    _, ts, _ = arm
    credited = ts[[f"new_adopters_{name}" for name in INFLUENCES]].sum(axis=1)
    assert (credited == ts["new_adopters"]).all()
    assert (ts["online_sales"] + ts["offline_sales"] == ts["new_adopters"]).all()


def test_fractions_are_fractions(arm):
    _, ts, _ = arm
    for column in ("adopted_fraction", "aware_fraction"):
        assert ts[column].between(0, 1).all()
    assert ts["mean_opinion"].between(-1, 1).all()
    assert ts["review_score"].between(-1, 1).all()


def test_the_table_has_every_contract_column():
    cfg = small_config(consumers=100, steps=2)
    from wommsim.runs.runner import run_replicate

    frame = run_replicate(cfg, 0)
    assert set(CONTRACT_COLUMNS) <= set(frame.columns)
    assert list(frame.columns[3:]) == list(METRICS)
    assert frame["step"].tolist() == [0, 1, 2]


@settings(max_examples=200, deadline=None)
@given(
    utility=arrays(np.float64, 20, elements=st.floats(-50, 50)),
    threshold=arrays(np.float64, 20, elements=st.floats(-3, 3)),
    rate=st.floats(0, 1), temperature=st.floats(1e-6, 10),
)
def test_opinion_probabilities_are_probabilities(utility, threshold, rate, temperature):
    cfg = DecisionConfig(purchase_rate=rate, temperature=temperature)
    prob = opinion_probability(cfg, utility, threshold)
    assert np.all((prob >= 0) & (prob <= rate))


@settings(max_examples=200, deadline=None)
@given(
    p=st.floats(0, 1), q=st.floats(0, 1), gain=st.floats(0, 1),
    adstock=arrays(np.float64, 20, elements=st.floats(0, 1)),
    degree=arrays(np.int64, 20, elements=st.integers(0, 50)),
    data=st.data(),
)
def test_bass_hazards_are_probabilities(p, q, gain, adstock, degree, data):
    adopted = np.array([data.draw(st.integers(0, int(k))) for k in degree], dtype=float)
    cfg = DecisionConfig(rule="bass", p=p, q=q, ad_p_gain=gain)
    external, hazard = bass_hazard(cfg, adstock, adopted, degree)
    assert np.all((external >= 0) & (external <= hazard + 1e-15) & (hazard <= 1))
