"""Word of mouth: opinionated, aware consumers talk to their neighbours.

A consumer whose |opinion| exceeds ``neutral_band`` talks to each neighbour with
``talk_prob`` per step (adopters ``adopter_talk_multiplier`` times as often: they talk about
experience). A conversation makes the listener aware and pulls a non-adopter's opinion toward
the speaker's with strength ``influence × trust`` (trust in people one knows: 92%, Nielsen
2012), negative talk weighing ``negativity_bias`` times as much. A listener's pulls combine
as a weighted average, so opinions stay in [-1, 1]. Adopters' opinions rest on their own
experience and are not moved by talk. All speakers use the opinions held when the stage began.
"""

from __future__ import annotations

import numpy as np

from wommsim.config import WomConfig
from wommsim.mechanisms.common import sample_edges
from wommsim.state import WOM, ConsumerState


def talk(s: ConsumerState, cfg: WomConfig, indptr: np.ndarray, indices: np.ndarray,
         rng: np.random.Generator) -> dict[str, float]:
    """One round of conversations; returns ``positive_wom`` and ``negative_wom`` counts."""
    s.talked[:] = 0
    speakers = np.flatnonzero(s.aware & (np.abs(s.opinion) > cfg.neutral_band))
    if speakers.size == 0:
        return {"positive_wom": 0, "negative_wom": 0}
    prob = np.where(s.adopted[speakers],
                    min(1.0, cfg.talk_prob * cfg.adopter_talk_multiplier), cfg.talk_prob)
    speaker, listener = sample_edges(indptr, indices, speakers, prob, rng)
    said = s.opinion[speaker]  # start-of-stage opinions: nothing below changes them first
    negative = said < 0
    s.talked[speaker] = np.where(negative, -1, 1)

    pull = cfg.influence * cfg.trust * np.where(negative, cfg.negativity_bias, 1.0)
    weight = np.bincount(listener, pull, minlength=s.n)
    weighted = np.bincount(listener, pull * said, minlength=s.n)
    heard = np.flatnonzero(weight)
    movable = heard[~s.adopted[heard]]
    w = weight[movable]
    delta = (weighted[movable] - w * s.opinion[movable]) / np.maximum(w, 1.0)
    s.opinion[movable] += delta
    s.opinion_source[movable[delta > 0]] = WOM

    first_aware = heard[~s.aware[heard]]
    s.aware[first_aware] = True
    s.aware_source[first_aware] = WOM
    n_negative = int(negative.sum())
    return {"positive_wom": int(said.size - n_negative), "negative_wom": n_negative}
