"""The Mesa model: consumer arrays on a sparse social graph, stepped in a documented order."""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import mesa
import numpy as np
import pandas as pd

from wommsim.config import (
    LEVERS,
    UNIT_COSTS,
    Brand,
    Config,
    ConsumerConfig,
    StrategyConfig,
    brands_of,
    check_units_per_step,
    strategy_at,
    validate,
    weekly_budget,
)
from wommsim.mechanisms import SCHEDULE, influences_of, purchase, reviews, schedule_of
from wommsim.mechanisms.base import Mechanism, Metric
from wommsim.mechanisms.common import edge_sources, leftover
from wommsim.mechanisms.content import Cascade
from wommsim.mechanisms.incentives import INCENTIVES
from wommsim.mechanisms.wom import WOM, participation
from wommsim.network import SocialGraph, build_network
from wommsim.rng import Streams
from wommsim.seeding import Seeder
from wommsim.state import NO_SOURCE, ConsumerState, MarketState

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


#: The columns of ``brands.parquet`` after ``step`` and ``brand`` (one row per brand a step),
#: followed by ``new_adopters_<influence>`` (first purchases credited to it, as in the
#: market's table) and ``value_<influence>`` (the margin earned so far from the customers it
#: acquired, discounted to step 0) for every influence.
BRAND_METRICS: tuple[Metric, ...] = (
    Metric("customers", "stock", "consumers whose current brand this is (a durable: its owners)"),
    Metric("purchases", "flow", "purchases of the brand in this step"),
    Metric("repeat_purchases", "flow", "purchases by consumers who had bought the brand before"),
    Metric("new_customers", "flow", "first purchases of the brand (customers acquired)"),
    Metric("churned", "flow", "customers lost: switched to another brand, lapsed (opinion "
                              "below market.churn_opinion) or left the category"),
    Metric("switched_in", "flow", "buyers who were another brand's customers"),
    Metric("switched_out", "flow", "customers who bought another brand"),
    Metric("share", "stock", "the brand's share of this step's purchases (empty if none)"),
    Metric("revenue", "flow", "what the purchases paid: the price, less the discount of an "
                              "offer redeemed"),
    Metric("margin", "flow", "revenue less the unit cost, price × (1 - economics.margin), of "
                             "each purchase: before marketing spend"),
    Metric("spend", "flow", "the brand's marketing spend"),
    Metric("cumulative_spend", "cumulative", "the brand's marketing spend since step 0"),
    Metric("followers", "stock", "consumers following the brand"),
    Metric("customer_equity", "stock", "discounted margin so far plus the expected "
                                       "discounted margin of the customers held now"),
    Metric("adopted_fraction", "stock", "consumers who have bought the brand / consumers"),
    Metric("aware_fraction", "stock", "consumers aware of the brand / consumers"),
    Metric("mean_opinion", "stock", "mean opinion of the brand over all consumers"),
    Metric("discounts", "flow", "money given away by offers redeemed (price - price paid)"),
    Metric("redemptions", "flow", "purchases that redeemed an offer"),
    Metric("follows", "stock", "consumers who have followed the brand (following now or not)"),
    Metric("incentive_follows", "stock", "consumers whose last follow was for a discount"),
    Metric("incentive_followers", "stock", "of those, the ones following now (their retention "
                                           "is incentive_followers / incentive_follows)"),
)


#: Per-consumer sums a brand keeps with ``ledger`` on (:class:`BrandSide`), and their types.
LEDGER = {"purchases": np.int32, "revenue": np.float64, "value": np.float64}

#: The columns of ``transactions.parquet`` after ``arm`` and ``replicate``.
TRANSACTION_COLUMNS = ["consumer", "brand", "step", "price_paid", "discount", "margin",
                       "channel", "acquired_by"]


class BrandSide:
    """One brand's side of the market: what a per-brand mechanism gets as its ``model``.

    It holds the brand's state view, config (the run's, with the brand's own strategy,
    budget, product, price and claim), random streams, cascades, review board and this
    step's buyers; everything else (the graph, ``steps``, ``hubs``, ...) is the model's.
    """

    def __init__(self, model: WommModel, brand: Brand, streams: Streams,
                 switched_off: frozenset[str] = frozenset(), ledger: bool = False) -> None:
        self.model = model
        self.name, self.index, self.config = brand.name, brand.index, brand.config
        self.streams = streams
        self.switched_off = switched_off  # levers given no money (counterfactual runs)
        self.state = model.state.brand(brand.index)
        self.cascades: list[Cascade] = []
        self.cascade_sizes: list[np.ndarray] = []  # sizes of ended seed cascades (content.tally)
        self.review_board = reviews.ReviewBoard()
        self.cumulative_spend = 0.0
        # Per lever: the fraction of a unit its money could not buy, added to its next step's.
        self.carry = dict.fromkeys(LEVERS, 0.0)
        self.adopted_neighbours = np.empty(0)
        self.begin_step()
        # Discounted margin of the customers acquired by each influence (by their trigger).
        self.value_by_source = np.zeros(len(model.influences))
        self.transactions: list[dict[str, np.ndarray]] = []
        # Customer equity's running sums: discounted margin, customer-steps, churn, and the
        # margin of repeat purchases.
        self.discounted_margin = self.repeat_margin = 0.0
        self.customer_steps = self.total_churned = 0
        # With ``ledger``, per consumer: purchases, revenue and discounted margin in the run
        # (what counterfactual attribution compares consumer by consumer).
        self.ledger = ({name: np.zeros(model.n, dtype) for name, dtype in LEDGER.items()}
                       if ledger else None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["model"], name)

    def begin_step(self) -> None:
        """Clear what a step records: its buyers, switches, churn, spend and takings."""
        self.buyers = self.first_buyers = np.empty(0, dtype=np.int64)
        self.triggers = self.first_triggers = np.empty(0, dtype=np.int8)
        self.switched_in = self.switched_out = self.churned = 0
        self.heard_bad: tuple[np.ndarray, np.ndarray] | None = None
        self.spend = self.revenue = self.margin = self.discounts = 0.0
        self.redemptions = 0
        # What the brand's own mechanisms reported this step (a lever's spend as
        # ``spend_<lever>``): the market's row adds these up over the brands, so a brand's
        # own spend and exposure per lever are read here (the media panel).
        self.step_metrics: dict[str, float] = {}

    @property
    def step_rate(self) -> float:
        """The discount rate per step, from ``economics.discount_rate`` per year."""
        econ = self.config.economics
        return (1.0 + econ.discount_rate) ** (1.0 / econ.steps_per_year) - 1.0

    def discount_factor(self, step: int) -> float:
        """What money of ``step`` is worth at step 0."""
        return (1.0 + self.step_rate) ** -step

    def record_sales(self, paid: np.ndarray, margin: np.ndarray, first: np.ndarray) -> None:
        """Book this step's purchases (``buyers``; ``first`` marks first purchases of the
        brand): what each paid and earned, the margin by acquisition source, and with
        ``transactions`` on, one row per purchase."""
        price = self.config.economics.price
        self.revenue = float(paid.sum())
        self.margin = float(margin.sum())
        self.discounts = float(price * paid.size - self.revenue)
        self.redemptions = int(np.count_nonzero(paid < price))
        self.repeat_margin += float(margin[~first].sum())
        source = self.state.trigger[self.buyers]
        known = source >= 0  # existing customers at step 0 have no acquisition source
        value = margin * self.discount_factor(self.steps)  # each purchase's, at step 0
        self.value_by_source += np.bincount(source[known], value[known],
                                            minlength=self.value_by_source.size)
        if self.ledger is not None:  # a consumer buys a brand at most once a step
            self.ledger["purchases"][self.buyers] += 1
            self.ledger["revenue"][self.buyers] += paid
            self.ledger["value"][self.buyers] += value
        if self.config.transactions:
            self.transactions.append({
                "consumer": self.buyers, "step": np.full(paid.size, self.steps, np.int32),
                "price_paid": paid, "discount": price - paid, "margin": margin,
                "channel": self.state.channel[self.buyers], "acquired_by": source})

    def allotment(self, lever: str) -> float:
        """This step's budget share of ``lever`` under the brand's strategy in force: the
        budget per consumer × the market's consumers (:func:`~wommsim.config.weekly_budget`)
        × the share."""
        if lever in self.switched_off:
            return 0.0
        share = getattr(self.strategy_at(self.model.steps), lever)
        return weekly_budget(self.config, self.model.n) * share

    def money(self, lever: str) -> float:
        """What ``lever`` may spend this step, once per step: its allotment plus the fraction
        of a unit its money could not buy last step (phases keep it). What this money cannot
        buy in whole units is carried to the next step (:func:`~wommsim.mechanisms.common.
        leftover`, less than one unit); money left unspent for want of recipients is not."""
        cost = getattr(getattr(self.config, lever), UNIT_COSTS[lever][0])
        money = self.allotment(lever) + self.carry[lever]
        self.carry[lever] = leftover(money, cost)
        return money

    def strategy_at(self, step: int) -> StrategyConfig:
        """The brand's strategy in force at ``step`` (:func:`wommsim.config.strategy_at` of
        its config)."""
        return strategy_at(self.config, step)


class WommModel(mesa.Model):
    """Consumers deciding to buy from what their peers say and do versus the ads they see.

    Build it from a :class:`~wommsim.config.Config` (``WommModel(cfg, replicate=r)``) or from
    keyword overrides composed on the packaged defaults, e.g.
    ``WommModel(consumers=500, strategy="ad_heavy", consumer__ad_blind_fraction=0.5)``
    (``section__key`` for nested keys; ``strategy``, ``network`` and ``decision`` choose
    presets). ``graph`` reuses an already built network (it must match the config).
    ``mechanisms`` replaces the schedule of rules (default :data:`wommsim.mechanisms.SCHEDULE`;
    see ``docs/DEVELOPING.md``). ``switched_off`` maps a brand's name to levers that get no
    money (a counterfactual run: as if their shares were 0, :mod:`wommsim.attribution`);
    ``ledger`` keeps each consumer's purchases, revenue and discounted margin per brand
    (``BrandSide.ledger``).

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
                 rng: int | np.random.Generator | None = None,
                 switched_off: Mapping[str, Collection[str]] | None = None,
                 ledger: bool = False, **kwargs: Any) -> None:
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
        self.tie_strength = graph.strength  # per stored edge, None when every tie is strong
        self.seeder = Seeder(graph, cfg.consumer.seed_file)  # seeding rules (free samples, content)

        self.brands = brands_of(cfg)
        if self.n != cfg.consumers:  # an edge list: validate checked consumers, not its n
            for brand in self.brands:
                check_units_per_step(brand.config, self.n)
        brand_streams = [self.streams, *(Streams(cfg.seed, replicate, brand.index)
                                         for brand in self.brands[1:])]
        self.state, existing = initial_state(cfg, self.seeder, brand_streams)
        off = dict(switched_off or {})
        if unknown := set(off) - {brand.name for brand in self.brands}:
            raise ValueError(f"switched_off names no brand of the market: {sorted(unknown)}")
        self.markets = [BrandSide(self, brand, streams, frozenset(off.get(brand.name, ())),
                                  ledger)
                        for brand, streams in zip(self.brands, brand_streams, strict=True)]
        for side, customers in zip(self.markets, existing, strict=True):
            purchase.adopt(side.state, side.config, customers,
                           np.full(customers.size, NO_SOURCE, np.int8), 0, side.review_board,
                           side.streams.purchase)
            # Adopted neighbours per consumer: one sparse product now, then kept up to date
            # from each step's first buyers' edges (exact integer counts, far cheaper).
            side.adopted_neighbours = self.graph.adjacency @ side.state.adopted.astype(np.float64)
        assign_customers(self.state, self.streams.category)
        self.cumulative_spend = 0.0

        # Mesa agents: with agents=on now, with agents=auto the first time something reads
        # them (``agents`` or ``space``); a headless run never does, and building 10,000
        # agents took two thirds of the default experiment's time.
        self._space = None
        self._warned_no_agents = False
        self._agents_pending = wants_agents(cfg.agents, self.n, self.graph.n_edges)
        if cfg.agents == "on":
            self._place_agents()

        self.metrics: dict[str, float] = {}
        self.brand_rows: list[dict[str, object]] = []
        self._brand_means = {metric.name for m in self.schedule for metric in m.metrics
                             if metric.over_brands == "mean"} | {"mean_opinion"}
        self._record(step_metrics={})
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in self.columns})
        self.datacollector.collect(self)

    # -- the step ---------------------------------------------------------------------------

    def step(self) -> None:
        """Advance one step (a week by default), running the schedule's stages in order:

        1. Brand levers, each paid from the step's budget by the strategy's split, in this
           order: (a) advertising (impressions: awareness, adstock and hype on everyone
           reached, non-clickers less; annoyance and unfollows on non-clickers); (b)
           dialogue (answer last step's talkers, negative first); (c) content (live
           cascades advance one generation, then this step's pieces are seeded); (d)
           reviews (invite past buyers; invited reviews post at once); (e) incentives
           (follow-for-discount offers).
        2. Word of mouth: opinionated aware consumers talk to neighbours; listeners become
           aware and non-adopters' opinions move toward the speakers'.
        3. Purchase decision by the configured rule (``opinion`` or ``bass``), each
           adoption credited to one influence.
        4. After purchase: experience, satisfaction, advocacy or detraction, unfollows,
           organic reviews, online or offline channel.
        5. Decay: adstock and hype keep ``advertising.retention``, non-adopters' opinions
           drift toward 0, content freshness decays.

        A mechanism whose section says ``enabled: false`` runs with no money (a lever) or not
        at all (see :class:`~wommsim.mechanisms.base.Mechanism`). Within each numbered stage
        (and each lever), every consumer's update reads the state as it was when that stage
        began: no consumer sees another's update of the same stage, so the result does not
        depend on any activation order.
        """
        cfg = self.config
        step_metrics: dict[str, float] = {}
        for side in self.markets:
            side.begin_step()
        for mechanism in self.schedule:
            enabled = getattr(getattr(cfg, mechanism.name, None), "enabled", True)
            if not enabled and not mechanism.lever and mechanism.switch == "skip":
                if mechanism.off is not None:
                    for side in ([self] if mechanism.market else self.markets):
                        mechanism.off(side)
                continue
            if mechanism.market:
                rng = getattr(self.streams, mechanism.stream) if mechanism.stream else None
                _add(step_metrics, mechanism.step(self, rng, 0.0))
                continue
            for side in self.markets:
                money = side.money(mechanism.name) if mechanism.lever and enabled else 0.0
                rng = getattr(side.streams, mechanism.stream) if mechanism.stream else None
                metrics = dict(mechanism.step(side, rng, money))
                if mechanism.lever:
                    side.spend += metrics.get("spend", 0.0)
                    metrics[f"spend_{mechanism.name}"] = metrics.pop("spend", 0.0)
                side.step_metrics.update(metrics)
                _add(step_metrics, metrics)
        self._record(step_metrics)
        self.datacollector.collect(self)
        self.running = self.steps < cfg.steps

    # -- bookkeeping ------------------------------------------------------------------------

    @property
    def hubs(self) -> np.ndarray:
        """Consumers by falling degree (ties by index), computed once."""
        return self.seeder.ranking("hubs")

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
        """This step's row of the market (``self.metrics``) and one row per brand
        (``self.brand_rows``). With one brand the market row is that brand's; with several,
        counts and money add up over the brands, ``adopted_fraction`` and ``aware_fraction``
        count consumers who bought (know) any brand, and ``mean_opinion`` and
        ``review_score`` are means over the brands."""
        unknown = set(step_metrics) - set(self.columns)
        if unknown:
            raise ValueError(f"mechanisms reported undeclared metrics: {sorted(unknown)}")
        sides = [self._brand_metrics(side) for side in self.markets]
        if len(sides) == 1:
            m = sides[0]
        else:
            s = self.state
            m = {name: sum(side[name] for side in sides) for name in sides[0]}
            m["adopted_fraction"] = np.count_nonzero(s.adopted.any(axis=0)) / self.n
            m["aware_fraction"] = np.count_nonzero(s.aware.any(axis=0)) / self.n
            for name in self._brand_means:
                m[name] = float(np.mean([side[name] for side in sides]))
        self.cumulative_spend += m["spend"]
        m["cumulative_spend"] = self.cumulative_spend
        self.metrics = {name: m.get(name, step_metrics.get(name, 0)) for name in self.columns}
        self.brand_rows.extend(self._brand_row(side, metrics)
                               for side, metrics in zip(self.markets, sides, strict=True))

    def _brand_metrics(self, side: BrandSide) -> dict[str, float]:
        """The market columns for one brand (the mechanisms' own step metrics excepted)."""
        s, n = side.state, self.n
        new_adopters = np.bincount(side.first_triggers, minlength=len(self.influences))
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
            "spend": side.spend,
        }
        for mechanism in self.schedule:
            if mechanism.report is not None:
                m.update(mechanism.report(self if mechanism.market else side))
        return m

    def _brand_row(self, side: BrandSide, m: dict[str, float]) -> dict[str, object]:
        """One row of ``brands.parquet``: see :data:`BRAND_METRICS`."""
        s = side.state
        purchases = int(side.buyers.size)
        total = sum(other.buyers.size for other in self.markets)
        customers = int(np.count_nonzero(self.state.current_brand == side.index))
        side.cumulative_spend += side.spend
        side.customer_steps += customers
        side.total_churned += side.churned
        discount = side.discount_factor(self.steps)
        side.discounted_margin += side.margin * discount
        # Customer equity (Gupta, Lehmann & Stuart 2004): the margin so far, discounted to
        # step 0, plus the customers held now times a customer's discounted future margin,
        # m r / (1 + d - r), with m its repeat margin per step and r its retention per step,
        # both measured on the brand's customers so far.
        future = 0.0
        if side.customer_steps and side.repeat_margin:
            m_step = side.repeat_margin / side.customer_steps
            r = 1.0 - side.total_churned / side.customer_steps
            future = customers * m_step * r / (1.0 + side.step_rate - r) * discount
        incentive = s.follow_source == INCENTIVES
        return {
            "step": self.steps, "brand": side.name, "customers": customers,
            "purchases": purchases, "repeat_purchases": purchases - side.first_buyers.size,
            "new_customers": int(side.first_buyers.size), "churned": side.churned,
            "switched_in": side.switched_in, "switched_out": side.switched_out,
            "share": purchases / total if total else np.nan, "revenue": side.revenue,
            "margin": side.margin, "spend": side.spend,
            "cumulative_spend": side.cumulative_spend, "followers": m["followers"],
            "customer_equity": side.discounted_margin + future,
            "adopted_fraction": m["adopted_fraction"], "aware_fraction": m["aware_fraction"],
            "mean_opinion": m["mean_opinion"], "discounts": side.discounts,
            "redemptions": side.redemptions,
            "follows": int(np.count_nonzero(s.follow_source != NO_SOURCE)),
            "incentive_follows": int(np.count_nonzero(incentive)),
            "incentive_followers": int(np.count_nonzero(incentive & s.follower)),
            **{f"new_adopters_{i.name}": m[f"new_adopters_{i.name}"] for i in self.influences},
            **{f"value_{i.name}": side.value_by_source[i.code] for i in self.influences},
        }

    def transaction_table(self) -> pd.DataFrame:
        """One row per purchase (with ``transactions`` on): ``consumer``, ``brand``,
        ``step``, ``price_paid``, ``discount``, ``margin`` (price paid less unit cost),
        ``channel`` (1 online, 2 offline) and ``acquired_by`` (the influence credited with
        the customer's first purchase of the brand; empty for existing customers), by step,
        then brand."""
        names = {i.code: i.name for i in self.influences}
        parts = []
        for side in self.markets:
            for rows in side.transactions:
                frame = pd.DataFrame(rows)
                frame.insert(1, "brand", side.name)
                parts.append(frame)
        columns = TRANSACTION_COLUMNS
        if not parts:
            return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})
        table = pd.concat(parts, ignore_index=True).sort_values(["step", "brand"],
                                                                kind="stable")
        table["acquired_by"] = table["acquired_by"].map(names)
        return table[columns].reset_index(drop=True)

    def customer_table(self) -> pd.DataFrame:
        """With ``transactions`` on, one row per brand and consumer who bought it in the run
        or took its offer: ``consumer``, ``brand``, ``purchases`` and ``value`` (their
        margin, discounted to step 0) in the run, ``acquired_by``, ``took_offer``, and at the
        end ``following`` and ``customer`` (the brand is its current brand)."""
        log = self.transaction_table()
        parts = []
        for side in self.markets:
            s = side.state
            bought = log[log["brand"] == side.name]
            discounted = bought["margin"] * (1.0 + side.step_rate) ** -bought["step"]
            per = pd.DataFrame({"purchases": bought.groupby("consumer").size(),
                                "value": discounted.groupby(bought["consumer"]).sum()})
            who = np.union1d(per.index.to_numpy(dtype=np.int64), np.flatnonzero(s.offer_step >= 0))
            per = per.reindex(who, fill_value=0)
            names = {i.code: i.name for i in self.influences}
            parts.append(pd.DataFrame({
                "consumer": who, "brand": side.name,
                "purchases": per["purchases"].to_numpy(dtype=np.int64),
                "value": per["value"].to_numpy(dtype=float),
                "acquired_by": pd.Series(s.trigger[who]).map(names).to_numpy(dtype=object),
                "took_offer": s.offer_step[who] >= 0, "following": s.follower[who],
                "customer": self.state.current_brand[who] == side.index}))
        return pd.concat(parts, ignore_index=True)

    def brand_timeseries(self) -> pd.DataFrame:
        """One row per brand and step (step 0 the initial state): :data:`BRAND_METRICS`."""
        return pd.DataFrame(self.brand_rows)

    def timeseries(self):
        """The per-step table (one row per step, step 0 the initial state) as a DataFrame."""
        frame = self.datacollector.get_model_vars_dataframe()
        frame.insert(0, "step", np.arange(len(frame)))
        return frame.reset_index(drop=True)


def initial_state(cfg: Config, seeder: Seeder, streams: Sequence[Streams]
                  ) -> tuple[MarketState, list[np.ndarray]]:
    """Draw consumer traits and the step-0 state: traits from brand 0's ``consumers``
    stream, each brand's awareness, customers and opinions from its own (``streams[b]``),
    and in a repeat-purchase category each consumer's rate of purchase occasions. Returns
    the state and each brand's existing customers (not yet recorded as buyers).

    The streams depend only on (seed, replicate, brand), so every arm of a replicate starts
    from the same consumers (a paired design). Existing customers get their post-purchase
    state from the ``purchase`` rules in :mod:`wommsim.mechanisms.purchase` (called by the
    model).
    """
    rng = streams[0].consumers
    c = cfg.consumer
    n = seeder.n
    s = MarketState(n, len(streams))
    s.ad_receptive[:] = rng.random(n) >= c.ad_blind_fraction
    s.researches_online[:] = rng.random(n) < cfg.channels.research_online_fraction
    s.threshold[:] = rng.normal(c.threshold_mean, c.threshold_spread, n)
    customers = [start_brand(s.brand(b), c, seeder, brand_streams.consumers)
                 for b, brand_streams in enumerate(streams)]
    market = cfg.market
    if market.category == "repeat":
        # Occasion rates ~ Gamma(shape, mean 1 / interpurchase_steps): with Poisson
        # occasions, purchase counts across consumers are negative binomial (Ehrenberg 1959).
        s.category_rate[:] = streams[0].category.gamma(
            market.rate_shape, 1.0 / (market.rate_shape * market.interpurchase_steps), n)
    # Talkativeness and persuasiveness ~ lognormal with mean 1 (wom.*_spread), drawn last
    # from the consumers stream so that every earlier draw is unchanged; talkativeness
    # holds the degree's participation (hubs talk more, Hinz et al. 2011).
    for name, spread in (("talkativeness", cfg.wom.talkativeness_spread),
                         ("persuasiveness", cfg.wom.persuasiveness_spread)):
        getattr(s, name)[:] = rng.lognormal(-spread**2 / 2.0, spread, n)
    s.talkativeness *= participation(cfg.wom, seeder.graph.degree).astype(np.float32)
    return s, customers


def start_brand(s: ConsumerState, c: ConsumerConfig, seeder: Seeder,
                rng: np.random.Generator) -> np.ndarray:
    """One brand's step-0 state: who knows it and their opinions; returns its existing
    customers, whose purchase the model records by the purchase rules.

    The number of existing customers is drawn (each consumer with
    ``initial_adopted_fraction``); a rule other than ``random`` then gives that many to the
    consumers it places (:mod:`wommsim.seeding`), drawing after the opinions so that every
    rule starts from the same opinions; ``file`` takes the listed consumers instead."""
    n = s.n
    s.expectation[:] = c.expectation_mean
    s.aware[:] = rng.random(n) < c.initial_aware_fraction
    customers = rng.random(n) < c.initial_adopted_fraction
    aware_opinion = np.clip(rng.normal(c.opinion_mean, c.opinion_spread, n), -1.0, 1.0)
    if c.initial_adopters != "random":
        count = int(customers.sum())
        customers[:] = False
        customers[seeder.listed() if c.initial_adopters == "file"
                  else seeder.place(c.initial_adopters, count, rng)] = True
    s.aware |= customers
    s.opinion[:] = np.where(s.aware, aware_opinion, 0.0)
    # Step-0 awareness comes from the brand's past presence in conversation.
    s.aware_source[s.aware] = WOM
    s.opinion_source[s.aware & (s.opinion > 0)] = WOM
    return np.flatnonzero(customers)


def assign_customers(s: MarketState, rng: np.random.Generator) -> None:
    """Existing customers at step 0 are their brand's; one who has bought several brands is
    the customer of one of them, drawn at random (so no brand gains by its place)."""
    if s.brands == 1:
        s.current_brand[s.adopted[0]] = 0
        return
    several = np.flatnonzero(s.adopted.sum(axis=0) > 1)
    keys = s.adopted.astype(np.float64)
    keys[:, several] += rng.random((s.brands, several.size))
    owners = np.flatnonzero(s.adopted.any(axis=0))
    s.current_brand[owners] = keys[:, owners].argmax(axis=0)


def _add(total: dict[str, float], metrics: Mapping[str, float]) -> None:
    """Add a brand's (or the market's) step metrics to the step's totals."""
    for name, value in metrics.items():
        total[name] = total[name] + value if name in total else value


def _reporter(name: str):
    return lambda model: model.metrics[name]
