"""Incentives: "follow us for a discount".

Offers go to random consumers who neither follow, nor have bought, nor hold an offer.
Takers follow the brand, become aware, and hold a discount that adds ``bonus`` to their
purchase utility until they buy; their expectation of quality rises by
``expectation_boost``, which is what makes the tactic backfire when the product disappoints.
"""

from __future__ import annotations

import numpy as np

from wommsim.config import IncentivesConfig
from wommsim.mechanisms.common import affordable, bernoulli, choose
from wommsim.state import INCENTIVES, ConsumerState


def offer(s: ConsumerState, cfg: IncentivesConfig, money: float,
          rng: np.random.Generator) -> dict[str, float]:
    """Make up to ``money // cost_per_offer`` offers; returns ``offers`` and ``spend``."""
    capacity = affordable(money, cfg.cost_per_offer)
    if capacity == 0:
        return {"offers": 0, "spend": 0.0}
    eligible = np.flatnonzero(~s.follower & ~s.adopted & ~s.incentivised)
    offered = choose(rng, eligible, capacity)
    takers = bernoulli(rng, offered, cfg.accept_prob)
    first_aware = takers[~s.aware[takers]]
    s.aware[first_aware] = True
    s.aware_source[first_aware] = INCENTIVES
    s.follower[takers] = True
    s.incentivised[takers] = True
    s.expectation[takers] = np.minimum(s.expectation[takers] + cfg.expectation_boost, 1.0)
    return {"offers": int(offered.size), "spend": offered.size * cfg.cost_per_offer}
