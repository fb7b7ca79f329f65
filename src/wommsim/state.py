"""Consumer state: one NumPy array per state variable, indexed by consumer (and brand).

Every variable is declared once in :data:`STATE_VARS` (name, dtype, fill value, doc); the
arrays, the Mesa agent attributes and the documentation all derive from that declaration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: ``trigger``, ``aware_source`` and ``opinion_source`` hold an influence code (declared by
#: the mechanisms, see :data:`wommsim.mechanisms.INFLUENCES`), or this for none.
NO_SOURCE = -1

#: ``current_brand`` of a consumer who is no brand's customer.
NO_BRAND = -1

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
    "adopted": StateVar(np.bool_, False, "has bought the brand (never reverts)", BRAND),
    "adopted_step": StateVar(np.int32, -1, "step of the first purchase; -1 if none", BRAND),
    "trigger": StateVar(np.int8, NO_SOURCE, "influence credited with the first purchase (its "
                        "code): how the customer was acquired", BRAND),
    "ad_receptive": StateVar(np.bool_, False, "clicks ads: fully affected by them (fixed)"),
    "follower": StateVar(np.bool_, False, "follows the brand's social account or community",
                         BRAND),
    "expectation": StateVar(np.float64, 0.0, "expected product quality, in [-1, 1]", BRAND),
    "hype": StateVar(np.float64, 0.0, "ad-driven part of the expectation; fades like adstock",
                     BRAND),
    "experience": StateVar(np.float64, np.nan, "perceived quality of the last purchase "
                           "(assimilated toward the expectation; what a review rates)", BRAND),
    "satisfaction": StateVar(np.float64, np.nan, "perceived quality minus expectation at the "
                             "last purchase, shortfalls times purchase.loss_aversion", BRAND),
    "threshold": StateVar(np.float64, 0.0, "purchase threshold on utility (fixed)"),
    "researches_online": StateVar(np.bool_, False, "looks online (reviews) before buying"),
    "channel": StateVar(np.int8, CHANNEL_NONE, "0 not bought, 1 online, 2 offline (last "
                        "purchase)", BRAND),
    "incentivised": StateVar(np.bool_, False, "holds an unused follow-for-discount offer",
                             BRAND),
    "reviewed": StateVar(np.bool_, False, "has posted a review", BRAND),
    "review_invited": StateVar(np.bool_, False, "was invited by the brand to review", BRAND),
    "talked": StateVar(np.int8, 0, "sign of this consumer's talk in the last step", BRAND),
    "aware_source": StateVar(np.int8, NO_SOURCE, "influence that made it aware", BRAND),
    "opinion_source": StateVar(np.int8, NO_SOURCE, "influence of the last opinion rise", BRAND),
    "purchases": StateVar(np.int32, 0, "purchases of the brand so far", BRAND),
    "offer_step": StateVar(np.int32, -1, "step the held offer was taken; -1 if none", BRAND),
    "follow_source": StateVar(np.int8, NO_SOURCE, "influence that made it follow the brand "
                              "(last time), kept after an unfollow", BRAND),
    "content_fatigue": StateVar(np.float32, 0.0, "recent exposures to the brand's content "
                                "(decays each step)", BRAND),
    "goodwill": StateVar(np.float32, 0.0, "opinion rise from the brand's replies still in "
                         "force (fades each step)", BRAND),
    "current_brand": StateVar(np.int8, NO_BRAND, "brand the consumer is a customer of (its "
                              "index); -1 for none"),
    "heard_negative": StateVar(np.float32, 0.0, "negative word-of-mouth exposure heard, "
                               "accumulated (keeps wom.negative_retention per step)", BRAND),
    "rejecter": StateVar(np.bool_, False, "rejects the brand after enough bad news: never "
                         "buys it, talks against it (never reverts)", BRAND),
    "last_purchase_step": StateVar(np.int32, -1, "step of the last purchase; -1 if none",
                                   BRAND),
    "talkativeness": StateVar(np.float32, 1.0, "how much the consumer talks, relative to the "
                              "mean, times its degree's participation (fixed)"),
    "persuasiveness": StateVar(np.float32, 1.0, "how much its talk moves listeners, relative "
                               "to the mean (fixed)"),
    "category_rate": StateVar(np.float32, 0.0, "category purchase occasions per step (fixed; "
                              "repeat-purchase markets only)"),
}


class ConsumerState:
    """One brand's view of the market: every variable as one array over consumers.

    Attribute names are the keys of :data:`STATE_VARS`. Built alone (``ConsumerState(n)``)
    it owns its arrays; :meth:`MarketState.brand` gives views that share the market's.
    """

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


class MarketState(ConsumerState):
    """The arrays of record for a market of ``brands`` brands: a variable with the brand
    axis is a ``(brands, n)`` array (row ``b`` is brand ``b``), the others one entry per
    consumer. :meth:`brand` gives brand ``b``'s :class:`ConsumerState` view, which the
    mechanisms work on."""

    def __init__(self, n: int, brands: int = 1) -> None:
        self.n = n
        self.brands = brands
        for name, var in STATE_VARS.items():
            shape = (brands, n) if var.axes == BRAND else n
            setattr(self, name, np.full(shape, var.fill, dtype=var.dtype))
        self._views = [self._view(b) for b in range(brands)]

    def _view(self, b: int) -> ConsumerState:
        view = ConsumerState.__new__(ConsumerState)
        view.n = self.n
        for name, var in STATE_VARS.items():
            arr = getattr(self, name)
            setattr(view, name, arr[b] if var.axes == BRAND else arr)
        return view

    def brand(self, b: int) -> ConsumerState:
        """Brand ``b``'s view: its rows of the brand variables, the shared consumer ones."""
        return self._views[b]

    def copy(self) -> MarketState:
        other = MarketState.__new__(MarketState)
        other.n, other.brands = self.n, self.brands
        for name, arr in self.arrays().items():
            setattr(other, name, arr.copy())
        other._views = [other._view(b) for b in range(other.brands)]
        return other
