"""Content: shareable "social objects" spreading as independent cascades.

Each step the content budget buys pieces. The pieces made in one step are identical in
meaningfulness, freshness and sustainability, so they form one cascade whose seeds are the
union of each piece's seeds. Every exposure (a seed shown the post, or a neighbour an engaged
consumer shares it with) engages the exposed consumer with a probability that falls with a
negative opinion (``opinion_weight``: detractors rarely engage) and with audience fatigue
(``(1 - fatigue)`` per recent exposure to the brand's content, a per-consumer count that keeps
``fatigue_retention`` of itself each step); a seed's probability is also multiplied by
``meaningfulness × freshness``. An engaged consumer shares once, in the step after it engaged,
to each neighbour with probability ``share_scale × meaningfulness × freshness`` (the
independent cascade model, Goldenberg, Libai & Muller 2001). ``share_scale`` is calibrated so
that the branching is subcritical and most cascades stay at their seed, as observed online
(Goel, Watts & Goldstein 2012: in each of seven domains the vast majority of cascades never
spread beyond the seed). Freshness decays each step by ``freshness_decay × (1 -
sustainability)``. Engaged consumers become aware and warm toward ``warmth_ceiling``; a
disappointed buyer (satisfaction below 0) warms at most to neutral, so content cannot launder
a bad experience into advocacy.

Cascade sizes are counted per engaged seed (the seed and every consumer its shares engaged,
directly or down the chain), as Goel et al. count them: when a cascade ends, its seeds' sizes
are reported (``content_cascades``, ``content_cascades_grown``, ``content_cascade_members``)
and added to the brand's histogram (:func:`tally`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from wommsim.config import ContentConfig
from wommsim.mechanisms.base import Influence, Mechanism, Metric, Stage
from wommsim.mechanisms.common import affordable, choose, sample_edges
from wommsim.seeding import Seeder
from wommsim.state import ConsumerState

INFLUENCE = Influence(2, "content", "content")
CONTENT = INFLUENCE.code


@dataclass
class Cascade:
    """One step's pieces spreading: who was shown it so far, who shares next (and from which
    seed their chain started), how fresh it is, and each engaged seed's cascade size."""

    reached: np.ndarray  # bool per consumer: shown this cascade (each consumer once)
    frontier: np.ndarray  # consumers who engaged last step and share this step, ascending
    freshness: float
    roots: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # per frontier
    sizes: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # per seed


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


def engagement(s: ConsumerState, cfg: ContentConfig, who: np.ndarray) -> np.ndarray:
    """How likely each of ``who`` is to engage with a brand post it is shown, relative to a
    neutral, unfatigued consumer: ``max(0, 1 + opinion_weight × min(opinion, 0)) ×
    (1 - fatigue) ** content_fatigue``."""
    fit = np.maximum(1.0 + cfg.opinion_weight * np.minimum(s.opinion[who], 0.0), 0.0)
    return fit * (1.0 - cfg.fatigue) ** s.content_fatigue[who]


def expose(s: ConsumerState, cfg: ContentConfig, who: np.ndarray, appeal: float,
           rng: np.random.Generator) -> np.ndarray:
    """Show a post to ``who`` (distinct consumers): each engages with probability ``appeal ×``
    :func:`engagement`, then counts one more recent exposure. Returns the mask of engagers."""
    engaged = rng.random(who.size) < appeal * engagement(s, cfg, who)
    s.content_fatigue[who] += 1.0
    return engaged


def warm_toward_ceiling(s: ConsumerState, cfg: ContentConfig, who: np.ndarray) -> None:
    """Engagement warms: the opinion closes ``warmth`` of its gap to ``warmth_ceiling``
    (a disappointed buyer's: to 0), never lowered."""
    ceiling = np.where(s.satisfaction[who] < 0.0, 0.0, cfg.warmth_ceiling)
    opinion = s.opinion[who]
    s.opinion[who] = np.maximum(opinion, opinion + cfg.warmth * (ceiling - opinion))


def spread(s: ConsumerState, cfg: ContentConfig, money: float, cascades: list[Cascade],
           indptr: np.ndarray, indices: np.ndarray, seeder: Seeder,
           rng: np.random.Generator, edge_source: np.ndarray | None = None,
           sizes: list[np.ndarray] | None = None) -> dict[str, float]:
    """Advance live cascades one step, launch this step's pieces, apply reach effects.

    Returns ``content_reach`` (consumers engaged this step, counted once), ``content_pieces``,
    the seed cascades that ended this step (``content_cascades``, of which
    ``content_cascades_grown`` engaged anyone beyond the seed, with ``content_cascade_members``
    members in all) and ``spend``. Cascades with no one left to share are dropped from
    ``cascades``; their seeds' sizes are appended to ``sizes`` if given.
    """
    newly = np.zeros(s.n, dtype=bool)
    live, ended = [], []
    for cascade in cascades:  # a handful of cascades, never a loop over consumers
        appeal = cfg.meaningfulness * cascade.freshness
        source, shown = sample_edges(indptr, indices, cascade.frontier,
                                     cfg.share_scale * appeal, rng, edge_source)
        unseen = ~cascade.reached[shown]
        shown, first = np.unique(shown[unseen], return_index=True)
        root = cascade.roots[np.searchsorted(cascade.frontier, source[unseen][first])]
        cascade.reached[shown] = True
        engaged = expose(s, cfg, shown, 1.0, rng)
        cascade.frontier, cascade.roots = shown[engaged], root[engaged]
        cascade.sizes += np.bincount(cascade.roots, minlength=cascade.sizes.size)
        newly[cascade.frontier] = True
        (live if cascade.frontier.size else ended).append(cascade)

    pieces = affordable(money, cfg.cost_per_piece)
    if pieces:
        seeds = np.sort(pick_seeds(s, cfg, pieces * cfg.seeds_per_piece, seeder, rng))
        engaged = seeds[expose(s, cfg, seeds, cfg.meaningfulness * cfg.freshness, rng)]
        reached = np.zeros(s.n, dtype=bool)
        reached[seeds] = True
        newly[engaged] = True
        if engaged.size:
            live.append(Cascade(reached, engaged, cfg.freshness,
                                np.arange(engaged.size), np.ones(engaged.size, np.int64)))
    cascades[:] = live

    who = np.flatnonzero(newly)
    first_aware = who[~s.aware[who]]
    s.aware[first_aware] = True
    s.aware_source[first_aware] = CONTENT
    warm_toward_ceiling(s, cfg, who)
    s.opinion_source[who] = CONTENT
    done = np.concatenate([c.sizes for c in ended]) if ended else np.empty(0, np.int64)
    if sizes is not None and done.size:
        sizes.append(done)
    return {"content_reach": int(who.size), "content_pieces": pieces,
            "content_cascades": int(done.size),
            "content_cascades_grown": int(np.count_nonzero(done > 1)),
            "content_cascade_members": int(done.sum()),
            "spend": pieces * cfg.cost_per_piece}


def tally(sizes: list[np.ndarray]) -> np.ndarray:
    """The histogram of seed-cascade sizes: entry ``k`` counts the ended cascades of size
    ``k`` (entry 0 is always 0)."""
    if not sizes:
        return np.zeros(1, dtype=np.int64)
    return np.bincount(np.concatenate(sizes))


def age(cascades: list[Cascade], cfg: ContentConfig) -> None:
    """Freshness decays; sustainable content keeps more of it."""
    for cascade in cascades:
        cascade.freshness *= 1.0 - cfg.freshness_decay * (1.0 - cfg.sustainability)


def tire(s: ConsumerState, cfg: ContentConfig) -> None:
    """Audience fatigue wears off: the recent-exposure count keeps ``fatigue_retention``."""
    s.content_fatigue *= np.float32(cfg.fatigue_retention)


def _step(model, rng: np.random.Generator, money: float) -> dict[str, float]:
    return spread(model.state, model.config.content, money, model.cascades, model.indptr,
                  model.indices, model.seeder, rng, model.edge_source, model.cascade_sizes)


MECHANISM = Mechanism(
    name="content", stage=Stage.LEVERS, lever=True, stream="content", step=_step,
    doc="social objects spreading as independent cascades, engagement lowered by a negative "
        "opinion and fatigue (they age in the decay stage)",
    writes=("aware", "aware_source", "opinion", "opinion_source", "content_fatigue"),
    metrics=(Metric("content_reach", "flow", "distinct consumers engaged by content"),
             Metric("content_pieces", "flow", "content pieces bought"),
             Metric("content_cascades", "flow", "seed cascades (an engaged seed and all its "
                    "shares engaged) that ended this step"),
             Metric("content_cascades_grown", "flow", "of these, cascades that engaged "
                    "anyone beyond their seed"),
             Metric("content_cascade_members", "flow", "consumers engaged in the seed "
                    "cascades that ended this step (their sizes summed)")),
    influence=INFLUENCE,
)
