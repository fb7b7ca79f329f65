"""Helpers shared by the mechanisms: edge sampling and bounded opinion updates."""

from __future__ import annotations

import numpy as np


def neighbours_of(indptr: np.ndarray, indices: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """The neighbour lists of ``sources`` in a CSR adjacency, concatenated in source order."""
    starts = indptr[sources].astype(np.int64)
    degree = indptr[sources + 1] - starts
    total = int(degree.sum())
    # Position of each edge in `indices`: its row start plus its rank within the row.
    row_offset = np.repeat(starts - (np.cumsum(degree) - degree), degree)
    return indices[row_offset + np.arange(total, dtype=np.int64)]


def bernoulli_positions(total: int, prob: float, rng: np.random.Generator) -> np.ndarray:
    """The positions in ``[0, total)`` that fire, each independently with ``prob``, in order.

    Draws the geometric gaps between firing positions, so the cost is one draw per
    position that fires (``total × prob`` on average), not one per position.
    """
    if prob <= 0.0 or total == 0:
        return np.empty(0, dtype=np.int64)
    if prob >= 1.0:
        return np.arange(total, dtype=np.int64)
    expected = total * prob
    chunk = int(expected + 4.0 * np.sqrt(expected) + 16.0)  # one chunk almost always suffices
    parts, last = [], -1
    while True:
        positions = last + np.cumsum(rng.geometric(prob, size=chunk))
        if positions[-1] >= total:
            parts.append(positions[: np.searchsorted(positions, total)])
            break
        parts.append(positions)
        last = int(positions[-1])
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def sample_edges(indptr: np.ndarray, indices: np.ndarray, sources: np.ndarray,
                 prob: float, rng: np.random.Generator,
                 edge_source: np.ndarray | None = None, member: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Each edge of each source (distinct consumers, ascending) fires independently with
    probability ``prob``; returns the (source, neighbour) pairs that fired, by source.

    See :func:`fire_edges`, which gives the fired edges' storage positions instead.
    """
    source, position = fire_edges(indptr, sources, prob, rng, edge_source, member)
    return source, indices[position]


def fire_edges(indptr: np.ndarray, sources: np.ndarray, prob: float,
               rng: np.random.Generator, edge_source: np.ndarray | None = None,
               member: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each edge of each source (distinct consumers, ascending) fires independently with
    probability ``prob``; returns the sources and storage positions (in ``indices``) of the
    edges that fired, by source.

    Only the firing edges are drawn (:func:`bernoulli_positions`). With few sources, their
    edges are numbered in one virtual list and each firing position is mapped back to its
    source. With many (a quarter of the consumers or more) and ``edge_source`` given (the
    source of every stored edge, as in :func:`edge_sources`), every stored edge is walked
    once instead and firings from non-sources dropped: the same distribution, no per-source
    work. ``member``, the sources as a boolean mask over consumers, saves building it.
    """
    n = indptr.size - 1
    if edge_source is not None and 4 * sources.size >= n:
        fired = bernoulli_positions(edge_source.size, prob, rng)
        owner = edge_source[fired]
        if member is None:
            member = np.zeros(n, dtype=bool)
            member[sources] = True
        keep = member[owner]
        return owner[keep], fired[keep]
    if sources.size == 0:
        return sources[:0], np.empty(0, dtype=np.int64)
    starts = indptr[sources].astype(np.int64)
    ends = np.cumsum(indptr[sources + 1] - starts)  # end of each source's run in the list
    fired = bernoulli_positions(int(ends[-1]), prob, rng)
    owner = np.searchsorted(ends, fired, side="right")
    run_start = ends[owner] - (indptr[sources[owner] + 1] - starts[owner])
    return sources[owner], starts[owner] + (fired - run_start)


def edge_sources(indptr: np.ndarray) -> np.ndarray:
    """The source (row) of every stored edge of a CSR adjacency, in storage order."""
    n = indptr.size - 1
    dtype = np.int32 if n < 2**31 else np.int64
    return np.repeat(np.arange(n, dtype=dtype), np.diff(indptr))


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


def leftover(money: float, unit_cost: float) -> float:
    """The fraction of a unit ``money`` cannot buy at ``unit_cost``: ``money - affordable
    units × unit_cost``, in [0, unit_cost). A lever carries it to its next step, so a share
    buys the same per consumer at every population size (a lever's 35 a week buys a 100
    piece in two weeks of three, not never)."""
    return max(money - affordable(money, unit_cost) * unit_cost, 0.0)
