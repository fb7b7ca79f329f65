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
    "incentives", "wom", "decision", "purchase", "mesa",
)


class Streams:
    """One generator per name in :data:`STREAM_NAMES`, e.g. ``Streams(42, 0).wom``."""

    def __init__(self, seed: int, replicate: int) -> None:
        self.seed = seed
        self.replicate = replicate
        children = np.random.SeedSequence([seed, replicate]).spawn(len(STREAM_NAMES))
        self._generators = {name: np.random.default_rng(child)
                            for name, child in zip(STREAM_NAMES, children, strict=True)}

    def __getattr__(self, name: str) -> np.random.Generator:
        try:
            return self.__dict__["_generators"][name]
        except KeyError:
            raise AttributeError(f"no random stream named {name!r}") from None
