"""After purchase: experienced quality, satisfaction, advocacy, reviews and channel.

Experienced quality ~ Normal(quality, quality_spread), clipped to [-1, 1], except that a
share ``brand.defect_share`` of units is defective and experienced at
``brand.defect_quality``. Expectations assimilate: the perceived quality (stored as
``experience``, what the buyer rates) is pulled ``assimilation`` of the way toward the
expectation (assimilation-contrast, Anderson 1973;
Anderson & Sullivan 1993). Satisfaction is the disconfirmation, perceived - expectation,
with a shortfall weighing ``loss_aversion`` times a surplus (Anderson & Sullivan 1993:
negative disconfirmation affects satisfaction more than positive). A first buyer's opinion
becomes ``satisfaction_gain × satisfaction`` (clipped): satisfied buyers turn advocates,
disappointed ones detractors, and a disappointed follower unfollows with ``unfollow_prob``.
A repeat purchase moves the opinion ``experience_weight`` of the way there, and every
purchase brings the expectation ``expectation_learning`` of the way to the perceived
quality. Some buyers review unprompted, the more likely the more extreme their experience
(:func:`wommsim.mechanisms.reviews.post_organic`). A buyer who researches online buys online
with probability ``1 / (1 + offline_per_online)`` (so each online sale goes with
``offline_per_online`` web-influenced offline sales: $3.45 per $1 by default); everyone else
buys offline.
"""

from __future__ import annotations

import numpy as np

from wommsim.config import Config, PurchaseConfig
from wommsim.mechanisms.base import Mechanism, Metric, Stage
from wommsim.mechanisms.common import bernoulli, neighbours_of
from wommsim.mechanisms.reviews import ReviewBoard, post_organic
from wommsim.state import CHANNEL_OFFLINE, CHANNEL_ONLINE, ConsumerState


def disconfirm(cfg: PurchaseConfig, experience: np.ndarray, expectation: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Perceived quality and satisfaction of buyers with ``experience`` and ``expectation``:
    ``perceived = experience + assimilation × (expectation - experience)`` (assimilation),
    ``satisfaction = perceived - expectation``, times ``loss_aversion`` where negative
    (a shortfall hurts more than a surplus helps)."""
    perceived = experience + cfg.assimilation * (expectation - experience)
    gap = perceived - expectation
    return perceived, np.where(gap < 0, cfg.loss_aversion * gap, gap)


def adopt(s: ConsumerState, cfg: Config, buyers: np.ndarray, triggers: np.ndarray,
          step: int, board: ReviewBoard, rng: np.random.Generator) -> dict[str, float]:
    """Record the purchases of ``buyers`` at ``step`` and apply their consequences.

    A first purchase of the brand records when it happened and the influence credited with
    it (how the customer was acquired) and sets the opinion from the satisfaction; a repeat
    purchase (``market.category=repeat``) moves the opinion toward it by
    ``purchase.experience_weight``. Satisfaction and perceived quality are
    :func:`disconfirm`'s. After every purchase the expectation closes
    ``purchase.expectation_learning`` of its gap to the perceived quality."""
    first = ~s.adopted[buyers]
    new = buyers[first]
    unaware = ~s.aware[buyers]  # possible under the bass rule, which needs no awareness
    s.aware_source[buyers[unaware]] = triggers[unaware]
    s.aware[buyers] = True
    s.adopted[buyers] = True
    s.adopted_step[new] = step
    s.trigger[new] = triggers[first]
    s.purchases[buyers] += 1
    s.incentivised[buyers] = False  # the discount is used up
    s.last_purchase_step[buyers] = step
    s.experience[buyers] = np.clip(rng.normal(cfg.brand.quality, cfg.brand.quality_spread,
                                              buyers.size), -1.0, 1.0)
    if cfg.brand.defect_share > 0:  # a share of units is clearly bad (drawn only then)
        defective = buyers[rng.random(buyers.size) < cfg.brand.defect_share]
        s.experience[defective] = cfg.brand.defect_quality
    p = cfg.purchase
    expected = s.expectation[buyers]
    perceived, satisfaction = disconfirm(p, s.experience[buyers], expected)
    s.experience[buyers] = perceived  # what the buyer perceives, and rates
    s.satisfaction[buyers] = satisfaction
    if p.enabled:
        felt = np.clip(p.satisfaction_gain * s.satisfaction[buyers], -1.0, 1.0)
        if new.size < buyers.size:  # repeat purchases: experience accumulates
            felt = np.where(first, felt, (1.0 - p.experience_weight) * s.opinion[buyers]
                            + p.experience_weight * felt)
        s.opinion[buyers] = felt
        disappointed = buyers[(s.satisfaction[buyers] < 0) & s.follower[buyers]]
        s.follower[bernoulli(rng, disappointed, p.unfollow_prob)] = False
    s.expectation[buyers] = expected + p.expectation_learning * (perceived - expected)
    if cfg.reviews.enabled:  # a consumer reviews a brand once
        post_organic(s, cfg.reviews, buyers, board, rng)

    online_share = 1.0 / (1.0 + cfg.channels.offline_per_online)
    online = s.researches_online[buyers] & (rng.random(buyers.size) < online_share)
    s.channel[buyers] = np.where(online, CHANNEL_ONLINE, CHANNEL_OFFLINE)
    n_online = int(online.sum())
    return {"online_sales": n_online, "offline_sales": int(buyers.size - n_online)}


def takings(cfg: Config, discounted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What each purchase pays and earns: the price, less ``incentives.discount`` of it for
    a buyer redeeming an offer (``discounted``); the margin is what is paid less the unit
    cost, ``price × (1 - economics.margin)``, so a discount comes off the margin."""
    price = cfg.economics.price
    paid = np.where(discounted, price * (1.0 - cfg.incentives.discount), price)
    return paid, paid - price * (1.0 - cfg.economics.margin)


def _step(model, rng: np.random.Generator, money: float) -> dict[str, float]:
    s, buyers = model.state, model.buyers
    first = ~s.adopted[buyers]
    model.first_buyers, model.first_triggers = buyers[first], model.triggers[first]
    paid, margin = takings(model.config, s.incentivised[buyers])  # before adopt uses offers
    sales = adopt(s, model.config, buyers, model.triggers, model.steps, model.review_board,
                  rng)
    model.record_sales(paid, margin, first)
    # Keep adopted-neighbour counts exact from new buyers' edges: O(their edges), not O(n).
    np.add.at(model.adopted_neighbours,
              neighbours_of(model.indptr, model.indices, model.first_buyers), 1.0)
    return sales


MECHANISM = Mechanism(
    name="purchase", stage=Stage.PURCHASE, stream="purchase", step=_step, switch="inside",
    doc="what a purchase does: experience, satisfaction, advocacy or detraction, unfollows, "
        "organic reviews, channel (purchase.enabled switches the satisfaction effects only)",
    writes=("aware", "aware_source", "adopted", "adopted_step", "trigger", "purchases",
            "incentivised", "experience", "satisfaction", "opinion", "expectation", "follower",
            "reviewed", "channel", "last_purchase_step"),
    metrics=(Metric("online_sales", "flow", "purchases made online"),
             Metric("offline_sales", "flow", "purchases made offline")),
)
