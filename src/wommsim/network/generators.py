"""The network generators, vectorised and seeded only by the ``numpy.random.Generator``
passed in (the same seed gives the identical graph): Barabási–Albert preferential attachment
(Barabási & Albert 1999, the law of ``networkx.barabasi_albert_graph``), the rewired ring
lattice (Watts & Strogatz 1998), G(n, p) (Erdős & Rényi 1959; Gilbert 1959) with a sparse
sampler, planted communities (Holland, Laskey & Leinhardt 1983), many small personal
networks joined by weak ties (Goldenberg, Libai & Muller 2001) and the complete graph. None
loops in Python over nodes or edges, except the rare duplicate-target repairs of the
Barabási–Albert generator."""

from __future__ import annotations

import logging
import math

import numpy as np

from wommsim.network.graph import (
    INT32_MAX,
    SocialGraph,
    adjacency_matrix,
    from_edges,
    marked_by_community,
    sorted_unique,
)

logger = logging.getLogger(__name__)




#: Watts–Strogatz: rounds of re-drawing rewired endpoints that collide before giving up.
WS_REWIRE_ROUNDS = 10




def _in_sorted(values: np.ndarray, sorted_ref: np.ndarray) -> np.ndarray:
    """Boolean mask: which ``values`` occur in the sorted array ``sorted_ref``."""
    if sorted_ref.size == 0:
        return np.zeros(values.shape, dtype=bool)
    pos = np.searchsorted(sorted_ref, values)
    pos[pos == sorted_ref.size] = 0
    return sorted_ref[pos] == values


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
        got = sorted_unique(np.concatenate([got, draw]))
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


def barabasi_albert(n: int, m: int, rng: np.random.Generator) -> SocialGraph:
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


def watts_strogatz(n: int, k: int, p: float, rng: np.random.Generator) -> SocialGraph:
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


def erdos_renyi(n: int, p: float, rng: np.random.Generator) -> SocialGraph:
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


def stochastic_block(n: int, blocks: int, deg_in: float, deg_out: float,
                      rng: np.random.Generator) -> SocialGraph:
    """Planted-partition stochastic block model (Holland, Laskey & Leinhardt 1983).

    ``blocks`` contiguous communities of (near) equal size. A pair inside a block of size
    ``s`` is linked with probability ``deg_in / (s - 1)`` (so every node expects ``deg_in``
    neighbours in its own block); a pair across blocks with the single probability
    ``deg_out * n / (n**2 - sum(s**2))`` (the mean between-block degree is ``deg_out``).
    Within-block edges are sampled per block-size class, between-block edges as G(n, p_out)
    with within-block pairs discarded; nothing loops over nodes or block pairs.

    Ties inside a block are strong (strength 1), ties between blocks weak (0); the graph
    keeps each node's block as its ``community`` (:func:`marked_by_community`).
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
        graph = from_edges(np.empty(0, np.int64), np.empty(0, np.int64), n)
    else:
        graph = from_edges(np.concatenate(srcs), np.concatenate(dsts), n)
    return marked_by_community(graph, block_of(n, blocks))


def personal_network_count(n: int, size: int) -> int:
    """How many personal networks of about ``size`` consumers ``n`` consumers form: ``n /
    size`` rounded to the nearest integer, at least one."""
    return max(1, math.floor(n / size + 0.5))


def personal_networks(n: int, size: int, strong_degree: float, weak_degree: float,
                      rng: np.random.Generator) -> SocialGraph:
    """Many small personal networks joined by weak ties (Goldenberg, Libai & Muller 2001).

    The consumers form :func:`personal_network_count` contiguous personal networks of about
    ``size`` members (as equal as possible). Each consumer expects ``strong_degree`` strong
    ties inside its own network (``size - 1``: everybody in it, as in the source's personal
    networks) and ``weak_degree`` weak ties to consumers of other networks (the source's
    "ties out"). The size is intensive: a larger market has more networks, not larger
    ones. A stochastic block model with these blocks (:func:`stochastic_block`), so ties
    inside a network are strong (1) and ties out weak (0).
    """
    return stochastic_block(n, personal_network_count(n, size), strong_degree, weak_degree,
                            rng)


def complete(n: int) -> SocialGraph:
    """The complete graph K_n, CSR arrays built directly."""
    idx_dtype = np.int32 if n * (n - 1) <= INT32_MAX else np.int64
    indptr = np.arange(n + 1, dtype=np.int64) * (n - 1)
    cols = np.tile(np.arange(n - 1, dtype=idx_dtype), n).reshape(n, n - 1)
    cols += cols >= np.arange(n, dtype=idx_dtype)[:, None]  # skip the diagonal
    return SocialGraph(adjacency_matrix(indptr, cols.ravel(), n))
