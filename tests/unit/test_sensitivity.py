"""Sensitivity analysis: indices for every parameter and output, determinism, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.helpers import small_config
from wommsim.config import ConfigError, iter_params
from wommsim.paramspace import parse_ranges
from wommsim.sensitivity import DEFAULT_PARAMS, analyse, default_ranges, main

TINY = ("consumers=200", "steps=8", "replicates=1", "agents=off")
PARAMS = "params=consumer.threshold_mean:0.2:0.8,economics.price:10:100,wom.talk_prob:0.01:0.1"


def run_cli(out, *args) -> int:
    return main([*TINY, PARAMS, f"out={out}", *args])


def test_tiny_morris_run_gives_every_index_figure_and_is_deterministic(tmp_path):
    # Serial and on two processes: the same numbers (runs come back in task order).
    assert run_cli(tmp_path / "a", "samples=3", "jobs=1") == 0
    assert run_cli(tmp_path / "b", "samples=3", "jobs=2") == 0
    a, b = tmp_path / "a", tmp_path / "b"
    for name in ("indices.csv", "samples.csv", "indices.png", "sensitivity.json"):
        assert (a / name).is_file(), name
    assert (a / "indices.png").stat().st_size > 10_000
    assert not list(a.glob(".*partial*"))
    indices = pd.read_csv(a / "indices.csv")
    pd.testing.assert_frame_equal(indices, pd.read_csv(b / "indices.csv"))
    pd.testing.assert_frame_equal(pd.read_csv(a / "samples.csv"), pd.read_csv(b / "samples.csv"))
    keys = ["consumer.threshold_mean", "economics.price", "wom.talk_prob"]
    assert sorted(zip(indices["output"], indices["parameter"], strict=True)) == sorted(
        (o, k) for o in ("final_adoption", "cost_per_adopter") for k in keys)
    assert np.isfinite(indices[["mu_star", "mu_star_conf", "mu", "sigma"]]).all().all()
    samples = pd.read_csv(a / "samples.csv")
    assert len(samples) == 3 * (len(keys) + 1)  # Morris: trajectories x (D + 1) points
    assert samples["trajectory"].tolist() == [t for t in range(3) for _ in range(4)]
    design = json.loads((a / "sensitivity.json").read_text())
    assert design["points"] == 12 and design["parameters"]["wom.talk_prob"] == [0.01, 0.1]


def test_common_random_numbers_give_an_inert_parameter_zero_effect():
    # The price changes revenue but no decision: with the same seeds at every point its
    # elementary effects on adoption are exactly zero, and on revenue they are not.
    base = small_config("replicates=2", "agents=off", "jobs=1", consumers=300, steps=10)
    ranges = parse_ranges("economics.price:10:100,consumer.threshold_mean:0.2:0.8", base,
                          "params")
    result = analyse(base, ranges, ["final_adoption", "revenue"], "morris", samples=4)
    mu_star = result.indices.set_index(["output", "parameter"])["mu_star"]
    assert mu_star["final_adoption", "economics.price"] == 0
    assert mu_star["final_adoption", "consumer.threshold_mean"] > 0
    assert mu_star["revenue", "economics.price"] > 0
    # Each point's outcome is the mean of its replicates' outcomes.
    assert result.samples["final_adoption"].between(0, 1).all()


def test_sobol_run_gives_first_order_and_total_indices():
    base = small_config("replicates=1", "agents=off", "jobs=1", consumers=200, steps=6)
    ranges = parse_ranges("consumer.threshold_mean:0.2:0.8,wom.talk_prob:0.01:0.1", base,
                          "params")
    result = analyse(base, ranges, ["final_adoption"], "sobol", samples=8)
    assert len(result.samples) == 8 * (2 + 2)  # Saltelli without second order: N (D + 2)
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(result.indices.columns)
    assert np.isfinite(result.indices[["S1", "ST"]]).all().all()
    top = result.indices.sort_values("ST", ascending=False)["parameter"].iloc[0]
    assert top == "consumer.threshold_mean"


def test_default_parameters_span_their_defaults_inside_the_schema():
    cfg = small_config()
    ranges = default_ranges(cfg)
    assert len(ranges) == len(DEFAULT_PARAMS) >= 8
    values = {k: v for k, _, v in iter_params(cfg)}
    for r in ranges:
        assert r.lo <= values[r.key] <= r.hi, (r.key, values[r.key])


@pytest.mark.parametrize("args,fragment", [
    (["params=wom.talk:0.01:0.1"], "wom.talk: no such parameter"),
    (["params=wom.talk_prob:0.2:0.1"], "lower bound"),
    (["params=wom.talk_prob:0.1:2"], "outside the parameter's range [0, 1]"),
    (["params=steps:1:10"], "not a real-valued"),
    (["outputs=happiness"], "unknown output happiness"),
    (["method=fast"], "method='fast'"),
    (["method=sobol", "samples=10"], "power of 2"),
    (["levels=3"], "even number of levels"),
    (["samples=1"], "at least 2 trajectories"),
    (["consumers=-5"], "consumers=-5"),
    (["params=brand.quality:-0.5:0.5", "brand.quality_spread=9"], "brand.quality_spread=9"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, args, fragment):
    out = tmp_path / "out"
    assert main([*TINY, f"out={out}", *args]) == 2
    assert fragment in capsys.readouterr().err
    assert not out.exists()


def test_a_point_outside_the_cross_field_rules_is_refused():
    base = small_config("strategy=ad_heavy")
    ranges = parse_ranges("strategy.dialogue:0:1", base, "params")
    with pytest.raises(ConfigError, match=r"strategy\.dialogue=.*shares sum"):
        analyse(base, ranges, ["final_adoption"], "morris", samples=2)
