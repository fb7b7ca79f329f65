"""Helpers shared by the tests (import them from here, never from a test file or conftest):
small configs composed from the packaged defaults, running a model, the contract columns.
:mod:`tests.helpers.processes` runs commands as a user does and watches their processes;
:mod:`tests.helpers.ui` starts the browser UI's server."""

from __future__ import annotations

from wommsim.compose import compose
from wommsim.config import Config


def small_config(*overrides: str, consumers: int = 500, steps: int = 20) -> Config:
    """The default config at a small size, with Hydra-style overrides (frozen and cached:
    change a copy with ``dataclasses.replace``)."""
    return compose([f"consumers={consumers}", f"steps={steps}", *overrides])


def unfrozen_copy(cfg: Config) -> Config:
    """A deep copy of a validated (frozen) config that a test may change in place, to build
    an invalid one field by field (the program itself changes configs only by replace)."""
    import copy
    import dataclasses

    def thaw(obj):
        if dataclasses.is_dataclass(obj):
            obj.__dict__.pop("_frozen", None)
            obj.__dict__.pop("_brands", None)  # resolved at validation: resolved anew
            for f in dataclasses.fields(obj):
                thaw(getattr(obj, f.name))
        elif isinstance(obj, list | dict):
            for item in obj.values() if isinstance(obj, dict) else obj:
                thaw(item)
        return obj

    return thaw(copy.deepcopy(cfg))


def run_model(cfg: Config, replicate: int = 0, steps: int | None = None):
    from wommsim.model import WommModel

    model = WommModel(cfg, replicate=replicate)
    for _ in range(cfg.steps if steps is None else steps):
        model.step()
    return model


CONTRACT_COLUMNS = (
    "arm", "replicate", "step", "adopted_fraction", "new_adopters", "new_adopters_ads",
    "new_adopters_wom", "aware_fraction", "mean_opinion", "advocates", "detractors",
    "followers", "positive_wom", "negative_wom", "ad_impressions", "content_reach", "reviews",
    "review_score", "spend", "cumulative_spend", "online_sales", "offline_sales",
)
