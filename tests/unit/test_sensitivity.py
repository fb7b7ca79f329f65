"""Sensitivity analysis: indices for every parameter and output, the plausible ranges by
default, integer parameters, an experiment's paired differences, brand outcomes,
determinism, bad input."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.helpers import small_config
from wommsim.compose import compose
from wommsim.config import ConfigError, plausible_ranges, validate
from wommsim.studies.paramspace import at_point, default_ranges, parse_ranges
from wommsim.studies.sensitivity import (
    DEFAULT_OUTPUTS,
    POINT_DEFAULTS,
    TOOL_KEYS,
    analyse,
    choose_ranges,
    main,
)

# 5 per consumer: 1,000 a week, a market rich enough to win adopters in 8 weeks
TINY = ("consumers=200", "steps=8", "replicates=1", "agents=off", "brand.budget_per_consumer=5")
# Thresholds up to 0.6: at 0.8 some points of this tiny market win nobody, and their cost per
# adopter is undefined (NaN), as it should be.
# A key alone takes its plausible range (wom.talk_prob: 0.01-0.1).
PARAMS = "params=[consumer.threshold_mean:0.2:0.6,economics.price:10:100,wom.talk_prob]"


def run_cli(out, *args) -> int:
    return main([*TINY, PARAMS, f"hydra.run.dir={out}", *args])


def test_tiny_morris_run_gives_every_index_figure_and_is_deterministic(tmp_path):
    # Serial and on two processes: the same numbers (runs come back in task order).
    assert run_cli(tmp_path / "a", "samples=3", "workers=1") == 0
    assert run_cli(tmp_path / "b", "samples=3", "workers=2") == 0
    a, b = tmp_path / "a", tmp_path / "b"
    # The run folder holds the results only (no .hydra/, no log, no lock left).
    assert sorted(p.name for p in a.iterdir()) == sorted(
        ["indices.csv", "samples.csv", "indices.png", "sensitivity.json"])
    assert (a / "indices.png").stat().st_size > 10_000
    assert not list(a.glob(".*partial*"))
    indices = pd.read_csv(a / "indices.csv")
    pd.testing.assert_frame_equal(indices, pd.read_csv(b / "indices.csv"))
    pd.testing.assert_frame_equal(pd.read_csv(a / "samples.csv"), pd.read_csv(b / "samples.csv"))
    keys = ["consumer.threshold_mean", "economics.price", "wom.talk_prob"]
    assert sorted(zip(indices["output"], indices["parameter"], strict=True)) == sorted(
        (o, k) for o in DEFAULT_OUTPUTS for k in keys)
    assert np.isfinite(indices[["mu_star", "mu_star_conf", "mu", "sigma"]]).all().all()
    # Each parameter's basis: the schema's for a plausible range, else the command line.
    basis = dict(zip(indices["parameter"], indices["basis"], strict=False))
    assert basis["wom.talk_prob"] == plausible_ranges()["wom.talk_prob"][2]
    assert basis["economics.price"] == "given on the command line"
    samples = pd.read_csv(a / "samples.csv")
    assert len(samples) == 3 * (len(keys) + 1)  # Morris: trajectories x (D + 1) points
    assert samples["trajectory"].tolist() == [t for t in range(3) for _ in range(4)]
    design = json.loads((a / "sensitivity.json").read_text())
    assert design["points"] == 12 and design["parameters"]["wom.talk_prob"][:2] == [0.01, 0.1]
    assert design["comparison"]["b"] is None  # no experiment: no paired difference
    # The model overrides reached the model; the tool's keys did not.
    assert design["config"]["consumers"] == 200 and design["config"]["steps"] == 8
    assert not set(TOOL_KEYS) & set(design["config"])


def test_the_tools_model_defaults_and_a_preset_reach_the_model(capsys):
    assert main(["--cfg", "job", "strategy=ad_heavy", "network=complete", "method=sobol",
                 "outputs=[final_adoption,revenue]"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert (printed["consumers"], printed["steps"], printed["replicates"]) == (2000, 52, 1)
    assert {k: printed[k] for k in POINT_DEFAULTS} == POINT_DEFAULTS  # the yaml and the code
    assert printed["strategy"]["name"] == "ad_heavy" and printed["network"]["kind"] == "complete"
    assert printed["method"] == "sobol" and printed["outputs"] == ["final_adoption", "revenue"]
    assert printed["params"] is None and printed["levels"] == 4
    assert printed["compare"] is None and printed["for_brand"] is None


def test_help_shows_the_tools_own_help(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "global sensitivity of outcomes and paired differences" in text
    assert "strategy: ad_heavy, balanced" in text  # the presets


def test_a_sweep_runs_one_analysis_per_job_into_its_multirun_folder(tmp_path):
    # On joblib's workers: workers=0 there means one process per job, as for a run's sweep
    # (a process pool inside a loky worker would fail).
    sweep = tmp_path / "sweep"
    assert main(["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", *TINY,
                 "params=wom.talk_prob:0.01:0.1", "samples=2", "workers=0",
                 "strategy=ad_heavy,balanced", f"hydra.sweep.dir={sweep}"]) == 0
    strategies = [json.loads((sweep / job / "sensitivity.json").read_text())["config"]
                  ["strategy"]["name"] for job in ("0", "1")]
    assert strategies == ["ad_heavy", "balanced"]


def test_common_random_numbers_give_an_inert_parameter_zero_effect():
    # The price changes revenue but no decision: with the same seeds at every point its
    # elementary effects on adoption are exactly zero, and on revenue they are not.
    base = small_config("replicates=2", "agents=off", "workers=1",
                        f"brand.budget_per_consumer={1000 / 300!r}",  # 1,000 a week: buyers
                        consumers=300, steps=10)
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
    base = small_config("replicates=1", "agents=off", "workers=1", consumers=200, steps=6)
    ranges = parse_ranges("consumer.threshold_mean:0.2:0.8,wom.talk_prob:0.01:0.1", base,
                          "params")
    result = analyse(base, ranges, ["final_adoption"], "sobol", samples=8)
    assert len(result.samples) == 8 * (2 + 2)  # Saltelli without second order: N (D + 2)
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(result.indices.columns)
    assert np.isfinite(result.indices[["S1", "ST"]]).all().all()
    top = result.indices.sort_values("ST", ascending=False)["parameter"].iloc[0]
    assert top == "consumer.threshold_mean"


def test_default_parameters_are_the_plausible_ranges_minus_what_the_run_sets():
    cfg = compose(["+experiment=ads_vs_wom", "+debug=tiny"])
    cfg = validate(dataclasses.replace(cfg, experiment=dataclasses.replace(
        cfg.experiment, grid={"wom.influence": [0.2, 0.4]})))
    ranges = default_ranges(cfg, ["wom.talk_prob=0.05", "consumers=300"])
    plausible = plausible_ranges()
    assert {"wom.influence", "wom.talk_prob"} <= set(plausible)
    # Held: set by the grid, and on the command line.
    assert [r.key for r in ranges] == [k for k in plausible
                                       if k not in {"wom.influence", "wom.talk_prob"}]
    for r in ranges:
        assert (r.lo, r.hi, r.basis) == plausible[r.key], r.key
    # Without params= the tool takes exactly these; with it, what it lists.
    assert choose_ranges(None, cfg, ["wom.talk_prob=0.05"]) == ranges
    listed = choose_ranges(["dialogue.lift", "economics.price:10:20"], cfg, [])
    assert [(r.key, r.lo, r.hi) for r in listed] == [("dialogue.lift", *plausible[
        "dialogue.lift"][:2]), ("economics.price", 10, 20)]


def test_an_integer_parameter_is_rounded_at_every_point(tmp_path):
    # network.m (edges per new consumer, an int) over 2..6 on a 4-level grid: 2, 3.33, 4.67
    # and 6, run as 2, 3, 5 and 6; its elementary effects use the unrounded grid.
    cfg = small_config()
    (m,) = parse_ranges("network.m:2:6", cfg, "params", integers=True)
    assert m.integer and at_point(cfg, [m], [3.4]).network.m == 3
    assert isinstance(at_point(cfg, [m], [4.6]).network.m, int)
    out = tmp_path / "out"
    assert main([*TINY, "params=[network.m:2:6,wom.talk_prob]", "samples=2", "workers=1",
                 "outputs=final_adoption", f"hydra.run.dir={out}"]) == 0
    values = pd.read_csv(out / "samples.csv")["network.m"]
    assert set(values) <= {2, 3, 5, 6} and values.dtype.kind == "i"
    indices = pd.read_csv(out / "indices.csv").set_index("parameter")
    assert np.isfinite(indices.loc["network.m", "mu_star"])
    assert json.loads((out / "sensitivity.json").read_text())["integer_parameters"] == [
        "network.m"]


def test_an_experiment_gives_each_output_for_arm_a_and_the_paired_difference(tmp_path):
    out = tmp_path / "out"
    assert main(["+experiment=ads_vs_wom", *TINY, "params=[wom.talk_prob,dialogue.lift]",
                 "samples=2", "workers=1", f"hydra.run.dir={out}"]) == 0
    samples = pd.read_csv(out / "samples.csv")
    # The claim: conversation_led beats ad_heavy on customer_equity; A - B at every point.
    for output in DEFAULT_OUTPUTS:
        a, b = samples[output], samples[f"{output}[ad_heavy]"]
        assert (samples[f"{output}_difference"] == a - b).all(), output
        assert (a != b).any(), output  # two arms really ran
    indices = pd.read_csv(out / "indices.csv")
    assert list(dict.fromkeys(indices["output"])) == [
        "final_adoption", "final_adoption_difference", "npv", "npv_difference",
        "customer_equity", "customer_equity_difference"]
    record = json.loads((out / "sensitivity.json").read_text())
    assert record["comparison"]["arms"] == ["conversation_led", "ad_heavy"]
    # The command line's size, not the experiment's (10,000 consumers, 20 replicates).
    assert record["config"]["consumers"] == 200 and record["replicates_per_point"] == 1
    assert record["runs"] == 2 * (2 + 1) * 2  # points (trajectories x (D + 1)) x arms
    # compare= names other arms: A = organic, B = ad_heavy.
    out = tmp_path / "compare"
    assert main(["+experiment=ads_vs_wom", *TINY, "params=wom.talk_prob", "samples=2", "workers=1",
                 "outputs=final_adoption", "compare=[organic,ad_heavy]",
                 f"hydra.run.dir={out}"]) == 0
    samples = pd.read_csv(out / "samples.csv")
    assert (samples["final_adoption_difference"] == samples["final_adoption"]
            - samples["final_adoption[ad_heavy]"]).all()


def test_brand_outcomes_of_the_one_brand_and_between_two_brands_of_an_arm(tmp_path):
    out = tmp_path / "one"
    assert main([*TINY, "params=wom.talk_prob", "samples=2", "workers=1",
                 "outputs=[customer_equity,market_share]", f"hydra.run.dir={out}"]) == 0
    samples = pd.read_csv(out / "samples.csv")
    assert (samples["market_share"] == 1).all() and (samples["customer_equity"] > 0).all()
    # duel's claim: brand b beats brand a on customer_equity in one arm. Its brand outcomes
    # are brand b's and b - a; a market outcome is the arm's, with no difference.
    out = tmp_path / "duel"
    assert main(["+experiment=duel", *TINY, "params=wom.talk_prob", "samples=2", "workers=1",
                 f"hydra.run.dir={out}"]) == 0
    samples = pd.read_csv(out / "samples.csv")
    assert (samples["customer_equity_difference"] == samples["customer_equity"]
            - samples["customer_equity[brand a]"]).all()
    assert "final_adoption" in samples and "final_adoption_difference" not in samples
    record = json.loads((out / "sensitivity.json").read_text())
    assert record["comparison"]["a"] == {"arm": "ad_heavy_vs_conversation_led", "brand": "b",
                                         "label": "brand b"}


@pytest.mark.parametrize("args,fragment", [
    (["params=wom.talk:0.01:0.1"], "wom.talk: no such parameter"),
    (["params=[wom.talk_prob:0.01:0.1,wom.talk:0.01:0.1]"], "wom.talk: no such parameter"),
    (["params=wom.talk_prob:0.01:0.1,wom.trust:0.5:1"], "'params=[wom.talk_prob:0.01:0.1,"),
    (["outputs=final_adoption,revenue"], "'outputs=[final_adoption,revenue]'"),
    (["metod=sobol"], "Key 'metod' not in 'SensitivityConfig'"),
    (["samples=many"], "override samples=many"),
    (["out=elsewhere"], "hydra.run.dir=elsewhere"),
    (["params=wom.talk_prob:0.2:0.1"], "lower bound"),
    (["params=wom.talk_prob:0.1:2"], "outside the parameter's range [0, 1]"),
    (["params=steps:1:10"], "steps: a setting of the run"),
    (["params=wom.trust"], "wom.trust: no plausible range in the schema"),
    (["params=network.m:2.5:6"], "integer bounds"),
    (["params=wom.talk_prob", "wom.talk_prob=0.05"], "wom.talk_prob is set on the command"),
    (["+experiment=ads_vs_wom", "compare=[conversation_led,tv]"], "no arm 'tv' (arms: "),
    (["+experiment=ads_vs_wom", "compare=organic"], "name two arms"),
    (["compare=[a,b]"], "add +experiment=NAME"),
    (["+experiment=ads_vs_wom", "for_brand=c"], "no brand 'c' in arm"),
    (["market=duel"], "customer_equity: a brand's outcome"),
    (["+experiment=ads_vs_wom", "experiment.claim=''"], "states no claim"),
    (["outputs=happiness"], "unknown output happiness"),
    (["method=fast"], "method='fast'"),
    (["method=sobol", "samples=10"], "power of 2"),
    (["levels=3"], "even number of levels"),
    (["samples=1"], "at least 2 trajectories"),
    (["consumers=-5"], "consumers=-5"),
    (["params=brand.quality:-0.5:0.5", "brand.quality_spread=9"], "brand.quality_spread=9"),
])
def test_bad_input_exits_2_in_one_line_and_writes_nothing(tmp_path, capsys, args, fragment):
    out = tmp_path / "out"
    assert main([*TINY, f"hydra.run.dir={out}", *args]) == 2
    err = capsys.readouterr().err
    assert fragment in err, err
    assert err.startswith("wommsim.sensitivity: error: ") and err.count("\n") == 1, err
    assert not out.exists()


def test_a_point_outside_the_cross_field_rules_is_refused():
    base = small_config("strategy=ad_heavy")
    ranges = parse_ranges("strategy.dialogue:0:1", base, "params")
    with pytest.raises(ConfigError, match=r"strategy\.dialogue=.*shares sum"):
        analyse(base, ranges, ["final_adoption"], "morris", samples=2)
