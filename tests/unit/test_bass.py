"""Bass docking: under ``decision=bass`` with no strategy the model is the Bass model."""

from __future__ import annotations

import numpy as np

from tests.helpers import run_model, small_config
from wommsim.validation.theory import ads_share_discrete, docking_tolerance
from wommsim.validation.theory import discrete_bass as bass_curve

BASS = ("strategy=none", "decision=bass", "consumer.initial_adopted_fraction=0", "agents=off")


def curves(cfg, replicates: int) -> np.ndarray:
    return np.array([run_model(cfg, replicate=r).timeseries()["adopted_fraction"].to_numpy()
                     for r in range(replicates)])


def assert_docks(sim: np.ndarray, expected: np.ndarray, n: int) -> None:
    """Mean curve within 4 standard errors of the equation at every step, plus an allowance
    of 2/n for finite-population effects (A/(n-1) against A/n, and E[F^2] against E[F]^2)."""
    tolerance = docking_tolerance(sim, n)
    gap = np.abs(sim.mean(axis=0) - expected)
    worst = int(np.argmax(gap - tolerance))
    assert (gap <= tolerance).all(), (
        f"step {worst}: mean {sim.mean(axis=0)[worst]:.4f} vs Bass {expected[worst]:.4f}, "
        f"tolerance {tolerance[worst]:.4f}")


def test_complete_graph_follows_the_discrete_bass_equation():
    n, steps, p, q = 1000, 30, 0.03, 0.38
    cfg = small_config(*BASS, "network=complete", f"decision.p={p}", f"decision.q={q}",
                       consumers=n, steps=steps)
    sim = curves(cfg, replicates=40)
    assert_docks(sim, bass_curve(p, q, steps), n)
    # The imitation effect is real: without it the curve would be far lower at step 10.
    assert sim.mean(axis=0)[10] > 1 - (1 - p) ** 10 + 0.2


def test_without_imitation_adoption_is_one_minus_survival():
    n, steps, p = 2000, 25, 0.03
    cfg = small_config(*BASS, f"decision.p={p}", "decision.q=0", consumers=n, steps=steps)
    sim = curves(cfg, replicates=20)
    assert_docks(sim, 1 - (1 - p) ** np.arange(steps + 1), n)


def test_without_innovation_and_no_seed_nobody_adopts():
    cfg = small_config(*BASS, "decision.p=0", "decision.q=0.9", consumers=1000, steps=30)
    sim = curves(cfg, replicates=3)
    assert (sim == 0).all()


def test_bass_attribution_share_matches_p_over_hazard():
    # On the complete graph the expected share of advertising-triggered adoptions is
    # sum_t p (1 - F_t) / sum_t (p + q F_t)(1 - F_t) along the Bass curve.
    n, steps, p, q = 1000, 30, 0.03, 0.38
    cfg = small_config(*BASS, "network=complete", f"decision.p={p}", f"decision.q={q}",
                       consumers=n, steps=steps)
    ads = total = 0
    for r in range(10):
        ts = run_model(cfg, replicate=r).timeseries()
        ads += ts["new_adopters_ads"].sum()
        total += ts["new_adopters"].sum()
    expected = ads_share_discrete(p, q, steps)
    assert abs(ads / total - expected) < 4 * np.sqrt(expected * (1 - expected) / total) + 0.01
