"""Network layouts for the UI: computed once per (network, consumers, seed), seeded, cached.

Mesa's ``SpaceRenderer`` would run an unseeded ``networkx.spring_layout`` of the whole
graph on every Reset (5 s at 1,000 nodes, 73 s at 5,000). Here the layout is a vectorised
Fruchterman–Reingold (dense NumPy arrays, no Python loop over nodes) of at most
:data:`MAX_DRAWN` consumers, seeded from the model's seed, and kept in a small cache keyed
by the network's configuration, the population and the seed, so that every frame, every
Reset with the same network and both models of the comparison page reuse it. Networks are
cached under the same key, so a Reset that changes only a strategy or a lever rebuilds the
model but not its network (the network depends only on that key, so it is the same graph
the model would build).

Above :data:`MAX_DRAWN` consumers the view draws a seeded sample of them: random consumers
with their neighbours (:func:`ego_sample`), and the edges among them; the model, its plots
and the legend's percentages still cover everyone.

Measured on the project's 2-core machine (Barabási–Albert, m = 4): this layout takes
0.04 s at 500 consumers and 0.9 s at 2,000; ``networkx.spring_layout`` with its default 50
iterations took 1.1 s and 8.5 s.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from wommsim.config import Config
from wommsim.network import SocialGraph, build_network
from wommsim.rng import Streams

#: Most consumers the network view draws; above this it draws a sample.
MAX_DRAWN = 2_000
#: Most edges drawn (and used by the layout); above this a random subset of them.
MAX_EDGES = 20_000
#: Fruchterman–Reingold iterations.
ITERATIONS = 60
#: Salt for the layout's random stream (kept apart from the model's streams).
LAYOUT_SALT = 0x1A70


class _LRU:
    """A small thread-safe cache that computes each missing key once."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # one computation per key, other keys proceed
            with self._lock:
                if key in self._items:
                    return self._items[key]
            value = make()
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
                self._key_locks.pop(key, None)
            return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_graphs = _LRU(8)
_layouts = _LRU(16)


def network_key(cfg: Config, replicate: int = 0) -> tuple:
    """What the network depends on: its configuration, the population, seed and replicate."""
    return (tuple(sorted(dataclasses.asdict(cfg.network).items())), cfg.consumers, cfg.seed,
            replicate)


def cached_graph(cfg: Config, replicate: int = 0) -> SocialGraph:
    """The network a model with this config and replicate builds, built once per key."""
    return _graphs.get(network_key(cfg, replicate),
                       lambda: build_network(cfg.network, cfg.consumers,
                                             Streams(cfg.seed, replicate).network))


@dataclass(frozen=True, eq=False)
class DrawnNetwork:
    """What the network view draws: which consumers, where, and which edges."""

    key: tuple
    nodes: np.ndarray  # consumer indices drawn, sorted
    pos: np.ndarray  # (len(nodes), 2) positions in [0, 1]
    segments: np.ndarray  # (edges drawn, 2, 2) edge end points
    n_total: int  # consumers in the model
    edges_total: int  # edges among the drawn consumers
    seconds: float  # time the layout took

    @property
    def sampled(self) -> bool:
        return self.nodes.size < self.n_total

    @property
    def edges_sampled(self) -> bool:
        return self.segments.shape[0] < self.edges_total


def drawn_network(cfg: Config, graph: SocialGraph, replicate: int = 0) -> DrawnNetwork:
    """The cached sample and layout for this network (computed on first use)."""
    key = network_key(cfg, replicate)
    if graph.n != cfg.consumers and cfg.network.kind != "edgelist":
        raise ValueError("the graph does not match the config")
    return _layouts.get(key, lambda: _compute(key, graph, cfg.seed, replicate))


def _compute(key: tuple, graph: SocialGraph, seed: int, replicate: int) -> DrawnNetwork:
    import time

    start = time.perf_counter()
    rng = np.random.default_rng([seed, replicate, LAYOUT_SALT])
    n = graph.n
    if n > MAX_DRAWN:
        nodes = ego_sample(graph, MAX_DRAWN, rng)
        sub = graph.adjacency[nodes][:, nodes]
    else:
        nodes = np.arange(n)
        sub = graph.adjacency
    upper = sp.triu(sp.csr_array(sub), k=1).tocoo()
    rows, cols = upper.row.astype(np.int64), upper.col.astype(np.int64)
    edges_total = rows.size
    if edges_total > MAX_EDGES:
        keep = np.sort(rng.choice(edges_total, size=MAX_EDGES, replace=False))
        rows, cols = rows[keep], cols[keep]
    pos = fruchterman_reingold(nodes.size, rows, cols, rng)
    segments = np.stack([pos[rows], pos[cols]], axis=1)
    return DrawnNetwork(key, nodes, pos, segments, n, edges_total,
                        time.perf_counter() - start)


def ego_sample(graph: SocialGraph, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` consumers: random consumers, each with its neighbours, until full (sorted).

    Whole neighbourhoods keep the local structure that word of mouth travels along (a
    uniform sample of a sparse network is mostly isolated dots); the last neighbourhood
    is cut at random to fit.
    """
    indptr, indices = graph.adjacency.indptr, graph.adjacency.indices
    chosen = np.zeros(graph.n, dtype=bool)
    count = 0
    for ego in rng.permutation(graph.n):
        group = np.concatenate(([ego], indices[indptr[ego]:indptr[ego + 1]]))
        group = group[~chosen[group]]
        if group.size == 0:
            continue
        room = size - count
        if group.size > room:
            group = rng.choice(group, size=room, replace=False)
        chosen[group] = True
        count += group.size
        if count >= size:
            break
    return np.flatnonzero(chosen)


def fruchterman_reingold(n: int, rows: np.ndarray, cols: np.ndarray,
                         rng: np.random.Generator, iterations: int = ITERATIONS) -> np.ndarray:
    """Force-directed positions in [0, 1]² for ``n`` nodes with edges ``rows``–``cols``.

    Fruchterman & Reingold (1991) as in ``networkx.spring_layout``: repulsion k²/d between
    every pair (dense n × n arrays, float32), attraction d²/k along edges, a linearly
    cooling step cap. Seeded by ``rng``: the same input gives the same positions. At 2,000
    nodes about a second; memory about 5 n² × 4 bytes.
    """
    if n == 0:
        return np.zeros((0, 2))
    pos = rng.random((n, 2)).astype(np.float32)
    if n == 1:
        return np.full((1, 2), 0.5)
    k2 = np.float32(1.0 / n)
    k = np.sqrt(k2)
    temperature = 0.1
    cooling = temperature / (iterations + 1)
    for _ in range(iterations):
        x, y = pos[:, 0], pos[:, 1]
        dx = x[:, None] - x[None, :]
        dy = y[:, None] - y[None, :]
        d2 = np.multiply(dx, dx, out=dx)
        d2 += np.multiply(dy, dy, out=dy)
        np.maximum(d2, np.float32(1e-6), out=d2)
        repulsion = np.divide(k2, d2, out=d2)  # k²/d along the unit vector = k² Δ / d²
        disp = pos * repulsion.sum(axis=1)[:, None] - repulsion @ pos
        if rows.size:
            delta = pos[rows] - pos[cols]
            pull = delta * (np.sqrt((delta * delta).sum(axis=1)) / k)[:, None]  # d²/k
            for axis in (0, 1):
                disp[:, axis] -= np.bincount(rows, pull[:, axis], minlength=n)
                disp[:, axis] += np.bincount(cols, pull[:, axis], minlength=n)
        length = np.sqrt((disp * disp).sum(axis=1))
        np.maximum(length, 1e-9, out=length)
        pos += (disp * (np.minimum(length, temperature) / length)[:, None]).astype(np.float32)
        temperature -= cooling
    pos = pos.astype(np.float64)
    pos -= pos.min(axis=0)
    span = float(pos.max()) or 1.0
    pos /= span  # one scale for both axes: the picture keeps its shape
    pos += (1.0 - pos.max(axis=0)) / 2  # centred in the unit square
    return pos


def clear_caches() -> None:
    _graphs.clear()
    _layouts.clear()
