"""The purchase decision: the ``opinion`` rule or the ``bass`` rule, with attribution.

``opinion`` (in a market of one brand in a durable category; :func:`opinion_choice` gives the
general form, several brands and repeat purchase, which reduces to this exactly): an aware
non-adopter buys with probability
``purchase_rate × logistic((utility - threshold) / temperature)``, where
``utility = opinion + ad_weight × adstock + social_weight × (adopted share of neighbours)
+ review term (online researchers only) + incentive bonus``, where the review term is
``review_volume_weight × volume + review_valence_weight × valence`` of the board
(:func:`review_term`).
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

from wommsim.config import DecisionConfig, ReviewsConfig
from wommsim.mechanisms.advertising import ADS
from wommsim.mechanisms.base import Mechanism, Stage
from wommsim.mechanisms.incentives import INCENTIVES
from wommsim.mechanisms.reviews import REVIEWS, ReviewBoard
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

    ``neighbour_share`` is their adopted share of neighbours (one entry per consumer of
    ``who``); ``review_signal`` is the review term's utility for online researchers
    (:func:`review_term`); ``influences`` is how many influences there are (the columns).
    """
    terms = np.zeros((who.size, influences))
    terms[:, ADS] = cfg.ad_weight * s.adstock[who]
    terms[:, WOM] = cfg.social_weight * neighbour_share
    terms[:, REVIEWS] = review_signal * s.researches_online[who]
    terms[:, INCENTIVES] = incentive_bonus * s.incentivised[who]
    return terms


def review_term(cfg: DecisionConfig, reviews: ReviewsConfig, board: ReviewBoard,
                n: int) -> float:
    """Utility of the review page to an online researcher in a market of ``n`` consumers:
    volume and valence weighed separately, ``review_volume_weight × volume +
    review_valence_weight × valence`` (:meth:`ReviewBoard.signals`). The weights are
    calibrated to the meta-analytic sales elasticities of review volume (0.236) and valence
    (0.417) of You, Vadakkepatt & Joshi (2015): ``docs/ODD.md`` §3.3.8."""
    volume, valence = board.signals(reviews, n)
    return cfg.review_volume_weight * volume + cfg.review_valence_weight * valence


def opinion_probability(cfg: DecisionConfig, utility: np.ndarray,
                        threshold: np.ndarray, rate: float | None = None) -> np.ndarray:
    """``rate × logistic((utility - threshold) / temperature)``, in [0, 1]; ``rate`` is
    ``purchase_rate`` unless given."""
    z = np.clip((utility - threshold) / cfg.temperature, -500.0, 500.0)
    return (cfg.purchase_rate if rate is None else rate) / (1.0 + np.exp(-z))


def brand_utility(s: ConsumerState, cfg: DecisionConfig, who: np.ndarray,
                  neighbour_share: np.ndarray, review_signal: float,
                  incentive_bonus: float) -> np.ndarray:
    """Utility of one brand to consumers ``who``: opinion, adstock, social proof (their
    adopted share of neighbours, ``neighbour_share``, one entry per consumer of ``who``),
    the review term ``review_signal`` (online researchers) and a held discount."""
    utility = s.opinion[who] + cfg.ad_weight * s.adstock[who]
    utility += cfg.social_weight * neighbour_share
    if review_signal:
        utility += review_signal * s.researches_online[who]
    if incentive_bonus:
        utility += incentive_bonus * s.incentivised[who]
    return utility


def attribute(s: ConsumerState, cfg: DecisionConfig, buyers: np.ndarray,
              neighbour_share: np.ndarray, review_signal: float, incentive_bonus: float,
              influences: int, rng: np.random.Generator) -> np.ndarray:
    """The influence credited with each purchase: drawn in proportion to the positive parts
    of the utility terms (the opinion term credited to the influence that last raised it;
    with no positive term, the influence that made the buyer aware). ``neighbour_share``:
    the buyers' adopted share of neighbours, one entry per buyer."""
    shares = np.maximum(opinion_terms(s, cfg, buyers, neighbour_share, review_signal,
                                      incentive_bonus, influences), 0.0)
    opinion = s.opinion[buyers]
    source = s.opinion_source[buyers]
    has_source = source >= 0
    shares[np.flatnonzero(has_source), source[has_source]] += np.maximum(opinion[has_source], 0)
    none = shares.sum(axis=1) == 0
    fallback = s.aware_source[buyers[none]]
    shares[np.flatnonzero(none), np.where(fallback >= 0, fallback, WOM)] = 1.0
    return credit(rng, shares)


def inclusive_utility(cfg: DecisionConfig, utility: np.ndarray) -> np.ndarray:
    """The utility of buying any brand, from one row of utilities per brand (-inf where the
    consumer does not know the brand): ``T log Σ_b exp(u_b / T)``, so that
    ``logistic((U - threshold) / T)`` is the multinomial-logit chance of choosing some brand
    over the outside option (utility ``threshold``). With one known brand it is that brand's
    utility exactly."""
    top = utility.max(axis=0)
    finite = np.isfinite(top)
    if utility.shape[0] == 2 and finite.all():
        # Two brands, every consumer knowing one: the better one's term is exp(0) = 1
        # exactly, the other's exp(d) with d = (u_other - top) / T <= 0. Below d = -40,
        # exp(d) < 2^-53 and 1 + exp(d) rounds to 1, so d is clipped there: the same sums,
        # without exp's slow path for -inf (an unknown brand) and underflow.
        d = utility.min(axis=0)
        d -= top
        d /= cfg.temperature
        total = np.exp(np.maximum(d, -40.0, out=d), out=d)
        total += 1.0
        top += cfg.temperature * np.log(total)
        return top
    total = np.exp((utility[:, finite] - top[finite]) / cfg.temperature).sum(axis=0)
    top[finite] += cfg.temperature * np.log(total)
    return top


def choose_brand(cfg: DecisionConfig, utility: np.ndarray, inclusive: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """Each buyer's brand (a column of ``utility``), drawn with multinomial-logit chances
    ``exp((u_b - U) / T)``: every brand by the same rule, so none is favoured by its place."""
    chances = np.exp((utility - inclusive) / cfg.temperature)
    cumulative = np.cumsum(chances, axis=0)
    u = rng.random(utility.shape[1]) * cumulative[-1]
    return (cumulative > u).argmax(axis=0)


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
    # Every non-adopter: opinions, and so rejection (wom), play no role in Bass's rule.
    who = np.flatnonzero(~s.adopted)
    external, hazard = bass_hazard(cfg, s.adstock[who], adopted_neighbours[who], degree[who])
    bought = rng.random(who.size) < hazard
    buyers = who[bought]
    by_ads = rng.random(buyers.size) * hazard[bought] < external[bought]
    return buyers, np.where(by_ads, ADS, WOM).astype(np.int8)


def shoppers(model, rng: np.random.Generator | None) -> np.ndarray:
    """Consumers who may buy this step, knowing at least one brand they do not reject (a
    rejecter never buys the brand, :mod:`wommsim.mechanisms.wom`): in a durable category,
    those who have bought none; in a repeat one, those whose purchase occasion comes up (a
    consumer's occasions arrive at its fixed rate, drawn from the ``category`` stream)."""
    s = model.state
    known = s.aware & ~s.rejecter  # a rejecter never buys the brand (wom)
    aware = known.any(axis=0) if s.brands > 1 else known[0]
    if model.config.market.category == "durable":
        bought = s.adopted.any(axis=0) if s.brands > 1 else s.adopted[0]
        return np.flatnonzero(aware & ~bought)
    occasion = rng.random(model.n) < -np.expm1(-s.category_rate.astype(np.float64))
    return np.flatnonzero(aware & occasion)


def opinion_choice(model, rng: np.random.Generator) -> None:
    """The opinion rule in a market of one or more brands: each shopper buys some brand with
    chance ``rate × logistic((U - threshold) / T)`` (``U``: :func:`inclusive_utility`; in a
    durable category ``rate`` is ``purchase_rate``, in a repeat one the occasion has already
    come, so 1), chooses its brand by :func:`choose_brand`, and each purchase is credited to
    one influence (:func:`attribute`). A brand's utility is :func:`brand_utility` plus
    ``market.inertia`` for its own customers, minus ``market.price_weight × log(price /
    economics.price)``."""
    cfg, market = model.config, model.config.market
    who = shoppers(model, model.streams.category)
    current = model.state.current_brand[who]
    degree = model.degree[who]
    linked = degree > 0
    utility = np.full((len(model.markets), who.size), -np.inf)
    signals = []
    for b, side in enumerate(model.markets):
        s, own = side.state, side.config
        # Social proof of the shoppers only: nobody else's is read.
        share = np.divide(side.adopted_neighbours[who], degree, out=np.zeros(who.size),
                          where=linked)
        board = side.review_board
        review = (review_term(cfg.decision, own.reviews, board, model.n)
                  if own.reviews.enabled else 0.0)
        bonus = own.incentives.bonus if own.incentives.enabled else 0.0
        signals.append((share, review, bonus))
        # Every shopper's utility, kept where it knows the brand: the same values as
        # computing it for those alone, without gathering them first.
        u = brand_utility(s, cfg.decision, who, share, review, bonus)
        if market.inertia:
            u += market.inertia * (current == b)
        if own.economics.price != cfg.economics.price:
            u -= market.price_weight * np.log(own.economics.price / cfg.economics.price)
        np.copyto(utility[b], u, where=s.aware[who] & ~s.rejecter[who])
    one = len(model.markets) == 1
    inclusive = utility[0] if one else inclusive_utility(cfg.decision, utility)
    rate = cfg.decision.purchase_rate if market.category == "durable" else 1.0
    prob = opinion_probability(cfg.decision, inclusive, model.state.threshold[who], rate)
    bought = rng.random(who.size) < prob
    buyers = who[bought]
    brand = (np.zeros(buyers.size, dtype=np.int64) if one else
             choose_brand(cfg.decision, utility[:, bought], inclusive[bought], rng))
    for b, side in enumerate(model.markets):
        chose = brand == b
        side.buyers = buyers[chose] if not one else buyers
        share, review, bonus = signals[b]
        share = share[bought][chose] if not one else share[bought]
        side.triggers = attribute(side.state, cfg.decision, side.buyers, share, review, bonus,
                                  len(model.influences), rng)


def _step(model, rng: np.random.Generator, money: float) -> dict[str, float]:
    """Decide who buys which brand; each brand's purchase stage reads its ``buyers`` and
    ``triggers``."""
    if model.config.decision.rule == "bass":  # one brand, durable (validation sees to it)
        side = model.markets[0]
        side.buyers, side.triggers = bass_rule(side.state, model.config.decision,
                                               side.adopted_neighbours, model.degree, rng)
    else:
        opinion_choice(model, rng)
    return {}


MECHANISM = Mechanism(
    name="decision", stage=Stage.DECISION, stream="decision", step=_step, market=True,
    doc="who buys which brand this step, by the opinion or the bass rule, and the influence "
        "credited",
    writes=(),
)
