"""Experiments: every shipped config runs; the CLI writes every result; parallel = serial."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib import image

from tests.conftest import small_config
from wommsim.compose import compose, configs_dir
from wommsim.config import ConfigError
from wommsim.experiment import resolve_arms
from wommsim.runner import run, simulate

EXPERIMENTS = sorted(p.stem for p in (configs_dir() / "experiment").glob("*.yaml"))
RESULTS = ("timeseries.parquet", "timeseries.csv", "summary.csv", "differences.csv",
           "outcomes.csv", "report.md", "manifest.json")


def test_the_shipped_experiments_are_all_there():
    assert set(EXPERIMENTS) >= {"ads_vs_wom", "ad_blindness", "incentive_backfire",
                                "social_object", "online_offline", "seeding", "bass_docking"}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_composes_and_runs_tiny(name, tmp_path):
    cfg = compose([f"+experiment={name}", "+debug=tiny", "steps=4"])
    assert cfg.experiment.name == name and cfg.experiment.question
    arms = resolve_arms(cfg)
    assert len(arms) >= 2
    ts = run(cfg, tmp_path)
    assert list(pd.unique(ts["arm"])) == [a.name for a in arms]
    assert len(ts) == len(arms) * cfg.replicates * (cfg.steps + 1)
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary["arm"].tolist() == [a.name for a in arms]
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
    serial = pd.concat(simulate(tasks, jobs=1), ignore_index=True)
    parallel = pd.concat(simulate(tasks, jobs=2), ignore_index=True)
    pd.testing.assert_frame_equal(serial, parallel)


@pytest.mark.parametrize("override,fragment", [
    ("experiment.reference=nobody", "experiment.reference='nobody'"),
    ("experiment.arms.0.strategy=telepathy", "telepathy"),
])
def test_bad_experiments_are_refused(override, fragment):
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.").replace("'", "'")):
        resolve_arms(compose(["+experiment=ads_vs_wom", override]))


def test_bad_arm_override_names_the_arm_and_key():
    cfg = compose(["+experiment=ads_vs_wom"])
    cfg.experiment.arms[0].overrides = {"consumer.ad_blind_fraction": 3.0}
    with pytest.raises(ConfigError, match=r"ad_heavy.*consumer\.ad_blind_fraction=3\.0"):
        resolve_arms(cfg)


def test_phases_switch_strategy_at_their_step():
    from tests.conftest import run_model

    cfg = compose(["+experiment=ads_vs_wom", "+debug=tiny"])
    cfg.experiment.arms[0].phases = [type(cfg.experiment.arms[0]).__dataclass_fields__[
        "phases"].type and __import__("wommsim.config", fromlist=["ArmPhase"]).ArmPhase(
            start=5, strategy="conversation_led")]
    arm = resolve_arms(cfg)[0]
    ts = run_model(arm.config, steps=8).timeseries()
    assert (ts.loc[1:4, "spend_advertising"] > 800).all()
    assert (ts.loc[5:8, "spend_advertising"] < 200).all()
    assert (ts.loc[5:8, "spend_dialogue"] > 0).all() and (ts.loc[1:4, "spend_content"] > 0).all()


def test_cli_runs_the_main_experiment_and_writes_every_result(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "wommsim", "+experiment=ads_vs_wom", "consumers=400", "steps=12",
         "replicates=3", "jobs=2", f"hydra.run.dir={out}"], cwd=tmp_path, capture_output=True,
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
