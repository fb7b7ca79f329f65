"""The Mesa model: consumer arrays on a sparse social graph, stepped in a documented order."""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Sequence
from typing import Any

import mesa
import numpy as np

from wommsim.config import Config, StrategyConfig, strategy_at, validate
from wommsim.mechanisms import SCHEDULE, influences_of, purchase, reviews, schedule_of
from wommsim.mechanisms.base import Mechanism, Metric
from wommsim.mechanisms.common import edge_sources
from wommsim.mechanisms.content import Cascade
from wommsim.mechanisms.wom import WOM
from wommsim.network import SocialGraph, build_network
from wommsim.rng import Streams
from wommsim.state import NO_SOURCE, ConsumerState

log = logging.getLogger(__name__)

#: Markets up to this size get Mesa agent objects when ``agents=auto``.
AUTO_AGENTS_MAX_CONSUMERS = 10_000
AUTO_AGENTS_MAX_EDGES = 200_000


def market_metrics(schedule: Sequence[Mechanism]) -> tuple[Metric, ...]:
    """The columns the model reports about the whole market, before the mechanisms' own."""
    return (
        Metric("adopted_fraction", "stock", "adopters / consumers"),
        Metric("new_adopters", "flow", "consumers who bought in this step"),
        *(Metric(f"new_adopters_{i.name}", "flow", f"new adopters credited to {i.label}")
          for i in influences_of(schedule)),
        Metric("aware_fraction", "stock", "aware consumers / consumers"),
        Metric("mean_opinion", "stock", "mean opinion over all consumers"),
        Metric("advocates", "stock", "adopters with opinion > wom.neutral_band"),
        Metric("detractors", "stock", "adopters with opinion < -wom.neutral_band"),
        Metric("followers", "stock", "consumers following the brand"),
        Metric("spend", "flow", "money spent, the sum of the spend_* columns"),
        Metric("cumulative_spend", "cumulative", "money spent since step 0"),
    )


def columns_of(schedule: Sequence[Mechanism]) -> tuple[Metric, ...]:
    """Every column of the per-step table after ``step``: the market's, then each
    mechanism's in schedule order."""
    return (*market_metrics(schedule), *(c for m in schedule for c in m.columns))


#: Columns of the per-step table of the default schedule, in order.
METRICS: tuple[str, ...] = tuple(metric.name for metric in columns_of(SCHEDULE))


def wants_agents(mode: str, consumers: int, edges: int) -> bool:
    """Whether a market of ``consumers`` and ``edges`` (undirected) may have Mesa agent
    objects under ``agents=mode`` (``auto``: up to the ``AUTO_AGENTS_MAX_*`` sizes)."""
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
    ``mechanisms`` replaces the schedule of rules (default :data:`wommsim.mechanisms.SCHEDULE`;
    see ``docs/DEVELOPING.md``).

    Mesa's conventions hold: ``seed=`` (an integer) or ``rng=`` (an integer or a
    ``numpy.random.Generator``, from which a seed is drawn) set ``Config.seed``, so
    ``mesa.batch_run(WommModel, parameters=..., rng=[1, 2])`` runs replicable models; with
    neither, the config's seed holds (the default is fixed, not random). ``running`` turns
    false after ``steps`` steps.

    State of record is ``self.state`` (one array per variable, see
    :data:`wommsim.state.STATE_VARS`) and ``self.graph`` (a CSR adjacency). Consumers are also
    Mesa agents (:class:`wommsim.agents.Consumer`) on a ``mesa.discrete_space.Network`` when
    agents are on; they read and write the same arrays, so results do not depend on it.
    """

    def __init__(self, config: Config | None = None, *, replicate: int = 0,
                 graph: SocialGraph | None = None,
                 mechanisms: Sequence[Mechanism] = SCHEDULE,
                 seed: int | None = None,
                 rng: int | np.random.Generator | None = None, **kwargs: Any) -> None:
        if seed is not None and rng is not None:
            raise TypeError("pass seed or rng, not both")
        if isinstance(rng, np.random.Generator):
            seed = int(rng.integers(2**32))
        elif rng is not None:
            seed = rng
        if config is None:
            from wommsim.compose import compose_from_kwargs

            if seed is not None:
                kwargs["seed"] = seed
            config = compose_from_kwargs(kwargs)
        elif kwargs:
            raise TypeError("pass either a Config or keyword overrides, not both")
        elif seed is not None:
            config = dataclasses.replace(config, seed=seed)
        self.config = cfg = validate(config)
        self.replicate = replicate
        self.streams = Streams(cfg.seed, replicate)
        super().__init__(rng=self.streams.mesa)

        self.schedule = schedule_of(mechanisms)
        self.influences = influences_of(self.schedule)
        self.levers = tuple(m for m in self.schedule if m.lever)
        self.columns = tuple(metric.name for metric in columns_of(self.schedule))

        if graph is None:
            graph = build_network(cfg.network, cfg.consumers, self.streams.network)
        self.graph = graph
        self.n = graph.n
        self.degree = graph.degree
        self.indptr = graph.adjacency.indptr
        self.indices = graph.adjacency.indices
        self.edge_source = edge_sources(self.indptr)  # the source of every stored edge
        self._hubs: np.ndarray | None = None

        self.state: ConsumerState = initial_state(cfg, self.degree, self.streams)
        self.cascades: list[Cascade] = []
        self.review_board = reviews.ReviewBoard()
        self.cumulative_spend = 0.0
        existing = np.flatnonzero(self.state.adopted)
        purchase.adopt(self.state, cfg, existing, np.full(existing.size, NO_SOURCE, np.int8),
                       0, self.review_board, self.streams.purchase)
        # The step's buyers and the influence credited with each: written by the decision
        # stage, read by the purchase stage and the metrics.
        self.buyers = np.empty(0, dtype=np.int64)
        self.triggers = np.empty(0, dtype=np.int8)

        # Adopted neighbours per consumer: one sparse product now, then kept up to date
        # from each step's buyers' edges (exact integer counts, far cheaper than a product).
        self.adopted_neighbours = self.graph.adjacency @ self.state.adopted.astype(np.float64)

        # Mesa agents: with agents=on now, with agents=auto the first time something reads
        # them (``agents`` or ``space``); a headless run never does, and building 10,000
        # agents took two thirds of the default experiment's time.
        self._space = None
        self._warned_no_agents = False
        self._agents_pending = wants_agents(cfg.agents, self.n, self.graph.n_edges)
        if cfg.agents == "on":
            self._place_agents()

        self.metrics: dict[str, float] = {}
        self._record(step_metrics={})
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in self.columns})
        self.datacollector.collect(self)

    # -- the step ---------------------------------------------------------------------------

    def step(self) -> None:
        """Advance one step (a week by default), running the schedule's stages in order:

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

        A mechanism whose section says ``enabled: false`` runs with no money (a lever) or not
        at all (see :class:`~wommsim.mechanisms.base.Mechanism`). Within each numbered stage
        (and each lever), every consumer's update reads the state as it was when that stage
        began: no consumer sees another's update of the same stage, so the result does not
        depend on any activation order.
        """
        cfg = self.config
        strategy = self.strategy_at(self.steps)  # Mesa has already counted this step
        self.buyers = np.empty(0, dtype=np.int64)
        self.triggers = np.empty(0, dtype=np.int8)
        step_metrics: dict[str, float] = {}
        for mechanism in self.schedule:
            enabled = getattr(getattr(cfg, mechanism.name, None), "enabled", True)
            money = 0.0
            if mechanism.lever:
                money = cfg.brand.budget * getattr(strategy, mechanism.name) if enabled else 0.0
            elif not enabled and mechanism.switch == "skip":
                if mechanism.off is not None:
                    mechanism.off(self)
                continue
            rng = getattr(self.streams, mechanism.stream) if mechanism.stream else None
            for name, value in mechanism.step(self, rng, money).items():
                step_metrics[f"spend_{mechanism.name}" if mechanism.lever and name == "spend"
                             else name] = value
        self._record(step_metrics)
        self.datacollector.collect(self)
        self.running = self.steps < cfg.steps

    # -- bookkeeping ------------------------------------------------------------------------

    def strategy_at(self, step: int) -> StrategyConfig:
        """The strategy in force at ``step``: the last phase started by then, else the base."""
        return strategy_at(self.config, step)

    @property
    def hubs(self) -> np.ndarray:
        """Consumers by falling degree (ties by index), computed once."""
        if self._hubs is None:
            self._hubs = np.argsort(-self.degree, kind="stable")
        return self._hubs

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """Mesa's set of :class:`~wommsim.agents.Consumer` agents, built when first read
        (``agents=auto``, markets up to :data:`AUTO_AGENTS_MAX_CONSUMERS`) or at start
        (``agents=on``); empty, with a warning, where the market gets none."""
        if self._agents_pending:
            self._place_agents()
        elif self._space is None and not self._warned_no_agents:
            self._warned_no_agents = True
            warnings.warn(f"no Mesa agents: agents={self.config.agents} with {self.n:,} "
                          f"consumers (agents=auto builds them up to "
                          f"{AUTO_AGENTS_MAX_CONSUMERS:,}; agents=on builds them always); "
                          "model.state holds every consumer's values", stacklevel=2)
        return super().agents

    @property
    def space(self):
        """Mesa's network space with one agent per node (built with the agents), or None."""
        if self._agents_pending:
            self._place_agents()
        return self._space

    def _place_agents(self) -> None:
        from wommsim.agents import place_consumers

        self._agents_pending = False
        self._space = place_consumers(self)

    def _record(self, step_metrics: dict[str, float]) -> None:
        unknown = set(step_metrics) - set(self.columns)
        if unknown:
            raise ValueError(f"mechanisms reported undeclared metrics: {sorted(unknown)}")
        s, n = self.state, self.n
        spend = sum(step_metrics.get(f"spend_{lever.name}", 0.0) for lever in self.levers)
        self.cumulative_spend += spend
        new_adopters = np.bincount(self.triggers, minlength=len(self.influences))
        band = self.config.wom.neutral_band
        m = {
            "adopted_fraction": np.count_nonzero(s.adopted) / n,
            "new_adopters": int(new_adopters.sum()),
            **{f"new_adopters_{i.name}": int(new_adopters[i.code]) for i in self.influences},
            "aware_fraction": np.count_nonzero(s.aware) / n,
            "mean_opinion": float(s.opinion.mean()),
            "advocates": np.count_nonzero(s.adopted & (s.opinion > band)),
            "detractors": np.count_nonzero(s.adopted & (s.opinion < -band)),
            "followers": np.count_nonzero(s.follower),
            "spend": spend,
            "cumulative_spend": self.cumulative_spend,
        }
        for mechanism in self.schedule:
            if mechanism.report is not None:
                m.update(mechanism.report(self))
        self.metrics = {name: m.get(name, step_metrics.get(name, 0)) for name in self.columns}

    def timeseries(self):
        """The per-step table (one row per step, step 0 the initial state) as a DataFrame."""
        frame = self.datacollector.get_model_vars_dataframe()
        frame.insert(0, "step", np.arange(len(frame)))
        return frame.reset_index(drop=True)


def initial_state(cfg: Config, degree: np.ndarray, streams: Streams) -> ConsumerState:
    """Draw consumer traits and the step-0 state from the ``consumers`` stream.

    The stream depends only on (seed, replicate), so every arm of a replicate starts from
    the same consumers (a paired design). Existing customers get their post-purchase state
    from the ``purchase`` rules in :mod:`wommsim.mechanisms.purchase` (called by the model).
    """
    rng = streams.consumers
    c = cfg.consumer
    n = degree.size
    s = ConsumerState(n)
    s.ad_receptive[:] = rng.random(n) >= c.ad_blind_fraction
    s.researches_online[:] = rng.random(n) < cfg.channels.research_online_fraction
    s.threshold[:] = rng.normal(c.threshold_mean, c.threshold_spread, n)
    s.expectation[:] = c.expectation_mean
    s.aware[:] = rng.random(n) < c.initial_aware_fraction
    s.adopted[:] = rng.random(n) < c.initial_adopted_fraction
    if c.initial_adopters == "hubs":  # the same number, given to the best-connected
        count = int(s.adopted.sum())
        s.adopted[:] = False
        s.adopted[np.argsort(-degree, kind="stable")[:count]] = True
    s.aware |= s.adopted
    aware_opinion = np.clip(rng.normal(c.opinion_mean, c.opinion_spread, n), -1.0, 1.0)
    s.opinion[:] = np.where(s.aware, aware_opinion, 0.0)
    # Step-0 awareness comes from the brand's past presence in conversation.
    s.aware_source[s.aware] = WOM
    s.opinion_source[s.aware & (s.opinion > 0)] = WOM
    s.adopted_step[s.adopted] = 0
    return s


def _reporter(name: str):
    return lambda model: model.metrics[name]
