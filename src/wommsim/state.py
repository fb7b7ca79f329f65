"""Consumer state: one NumPy array per state variable, indexed by consumer.

Every variable is declared once in :data:`STATE_VARS` (name, dtype, fill value, doc); the
arrays, the Mesa agent attributes and the documentation all derive from that declaration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: ``trigger``, ``aware_source`` and ``opinion_source`` hold an influence code (declared by
#: the mechanisms, see :data:`wommsim.mechanisms.INFLUENCES`), or this for none.
NO_SOURCE = -1

#: Purchase channel codes stored in ``channel``.
CHANNEL_NONE, CHANNEL_ONLINE, CHANNEL_OFFLINE = 0, 1, 2


#: The axes a state variable can have: one entry per consumer, or per consumer and brand.
CONSUMER, BRAND = "consumer", "consumer × brand"


@dataclass(frozen=True)
class StateVar:
    """A state variable: its dtype, the value it starts at, what it means, and its axes.

    A variable about the consumer's relation to a brand has the brand axis (``BRAND``); with
    one brand, as in every market today, its array is one entry per consumer.
    """

    dtype: type
    fill: float | int | bool
    doc: str
    axes: str = CONSUMER


STATE_VARS: dict[str, StateVar] = {
    "aware": StateVar(np.bool_, False, "knows the brand", BRAND),
    "opinion": StateVar(np.float64, 0.0, "attitude to the brand, in [-1, 1]", BRAND),
    "adstock": StateVar(np.float64, 0.0, "ad-driven attitude in [0, 1]; decays fast", BRAND),
    "adopted": StateVar(np.bool_, False, "has bought (never reverts)", BRAND),
    "adopted_step": StateVar(np.int32, -1, "step of purchase; -1 if not adopted", BRAND),
    "trigger": StateVar(np.int8, NO_SOURCE, "influence credited with the purchase (its code)",
                        BRAND),
    "ad_receptive": StateVar(np.bool_, False, "pays attention to ads at all (fixed)"),
    "follower": StateVar(np.bool_, False, "follows the brand's social account or community",
                         BRAND),
    "expectation": StateVar(np.float64, 0.0, "expected product quality, in [-1, 1]", BRAND),
    "experience": StateVar(np.float64, np.nan, "experienced quality after purchase", BRAND),
    "satisfaction": StateVar(np.float64, np.nan, "experience minus expectation", BRAND),
    "threshold": StateVar(np.float64, 0.0, "purchase threshold on utility (fixed)"),
    "researches_online": StateVar(np.bool_, False, "looks online (reviews) before buying"),
    "channel": StateVar(np.int8, CHANNEL_NONE, "0 not bought, 1 online, 2 offline", BRAND),
    "incentivised": StateVar(np.bool_, False, "holds an unused follow-for-discount offer",
                             BRAND),
    "reviewed": StateVar(np.bool_, False, "has posted a review", BRAND),
    "review_invited": StateVar(np.bool_, False, "was invited by the brand to review", BRAND),
    "talked": StateVar(np.int8, 0, "sign of this consumer's talk in the last step", BRAND),
    "aware_source": StateVar(np.int8, NO_SOURCE, "influence that made it aware", BRAND),
    "opinion_source": StateVar(np.int8, NO_SOURCE, "influence of the last opinion rise", BRAND),
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
