"""Advertising: paid impressions, their awareness, adstock and hype, and annoyance.

Clicking is not the channel of effect: in a field experiment on 1.6 million customers 78% of
a campaign's sales lift came from consumers who never clicked (Lewis & Reiley 2014). So
every consumer an impression reaches is affected: one who clicks ads (``ad_receptive``; the
share ``1 - consumer.ad_blind_fraction``, 4% by default) fully, one who never clicks by
``nonclicker_effect`` of that per impression (:func:`nonclicker_effect` derives 0.15 from
the source). An impression may make an unaware consumer aware, raises its adstock (a
short-lived, ad-driven attitude) and pulls its expectation of quality toward what the ads
claim (hype); the ad-driven part of the expectation is kept in ``hype`` so that it fades
with adstock (:mod:`wommsim.mechanisms.decay`). Repeated impressions in a step wear out:
each closes a share of the remaining gap, ``1 - (1 - r)^c`` for ``c`` impressions. A
non-clicker may also be annoyed (opinion drops) and an annoyed follower may unfollow.

Impressions land uniformly on everyone, on followers, or on look-alikes of customers
(their network neighbours) (``targeting``); ``frequency_cap`` limits the impressions one
consumer receives in a step, and impressions over it are not bought.
"""

from __future__ import annotations

import numpy as np

from wommsim.config import AdvertisingConfig
from wommsim.mechanisms.base import Influence, Mechanism, Metric, Stage
from wommsim.mechanisms.common import affordable, neighbours_of
from wommsim.state import ConsumerState

INFLUENCE = Influence(0, "ads", "advertising")
ADS = INFLUENCE.code


def nonclicker_effect(lift_share_nonclickers: float, click_share: float) -> float:
    """Per-person effect of an exposed non-clicker relative to an exposed clicker, from the
    share of a campaign's lift that came from non-clickers and the share of the exposed who
    click: ``(lift / (1 - click)) / ((1 - lift) / click)``. Lewis & Reiley (2014): 78% of
    the lift from non-clickers; with 4% clicking, ``(0.78 / 0.96) / (0.22 / 0.04) = 0.148``.
    """
    if not (0.0 < click_share < 1.0 and 0.0 <= lift_share_nonclickers < 1.0):
        raise ValueError("click_share must be in (0, 1) and the non-clickers' share of the "
                         "lift in [0, 1)")
    return (lift_share_nonclickers / (1.0 - click_share)) / (
        (1.0 - lift_share_nonclickers) / click_share)


def koyck_retention(short_run: float, long_run: float) -> float:
    """Carry-over ``λ`` per period of a Koyck (geometric adstock) model with short-run
    elasticity ``short_run`` and long-run ``long_run``: ``LR = SR / (1 - λ)``, so
    ``λ = 1 - SR / LR``. Sethuraman, Tellis & Briesch (2011): 0.12 and 0.24 give 0.5."""
    if not 0.0 < short_run <= long_run:
        raise ValueError("need 0 < short_run <= long_run")
    return 1.0 - short_run / long_run


def arc_elasticity(y_low: float, y_high: float, x_low: float, x_high: float) -> float:
    """Arc (midpoint) elasticity of ``y`` with respect to ``x``: the relative change of ``y``
    over the relative change of ``x``, each relative to the midpoint; NaN if undefined."""
    dy, my = y_high - y_low, (y_high + y_low) / 2.0
    dx, mx = x_high - x_low, (x_high + x_low) / 2.0
    if my == 0 or dx == 0 or mx == 0:
        return float("nan")
    return float((dy / my) / (dx / mx))


def impressions_per_consumer(rng: np.random.Generator, impressions: int, n: int) -> np.ndarray:
    """How many of ``impressions`` uniformly placed impressions each consumer receives."""
    if impressions <= 10 * n:
        return np.bincount(rng.integers(0, n, size=impressions), minlength=n)
    # Same distribution without materialising one index per impression.
    return rng.multinomial(impressions, np.full(n, 1.0 / n))


def audience(s: ConsumerState, targeting: str, indptr: np.ndarray | None = None,
             indices: np.ndarray | None = None) -> np.ndarray | None:
    """The consumers impressions are placed on: None for everyone (``none``, or a target
    group that is empty), the followers (``followers``) or the look-alikes of customers
    (``lookalike``: non-customers who are a network neighbour of a customer)."""
    if targeting == "followers":
        group = np.flatnonzero(s.follower)
    elif targeting == "lookalike":
        near = np.zeros(s.n, dtype=bool)
        near[neighbours_of(indptr, indices, np.flatnonzero(s.adopted))] = True
        group = np.flatnonzero(near & ~s.adopted)
    else:
        return None
    return group if group.size else None


def advertise(s: ConsumerState, cfg: AdvertisingConfig, money: float,
              rng: np.random.Generator, indptr: np.ndarray | None = None,
              indices: np.ndarray | None = None) -> dict[str, float]:
    """Buy impressions with ``money``; returns ``ad_impressions`` and ``spend``. The graph
    (``indptr``, ``indices``) is needed by ``targeting=lookalike`` only."""
    impressions = affordable(money, cfg.cost_per_impression)
    if impressions == 0:
        return {"ad_impressions": 0, "spend": 0.0}
    group = audience(s, cfg.targeting, indptr, indices)
    counts = impressions_per_consumer(rng, impressions, s.n if group is None else group.size)
    if cfg.frequency_cap:
        # Impressions over the cap are not bought: the money stays unspent.
        np.minimum(counts, cfg.frequency_cap, out=counts)
    shown = int(counts.sum())
    placed = np.flatnonzero(counts)
    c = counts[placed]
    hit = placed if group is None else group[placed]
    # Per-impression effect: 1 for a clicker, nonclicker_effect for everyone else.
    clicker = s.ad_receptive[hit]

    def untouched(rate: float) -> np.ndarray:
        """``(1 - e × rate)^c`` per consumer hit (``e`` 1 for a clicker, else
        ``nonclicker_effect``): the share of a gap that c impressions leave open."""
        with np.errstate(divide="ignore"):  # a rate of 1 closes the gap: log 0 = -inf
            logs = np.log1p(-rate), np.log1p(-cfg.nonclicker_effect * rate)
        return np.exp(np.where(clicker, *logs) * c)

    # A consumer hit c times is missed by all c chances: 1 - (1 - prob)^c (wear-out).
    unaware = ~s.aware[hit]
    newly = hit[unaware & (rng.random(hit.size) >= untouched(cfg.awareness_prob))]
    s.aware[newly] = True
    s.aware_source[newly] = ADS
    s.adstock[hit] = 1.0 - (1.0 - s.adstock[hit]) * untouched(cfg.gain * cfg.trust)
    before = s.expectation[hit]
    after = cfg.claim - (cfg.claim - before) * untouched(cfg.hype)
    s.expectation[hit] = after
    s.hype[hit] += after - before

    b, cb = hit[~clicker], c[~clicker]
    annoyed = b[rng.random(b.size) < 1.0 - (1.0 - cfg.annoy_prob) ** cb]
    s.opinion[annoyed] = np.maximum(s.opinion[annoyed] - cfg.annoyance, -1.0)
    leaving = annoyed[s.follower[annoyed]]
    leaving = leaving[rng.random(leaving.size) < cfg.unfollow_prob]
    s.follower[leaving] = False
    return {"ad_impressions": shown, "spend": shown * cfg.cost_per_impression}


def _step(model, rng: np.random.Generator, money: float) -> dict[str, float]:
    cfg = model.config.advertising
    graph = (model.indptr, model.indices) if cfg.targeting == "lookalike" else (None, None)
    return advertise(model.state, cfg, money, rng, *graph)


MECHANISM = Mechanism(
    name="advertising", stage=Stage.LEVERS, lever=True, stream="advertising", step=_step,
    doc="paid impressions: awareness, adstock and hype for everyone reached (non-clickers "
        "less), annoyance and unfollows for non-clickers",
    writes=("aware", "aware_source", "adstock", "expectation", "hype", "opinion", "follower"),
    metrics=(Metric("ad_impressions", "flow", "impressions bought"),),
    influence=INFLUENCE,
    recipients="consumers below advertising.frequency_cap",
)
