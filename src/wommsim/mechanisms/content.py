"""Content: shareable "social objects" spreading as independent cascades.

Each step the content budget buys pieces. The pieces made in one step are identical in
meaningfulness, freshness and sustainability, so they form one cascade whose seeds are the
union of each piece's seeds. A seed engages with the brand's post with probability
``meaningfulness × freshness``; an engaged consumer shares once, in the step after it
engaged, and each neighbour it shares with (probability ``share_scale × meaningfulness ×
freshness`` per neighbour) is reached and engaged in turn (the independent cascade model,
Goldenberg, Libai & Muller 2001). Freshness decays each step by
``freshness_decay × (1 - sustainability)``. Reached (engaged) consumers become aware and warm
slightly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wommsim.config import ContentConfig
from wommsim.mechanisms.base import Influence, Mechanism, Metric, Stage
from wommsim.mechanisms.common import affordable, choose, sample_edges, warm
from wommsim.seeding import Seeder
from wommsim.state import ConsumerState

INFLUENCE = Influence(2, "content", "content")
CONTENT = INFLUENCE.code


@dataclass
class Cascade:
    """One step's pieces spreading: who engaged so far, who shares next, how fresh it is."""

    reached: np.ndarray  # bool per consumer
    frontier: np.ndarray  # consumers who engaged last step and share this step
    freshness: float


def pick_seeds(s: ConsumerState, cfg: ContentConfig, count: int, seeder: Seeder,
               rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct seed consumers: followers first (topped up at random), random
    consumers, or those a seeding rule places (``seeder``: :mod:`wommsim.seeding`)."""
    count = min(count, s.n)
    if cfg.seeding == "followers":
        first = choose(rng, np.flatnonzero(s.follower), count)
        if first.size == count:
            return first
        others = np.flatnonzero(~s.follower)
        return np.concatenate([first, choose(rng, others, count - first.size)])
    if cfg.seeding == "random":
        return choose(rng, np.arange(s.n), count)
    return seeder.place(cfg.seeding, count, rng)


def spread(s: ConsumerState, cfg: ContentConfig, money: float, cascades: list[Cascade],
           indptr: np.ndarray, indices: np.ndarray, seeder: Seeder,
           rng: np.random.Generator, edge_source: np.ndarray | None = None
           ) -> dict[str, float]:
    """Advance live cascades one step, launch this step's pieces, apply reach effects.

    Returns ``content_reach`` (consumers engaged this step, counted once), ``content_pieces`` and
    ``spend``. Cascades with no one left to share are dropped from ``cascades``.
    """
    newly = np.zeros(s.n, dtype=bool)
    live = []
    for cascade in cascades:  # a handful of cascades, never a loop over consumers
        engage = cfg.meaningfulness * cascade.freshness
        _, exposed = sample_edges(indptr, indices, cascade.frontier,
                                  cfg.share_scale * engage, rng, edge_source)
        exposed = np.unique(exposed[~cascade.reached[exposed]])
        cascade.reached[exposed] = True
        cascade.frontier = exposed
        newly[exposed] = True
        if exposed.size:
            live.append(cascade)

    pieces = affordable(money, cfg.cost_per_piece)
    if pieces:
        seeds = pick_seeds(s, cfg, pieces * cfg.seeds_per_piece, seeder, rng)
        engaged = seeds[rng.random(seeds.size) < cfg.meaningfulness * cfg.freshness]
        reached = np.zeros(s.n, dtype=bool)
        reached[engaged] = True
        newly[engaged] = True
        if engaged.size:
            live.append(Cascade(reached, engaged, cfg.freshness))
    cascades[:] = live

    who = np.flatnonzero(newly)
    first_aware = who[~s.aware[who]]
    s.aware[first_aware] = True
    s.aware_source[first_aware] = CONTENT
    warm(s.opinion, who, cfg.warmth)
    s.opinion_source[who] = CONTENT
    return {"content_reach": int(who.size), "content_pieces": pieces,
            "spend": pieces * cfg.cost_per_piece}


def age(cascades: list[Cascade], cfg: ContentConfig) -> None:
    """Freshness decays; sustainable content keeps more of it."""
    for cascade in cascades:
        cascade.freshness *= 1.0 - cfg.freshness_decay * (1.0 - cfg.sustainability)


def _step(model, rng: np.random.Generator, money: float) -> dict[str, float]:
    return spread(model.state, model.config.content, money, model.cascades, model.indptr,
                  model.indices, model.seeder, rng, model.edge_source)


MECHANISM = Mechanism(
    name="content", stage=Stage.LEVERS, lever=True, stream="content", step=_step,
    doc="social objects spreading as independent cascades (they age in the decay stage)",
    writes=("aware", "aware_source", "opinion", "opinion_source"),
    metrics=(Metric("content_reach", "flow", "distinct consumers engaged by content"),
             Metric("content_pieces", "flow", "content pieces bought")),
    influence=INFLUENCE,
)
