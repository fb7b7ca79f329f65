"""The social graph the consumers talk over: generators, an edge-list loader and helpers.

Every graph is stored as a :class:`SocialGraph`, a thin frozen wrapper around a symmetric
``scipy.sparse.csr_array`` adjacency matrix (no self-loops, no duplicate edges, sorted
column indices, ``float32`` ones as data). :func:`build_network` dispatches on
``NetworkConfig.kind``:

========================  ==================================================================
``barabasi_albert``       preferential attachment (Barabási & Albert 1999), same law as
                          ``networkx.barabasi_albert_graph``
``watts_strogatz``        rewired ring lattice (Watts & Strogatz 1998)
``erdos_renyi``           G(n, p) (Erdős & Rényi 1959; Gilbert 1959), sparse sampler
``stochastic_block``      planted communities (Holland, Laskey & Leinhardt 1983)
``complete``              everybody knows everybody
``edgelist``              a file of node-label pairs
========================  ==================================================================

All generators draw their randomness only from the ``numpy.random.Generator`` passed in,
so the same seed gives the identical graph. None of them loops in Python over nodes or
edges, except the rare duplicate-target repairs of the Barabási–Albert generator and the
line-by-line pass that locates an error in an edge-list file.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from wommsim.config import NETWORK_KINDS, ConfigError, NetworkConfig, input_file_problem

__all__ = [
    "NETWORKS",
    "NetworkError",
    "NetworkKind",
    "SocialGraph",
    "block_of",
    "block_sizes",
    "build_network",
    "check_network",
    "decode_pair_index",
    "from_edges",
    "to_networkx",
]

logger = logging.getLogger(__name__)

_INT32_MAX = np.iinfo(np.int32).max
#: Watts–Strogatz: rounds of re-drawing rewired endpoints that collide before giving up.
WS_REWIRE_ROUNDS = 10


class NetworkError(ConfigError):
    """The network cannot be built from the configuration; the message names key and value
    (or the file and line)."""


@dataclass(frozen=True, eq=False)
class SocialGraph:
    """An undirected simple graph on consumers ``0 .. n-1``.

    ``adjacency`` is an ``(n, n)`` symmetric ``csr_array`` without self-loops or duplicate
    entries, with sorted indices, ``float32`` ones as data and ``int32`` index arrays
    (``int64`` when the number of stored entries reaches 2**31, see :func:`_csr`).
    ``labels`` holds the original node label of each consumer for graphs read from an
    edge list (``labels[i]`` is the label of consumer ``i``), else ``None``.

    Equality and hashing are by identity (the fields are arrays).
    """

    adjacency: sp.csr_array
    labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        shape = self.adjacency.shape
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"adjacency must be square, got shape {shape}")
        if self.labels is not None and len(self.labels) != shape[0]:
            raise ValueError(f"{len(self.labels)} labels for {shape[0]} nodes")

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


# --------------------------------------------------------------------------------------
# Construction helpers
# --------------------------------------------------------------------------------------

def _csr(indptr: np.ndarray, indices: np.ndarray, n: int) -> sp.csr_array:
    """Wrap canonical CSR arrays (sorted, deduplicated) into a ``csr_array``.

    Index arrays are ``int32`` while the entry count fits; otherwise both are ``int64``
    (scipy keeps ``indices`` and ``indptr`` in one common dtype).
    """
    nnz = int(indptr[-1])
    idx_dtype = np.int32 if nnz <= _INT32_MAX and n <= _INT32_MAX else np.int64
    adjacency = sp.csr_array(
        (np.ones(nnz, dtype=np.float32), indices.astype(idx_dtype, copy=False),
         indptr.astype(idx_dtype, copy=False)),
        shape=(n, n),
    )
    adjacency.has_sorted_indices = True
    adjacency.has_canonical_format = True
    return adjacency


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort + adjacent compare; faster than ``np.unique`` here)."""
    values = np.sort(values)
    if values.size > 1:
        keep = np.empty(values.size, dtype=bool)
        keep[0] = True
        np.not_equal(values[1:], values[:-1], out=keep[1:])
        values = values[keep]
    return values


def _in_sorted(values: np.ndarray, sorted_ref: np.ndarray) -> np.ndarray:
    """Boolean mask: which ``values`` occur in the sorted array ``sorted_ref``."""
    if sorted_ref.size == 0:
        return np.zeros(values.shape, dtype=bool)
    pos = np.searchsorted(sorted_ref, values)
    pos[pos == sorted_ref.size] = 0
    return sorted_ref[pos] == values


def from_edges(src: np.ndarray, dst: np.ndarray, n: int) -> SocialGraph:
    """Build a :class:`SocialGraph` on ``n`` nodes from edge endpoint arrays.

    Edges are taken as undirected (symmetrised), self-loops are dropped and duplicate edges
    (in either direction) merged. Endpoints must be integers in ``[0, n)``.
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
    loop = a == b
    if loop.any():
        a, b = a[~loop], b[~loop]
    # key = row * n + col fits in int64 for n < 3.03e9
    keys = np.concatenate([a * n + b, b * n + a])
    keys = _sorted_unique(keys)
    if n:
        rows = keys // n
        cols = keys - rows * n
    else:
        rows = cols = keys
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return SocialGraph(_csr(indptr, cols, n))


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
    return g


# --------------------------------------------------------------------------------------
# Sparse sampling of pairs
# --------------------------------------------------------------------------------------

def decode_pair_index(index: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Map pair indices in ``[0, n(n-1)/2)`` to pairs ``(i, j)``, ``i < j``.

    The order is lexicographic, i.e. that of ``itertools.combinations(range(n), 2)``.
    Exact for every ``n`` below 3e9: a float estimate is corrected in integer arithmetic.
    """
    index = np.asarray(index, dtype=np.int64)
    total = n * (n - 1) // 2
    # Reverse lexicographic index r = total-1-k is the co-lexicographic index of the pair
    # (b, a) = (n-1-j, n-1-i), b < a: r = a(a-1)/2 + b.
    r = np.int64(total - 1) - index
    a = np.floor((1.0 + np.sqrt(1.0 + 8.0 * r.astype(np.float64))) / 2.0).astype(np.int64)
    for _ in range(8):  # float error is at most one or two steps
        too_big = a * (a - 1) // 2 > r
        too_small = (a + 1) * a // 2 <= r
        if not (too_big.any() or too_small.any()):
            break
        a -= too_big
        a += too_small
    else:  # pragma: no cover - cannot happen for n < 3e9
        raise AssertionError("pair decoding did not converge")
    b = r - a * (a - 1) // 2
    return n - 1 - a, n - 1 - b


def _distinct_uniform(rng: np.random.Generator, total: int, count: int) -> np.ndarray:
    """A uniformly random ``count``-subset of ``[0, total)``, sorted (int64).

    Draws i.i.d. indices until ``count`` distinct ones are found (never overshooting, so the
    subset is exactly uniform); takes the complement when ``count > total / 2``.
    """
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    if 2 * count > total:
        drop = _distinct_uniform(rng, total, total - count)
        mask = np.ones(total, dtype=bool)
        mask[drop] = False
        return np.flatnonzero(mask).astype(np.int64)
    got = np.empty(0, dtype=np.int64)
    while got.size < count:
        draw = rng.integers(0, total, size=count - got.size, dtype=np.int64)
        got = _sorted_unique(np.concatenate([got, draw]))
    return got


def _bernoulli_subset(rng: np.random.Generator, total: int, p: float) -> np.ndarray:
    """Indices in ``[0, total)`` each kept independently with probability ``p`` (sorted).

    The count is drawn from Binomial(total, p), then that many distinct indices uniformly:
    time and memory scale with the number kept, not with ``total``.
    """
    if total <= 0 or p <= 0.0:
        return np.empty(0, dtype=np.int64)
    if p >= 1.0:
        return np.arange(total, dtype=np.int64)
    count = int(rng.binomial(total, p))
    return _distinct_uniform(rng, total, count)


# --------------------------------------------------------------------------------------
# Generators
# --------------------------------------------------------------------------------------

def _barabasi_albert(n: int, m: int, rng: np.random.Generator) -> SocialGraph:
    """Preferential attachment (Barabási & Albert 1999), the law of networkx's generator.

    As in ``networkx.barabasi_albert_graph`` (3.x): start from a star on ``m + 1`` nodes
    (centre 0); each further node ``t`` draws from the list of edge endpoints so far
    (node ``v`` appears ``degree(v)`` times) until it has ``m`` distinct targets. The result
    has ``m * (n - m)`` edges.

    Implementation (after Batagelj & Brandes 2005): the endpoint list is the implicit
    array ``[src_0, dst_0, src_1, dst_1, ...]``. All draws are slot positions made up
    front in one vectorised call; a slot holding a source is known arithmetically, and a
    slot holding an earlier target is a pointer to that edge, resolved by vectorised
    pointer jumping. Nodes whose ``m`` draws hit a node twice take further draws from
    their own i.i.d. stream (first ``m`` distinct values win, exactly as networkx's
    rejection loop); as a repair can change later nodes' targets, resolution is repeated
    until nothing changes, which gives exactly the sequential process for those draws.
    """
    new = n - m - 1  # nodes added after the star
    star_src = np.zeros(m, dtype=np.int64)
    star_dst = np.arange(1, m + 1, dtype=np.int64)
    if new == 0:
        return from_edges(star_src, star_dst, n)
    nodes = np.arange(m + 1, n, dtype=np.int64)
    pool = 2 * m * (nodes - m)  # endpoint-list length when node t arrives
    draws = rng.integers(0, pool[:, None], size=(new, m), dtype=np.int64)
    chosen = draws.copy()  # slot chosen for each new edge
    streams: dict[int, list[int]] = {}  # extra draws of nodes that needed repairs

    def slot_source(edge: np.ndarray) -> np.ndarray:
        # source node of (global) edge indices; star edges have source 0
        return np.where(edge < m, 0, m + 1 + (edge - m) // m)

    iterations = 0
    while True:
        iterations += 1
        slots = chosen.ravel()
        edge = slots // 2
        is_target = (slots % 2 == 1) & (edge >= m)
        value = np.where(slots % 2 == 0, slot_source(edge), edge + 1)
        value[is_target] = -1
        ptr = np.where(is_target, edge - m, -1)  # index into the new edges
        pending = np.flatnonzero(is_target)
        while pending.size:  # pointer jumping: chains halve every pass
            p = ptr[pending]
            vp = value[p]
            done = vp >= 0
            value[pending[done]] = vp[done]
            pending = pending[~done]
            ptr[pending] = ptr[p[~done]]

        def slot_value(slot: int, value: np.ndarray = value) -> int:
            e = slot // 2
            if slot % 2 == 0:
                return 0 if e < m else m + 1 + (e - m) // m
            return e + 1 if e < m else int(value[e - m])

        rows: set[int] = set(streams)
        if 1 < m <= 8:  # pairwise comparisons beat a row sort for small m
            targets = value.reshape(new, m)
            dup = np.zeros(new, dtype=bool)
            for a in range(m - 1):
                for b in range(a + 1, m):
                    dup |= targets[:, a] == targets[:, b]
            rows.update(np.flatnonzero(dup).tolist())
        elif m > 8:
            targets = np.sort(value.reshape(new, m), axis=1)
            rows.update(np.flatnonzero((targets[:, 1:] == targets[:, :-1]).any(axis=1))
                        .tolist())
        changed = False
        for row in sorted(rows):  # rare: mostly among the first nodes
            stream = draws[row].tolist()
            extra = streams.setdefault(row, [])
            stream.extend(extra)
            seen: set[int] = set()
            pick: list[int] = []
            i = 0
            while len(pick) < m:
                if i == len(stream):
                    slot = int(rng.integers(0, pool[row]))
                    extra.append(slot)
                    stream.append(slot)
                v = slot_value(stream[i])
                if v not in seen:
                    seen.add(v)
                    pick.append(stream[i])
                i += 1
            if pick != chosen[row].tolist():
                chosen[row] = pick
                changed = True
        if not changed:
            break
    logger.debug("Barabási–Albert n=%d m=%d: %d nodes repaired, %d resolution passes",
                 n, m, len(streams), iterations)
    src = np.concatenate([star_src, np.repeat(nodes, m)])
    dst = np.concatenate([star_dst, value])
    return from_edges(src, dst, n)


def _pair_key(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(a, b) * n + np.maximum(a, b)


def _watts_strogatz(n: int, k: int, p: float, rng: np.random.Generator) -> SocialGraph:
    """Small-world ring lattice (Watts & Strogatz 1998).

    Each node is joined to its ``k // 2`` nearest neighbours on each side; each lattice
    edge ``(u, u + j)`` is then, with probability ``p``, rewired to ``(u, w)`` with ``w``
    uniform over nodes, avoiding self-loops and duplicate edges.

    Deviations from ``networkx.watts_strogatz_graph`` (which rewires edges one by one):
    all rewirings are drawn at once. A new endpoint is rejected if it is ``u`` itself, the
    edge's old endpoint, an endpoint of a kept lattice edge of ``u``, or an edge already
    accepted (among simultaneous proposals of the same pair the first, in networkx's
    ``j``-then-``u`` order, wins). Rejected endpoints are redrawn for up to
    :data:`WS_REWIRE_ROUNDS` rounds; an edge still colliding then keeps its lattice
    position if that pair is free (networkx also keeps edges of saturated nodes), else it
    is dropped (logged). networkx instead forbids every edge present at that moment,
    including lattice edges that are rewired later; the difference is of order ``k / n``.
    A complete lattice (``n == 2 * (k // 2) + 1``) is returned unchanged, as networkx
    skips rewiring nodes that are already joined to everybody.
    """
    half = k // 2
    u = np.tile(np.arange(n, dtype=np.int64), half)
    v = (u + np.repeat(np.arange(1, half + 1, dtype=np.int64), n)) % n
    if p <= 0.0 or 2 * half >= n - 1:  # complete lattice: networkx skips every rewiring
        return from_edges(u, v, n)
    rewire = rng.random(u.size) < p
    kept_keys = np.sort(_pair_key(u[~rewire], v[~rewire], n))
    ru, rv = u[rewire], v[rewire]
    old_keys = _pair_key(ru, rv, n)
    new_w = np.full(ru.size, -1, dtype=np.int64)
    accepted = np.empty(0, dtype=np.int64)
    pending = np.arange(ru.size)
    for _ in range(WS_REWIRE_ROUNDS):
        if pending.size == 0:
            break
        pu = ru[pending]
        w = rng.integers(0, n, size=pending.size, dtype=np.int64)
        keys = _pair_key(pu, w, n)
        bad = ((w == pu) | (keys == old_keys[pending]) | _in_sorted(keys, kept_keys)
               | _in_sorted(keys, accepted))
        good = np.flatnonzero(~bad)
        order = good[np.argsort(keys[good], kind="stable")]
        first = np.ones(order.size, dtype=bool)
        first[1:] = keys[order[1:]] != keys[order[:-1]]
        win = order[first]
        new_w[pending[win]] = w[win]
        accepted = np.sort(np.concatenate([accepted, keys[win]]))
        lost = np.ones(pending.size, dtype=bool)
        lost[win] = False
        pending = pending[lost]
    revert = pending[~_in_sorted(old_keys[pending], accepted)]
    dropped = pending.size - revert.size
    if pending.size:
        logger.debug("Watts–Strogatz: %d rewirings kept their lattice edge, %d edges dropped",
                     revert.size, dropped)
    moved = new_w >= 0
    src = np.concatenate([u[~rewire], ru[moved], ru[revert]])
    dst = np.concatenate([v[~rewire], new_w[moved], rv[revert]])
    return from_edges(src, dst, n)


def _erdos_renyi(n: int, p: float, rng: np.random.Generator) -> SocialGraph:
    """G(n, p) (Erdős & Rényi 1959; Gilbert 1959) by sparse sampling.

    The edge count is Binomial(n(n-1)/2, p); that many distinct pair indices are drawn
    uniformly and decoded to pairs, so time and memory are O(n + edges).
    """
    index = _bernoulli_subset(rng, n * (n - 1) // 2, p)
    i, j = decode_pair_index(index, n)
    return from_edges(i, j, n)


def block_sizes(n: int, blocks: int) -> np.ndarray:
    """Sizes of ``blocks`` contiguous communities on ``n`` nodes, as equal as possible
    (the first ``n % blocks`` are one larger)."""
    sizes = np.full(blocks, n // blocks, dtype=np.int64)
    sizes[: n % blocks] += 1
    return sizes


def block_of(n: int, blocks: int) -> np.ndarray:
    """Community of each node under :func:`block_sizes` (``int64``, length ``n``)."""
    return np.repeat(np.arange(blocks, dtype=np.int64), block_sizes(n, blocks))


def _stochastic_block(n: int, blocks: int, deg_in: float, deg_out: float,
                      rng: np.random.Generator) -> SocialGraph:
    """Planted-partition stochastic block model (Holland, Laskey & Leinhardt 1983).

    ``blocks`` contiguous communities of (near) equal size. A pair inside a block of size
    ``s`` is linked with probability ``deg_in / (s - 1)`` (so every node expects ``deg_in``
    neighbours in its own block); a pair across blocks with the single probability
    ``deg_out * n / (n**2 - sum(s**2))`` (the mean between-block degree is ``deg_out``).
    Within-block edges are sampled per block-size class, between-block edges as G(n, p_out)
    with within-block pairs discarded; nothing loops over nodes or block pairs.
    """
    sizes = block_sizes(n, blocks)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    srcs: list[np.ndarray] = []
    dsts: list[np.ndarray] = []
    for size in sorted(set(sizes.tolist())):
        if size < 2 or deg_in <= 0.0:
            continue
        members = starts[sizes == size]  # first node of each block of this size
        pairs = size * (size - 1) // 2
        index = _bernoulli_subset(rng, members.size * pairs, deg_in / (size - 1))
        block, local = np.divmod(index, pairs)
        i, j = decode_pair_index(local, size)
        srcs.append(members[block] + i)
        dsts.append(members[block] + j)
    if blocks > 1 and deg_out > 0.0:
        p_out = deg_out * n / (n * n - int((sizes * sizes).sum()))
        i, j = decode_pair_index(_bernoulli_subset(rng, n * (n - 1) // 2, p_out), n)
        membership = block_of(n, blocks)
        across = membership[i] != membership[j]
        srcs.append(i[across])
        dsts.append(j[across])
    if not srcs:
        return from_edges(np.empty(0, np.int64), np.empty(0, np.int64), n)
    return from_edges(np.concatenate(srcs), np.concatenate(dsts), n)


def _complete(n: int) -> SocialGraph:
    """The complete graph K_n, CSR arrays built directly."""
    idx_dtype = np.int32 if n * (n - 1) <= _INT32_MAX else np.int64
    indptr = np.arange(n + 1, dtype=np.int64) * (n - 1)
    cols = np.tile(np.arange(n - 1, dtype=idx_dtype), n).reshape(n, n - 1)
    cols += cols >= np.arange(n, dtype=idx_dtype)[:, None]  # skip the diagonal
    return SocialGraph(_csr(indptr, cols.ravel(), n))


# --------------------------------------------------------------------------------------
# Edge-list files
# --------------------------------------------------------------------------------------

_COMMENT_RE = re.compile(r"#[^\n]*")
_PAIR_RE = re.compile(r"^[^\S\n]*(\S+)[^\S\n]+(\S+)", re.MULTILINE)
_NONBLANK_RE = re.compile(r"^[^\S\n]*\S", re.MULTILINE)


def _clean(line: str) -> list[str]:
    return line.split("#", 1)[0].replace(",", " ").split()


def read_edgelist(path: str) -> SocialGraph:
    """Read an undirected edge list; consumers are the labels in order of first appearance.

    One pair of node labels per line, separated by whitespace and/or commas; ``#`` starts a
    comment; blank lines are skipped; further columns (weights, ...) are ignored. Self-loops
    are dropped (their node is kept) and duplicate edges merged. Labels are kept as strings
    in ``SocialGraph.labels`` (an object array). A first line that looks like a column
    header (``source,target``: see :func:`_refuse_header`) is refused, naming the line.
    """
    where = f"network.path={path!r}"
    if not path:
        raise NetworkError("network.path='': the edgelist network needs a file "
                           "(network.path=/path/to/edges.txt)")
    problem = input_file_problem(path)
    if problem:
        raise NetworkError(f"{where}: {problem}")
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise NetworkError(f"{where}: cannot read the file ({exc.strerror or exc})") from None
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise NetworkError(f"{where} line {line}: binary data (NUL byte); expected a text "
                           "file of node-label pairs")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise NetworkError(f"{where} line {line}: not UTF-8 text (binary or wrongly "
                           "encoded file)") from None
    body = _COMMENT_RE.sub("", text) if "#" in text else text
    if "," in body:
        body = body.replace(",", " ")
    pairs = _PAIR_RE.findall(body)
    data_lines = len(_NONBLANK_RE.findall(body))
    if len(pairs) != data_lines:  # some line has a single label: find the first one
        for number, line in enumerate(text.split("\n"), start=1):
            fields = _clean(line)
            if len(fields) == 1:
                raise NetworkError(f"{where} line {number}: expected two node labels, got "
                                   f"{line.strip()!r}")
        raise AssertionError("edge-list fast path and line pass disagree")  # pragma: no cover
    if not pairs:
        raise NetworkError(f"{where}: no edges (the file is empty or holds only comments "
                           "and blank lines)")
    # Number labels in order of first appearance, by hashing the label objects: memory is
    # linear in the file (a fixed-width string array would pad every label to the longest).
    flat = np.fromiter(itertools.chain.from_iterable(pairs), dtype=object,
                       count=2 * len(pairs))
    codes, labels = pd.factorize(flat, sort=False)
    _refuse_header(where, body, pairs, codes)
    graph = from_edges(codes[0::2], codes[1::2], labels.size)
    if graph.adjacency.nnz == 0:
        raise NetworkError(f"{where}: no edges (every line is a self-loop)")
    return SocialGraph(graph.adjacency, labels)


def _is_number(label: str) -> bool:
    try:
        float(label)
    except ValueError:
        return False
    return True


def _refuse_header(where: str, body: str, pairs: list[tuple[str, str]],
                   codes: np.ndarray) -> None:
    """Refuse a column header (``source,target``) read as the first edge.

    The first data line is taken for a header when its two labels differ, are not both
    numbers and appear on no other line: a header names columns, not nodes, so read as an
    edge it would add two consumers linked only to each other.
    """
    if len(pairs) < 2 or codes[0] == codes[1]:
        return
    if np.count_nonzero(codes == codes[0]) > 1 or np.count_nonzero(codes == codes[1]) > 1:
        return
    if all(_is_number(label) for label in pairs[0]):
        return
    first = _NONBLANK_RE.search(body)
    line = body.count("\n", 0, first.start()) + 1 if first else 1
    raise NetworkError(f"{where} line {line}: {' '.join(pairs[0])!r} looks like a column "
                       "header, not an edge (its labels appear on no other line); delete "
                       "the line or comment it out with '#'")


# --------------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------------

def _check_population(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise NetworkError(f"consumers={n!r}: must be an integer")
    n = int(n)
    if n < 1:
        raise NetworkError(f"consumers={n}: the network needs at least one consumer")
    return n


def _check_number(key: str, value: float, lo: float, hi: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer,
                                                         np.floating)):
        raise NetworkError(f"network.{key}={value!r}: must be a number")
    value = float(value)
    if not (math.isfinite(value) and lo <= value <= hi):
        raise NetworkError(f"network.{key}={value!r}: must be between {lo:g} and {hi:g}")
    return value


def _check_int(key: str, value: int, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise NetworkError(f"network.{key}={value!r}: must be an integer")
    if value < lo:
        raise NetworkError(f"network.{key}={value}: must be at least {lo}")
    return int(value)


def build_network(cfg: NetworkConfig, n: int, rng: np.random.Generator) -> SocialGraph:
    """Build the social graph of ``n`` consumers described by ``cfg``.

    ``rng`` is the only source of randomness. For ``kind="edgelist"`` ``n`` is ignored:
    the population is the set of labels in ``cfg.path``. Raises :class:`NetworkError`
    naming the key and value when the combination is impossible.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    kind = network_kind(cfg.kind)
    start = time.perf_counter()
    graph = kind.build(cfg, kind.check(cfg, n), rng)
    logger.debug("built %s network: %d consumers, %d edges (%.2f s)", kind.name, graph.n,
                 graph.n_edges, time.perf_counter() - start)
    return graph


# --------------------------------------------------------------------------------------
# The kinds: one entry each, read by the builder, the config check and the memory estimate
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NetworkKind:
    """A kind of network and what the rest of the program needs to know about it.

    - ``check(cfg, n)``: every feasibility rule of the kind (types, ranges, combinations with
      the population), raising :class:`NetworkError` naming the key; returns the population.
      ``wommsim.config.validate`` runs it, so an impossible network is refused before
      anything is built.
    - ``build(cfg, n, rng)``: the graph, after ``check``.
    - ``stored_entries(cfg, n)``: expected adjacency entries (2 x undirected edges), for the
      memory estimate (``None``: read from the file).
    - ``build_bytes_per_entry``: the builder's peak temporaries per stored entry, measured
      (``benchmarks/bench_memory.py``), for the memory estimate.
    """

    name: str
    params: tuple[str, ...]  # the NetworkConfig fields it reads
    check: Callable[[NetworkConfig, int], int]
    build: Callable[[NetworkConfig, int, np.random.Generator], SocialGraph]
    stored_entries: Callable[[NetworkConfig, int], int] | None
    build_bytes_per_entry: float


def _check_ba(cfg: NetworkConfig, n: int) -> int:
    n, m = _check_population(n), _check_int("m", cfg.m, 1)
    if n <= m:
        raise NetworkError(f"consumers={n}: a Barabási–Albert network needs more "
                           f"consumers than network.m={m}")
    return n


def _check_ws(cfg: NetworkConfig, n: int) -> int:
    n, k = _check_population(n), _check_int("k", cfg.k, 2)
    _check_number("rewire_prob", cfg.rewire_prob, 0.0, 1.0)
    if n <= k:
        raise NetworkError(f"consumers={n}: a Watts–Strogatz network needs more "
                           f"consumers than network.k={k}")
    return n


def _check_er(cfg: NetworkConfig, n: int) -> int:
    n, mean = _check_population(n), _check_number("mean_degree", cfg.mean_degree, 0.0)
    if mean > n - 1:
        raise NetworkError(f"network.mean_degree={mean:g}: an Erdős–Rényi network of "
                           f"consumers={n} has mean degree at most {n - 1}")
    return n


def _check_sbm(cfg: NetworkConfig, n: int) -> int:
    n, blocks = _check_population(n), _check_int("blocks", cfg.blocks, 1)
    deg_in = _check_number("mean_degree_in", cfg.mean_degree_in, 0.0)
    deg_out = _check_number("mean_degree_out", cfg.mean_degree_out, 0.0)
    if blocks > n:
        raise NetworkError(f"network.blocks={blocks}: more blocks than consumers ({n})")
    smallest = n // blocks
    if deg_in > smallest - 1:
        raise NetworkError(f"network.mean_degree_in={deg_in:g}: blocks of {smallest} "
                           f"consumers (consumers={n}, network.blocks={blocks}) allow at "
                           f"most {smallest - 1} neighbours within a block")
    largest = -(-n // blocks)
    if blocks > 1 and deg_out > n - largest:
        raise NetworkError(f"network.mean_degree_out={deg_out:g}: with consumers={n} in "
                           f"network.blocks={blocks} a consumer has at most {n - largest} "
                           "neighbours in other blocks")
    return n


def _build_sbm(cfg: NetworkConfig, n: int, rng: np.random.Generator) -> SocialGraph:
    if cfg.blocks == 1 and cfg.mean_degree_out > 0.0:
        logger.warning("network.mean_degree_out=%g ignored: a single block has no "
                       "between-block pairs", cfg.mean_degree_out)
    return _stochastic_block(n, cfg.blocks, cfg.mean_degree_in, cfg.mean_degree_out, rng)


def _check_edgelist(cfg: NetworkConfig, n: int) -> int:
    if not cfg.path:
        raise NetworkError("network.path='': the edgelist network needs a file "
                           "(network.path=/path/to/edges.txt)")
    problem = input_file_problem(cfg.path)
    if problem:
        raise NetworkError(f"network.path={cfg.path!r}: {problem}")
    return n


NETWORKS: dict[str, NetworkKind] = {kind.name: kind for kind in (
    # Peak bytes per stored entry measured at 1M consumers: Barabási–Albert 71 at m = 4, 67
    # at m = 10, 65 at 3M; Watts–Strogatz 60 at k = 8, 59 at k = 30; Erdős–Rényi 50;
    # stochastic block 70; complete 8; all rounded up.
    NetworkKind("barabasi_albert", ("m",), _check_ba,
                lambda cfg, n, rng: _barabasi_albert(n, cfg.m, rng),
                lambda cfg, n: 2 * cfg.m * max(n - cfg.m, 0), 76.0),
    NetworkKind("watts_strogatz", ("k", "rewire_prob"), _check_ws,
                lambda cfg, n, rng: _watts_strogatz(n, cfg.k, cfg.rewire_prob, rng),
                lambda cfg, n: 2 * (cfg.k // 2) * n, 64.0),
    NetworkKind("erdos_renyi", ("mean_degree",), _check_er,
                lambda cfg, n, rng: _erdos_renyi(
                    n, cfg.mean_degree / (n - 1) if n > 1 else 0.0, rng),
                lambda cfg, n: math.ceil(min(cfg.mean_degree, n - 1) * n), 54.0),
    NetworkKind("stochastic_block", ("blocks", "mean_degree_in", "mean_degree_out"),
                _check_sbm, _build_sbm,
                lambda cfg, n: math.ceil((cfg.mean_degree_in + cfg.mean_degree_out) * n),
                74.0),
    NetworkKind("complete", (), lambda cfg, n: _check_population(n),
                lambda cfg, n, rng: _complete(n), lambda cfg, n: n * (n - 1), 10.0),
    NetworkKind("edgelist", ("path",), _check_edgelist,
                lambda cfg, n, rng: read_edgelist(cfg.path), None, 0.0),
)}
if tuple(NETWORKS) != NETWORK_KINDS:  # the schema's choices and the registry are one list
    raise ImportError(f"network kinds {tuple(NETWORKS)} differ from the schema's "
                      f"NETWORK_KINDS {NETWORK_KINDS}")


def network_kind(name: str) -> NetworkKind:
    """The registry entry of ``network.kind=name``, or :class:`NetworkError`."""
    try:
        return NETWORKS[name]
    except KeyError:
        raise NetworkError(f"network.kind={name!r}: must be one of "
                           f"{', '.join(NETWORK_KINDS)}") from None


def check_network(cfg: NetworkConfig, n: int) -> None:
    """Refuse an impossible network (``NetworkError`` naming the key) without building it."""
    network_kind(cfg.kind).check(cfg, n)
