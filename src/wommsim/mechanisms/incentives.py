"""Incentives: "follow us for a discount".

Offers go to random consumers who neither follow, nor have bought, nor hold an offer.
Takers follow the brand, become aware, and hold an offer that adds ``bonus`` to their
purchase utility until they buy or it expires (``expiry_steps`` after it was taken); a buyer
holding one pays ``1 - discount`` of the price (the discount is given when redeemed, not
when offered). Their expectation of quality changes by ``expectation_shift`` (clipped to
[-1, 1]): negative by default, because consumers infer quality from price and a price
promotion lowers the brand's evaluation (Rao & Monroe 1989, meta-analysis of the
price-perceived quality relation; Raghubir & Corfman 1999, promotions lower pre-trial
evaluations of a brand). A lower expectation makes disappointment rarer but, through
assimilation (:func:`wommsim.mechanisms.purchase.disconfirm`), lowers perceived quality.
"""

from __future__ import annotations

import numpy as np

from wommsim.config import IncentivesConfig
from wommsim.mechanisms.base import Influence, Mechanism, Metric, Stage
from wommsim.mechanisms.common import affordable, bernoulli, choose
from wommsim.state import ConsumerState

INFLUENCE = Influence(5, "incentives", "incentives")
INCENTIVES = INFLUENCE.code


def offer(s: ConsumerState, cfg: IncentivesConfig, money: float, step: int,
          rng: np.random.Generator) -> dict[str, float]:
    """Expire offers held ``expiry_steps``, then make up to ``money // cost_per_offer``
    offers; returns ``incentive_offers`` and ``spend``."""
    expired = s.incentivised & (step - s.offer_step >= cfg.expiry_steps)
    s.incentivised[expired] = False
    capacity = affordable(money, cfg.cost_per_offer)
    if capacity == 0:
        return {"incentive_offers": 0, "spend": 0.0}
    eligible = np.flatnonzero(~s.follower & ~s.adopted & ~s.incentivised)
    offered = choose(rng, eligible, capacity)
    takers = bernoulli(rng, offered, cfg.accept_prob)
    first_aware = takers[~s.aware[takers]]
    s.aware[first_aware] = True
    s.aware_source[first_aware] = INCENTIVES
    s.follow_source[takers] = INCENTIVES  # none of them followed: offers go to non-followers
    s.follower[takers] = True
    s.incentivised[takers] = True
    s.offer_step[takers] = step
    s.expectation[takers] = np.clip(s.expectation[takers] + cfg.expectation_shift, -1.0, 1.0)
    return {"incentive_offers": int(offered.size), "spend": offered.size * cfg.cost_per_offer}


MECHANISM = Mechanism(
    name="incentives", stage=Stage.LEVERS, lever=True, stream="incentives",
    step=lambda model, rng, money: offer(model.state, model.config.incentives, money,
                                         model.steps, rng),
    doc="follow-for-discount offers: takers follow, hold a discount (until it expires) and "
        "revise their expected quality (down by default: price-quality inference)",
    recipients="consumers who neither follow the brand, have bought it, nor hold an offer",
    writes=("aware", "aware_source", "follower", "follow_source", "incentivised", "offer_step",
            "expectation"),
    metrics=(Metric("incentive_offers", "flow", "follow-for-discount offers made"),),
    influence=INFLUENCE,
)
