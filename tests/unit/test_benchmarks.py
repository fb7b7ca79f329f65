"""The benchmark baselines (benchmarks/kernels.py) are correct: they run the model's
``bass`` rule, so comparing speeds with them is fair. No timings are asserted."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import small_config

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
N, STEPS, REPLICATES = 2000, 8, 12
BASS = ("strategy=none", "decision=bass", "agents=off")


def _bench_module(name: str):
    """``benchmarks/<name>.py`` loaded as module ``bench_<name>``."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclass-free, but Mesa agents need a module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def kernels():
    return _bench_module("kernels")


def _model_runs():
    """Per replicate: the model (bass, no strategy, every mechanism on) and its curve."""
    from wommsim.model import WommModel

    cfg = small_config(*BASS, consumers=N, steps=STEPS)
    for replicate in range(REPLICATES):
        model = WommModel(cfg, replicate=replicate)
        curve = [model.metrics["adopted_fraction"]]
        for _ in range(STEPS):
            model.step()
            curve.append(model.metrics["adopted_fraction"])
        yield cfg, model, np.array(curve)


def _curve(run, steps: int) -> np.ndarray:
    curve = [run.adopted.mean()]
    for _ in range(steps):
        run.step()
        curve.append(run.adopted.mean())
    return np.array(curve)


@pytest.fixture(scope="module")
def curves(kernels):
    """Adoption curves of the model and of each baseline on the model's graphs."""
    out: dict[str, list[np.ndarray]] = {"model": [], "sparse": [], "skip": [], "mesa": []}
    for cfg, model, curve in _model_runs():
        out["model"].append(curve)
        indptr, indices = model.graph.adjacency.indptr, model.graph.adjacency.indices
        p, q = cfg.decision.p, cfg.decision.q
        start = kernels.initial_adopters(N, cfg.consumer.initial_adopted_fraction,
                                         np.random.default_rng([7, model.replicate]))
        for key, maker in (("sparse", kernels.SparsePassKernel),
                           ("skip", kernels.SkipSettledKernel)):
            rng = np.random.default_rng([8, model.replicate])
            out[key].append(_curve(maker(indptr, indices, start, p, q, rng), STEPS))
        mesa = kernels.MesaBassModel(indptr, indices, start, p, q, seed=9 + model.replicate)
        out["mesa"].append(_curve(mesa, STEPS))
    return {key: np.array(value) for key, value in out.items()}


def test_both_reference_kernels_give_identical_runs(curves, kernels):
    # Same start, same random stream: skipping settled consumers changes no draw.
    np.testing.assert_array_equal(curves["sparse"], curves["skip"])
    indptr = np.array([0, 1, 2])
    indices = np.array([1, 0])
    a = kernels.SparsePassKernel(indptr, indices, np.array([True, False]), 0.0, 1.0,
                                 np.random.default_rng(0))
    assert a.step() == 1  # the isolated pair: q = 1 and a full share adopts for sure
    b = kernels.SkipSettledKernel(indptr, indices, np.array([False, False]), 0.0, 1.0,
                                  np.random.default_rng(0))
    assert b.step() == 0  # no innovation and nobody adopted: nothing happens


@pytest.mark.parametrize("baseline", ["sparse", "mesa"])
def test_baselines_follow_the_models_bass_rule_in_distribution(curves, baseline):
    model, other = curves["model"], curves[baseline]
    se = np.sqrt(model.var(axis=0, ddof=1) / REPLICATES + other.var(axis=0, ddof=1) / REPLICATES)
    gap = np.abs(model.mean(axis=0) - other.mean(axis=0))
    tolerance = 4 * se + 2.0 / N
    worst = int(np.argmax(gap - tolerance))
    assert (gap <= tolerance).all(), (
        f"step {worst}: model {model.mean(axis=0)[worst]:.4f} vs {baseline} "
        f"{other.mean(axis=0)[worst]:.4f}, tolerance {tolerance[worst]:.4f}")
    # The comparison has power: imitation lifts adoption far above innovation alone.
    cfg = small_config(*BASS)
    innovation_only = (1 - (1 - cfg.consumer.initial_adopted_fraction)
                       * (1 - cfg.decision.p) ** STEPS)
    assert other.mean(axis=0)[-1] > innovation_only + 0.1


def test_the_model_part_measures_model_rows_only():
    # The markets and their paired rows are the market part's (run_markets): measured at
    # every size of the model part they would run at 10,000 to 10,000,000 consumers, and a
    # paired row has no ms/step for the model part's ratios.
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location("bench_model", BENCHMARKS / "bench_model.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    children = module.children_for(10_000_000, 10**9, 10**9)
    assert children == list(module.MODEL_CHILDREN)
    assert not set(children) & (set(module.MARKETS) | {"paired durable", "paired repeat"})
    assert set(module.CHILDREN) >= set(children) | set(module.MARKETS)


@pytest.fixture(scope="module")
def population():
    return _bench_module("population")


def _runs(means: dict[int, float], spread: float = 0.01, replicates: int = 6):
    """Synthetic population-study runs of one market: final adoption around ``means[n]``."""
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = [{"market": "m", "consumers": n, "replicate": r,
             **{o: 0.5 for o in ("mean_adoption", "net_sentiment", "rejecters_end",
                                 "spend_per_consumer", "cost_per_adopter")},
             "time_to_half": 20.0, "final_adoption": mean + spread * rng.standard_normal()}
            for n, mean in means.items() for r in range(replicates)]
    return pd.DataFrame(rows)


def test_population_summary_finds_where_a_drifting_outcome_settles(population):
    # Final adoption drifts by 10 points until 4,000 consumers, then holds: it settles there.
    table = population.summarise(_runs({1000: 0.6, 2000: 0.65, 4000: 0.7, 8000: 0.7,
                                        16000: 0.7}))
    final = table[table["outcome"] == "final_adoption"].set_index("consumers")
    assert final["settled_from"].iloc[0] == 4000
    assert not final.loc[1000, "within"] and final.loc[8000, "within"]
    assert abs(final.loc[1000, "diff_from_largest"] + 10.0) < 1.0  # shown in points
    # An outcome that never moves settles at the smallest size.
    flat = table[table["outcome"] == "time_to_half"]
    assert (flat["settled_from"] == 1000).all()


def test_population_outcomes_of_a_run_are_intensive(population):
    from wommsim.model import WommModel

    cfg = small_config("agents=off", consumers=400, steps=6)
    model = WommModel(cfg)
    for _ in range(cfg.steps):
        model.step()
    ts = model.timeseries()
    out = population.run_outcomes(ts, model.n)
    assert out["final_adoption"] == ts["adopted_fraction"].iloc[-1]
    assert out["spend_per_consumer"] == ts["cumulative_spend"].iloc[-1] / 400
    assert 0.0 <= out["rejecters_end"] <= 1.0
