"""The graph every network is stored as: :class:`SocialGraph`, a thin frozen wrapper around a
symmetric ``scipy.sparse.csr_array`` adjacency (no self-loops, no duplicate edges, sorted
column indices, ``float32`` ones as data), and :func:`from_edges`, which makes one from any
list of pairs."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp

from wommsim.config import ConfigError

INT32_MAX = np.iinfo(np.int32).max


class NetworkError(ConfigError):
    """The network cannot be built from the configuration; the message names key and value
    (or the file and line)."""


@dataclass(frozen=True, eq=False)
class SocialGraph:
    """An undirected simple graph on consumers ``0 .. n-1``.

    ``adjacency`` is an ``(n, n)`` symmetric ``csr_array`` without self-loops or duplicate
    entries, with sorted indices, ``float32`` ones as data and ``int32`` index arrays
    (``int64`` when the number of stored entries reaches 2**31, see :func:`adjacency_matrix`).
    ``labels`` holds the original node label of each consumer for graphs read from an
    edge list (``labels[i]`` is the label of consumer ``i``), else ``None``.
    ``strength`` holds the strength of every stored tie, aligned with
    ``adjacency.indices`` and symmetric (``float32`` in [0, 1]: 1 a strong tie, 0 a weak one),
    or ``None`` when every tie is strong; :attr:`tie_strength` reads it either way.
    ``community`` holds the community (personal network, block) of each consumer for the
    generators that plant them (``int32``, length ``n``), else ``None``; seeding reads it
    (:mod:`wommsim.seeding`).

    Equality and hashing are by identity (the fields are arrays).
    """

    adjacency: sp.csr_array
    labels: np.ndarray | None = None
    strength: np.ndarray | None = None
    community: np.ndarray | None = None

    def __post_init__(self) -> None:
        shape = self.adjacency.shape
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"adjacency must be square, got shape {shape}")
        if self.labels is not None and len(self.labels) != shape[0]:
            raise ValueError(f"{len(self.labels)} labels for {shape[0]} nodes")
        if self.strength is not None and self.strength.shape != (self.adjacency.nnz,):
            raise ValueError(f"{self.strength.size} tie strengths for {self.adjacency.nnz} "
                             "stored edges")
        if self.community is not None and self.community.shape != (shape[0],):
            raise ValueError(f"{self.community.size} communities for {shape[0]} nodes")

    @property
    def tie_strength(self) -> np.ndarray:
        """Strength of every stored tie (aligned with ``adjacency.indices``), in [0, 1]: 1 a
        strong tie (inside a personal network), 0 a weak one (between networks)."""
        if self.strength is None:
            return np.ones(self.adjacency.nnz, dtype=np.float32)
        return self.strength

    @property
    def n(self) -> int:
        """Number of consumers (nodes)."""
        return int(self.adjacency.shape[0])

    @property
    def degree(self) -> np.ndarray:
        """Number of neighbours of each consumer (``int32``, length ``n``)."""
        return np.diff(self.adjacency.indptr).astype(np.int32)

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return int(self.adjacency.nnz) // 2


def adjacency_matrix(indptr: np.ndarray, indices: np.ndarray, n: int) -> sp.csr_array:
    """Wrap canonical CSR arrays (sorted, deduplicated) into a ``csr_array``.

    Index arrays are ``int32`` while the entry count fits; otherwise both are ``int64``
    (scipy keeps ``indices`` and ``indptr`` in one common dtype).
    """
    nnz = int(indptr[-1])
    idx_dtype = np.int32 if nnz <= INT32_MAX and n <= INT32_MAX else np.int64
    adjacency = sp.csr_array(
        (np.ones(nnz, dtype=np.float32), indices.astype(idx_dtype, copy=False),
         indptr.astype(idx_dtype, copy=False)),
        shape=(n, n),
    )
    adjacency.has_sorted_indices = True
    adjacency.has_canonical_format = True
    return adjacency






def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort + adjacent compare; faster than ``np.unique`` here)."""
    values = np.sort(values)
    if values.size > 1:
        keep = np.empty(values.size, dtype=bool)
        keep[0] = True
        np.not_equal(values[1:], values[:-1], out=keep[1:])
        values = values[keep]
    return values


def from_edges(src: np.ndarray, dst: np.ndarray, n: int,
               strength: np.ndarray | None = None) -> SocialGraph:
    """Build a :class:`SocialGraph` on ``n`` nodes from edge endpoint arrays.

    Edges are taken as undirected (symmetrised), self-loops are dropped and duplicate edges
    (in either direction) merged. Endpoints must be integers in ``[0, n)``. ``strength``
    (one value in [0, 1] per edge, optional) becomes the graph's tie strength; a duplicate
    edge keeps its strongest record (a tie that is strong in one record is strong).
    """
    src = np.asarray(src)
    dst = np.asarray(dst)
    n = int(n)
    if n < 0:
        raise ValueError(f"n={n}: must be non-negative")
    if src.shape != dst.shape or src.ndim != 1:
        raise ValueError(f"src and dst must be 1-D of equal length, got {src.shape} and "
                         f"{dst.shape}")
    if src.size and not (np.issubdtype(src.dtype, np.integer)
                         and np.issubdtype(dst.dtype, np.integer)):
        raise ValueError("src and dst must hold integer node ids")
    a = src.astype(np.int64, copy=False)
    b = dst.astype(np.int64, copy=False)
    if a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n):
        raise ValueError(f"node ids must lie in [0, {n})")
    if strength is not None:
        strength = np.asarray(strength, dtype=np.float32)
        if strength.shape != a.shape:
            raise ValueError(f"{strength.size} strengths for {a.size} edges")
    loop = a == b
    if loop.any():
        a, b = a[~loop], b[~loop]
        strength = None if strength is None else strength[~loop]
    # key = row * n + col fits in int64 for n < 3.03e9
    keys = np.concatenate([a * n + b, b * n + a])
    tie = None
    if strength is None:
        keys = sorted_unique(keys)
    else:  # sort by key, strongest first within a key, and keep the first of each key
        both = np.concatenate([strength, strength])
        order = np.lexsort((-both, keys))
        keys, both = keys[order], both[order]
        first = np.ones(keys.size, dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        keys, tie = keys[first], both[first]
    if n:
        rows = keys // n
        cols = keys - rows * n
    else:
        rows = cols = keys
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return SocialGraph(adjacency_matrix(indptr, cols, n), strength=tie)


def marked_by_community(graph: SocialGraph, community: np.ndarray) -> SocialGraph:
    """``graph`` with its communities and its ties marked: strong (1) between members of one
    community, weak (0) between communities (Goldenberg, Libai & Muller 2001: strong ties
    inside personal networks, weak ties between them). With one community (every tie
    strong) the strength stays ``None``. One pass over the stored entries, no loop."""
    community = np.asarray(community).astype(np.int32, copy=False)
    strength = None
    if graph.adjacency.nnz and community.size and community.min() != community.max():
        rows = np.repeat(community, np.diff(graph.adjacency.indptr))
        strength = (rows == community[graph.adjacency.indices]).astype(np.float32)
    return SocialGraph(graph.adjacency, graph.labels, strength, community)


def to_networkx(graph: SocialGraph) -> nx.Graph:
    """The graph as a ``networkx.Graph`` with nodes ``0 .. n-1`` (isolated ones included).

    Edge-list graphs carry their original labels as the node attribute ``"label"``.
    """
    adjacency = graph.adjacency
    rows = np.repeat(np.arange(graph.n, dtype=np.int64), np.diff(adjacency.indptr))
    cols = adjacency.indices.astype(np.int64)
    upper = cols > rows
    g = nx.Graph()
    g.add_nodes_from(range(graph.n))
    g.add_edges_from(zip(rows[upper].tolist(), cols[upper].tolist(), strict=True))
    if graph.labels is not None:
        nx.set_node_attributes(g, dict(enumerate(graph.labels.tolist())), "label")
    if graph.strength is not None:
        pairs = zip(rows[upper].tolist(), cols[upper].tolist(), strict=True)
        nx.set_edge_attributes(g, dict(zip(pairs, graph.strength[upper].tolist(),
                                           strict=True)), "strength")
    return g
