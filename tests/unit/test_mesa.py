"""Mesa's conventions: seed= and rng= keywords, running, and mesa.batch_run."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest

from tests.helpers import small_config
from wommsim.model import WommModel


def test_seed_and_rng_keywords_set_the_config_seed():
    assert WommModel(consumers=200, seed=7).config.seed == 7
    assert WommModel(consumers=200, rng=7).config.seed == 7
    assert WommModel(small_config(consumers=200), rng=9).config.seed == 9
    drawn = WommModel(consumers=200, rng=np.random.default_rng(3)).config.seed
    assert drawn == WommModel(consumers=200, rng=np.random.default_rng(3)).config.seed
    assert WommModel(consumers=200).config.seed == 42  # no keyword: the config's seed
    with pytest.raises(TypeError, match="seed or rng"):
        WommModel(consumers=200, seed=1, rng=1)


def test_running_turns_false_after_the_configured_steps():
    model = WommModel(small_config(consumers=200, steps=3))
    states = []
    for _ in range(3):
        model.step()
        states.append(model.running)
    assert states == [True, True, False]


#: 1,000 a week at 300 consumers: ads enough to tell the ad-blind market from the other
BUDGET = 1000 / 300


def test_mesa_batch_run_drives_the_model_with_nested_parameters():
    results = pd.DataFrame(mesa.batch_run(
        WommModel,
        parameters={"consumers": 300, "steps": 6, "strategy": "ad_heavy",
                    "brand__budget_per_consumer": BUDGET,
                    "consumer__ad_blind_fraction": [0.0, 0.96]},
        rng=[1, 2], max_steps=1000, data_collection_period=1, display_progress=False))
    assert len(results) == 2 * 2 * 7  # 2 values × 2 seeds × steps 0..6: stops at `steps`
    final = results[results["Step"] == 6].set_index(["consumer__ad_blind_fraction", "seed"])
    # Adopters credited to ads (over all steps) are many more where everyone sees ads.
    by_ads = results.groupby("consumer__ad_blind_fraction")["new_adopters_ads"].sum()
    assert by_ads[0.0] > 2 * by_ads[0.96]
    assert final.loc[0.0, "adopted_fraction"].nunique() == 2
    # The same seed gives the same run as the model built directly.
    model = WommModel(consumers=300, steps=6, strategy="ad_heavy",
                      brand__budget_per_consumer=BUDGET, consumer__ad_blind_fraction=0.0,
                      seed=1)
    for _ in range(6):
        model.step()
    assert final.loc[(0.0, 1), "adopted_fraction"] == model.metrics["adopted_fraction"]


def test_agents_are_built_only_when_read():
    import warnings

    model = WommModel(small_config("agents=auto", consumers=300, steps=3))
    model.step()
    assert len(model._all_agents) == 0  # nothing read them: none built (Mesa's own set)
    agents = list(model.agents)  # the first read builds them, one per consumer
    assert len(agents) == model.n and model.space is not None
    assert agents[5].opinion == model.state.brand(0).opinion[agents[5].index]
    model.step()  # the run goes on with them
    off = WommModel(small_config("agents=off", consumers=300, steps=3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert len(off.agents) == 0 and off.space is None
        len(off.agents)
    assert len(caught) == 1 and "no Mesa agents: agents=off" in str(caught[0].message)
