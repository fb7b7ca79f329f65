"""The schema, the YAML presets and validation of bad input."""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wommsim.compose import compose, configs_dir
from wommsim.config import (
    DEFAULT_BRAND,
    LEVERS,
    BrandSpec,
    Config,
    ConfigError,
    MarketConfig,
    brands_of,
    iter_params,
    plausible_ranges,
    validate,
)

STRATEGIES = ("none", "ad_heavy", "conversation_led", "incentive_push", "balanced")
NETWORKS = ("barabasi_albert", "watts_strogatz", "erdos_renyi", "stochastic_block", "complete")


def test_yaml_defaults_equal_schema_defaults():
    # The monopoly preset names its one brand, which a market that lists none has anyway.
    monopoly = MarketConfig(brands={DEFAULT_BRAND: BrandSpec()})
    assert compose([]) == dataclasses.replace(Config(), market=monopoly)
    assert brands_of(Config())[0].name == DEFAULT_BRAND


def test_config_yaml_lists_every_parameter():
    from omegaconf import OmegaConf

    raw = OmegaConf.to_container(OmegaConf.load(configs_dir() / "config.yaml"))
    group_owned = ("network.", "strategy.", "decision.", "market.")
    for key, _, _ in iter_params(Config()):
        if key.startswith(group_owned) or key == "experiment":
            continue
        node = raw
        for part in key.split("."):
            assert isinstance(node, dict) and part in node, f"{key} missing from config.yaml"
            node = node[part]


def test_every_parameter_is_documented_with_a_range_or_choices():
    for key, f, value in iter_params(Config()):
        meta = f.metadata
        assert meta.get("doc"), f"{key} has no doc"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            assert meta["lo"] is not None and meta["hi"] is not None, f"{key} has no range"


def test_every_yaml_key_is_commented():
    text = (configs_dir() / "config.yaml").read_text()
    for line in text.splitlines():
        stripped = line.strip()
        if ":" in stripped and not stripped.startswith(("#", "-")) and not stripped.endswith(":"):
            name = stripped.split(":")[0]
            if name not in ("enabled",):
                assert "#" in line or name in ("prioritise_negative",), f"no comment: {line}"


@pytest.mark.parametrize("name", STRATEGIES)
def test_strategy_presets_spend_the_same_budget(name):
    cfg = compose([f"strategy={name}"])
    total = sum(getattr(cfg.strategy, lever) for lever in LEVERS)
    assert cfg.strategy.name == name
    assert total == pytest.approx(0.0 if name == "none" else 1.0)


@pytest.mark.parametrize("name", NETWORKS)
def test_network_presets_compose(name):
    assert compose([f"network={name}"]).network.kind == name


def _numeric_params():
    return [(key, f) for key, f, value in iter_params(Config())
            if isinstance(value, (int, float)) and not isinstance(value, bool)]


@pytest.mark.parametrize("key,f", _numeric_params(), ids=[k for k, _ in _numeric_params()])
def test_values_outside_the_range_are_refused_naming_key_and_value(key, f):
    lo, hi = f.metadata["lo"], f.metadata["hi"]
    bad = lo - 1 if lo > -1e9 else hi * 2 + 1
    if f.type == "int":
        bad = int(bad)
    cfg = Config()
    section, _, name = key.rpartition(".")
    target = getattr(cfg, section) if section else cfg
    setattr(target, name, bad)
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    assert key in str(err.value) and str(bad) in str(err.value)


@pytest.mark.parametrize("override,fragment", [
    ("consumers=0", "consumers=0"),
    ("consumer.ad_blind_fraction=1.5", "consumer.ad_blind_fraction=1.5"),
    ("brand.budget_per_consumer=-5", "brand.budget_per_consumer=-5"),
    ("wom.talk_prob=-0.1", "wom.talk_prob=-0.1"),
    ("strategy=telepathy", "telepathy"),
    ("network=hypercube", "hypercube"),
    ("decision.rule=coinflip", "decision.rule='coinflip'"),
    ("consumers=many", "many"),
    ("consumer.not_a_key=1", "not_a_key"),
    ("strategy.advertising=0.9", "sum to"),
])
def test_bad_overrides_give_a_clear_error(override, fragment):
    with pytest.raises(ConfigError) as err:
        compose([override])
    assert fragment in str(err.value)


def test_edgelist_needs_an_existing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"network\.path"):
        compose(["network=edgelist"])
    with pytest.raises(ConfigError, match="no such file"):
        compose(["network=edgelist", f"network.path={tmp_path / 'missing.txt'}"])


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_out_of_range_value_is_refused(data):
    key, f = data.draw(st.sampled_from(_numeric_params()))
    lo, hi = f.metadata["lo"], f.metadata["hi"]
    if f.type == "int":
        bad = data.draw(st.one_of(st.integers(max_value=int(lo) - 1),
                                  st.integers(min_value=int(min(hi, 2**62)) + 1)))
    else:
        below = st.floats(max_value=lo, exclude_max=True, allow_nan=False, allow_infinity=False)
        above = st.floats(min_value=hi, exclude_min=True, allow_nan=False, allow_infinity=False)
        bad = data.draw(st.one_of(below, above) if hi < 1e300 else below)
    cfg = Config()
    section, _, name = key.rpartition(".")
    setattr(getattr(cfg, section) if section else cfg, name, bad)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        validate(cfg)


def test_config_is_plain_dataclasses():
    assert dataclasses.is_dataclass(Config())


@pytest.mark.parametrize("key", ["decision.temperature", "advertising.cost_per_impression",
                                 "dialogue.cost_per_reply", "content.cost_per_piece",
                                 "reviews.cost_per_invite", "incentives.cost_per_offer",
                                 "economics.steps_per_year"])
def test_an_open_lower_bound_refuses_the_bound_itself_and_takes_anything_above(key):
    with pytest.raises(ConfigError, match=rf"{key}=0.0: must be above 0 and at most"):
        compose([f"{key}=0.0"])
    assert compose([f"{key}=1e-12"]) is not None


def test_a_fitted_range_may_not_start_at_an_open_bound():
    from wommsim.studies.paramspace import check_range

    cfg = compose([])
    with pytest.raises(ConfigError, match=r"outside the parameter's range \(0, 10\]"):
        check_range("decision.temperature", 0.0, 1.0, cfg, "fit=")
    assert check_range("decision.temperature", 0.01, 1.0, cfg, "fit=").lo == 0.01


def _special_files(tmp_path):
    """A directory, a FIFO and a character device, with what the refusal must call them."""
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    return [(tmp_path, "is a directory"), (fifo, "is not a regular file (a FIFO"),
            ("/dev/null", "is not a regular file (a character device)")]


def test_input_files_that_are_not_regular_files_say_what_they_are(tmp_path):
    from wommsim.network import read_edgelist
    from wommsim.studies.calibrate import read_observed

    for path, what in _special_files(tmp_path):
        for refuse in (lambda p: compose(["network=edgelist", f"network.path={p}"]),
                       lambda p: read_edgelist(str(p)), read_observed):
            with pytest.raises(ConfigError) as err:  # never blocks reading a FIFO
                refuse(path)
            assert what in str(err.value) and str(path) in str(err.value), str(err.value)
            assert "no such file" not in str(err.value)



@pytest.mark.parametrize("overrides,keys", [
    (["brand.budget_per_consumer=1e8", "advertising.cost_per_impression=1e-9"],
     ["brand.budget_per_consumer=1e+08 at 10,000 consumers", "strategy.advertising=0.1",
      "advertising.cost_per_impression=1e-09", "impressions"]),
    (["brand.budget_per_consumer=1e8", "content.cost_per_piece=1e-6"],
     ["brand.budget_per_consumer", "strategy.content", "content.cost_per_piece",
      "content pieces"]),
    (["brand.budget_per_consumer=1e7", "strategy=incentive_push",
      "incentives.cost_per_offer=1e-9"],
     ["brand.budget_per_consumer", "strategy.incentives", "incentives.cost_per_offer",
      "offers"]),
])
def test_budgets_that_buy_more_units_than_can_be_simulated_are_refused(overrides, keys):
    # Each value is inside its range; the units a step buys (money / cost) are not.
    with pytest.raises(ConfigError) as err:
        compose(overrides)
    for key in keys:
        assert key in str(err.value), str(err.value)


def test_the_units_a_step_buys_grow_with_the_population():
    # 1e15 impressions a step at 10,000 consumers, 1e17 (over 2**53) at a million
    cheap = ["brand.budget_per_consumer=1", "advertising.cost_per_impression=1e-12"]
    assert compose([*cheap, "consumers=10000"]).brand.budget_per_consumer == 1.0
    with pytest.raises(ConfigError) as err:
        compose([*cheap, "consumers=1000000"])
    assert "brand.budget_per_consumer=1 at 1,000,000 consumers" in str(err.value)


@pytest.mark.parametrize("overrides,line", [
    (["brand.budget=1000"], "brand.budget is now brand.budget_per_consumer (money per consumer "
                            "per week): 1000 a week at 10,000 consumers is 0.1"),
    (["market=duel", "market.brands.a.budget=500"],
     "market.brands.a.budget is now market.brands.a.budget_per_consumer (money per consumer "
     "per week): 1000 a week at 10,000 consumers is 0.1"),
    (["reviews.credibility_count=20"],
     "reviews.credibility_count is now reviews.credibility_per_consumer (reviews per "
     "consumer): 20 reviews at 10,000 consumers is 0.002"),
])
def test_keys_replaced_by_per_consumer_keys_are_refused_with_the_conversion(overrides, line):
    with pytest.raises(ConfigError) as err:  # composed, as a config file's keys are
        compose(overrides)
    assert str(err.value) == line


def test_an_experiment_arm_setting_a_replaced_key_is_told_the_conversion():
    from wommsim.experiment import apply_overrides

    with pytest.raises(ConfigError) as err:
        apply_overrides(compose([]), {"brand.budget": 500}, "experiment arm 'x'")
    assert str(err.value).startswith("experiment arm 'x': brand.budget is now "
                                     "brand.budget_per_consumer (money per consumer per week)")


def test_a_switched_off_lever_buys_nothing_and_is_not_refused():
    cfg = compose(["brand.budget_per_consumer=1e8", "advertising.cost_per_impression=1e-9",
                   "advertising.enabled=false"])
    assert cfg.brand.budget_per_consumer == 1e8


def test_a_validated_config_is_frozen_and_shared():
    cfg = compose(["consumers=300"])
    assert compose(["consumers=300"]) is cfg  # cached: safe because nobody can change it
    with pytest.raises(dataclasses.FrozenInstanceError, match=r"dataclasses\.replace"):
        cfg.consumers = 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.wom.talk_prob = 0.5
    with pytest.raises(dataclasses.FrozenInstanceError):
        copy.deepcopy(cfg).seed = 1  # a copy is frozen too
    changed = validate(dataclasses.replace(cfg, consumers=400))
    assert (changed.consumers, cfg.consumers) == (400, 300)
    with pytest.raises(dataclasses.FrozenInstanceError):
        changed.seed = 1


# -- plausible ranges (issue 15: draws for robustness analysis) ------------------------------

#: "range lo-hi" in a comment (also "range -1 to -0.5", "range -0.3-0").
RANGE = re.compile(r"\brange\s+(-?\d+(?:\.\d+)?)\s*(?:-|–|to)\s*(-?\d+(?:\.\d+)?)")


def _comments() -> dict[str, list[str]]:
    """Dotted key -> its comments in config.yaml and in the presets of the network, decision
    and market groups (one per file that sets the key)."""
    files = [("", configs_dir() / "config.yaml")]
    files += [(f"{group}.", path) for group in ("network", "decision", "market")
              for path in sorted((configs_dir() / group).glob("*.yaml"))]
    found: dict[str, list[str]] = {}
    for prefix, path in files:
        section = ""
        for line in path.read_text(encoding="utf-8").splitlines():
            m = re.match(r"^( *)(\w+):([^#]*)(?:#(.*))?$", line)
            if not m or len(m[1]) > 2:
                continue
            indent, name, value, comment = m.groups()
            if not indent:
                section = f"{name}." if not value.strip() else ""
                key = prefix + name
            else:
                key = prefix + section + name
            found.setdefault(key, []).append(comment or "")
    return found


def _comment_ranges() -> dict[str, tuple[float, float]]:
    """Dotted key -> (lo, hi) of every key whose comment in config.yaml or in a preset of the
    network, decision and market groups states "range lo-hi"."""
    found: dict[str, tuple[float, float]] = {}
    for key, comments in _comments().items():
        for comment in comments:
            stated = RANGE.search(comment)
            if stated:
                found[key] = (float(stated[1]), float(stated[2]))
    return found


def _odd_sources() -> dict[str, str]:
    """Dotted key -> the Source cell of its row in a parameter table of docs/ODD.md."""
    odd = Path(__file__).resolve().parents[2] / "docs" / "ODD.md"
    known = {key for key, _, _ in iter_params(Config())}
    found: dict[str, str] = {}
    for line in odd.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) == 6 and cells[0].strip("`") in known:  # Key | ... | Source
            found[cells[0].strip("`")] = cells[-1]
    return found


ASSUMPTION = re.compile(r"\bassumptions?\b", re.IGNORECASE)


def test_plausible_ranges_lie_inside_the_allowed_range_and_hold_the_default():
    with_range = 0
    for key, f, value in iter_params(Config()):
        meta = f.metadata
        if meta.get("plausible") is None:
            assert not meta.get("basis"), f"{key}: a basis without a plausible range"
            continue
        with_range += 1
        assert f.type in ("float", "int"), f"{key}: a plausible range on a {f.type}"
        lo, hi = meta["plausible"]
        assert lo < hi, f"{key}: plausible range ({lo}, {hi}) is empty"
        assert (lo > meta["lo"] if meta["open_lo"] else lo >= meta["lo"]) and hi <= meta["hi"], (
            f"{key}: plausible ({lo}, {hi}) outside the allowed [{meta['lo']}, {meta['hi']}]")
        assert lo <= value <= hi, f"{key}: default {value} outside plausible ({lo}, {hi})"
        assert meta.get("basis"), f"{key}: a plausible range without its basis"
    assert with_range >= 90


def test_every_range_stated_in_a_config_comment_is_the_plausible_range():
    stated = _comment_ranges()
    ranges = plausible_ranges()
    assert stated["wom.talk_prob"] == (0.01, 0.1)  # the parser finds them
    assert stated["brand.defect_quality"] == (-1.0, -0.5)
    assert stated["incentives.expectation_shift"] == (-0.3, 0.0)
    assert stated["network.network_size"] == (5.0, 29.0)
    for key, (lo, hi) in stated.items():
        assert key in ranges, f"{key}: its comment says range {lo:g}-{hi:g}, the schema none"
        assert ranges[key][:2] == (lo, hi), (f"{key}: comment says range {lo:g}-{hi:g}, "
                                             f"the schema {ranges[key][:2]}")
    invented = sorted(set(ranges) - set(stated))
    assert not invented, f"plausible ranges no config comment states: {invented}"


def test_every_assumption_has_a_plausible_range():
    # A value its config comment or its ODD.md row calls an assumption is one a robustness
    # analysis must vary: it needs a plausible range (a run setting or a value fixed by
    # definition is labelled so, not "assumption").
    comments, sources = _comments(), _odd_sources()
    ranges = plausible_ranges()
    labelled = {key for key, _, _ in iter_params(Config())
                if any(ASSUMPTION.search(c) for c in comments.get(key, []))
                or ASSUMPTION.search(sources.get(key, ""))}
    assert {"wom.talk_prob", "network.m", "decision.purchase_rate",
            "economics.discount_rate"} <= labelled  # the readers find the labels
    assert len(labelled) >= 90
    missing = sorted(labelled - set(ranges))
    assert not missing, f"assumptions without a plausible range: {missing}"


def test_plausible_ranges_lists_every_range_with_its_basis():
    ranges = plausible_ranges()
    assert ranges["wom.talk_prob"] == (0.01, 0.1, "assumption")
    assert ranges["dialogue.lift"] == (0.02, 0.1, "assumption")
    assert ranges["purchase.loss_aversion"][:2] == (1.5, 2.5)
    assert "Tversky & Kahneman" in ranges["purchase.loss_aversion"][2]
    assert "Goel, Watts & Goldstein" in ranges["content.share_scale"][2]
    assert set(_comment_ranges()) <= set(ranges)
    for key in ("seed", "steps", "consumers", "wom.trust", "decision.ad_weight"):
        assert key not in ranges  # run settings, and values a source fixes
    assert plausible_ranges(Config) == ranges

