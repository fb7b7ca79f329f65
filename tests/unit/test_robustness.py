"""python -m wommsim.robustness: claims, draws from the plausible ranges, the share of the
space where a claim holds, the assumptions that decide it, and the claim in the report."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from wommsim.compose import compose
from wommsim.config import ConfigError, plausible_ranges, validate
from wommsim.experiment import resolve_arms
from wommsim.studies import robustness
from wommsim.studies.paramspace import ParamRange
from wommsim.studies.robustness import (
    DUMMY,
    deciding_table,
    drawn_parameters,
    main,
    parse_claim,
    wilson,
)

TINY = ["+experiment=ads_vs_wom", "+debug=tiny", "consumers=300", "steps=8"]


def _arms(*overrides: str):
    return resolve_arms(compose(["+debug=tiny", *overrides]))


def test_claims_name_arms_or_brands_and_an_outcome_and_bad_ones_say_what_is_wrong():
    arms = _arms("+experiment=ads_vs_wom")
    claim = parse_claim("conversation_led beats ad_heavy on customer_equity", arms)
    assert (claim.a, claim.b, claim.outcome, claim.brand) == (
        "conversation_led", "ad_heavy", "customer_equity", "brand")
    assert claim.arms == ["conversation_led", "ad_heavy"] and claim.sign == 1
    assert parse_claim("organic beats ad_heavy on cost_per_adopter", arms).sign == -1
    duel = _arms("+experiment=duel")
    claim = parse_claim("brand b beats brand a on customer_equity in "
                        "ad_heavy_vs_conversation_led", duel)
    assert (claim.arm, claim.a, claim.b) == ("ad_heavy_vs_conversation_led", "b", "a")
    for text, fragment in [
        ("conversation_led beats nobody on npv", "no arm 'nobody'"),
        ("conversation_led beats ad_heavy on happiness", "unknown outcome 'happiness'"),
        ("conversation_led is better than ad_heavy", "expected 'A beats B on OUTCOME'"),
        ("ad_heavy beats ad_heavy on npv", "with itself"),
    ]:
        with pytest.raises(ConfigError, match=fragment):
            parse_claim(text, arms)
    with pytest.raises(ConfigError, match="name it"):
        parse_claim("mirror beats ad_heavy_vs_conversation_led on customer_equity", duel)
    with pytest.raises(ConfigError, match="no brand 'c'"):
        parse_claim("brand c beats brand a on market_share in mirror", duel)
    with pytest.raises(ConfigError, match="the market's, not a brand's"):
        parse_claim("brand b beats brand a on npv in mirror", duel)


def test_every_ranged_parameter_is_drawn_except_what_the_arms_set_or_the_user_holds():
    cfg = compose(["+experiment=ads_vs_wom", "+debug=tiny"])
    cfg = validate(dataclasses.replace(cfg, experiment=dataclasses.replace(
        cfg.experiment, grid={"wom.influence": [0.2, 0.4]})))
    drawn = {p.key for p in drawn_parameters(cfg, ["wom.talk_prob=0.05"])}
    ranges = set(plausible_ranges())
    assert {"wom.influence", "wom.talk_prob"} <= ranges
    assert drawn == ranges - {"wom.influence", "wom.talk_prob"}  # set by the grid, held
    only = drawn_parameters(cfg, [], ["dialogue.lift", "wom.talk_prob"])
    assert [p.key for p in only] == ["dialogue.lift", "wom.talk_prob"]
    with pytest.raises(ConfigError, match="consumers: no plausible range"):
        drawn_parameters(cfg, [], ["consumers"])
    k, x = ParamRange("k", 2, 10, "assumption", True), ParamRange("x", 0.1, 0.3, "assumption")
    assert k.value(k.scale(0.52)) == 6 and x.value(x.scale(0.5)) == pytest.approx(0.2)


def test_the_wilson_interval_of_a_share():
    lo, hi = wilson(0, 10)
    assert lo == 0 and hi == pytest.approx(0.2775, abs=1e-3)
    lo, hi = wilson(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)


def _synthetic(seed: int, difference) -> pd.DataFrame:
    """The deciding table of 12 parameters (and the dummy) drawn 400 times by Latin
    hypercube, for a paired difference made from the draws by ``difference(units, rng)``."""
    from SALib.sample import latin

    params = [ParamRange(f"p{i}", 0.0, 1.0, "assumption") for i in range(12)]
    names = [p.key for p in params] + [DUMMY]
    units = latin.sample({"num_vars": 13, "names": names, "bounds": [[0, 1]] * 13}, 400,
                         seed=seed)
    diff = difference(units, np.random.default_rng(seed))
    return deciding_table(params, units, diff, diff > 0, seed=seed).set_index("parameter")


def test_the_deciding_assumptions_are_those_that_move_the_paired_difference():
    # p4 decides the sign
    table = _synthetic(3, lambda u, rng: 2.0 * (u[:, 4] - 0.3) + rng.normal(0, 0.2, 400))
    assert table["deciding"].sum() == 1 and table.loc["p4", "deciding"]
    assert table["moves_margin"].sum() == 1 and table.loc["p4", "moves_margin"]
    assert not table.loc[DUMMY, "deciding"] and not table.loc[DUMMY, "moves_margin"]
    assert table.loc["p4", "share_low_third"] < 0.3 < 0.9 < table.loc["p4", "share_high_third"]


def test_a_parameter_that_moves_the_margin_but_never_the_sign_does_not_decide_the_claim():
    # always positive, larger with p7
    table = _synthetic(5, lambda u, rng: 1.0 + 3.0 * u[:, 7] + rng.normal(0, 0.05, 400))
    assert table.loc["p7", "moves_margin"] and not table["deciding"].any()


@pytest.mark.parametrize("args,fragment", [
    (["claim=nobody beats ad_heavy on npv"], "no arm 'nobody'"),
    (["draws=3"], "draws=3: must be at least 8"),
    (["params=[consumers]"], "no plausible range"),
])
def test_bad_input_exits_2_in_one_line_and_writes_nothing(tmp_path, capsys, args, fragment):
    out = tmp_path / "run"
    assert main([*TINY, f"hydra.run.dir={out}", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0], err
    assert not out.exists()


def test_the_report_states_the_claim_in_this_run_and_its_robustness_of_record(tmp_path,
                                                                             monkeypatch):
    from wommsim.runs.runner import run

    record = {"claim": "conversation_led beats ad_heavy on customer_equity", "share": 0.8,
              "share_lo": 0.7, "share_hi": 0.87, "valid_draws": 100,
              "draws_without_value": 0, "parameters": {"a": 1, "b": 2},
              "deciding": ["wom.talk_prob"], "replicates_per_draw": 1, "consumers": 5000,
              "git_commit": "abcdef123"}
    path = tmp_path / "ads_vs_wom.robustness.json"
    path.write_text(json.dumps(record))
    monkeypatch.setattr(robustness, "record_path", lambda name: path)
    run(compose([*TINY, "attribution=last_touch"]), tmp_path / "run")
    report = (tmp_path / "run" / "report.md").read_text()
    assert "**Claim.** conversation_led beats ad_heavy on customer_equity. In this run" in report
    assert ("holds in 80% [70%, 87%] of the plausible parameter space (100 draws of 2 "
            "parameters); whether it holds depends on wom.talk_prob") in report
    path.write_text(json.dumps({**record, "claim": "something else"}))
    run(compose([*TINY, "attribution=last_touch", "seed=7"]), tmp_path / "other")
    assert "Not assessed for this claim" in (tmp_path / "other" / "report.md").read_text()
