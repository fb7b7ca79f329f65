"""Experiments: every shipped config runs; the CLI writes every result; parallel = serial."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib import image

from tests.helpers import small_config, unfrozen_copy
from wommsim.compose import compose, configs_dir
from wommsim.config import ArmPhase, ConfigError, brands_of
from wommsim.experiment import references, resolve_arms
from wommsim.runs.runner import run, simulate

EXPERIMENTS = sorted(p.stem for p in (configs_dir() / "experiment").glob("*.yaml"))
RESULTS = ("timeseries.parquet", "timeseries.csv", "summary.csv", "differences.csv",
           "outcomes.csv", "report.md", "manifest.json")


def test_the_shipped_experiments_are_all_there():
    assert set(EXPERIMENTS) >= {"ads_vs_wom", "ad_blindness", "incentive_backfire",
                                "social_object", "online_offline", "seeding", "bass_docking"}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_composes_and_runs_tiny(name, tmp_path):
    cfg = compose([f"+experiment={name}", "+debug=tiny"])
    # 4 steps, or as many as the last phase needs (a phase after the end is refused)
    steps = max([4, *(p.start for arm in cfg.experiment.arms for p in arm.phases)])
    cfg = compose([f"+experiment={name}", "+debug=tiny", f"steps={steps}"])
    assert cfg.experiment.name == name and cfg.experiment.question
    arms = resolve_arms(cfg)
    assert len(arms) >= 2
    ts = run(cfg, tmp_path)
    assert list(pd.unique(ts["arm"])) == [a.name for a in arms]
    assert len(ts) == len(arms) * cfg.replicates * (cfg.steps + 1)
    summary = pd.read_csv(tmp_path / "summary.csv")  # one row per arm and brand
    brands = [b.name for b in brands_of(arms[0].config)]
    assert summary["arm"].tolist() == [a.name for a in arms for _ in brands]
    assert summary["brand"].tolist() == brands * len(arms)
    for key in cfg.experiment.grid:
        assert key in summary.columns
    assert json.loads((tmp_path / "manifest.json").read_text())["completed"] is True


def test_arms_are_paired_on_seeds_and_differ_only_in_their_settings():
    arms = resolve_arms(compose(["+experiment=ads_vs_wom", "+debug=tiny"]))
    seeds = {(a.config.seed, a.config.consumers, repr(a.config.network)) for a in arms}
    assert len(seeds) == 1
    assert [a.config.strategy.name for a in arms] == ["ad_heavy", "conversation_led", "none"]


def test_parallel_and_serial_runs_give_identical_tables():
    cfg = compose(["+experiment=ads_vs_wom", "+debug=tiny", "replicates=3"])
    tasks = [(a.config, r) for a in resolve_arms(cfg) for r in range(cfg.replicates)]
    serial = pd.concat(simulate(tasks, workers=1), ignore_index=True)
    parallel = pd.concat(simulate(tasks, workers=2), ignore_index=True)
    pd.testing.assert_frame_equal(serial, parallel)


@pytest.mark.parametrize("override,fragment", [
    ("experiment.reference=nobody", "experiment.reference='nobody'"),
    ("experiment.arms.0.strategy=telepathy", "telepathy"),
])
def test_bad_experiments_are_refused(override, fragment):
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.").replace("'", "'")):
        resolve_arms(compose(["+experiment=ads_vs_wom", override]))


def test_a_grid_experiment_pairs_each_arm_with_the_reference_at_its_grid_values():
    cfg = compose(["+experiment=ad_blindness", "+debug=tiny"])
    arms = resolve_arms(cfg)
    pairs = references(cfg, arms)
    shares = cfg.experiment.grid["consumer.ad_blind_fraction"]
    assert pairs == {f"conversation_led ad_blind_fraction={v}": f"ad_heavy ad_blind_fraction={v}"
                     for v in shares}
    assert {a.base for a in arms} == {"ad_heavy", "conversation_led"}


def test_a_one_arm_grid_compares_each_grid_value_with_its_first():
    cfg = compose(["+experiment=social_object", "+debug=tiny"])
    arms = resolve_arms(cfg)
    assert references(cfg, arms) == {a.name: arms[0].name for a in arms[1:]}


def test_a_grid_reference_naming_one_grid_value_is_refused():
    # Differences against one grid point would compare grid values, not strategies.
    with pytest.raises(ConfigError, match=r"without grid values.*ad_heavy, conversation_led"):
        resolve_arms(compose(["+experiment=ad_blindness", "+debug=tiny",
                              "experiment.reference='ad_heavy ad_blind_fraction=0.0'"]))


def test_bad_arm_override_names_the_arm_and_key():
    cfg = unfrozen_copy(compose(["+experiment=ads_vs_wom"]))
    cfg.experiment.arms[0].overrides = {"consumer.ad_blind_fraction": 3.0}
    with pytest.raises(ConfigError, match=r"ad_heavy.*consumer\.ad_blind_fraction=3\.0"):
        resolve_arms(cfg)


def test_phases_switch_strategy_at_their_step():
    from tests.helpers import run_model

    # 1,000 a week, as the thresholds below assume, at tiny's 300 consumers
    cfg = unfrozen_copy(compose(["+experiment=ads_vs_wom", "+debug=tiny",
                                 f"brand.budget_per_consumer={1000 / 300!r}"]))
    cfg.experiment.arms[0].phases = [ArmPhase(start=5, strategy="conversation_led")]
    arm = resolve_arms(cfg)[0]
    ts = run_model(arm.config, steps=8).timeseries()
    assert (ts.loc[1:4, "spend_advertising"] > 800).all()
    assert (ts.loc[5:8, "spend_advertising"] < 200).all()
    assert (ts.loc[5:8, "spend_dialogue"] > 0).all() and (ts.loc[1:4, "spend_content"] > 0).all()


def test_cli_runs_the_main_experiment_and_writes_every_result(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "wommsim", "+experiment=ads_vs_wom", "consumers=400", "steps=12",
         "replicates=3", "workers=2", f"hydra.run.dir={out}"], cwd=tmp_path, capture_output=True,
        text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    for name in RESULTS:
        assert (out / name).is_file(), name
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 3 * 3 * 13
    assert set(pd.read_csv(out / "differences.csv")["arm"]) == {"conversation_led", "organic"}
    report = (out / "report.md").read_text()
    figures = sorted((out / "figures").glob("*.png"))
    assert len(figures) >= 6
    for figure in figures:
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        pixels = image.imread(figure)
        assert pixels.std() > 0.01, f"{figure.name} looks blank"
        assert f"figures/{figure.name}" in report
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["completed"] is True and manifest["experiment"] == "ads_vs_wom"
    assert manifest["arms"] == ["ad_heavy", "conversation_led", "organic"]


def test_small_config_helper_is_one_arm():
    assert len(resolve_arms(small_config())) == 1


def test_outcome_values_are_finite_where_defined(tmp_path):
    cfg = compose(["+experiment=ads_vs_wom", "+debug=tiny"])
    run(cfg, tmp_path)
    summary = pd.read_csv(tmp_path / "summary.csv").set_index("arm")
    assert np.isfinite(summary.loc["ad_heavy", "cost_per_adopter_mean"])
    assert np.isnan(summary.loc["organic", "cost_per_adopter_mean"]) or \
        summary.loc["organic", "spend_mean"] == 0
    assert Path(tmp_path / "figures").is_dir()


def test_grid_values_set_directly_are_what_omegaconf_would_set():
    # Grid values of their parameter's type skip the OmegaConf round trip (a 10,000-arm
    # grid took six minutes to resolve): setting them through OmegaConf changes nothing.
    from wommsim.experiment import apply_overrides

    cfg = compose(["+experiment=ad_blindness", "+debug=tiny", "experiment.reference="])
    cfg.experiment.grid["brand.budget_per_consumer"] = [1, 0.25]  # an int for a float
    cfg.experiment.grid["content.seeding"] = ["hubs"]
    arms = resolve_arms(cfg)
    assert len(arms) == 2 * len(cfg.experiment.grid["consumer.ad_blind_fraction"]) * 2
    for arm in arms:
        assert apply_overrides(arm.config, arm.params, "check") == arm.config, arm.name
        assert type(arm.config.brand.budget_per_consumer) is float


def test_large_grids_resolve_with_progress_and_too_large_ones_are_refused(monkeypatch,
                                                                          caplog):
    import logging

    from wommsim import experiment

    cfg = compose(["+experiment=ads_vs_wom", "+debug=tiny", "experiment.reference="])
    cfg = dataclasses.replace(cfg, experiment=dataclasses.replace(cfg.experiment, grid={
        "consumer.ad_blind_fraction": [i / 100 for i in range(100)],
        "brand.budget_per_consumer": [0.01 * i for i in range(1, 34)]}))
    with monkeypatch.context() as patch:
        patch.setattr(experiment, "MAX_ARMS", 9899)
        with pytest.raises(ConfigError) as err:
            resolve_arms(cfg)
    message = str(err.value)
    assert message.startswith("experiment.grid: 9,900 arms (3 arms x 100 "
                              "consumer.ad_blind_fraction x 33 brand.budget_per_consumer)"), message
    assert "9,899" in message and "-m" in message
    with caplog.at_level(logging.INFO, logger="wommsim.experiment"):
        assert len(resolve_arms(cfg)) == 3 * 100 * 33
    assert "resolving 9900 arms (3 arms x 3300 grid combinations)" in caplog.text


def _user_configs(tmp_path: Path) -> Path:
    """A user's own config folder (for hydra.searchpath): a strategy preset, an experiment
    whose arms use it, and an experiment file with a YAML syntax error on line 6."""
    user = tmp_path / "user"
    (user / "strategy").mkdir(parents=True)
    (user / "experiment").mkdir()
    (user / "strategy" / "custom.yaml").write_text(
        "name: custom\nadvertising: 0.5\ndialogue: 0.5\ncontent: 0\nreviews: 0\n"
        "incentives: 0\n")
    (user / "experiment" / "mine.yaml").write_text(
        "# @package _global_\nexperiment:\n  name: mine\n  arms:\n"
        "    - {name: ads, strategy: ad_heavy}\n"
        "    - {name: mine, strategy: none, phases: [{start: 2, strategy: custom}]}\n"
        "    - {name: own, strategy: custom}\n")
    (user / "experiment" / "bad.yaml").write_text(
        "# @package _global_\nexperiment:\n  name: bad\n  arms:\n"
        "    - {name: a, strategy: ad_heavy\n    - name: b\n")
    return user


def test_arm_strategies_resolve_through_the_hydra_search_path(tmp_path):
    # strategy=custom finds a user's preset on hydra.searchpath; so do arms and phases.
    user = _user_configs(tmp_path)
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "wommsim", f"hydra.searchpath=[file://{user}]",
         "+experiment=mine", "+debug=tiny", "steps=3", f"hydra.run.dir={out}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = pd.read_csv(out / "summary.csv").set_index("arm")
    assert summary.loc["own", "strategy"] == "custom"
    assert summary.loc["own", "share_advertising"] == 0.5
    assert "custom from step 2" in summary.loc["mine", "phases"]


def test_a_yaml_syntax_error_names_the_file_and_line(tmp_path):
    user = _user_configs(tmp_path)
    bad = user / "experiment" / "bad.yaml"
    with pytest.raises(ConfigError, match=f"{bad} line 6: YAML syntax error"):
        compose([f"hydra.searchpath=[file://{user}]", "+experiment=bad"])
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "wommsim", f"hydra.searchpath=[file://{user}]",
         "+experiment=bad", f"hydra.run.dir={out}"], cwd=tmp_path, capture_output=True,
        text=True, timeout=300, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"wommsim: error: {bad} line 6: YAML syntax error")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("text,fragment", [
    ("name: broken\nadvertising: [0.5\n", "line 3: YAML syntax error"),
    ("name: broken\nadvertizing: 0.5\n", "advertizing"),
])
def test_a_broken_strategy_preset_names_its_file(tmp_path, monkeypatch, text, fragment):
    from wommsim import experiment

    (tmp_path / "broken.yaml").write_text(text)
    monkeypatch.setattr(experiment, "strategy_folders", lambda: [tmp_path])
    cfg = compose(["+experiment=ads_vs_wom", "experiment.arms.0.strategy=broken"])
    with pytest.raises(ConfigError) as err:
        resolve_arms(cfg)
    message = str(err.value)
    assert message.startswith(f"experiment arm 'ad_heavy': {tmp_path / 'broken.yaml'}")
    assert fragment in message and "\n" not in message, message
