"""Decay at the end of a step: adstock fades fast, opinions of non-adopters drift to neutral,
the goodwill of the brand's replies fades (see :func:`wommsim.mechanisms.dialogue.fade`),
content loses freshness and audience fatigue wears off (see
:func:`wommsim.mechanisms.content.age` and :func:`wommsim.mechanisms.content.tire`)."""

from __future__ import annotations

import numpy as np

from wommsim.config import AdvertisingConfig, ConsumerConfig
from wommsim.mechanisms.base import Mechanism, Stage
from wommsim.mechanisms.content import age as age_content
from wommsim.mechanisms.content import tire
from wommsim.mechanisms.dialogue import fade as fade_goodwill
from wommsim.state import ConsumerState


def fade(s: ConsumerState, ads: AdvertisingConfig, consumer: ConsumerConfig) -> None:
    """Adstock keeps ``retention`` of itself; non-adopters keep ``1 - opinion_decay``."""
    s.adstock *= ads.retention
    np.multiply(s.opinion, 1.0 - consumer.opinion_decay, out=s.opinion, where=~s.adopted)


def _step(model, rng: None, money: float) -> dict[str, float]:
    fade(model.state, model.config.advertising, model.config.consumer)
    fade_goodwill(model.state, model.config.dialogue, model.buyers)
    age_content(model.cascades, model.config.content)
    tire(model.state, model.config.content)
    return {}


MECHANISM = Mechanism(
    name="decay", stage=Stage.DECAY, step=_step,
    doc="adstock fades, non-adopters' opinions drift to neutral, reply goodwill fades, "
        "content loses freshness, audience fatigue wears off",
    writes=("adstock", "opinion", "goodwill", "content_fatigue"),
)
