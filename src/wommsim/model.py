"""The Mesa model: consumer arrays on a sparse social graph, stepped in a documented order."""

from __future__ import annotations

import logging
from typing import Any

import mesa
import numpy as np

from wommsim.config import LEVERS, Config, StrategyConfig, validate
from wommsim.mechanisms import (
    advertising,
    content,
    decay,
    decision,
    dialogue,
    incentives,
    purchase,
    reviews,
    wom,
)
from wommsim.mechanisms.common import edge_sources, neighbours_of
from wommsim.network import SocialGraph, build_network
from wommsim.rng import Streams
from wommsim.state import INFLUENCES, NO_SOURCE, ConsumerState, initial_state

log = logging.getLogger(__name__)

#: Markets up to this size get Mesa agent objects when ``agents=auto``.
AUTO_AGENTS_MAX_CONSUMERS = 10_000
AUTO_AGENTS_MAX_EDGES = 200_000

#: Columns of the per-step table, in order (MODEL.md's contract plus further columns).
METRICS: tuple[str, ...] = (
    "adopted_fraction", "new_adopters",
    *(f"new_adopters_{name}" for name in INFLUENCES),
    "aware_fraction", "mean_opinion", "advocates", "detractors", "followers",
    "positive_wom", "negative_wom", "ad_impressions", "content_reach", "reviews",
    "review_score", "spend", "cumulative_spend", "online_sales", "offline_sales",
    "replies", "content_pieces", "review_invitations", "incentive_offers",
    *(f"spend_{lever}" for lever in LEVERS),
)


def wants_agents(mode: str, consumers: int, edges: int) -> bool:
    """Whether a market of ``consumers`` and ``edges`` (undirected) gets Mesa agent objects
    under ``agents=mode`` (``auto``: up to the ``AUTO_AGENTS_MAX_*`` sizes)."""
    if mode == "auto":
        return consumers <= AUTO_AGENTS_MAX_CONSUMERS and edges <= AUTO_AGENTS_MAX_EDGES
    return mode == "on"


class WommModel(mesa.Model):
    """Consumers deciding to buy from what their peers say and do versus the ads they see.

    Build it from a :class:`~wommsim.config.Config` (``WommModel(cfg, replicate=r)``) or from
    keyword overrides composed on the packaged defaults, e.g.
    ``WommModel(consumers=500, strategy="ad_heavy", consumer__ad_blind_fraction=0.5)``
    (``section__key`` for nested keys; ``strategy``, ``network`` and ``decision`` choose
    presets). ``graph`` reuses an already built network (it must match the config).

    State of record is ``self.state`` (one array per variable, see
    :data:`wommsim.state.STATE_VARS`) and ``self.graph`` (a CSR adjacency). Consumers are also
    Mesa agents (:class:`wommsim.agents.Consumer`) on a ``mesa.discrete_space.Network`` when
    agents are on; they read and write the same arrays, so results do not depend on it.
    """

    def __init__(self, config: Config | None = None, *, replicate: int = 0,
                 graph: SocialGraph | None = None, **kwargs: Any) -> None:
        if config is None:
            from wommsim.compose import compose_from_kwargs

            config = compose_from_kwargs(kwargs)
        elif kwargs:
            raise TypeError("pass either a Config or keyword overrides, not both")
        self.config = cfg = validate(config)
        self.replicate = replicate
        self.streams = Streams(cfg.seed, replicate)
        super().__init__(rng=self.streams.mesa)

        if graph is None:
            graph = build_network(cfg.network, cfg.consumers, self.streams.network)
        self.graph = graph
        self.n = graph.n
        self.degree = graph.degree
        self._indptr = graph.adjacency.indptr
        self._indices = graph.adjacency.indices
        self._edge_source = edge_sources(self._indptr)
        self._hubs: np.ndarray | None = None

        self.state: ConsumerState = initial_state(cfg, self.degree, self.streams)
        self.cascades: list[content.Cascade] = []
        self.review_board = reviews.ReviewBoard()
        self.cumulative_spend = 0.0
        existing = np.flatnonzero(self.state.adopted)
        purchase.adopt(self.state, cfg, existing, np.full(existing.size, NO_SOURCE, np.int8),
                       0, self.review_board, self.streams.purchase)

        # Adopted neighbours per consumer: one sparse product now, then kept up to date
        # from each step's buyers' edges (exact integer counts, far cheaper than a product).
        self.adopted_neighbours = self.graph.adjacency @ self.state.adopted.astype(np.float64)

        self.space = None
        if self._wants_agents():
            from wommsim.agents import place_consumers

            self.space = place_consumers(self)

        self.metrics: dict[str, float] = {}
        self._record(step_metrics={}, new_adopters=np.zeros(len(INFLUENCES), dtype=np.int64))
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in METRICS})
        self.datacollector.collect(self)

    # -- the step ---------------------------------------------------------------------------

    def step(self) -> None:
        """Advance one step (a week by default). The order within a step:

        1. Brand levers, each paid from the step's budget by the strategy's split, in this
           order: (a) advertising (impressions: awareness, adstock and hype on receptive
           consumers, annoyance and unfollows on ad-blind ones); (b) dialogue (answer last
           step's talkers, negative first); (c) content (live cascades advance one
           generation, then this step's pieces are seeded); (d) reviews (invite past buyers;
           invited reviews post at once); (e) incentives (follow-for-discount offers).
        2. Word of mouth: opinionated aware consumers talk to neighbours; listeners become
           aware and non-adopters' opinions move toward the speakers'.
        3. Purchase decision by the configured rule (``opinion`` or ``bass``), each
           adoption credited to one influence.
        4. After purchase: experience, satisfaction, advocacy or detraction, unfollows,
           organic reviews, online or offline channel.
        5. Decay: adstock keeps ``advertising.retention``, non-adopters' opinions drift
           toward 0, content freshness decays.

        Within each numbered stage (and each lever), every consumer's update reads the
        state as it was when that stage began: no consumer sees another's update of the
        same stage, so the result does not depend on any activation order.
        """
        cfg, s, rs = self.config, self.state, self.streams
        t = self.steps  # Mesa has already counted this step
        budget = cfg.brand.budget
        strategy = self.strategy_at(t)
        split = {lever: budget * getattr(strategy, lever) if getattr(cfg, lever).enabled
                 else 0.0 for lever in LEVERS}

        results = {
            "advertising": advertising.advertise(s, cfg.advertising, split["advertising"],
                                                 rs.advertising),
            "dialogue": dialogue.converse(s, cfg.dialogue, split["dialogue"], rs.dialogue),
            "content": content.spread(s, cfg.content, split["content"], self.cascades,
                                      self._indptr, self._indices, self.hubs, rs.content,
                                      self._edge_source),
            "reviews": reviews.invite(s, cfg.reviews, split["reviews"], self.review_board,
                                      rs.reviews),
            "incentives": incentives.offer(s, cfg.incentives, split["incentives"],
                                           rs.incentives),
        }
        if cfg.wom.enabled:
            talk = wom.talk(s, cfg.wom, self._indptr, self._indices, rs.wom,
                            self._edge_source)
        else:
            s.talked[:] = 0
            talk = {"positive_wom": 0, "negative_wom": 0}

        adopted_neighbours = self.adopted_neighbours
        if cfg.decision.rule == "bass":
            buyers, triggers = decision.bass_rule(s, cfg.decision, adopted_neighbours,
                                                  self.degree, rs.decision)
        else:
            share = np.divide(adopted_neighbours, self.degree,
                              out=np.zeros(self.n), where=self.degree > 0)
            review_signal = (self.review_board.score * self.review_board.weight(cfg.reviews)
                             if cfg.reviews.enabled else 0.0)
            bonus = cfg.incentives.bonus if cfg.incentives.enabled else 0.0
            buyers, triggers = decision.opinion_rule(s, cfg.decision, share, review_signal,
                                                     bonus, rs.decision)
        sales = purchase.adopt(s, cfg, buyers, triggers, t, self.review_board, rs.purchase)
        self._count_new_adopters(buyers)

        decay.fade(s, cfg.advertising, cfg.consumer)
        content.age(self.cascades, cfg.content)

        step_metrics = {**talk, **sales}
        for lever, result in results.items():
            step_metrics[f"spend_{lever}"] = result["spend"]
        step_metrics.update(
            ad_impressions=results["advertising"]["ad_impressions"],
            replies=results["dialogue"]["replies"],
            content_reach=results["content"]["content_reach"],
            content_pieces=results["content"]["pieces"],
            review_invitations=results["reviews"]["invitations"],
            incentive_offers=results["incentives"]["offers"],
        )
        new = np.bincount(triggers, minlength=len(INFLUENCES))
        self._record(step_metrics, new)
        self.datacollector.collect(self)

    # -- bookkeeping ------------------------------------------------------------------------

    def _count_new_adopters(self, buyers: np.ndarray) -> None:
        neighbours = neighbours_of(self._indptr, self._indices, buyers)
        np.add.at(self.adopted_neighbours, neighbours, 1.0)  # O(buyers' edges), not O(n)

    def strategy_at(self, step: int) -> StrategyConfig:
        """The strategy in force at ``step``: the last phase started by then, else the base."""
        current = self.config.strategy
        for phase in self.config.phases:
            if phase.start <= step:
                current = phase
        return current

    @property
    def hubs(self) -> np.ndarray:
        """Consumers by falling degree (ties by index), computed once."""
        if self._hubs is None:
            self._hubs = np.argsort(-self.degree, kind="stable")
        return self._hubs

    def _wants_agents(self) -> bool:
        return wants_agents(self.config.agents, self.n, self.graph.n_edges)

    def _record(self, step_metrics: dict[str, float], new_adopters: np.ndarray) -> None:
        s, n = self.state, self.n
        spend = sum(step_metrics.get(f"spend_{lever}", 0.0) for lever in LEVERS)
        self.cumulative_spend += spend
        band = self.config.wom.neutral_band
        m = {
            "adopted_fraction": np.count_nonzero(s.adopted) / n,
            "new_adopters": int(new_adopters.sum()),
            **{f"new_adopters_{name}": int(new_adopters[i]) for i, name in enumerate(INFLUENCES)},
            "aware_fraction": np.count_nonzero(s.aware) / n,
            "mean_opinion": float(s.opinion.mean()),
            "advocates": np.count_nonzero(s.adopted & (s.opinion > band)),
            "detractors": np.count_nonzero(s.adopted & (s.opinion < -band)),
            "followers": np.count_nonzero(s.follower),
            "reviews": self.review_board.count,
            "review_score": self.review_board.score,
            "spend": spend,
            "cumulative_spend": self.cumulative_spend,
        }
        for name in METRICS:
            m.setdefault(name, step_metrics.get(name, 0))
        self.metrics = {name: m[name] for name in METRICS}

    def timeseries(self):
        """The per-step table (one row per step, step 0 the initial state) as a DataFrame."""
        frame = self.datacollector.get_model_vars_dataframe()
        frame.insert(0, "step", np.arange(len(frame)))
        return frame.reset_index(drop=True)


def _reporter(name: str):
    return lambda model: model.metrics[name]
