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
from wommsim.mechanisms.base import Influence, Mechanism, Metric, Stage
from wommsim.mechanisms.common import sample_edges
from wommsim.state import ConsumerState

INFLUENCE = Influence(1, "wom", "word of mouth")
WOM = INFLUENCE.code


def talk(s: ConsumerState, cfg: WomConfig, indptr: np.ndarray, indices: np.ndarray,
         rng: np.random.Generator, edge_source: np.ndarray | None = None,
         heard_bad: list | None = None) -> dict[str, float]:
    """One round of conversations; returns ``positive_wom`` and ``negative_wom`` counts.

    ``edge_source`` (the source of every stored edge) lets a large crowd of speakers be
    sampled in one pass over the edges (see :func:`~wommsim.mechanisms.common.sample_edges`).
    ``heard_bad``, if given, receives the listeners who heard negative talk (of those whose
    opinion talk moves) and the negative share of the pull on each, for the rivals' benefit
    (:mod:`wommsim.mechanisms.rivalry`).
    """
    s.talked[:] = 0
    speaking = s.aware & (np.abs(s.opinion) > cfg.neutral_band)
    adopters = speaking & s.adopted
    adopters_say = sample_edges(indptr, indices, np.flatnonzero(adopters),
                                min(1.0, cfg.talk_prob * cfg.adopter_talk_multiplier), rng,
                                edge_source, adopters)
    others = np.logical_xor(speaking, adopters, out=speaking)
    others_say = sample_edges(indptr, indices, np.flatnonzero(others), cfg.talk_prob, rng,
                              edge_source, others)
    speaker, listener = (np.concatenate(pair) if pair[1].size else pair[0]
                         for pair in zip(adopters_say, others_say, strict=True))
    if speaker.size == 0:
        return {"positive_wom": 0, "negative_wom": 0}
    said = s.opinion[speaker]  # start-of-stage opinions: nothing below changes them first
    negative = said < 0
    s.talked[speaker] = np.where(negative, np.int8(-1), np.int8(1))
    n_negative = int(np.count_nonzero(negative))

    # Adopters are aware and unmoved by talk: only non-adopting listeners change.
    open_ = ~s.adopted[listener]
    listener, said = listener[open_], said[open_]
    pull = cfg.influence * cfg.trust * np.where(negative[open_], cfg.negativity_bias, 1.0)
    heard, slot = listeners_of(listener, s.n)
    w = np.bincount(slot, pull, minlength=heard.size)
    weighted = np.bincount(slot, pull * said, minlength=heard.size)
    delta = (weighted - w * s.opinion[heard]) / np.maximum(w, 1.0)
    if heard_bad is not None:
        bad = np.bincount(slot, pull * (said < 0), minlength=heard.size) / np.maximum(w, 1.0)
        heard_bad.extend((heard[bad > 0], bad[bad > 0]))
    s.opinion[heard] += delta
    s.opinion_source[heard[delta > 0]] = WOM

    first_aware = heard[~s.aware[heard]]
    s.aware[first_aware] = True
    s.aware_source[first_aware] = WOM
    return {"positive_wom": int(speaker.size - n_negative), "negative_wom": n_negative}


def listeners_of(listener: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct listeners (ascending) and each conversation's slot among them.

    Sorting is cheap for few conversations, a pass over all ``n`` consumers for many; both
    give the same answer, and sums by slot add up in conversation order either way.
    """
    if 16 * listener.size < n:
        return np.unique(listener, return_inverse=True)
    slot_of = np.zeros(n, dtype=np.int64)
    slot_of[listener] = 1
    heard = np.flatnonzero(slot_of)
    slot_of[heard] = np.arange(heard.size)
    return heard, slot_of[listener]


def _silence(model) -> None:
    model.state.talked[:] = 0  # nobody talked: dialogue has no one to answer next step


def _step(model, rng: np.random.Generator, money: float) -> dict[str, float]:
    # In a market of several brands, keep who heard bad news of this brand for its rivals.
    heard_bad = [] if len(model.markets) > 1 else None
    out = talk(model.state, model.config.wom, model.indptr, model.indices, rng,
               model.edge_source, heard_bad)
    model.heard_bad = tuple(heard_bad) if heard_bad else None
    return out


MECHANISM = Mechanism(
    name="wom", stage=Stage.TALK, stream="wom", step=_step,
    doc="opinionated, aware consumers talk to neighbours; listeners become aware and "
        "non-adopters' opinions move toward the speakers'",
    writes=("talked", "opinion", "opinion_source", "aware", "aware_source"),
    metrics=(Metric("positive_wom", "flow", "conversations in which a positive opinion was "
                                            "said"),
             Metric("negative_wom", "flow", "conversations in which a negative opinion was "
                                            "said")),
    influence=INFLUENCE,
    off=_silence,
)
