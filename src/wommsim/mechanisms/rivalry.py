"""Talk across brands: bad news of one brand is good news for its rivals.

Word of mouth is about one brand at a time (:mod:`wommsim.mechanisms.wom`); in a market of
several brands it also crosses brands (Libai, Muller & Peres 2009, "The role of within-brand
and cross-brand communications in competitive growth", *J. Marketing* 73(3):19–34: talk
about one brand moves consumers' choices among its rivals). A consumer who heard negative
talk about a brand this step moves its opinion of every rival it knows and has not bought
toward +1 by ``wom.cross_brand`` times the negative share of the talk it heard (the
comparison the bad news invites). Assumption: the size of the effect (``cross_brand``,
plausible range 0–0.5); its direction is the source's.
"""

from __future__ import annotations

import numpy as np

from wommsim.mechanisms.base import Mechanism, Stage
from wommsim.mechanisms.wom import WOM


def compare(model, rng: None, money: float) -> dict[str, float]:
    """Raise the rivals' opinions among this step's listeners of bad news (all from the
    opinions every brand's talk left, so no brand's order matters)."""
    sides = model.markets
    share = model.config.wom.cross_brand
    if len(sides) < 2 or share == 0:
        return {}
    rises = []
    for side in sides:
        if side.heard_bad is None:
            continue
        listeners, bad = side.heard_bad
        for rival in sides:
            if rival is side:
                continue
            s = rival.state
            open_ = s.aware[listeners] & ~s.adopted[listeners]
            rises.append((rival, listeners[open_], share * bad[open_]))
    for rival, who, gain in rises:  # after every read: the same whatever the brands' order
        s = rival.state
        np.add.at(s.opinion, who, gain * (1.0 - s.opinion[who]))
        np.minimum(s.opinion, 1.0, out=s.opinion)
        s.opinion_source[who] = WOM
    return {}


MECHANISM = Mechanism(
    name="rivalry", stage=Stage.TALK, step=compare, market=True,
    doc="negative talk about a brand raises its listeners' opinions of the rivals they know "
        "and have not bought (several brands only)",
    writes=("opinion", "opinion_source"),
)
