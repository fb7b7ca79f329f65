"""Advertising: paid impressions on random consumers, adstock, hype and annoyance.

Ad-receptive consumers may become aware, gain adstock (a short-lived, ad-driven attitude;
advertising carry-over is short, Trusov, Bucklin & Pauwels 2009) and raise their
expectation of quality toward what the ads claim (hype). Ad-blind consumers (96% by
default: the widely quoted share of Facebook users who never click an ad) are not
persuaded; an impression may annoy them (opinion drops) and an annoyed follower may
unfollow.
"""

from __future__ import annotations

import numpy as np

from wommsim.config import AdvertisingConfig
from wommsim.mechanisms.base import Influence, Mechanism, Metric, Stage
from wommsim.mechanisms.common import affordable
from wommsim.state import ConsumerState

INFLUENCE = Influence(0, "ads", "advertising")
ADS = INFLUENCE.code


def impressions_per_consumer(rng: np.random.Generator, impressions: int, n: int) -> np.ndarray:
    """How many of ``impressions`` uniformly placed impressions each consumer receives."""
    if impressions <= 10 * n:
        return np.bincount(rng.integers(0, n, size=impressions), minlength=n)
    # Same distribution without materialising one index per impression.
    return rng.multinomial(impressions, np.full(n, 1.0 / n))


def advertise(s: ConsumerState, cfg: AdvertisingConfig, money: float,
              rng: np.random.Generator) -> dict[str, float]:
    """Buy impressions with ``money``; returns ``ad_impressions`` and ``spend``."""
    impressions = affordable(money, cfg.cost_per_impression)
    if impressions == 0:
        return {"ad_impressions": 0, "spend": 0.0}
    counts = impressions_per_consumer(rng, impressions, s.n)
    hit = np.flatnonzero(counts)
    c = counts[hit]
    receptive = s.ad_receptive[hit]

    r, cr = hit[receptive], c[receptive]
    # A consumer hit c times is missed by all c chances: 1 - (1 - prob)^c.
    newly = r[(rng.random(r.size) < 1.0 - (1.0 - cfg.awareness_prob) ** cr) & ~s.aware[r]]
    s.aware[newly] = True
    s.aware_source[newly] = ADS
    s.adstock[r] = 1.0 - (1.0 - s.adstock[r]) * (1.0 - cfg.gain * cfg.trust) ** cr
    s.expectation[r] = cfg.claim - (cfg.claim - s.expectation[r]) * (1.0 - cfg.hype) ** cr

    b, cb = hit[~receptive], c[~receptive]
    annoyed = b[rng.random(b.size) < 1.0 - (1.0 - cfg.annoy_prob) ** cb]
    s.opinion[annoyed] = np.maximum(s.opinion[annoyed] - cfg.annoyance, -1.0)
    leaving = annoyed[s.follower[annoyed]]
    leaving = leaving[rng.random(leaving.size) < cfg.unfollow_prob]
    s.follower[leaving] = False
    return {"ad_impressions": impressions, "spend": impressions * cfg.cost_per_impression}


MECHANISM = Mechanism(
    name="advertising", stage=Stage.LEVERS, lever=True, stream="advertising",
    step=lambda model, rng, money: advertise(model.state, model.config.advertising, money, rng),
    doc="paid impressions: awareness, adstock and hype for the ad-receptive, annoyance and "
        "unfollows for the ad-blind",
    writes=("aware", "aware_source", "adstock", "expectation", "opinion", "follower"),
    metrics=(Metric("ad_impressions", "flow", "impressions bought"),),
    influence=INFLUENCE,
)
