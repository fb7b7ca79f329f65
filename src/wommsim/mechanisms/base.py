"""The mechanism protocol: how a rule declares itself to the model.

A mechanism is a set of pure vectorised functions (its module) plus one :class:`Mechanism`
declaration: the config section it reads, the random stream it draws from, the stage of the
step it runs in, the consumer state it writes, the metrics it reports and, if it can trigger
a purchase, its :class:`Influence`. :class:`wommsim.model.WommModel` runs the declared
schedule (:data:`wommsim.mechanisms.SCHEDULE`, in stage order); the per-step columns, the
influence names and labels, the UI's lever list and the documentation checks all derive from
the declarations. ``docs/DEVELOPING.md`` shows how to add one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from wommsim.model import WommModel


class Stage(IntEnum):
    """The stages of a step, in the order they run (``WommModel.step`` documents each)."""

    LEVERS = 1  # the brand's paid levers, each with its share of the step's budget
    TALK = 2  # word of mouth between neighbours
    DECISION = 3  # who buys this step, and the influence credited with each purchase
    PURCHASE = 4  # what a purchase does: experience, satisfaction, reviews, channel
    DECAY = 5  # what fades by the end of the step


#: How a metric adds up over time: a level at the end of the step, a count within the step,
#: or a running total since step 0.
MetricKind = Literal["stock", "flow", "cumulative"]


@dataclass(frozen=True)
class Metric:
    """One column of the per-step table (``timeseries.parquet``). In a market of several
    brands the market's value is the sum of the brands' (``over_brands="sum"``) or their
    mean (``"mean"``, for a level such as a score)."""

    name: str
    kind: MetricKind
    doc: str
    over_brands: Literal["sum", "mean"] = "sum"


@dataclass(frozen=True)
class Influence:
    """Something a purchase can be credited to: column ``new_adopters_<name>``.

    ``code`` is what the consumer arrays ``trigger``, ``aware_source`` and ``opinion_source``
    store; codes run 0, 1, ... in column order and never change meaning (results depend on
    them through the attribution draw).
    """

    code: int
    name: str
    label: str  # for people: figure legends, the UI


#: ``step(model, rng, money) -> metrics``: one step of a mechanism. ``rng`` is its random
#: stream (``None`` if it declares none), ``money`` its share of the step's budget with the
#: fraction of a unit carried from its last step (levers, see ``BrandSide.money``; 0.0 for
#: the rest). It returns its metrics by name; a lever also returns ``spend``.
StepFunction = Callable[["WommModel", "np.random.Generator | None", float],
                        Mapping[str, float]]


@dataclass(frozen=True)
class Mechanism:
    """A rule's declaration.

    - ``name``: its config section (``cfg.<name>``, if the schema has one) and the name a
      lever's budget share has in a strategy (``strategy.<name>``).
    - ``stage``: when it runs; mechanisms of one stage run in schedule order.
    - ``step``: see :data:`StepFunction`.
    - ``stream``: the random stream it draws from (a name in :data:`wommsim.rng.STREAM_NAMES`).
    - ``writes``: the consumer state variables it may change (:data:`wommsim.state.STATE_VARS`).
    - ``metrics``: the columns it reports, from ``step`` or ``report``; one it does not
      report in a step is 0. A lever's ``spend_<name>`` is added for it.
    - ``report``: metrics read from the market at the end of every step (and at step 0), for
      levels that later stages also change.
    - ``influence``: set if it can trigger a purchase.
    - ``lever``: paid from the brand's budget by the strategy's share ``strategy.<name>``.
    - ``recipients``: a lever that pays only for the units it places: who can receive one
      (reports say so when it spends less than its whole units allow); empty for a lever
      that pays for every unit its money buys.
    - ``switch``: what ``<name>.enabled: false`` does to a mechanism that is not a lever
      (a lever switched off runs with no money): ``"skip"``, the model runs ``off`` in its
      place (if given) and its step metrics are 0; ``"inside"``, it runs and reads the flag.
    - ``off``: what the model does in its place when it is switched off.
    - ``market``: it runs once for the whole market (its ``model`` is the
      :class:`~wommsim.model.WommModel`); otherwise once per brand, in brand order, each time
      with that brand's side of the market (:class:`~wommsim.model.BrandSide`: its state
      view, config, money and streams), and its metrics add up over the brands.
    """

    name: str
    stage: Stage
    step: StepFunction
    doc: str
    stream: str | None = None
    writes: tuple[str, ...] = ()
    metrics: tuple[Metric, ...] = ()
    influence: Influence | None = None
    report: Callable[[WommModel], Mapping[str, float]] | None = None
    lever: bool = False
    recipients: str = ""
    switch: Literal["skip", "inside"] = "skip"
    off: Callable[[WommModel], None] | None = None
    market: bool = False

    @property
    def columns(self) -> tuple[Metric, ...]:
        """Its metrics as columns, a lever's ``spend_<name>`` last."""
        if not self.lever:
            return self.metrics
        spend = Metric(f"spend_{self.name}", "flow", f"money spent on {self.name}")
        return (*self.metrics, spend)
