"""Reviews: buyers' ratings form a public score (mean and count).

Some buyers review unprompted (``organic_review_prob``, in the post-purchase stage); the
brand's review budget invites earlier buyers who have not reviewed, who then post with
``invited_review_prob``. A review's rating is the reviewer's experienced quality in [-1, 1].
Consumers who research online see the score before deciding.
"""

from __future__ import annotations

import numpy as np

from wommsim.config import ReviewsConfig
from wommsim.mechanisms.base import Influence, Mechanism, Metric, Stage
from wommsim.mechanisms.common import affordable, bernoulli, choose
from wommsim.state import ConsumerState

INFLUENCE = Influence(4, "reviews", "reviews")
REVIEWS = INFLUENCE.code


class ReviewBoard:
    """The product page: running sum and count of posted ratings."""

    def __init__(self) -> None:
        self.total = 0.0
        self.count = 0

    @property
    def score(self) -> float:
        """Mean rating in [-1, 1]; 0 with no reviews."""
        return self.total / self.count if self.count else 0.0

    def post(self, s: ConsumerState, reviewers: np.ndarray) -> None:
        s.reviewed[reviewers] = True
        self.total += float(s.experience[reviewers].sum())
        self.count += int(reviewers.size)

    def weight(self, cfg: ReviewsConfig) -> float:
        """Credibility of the score, rising with the count: count / (count + half)."""
        if self.count == 0:
            return 0.0
        return self.count / (self.count + cfg.credibility_count)


def invite(s: ConsumerState, cfg: ReviewsConfig, money: float, board: ReviewBoard,
           rng: np.random.Generator) -> dict[str, float]:
    """Invite past buyers who have neither reviewed nor been invited; some post."""
    capacity = affordable(money, cfg.cost_per_invite)
    if capacity == 0:
        return {"review_invitations": 0, "spend": 0.0}
    eligible = np.flatnonzero(s.adopted & ~s.reviewed & ~s.review_invited)
    invited = choose(rng, eligible, capacity)
    s.review_invited[invited] = True
    board.post(s, bernoulli(rng, invited, cfg.invited_review_prob))
    return {"review_invitations": int(invited.size), "spend": invited.size * cfg.cost_per_invite}


MECHANISM = Mechanism(
    name="reviews", stage=Stage.LEVERS, lever=True, stream="reviews",
    step=lambda model, rng, money: invite(model.state, model.config.reviews, money,
                                          model.review_board, rng),
    doc="invitations to past buyers to rate the product; the board's score reaches online "
        "researchers in the decision",
    recipients="buyers who have neither reviewed nor been invited before",
    writes=("review_invited", "reviewed"),
    metrics=(Metric("review_invitations", "flow", "review invitations sent"),
             Metric("reviews", "cumulative", "reviews posted so far"),
             Metric("review_score", "stock", "mean rating of all reviews so far", "mean")),
    influence=INFLUENCE,
    report=lambda model: {"reviews": model.review_board.count,
                          "review_score": model.review_board.score},
)
