"""Consumers as Mesa agents whose attributes are views of the model's state arrays.

``consumer.opinion`` reads ``model.state.opinion[..., consumer.index]`` (the one brand's value,
or a tuple with one per brand) and assignment writes it,
so Mesa's DataCollector, SolaraViz and user code see ordinary agents while the model's rules
stay vectorised. Attributes are generated from :data:`wommsim.state.STATE_VARS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa.discrete_space import FixedAgent, Network

from wommsim.network import to_networkx
from wommsim.state import STATE_VARS

if TYPE_CHECKING:
    from wommsim.model import WommModel


class Consumer(FixedAgent):
    """One consumer, placed on its node of the social network."""

    def __init__(self, model: WommModel, index: int, cell) -> None:
        super().__init__(model)
        self.index = index
        self.cell = cell


def _state_property(name: str, doc: str) -> property:
    # A variable with the brand axis is one value in a one-brand market and a tuple (one per
    # brand, in market.brands order) in a market of several.
    def get(self: Consumer):
        values = getattr(self.model.state, name)[..., self.index]
        return values.item() if values.size == 1 else tuple(values.tolist())

    def set_(self: Consumer, value) -> None:
        getattr(self.model.state, name)[..., self.index] = value

    return property(get, set_, doc=doc)


for _name, _var in STATE_VARS.items():
    setattr(Consumer, _name, _state_property(_name, _var.doc))


def place_consumers(model: WommModel, layout=None) -> Network:
    """Build Mesa's network space from the model's graph and put one Consumer on each node.

    ``layout`` is ``None`` (no positions: no unseeded spring layout is ever computed) or a
    mapping of node to (x, y) precomputed by the caller.
    """
    space = Network(to_networkx(model.graph), random=model.random, layout=layout)
    cells = [space[i] for i in range(model.n)]
    Consumer.create_agents(model, model.n, np.arange(model.n), cells)
    return space
