"""Word of mouth as exposure: who talks, how talk accumulates, and rejection.

**Who talks.** An aware consumer with ``|opinion| > neutral_band``, or a rejecter, talks to
each neighbour with probability ``talk_prob × m_s × tie_s`` per step, capped at 1:

- ``m_s = talkativeness_s × (1 + extra_s)``, times ``hearsay_talk`` for a consumer who has
  not bought (it passes on hearsay less than customers talk, East, Hammond & Wright 2007):
  consumers differ in how much they talk (a fixed
  lognormal draw, times ``(k_s / mean degree) ** degree_participation`` since hubs
  participate more: Hinz, Skiera, Barrot & Becker 2011), and an adopter's experience adds
  ``extra_s = experience_talk × |satisfaction| × (dissatisfied_talk if dissatisfied) ×
  0.5 ** (steps since the last purchase / talk_half_life)``: talk rises with the strength of
  the experience both ways, more for the dissatisfied (Anderson 1998), and fades after the
  purchase (immediate vs ongoing word of mouth, Berger & Schwartz 2011);
- ``tie = weak_tie_talk + w (1 - weak_tie_talk)`` over a tie of strength ``w`` (1 strong,
  0 weak; Goldenberg, Libai & Muller 2001), and ``weak_tie_talk`` over a random encounter
  (``random_meetings`` per consumer per step, each a weak tie for that step).

**What talk does.** A conversation carries ``said = opinion_s`` (a rejecter says at least
``-neutral_band`` worth of bad news) and an exposure dose
``influence × trust × persuasiveness_s × |said| × tie influence × reward discount``, times
``negativity_bias`` if negative. A non-adopting listener's doses add up within the step
(``D+`` positive, ``D-`` negative); it moves toward +1 by ``p = 1 - exp(-D+)`` and toward -1
by ``q = 1 - exp(-D-)`` (scaled by ``1 / max(1, p + q)``), so repeated and multi-source talk
accumulates (Centola 2010; Iyengar, Van den Bulte & Valente 2011) with diminishing returns,
and opinions stay in [-1, 1]. Negative doses also accumulate across steps in
``heard_negative``, which keeps ``negative_retention`` of itself per step (bad news is
sticky); a non-adopter whose stock reaches ``rejection_threshold`` becomes a *rejecter*: it
never buys the brand and keeps talking against it (Goldenberg, Libai, Moldovan & Muller 2007).
Listeners discount a rewarded speaker (one who took an incentive offer) by
``rewarded_discount`` over a weak tie, half that over a strong one (Tuk et al. 2009; Verlegh
et al. 2013). Every listener becomes aware; adopters' opinions rest on their own experience
and are not moved. All speakers use the opinions held when the stage began.
"""

from __future__ import annotations

import numpy as np

from wommsim.config import WomConfig
from wommsim.mechanisms.base import Influence, Mechanism, Metric, Stage
from wommsim.mechanisms.common import fire_edges
from wommsim.state import ConsumerState

INFLUENCE = Influence(1, "wom", "word of mouth")
WOM = INFLUENCE.code


def talk_multiplier(s: ConsumerState, cfg: WomConfig, speakers: np.ndarray,
                    step: int) -> np.ndarray:
    """``m_s`` of each speaker (see the module docstring): its talkativeness (which holds
    its degree participation, drawn once, :func:`participation`) and, for adopters, the
    fading extra talk of a strong experience."""
    m = s.talkativeness[speakers].astype(np.float64)
    last = s.last_purchase_step[speakers]
    bought = np.flatnonzero(last >= 0)
    if cfg.hearsay_talk < 1.0:  # no experience of its own: hearsay is passed on less
        m[last < 0] *= cfg.hearsay_talk
    if cfg.experience_talk and bought.size:
        sat = np.nan_to_num(s.satisfaction[speakers[bought]].astype(np.float64))
        strength = np.abs(sat) * np.where(sat < 0, cfg.dissatisfied_talk, 1.0)
        fade = np.exp2((last[bought] - step) / cfg.talk_half_life)
        m[bought] *= 1.0 + cfg.experience_talk * strength * fade
    return m


def participation(cfg: WomConfig, degree: np.ndarray) -> np.ndarray:
    """How much more a consumer of degree ``k`` talks per contact than one of mean degree:
    ``(k / mean degree) ** degree_participation`` (Hinz et al. 2011: hubs participate
    more); 1 for consumers without neighbours."""
    mean = degree.mean() if degree.size else 0.0
    if cfg.degree_participation == 0 or mean == 0:
        return np.ones(degree.size)
    return np.power(np.maximum(degree, 1) / mean, cfg.degree_participation)


#: Speakers whose talk probability is this many powers of two below the most talkative
#: speaker's are sampled with the lowest group (a few wasted draws, fewer passes).
LEVELS = 12


def conversations(s: ConsumerState, cfg: WomConfig, indptr: np.ndarray,
                  speakers: np.ndarray, prob: np.ndarray, rng: np.random.Generator,
                  edge_source: np.ndarray | None, tie_strength: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The conversations over the network: speaker, storage position of the edge, and the
    tie's strength (None when every tie is strong). Speaker ``speakers[i]`` talks over a
    strong tie with probability ``prob[i]`` (at most 1), over a tie of strength ``w`` with
    ``prob[i] × (weak_tie_talk + w (1 - weak_tie_talk))``.

    Exact and cheap: speakers are grouped by the power of two just above their
    probability (at most :data:`LEVELS` groups), each group's edges fire at that power
    (:func:`fire_edges`) and each firing is kept with the speaker's share of it times the
    tie's factor."""
    level = np.ceil(np.log2(prob)).astype(np.int16)  # prob > 0: at least -1075
    level = np.maximum(level, level.max() - LEVELS)
    order = np.argsort(level, kind="stable")  # by level (a radix sort), consumers ascending
    bounds = np.flatnonzero(np.diff(level[order])) + 1
    prob_of = np.empty(indptr.size - 1)  # each speaker's probability, by consumer
    prob_of[speakers] = prob
    src_parts, pos_parts, keep_parts = [], [], []
    for group in np.split(order, bounds):
        top = float(2.0 ** level[group[0]])
        src, pos = fire_edges(indptr, speakers[group], top, rng, edge_source)
        src_parts.append(src)
        pos_parts.append(pos)
        keep_parts.append(prob_of[src] / top)
    src, pos = np.concatenate(src_parts), np.concatenate(pos_parts)
    keep_prob = np.concatenate(keep_parts)
    strength = None
    if tie_strength is not None:
        strength = tie_strength[pos]
        keep_prob *= cfg.weak_tie_talk + strength * (1.0 - cfg.weak_tie_talk)
    keep = rng.random(src.size) < keep_prob
    return src[keep], pos[keep], (strength[keep] if strength is not None else None)


def meetings(cfg: WomConfig, n: int, speakers: np.ndarray, prob: np.ndarray,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Conversations at random encounters: ``random_meetings`` per consumer per step on
    average, each between two distinct consumers drawn at random and a weak tie for that
    step; in each, a side that is a speaker (``speakers``, ascending, at least one) talks
    with its ``prob × weak_tie_talk``. Returns (speaker, listener); cost O(encounters)."""
    count = int(rng.poisson(cfg.random_meetings * n / 2.0))  # an encounter involves two
    a, b = rng.integers(0, n, count), rng.integers(0, n, count)
    distinct = a != b
    speaker = np.concatenate([a[distinct], b[distinct]])
    listener = np.concatenate([b[distinct], a[distinct]])
    slot = np.minimum(np.searchsorted(speakers, speaker), speakers.size - 1)
    talks = (speakers[slot] == speaker) & (rng.random(speaker.size)
                                           < prob[slot] * cfg.weak_tie_talk)
    return speaker[talks], listener[talks]


def talk(s: ConsumerState, cfg: WomConfig, indptr: np.ndarray, indices: np.ndarray,
         rng: np.random.Generator, edge_source: np.ndarray | None = None,
         heard_bad: list | None = None, *, tie_strength: np.ndarray | None = None,
         step: int = 0) -> dict[str, float]:
    """One round of conversations; returns ``positive_wom``, ``negative_wom`` and
    ``new_rejecters``.

    ``edge_source`` (the source of every stored edge) lets a large crowd of speakers be
    sampled in one pass over the edges (see :func:`~wommsim.mechanisms.common.fire_edges`).
    ``tie_strength``: per stored edge, in [0, 1] (None: every tie strong); ``step``: now
    (for the time since a purchase). ``heard_bad``, if given,
    receives the listeners who heard negative talk (of those whose opinion talk moves) and
    the negative share of the dose each heard, for the rivals' benefit
    (:mod:`wommsim.mechanisms.rivalry`).
    """
    n = s.n
    s.talked[:] = 0
    if cfg.negative_retention < 1.0:
        s.heard_negative *= np.float32(cfg.negative_retention)
    opinion = s.opinion
    speaking = s.aware & (np.abs(opinion) > cfg.neutral_band)
    speaking |= s.rejecter
    if not cfg.negative_talk:
        speaking &= (opinion > 0) & ~s.rejecter
    speakers = np.flatnonzero(speaking)
    none = {"positive_wom": 0, "negative_wom": 0, "new_rejecters": 0}
    if speakers.size == 0:
        return none
    prob = np.minimum(cfg.talk_prob * talk_multiplier(s, cfg, speakers, step), 1.0)
    talking = prob > 0
    speakers, prob = speakers[talking], prob[talking]
    if speakers.size == 0:
        return none
    speaker, pos, strength = conversations(s, cfg, indptr, speakers, prob, rng, edge_source,
                                           tie_strength)
    listener = indices[pos]
    if cfg.random_meetings > 0:
        met_speaker, met_listener = meetings(cfg, n, speakers, prob, rng)
        if met_speaker.size:
            speaker = np.concatenate([speaker, met_speaker])
            listener = np.concatenate([listener, met_listener])
            if strength is None:
                strength = np.ones(pos.size, dtype=np.float32)
            strength = np.concatenate([strength, np.zeros(met_speaker.size, np.float32)])
    if speaker.size == 0:
        return none
    # Start-of-stage opinions: nothing below changes them first.
    said = opinion[speaker]
    rejecting = s.rejecter[speaker]
    said = np.where(rejecting, np.minimum(said, -cfg.neutral_band), said)
    negative = said < 0
    s.talked[speaker] = np.where(negative, np.int8(-1), np.int8(1))
    n_negative = int(np.count_nonzero(negative))
    counts = {"positive_wom": int(speaker.size - n_negative), "negative_wom": n_negative}

    # Adopters are aware and unmoved by talk: only non-adopting listeners change.
    open_ = ~s.adopted[listener]
    listener, said, negative, speaker = listener[open_], said[open_], negative[open_], \
        speaker[open_]
    dose = (cfg.influence * cfg.trust) * np.abs(said) * s.persuasiveness[speaker]
    dose = np.where(negative, dose * cfg.negativity_bias, dose)
    rewarded = s.offer_step[speaker] >= 0
    if strength is not None:
        w = strength[open_].astype(np.float64)
        dose *= cfg.weak_tie_influence + w * (1.0 - cfg.weak_tie_influence)
        if cfg.rewarded_discount:
            dose *= np.where(rewarded, 1.0 - cfg.rewarded_discount * (1.0 - w / 2.0), 1.0)
    elif cfg.rewarded_discount:
        dose *= np.where(rewarded, 1.0 - cfg.rewarded_discount / 2.0, 1.0)
    heard, slot = listeners_of(listener, n)
    bad_dose = np.bincount(slot, np.where(negative, dose, 0.0), minlength=heard.size)
    good_dose = np.bincount(slot, np.where(negative, 0.0, dose), minlength=heard.size)
    if heard_bad is not None:
        bad = bad_dose / np.maximum(bad_dose + good_dose, 1e-300)
        heard_bad.extend((heard[bad > 0], bad[bad > 0]))
    up, down = -np.expm1(-good_dose), -np.expm1(-bad_dose)
    before = opinion[heard]
    delta = (up * (1.0 - before) - down * (1.0 + before)) / np.maximum(up + down, 1.0)
    opinion[heard] = before + delta
    s.opinion_source[heard[delta > 0]] = WOM

    hit = heard[bad_dose > 0]
    s.heard_negative[hit] += bad_dose[bad_dose > 0].astype(np.float32)
    rejects = hit[(s.heard_negative[hit] >= cfg.rejection_threshold) & ~s.rejecter[hit]]
    s.rejecter[rejects] = True

    first_aware = heard[~s.aware[heard]]
    s.aware[first_aware] = True
    s.aware_source[first_aware] = WOM
    return {**counts, "new_rejecters": int(rejects.size)}


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
               model.edge_source, heard_bad, tie_strength=model.tie_strength,
               step=model.steps)
    model.heard_bad = tuple(heard_bad) if heard_bad else None
    return out


def _report(model) -> dict[str, float]:
    return {"rejecters": int(np.count_nonzero(model.state.rejecter))}


MECHANISM = Mechanism(
    name="wom", stage=Stage.TALK, stream="wom", step=_step,
    doc="aware consumers with something to say (and rejecters) talk to neighbours, more "
        "after a strong experience; listeners become aware, non-adopters accumulate "
        "exposure and reject the brand after enough bad news",
    writes=("talked", "opinion", "opinion_source", "aware", "aware_source", "heard_negative",
            "rejecter"),
    metrics=(Metric("positive_wom", "flow", "conversations in which a positive opinion was "
                                            "said"),
             Metric("negative_wom", "flow", "conversations in which a negative opinion was "
                                            "said"),
             Metric("new_rejecters", "flow", "non-adopters who rejected the brand this step"),
             Metric("rejecters", "stock", "consumers who reject the brand (never buy it)")),
    influence=INFLUENCE,
    report=_report,
    off=_silence,
)
