"""The purchase decision: the ``opinion`` rule or the ``bass`` rule, with attribution.

``opinion``: an aware non-adopter buys with probability
``purchase_rate × logistic((utility - threshold) / temperature)``, where
``utility = opinion + ad_weight × adstock + social_weight × (adopted share of neighbours)
+ review_weight × credibility × review score (online researchers only) + incentive bonus``.
The purchase is credited to one influence, drawn in proportion to the positive parts of
those terms (the opinion term is credited to the influence that last raised the opinion;
with no positive term, to the influence that made the consumer aware).

``bass``: a non-adopter buys with hazard ``p_i + q × a_i / k_i`` (Bass 1969 on a network),
where ``a_i`` is its adopted neighbours, ``k_i`` its degree and ``p_i = p + ad_p_gain ×
adstock`` its external influence; the trigger is advertising with probability
``p_i / hazard`` and word of mouth otherwise.
"""

from __future__ import annotations

import numpy as np

from wommsim.config import DecisionConfig
from wommsim.mechanisms.advertising import ADS
from wommsim.mechanisms.base import Mechanism, Stage
from wommsim.mechanisms.incentives import INCENTIVES
from wommsim.mechanisms.reviews import REVIEWS
from wommsim.mechanisms.wom import WOM
from wommsim.state import ConsumerState


def credit(rng: np.random.Generator, shares: np.ndarray) -> np.ndarray:
    """One influence per row, drawn in proportion to the row's non-negative ``shares``."""
    cumulative = np.cumsum(shares, axis=1)
    u = rng.random(shares.shape[0]) * cumulative[:, -1]
    return (cumulative > u[:, None]).argmax(axis=1).astype(np.int8)


def opinion_terms(s: ConsumerState, cfg: DecisionConfig, who: np.ndarray,
                  neighbour_share: np.ndarray, review_signal: float,
                  incentive_bonus: float, influences: int) -> np.ndarray:
    """Utility terms of consumers ``who``, one column per influence (opinion excluded).

    ``review_signal`` is the credibility-weighted review score seen by online researchers;
    ``influences`` is how many influences there are (the columns).
    """
    terms = np.zeros((who.size, influences))
    terms[:, ADS] = cfg.ad_weight * s.adstock[who]
    terms[:, WOM] = cfg.social_weight * neighbour_share[who]
    terms[:, REVIEWS] = cfg.review_weight * review_signal * s.researches_online[who]
    terms[:, INCENTIVES] = incentive_bonus * s.incentivised[who]
    return terms


def opinion_probability(cfg: DecisionConfig, utility: np.ndarray,
                        threshold: np.ndarray) -> np.ndarray:
    """``purchase_rate × logistic((utility - threshold) / temperature)``, in [0, 1]."""
    z = np.clip((utility - threshold) / cfg.temperature, -500.0, 500.0)
    return cfg.purchase_rate / (1.0 + np.exp(-z))


def opinion_rule(s: ConsumerState, cfg: DecisionConfig, neighbour_share: np.ndarray,
                 review_signal: float, incentive_bonus: float, influences: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Buyers this step (aware non-adopters) and the influence credited with each."""
    who = np.flatnonzero(s.aware & ~s.adopted)
    utility = s.opinion[who] + cfg.ad_weight * s.adstock[who]
    utility += cfg.social_weight * neighbour_share[who]
    if review_signal:
        utility += (cfg.review_weight * review_signal) * s.researches_online[who]
    if incentive_bonus:
        utility += incentive_bonus * s.incentivised[who]
    prob = opinion_probability(cfg, utility, s.threshold[who])
    buyers = who[rng.random(who.size) < prob]

    # Attribution, for buyers only: the positive parts of the utility terms.
    shares = np.maximum(opinion_terms(s, cfg, buyers, neighbour_share, review_signal,
                                      incentive_bonus, influences), 0.0)
    opinion = s.opinion[buyers]
    source = s.opinion_source[buyers]
    has_source = source >= 0
    shares[np.flatnonzero(has_source), source[has_source]] += np.maximum(opinion[has_source], 0)
    none = shares.sum(axis=1) == 0
    fallback = s.aware_source[buyers[none]]
    shares[np.flatnonzero(none), np.where(fallback >= 0, fallback, WOM)] = 1.0
    return buyers, credit(rng, shares)


def bass_hazard(cfg: DecisionConfig, adstock: np.ndarray, adopted_neighbours: np.ndarray,
                degree: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """External influence ``p_i`` and hazard ``min(1, p_i + q a_i / k_i)`` per consumer."""
    external = np.minimum(cfg.p + cfg.ad_p_gain * adstock, 1.0)
    social = cfg.q * np.divide(adopted_neighbours, degree, out=np.zeros(degree.size),
                               where=degree > 0)
    return external, np.minimum(external + social, 1.0)


def bass_rule(s: ConsumerState, cfg: DecisionConfig, adopted_neighbours: np.ndarray,
              degree: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Buyers this step under the Bass hazard, and their triggers (ads or word of mouth)."""
    who = np.flatnonzero(~s.adopted)
    external, hazard = bass_hazard(cfg, s.adstock[who], adopted_neighbours[who], degree[who])
    bought = rng.random(who.size) < hazard
    buyers = who[bought]
    by_ads = rng.random(buyers.size) * hazard[bought] < external[bought]
    return buyers, np.where(by_ads, ADS, WOM).astype(np.int8)


def _step(model, rng: np.random.Generator, money: float) -> dict[str, float]:
    """Decide who buys; the purchase stage reads ``model.buyers`` and ``model.triggers``."""
    cfg, s, board = model.config, model.state, model.review_board
    if cfg.decision.rule == "bass":
        model.buyers, model.triggers = bass_rule(s, cfg.decision, model.adopted_neighbours,
                                                 model.degree, rng)
        return {}
    share = np.divide(model.adopted_neighbours, model.degree, out=np.zeros(model.n),
                      where=model.degree > 0)
    review_signal = board.score * board.weight(cfg.reviews) if cfg.reviews.enabled else 0.0
    bonus = cfg.incentives.bonus if cfg.incentives.enabled else 0.0
    model.buyers, model.triggers = opinion_rule(s, cfg.decision, share, review_signal, bonus,
                                                len(model.influences), rng)
    return {}


MECHANISM = Mechanism(
    name="decision", stage=Stage.DECISION, stream="decision", step=_step,
    doc="who buys this step, by the opinion or the bass rule, and the influence credited",
    writes=(),
)
