"""Dialogue: the brand answers consumers who talked about it last step.

Capacity is the number of replies the dialogue budget buys. An answered consumer's opinion
rises, it may follow the brand, and a negative talker may be won back (service recovery).
The budget pays for staff capacity, so it is spent whether or not every reply is used.
"""

from __future__ import annotations

import numpy as np

from wommsim.config import DialogueConfig
from wommsim.mechanisms.base import Influence, Mechanism, Metric, Stage
from wommsim.mechanisms.common import affordable, bernoulli, choose, warm
from wommsim.state import ConsumerState

INFLUENCE = Influence(3, "dialogue", "dialogue")
DIALOGUE = INFLUENCE.code


def converse(s: ConsumerState, cfg: DialogueConfig, money: float,
             rng: np.random.Generator) -> dict[str, float]:
    """Answer up to ``money // cost_per_reply`` of last step's talkers."""
    capacity = affordable(money, cfg.cost_per_reply)
    if capacity == 0:
        return {"replies": 0, "spend": 0.0}
    negative = np.flatnonzero(s.talked < 0)
    positive = np.flatnonzero(s.talked > 0)
    if cfg.prioritise_negative:
        first = choose(rng, negative, capacity)
        answered = np.concatenate([first, choose(rng, positive, capacity - first.size)])
    else:
        answered = choose(rng, np.concatenate([negative, positive]), capacity)
    was_negative = answered[s.talked[answered] < 0]
    warm(s.opinion, answered, cfg.lift)
    s.opinion_source[answered] = DIALOGUE
    won_back = bernoulli(rng, was_negative, cfg.recovery_prob)
    s.opinion[won_back] = np.maximum(s.opinion[won_back], cfg.lift)
    follows = bernoulli(rng, answered, cfg.follow_prob)
    s.follow_source[follows[~s.follower[follows]]] = DIALOGUE
    s.follower[follows] = True
    return {"replies": int(answered.size), "spend": capacity * cfg.cost_per_reply}


MECHANISM = Mechanism(
    name="dialogue", stage=Stage.LEVERS, lever=True, stream="dialogue",
    step=lambda model, rng, money: converse(model.state, model.config.dialogue, money, rng),
    doc="replies to last step's talkers, complaints first: warmth, recovery, follows",
    writes=("opinion", "opinion_source", "follower", "follow_source"),
    metrics=(Metric("replies", "flow", "consumers answered by dialogue"),),
    influence=INFLUENCE,
)
