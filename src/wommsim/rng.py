"""Named random streams derived from ``SeedSequence([seed, replicate])``.

Each purpose gets its own ``numpy.random.Generator``, so that switching one mechanism off
does not shift the random numbers another mechanism sees, and every arm of a replicate
draws the same network and the same consumers (a paired design). The order of
:data:`STREAM_NAMES` is part of the reproducibility contract: add new names at the end.
The global NumPy and ``random`` states are never used.
"""

from __future__ import annotations

import numpy as np

STREAM_NAMES: tuple[str, ...] = (
    "network", "consumers", "advertising", "dialogue", "content", "reviews",
    "incentives", "wom", "decision", "purchase", "mesa", "category",
    "followers",
)


class Streams:
    """One generator per name in :data:`STREAM_NAMES`, e.g. ``Streams(42, 0).wom``.

    Each brand of a market draws its own rules' numbers from its own streams: brand 0 from
    ``SeedSequence([seed, replicate])``, brand ``b`` from ``SeedSequence([seed, replicate,
    b])``; so brands that swap places swap their draws, and a brand's draws do not depend on
    the others'."""

    def __init__(self, seed: int, replicate: int, brand: int = 0) -> None:
        self.seed = seed
        self.replicate = replicate
        key = [seed, replicate] if brand == 0 else [seed, replicate, brand]
        children = np.random.SeedSequence(key).spawn(len(STREAM_NAMES))
        self._generators = {name: np.random.default_rng(child)
                            for name, child in zip(STREAM_NAMES, children, strict=True)}

    def __getattr__(self, name: str) -> np.random.Generator:
        try:
            return self.__dict__["_generators"][name]
        except KeyError:
            raise AttributeError(f"no random stream named {name!r}") from None
