"""Reviews: buyers' ratings form a public page (review count and mean rating).

Reviewers self-select: a buyer reviews unprompted (in the post-purchase stage) with
probability ``organic_review_prob × (1 + selection × rating²)``, where ``selection`` is
``positive_selection`` for a positive experience and ``negative_selection`` for a negative
one, so extreme experiences are posted more often than moderate ones, the positive more
than the negative: the J-shaped distribution of posted ratings (Hu, Pavlou & Zhang 2009,
under-reporting of moderate experiences). The brand's review budget invites earlier buyers
who have not reviewed, who post with ``invited_review_prob`` whatever their experience
(invited reviewers are less self-selected and less extreme, Brandes, Godes & Mayzlin 2022)
and rate it ``invited_positivity`` higher (rewarded reviews are more positive, Cabral & Li
2015; Woolley & Sharif 2021). A rating is the reviewer's perceived quality in [-1, 1]
(read as ``3 + 2 × rating`` stars on a 1-5 scale).

The page reaches consumers who research online before deciding through two signals
(:meth:`ReviewBoard.signals`): volume ``log(1 + count / half)`` and valence
``credibility × mean rating`` with ``credibility = count / (count + half)``, where ``half =
credibility_per_consumer × consumers`` (:func:`credibility_count`: a market ten times larger
needs ten times the reviews for the same credibility); the decision weighs each separately
(You, Vadakkepatt & Joshi 2015).
"""

from __future__ import annotations

import numpy as np

from wommsim.config import ReviewsConfig
from wommsim.mechanisms.base import Influence, Mechanism, Metric, Stage
from wommsim.mechanisms.common import affordable, bernoulli, choose
from wommsim.state import ConsumerState

INFLUENCE = Influence(4, "reviews", "reviews")
REVIEWS = INFLUENCE.code


def credibility_count(cfg: ReviewsConfig, n: int) -> float:
    """The review count at which the score has half its weight in a market of ``n``
    consumers, and the unit of review volume: ``credibility_per_consumer × n``."""
    return cfg.credibility_per_consumer * n


class ReviewBoard:
    """The product page: running sum and count of posted ratings."""

    def __init__(self) -> None:
        self.total = 0.0
        self.count = 0

    @property
    def score(self) -> float:
        """Mean rating in [-1, 1]; 0 with no reviews."""
        return self.total / self.count if self.count else 0.0

    def post(self, s: ConsumerState, reviewers: np.ndarray, ratings: np.ndarray) -> None:
        """``reviewers`` post ``ratings`` (one each)."""
        s.reviewed[reviewers] = True
        self.total += float(ratings.sum())
        self.count += int(reviewers.size)

    def weight(self, cfg: ReviewsConfig, n: int) -> float:
        """Credibility of the score in a market of ``n`` consumers, rising with the count:
        count / (count + half), half = :func:`credibility_count`."""
        if self.count == 0:
            return 0.0
        return self.count / (self.count + credibility_count(cfg, n))

    def signals(self, cfg: ReviewsConfig, n: int) -> tuple[float, float]:
        """Volume and valence as the page shows them in a market of ``n`` consumers:
        ``log(1 + shown count / half)`` and ``credibility × shown mean rating``, half =
        :func:`credibility_count`. The shown count is
        ``volume_factor × count``; the shown mean is ``valence_factor`` times the mean in
        stars (``3 + 2 × score``, clipped to 1-5) read back on [-1, 1]. Both factors are 1
        unless an experiment perturbs the page; (0, 0) with no reviews."""
        if self.count == 0:
            return 0.0, 0.0
        shown = cfg.volume_factor * self.count
        stars = np.clip(cfg.valence_factor * (3.0 + 2.0 * self.score), 1.0, 5.0)
        half = credibility_count(cfg, n)
        credibility = shown / (shown + half)
        volume = np.log1p(shown / half)
        return float(volume), float(credibility * (stars - 3.0) / 2.0)


def posting_propensity(cfg: ReviewsConfig, ratings: np.ndarray) -> np.ndarray:
    """How many times more likely than a neutral buyer a buyer with ``ratings`` is to review
    unprompted: ``1 + selection × rating²`` (J-shaped: ``positive_selection`` above 0,
    ``negative_selection`` below)."""
    selection = np.where(ratings > 0, cfg.positive_selection, cfg.negative_selection)
    return 1.0 + selection * np.square(ratings)


def post_organic(s: ConsumerState, cfg: ReviewsConfig, buyers: np.ndarray, board: ReviewBoard,
                 rng: np.random.Generator) -> None:
    """Buyers who have not reviewed post their perceived quality (``experience``) with
    probability ``min(1, organic_review_prob × posting_propensity)``."""
    candidates = buyers[~s.reviewed[buyers]]
    rating = s.experience[candidates]
    p = np.minimum(cfg.organic_review_prob * posting_propensity(cfg, rating), 1.0)
    posted = rng.random(candidates.size) < p
    board.post(s, candidates[posted], rating[posted])


def invite(s: ConsumerState, cfg: ReviewsConfig, money: float, board: ReviewBoard,
           rng: np.random.Generator) -> dict[str, float]:
    """Invite past buyers who have neither reviewed nor been invited; some post, rating
    their experience ``invited_positivity`` higher (clipped to 1)."""
    capacity = affordable(money, cfg.cost_per_invite)
    if capacity == 0:
        return {"review_invitations": 0, "spend": 0.0}
    eligible = np.flatnonzero(s.adopted & ~s.reviewed & ~s.review_invited)
    invited = choose(rng, eligible, capacity)
    s.review_invited[invited] = True
    reviewers = bernoulli(rng, invited, cfg.invited_review_prob)
    board.post(s, reviewers,
               np.minimum(s.experience[reviewers] + cfg.invited_positivity, 1.0))
    return {"review_invitations": int(invited.size), "spend": invited.size * cfg.cost_per_invite}


MECHANISM = Mechanism(
    name="reviews", stage=Stage.LEVERS, lever=True, stream="reviews",
    step=lambda model, rng, money: invite(model.state, model.config.reviews, money,
                                          model.review_board, rng),
    doc="invitations to past buyers to rate the product; the board's volume and valence "
        "reach online researchers in the decision",
    recipients="buyers who have neither reviewed nor been invited before",
    writes=("review_invited", "reviewed"),
    metrics=(Metric("review_invitations", "flow", "review invitations sent"),
             Metric("reviews", "cumulative", "reviews posted so far"),
             Metric("review_score", "stock", "mean rating of all reviews so far", "mean")),
    influence=INFLUENCE,
    report=lambda model: {"reviews": model.review_board.count,
                          "review_score": model.review_board.score},
)
