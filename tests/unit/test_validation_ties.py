"""Tests of the ties validation cases' pieces (wommsim.validation.ties): thresholds, the
standardised regression, the advertising budget for an external influence, the design's
overrides, and one quick run of hub_seeding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wommsim.compose import compose
from wommsim.validation.core import CASES, Context
from wommsim.validation.ties import (
    FACTORS,
    ad_budget,
    hub_seeding,
    standardised_effects,
    time_to,
    weak_ties_overrides,
)


def test_time_to_is_the_first_step_reaching_the_share_or_censored() -> None:
    aware = np.array([[0.0, 0.1, 0.2, 0.6, 0.96],
                      [0.0, 0.5, 0.5, 0.5, 0.50]])
    assert time_to(aware, 0.16).tolist() == [2, 1]
    assert time_to(aware, 0.50).tolist() == [3, 1]
    assert time_to(aware, 0.95).tolist() == [4, 5]  # never: one past the last step


def test_standardised_effects_recover_beta_weights_of_a_known_model() -> None:
    rng = np.random.default_rng(0)
    a, b = np.repeat([0.0, 1.0], 200), np.tile([0.0, 1.0], 200)
    y = -2.0 * a - 1.0 * b + rng.normal(0, 0.01, a.size)
    fit = standardised_effects({"a": a, "b": b}, y)
    # beta weight = coefficient × sd(x) / sd(y): sd(x) = 0.5, sd(y) = sqrt(1.25)
    assert fit["a"][0] == pytest.approx(-2 * 0.5 / np.sqrt(1.25), abs=1e-3)
    assert fit["b"][0] == pytest.approx(-1 * 0.5 / np.sqrt(1.25), abs=1e-3)
    assert fit.r2 == pytest.approx(1.0, abs=1e-3) and np.all(fit.se < 0.01)
    assert abs(fit["a"][0]) > abs(fit["b"][0])


def test_ad_budget_buys_alpha_times_consumers_informing_impressions() -> None:
    budget = ad_budget(0.01, 3000, awareness_prob=0.05, cost_per_impression=0.01)
    impressions = budget / 0.01
    assert impressions * 0.05 == pytest.approx(0.01 * 3000)


def test_the_design_keeps_weak_ties_no_stronger_than_strong_ones() -> None:
    assert max(FACTORS["beta_w"]) <= min(FACTORS["beta_s"])


def test_weak_ties_overrides_build_the_sources_market() -> None:
    overrides = weak_ties_overrides(0.05, 0.01, 0.001, 5.0, 20, 30, 0.05, 0.01)
    assert "wom.weak_tie_talk=0.2" in overrides  # beta_w / beta_s
    # every other key exists and the market is 30 cliques of 20 seeded in one network
    cfg = compose([o for o in overrides if not o.startswith("wom.weak_tie_talk")])
    assert cfg.consumers == 600 and cfg.network.kind == "personal_networks"
    assert cfg.network.strong_degree == 19 and cfg.wom.talk_prob == 0.05
    assert cfg.consumer.initial_adopters == "community"
    assert cfg.consumer.initial_adopted_fraction * cfg.consumers == pytest.approx(10, rel=1e-4)


def test_the_cases_are_registered_with_their_sources() -> None:
    assert "Goldenberg, Libai & Muller (2001)" in CASES["weak_ties"].source
    assert "Hinz, Skiera, Barrot & Becker (2011)" in CASES["hub_seeding"].source
    assert CASES["hub_seeding"].experiments == ("seeding",)


def test_hub_seeding_runs_quick_and_hubs_win_more_word_of_mouth(tmp_path: Path) -> None:
    finding = hub_seeding(Context(figures=tmp_path, quick=True, workers=1))
    assert "hubs/fringe" in finding.measured and (tmp_path / "hub_seeding.png").exists()
    ratio = float(finding.measured.split("hubs/fringe: ")[1].split("×")[0])
    assert ratio > 1.0
