"""Figures and report.md from a small real run: files valid, content complete, NaN-safe."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib import image

from wommsim.compose import compose, configs_dir
from wommsim.config import ArmConfig, ExperimentConfig
from wommsim.experiment import references, resolve_arms
from wommsim.reporting import analysis, plots, report
from wommsim.runs.runner import arm_table, run_replicate
from wommsim.validation.core import CASES

FIGURES = ["adoption", "new_adopters", "last_touch_credit", "sentiment", "cost_per_adopter",
           "final_adoption"]
SMALL = ["consumers=300", "steps=12"]


def _run(arms: dict[str, list[str]], replicates: int = 3) -> dict[str, pd.DataFrame]:
    """Run each arm (name -> overrides) and compute what the plots and report consume."""
    frames, info = [], {}
    for name, overrides in arms.items():
        cfg = compose([*SMALL, f"arm={name}", *overrides])
        frames += [run_replicate(cfg, r) for r in range(replicates)]
        info[name] = {"strategy": cfg.strategy.name}
    ts = pd.concat(frames, ignore_index=True)
    outcomes = analysis.replicate_outcomes(ts)
    summary = analysis.summarise(ts, outcomes,
                                 arm_info=pd.DataFrame.from_dict(info, orient="index"))
    return {"ts": ts, "outcomes": outcomes, "summary": summary,
            "differences": analysis.paired_differences(outcomes, next(iter(arms)))}


@pytest.fixture(scope="module")
def data():
    return _run({"ads": ["strategy=ad_heavy"], "conversation": ["strategy=conversation_led"]})


@pytest.fixture(scope="module")
def silent():
    """A ``none`` arm nobody hears of: no adopters, so cost per adopter, net sentiment,
    time to half and the Bass fit are all NaN."""
    return _run({"ads": ["strategy=ad_heavy"],
                 "silent": ["strategy=none", "consumer.initial_adopted_fraction=0",
                            "consumer.initial_aware_fraction=0"]}, replicates=2)


def _assert_png(path: Path) -> None:
    assert path.is_file(), path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    assert path.stat().st_size > 5_000, path
    pixels = image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 300 and pixels.shape[1] > 500
    assert pixels[..., :3].var() > 1e-3, f"{path.name} looks blank"


def _figures(d: dict, folder: Path, grid_keys=()) -> list[Path]:
    return plots.save_figures(d["ts"], d["outcomes"], d["summary"], folder, list(grid_keys))


def test_every_figure_is_a_non_blank_png(data, tmp_path):
    paths = _figures(data, tmp_path / "figures")
    assert [p.name for p in paths] == [f"{name}.png" for name in FIGURES]
    for path in paths:
        _assert_png(path)
    assert not (tmp_path / "figures" / "grid.png").exists()
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == sorted(
        p.name for p in paths), "temporary files left behind"


def test_figures_leave_no_open_pyplot_figures(data, tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    _figures(data, tmp_path)
    assert plt.get_fignums() == before


@pytest.mark.parametrize("keys", [["consumer.ad_blind_fraction"],
                                  ["consumer.ad_blind_fraction", "brand.quality"]])
def test_grid_figure_only_with_grid_keys(data, tmp_path, keys):
    summary = pd.concat([data["summary"]] * 2, ignore_index=True)
    summary["consumer.ad_blind_fraction"] = [0.5, 0.5, 0.9, 0.9]
    summary["brand.quality"] = [0.0, 0.3, 0.0, 0.3]
    summary["arm"] = [f"{a} ad_blind_fraction={b}" for a, b in
                      zip(summary["arm"], summary["consumer.ad_blind_fraction"], strict=True)]
    paths = plots.save_figures(data["ts"], data["outcomes"], summary, tmp_path, keys)
    assert paths[-1] == tmp_path / "grid.png"
    _assert_png(paths[-1])


def test_arm_colours_are_distinct_and_ordered():
    arms = [f"arm {i}" for i in range(15)]
    colours = plots.arm_colours(arms)
    assert list(colours) == arms
    assert len(set(colours.values())) == 15


def _report(d: dict, folder: Path, cfg=None) -> str:
    cfg = cfg or compose([*SMALL, "replicates=3"])
    figures = _figures(d, folder / "figures")
    arms = list(pd.unique(d["ts"]["arm"]))
    report.write_report(folder / "report.md", cfg, arms, d["summary"], d["differences"],
                        figures, 1.5)
    assert [p.name for p in folder.iterdir() if p.is_file()] == ["report.md"]
    return (folder / "report.md").read_text()


def test_report_has_arms_tables_figures_and_no_nan(data, tmp_path):
    cfg = dataclasses.replace(compose([*SMALL, "replicates=3"]), experiment=ExperimentConfig(
        name="ads_vs_talk", question="Which wins: ads or talk?"))
    text = _report(data, tmp_path, cfg)
    assert text.startswith("# wommsim report: ads_vs_talk")
    assert "Which wins: ads or talk?" in text
    for arm in ("ads", "conversation"):
        assert arm in text
    assert "| Arm | Replicates | Final adoption (%) |" in text
    assert "| Arm | Pairs | Final adoption (points) |" in text
    # Every outcome in the tables is defined where it is shown.
    assert "- **Net sentiment**: (positive - negative) / all conversations over the run" in text
    assert text.count("- **") >= len(report.MAIN)
    for name in FIGURES:
        assert f"](figures/{name}.png)" in text
    assert "## Reading" in text and "highest final adoption" in text
    assert ".hydra/config.yaml" in text
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)


def test_report_marks_intervals_that_exclude_zero(data, tmp_path):
    text = _report(data, tmp_path)
    diffs = data["differences"]
    clear = diffs[(diffs["outcome"] == "final_adoption") & ((diffs["lo"] > 0) | (diffs["hi"] < 0))]
    table = text.split("## Paired differences")[1].split("## Figures")[0]
    row = next(line for line in table.splitlines() if line.startswith("| conversation |"))
    cells = [c.strip() for c in row.strip("|").split("|")]  # arm, pairs, final adoption, ...
    assert cells[2].startswith("**") == (not clear.empty), cells
    if not clear.empty:
        assert "conversation (3 pairs): final adoption" in text


def test_an_arm_that_spends_nothing_is_not_compared_per_unit_of_spend(tmp_path):
    # Organic's cost per adopter is 0 (no spend): a paired difference of -5.8 against the
    # ad-heavy arm would be bold, and meaningless.
    # enough adopters in every replicate; 1,000 a week at 1,000 consumers
    size = ["consumers=1000", "steps=30", "brand.budget_per_consumer=1"]
    data = _run({"ads": ["strategy=ad_heavy", *size], "organic": ["strategy=none", *size]})
    diffs = data["differences"].set_index("outcome")
    assert diffs.at["cost_per_adopter", "hi"] < 0  # what would have been bolded
    text = _report(data, tmp_path)
    table = text.split("## Paired differences")[1].split("## Figures")[0]
    row = next(line for line in table.splitlines() if line.startswith("| organic |"))
    cells = dict(zip([h for _, h, *_ in report.MAIN],
                     [c.strip() for c in row.strip("|").split("|")][2:], strict=True))
    assert cells["Cost per adopter (money)"] == cells["ROMS"] == "n/a (no spend)"
    assert cells["Final adoption (%)"] not in ("n/a", "n/a (no spend)")
    reading = text.split("## Reading")[1]
    assert "cost per adopter" not in reading.split("whose 95% interval excludes 0")[-1]


def test_nan_cost_per_adopter_does_not_crash(silent, tmp_path):
    row = silent["summary"].set_index("arm").loc["silent"]
    assert np.isnan(row["cost_per_adopter_mean"]) and np.isnan(row["bass_p"])
    text = _report(silent, tmp_path)
    for path in (tmp_path / "figures").iterdir():
        _assert_png(path)
    assert "n/a" in text and "silent" in text
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)


def test_single_arm_report(data, tmp_path):
    one = {k: v[v["arm"] == "ads"] for k, v in data.items() if k != "differences"}
    one["differences"] = analysis.paired_differences(one["outcomes"], "ads")
    text = _report(one, tmp_path, compose([*SMALL, "strategy=ad_heavy", "arm=ads"]))
    assert text.startswith("# wommsim report: ads")
    assert "no paired differences" in text
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)


def _section(text: str, heading: str) -> str:
    return text.split(f"## {heading}")[1].split("\n## ")[0]


def _row(section: str, arm: str) -> list[str]:
    line = next(x for x in section.splitlines() if x.startswith(f"| {arm} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_report_shows_spend_per_lever_and_why_a_lever_cannot_spend_its_share(tmp_path):
    # On 450 a week, ad-heavy's content share (10%, 45 a week) buys less than a content piece
    # (100) a week: carried over, it buys one in 5 of 12 weeks, and 40 is left at the end.
    budget = ["brand.budget_per_consumer=1.5"]  # x 300 consumers = 450 a week
    data = _run({"ads": ["strategy=ad_heavy", *budget], "talk": budget})
    cfg = dataclasses.replace(compose([*SMALL, "replicates=3", *budget]),
                              experiment=ExperimentConfig(name="spend", arms=[
                                  ArmConfig(name="ads", strategy="ad_heavy"),
                                  ArmConfig(name="talk", strategy="conversation_led")]))
    spend = _section(_report(data, tmp_path, cfg), "Spend")
    header = [c.strip() for c in spend.splitlines()[4].strip("|").split("|")]
    ads = dict(zip(header, _row(spend, "ads"), strict=True))
    assert ads["Budget (money)"] == "5,400"  # 450 a week x 12 weeks
    assert ads["content (spent of allotted)"] == "500 of 540"
    assert ads["advertising (spent of allotted)"] == "4,590 of 4,590"
    talk = dict(zip(header, _row(spend, "talk"), strict=True))
    spent = data["summary"].set_index("arm").at["talk", "spend_mean"]
    assert talk["Spent (money)"].startswith(f"{spent:,.0f}")
    assert "- **ads**, content: in 7 of 12 weeks its share of the budget, with what it " \
           "carried over, is less than one content piece costs (100)" in spend
    assert "- **ads**, content: whole content pieces only (100 each): its shares buy 500 of " \
           "the 540 allotted; the rest, less than one content piece, was still carried " \
           "over at the end." in spend
    # talk's 157.5 a week buys 1 or 2 pieces: 18 in 12 weeks, 90 carried at the end.
    assert "- **talk**, content: whole content pieces only (100 each): its shares buy " \
           "1,800 of the 1,890 allotted;" in spend
    assert "**ads**, advertising" not in spend  # it spends all it is allotted


def _grid_data(final: dict[str, list[float]], replicates: int = 4):
    """ad_blindness (tiny) with made-up outcomes: final adoption per arm and share as
    given, replicate noise of +-0.01; what the report consumes."""
    cfg = compose(["+experiment=ad_blindness", "+debug=tiny"])
    arms = resolve_arms(cfg)
    rows, frames = [], []
    shares = cfg.experiment.grid["consumer.ad_blind_fraction"]
    for arm in arms:
        level = final[arm.base][shares.index(arm.params["consumer.ad_blind_fraction"])]
        for r in range(replicates):
            rows.append({"arm": arm.name, "replicate": r,
                         **{k: 10.0 + r for k in analysis.OUTCOMES},
                         "final_adoption": level + 0.01 * (r % 2 - 0.5)})
            frames.append(pd.DataFrame({"arm": arm.name, "replicate": r, "step": range(6),
                                        "adopted_fraction": np.linspace(0.0, level, 6)}))
    outcomes = pd.DataFrame(rows)
    summary = analysis.summarise(pd.concat(frames), outcomes, arm_table(arms))
    return cfg, arms, summary, analysis.paired_differences(outcomes, references(cfg, arms))


def _grid_report(tmp_path, final) -> str:
    cfg, arms, summary, differences = _grid_data(final)
    report.write_report(tmp_path / "report.md", cfg, [a.name for a in arms], summary,
                        differences, [], None)
    return (tmp_path / "report.md").read_text()


def test_a_grid_reading_compares_the_arms_at_each_grid_value_and_follows_each_arm(tmp_path):
    u = [0.77, 0.67, 0.65, 0.69, 0.84, 0.90, 0.92]
    text = _grid_report(tmp_path, {"ad_heavy": u, "conversation_led": [0.99] * 7})
    reading = _section(text, "Reading")
    assert ("**ad_heavy**: final adoption is U-shaped in ad_blind_fraction: it falls from "
            "77.0% at 0.0 to a minimum of 65.0% at 0.5, then rises to 92.0% at 0.99; its 95% "
            "intervals at the turn and at both ends do not overlap.") in reading
    assert ("**conversation_led** had the highest final adoption at every grid value (7 of 7); "
            "its paired difference from the other arm excludes 0 at 7 of them.") in reading
    # Differences are taken within a grid value, never across grid points of one arm.
    diffs = _section(text, "Paired differences")
    assert "reference arm **ad_heavy** at the same grid values" in diffs
    assert "ad_heavy ad_blind_fraction" not in diffs
    assert "conversation_led ad_blind_fraction=0.5 minus ad_heavy ad_blind_fraction=0.5" in reading
    at = _section(text, "The arms at each grid value")
    row = _row(at, "0.5")
    assert row[1].startswith("65.0") and row[2].startswith("99.0")
    assert row[-1].startswith("**+34.0")  # conversation_led minus ad_heavy, both at 0.5


def test_a_grid_reading_follows_the_numbers(tmp_path):
    text = _grid_report(tmp_path, {"ad_heavy": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3],
                                   "conversation_led": [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]})
    reading = _section(text, "Reading")
    assert "U-shaped" not in reading
    assert "**ad_heavy**: final adoption falls with ad_blind_fraction, from 90.0% at 0.0 " \
           "to 30.0% at 0.99." in reading
    assert "**conversation_led**: final adoption rises with ad_blind_fraction" in reading
    assert ("the arm with the highest final adoption depends on the grid value: **ad_heavy** "
            "at consumer.ad_blind_fraction = 0.0") in reading


def test_the_report_links_the_validation_cases_of_its_experiment(data, tmp_path):
    cfg = dataclasses.replace(compose([*SMALL, "replicates=3"]), experiment=ExperimentConfig(
        name="incentive_backfire"))
    text = _report(data, tmp_path, cfg)
    section = _section(text, "Validation")
    links = re.findall(r"\[(\w+)\]\(([^)#]+)#(\w+)\)", section)
    assert {name for name, *_ in links} == {
        name for name, spec in CASES.items() if "incentive_backfire" in spec.experiments}
    assert {"incentive_backfire", "dissatisfied_buyers"} <= {name for name, *_ in links}
    for name, target, anchor in links:
        assert (tmp_path / target).resolve().is_file()
        assert anchor == name and f"### {name}" in (tmp_path / target).read_text()
    other = dataclasses.replace(cfg, experiment=ExperimentConfig(name="ads_vs_talk"))
    assert "## Validation" not in _report(data, tmp_path / "other", other)


def test_every_experiment_a_validation_case_names_exists():
    named = {e for spec in CASES.values() for e in spec.experiments}
    assert named and all((configs_dir() / "experiment" / f"{e}.yaml").is_file() for e in named)
