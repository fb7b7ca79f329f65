"""Shared helpers: small configs composed from the packaged defaults."""

from __future__ import annotations

import functools

import pytest

from wommsim.compose import compose
from wommsim.config import Config


@functools.lru_cache(maxsize=256)
def _composed(overrides: tuple[str, ...]) -> Config:
    return compose(list(overrides))


def small_config(*overrides: str, consumers: int = 500, steps: int = 20) -> Config:
    """The default config at a small size, with Hydra-style overrides (a fresh copy)."""
    import copy

    return copy.deepcopy(_composed((f"consumers={consumers}", f"steps={steps}", *overrides)))


def run_model(cfg: Config, replicate: int = 0, steps: int | None = None):
    from wommsim.model import WommModel

    model = WommModel(cfg, replicate=replicate)
    for _ in range(cfg.steps if steps is None else steps):
        model.step()
    return model


@pytest.fixture
def tiny():
    return small_config
