"""The category over time: whose customer each consumer is, and who leaves.

A purchase makes the buyer the brand's customer (``current_brand``); a customer of another
brand who buys it has switched. In a repeat-purchase category (``market.category=repeat``) a
customer also leaves its brand when its opinion of it falls below ``market.churn_opinion``
(whatever lowered it: its own experience, ad annoyance, peers' talk), and leaves the
category with ``market.category_exit`` per step (no more purchase occasions). A brand's
churn in a step is the customers it lost: switched out, lapsed or gone.
"""

from __future__ import annotations

import numpy as np

from wommsim.mechanisms.base import Mechanism, Stage
from wommsim.mechanisms.common import bernoulli
from wommsim.state import NO_BRAND


def settle(model, rng: np.random.Generator, money: float) -> dict[str, float]:
    """Move this step's buyers to the brand they bought, then let customers churn; each
    brand's side records ``switched_in``, ``switched_out`` and ``churned``."""
    s, sides = model.state, model.markets
    brands = len(sides)
    out = np.zeros(brands, dtype=np.int64)
    for b, side in enumerate(sides):
        previous = s.current_brand[side.buyers]
        moved = previous[(previous != NO_BRAND) & (previous != b)]
        side.switched_in = int(moved.size)
        out += np.bincount(moved, minlength=brands)
    for b, side in enumerate(sides):  # after all brands' reads: one choice per buyer
        s.current_brand[side.buyers] = b
    lost = out.copy()
    market = model.config.market
    if market.category == "repeat":
        customers = np.flatnonzero(s.current_brand != NO_BRAND)
        brand = s.current_brand[customers].astype(np.int64)
        lapsed = s.opinion[brand, customers] < market.churn_opinion
        gone = bernoulli(rng, customers[~lapsed], market.category_exit)
        s.category_rate[gone] = 0.0
        leaving = np.concatenate([customers[lapsed], gone])
        lost += np.bincount(s.current_brand[leaving].astype(np.int64), minlength=brands)
        s.current_brand[leaving] = NO_BRAND
    for b, side in enumerate(sides):
        side.switched_out, side.churned = int(out[b]), int(lost[b])
    return {}


MECHANISM = Mechanism(
    name="category", stage=Stage.PURCHASE, stream="category", step=settle, market=True,
    doc="buyers become the customers of the brand they bought (switching from another); in a "
        "repeat category customers whose opinion falls below market.churn_opinion lapse and "
        "some leave the category",
    writes=("current_brand", "category_rate"),
)
