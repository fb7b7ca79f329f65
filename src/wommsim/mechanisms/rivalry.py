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
    """Raise the rivals' opinions among this step's listeners of bad news (each rival's
    from the bad news of all the others, combined, so no brand's order matters)."""
    sides = model.markets
    share = model.config.wom.cross_brand
    if len(sides) < 2 or share == 0:
        return {}
    for rival in sides:
        heard = [side.heard_bad for side in sides
                 if side is not rival and side.heard_bad is not None]
        if not heard:
            continue
        s = rival.state
        who = np.concatenate([listeners for listeners, _ in heard])
        gain = np.concatenate([bad for _, bad in heard]) * share
        if len(heard) > 1:  # bad news of several brands: combine, whatever their order
            who, slot = np.unique(who, return_inverse=True)
            gain = 1.0 - np.exp(np.bincount(slot, np.log1p(-np.minimum(gain, 1.0))))
        open_ = s.aware[who] & ~s.adopted[who]
        who, gain = who[open_], gain[open_]
        s.opinion[who] += gain * (1.0 - s.opinion[who])
        s.opinion_source[who] = WOM
    return {}


MECHANISM = Mechanism(
    name="rivalry", stage=Stage.TALK, step=compare, market=True,
    doc="negative talk about a brand raises its listeners' opinions of the rivals they know "
        "and have not bought (several brands only)",
    writes=("opinion", "opinion_source"),
)
