"""Helpers shared by the mechanisms: edge sampling and bounded opinion updates."""

from __future__ import annotations

import numpy as np


def edges_of(indptr: np.ndarray, indices: np.ndarray,
             sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (source, neighbour) pairs of ``sources`` in a CSR adjacency, in one pass."""
    starts = indptr[sources]
    degree = (indptr[sources + 1] - starts).astype(np.int64)
    total = int(degree.sum())
    if total == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    # Position of each edge in `indices`: its row start plus its rank within the row.
    row_offset = np.repeat(starts.astype(np.int64) - (np.cumsum(degree) - degree), degree)
    edge_pos = row_offset + np.arange(total, dtype=np.int64)
    return np.repeat(sources, degree), indices[edge_pos]


def sample_edges(indptr: np.ndarray, indices: np.ndarray, sources: np.ndarray,
                 prob: np.ndarray | float, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Each edge of each source fires independently with the source's probability.

    ``prob`` is a scalar or one probability per source. Returns the (source, neighbour)
    pairs that fired.
    """
    src, dst = edges_of(indptr, indices, sources)
    if src.size == 0:
        return src, dst
    if np.ndim(prob) == 0:
        edge_prob = float(prob)
    else:
        degree = indptr[sources + 1] - indptr[sources]
        edge_prob = np.repeat(prob, degree)
    fired = rng.random(src.size) < edge_prob
    return src[fired], dst[fired]


def warm(opinion: np.ndarray, who: np.ndarray, share: float) -> None:
    """Move the opinion of ``who`` a ``share`` of the way toward +1 (stays in [-1, 1])."""
    opinion[who] += share * (1.0 - opinion[who])


def choose(rng: np.random.Generator, candidates: np.ndarray, k: int) -> np.ndarray:
    """Up to ``k`` distinct candidates drawn uniformly at random (all if fewer)."""
    if k >= candidates.size:
        return candidates
    return rng.choice(candidates, size=k, replace=False)


def bernoulli(rng: np.random.Generator, who: np.ndarray, prob: float) -> np.ndarray:
    """The members of ``who`` for whom an independent coin with ``prob`` comes up."""
    if prob <= 0.0 or who.size == 0:
        return who[:0]
    return who[rng.random(who.size) < prob]


def affordable(money: float, unit_cost: float) -> int:
    """Whole units ``money`` buys at ``unit_cost`` (robust to float error: 100 / 0.01 = 10000)."""
    return int(np.floor(money / unit_cost * (1.0 + 1e-12)))
