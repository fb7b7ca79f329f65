"""The configuration schema: every parameter with its type, default, range, unit and doc.

The dataclasses below are registered with Hydra's ConfigStore (see :func:`register`), so a
typo or a wrong type in a YAML file or an override fails at start-up. Ranges are checked by
:func:`validate`, which names the offending key and value. The YAML files under
``configs/`` repeat these defaults with their sources; a test keeps the two in step.

Units: one step is one week by default; money is in the brand's currency (say US$);
opinions, expectations and experienced quality live on [-1, 1].
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INF = math.inf


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key and the value."""


def param(default: Any, lo: float | None = None, hi: float | None = None, *, unit: str = "",
          doc: str = "", choices: tuple[str, ...] | None = None) -> Any:
    """A dataclass field carrying its range (inclusive), unit, choices and one-line doc."""
    meta = {"lo": lo, "hi": hi, "unit": unit, "doc": doc, "choices": choices}
    return field(default=default, metadata=meta)


NETWORK_KINDS = ("barabasi_albert", "watts_strogatz", "erdos_renyi", "stochastic_block",
                 "complete", "edgelist")
DECISION_RULES = ("opinion", "bass")
SEEDING_TARGETS = ("followers", "random", "hubs")
AGENT_MODES = ("auto", "on", "off")
INITIAL_ADOPTER_TARGETS = ("random", "hubs")
LEVERS = ("advertising", "dialogue", "content", "reviews", "incentives")
#: Keys that set how a run goes, not what it computes: left out of the configuration hash
#: (``wommsim.runner.config_hash``) and of sweep directory names (``wommsim.sweep``).
RUN_ONLY_KEYS = ("jobs", "overwrite")


@dataclass
class NetworkConfig:
    """The social graph. Only the parameters of the chosen ``kind`` are used."""

    kind: str = param("barabasi_albert", choices=NETWORK_KINDS, doc="graph generator or loader")
    m: int = param(4, 1, 1000, unit="edges", doc="Barabási–Albert: edges each new consumer adds")
    k: int = param(8, 2, 1000, unit="neighbours",
                   doc="Watts–Strogatz: ring-lattice degree (even numbers; odd rounds down)")
    rewire_prob: float = param(0.1, 0.0, 1.0, unit="probability",
                               doc="Watts–Strogatz: chance each lattice edge is rewired")
    mean_degree: float = param(8.0, 0.0, 10_000.0, unit="neighbours",
                               doc="Erdős–Rényi: expected degree (p = mean_degree / (n - 1))")
    blocks: int = param(4, 1, 10_000, unit="communities",
                        doc="stochastic block model: number of equal-sized communities")
    mean_degree_in: float = param(7.0, 0.0, 10_000.0, unit="neighbours",
                                  doc="stochastic block model: expected neighbours in own block")
    mean_degree_out: float = param(1.0, 0.0, 10_000.0, unit="neighbours",
                                   doc="stochastic block model: expected neighbours elsewhere")
    path: str = param("", doc="edgelist: file with one pair of node labels per line")


@dataclass
class StrategyConfig:
    """How the brand splits its per-step budget across the levers (shares sum to at most 1)."""

    name: str = param("conversation_led", doc="strategy label used in results")
    advertising: float = param(0.10, 0.0, 1.0, unit="share of budget", doc="paid impressions")
    dialogue: float = param(0.35, 0.0, 1.0, unit="share of budget", doc="replies to talkers")
    content: float = param(0.35, 0.0, 1.0, unit="share of budget", doc="social objects")
    reviews: float = param(0.20, 0.0, 1.0, unit="share of budget", doc="review invitations")
    incentives: float = param(0.0, 0.0, 1.0, unit="share of budget", doc="follow-for-discount")


@dataclass
class PhaseConfig(StrategyConfig):
    """A strategy that takes over from step ``start`` on (see ``Config.phases``)."""

    start: int = param(1, 1, 1_000_000, unit="step", doc="first step of this phase")


@dataclass
class DecisionConfig:
    """The purchase decision rule and its parameters."""

    rule: str = param("opinion", choices=DECISION_RULES, doc="purchase decision rule")
    purchase_rate: float = param(0.2, 0.0, 1.0, unit="probability per step",
                                 doc="opinion rule: buying chance of a fully convinced consumer")
    temperature: float = param(0.1, 1e-6, 10.0, unit="utility",
                               doc="opinion rule: softness of the threshold (logistic scale)")
    ad_weight: float = param(0.5, 0.0, 10.0, unit="utility per adstock",
                             doc="opinion rule: weight of adstock in utility")
    social_weight: float = param(0.5, 0.0, 10.0, unit="utility per adopted-neighbour share",
                                 doc="opinion rule: weight of social proof in utility")
    review_weight: float = param(0.3, 0.0, 10.0, unit="utility per review score",
                                 doc="opinion rule: weight of the review score (researchers)")
    p: float = param(0.03, 0.0, 1.0, unit="probability per step",
                     doc="bass rule: innovation (external influence) coefficient")
    q: float = param(0.38, 0.0, 1.0, unit="probability per step",
                     doc="bass rule: imitation coefficient")
    ad_p_gain: float = param(0.05, 0.0, 1.0, unit="probability per adstock",
                             doc="bass rule: extra innovation hazard per unit of adstock")


@dataclass
class ConsumerConfig:
    """Who the consumers are at step 0."""

    ad_blind_fraction: float = param(0.96, 0.0, 1.0, unit="share",
                                     doc="consumers who pay no attention to ads")
    initial_aware_fraction: float = param(0.02, 0.0, 1.0, unit="share",
                                          doc="consumers aware of the brand at step 0")
    initial_adopted_fraction: float = param(0.005, 0.0, 1.0, unit="share",
                                            doc="existing customers at step 0 (also aware)")
    initial_adopters: str = param("random", choices=INITIAL_ADOPTER_TARGETS,
                                  doc="who the existing customers (or free-sample receivers) "
                                      "are: random consumers or the best-connected (hubs)")
    opinion_mean: float = param(0.0, -1.0, 1.0, unit="opinion",
                                doc="mean initial opinion of aware consumers")
    opinion_spread: float = param(0.2, 0.0, 2.0, unit="opinion",
                                  doc="s.d. of initial opinion of aware consumers")
    threshold_mean: float = param(0.5, -2.0, 3.0, unit="utility",
                                  doc="mean purchase threshold")
    threshold_spread: float = param(0.15, 0.0, 2.0, unit="utility",
                                    doc="s.d. of purchase thresholds across consumers")
    expectation_mean: float = param(0.0, -1.0, 1.0, unit="quality",
                                    doc="prior expectation of product quality")
    opinion_decay: float = param(0.02, 0.0, 1.0, unit="share per step",
                                 doc="drift of non-adopters' opinion back toward neutral")


@dataclass
class BrandConfig:
    """The brand: money per step and the product it sells."""

    budget: float = param(1000.0, 0.0, 1e12, unit="money per step",
                          doc="marketing spend available each step")
    quality: float = param(0.3, -1.0, 1.0, unit="quality",
                           doc="mean experienced quality of the product")
    quality_spread: float = param(0.3, 0.0, 2.0, unit="quality",
                                  doc="s.d. of experienced quality across buyers")


@dataclass
class AdvertisingConfig:
    """Paid impressions landing on random consumers."""

    enabled: bool = param(True, doc="switch the advertising lever on or off")
    cost_per_impression: float = param(0.01, 1e-9, 1e9, unit="money per impression",
                                       doc="price of one impression (CPM / 1000)")
    awareness_prob: float = param(0.05, 0.0, 1.0, unit="probability per impression",
                                  doc="chance an impression makes a receptive consumer aware")
    gain: float = param(0.1, 0.0, 1.0, unit="share per impression",
                        doc="adstock closes this share of its gap to 1 per impression")
    trust: float = param(0.36, 0.0, 1.0, unit="share",
                         doc="trust in social-network ads; scales the adstock gain")
    hype: float = param(0.02, 0.0, 1.0, unit="share per impression",
                        doc="expectation closes this share of its gap to the claim per impression")
    claim: float = param(0.6, -1.0, 1.0, unit="quality",
                         doc="quality the ads promise: the level hype pulls expectations toward")
    retention: float = param(0.5, 0.0, 1.0, unit="share per step",
                             doc="adstock kept from one step to the next (carry-over)")
    annoy_prob: float = param(0.005, 0.0, 1.0, unit="probability per impression",
                              doc="chance an impression annoys an ad-blind consumer")
    annoyance: float = param(0.05, 0.0, 2.0, unit="opinion",
                             doc="opinion drop of an annoyed consumer")
    unfollow_prob: float = param(0.05, 0.0, 1.0, unit="probability",
                                 doc="chance an annoyed follower unfollows")


@dataclass
class DialogueConfig:
    """The brand answering consumers who talked about it last step."""

    enabled: bool = param(True, doc="switch the dialogue lever on or off")
    cost_per_reply: float = param(2.0, 1e-9, 1e9, unit="money per reply",
                                  doc="staff time for one answered conversation")
    lift: float = param(0.2, 0.0, 1.0, unit="share",
                        doc="an answered consumer's opinion closes this share of its gap to 1; "
                            "a won-back negative talker ends at least this high")
    follow_prob: float = param(0.3, 0.0, 1.0, unit="probability",
                               doc="chance an answered consumer follows the brand")
    recovery_prob: float = param(0.5, 0.0, 1.0, unit="probability",
                                 doc="chance an answered negative talker is won back")
    prioritise_negative: bool = param(True, doc="answer negative talkers first")


@dataclass
class ContentConfig:
    """Shareable content ("social objects") spreading as independent cascades."""

    enabled: bool = param(True, doc="switch the content lever on or off")
    cost_per_piece: float = param(100.0, 1e-9, 1e12, unit="money per piece",
                                  doc="production and seeding cost of one piece")
    seeds_per_piece: int = param(20, 0, 1_000_000, unit="consumers",
                                 doc="consumers each new piece is first shown to")
    seeding: str = param("followers", choices=SEEDING_TARGETS,
                         doc="who sees a new piece first (followers top up with random)")
    meaningfulness: float = param(0.5, 0.0, 1.0, unit="score", doc="how much a piece matters")
    freshness: float = param(1.0, 0.0, 1.0, unit="score", doc="freshness of a new piece")
    sustainability: float = param(0.5, 0.0, 1.0, unit="score",
                                  doc="how well a piece keeps being discussed")
    freshness_decay: float = param(0.5, 0.0, 1.0, unit="share per step",
                                   doc="freshness lost per step at sustainability 0")
    share_scale: float = param(0.3, 0.0, 1.0, unit="probability",
                               doc="share probability = share_scale × meaning × freshness")
    warmth: float = param(0.1, 0.0, 1.0, unit="share",
                          doc="a reached consumer's opinion closes this share of its gap to 1")


@dataclass
class ReviewsConfig:
    """User reviews: organic and invited by the brand, forming a public score."""

    enabled: bool = param(True, doc="switch reviews (lever and score) on or off")
    cost_per_invite: float = param(1.0, 1e-9, 1e9, unit="money per invitation",
                                   doc="cost of inviting one buyer to review")
    invited_review_prob: float = param(0.3, 0.0, 1.0, unit="probability",
                                       doc="chance an invited buyer posts a review")
    organic_review_prob: float = param(0.05, 0.0, 1.0, unit="probability",
                                       doc="chance a new buyer reviews unprompted")
    credibility_count: float = param(20.0, 0.0, 1e9, unit="reviews",
                                     doc="review count at which the score has half its weight")


@dataclass
class IncentivesConfig:
    """"Follow us for a discount" offers."""

    enabled: bool = param(True, doc="switch the incentives lever on or off")
    cost_per_offer: float = param(5.0, 1e-9, 1e9, unit="money per offer",
                                  doc="promotion plus expected discount per offer made")
    accept_prob: float = param(0.5, 0.0, 1.0, unit="probability",
                               doc="chance an offered consumer takes the discount and follows")
    expectation_boost: float = param(0.3, 0.0, 2.0, unit="quality",
                                     doc="rise in expectation of a consumer who takes an offer")
    bonus: float = param(0.3, 0.0, 10.0, unit="utility",
                         doc="purchase utility added while the discount is unused")


@dataclass
class WomConfig:
    """Word of mouth between neighbours."""

    enabled: bool = param(True, doc="switch word of mouth on or off")
    talk_prob: float = param(0.03, 0.0, 1.0, unit="probability per neighbour per step",
                             doc="chance an opinionated non-adopter talks to a neighbour")
    adopter_talk_multiplier: float = param(2.0, 0.0, 100.0, unit="factor",
                                           doc="adopters talk this many times as often")
    trust: float = param(0.92, 0.0, 1.0, unit="share", doc="trust in people one knows")
    influence: float = param(0.3, 0.0, 1.0, unit="share",
                             doc="pull of one conversation on the listener's opinion")
    negativity_bias: float = param(2.0, 0.0, 100.0, unit="factor",
                                   doc="weight of negative talk relative to positive")
    neutral_band: float = param(0.1, 0.0, 1.0, unit="opinion",
                                doc="consumers with |opinion| at most this do not talk")


@dataclass
class PurchaseConfig:
    """After purchase: satisfaction, advocacy and churn from the community."""

    enabled: bool = param(True, doc="switch post-purchase satisfaction on or off")
    satisfaction_gain: float = param(2.0, 0.0, 100.0, unit="opinion per quality",
                                     doc="a buyer's opinion = gain × satisfaction (clipped)")
    unfollow_prob: float = param(0.5, 0.0, 1.0, unit="probability",
                                 doc="chance a disappointed follower unfollows")


@dataclass
class ChannelsConfig:
    """Online research and the online/offline purchase channel."""

    research_online_fraction: float = param(0.60, 0.0, 1.0, unit="share",
                                            doc="consumers who research online before buying")
    offline_per_online: float = param(3.45, 0.0, 1000.0, unit="sales per online sale",
                                      doc="web-influenced offline sales per online sale")


@dataclass
class EconomicsConfig:
    """Money: what a sale earns and how future money is discounted (Libai, Muller & Peres
    2013 value word-of-mouth programmes by the discounted margin they bring)."""

    price: float = param(50.0, 0.0, 1e12, unit="money per purchase", doc="price of one purchase")
    margin: float = param(0.4, 0.0, 1.0, unit="share of price",
                          doc="contribution margin of a sale, before marketing spend")
    discount_rate: float = param(0.10, 0.0, 10.0, unit="per year",
                                 doc="annual discount rate for net present value")
    steps_per_year: float = param(52.0, 1e-6, 1e6, unit="steps per year",
                                  doc="length of a step, to discount per step")


@dataclass
class ArmPhase:
    """In an experiment arm: switch to the ``strategy`` preset from step ``start`` on."""

    start: int = param(1, 1, 1_000_000, unit="step", doc="first step of this phase")
    strategy: str = param("none", doc="strategy preset (configs/strategy/NAME.yaml)")


@dataclass
class ArmConfig:
    """One arm of an experiment: a strategy preset, optional overrides and phases."""

    name: str = param("", doc="label of the arm in results")
    strategy: str = param("", doc="strategy preset; empty keeps the run's strategy")
    overrides: dict[str, Any] = field(default_factory=dict,
                                      metadata={"doc": "dotted key -> value, e.g. "
                                                       "consumer.ad_blind_fraction: 0.5"})
    phases: list[ArmPhase] = field(default_factory=list,
                                   metadata={"doc": "strategy changes at later steps"})


@dataclass
class ExperimentConfig:
    """Arms run for ``replicates`` replicates each, paired on the same seeds."""

    name: str = param("", doc="experiment name (configs/experiment/NAME.yaml)")
    question: str = param("", doc="the question the experiment answers, for the report")
    arms: list[ArmConfig] = field(default_factory=list, metadata={"doc": "the arms"})
    grid: dict[str, Any] = field(default_factory=dict,
                                 metadata={"doc": "dotted key -> list of values, crossed "
                                                  "with every arm"})
    reference: str = param("", doc="arm that paired differences are taken against "
                                   "(default: the first)")


@dataclass
class Config:
    """One arm of a simulation: population, network, strategy, rule and mechanisms."""

    seed: int = param(42, 0, 2**32 - 1, doc="base seed; replicate r uses SeedSequence([seed, r])")
    steps: int = param(52, 1, 1_000_000, unit="steps (weeks)", doc="simulation horizon")
    replicates: int = param(10, 1, 1_000_000, unit="runs", doc="independent replicates")
    consumers: int = param(10_000, 1, 2_000_000_000, unit="consumers", doc="population size")
    agents: str = param("auto", choices=AGENT_MODES,
                        doc="create Mesa agent objects: on, off, or auto (small markets only)")
    arm: str = param("", doc="label of this arm in results (default: the strategy name)")
    jobs: int = param(0, 0, 4096, unit="processes",
                      doc="replicates run in parallel processes; 0 = one per core (one "
                          "per job inside a parallel sweep)")
    force_memory: bool = param(False, doc="run even when the memory estimate exceeds the "
                                          "available memory (see wommsim.memory)")
    overwrite: bool = param(False, doc="replace result files in the run folder that no "
                                       "wommsim run wrote (refused by default; see "
                                       "wommsim.rundir)")
    network: NetworkConfig = field(default_factory=NetworkConfig)
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    decision: DecisionConfig = field(default_factory=DecisionConfig)
    consumer: ConsumerConfig = field(default_factory=ConsumerConfig)
    brand: BrandConfig = field(default_factory=BrandConfig)
    advertising: AdvertisingConfig = field(default_factory=AdvertisingConfig)
    dialogue: DialogueConfig = field(default_factory=DialogueConfig)
    content: ContentConfig = field(default_factory=ContentConfig)
    reviews: ReviewsConfig = field(default_factory=ReviewsConfig)
    incentives: IncentivesConfig = field(default_factory=IncentivesConfig)
    wom: WomConfig = field(default_factory=WomConfig)
    purchase: PurchaseConfig = field(default_factory=PurchaseConfig)
    channels: ChannelsConfig = field(default_factory=ChannelsConfig)
    economics: EconomicsConfig = field(default_factory=EconomicsConfig)
    phases: list[PhaseConfig] = field(default_factory=list,
                                      metadata={"doc": "strategy changes at later steps"})
    experiment: ExperimentConfig | None = field(
        default=None, metadata={"doc": "set by +experiment=NAME: arms run side by side"})

    @property
    def arm_name(self) -> str:
        return self.arm or self.strategy.name


def iter_params(obj: Any, prefix: str = ""):
    """Yield ``(dotted key, field, value)`` for every leaf parameter of a config dataclass."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            yield from iter_params(value, key + ".")
        elif isinstance(value, list) and value and dataclasses.is_dataclass(value[0]):
            for i, item in enumerate(value):
                yield from iter_params(item, f"{key}[{i}].")
        else:
            yield key, f, value


def boolean_keys() -> frozenset[str]:
    """Dotted keys of the boolean parameters (they take only ``true`` or ``false``)."""
    return frozenset(key for key, f, _ in iter_params(Config()) if f.type == "bool")


def validate(cfg: Config) -> Config:
    """Check every value against its declared range and the cross-field rules.

    Raises :class:`ConfigError` naming the first offending key and value.
    """
    for key, f, value in iter_params(cfg):
        meta = f.metadata
        if f.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"{key}={value!r}: must be an integer")
        if f.type == "float" and (isinstance(value, bool)
                                           or not isinstance(value, (int, float))):
            raise ConfigError(f"{key}={value!r}: must be a number")
        if f.type == "bool" and not isinstance(value, bool):
            raise ConfigError(f"{key}={value!r}: must be true or false")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{key}={value!r}: must be a finite number")
        lo, hi = meta.get("lo"), meta.get("hi")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            unit = f" ({meta['unit']})" if meta.get("unit") else ""
            raise ConfigError(f"{key}={value!r}: must be between {lo:g} and {hi:g}{unit}")
        choices = meta.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"{key}={value!r}: must be one of {', '.join(choices)}")
    _validate_cross_fields(cfg)
    return cfg


def _validate_cross_fields(cfg: Config) -> None:
    for key, strategy in [("strategy", cfg.strategy),
                          *((f"phases[{i}]", p) for i, p in enumerate(cfg.phases))]:
        total = sum(getattr(strategy, lever) for lever in LEVERS)
        if total > 1.0 + 1e-9:
            raise ConfigError(f"{key} ({strategy.name}) shares sum to {total:g}: "
                              "the levers' shares of the budget must add up to at most 1")
    starts = [p.start for p in cfg.phases]
    if starts != sorted(set(starts)):
        raise ConfigError(f"phases start at steps {starts}: starts must strictly increase")
    net = cfg.network
    if net.kind == "barabasi_albert" and cfg.consumers <= net.m:
        raise ConfigError(f"consumers={cfg.consumers}: a Barabási–Albert network needs more "
                          f"consumers than network.m={net.m}")
    if net.kind == "watts_strogatz" and cfg.consumers <= net.k:
        raise ConfigError(f"consumers={cfg.consumers}: a Watts–Strogatz network needs more "
                          f"consumers than network.k={net.k}")
    if net.kind == "stochastic_block" and cfg.consumers < net.blocks:
        raise ConfigError(f"network.blocks={net.blocks}: more blocks than consumers "
                          f"({cfg.consumers})")
    if net.kind == "edgelist":
        if not net.path:
            raise ConfigError("network.path='': the edgelist network needs a file "
                              "(network.path=/path/to/edges.txt)")
        path = Path(net.path)
        if not path.is_file():
            raise ConfigError(f"network.path={net.path!r}: no such file")


def register() -> None:
    """Register the schema with Hydra's ConfigStore as ``wommsim_schema``."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="wommsim_schema", node=Config)
