"""Dialogue: the brand answers consumers who talked about it last step.

Capacity is the number of replies the dialogue budget buys. An answered consumer's opinion
rises a little (``lift``), it may follow the brand, and a negative talker may be recovered
(``recovery_prob``): its opinion rises to neutral. A complainer's opinion never rises above
neutral. Service recovery raises
satisfaction with the episode, but a meta-analysis of the service recovery paradox finds no
effect on word of mouth or repurchase intentions compared with no failure (de Matos,
Henrique & Rossi 2007, Journal of Service Research 10(1)): so a reply never turns a
complainer into an advocate. The rise is goodwill that fades (``retention`` per step, see
:func:`fade`) unless a purchase's own experience replaces it. The budget pays for staff
capacity, so it is spent whether or not every reply is used.
"""

from __future__ import annotations

import numpy as np

from wommsim.config import DialogueConfig
from wommsim.mechanisms.base import Influence, Mechanism, Metric, Stage
from wommsim.mechanisms.common import affordable, bernoulli, choose
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
    before = s.opinion[answered]
    after = before + cfg.lift * (1.0 - before)
    complained = np.flatnonzero(s.talked[answered] < 0)
    after[complained] = np.minimum(after[complained], 0.0)  # a reply makes no advocate
    after[bernoulli(rng, complained, cfg.recovery_prob)] = 0.0  # recovered: restored to neutral
    s.opinion[answered] = after
    s.goodwill[answered] += (after - before).astype(s.goodwill.dtype)
    s.opinion_source[answered] = DIALOGUE
    follows = bernoulli(rng, answered, cfg.follow_prob)
    s.follow_source[follows[~s.follower[follows]]] = DIALOGUE
    s.follower[follows] = True
    return {"replies": int(answered.size), "spend": capacity * cfg.cost_per_reply}


def fade(s: ConsumerState, cfg: DialogueConfig, buyers: np.ndarray) -> None:
    """Replies' goodwill fades: each step the opinion gives back ``1 - retention`` of the
    rise still in force. This step's buyers have a new experience that sets their opinion
    (purchase stage), so their goodwill is spent."""
    s.goodwill[buyers] = 0.0
    held = np.flatnonzero(s.goodwill)  # the answered few, not every consumer
    left = s.goodwill[held]
    drop = np.where(np.abs(left) < 1e-4, left, left * np.float32(1.0 - cfg.retention))
    s.goodwill[held] -= drop
    s.opinion[held] = np.clip(s.opinion[held] - drop, -1.0, 1.0)


MECHANISM = Mechanism(
    name="dialogue", stage=Stage.LEVERS, lever=True, stream="dialogue",
    step=lambda model, rng, money: converse(model.state, model.config.dialogue, money, rng),
    doc="replies to last step's talkers, complaints first: fading goodwill, recovery to "
        "neutral, follows",
    writes=("opinion", "opinion_source", "follower", "follow_source", "goodwill"),
    metrics=(Metric("replies", "flow", "consumers answered by dialogue"),),
    influence=INFLUENCE,
)
