"""The mechanism protocol: declarations drive the schedule, the columns and the docs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from tests.helpers import small_config
from wommsim.config import LEVERS
from wommsim.mechanisms import INFLUENCE_LABELS, INFLUENCES, SCHEDULE, Mechanism, Metric, Stage
from wommsim.model import METRICS, WommModel
from wommsim.rng import STREAM_NAMES
from wommsim.runs.runner import run_replicate
from wommsim.state import STATE_VARS


def test_a_new_mechanism_takes_a_handful_of_lines():
    # The example of docs/DEVELOPING.md: count this step's talkers, after word of mouth.
    talkers = Mechanism(
        name="talkers", stage=Stage.DECAY, doc="consumers who talked this step",
        step=lambda model, rng, money: {"talkers": int(np.count_nonzero(model.state.talked))},
        metrics=(Metric("talkers", "flow", "consumers who talked this step"),))
    model = WommModel(small_config(steps=5), mechanisms=(*SCHEDULE, talkers))
    for _ in range(5):
        model.step()
    table = model.timeseries()
    assert table.columns[-1] == "talkers"
    # Each talker had one conversation or more; some weeks can be silent at this size.
    conversations = table["positive_wom"] + table["negative_wom"]
    assert table["talkers"].iloc[1:].sum() > 0
    assert (table["talkers"] <= conversations).all()
    assert (table["talkers"][conversations == 0] == 0).all()
    assert table["talkers"].iloc[0] == 0  # step 0: no step has run
    # The rest of the table is exactly the default model's.
    default = run_replicate(small_config(steps=5), 0)
    pd.testing.assert_frame_equal(table.drop(columns="talkers"),
                                  default.drop(columns=["arm", "replicate"]))


def _checked(mechanism: Mechanism) -> Mechanism:
    """The mechanism, failing if its step changes a state variable it does not declare."""
    def step(model, rng, money):
        before = model.state.copy()
        out = mechanism.step(model, rng, money)
        changed = {name for name, after in model.state.arrays().items()
                   if not np.array_equal(after, getattr(before, name), equal_nan=True)}
        assert changed <= set(mechanism.writes), (mechanism.name,
                                                  changed - set(mechanism.writes))
        return out
    return dataclasses.replace(mechanism, step=step)


@pytest.mark.parametrize("overrides", [
    ("strategy=balanced", "brand.quality=-0.2"),
    ("strategy=incentive_push", "decision=bass", "content.seeding=hubs"),
], ids=["opinion", "bass"])
def test_each_mechanism_writes_only_the_state_it_declares(overrides):
    cfg = small_config(*overrides, consumers=800, steps=12)
    model = WommModel(cfg, mechanisms=[_checked(m) for m in SCHEDULE])
    for _ in range(cfg.steps):
        model.step()
    reference = run_replicate(cfg, 0).drop(columns=["arm", "replicate"])
    pd.testing.assert_frame_equal(model.timeseries(), reference)
    assert model.timeseries()["new_adopters"].sum() > 0


def test_declarations_are_consistent():
    assert [m.name for m in SCHEDULE if m.lever] == list(LEVERS)
    assert [m.stage for m in SCHEDULE] == sorted(m.stage for m in SCHEDULE)
    for m in SCHEDULE:
        assert set(m.writes) <= set(STATE_VARS), m.name
        assert m.stream is None or m.stream in STREAM_NAMES, m.name
    declared = [c.name for m in SCHEDULE for c in m.columns]
    assert len(declared) == len(set(declared))
    assert set(declared) <= set(METRICS)
    assert INFLUENCES == ("ads", "wom", "content", "dialogue", "reviews", "incentives")
    assert len(set(INFLUENCE_LABELS.values())) == len(INFLUENCES)
    assert {f"new_adopters_{name}" for name in INFLUENCES} <= set(METRICS)


def test_an_undeclared_metric_or_a_doubled_name_is_refused():
    loud = Mechanism(name="loud", stage=Stage.DECAY, doc="reports a column it never declared",
                     step=lambda model, rng, money: {"noise": 1})
    model = WommModel(small_config(steps=2), mechanisms=(*SCHEDULE, loud))
    with pytest.raises(ValueError, match=r"undeclared metrics.*noise"):
        model.step()
    wom = next(m for m in SCHEDULE if m.name == "wom")
    with pytest.raises(ValueError, match="declared twice: wom"):
        WommModel(small_config(steps=2), mechanisms=(*SCHEDULE, wom))


def test_a_switched_off_mechanism_runs_its_off_rule_and_reports_zero():
    model = WommModel(small_config("wom.enabled=false", steps=3))
    for _ in range(3):
        model.step()
        assert not model.state.talked.any()
    table = model.timeseries()
    assert (table[["positive_wom", "negative_wom"]] == 0).all().all()
