"""Followers: what following a brand brings, and when it ends.

A follower sees the brand's organic posts: each step a post reaches a follower with
``post_reach`` (organic reach, a share of followers per post), and a post seen closes
``post_gain`` of the follower's adstock gap to 1, as an impression does, whether the follower
pays attention to ads or not (following is opting in). Page followers pay off through the
brand's own posts to them, not through the follow itself (Mochon, Johnson, Schwartz &
Ariely 2017; John, Emrich, Gupta & Norton 2017); the adstock a post builds is credited to
advertising, the brand's firm-initiated communication. A follower whose opinion of the
brand is below ``unfollow_opinion`` unfollows, whatever lowered it (its own experience, ad
annoyance, peers' talk). Run at the start of a step, on the opinions of the end of the last.
"""

from __future__ import annotations

import numpy as np

from wommsim.config import FollowersConfig
from wommsim.mechanisms.base import Mechanism, Stage
from wommsim.mechanisms.common import bernoulli
from wommsim.state import ConsumerState


def post(s: ConsumerState, cfg: FollowersConfig, rng: np.random.Generator) -> dict[str, float]:
    """Unfollows below the threshold, then this step's post reaches some followers."""
    s.follower[s.follower & (s.opinion < cfg.unfollow_opinion)] = False
    seen = bernoulli(rng, np.flatnonzero(s.follower), cfg.post_reach)
    s.adstock[seen] += cfg.post_gain * (1.0 - s.adstock[seen])
    return {}


MECHANISM = Mechanism(
    name="followers", stage=Stage.LEVERS, stream="followers",
    step=lambda model, rng, money: post(model.state, model.config.followers, rng),
    doc="followers whose opinion fell below followers.unfollow_opinion unfollow; the brand's "
        "organic post reaches some of the rest (adstock)",
    writes=("follower", "adstock"),
)
