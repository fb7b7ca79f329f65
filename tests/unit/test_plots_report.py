"""Figures and report.md from a small real run: files valid, content complete, NaN-safe."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib import image

from wommsim.compose import compose
from wommsim.config import ExperimentConfig
from wommsim.reporting import analysis, plots, report
from wommsim.runs.runner import run_replicate

FIGURES = ["adoption", "new_adopters", "attribution", "sentiment", "cost_per_adopter",
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
    size = ["consumers=1000", "steps=30"]  # enough adopters in every replicate
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
