"""The model as the UI builds it: the same :class:`~wommsim.model.WommModel`, with the
network and the composed configuration cached.

The pages build a model by calling its class with the settings as keywords (as Mesa's
SolaraViz does on Reset), so :class:`UiModel` takes exactly the model's keywords
(``section__key=value``, ``strategy=``, ``network=``, ``seed=``), checks them against the
controls' ranges, and reuses the network of an earlier model with the same network,
population and seed (it is the same graph the model would build: the network depends on
nothing else).
"""

from __future__ import annotations

from typing import Any

from wommsim.compose import compose_from_kwargs
from wommsim.config import Config
from wommsim.model import WommModel
from wommsim.network import SocialGraph
from wommsim.runs.memory import check_memory
from wommsim.ui import params
from wommsim.ui.layout import DrawnNetwork, cached_graph, drawn_network


def ui_config(warnings: list[str] | None = None, **kwargs: Any) -> Config:
    """The validated config for these model keywords.

    The UI's controls are converted and range-checked (e.g. the seed typed as text); a
    value that fails is replaced by the control's default and explained in ``warnings``
    (if given, else it raises ``ValueError``), so a typo cannot break the page. Only the
    controls can be set: any other keyword (say ``network__path``, which would make the
    server read a file) is dropped with a warning, or refused, as is a setting of a brand
    the chosen market does not have (``market__brands__a__strategy`` with
    ``market=monopoly``: it would add that brand to the market).
    """
    by_keyword = {c.keyword: c for c in (*params.controls(), *params.brand_controls())}
    clean = {}
    for key, value in kwargs.items():
        control = by_keyword.get(key)
        if control is None:
            message = f"{key.replace('__', '.')}: not a control of this page; ignored"
            if warnings is None:
                raise ValueError(message)
            warnings.append(message)
            continue
        try:
            clean[key] = params.coerce(control, value)
        except ValueError as err:
            if warnings is None:
                raise
            clean[key] = control.value
            warnings.append(f"{err}; using {control.value}")
    market = clean.get("market", params.control("market").value)
    theirs = {c.keyword for c in params.brand_controls_of(market)}
    for key in [k for k in clean if k.startswith("market__brands__") and k not in theirs]:
        # another market's brand: setting it would add a brand to this market
        message = f"{key.replace('__', '.')}: not a brand of market {market}; ignored"
        if warnings is None:
            raise ValueError(message)
        warnings.append(message)
        del clean[key]
    return compose_from_kwargs(dict(sorted(clean.items())))


class UiModel(WommModel):
    """:class:`~wommsim.model.WommModel` with a cached network; same keywords, same results."""

    def __init__(self, config: Config | None = None, *, replicate: int = 0,
                 graph: SocialGraph | None = None, scenario: Any = None,
                 **kwargs: Any) -> None:
        # Mesa's SolaraViz passes a fresh ``Scenario`` on Reset (Mesa makes one for every
        # model): accepted, so SolaraViz can drive this model; the seed and every
        # parameter come from the config instead.
        del scenario
        #: Control values that were refused (and replaced by their default) at build time.
        self.ui_warnings: list[str] = []
        if config is None:
            config = ui_config(self.ui_warnings, **kwargs)
        elif kwargs:
            raise TypeError("pass either a Config or keyword overrides, not both")
        if graph is None:
            check_memory([config], workers=1)  # before building: refuse what will not fit
            graph = cached_graph(config, replicate)
        super().__init__(config, replicate=replicate, graph=graph)

    @property
    def drawn(self) -> DrawnNetwork:
        """The (cached) sample and layout the network view draws."""
        return drawn_network(self.config, self.graph, self.replicate)


def initial_kwargs(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The controls' defaults with ``overrides`` (model keywords) applied."""
    return {**params.defaults(), **(overrides or {})}
