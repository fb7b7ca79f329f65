"""Consumer state: one NumPy array per state variable, indexed by consumer.

Every variable is declared once in :data:`STATE_VARS` (name, dtype, fill value, doc); the
arrays, the Mesa agent attributes and the documentation all derive from that declaration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wommsim.config import Config
from wommsim.rng import Streams

#: Influences an adoption can be attributed to, in column order (``new_adopters_<name>``).
INFLUENCES: tuple[str, ...] = ("ads", "wom", "content", "dialogue", "reviews", "incentives")
ADS, WOM, CONTENT, DIALOGUE, REVIEWS, INCENTIVES = range(len(INFLUENCES))
NO_SOURCE = -1

#: Purchase channel codes stored in ``channel``.
CHANNEL_NONE, CHANNEL_ONLINE, CHANNEL_OFFLINE = 0, 1, 2


@dataclass(frozen=True)
class StateVar:
    dtype: type
    fill: float | int | bool
    doc: str


STATE_VARS: dict[str, StateVar] = {
    "aware": StateVar(np.bool_, False, "knows the brand"),
    "opinion": StateVar(np.float64, 0.0, "attitude to the brand, in [-1, 1]"),
    "adstock": StateVar(np.float64, 0.0, "ad-driven attitude in [0, 1]; decays fast"),
    "adopted": StateVar(np.bool_, False, "has bought (never reverts)"),
    "adopted_step": StateVar(np.int32, -1, "step of purchase; -1 if not adopted"),
    "trigger": StateVar(np.int8, NO_SOURCE, "influence credited with the purchase (INFLUENCES)"),
    "ad_receptive": StateVar(np.bool_, False, "pays attention to ads at all (fixed)"),
    "follower": StateVar(np.bool_, False, "follows the brand's social account or community"),
    "expectation": StateVar(np.float64, 0.0, "expected product quality, in [-1, 1]"),
    "experience": StateVar(np.float64, np.nan, "experienced quality after purchase"),
    "satisfaction": StateVar(np.float64, np.nan, "experience minus expectation"),
    "threshold": StateVar(np.float64, 0.0, "purchase threshold on utility (fixed)"),
    "researches_online": StateVar(np.bool_, False, "looks online (reviews) before buying"),
    "channel": StateVar(np.int8, CHANNEL_NONE, "0 not bought, 1 online, 2 offline"),
    "incentivised": StateVar(np.bool_, False, "holds an unused follow-for-discount offer"),
    "reviewed": StateVar(np.bool_, False, "has posted a review"),
    "review_invited": StateVar(np.bool_, False, "was invited by the brand to review"),
    "talked": StateVar(np.int8, 0, "sign of this consumer's talk in the last step"),
    "aware_source": StateVar(np.int8, NO_SOURCE, "influence that made it aware"),
    "opinion_source": StateVar(np.int8, NO_SOURCE, "influence of the last opinion rise"),
}


class ConsumerState:
    """The arrays of record. Attribute names are the keys of :data:`STATE_VARS`."""

    def __init__(self, n: int) -> None:
        self.n = n
        for name, var in STATE_VARS.items():
            setattr(self, name, np.full(n, var.fill, dtype=var.dtype))

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in STATE_VARS}

    def copy(self) -> ConsumerState:
        other = ConsumerState.__new__(ConsumerState)
        other.n = self.n
        for name, arr in self.arrays().items():
            setattr(other, name, arr.copy())
        return other


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
