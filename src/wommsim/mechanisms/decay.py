"""Decay at the end of a step: adstock and hype fade fast, opinions of non-adopters drift to
neutral, the goodwill of the brand's replies fades (see
:func:`wommsim.mechanisms.dialogue.fade`), content loses freshness and audience fatigue wears
off (see :func:`wommsim.mechanisms.content.age` and :func:`wommsim.mechanisms.content.tire`).

Hype, the ad-driven part of an expectation (``hype``, written by
:mod:`wommsim.mechanisms.advertising`), fades at the rate adstock does
(``advertising.retention``, the Koyck carry-over): an expectation keeps ``retention`` of the
hype it holds each step, so ads no longer raise it for good. A buyer's experience has then
tested the claim: this step's buyers drop their hype stock (their expectation is what the
purchase left it, learned from the experience)."""

from __future__ import annotations

import numpy as np

from wommsim.config import AdvertisingConfig, ConsumerConfig
from wommsim.mechanisms.base import Mechanism, Stage
from wommsim.mechanisms.content import age as age_content
from wommsim.mechanisms.content import tire
from wommsim.mechanisms.dialogue import fade as fade_goodwill
from wommsim.state import ConsumerState


def fade(s: ConsumerState, ads: AdvertisingConfig, consumer: ConsumerConfig,
         buyers: np.ndarray | None = None) -> None:
    """Adstock and hype keep ``retention`` of themselves (the expectation loses the hype
    that fades; ``buyers`` drop their hype stock first); non-adopters keep
    ``1 - opinion_decay`` of their opinion."""
    s.adstock *= ads.retention
    if buyers is not None and buyers.size:
        s.hype[buyers] = 0.0
    # Whole-array passes (most consumers hold some hype once ads run): cheaper than
    # gathering the holders.
    faded = s.hype * (1.0 - ads.retention)
    s.hype -= faded
    s.expectation -= faded
    np.clip(s.expectation, -1.0, 1.0, out=s.expectation)
    np.multiply(s.opinion, 1.0 - consumer.opinion_decay, out=s.opinion, where=~s.adopted)


def _step(model, rng: None, money: float) -> dict[str, float]:
    fade(model.state, model.config.advertising, model.config.consumer, model.buyers)
    fade_goodwill(model.state, model.config.dialogue, model.buyers)
    age_content(model.cascades, model.config.content)
    tire(model.state, model.config.content)
    return {}


MECHANISM = Mechanism(
    name="decay", stage=Stage.DECAY, step=_step,
    doc="adstock and hype fade, non-adopters' opinions drift to neutral, reply goodwill "
        "fades, content loses freshness, audience fatigue wears off",
    writes=("adstock", "hype", "expectation", "opinion", "goodwill", "content_fatigue"),
)
