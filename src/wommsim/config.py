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
import os
import re
import stat
from dataclasses import dataclass, field
from typing import Any

INF = math.inf


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key and the value."""


class Frozen:
    """Base of the schema's dataclasses: :func:`validate` freezes a config, after which no
    field of it (or of its sections) can be reassigned, so a validated config can be shared
    (the compose cache hands out the same object). Change a copy: ``dataclasses.replace``
    (or :func:`replace_key` for a dotted key), then validate that."""

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_frozen"):
            raise dataclasses.FrozenInstanceError(
                f"cannot set {type(self).__name__}.{name}: a validated config is frozen "
                "(change a copy with dataclasses.replace)")
        object.__setattr__(self, name, value)


def _freeze(obj: Any) -> None:
    if isinstance(obj, Frozen):
        object.__setattr__(obj, "_frozen", True)
        for f in dataclasses.fields(obj):
            _freeze(getattr(obj, f.name))
    elif isinstance(obj, list | dict):
        for item in obj.values() if isinstance(obj, dict) else obj:
            _freeze(item)


def param(default: Any, lo: float | None = None, hi: float | None = None, *, unit: str = "",
          doc: str = "", choices: tuple[str, ...] | None = None, open_lo: bool = False,
          plausible: tuple[float, float] | None = None, basis: str = "") -> Any:
    """A dataclass field carrying its range, unit, choices and one-line doc. The range is
    inclusive, ``[lo, hi]``, or ``(lo, hi]`` with ``open_lo`` (a value that must be strictly
    above ``lo``, such as a cost or a scale that divides): what the software accepts.

    ``plausible`` is the narrower range ``(lo, hi)`` a robustness analysis may draw the
    parameter from, the one its comment in ``configs/`` and its row in ``docs/ODD.md`` state;
    ``basis`` says in one phrase where that range comes from ("assumption" or a source).
    Metadata only: no run reads them (see :func:`plausible_ranges`)."""
    meta = {"lo": lo, "hi": hi, "open_lo": open_lo, "unit": unit, "doc": doc,
            "choices": choices, "plausible": plausible, "basis": basis}
    return field(default=default, metadata=meta)


NETWORK_KINDS = ("barabasi_albert", "watts_strogatz", "erdos_renyi", "stochastic_block",
                 "personal_networks", "complete", "edgelist")
DECISION_RULES = ("opinion", "bass")
#: Rules placing seed consumers (:mod:`wommsim.seeding`).
SEED_RULES = ("random", "hubs", "fringe", "bridges", "community", "file")
SEEDING_TARGETS = ("followers", *SEED_RULES)
AGENT_MODES = ("auto", "on", "off")
#: How a run attributes adopters to levers (``attribution``).
ATTRIBUTIONS = ("last_touch", "counterfactual")
INITIAL_ADOPTER_TARGETS = SEED_RULES
AD_TARGETS = ("none", "followers", "lookalike")
CATEGORIES = ("durable", "repeat")
#: The brand of a market that lists no brands (``market.brands: {}``), as in ``monopoly``.
DEFAULT_BRAND = "brand"
#: Most brands a market may have (``current_brand`` stores a brand's index in one byte).
MAX_BRANDS = 100
#: Per lever: the key of its unit cost and what a unit is (money / cost = units a step).
UNIT_COSTS = {"advertising": ("cost_per_impression", "impressions"),
              "dialogue": ("cost_per_reply", "replies"),
              "content": ("cost_per_piece", "content pieces"),
              "reviews": ("cost_per_invite", "review invitations"),
              "incentives": ("cost_per_offer", "offers")}
#: Most units a lever may buy in one step: a count of money / cost above 2**53 is not exact
#: in floating point, and NumPy's draws (impressions are a multinomial) overflow at 2**63.
MAX_UNITS_PER_STEP = 2**53
#: Keys that set how a run goes, not what it computes: left out of the configuration hash
#: (``wommsim.runs.results.config_hash``) and of sweep directory names (``wommsim.sweeps.sweep``).
#: ``figures`` (resolution, vector format) changes how figures are written, not the results:
#: a resumed run keeps its figures as they were written.
RUN_ONLY_KEYS = ("workers", "overwrite", "figures")


@dataclass
class NetworkConfig(Frozen):
    """The social graph. Only the parameters of the chosen ``kind`` are used."""

    kind: str = param("barabasi_albert", choices=NETWORK_KINDS, doc="graph generator or loader")
    m: int = param(4, 1, 1000, unit="edges", doc="Barabási–Albert: edges each new consumer adds",
                   plausible=(2, 8),
                   basis="assumption (mean degree 4-16: about the support clique to the sympathy "
                         "group, Zhou, Sornette, Hill & Dunbar 2005)")
    k: int = param(8, 2, 1000, unit="neighbours",
                   doc="Watts–Strogatz: ring-lattice degree (even numbers; odd rounds down)",
                   plausible=(4, 16), basis="assumption (mean degree 4-16, as network.m)")
    rewire_prob: float = param(0.1, 0.0, 1.0, unit="probability",
                               doc="Watts–Strogatz: chance each lattice edge is rewired",
                               plausible=(0.01, 0.2),
                               basis="assumption (the small-world regime of Watts & Strogatz 1998)")
    mean_degree: float = param(8.0, 0.0, 10_000.0, unit="neighbours",
                               doc="Erdős–Rényi: expected degree (p = mean_degree / (n - 1))",
                               plausible=(4.0, 16.0),
                               basis="assumption (mean degree 4-16, as network.m)")
    blocks: int = param(4, 1, 10_000, unit="communities",
                        doc="stochastic block model: number of equal-sized communities",
                        plausible=(2, 10), basis="assumption")
    mean_degree_in: float = param(7.0, 0.0, 10_000.0, unit="neighbours",
                                  doc="stochastic block model: expected neighbours in own block",
                                  plausible=(4.0, 14.0),
                                  basis="assumption (with mean_degree_out, a mean degree of about "
                                        "4-16)")
    mean_degree_out: float = param(1.0, 0.0, 10_000.0, unit="neighbours",
                                   doc="stochastic block model: expected neighbours elsewhere",
                                   plausible=(0.5, 2.0),
                                   basis="assumption (about 6-22% of ties between communities)")
    network_size: int = param(20, 1, 1_000_000, unit="consumers",
                              doc="personal networks: consumers in one personal network",
                              plausible=(5, 29),
                              basis="assumption (the design of Goldenberg, Libai & Muller 2001)")
    strong_degree: float = param(19.0, 0.0, 10_000.0, unit="neighbours",
                                 doc="personal networks: expected strong ties in one's own "
                                     "network")
    weak_degree: float = param(5.0, 0.0, 10_000.0, unit="neighbours",
                               doc="personal networks: expected weak ties to other networks "
                                   "(ties out)",
                               plausible=(5.0, 29.0),
                               basis="assumption (the design of Goldenberg, Libai & Muller 2001)")
    path: str = param("", doc="edgelist: file with one pair of node labels per line")


@dataclass
class StrategyConfig(Frozen):
    """How the brand splits its per-step budget across the levers (shares sum to at most 1)."""

    name: str = param("conversation_led", doc="strategy label used in results")
    advertising: float = param(0.10, 0.0, 1.0, unit="share of budget", doc="paid impressions")
    dialogue: float = param(0.35, 0.0, 1.0, unit="share of budget", doc="replies to talkers")
    content: float = param(0.35, 0.0, 1.0, unit="share of budget", doc="social objects")
    reviews: float = param(0.20, 0.0, 1.0, unit="share of budget", doc="review invitations")
    incentives: float = param(0.0, 0.0, 1.0, unit="share of budget", doc="follow-for-discount")


#: The brand's paid levers: every share of a strategy (each a mechanism declared ``lever``).
LEVERS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(StrategyConfig)
                                if f.name != "name")
if set(UNIT_COSTS) != set(LEVERS):  # every lever buys units at a cost
    raise ImportError(f"UNIT_COSTS {sorted(UNIT_COSTS)} differ from the levers {LEVERS}")


@dataclass
class PhaseConfig(StrategyConfig):
    """A strategy that takes over from step ``start`` on (see ``Config.phases``)."""

    start: int = param(1, 1, 1_000_000, unit="step", doc="first step of this phase")


@dataclass
class DecisionConfig(Frozen):
    """The purchase decision rule and its parameters."""

    rule: str = param("opinion", choices=DECISION_RULES, doc="purchase decision rule")
    purchase_rate: float = param(0.2, 0.0, 1.0, unit="probability per step",
                                 doc="opinion rule: buying chance of a fully convinced consumer",
                                 plausible=(0.05, 0.5),
                                 basis="assumption (a convinced consumer buys within 2-20 weeks)")
    temperature: float = param(0.1, 0.0, 10.0, open_lo=True, unit="utility",
                               doc="opinion rule: softness of the threshold (logistic scale)",
                               plausible=(0.05, 0.3), basis="assumption")
    ad_weight: float = param(0.2, 0.0, 10.0, unit="utility per adstock",
                             doc="opinion rule: weight of adstock in utility (calibrated to "
                                 "a short-run ad elasticity of about 0.12)")
    social_weight: float = param(0.5, 0.0, 10.0, unit="utility per adopted-neighbour share",
                                 doc="opinion rule: weight of social proof in utility",
                                 plausible=(0.1, 1.0), basis="assumption")
    review_volume_weight: float = param(0.09, 0.0, 10.0, unit="utility per log review count",
                                        doc="opinion rule: weight of the review volume, "
                                            "log(1 + count / (reviews.credibility_per_"
                                            "consumer × consumers)) (online researchers)")
    review_valence_weight: float = param(0.18, 0.0, 10.0, unit="utility per review score",
                                         doc="opinion rule: weight of the credibility-"
                                             "weighted mean rating (online researchers)")
    p: float = param(0.03, 0.0, 1.0, unit="probability per step",
                     doc="bass rule: innovation (external influence) coefficient")
    q: float = param(0.38, 0.0, 1.0, unit="probability per step",
                     doc="bass rule: imitation coefficient")
    ad_p_gain: float = param(0.05, 0.0, 1.0, unit="probability per adstock",
                             doc="bass rule: extra innovation hazard per unit of adstock",
                             plausible=(0.01, 0.15),
                             basis="assumption (a full adstock adds a third to five times the "
                                   "default p)")


@dataclass
class ConsumerConfig(Frozen):
    """Who the consumers are at step 0."""

    ad_blind_fraction: float = param(0.96, 0.0, 1.0, unit="share",
                                     doc="consumers who never click an ad (affected by "
                                         "advertising.nonclicker_effect of a clicker)")
    initial_aware_fraction: float = param(0.02, 0.0, 1.0, unit="share",
                                          doc="consumers aware of the brand at step 0",
                                          plausible=(0.005, 0.1), basis="assumption (a new brand)")
    initial_adopted_fraction: float = param(0.005, 0.0, 1.0, unit="share",
                                            doc="existing customers at step 0 (also aware)",
                                            plausible=(0.001, 0.02),
                                            basis="assumption (a new brand's first customers)")
    initial_adopters: str = param("random", choices=INITIAL_ADOPTER_TARGETS,
                                  doc="who the existing customers (or free-sample receivers) "
                                      "are: a seeding rule (wommsim.seeding)")
    seed_file: str = param("", doc="file of consumer ids or edge-list labels, one a line, "
                                   "for the seeding rule file")
    opinion_mean: float = param(0.0, -1.0, 1.0, unit="opinion",
                                doc="mean initial opinion of aware consumers",
                                plausible=(-0.2, 0.2), basis="assumption")
    opinion_spread: float = param(0.2, 0.0, 2.0, unit="opinion",
                                  doc="s.d. of initial opinion of aware consumers",
                                  plausible=(0.1, 0.4), basis="assumption")
    threshold_mean: float = param(0.5, -2.0, 3.0, unit="utility",
                                  doc="mean purchase threshold",
                                  plausible=(0.2, 0.8), basis="assumption (calibrate per category)")
    threshold_spread: float = param(0.15, 0.0, 2.0, unit="utility",
                                    doc="s.d. of purchase thresholds across consumers",
                                    plausible=(0.05, 0.3),
                                    basis="assumption (heterogeneous thresholds after Granovetter "
                                          "1978)")
    expectation_mean: float = param(0.0, -1.0, 1.0, unit="quality",
                                    doc="prior expectation of product quality",
                                    plausible=(-0.2, 0.3),
                                    basis="assumption (from mild scepticism to the product's mean "
                                          "quality 0.3)")
    opinion_decay: float = param(0.02, 0.0, 1.0, unit="share per step",
                                 doc="drift of non-adopters' opinion back toward neutral",
                                 plausible=(0.01, 0.05),
                                 basis="assumption (an opinion's half-life about 14-69 weeks)")


@dataclass
class BrandConfig(Frozen):
    """The brand: money per step and the product it sells."""

    budget_per_consumer: float = param(0.1, 0.0, 1e9, unit="money per consumer per step",
                                       doc="marketing spend available each step per consumer of "
                                           "the market (intensive: the same market at every "
                                           "population size)",
                                       plausible=(0.05, 0.2),
                                       basis="assumption (a year's spend 5-21% of one purchase's "
                                             "price per consumer; firms spend about 8-10% of "
                                             "revenue on marketing, CMO Survey 2013-19)")
    quality: float = param(0.3, -1.0, 1.0, unit="quality",
                           doc="mean experienced quality of the product",
                           plausible=(-0.2, 0.7),
                           basis="assumption (a poor to a very good product)")
    quality_spread: float = param(0.3, 0.0, 2.0, unit="quality",
                                  doc="s.d. of experienced quality across buyers",
                                  plausible=(0.1, 0.5), basis="assumption")
    defect_share: float = param(0.0, 0.0, 1.0, unit="share of units sold",
                                doc="share of units sold that are clearly bad (defective)",
                                plausible=(0.0, 0.1), basis="assumption")
    defect_quality: float = param(-0.8, -1.0, 1.0, unit="quality",
                                  doc="experienced quality of a defective unit",
                                  plausible=(-1.0, -0.5), basis="assumption")


@dataclass
class BrandSpec(Frozen):
    """One brand of the market (``market.brands.<name>``). A setting left empty (null) takes
    the run's value: ``strategy`` (and its ``phases``), ``brand.budget_per_consumer``,
    ``brand.quality``, ``brand.quality_spread``, ``economics.price``, ``advertising.claim``;
    so the top-level keys are every brand's defaults, and ``market=monopoly`` keeps their
    meaning."""

    strategy: str = param("", doc="strategy preset (configs/strategy/NAME.yaml); empty: the "
                                  "run's strategy and phases")
    budget_per_consumer: float | None = param(None, 0.0, 1e9,
                                              unit="money per consumer per step",
                                              doc="marketing spend available each step per "
                                                  "consumer of the market")
    quality: float | None = param(None, -1.0, 1.0, unit="quality",
                                  doc="mean experienced quality of the product")
    quality_spread: float | None = param(None, 0.0, 2.0, unit="quality",
                                         doc="s.d. of experienced quality across buyers")
    price: float | None = param(None, 0.0, 1e12, unit="money per purchase",
                                doc="price of one purchase")
    claim: float | None = param(None, -1.0, 1.0, unit="quality",
                                doc="quality the brand's ads promise")


@dataclass
class MarketConfig(Frozen):
    """The brands competing for the same consumers, and how often the category is bought."""

    name: str = param("monopoly", doc="market label (configs/market/NAME.yaml)")
    category: str = param("durable", choices=CATEGORIES,
                          doc="durable: one purchase per consumer; repeat: purchase occasions "
                              "recur and each is a choice among the brands")
    interpurchase_steps: float = param(8.0, 1.0, 10_000.0, unit="steps",
                                       doc="repeat: mean time between a consumer's category "
                                           "purchase occasions",
                                       plausible=(2.0, 26.0),
                                       basis="assumption (a frequently bought good)")
    rate_shape: float = param(2.0, 0.0, 1000.0, open_lo=True, unit="shape",
                              doc="repeat: gamma shape of occasion rates across consumers "
                                  "(smaller: more heterogeneous)",
                              plausible=(0.5, 5.0), basis="assumption")
    inertia: float = param(0.3, 0.0, 10.0, unit="utility",
                           doc="utility of a consumer's current brand at a choice",
                           plausible=(0.0, 1.0), basis="assumption")
    price_weight: float = param(1.0, 0.0, 100.0, unit="utility per log price ratio",
                                doc="utility lost per unit of log(price / economics.price)",
                                plausible=(0.0, 3.0), basis="assumption")
    churn_opinion: float = param(-0.1, -1.0, 1.0, unit="opinion",
                                 doc="repeat: a customer whose opinion of its brand falls "
                                     "below this leaves the brand",
                                 plausible=(-0.3, 0.0),
                                 basis="assumption (about the detractor line, -wom.neutral_band)")
    category_exit: float = param(0.0, 0.0, 1.0, unit="probability per step",
                                 doc="repeat: chance a customer leaves the category",
                                 plausible=(0.0, 0.01), basis="assumption (a stable category)")
    brands: dict[str, BrandSpec] = field(default_factory=dict, metadata={
        "doc": "brand name -> its settings; none listed: one brand named 'brand'"})


@dataclass
class AdvertisingConfig(Frozen):
    """Paid impressions: everyone exposed is affected, clickers fully, non-clickers less."""

    enabled: bool = param(True, doc="switch the advertising lever on or off")
    cost_per_impression: float = param(0.01, 0.0, 1e9, open_lo=True, unit="money per impression",
                                       doc="price of one impression (CPM / 1000)",
                                       plausible=(0.005, 0.02),
                                       basis="published Facebook CPMs of 5-20 US$ "
                                             "(AdStage 2018; 2022-25 benchmarks)")
    targeting: str = param("none", choices=AD_TARGETS,
                           doc="who impressions land on: everyone (none), followers, or "
                               "look-alikes of customers (their neighbours); random if empty")
    frequency_cap: int = param(0, 0, 1_000_000, unit="impressions per consumer per step",
                               doc="most impressions one consumer receives in a step; "
                                   "impressions over it are not bought; 0 = no cap")
    nonclicker_effect: float = param(0.15, 0.0, 1.0, unit="share",
                                     doc="per-impression effect on a non-clicker relative to a "
                                         "clicker (awareness, adstock, hype)")
    awareness_prob: float = param(0.05, 0.0, 1.0, unit="probability per impression",
                                  doc="chance an impression makes an unaware clicker aware",
                                  plausible=(0.01, 0.2), basis="assumption")
    gain: float = param(0.1, 0.0, 1.0, unit="share per impression",
                        doc="adstock of a clicker closes this share of its gap to 1 per "
                            "impression (times trust)",
                        plausible=(0.05, 0.3), basis="assumption")
    trust: float = param(0.36, 0.0, 1.0, unit="share",
                         doc="trust in social-network ads; scales the adstock gain")
    hype: float = param(0.02, 0.0, 1.0, unit="share per impression",
                        doc="expectation of a clicker closes this share of its gap to the claim "
                            "per impression",
                        plausible=(0.0, 0.1), basis="assumption")
    claim: float = param(0.6, -1.0, 1.0, unit="quality",
                         doc="quality the ads promise: the level hype pulls expectations toward",
                         plausible=(0.3, 0.9),
                         basis="assumption (from the default quality 0.3, an honest claim, to "
                               "overclaiming)")
    retention: float = param(0.5, 0.0, 1.0, unit="share per step",
                             doc="adstock and hype kept from one step to the next (carry-over)",
                             plausible=(0.3, 0.85),
                             basis="Sethuraman, Tellis & Briesch 2011 (0.5 a period; 0.85 a week "
                                   "if the period were a month); the week per period and the lower "
                                   "end an assumption")
    annoy_prob: float = param(0.005, 0.0, 1.0, unit="probability per impression",
                              doc="chance an impression annoys a non-clicker",
                              plausible=(0.0, 0.02), basis="assumption")
    annoyance: float = param(0.05, 0.0, 2.0, unit="opinion",
                             doc="opinion drop of an annoyed consumer",
                             plausible=(0.0, 0.2), basis="assumption")
    unfollow_prob: float = param(0.05, 0.0, 1.0, unit="probability",
                                 doc="chance an annoyed follower unfollows",
                                 plausible=(0.0, 0.2), basis="assumption")


@dataclass
class DialogueConfig(Frozen):
    """The brand answering consumers who talked about it last step."""

    enabled: bool = param(True, doc="switch the dialogue lever on or off")
    cost_per_reply: float = param(2.0, 0.0, 1e9, open_lo=True, unit="money per reply",
                                  doc="staff time for one answered conversation",
                                  plausible=(1.0, 5.0),
                                  basis="BLS OES May 2020 wage, 2-8 minutes a reply")
    lift: float = param(0.05, 0.0, 1.0, unit="share",
                        doc="an answered consumer's opinion closes this share of its gap to 1 "
                            "(as goodwill that fades)",
                        plausible=(0.02, 0.1), basis="assumption")
    follow_prob: float = param(0.3, 0.0, 1.0, unit="probability",
                               doc="chance an answered consumer follows the brand",
                               plausible=(0.1, 0.5), basis="assumption")
    recovery_prob: float = param(0.3, 0.0, 1.0, unit="probability",
                                 doc="chance an answered negative talker is recovered: its "
                                     "opinion rises to neutral (0), not beyond",
                                 plausible=(0.2, 0.5), basis="assumption")
    retention: float = param(0.75, 0.0, 1.0, unit="share per step",
                             doc="share of a reply's goodwill (its opinion rise) kept each step",
                             plausible=(0.5, 0.9), basis="assumption")
    prioritise_negative: bool = param(True, doc="answer negative talkers first")


@dataclass
class ContentConfig(Frozen):
    """Shareable content ("social objects") spreading as independent cascades."""

    enabled: bool = param(True, doc="switch the content lever on or off")
    cost_per_piece: float = param(100.0, 0.0, 1e12, open_lo=True, unit="money per piece",
                                  doc="production and seeding cost of one piece",
                                  plausible=(50.0, 1000.0),
                                  basis="assumption (an image post to a short video)")
    seeds_per_piece: int = param(20, 0, 1_000_000, unit="consumers",
                                 doc="consumers each new piece is first shown to",
                                 plausible=(5, 50), basis="assumption")
    seeding: str = param("followers", choices=SEEDING_TARGETS,
                         doc="who sees a new piece first: followers (topped up with random) "
                             "or a seeding rule (wommsim.seeding)")
    meaningfulness: float = param(0.5, 0.0, 1.0, unit="score", doc="how much a piece matters",
                                  plausible=(0.2, 0.8),
                                  basis="assumption (a weak to a strong piece)")
    freshness: float = param(1.0, 0.0, 1.0, unit="score", doc="freshness of a new piece")
    sustainability: float = param(0.5, 0.0, 1.0, unit="score",
                                  doc="how well a piece keeps being discussed",
                                  plausible=(0.2, 0.8), basis="assumption")
    freshness_decay: float = param(0.5, 0.0, 1.0, unit="share per step",
                                   doc="freshness lost per step at sustainability 0",
                                   plausible=(0.25, 0.75), basis="assumption")
    share_scale: float = param(0.015, 0.0, 1.0, unit="probability",
                               doc="share probability = share_scale × meaning × freshness",
                               plausible=(0.01, 0.03),
                               basis="calibrated to Goel, Watts & Goldstein 2012 (over 90% of "
                                     "cascades stay at their seed)")
    warmth: float = param(0.1, 0.0, 1.0, unit="share",
                          doc="an engaged consumer's opinion closes this share of its gap to "
                              "warmth_ceiling (a disappointed buyer's: to 0)",
                          plausible=(0.05, 0.2), basis="assumption")
    warmth_ceiling: float = param(0.5, 0.0, 1.0, unit="opinion",
                                  doc="highest opinion content's warmth can bring anyone to",
                                  plausible=(0.3, 0.7), basis="assumption")
    opinion_weight: float = param(1.0, 0.0, 1.0, unit="share",
                                  doc="engagement × (1 + opinion_weight × min(opinion, 0))",
                                  plausible=(0.5, 1.0), basis="assumption")
    fatigue: float = param(0.2, 0.0, 1.0, unit="share per exposure",
                           doc="engagement lost per recent exposure to the brand's content",
                           plausible=(0.1, 0.4), basis="assumption")
    fatigue_retention: float = param(0.8, 0.0, 1.0, unit="share per step",
                                     doc="share of the recent-exposure count kept each step",
                                     plausible=(0.5, 0.95), basis="assumption")


@dataclass
class ReviewsConfig(Frozen):
    """User reviews: organic and invited by the brand, forming a public score."""

    enabled: bool = param(True, doc="switch reviews (lever and score) on or off")
    cost_per_invite: float = param(1.0, 0.0, 1e9, open_lo=True, unit="money per invitation",
                                   doc="cost of inviting one buyer to review",
                                   plausible=(0.01, 5.0), basis="assumption")
    invited_review_prob: float = param(0.3, 0.0, 1.0, unit="probability",
                                       doc="chance an invited buyer posts a review",
                                       plausible=(0.1, 0.5), basis="assumption")
    organic_review_prob: float = param(0.05, 0.0, 1.0, unit="probability",
                                       doc="chance a buyer with a neutral experience (0) "
                                           "reviews unprompted",
                                       plausible=(0.01, 0.1), basis="assumption")
    positive_selection: float = param(8.0, 0.0, 100.0, unit="factor per squared rating",
                                      doc="organic posting propensity rises by this times "
                                          "the squared rating of a positive experience",
                                      plausible=(2.0, 20.0), basis="assumption")
    negative_selection: float = param(4.0, 0.0, 100.0, unit="factor per squared rating",
                                      doc="organic posting propensity rises by this times "
                                          "the squared rating of a negative experience",
                                      plausible=(1.0, 10.0), basis="assumption")
    invited_positivity: float = param(0.25, 0.0, 2.0, unit="rating",
                                      doc="rise of an invited (rewarded) review's rating over "
                                          "the reviewer's experience",
                                      plausible=(0.15, 0.3),
                                      basis="ReviewMeta 2016 (incentivised reviews 0.29 "
                                            "stars higher)")
    credibility_per_consumer: float = param(0.002, 0.0, 1e6, open_lo=True,
                                            unit="reviews per consumer",
                                            doc="review count, per consumer of the market, at "
                                                "which the score has half its weight and the "
                                                "unit of review volume",
                                            plausible=(0.0005, 0.005),
                                            basis="assumption (5-50 reviews at 10,000 consumers)")
    volume_factor: float = param(1.0, 0.0, 1e6, open_lo=True, unit="factor",
                                 doc="the page shows this multiple of the review count "
                                     "(1: as posted; for elasticity experiments)")
    valence_factor: float = param(1.0, 0.0, 5.0, open_lo=True, unit="factor",
                                  doc="the page shows this multiple of the mean star rating "
                                      "(1: as posted; for elasticity experiments)")


@dataclass
class IncentivesConfig(Frozen):
    """"Follow us for a discount" offers."""

    enabled: bool = param(True, doc="switch the incentives lever on or off")
    cost_per_offer: float = param(1.0, 0.0, 1e9, open_lo=True, unit="money per offer",
                                  doc="promotion cost per offer made (the discount itself "
                                      "is given when redeemed)",
                                  plausible=(0.2, 5.0), basis="assumption")
    discount: float = param(0.2, 0.0, 1.0, unit="share of price",
                            doc="price cut of a redeemed offer",
                            plausible=(0.1, 0.5), basis="assumption (typical promotional depth)")
    expiry_steps: int = param(8, 1, 1_000_000, unit="steps",
                              doc="an unused offer expires this many steps after it was taken",
                              plausible=(4, 13),
                              basis="assumption (an offer valid one to three months)")
    accept_prob: float = param(0.5, 0.0, 1.0, unit="probability",
                               doc="chance an offered consumer takes the discount and follows",
                               plausible=(0.2, 0.8), basis="assumption")
    expectation_shift: float = param(-0.1, -1.0, 1.0, unit="quality",
                                     doc="change in the expected quality of a consumer who "
                                         "takes an offer (negative: a discount signals lower "
                                         "quality)",
                                     plausible=(-0.3, 0.0), basis="assumption")
    bonus: float = param(0.3, 0.0, 10.0, unit="utility",
                         doc="purchase utility added while the discount is unused",
                         plausible=(0.1, 0.7),
                         basis="assumption (about the log-price utility of a 10-50% price cut at "
                               "market.price_weight 1)")


@dataclass
class FollowersConfig(Frozen):
    """What following a brand brings (its organic posts) and when it ends."""

    enabled: bool = param(True, doc="switch organic posts and opinion-driven unfollows on or off")
    post_reach: float = param(0.06, 0.0, 1.0, unit="share of followers per step",
                              doc="followers a step's organic post reaches")
    post_gain: float = param(0.1, 0.0, 1.0, unit="share",
                             doc="adstock closes this share of its gap to 1 per post seen",
                             plausible=(0.0, 0.3), basis="assumption")
    unfollow_opinion: float = param(-0.1, -1.0, 1.0, unit="opinion",
                                    doc="a follower whose opinion falls below this unfollows",
                                    plausible=(-0.3, 0.0),
                                    basis="assumption (about the detractor line, "
                                          "-wom.neutral_band)")


@dataclass
class WomConfig(Frozen):
    """Word of mouth between neighbours: who talks, how talk accumulates, rejection."""

    enabled: bool = param(True, doc="switch word of mouth on or off")
    talk_prob: float = param(0.03, 0.0, 1.0, unit="probability per neighbour per step",
                             doc="base chance an opinionated consumer talks to a neighbour "
                                 "over a strong tie (times its talk multipliers)",
                             plausible=(0.01, 0.1), basis="assumption")
    hearsay_talk: float = param(0.5, 0.0, 1.0, unit="share",
                                doc="talk of a consumer who has not bought the brand (its "
                                    "opinion is hearsay) relative to one who has",
                                plausible=(0.1, 1.0), basis="assumption")
    experience_talk: float = param(3.0, 0.0, 100.0, unit="factor per unit of satisfaction",
                                   doc="an adopter's extra talk per unit of |satisfaction| "
                                       "just after a purchase",
                                   plausible=(1.0, 5.0), basis="assumption")
    dissatisfied_talk: float = param(1.5, 1.0, 10.0, unit="factor",
                                     doc="a dissatisfied adopter's extra talk relative to a "
                                         "satisfied one's of the same strength",
                                     plausible=(1.0, 3.0), basis="assumption")
    talk_half_life: float = param(8.0, 0.0, 1e6, open_lo=True, unit="steps",
                                  doc="half-life of an adopter's extra talk after a purchase",
                                  plausible=(2.0, 26.0), basis="assumption")
    talkativeness_spread: float = param(0.8, 0.0, 3.0, unit="s.d. of log",
                                        doc="spread of consumers' fixed talkativeness "
                                            "(lognormal, mean 1)",
                                        plausible=(0.0, 1.2), basis="assumption")
    persuasiveness_spread: float = param(0.3, 0.0, 3.0, unit="s.d. of log",
                                         doc="spread of consumers' fixed persuasiveness "
                                             "(lognormal, mean 1)",
                                         plausible=(0.0, 0.6), basis="assumption")
    degree_participation: float = param(0.25, 0.0, 2.0, unit="elasticity",
                                        doc="talk rises as (degree / mean degree) to this "
                                            "power: hubs participate more",
                                        plausible=(0.0, 0.5), basis="assumption")
    trust: float = param(0.92, 0.0, 1.0, unit="share", doc="trust in people one knows")
    influence: float = param(0.3, 0.0, 1.0, unit="share",
                             doc="exposure dose of one conversation over a strong tie "
                                 "(times trust and |what was said|)",
                             plausible=(0.1, 0.6), basis="assumption")
    negativity_bias: float = param(2.0, 0.0, 100.0, unit="factor",
                                   doc="dose of negative talk relative to positive",
                                   plausible=(1.0, 4.0), basis="assumption")
    negative_talk: bool = param(True, doc="detractors and rejecters talk (false silences "
                                          "all negative talk)")
    negative_retention: float = param(0.99, 0.0, 1.0, unit="share per step",
                                      doc="share of the accumulated negative exposure kept "
                                          "each step",
                                      plausible=(0.95, 1.0), basis="assumption")
    rejection_threshold: float = param(1.0, 0.0, 1e6, open_lo=True, unit="exposure dose",
                                       doc="accumulated negative exposure at which a "
                                           "non-adopter rejects the brand",
                                       plausible=(0.5, 3.0),
                                       basis="assumption (two to six strong detractor "
                                             "conversations)")
    weak_tie_talk: float = param(0.5, 0.0, 1.0, unit="share",
                                 doc="talk probability over a weak tie relative to a strong "
                                     "one",
                                 plausible=(0.2, 1.0), basis="assumption")
    weak_tie_influence: float = param(0.5, 0.0, 1.0, unit="share",
                                      doc="dose of a conversation over a weak tie relative "
                                          "to a strong one",
                                      plausible=(0.2, 1.0), basis="assumption")
    random_meetings: float = param(0.0, 0.0, 1000.0, unit="encounters per consumer per step",
                                   doc="mean random encounters per consumer per step, each a "
                                       "weak tie for that step (0: off)",
                                   plausible=(0.0, 5.0), basis="assumption")
    rewarded_discount: float = param(0.3, 0.0, 1.0, unit="share",
                                     doc="share of a rewarded speaker's dose its listeners "
                                         "discount over a weak tie (half over a strong one)",
                                     plausible=(0.0, 0.6), basis="assumption")
    neutral_band: float = param(0.1, 0.0, 1.0, unit="opinion",
                                doc="consumers with |opinion| at most this do not talk",
                                plausible=(0.05, 0.2), basis="assumption")
    cross_brand: float = param(0.2, 0.0, 1.0, unit="share",
                               doc="several brands: negative talk about one brand moves the "
                                   "listener's opinion of each rival this share of its "
                                   "negative pull toward +1",
                               plausible=(0.0, 0.5), basis="assumption")


@dataclass
class PurchaseConfig(Frozen):
    """After purchase: satisfaction, advocacy and churn from the community."""

    enabled: bool = param(True, doc="switch post-purchase satisfaction on or off")
    satisfaction_gain: float = param(2.0, 0.0, 100.0, unit="opinion per quality",
                                     doc="a buyer's opinion = gain × satisfaction (clipped)",
                                     plausible=(1.0, 4.0), basis="assumption")
    unfollow_prob: float = param(0.5, 0.0, 1.0, unit="probability",
                                 doc="chance a disappointed follower unfollows",
                                 plausible=(0.2, 0.8), basis="assumption")
    experience_weight: float = param(0.5, 0.0, 1.0, unit="share",
                                     doc="weight of a repeat purchase's experience in "
                                         "the opinion (the first purchase sets it)",
                                     plausible=(0.2, 0.8), basis="assumption")
    expectation_learning: float = param(0.5, 0.0, 1.0, unit="share",
                                        doc="expectation closes this share of its gap to the "
                                            "experience after each purchase",
                                        plausible=(0.2, 0.8), basis="assumption")
    loss_aversion: float = param(2.0, 1.0, 10.0, unit="factor",
                                 doc="a shortfall below expectation weighs this many times "
                                     "a surplus of the same size in satisfaction",
                                 plausible=(1.5, 2.5),
                                 basis="assumption (about 2, Tversky & Kahneman 1991)")
    assimilation: float = param(0.3, 0.0, 1.0, unit="share",
                                doc="perceived quality is pulled this share of the way from "
                                    "the experience toward the expectation",
                                plausible=(0.1, 0.5), basis="assumption")


@dataclass
class ChannelsConfig(Frozen):
    """Online research and the online/offline purchase channel."""

    research_online_fraction: float = param(0.60, 0.0, 1.0, unit="share",
                                            doc="consumers who research online before buying")
    offline_per_online: float = param(3.45, 0.0, 1000.0, unit="sales per online sale",
                                      doc="web-influenced offline sales per online sale")


@dataclass
class EconomicsConfig(Frozen):
    """Money: what a sale earns and how future money is discounted (Libai, Muller & Peres
    2013 value word-of-mouth programmes by the discounted margin they bring)."""

    price: float = param(50.0, 0.0, 1e12, unit="money per purchase", doc="price of one purchase",
                         plausible=(20.0, 100.0), basis="assumption (a mid-priced consumer good)")
    margin: float = param(0.4, 0.0, 1.0, unit="share of price",
                          doc="contribution margin of a sale, before marketing spend",
                          plausible=(0.2, 0.6), basis="assumption")
    discount_rate: float = param(0.10, 0.0, 10.0, unit="per year",
                                 doc="annual discount rate for net present value",
                                 plausible=(0.05, 0.15),
                                 basis="assumption (US industry costs of capital about 5-10%, "
                                       "Damodaran 2026; more for a risky launch)")
    steps_per_year: float = param(52.0, 0.0, 1e6, open_lo=True, unit="steps per year",
                                  doc="length of a step, to discount per step")


FIGURE_VECTOR_FORMATS = ("none", "pdf", "svg")


@dataclass
class FiguresConfig(Frozen):
    """How figures are written: not what they show (left out of the configuration hash)."""

    dpi: int = param(120, 50, 1200, unit="dots per inch", doc="resolution of the PNG figures")
    vector: str = param("none", choices=FIGURE_VECTOR_FORMATS,
                        doc="also write every figure in this vector format (pdf or svg) "
                            "next to its PNG; none writes PNG only")


@dataclass
class ArmPhase(Frozen):
    """In an experiment arm: switch to the ``strategy`` preset from step ``start`` on."""

    start: int = param(1, 1, 1_000_000, unit="step", doc="first step of this phase")
    strategy: str = param("none", doc="strategy preset (configs/strategy/NAME.yaml)")


@dataclass
class ArmConfig(Frozen):
    """One arm of an experiment: a strategy preset, optional overrides and phases."""

    name: str = param("", doc="label of the arm in results")
    strategy: str = param("", doc="strategy preset; empty keeps the run's strategy")
    overrides: dict[str, Any] = field(default_factory=dict,
                                      metadata={"doc": "dotted key -> value, e.g. "
                                                       "consumer.ad_blind_fraction: 0.5"})
    phases: list[ArmPhase] = field(default_factory=list,
                                   metadata={"doc": "strategy changes at later steps"})


@dataclass
class ExperimentConfig(Frozen):
    """Arms run for ``replicates`` replicates each, paired on the same seeds."""

    name: str = param("", doc="experiment name (configs/experiment/NAME.yaml)")
    question: str = param("", doc="the question the experiment answers, for the report")
    arms: list[ArmConfig] = field(default_factory=list, metadata={"doc": "the arms"})
    grid: dict[str, Any] = field(default_factory=dict,
                                 metadata={"doc": "dotted key -> list of values, crossed "
                                                  "with every arm"})
    claim: str = param("", doc="the experiment's headline claim, 'A beats B on OUTCOME' (or "
                               "'brand X beats brand Y on OUTCOME in ARM'): the report tests "
                               "it, and python -m wommsim.robustness by default")
    reference: str = param("", doc="arm that paired differences are taken against "
                                   "(default: the first); in a grid experiment an arm "
                                   "without grid values, compared with at the same grid "
                                   "values")


@dataclass
class Config(Frozen):
    """One arm of a simulation: population, network, strategy, rule and mechanisms."""

    seed: int = param(42, 0, 2**32 - 1, doc="base seed; replicate r uses SeedSequence([seed, r])")
    steps: int = param(52, 1, 1_000_000, unit="steps (weeks)", doc="simulation horizon")
    replicates: int = param(10, 1, 1_000_000, unit="runs", doc="independent replicates")
    consumers: int = param(10_000, 1, 2_000_000_000, unit="consumers", doc="population size")
    agents: str = param("auto", choices=AGENT_MODES,
                        doc="Mesa agent objects: on, off, or auto (built when first read, small "
                            "markets only)")
    arm: str = param("", doc="label of this arm in results (default: the strategy name)")
    workers: int = param(0, 0, 4096, unit="processes",
                      doc="replicates run in parallel processes; 0 = one per core (one "
                          "per job inside a parallel sweep)")
    force_memory: bool = param(False, doc="run even when the memory estimate exceeds the "
                                          "available memory (see wommsim.runs.memory)")
    transactions: bool = param(False, doc="also write transactions.parquet: one row per "
                                          "purchase (memory grows with every purchase)")
    attribution: str = param("last_touch", choices=ATTRIBUTIONS,
                             doc="last_touch: each purchase credited to one influence (the "
                                 "last-touch weighted credit); counterfactual: also every "
                                 "subset of each arm's levers run switched off on the same "
                                 "seeds, for Shapley contributions and incremental economics "
                                 "(wommsim.attribution; up to 2^levers runs per arm)")
    overwrite: bool = param(False, doc="replace result files in the run folder that no "
                                       "wommsim run wrote (refused by default; see "
                                       "wommsim.runs.rundir)")
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
    followers: FollowersConfig = field(default_factory=FollowersConfig)
    purchase: PurchaseConfig = field(default_factory=PurchaseConfig)
    channels: ChannelsConfig = field(default_factory=ChannelsConfig)
    economics: EconomicsConfig = field(default_factory=EconomicsConfig)
    market: MarketConfig = field(default_factory=MarketConfig)
    figures: FiguresConfig = field(default_factory=FiguresConfig)
    phases: list[PhaseConfig] = field(default_factory=list,
                                      metadata={"doc": "strategy changes at later steps"})
    experiment: ExperimentConfig | None = field(
        default=None, metadata={"doc": "set by +experiment=NAME: arms run side by side"})

    @property
    def arm_name(self) -> str:
        return self.arm or self.strategy.name


def strategy_at(cfg: Config, step: int) -> StrategyConfig:
    """The strategy in force at ``step``: the last of ``cfg.phases`` started by then, else
    ``cfg.strategy``."""
    current = cfg.strategy
    for phase in cfg.phases:
        if phase.start <= step:
            current = phase
    return current


def weekly_budget(cfg: Config, n: int) -> float:
    """The brand's money per step in a market of ``n`` consumers: ``brand.budget_per_consumer
    × n``. ``n`` is the population the network holds (an edge list's file decides it), which
    is ``cfg.consumers`` for a generated network."""
    return cfg.brand.budget_per_consumer * n


def budget_text(cfg: Config, n: int) -> str:
    """The budget as reports and captions show it: per consumer, and what it makes a week
    for ``n`` consumers: "0.1 per consumer per week (1,000 a week for 10,000 consumers)"."""
    money = weekly_budget(cfg, n)
    amount = f"{money:,.0f}" if money >= 100 or money == 0 else f"{money:.3g}"
    return (f"{cfg.brand.budget_per_consumer:g} per consumer per week ({amount} a week for "
            f"{n:,} consumers)")


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


def plausible_ranges(cfg_cls: type = Config) -> dict[str, tuple[float, float, str]]:
    """Dotted key -> ``(lo, hi, basis)`` for every parameter of the schema with a plausible
    range (``param(..., plausible=(lo, hi), basis=...)``): the ranges a robustness analysis
    draws the model's assumptions from. ``cfg_cls`` is the schema's root (:class:`Config`)."""
    root = cfg_cls()
    return {key: (*f.metadata["plausible"], f.metadata.get("basis", ""))
            for key, f, _ in iter_params(root) if f.metadata.get("plausible") is not None}


def replace_key(cfg: Any, key: str, value: Any) -> Any:
    """A copy of dataclass ``cfg`` with the leaf at dotted ``key`` set to ``value``, by
    :func:`dataclasses.replace` along the path (sections off the path are shared with
    ``cfg``; a hundred times faster than a round trip through OmegaConf). No checks: the
    caller knows ``key`` is a leaf and validates the result."""
    head, _, rest = key.partition(".")
    child = value if not rest else replace_key(getattr(cfg, head), rest, value)
    return dataclasses.replace(cfg, **{head: child})


def boolean_keys() -> frozenset[str]:
    """Dotted keys of the boolean parameters (they take only ``true`` or ``false``)."""
    return frozenset(key for key, f, _ in iter_params(Config()) if f.type == "bool")


def check_value(key: str, f: dataclasses.Field, value: Any) -> None:
    """Check one parameter's value against its field's type, range and choices; an optional
    field (``float | None``) may also be None."""
    meta = f.metadata
    kind = f.type.removesuffix(" | None")
    if value is None and kind != f.type:
        return
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{key}={value!r}: must be an integer")
    if kind == "float" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ConfigError(f"{key}={value!r}: must be a number")
    if kind == "bool" and not isinstance(value, bool):
        raise ConfigError(f"{key}={value!r}: must be true or false")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{key}={value!r}: must be a finite number")
    lo, hi = meta.get("lo"), meta.get("hi")
    below = lo is not None and (value <= lo if meta.get("open_lo") else value < lo)
    if below or (hi is not None and value > hi):
        unit = f" ({meta['unit']})" if meta.get("unit") else ""
        if meta.get("open_lo"):
            raise ConfigError(f"{key}={value!r}: must be above {lo:g} and at most "
                              f"{hi:g}{unit}")
        raise ConfigError(f"{key}={value!r}: must be between {lo:g} and {hi:g}{unit}")
    choices = meta.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{key}={value!r}: must be one of {', '.join(choices)}")


def validate(cfg: Config) -> Config:
    """Check every value against its declared range and the cross-field rules, and freeze
    ``cfg`` (see :class:`Frozen`); returns it.

    Raises :class:`ConfigError` naming the first offending key and value. A config already
    validated (frozen) is returned as it is.
    """
    if cfg.__dict__.get("_frozen"):
        return cfg
    for key, f, value in iter_params(cfg):
        check_value(key, f, value)
    _validate_cross_fields(cfg)
    # The brands as the model will run them, resolved once here (where the Hydra search path
    # of a running app finds the user's strategy presets) and carried with the frozen config.
    object.__setattr__(cfg, "_brands", _resolve_brands(cfg))
    _freeze(cfg)
    return cfg


@dataclass(frozen=True)
class Brand:
    """A brand of the market as the model runs it: its name, its index (its row of the
    brand-axis state) and the run's config as this brand sees it (its strategy and phases,
    budget, quality, price and claim in place of the run's)."""

    name: str
    index: int
    config: Config


def brands_of(cfg: Config) -> tuple[Brand, ...]:
    """The brands of ``cfg``'s market, in the order ``market.brands`` lists them (one named
    :data:`DEFAULT_BRAND` if it lists none), each with its own config."""
    return validate(cfg).__dict__["_brands"]


_BRAND_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def _resolve_brands(cfg: Config) -> tuple[Brand, ...]:
    from wommsim.experiment import strategy_preset  # the presets need the config schema

    specs = cfg.market.brands or {DEFAULT_BRAND: BrandSpec()}
    if len(specs) > MAX_BRANDS:
        raise ConfigError(f"market.brands: {len(specs)} brands, more than the {MAX_BRANDS} a "
                          "market may have")
    many = len(specs) > 1
    if cfg.decision.rule == "bass" and (many or cfg.market.category == "repeat"):
        raise ConfigError(f"decision.rule=bass: the Bass rule describes first purchases of one "
                          f"product; it needs one brand and market.category=durable (market "
                          f"{cfg.market.name!r} has {len(specs)} brands, category "
                          f"{cfg.market.category})")
    brands = []
    for index, (name, spec) in enumerate(specs.items()):
        key = f"market.brands.{name}"
        if not isinstance(name, str) or not _BRAND_NAME.fullmatch(name):
            raise ConfigError(f"{key}: a brand name is letters, digits, '_', '.' or '-'")
        for f in dataclasses.fields(BrandSpec):
            check_value(f"{key}.{f.name}", f, getattr(spec, f.name))
        if spec == BrandSpec():
            brands.append(Brand(name, index, cfg))  # the run's own settings
            continue
        strategy, phases = cfg.strategy, cfg.phases
        if spec.strategy:
            try:
                strategy, phases = strategy_preset(spec.strategy), []
            except ConfigError as err:
                raise ConfigError(f"{key}.{err}") from err

        def own(value, default):
            return default if value is None else value

        own_cfg = dataclasses.replace(
            cfg, arm=cfg.arm_name, strategy=strategy, phases=phases,
            brand=dataclasses.replace(
                cfg.brand, budget_per_consumer=float(own(spec.budget_per_consumer,
                                                         cfg.brand.budget_per_consumer)),
                quality=float(own(spec.quality, cfg.brand.quality)),
                quality_spread=float(own(spec.quality_spread, cfg.brand.quality_spread))),
            economics=dataclasses.replace(cfg.economics,
                                          price=float(own(spec.price, cfg.economics.price))),
            advertising=dataclasses.replace(cfg.advertising,
                                            claim=float(own(spec.claim, cfg.advertising.claim))),
            market=dataclasses.replace(cfg.market, brands={}))
        price = own_cfg.economics.price
        if price != cfg.economics.price and 0.0 in (price, cfg.economics.price):
            raise ConfigError(f"{key}.price={price:g}: a brand's price is compared with "
                              f"economics.price={cfg.economics.price:g} by their ratio, so "
                              "both must be above 0")
        try:
            brands.append(Brand(name, index, validate(own_cfg)))
        except ConfigError as err:
            raise ConfigError(f"{key}: {err}") from err
    return tuple(brands)


def _strategies(cfg: Config) -> list[tuple[str, StrategyConfig]]:
    """The run's strategy and its phases' strategies, each with its key."""
    return [("strategy", cfg.strategy),
            *((f"phases[{i}]", p) for i, p in enumerate(cfg.phases))]


def _validate_cross_fields(cfg: Config) -> None:
    strategies = _strategies(cfg)
    for key, strategy in strategies:
        total = sum(getattr(strategy, lever) for lever in LEVERS)
        if total > 1.0 + 1e-9:
            raise ConfigError(f"{key} ({strategy.name}) shares sum to {total:g}: "
                              "the levers' shares of the budget must add up to at most 1")
    check_units_per_step(cfg, cfg.consumers)
    starts = [p.start for p in cfg.phases]
    if starts != sorted(set(starts)):
        raise ConfigError(f"phases start at steps {starts}: starts must strictly increase")
    for i, phase in enumerate(cfg.phases):
        if phase.start > cfg.steps:
            raise ConfigError(f"phases[{i}] ({phase.name}) starts at step {phase.start}, after "
                              f"the last step (steps={cfg.steps}): it would never take effect")
    # Each network kind's feasibility rules live with its generator (the network registry,
    # which imports this module: hence the import here).
    from wommsim.network import check_network

    check_network(cfg.network, cfg.consumers)
    uses_file = [key for key, rule in (("consumer.initial_adopters",
                                        cfg.consumer.initial_adopters),
                                       ("content.seeding", cfg.content.seeding))
                 if rule == "file"]
    if uses_file and not cfg.consumer.seed_file:
        raise ConfigError(f"{uses_file[0]}=file: the seeding rule file needs "
                          "consumer.seed_file=/path/to/seeds.txt")
    if uses_file:
        check_input_file("consumer.seed_file", cfg.consumer.seed_file)


#: What an input file that is not a regular file is, by ``stat`` test.
_FILE_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def input_file_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be read as an input file (``"no such file"``, ``"is a
    directory"``, ``"is not a regular file (a FIFO ...)"``, ...), or None if it can.

    Only regular files are read: a FIFO or a device would block or never end."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "no such file"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _FILE_KINDS if test(mode)), "a special file")
        return f"is not a regular file ({kind})"
    return None


def check_input_file(key: str, path: str | os.PathLike) -> None:
    """Raise :class:`ConfigError` ``KEY='PATH': <problem>`` unless ``path`` is a regular
    file (see :func:`input_file_problem`)."""
    problem = input_file_problem(path)
    if problem:
        raise ConfigError(f"{key}={str(path)!r}: {problem}")


def check_units_per_step(cfg: Config, n: int) -> None:
    """Refuse a budget that buys more units of a lever in one step than can be simulated
    (:data:`MAX_UNITS_PER_STEP`) in a market of ``n`` consumers, naming the keys whose
    combination is the cause. :func:`validate` checks ``consumers``; the model checks an
    edge list's population when it has read it."""
    strategies = _strategies(cfg)
    budget = weekly_budget(cfg, n)
    for lever, (cost_key, units) in UNIT_COSTS.items():
        if not getattr(cfg, lever).enabled:
            continue
        cost = getattr(getattr(cfg, lever), cost_key)
        key, strategy = max(strategies, key=lambda item: getattr(item[1], lever))
        count = budget * getattr(strategy, lever) / cost
        if count > MAX_UNITS_PER_STEP:
            raise ConfigError(
                f"brand.budget_per_consumer={cfg.brand.budget_per_consumer:g} at "
                f"{n:,} consumers with {key}.{lever}={getattr(strategy, lever):g} "
                f"and {lever}.{cost_key}={cost:g} buys {count:.3g} {units} a step, more than "
                f"the {MAX_UNITS_PER_STEP:.3g} a simulation can count: lower "
                f"brand.budget_per_consumer or raise {lever}.{cost_key}")


def register() -> None:
    """Register the schema with Hydra's ConfigStore as ``wommsim_schema``."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="wommsim_schema", node=Config)
