"""Tests of wommsim.network: graph contract, determinism, statistics and the edge-list reader."""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
import re
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from wommsim.config import ConfigError, NetworkConfig
from wommsim.network import (
    NetworkError,
    SocialGraph,
    block_of,
    block_sizes,
    build_network,
    decode_pair_index,
    from_edges,
    to_networkx,
)

GENERATED = {
    "barabasi_albert": {"m": 3},
    "watts_strogatz": {"k": 6, "rewire_prob": 0.2},
    "erdos_renyi": {"mean_degree": 6.0},
    "stochastic_block": {"blocks": 5, "mean_degree_in": 5.0, "mean_degree_out": 1.5},
    "complete": {},
}


def build(kind: str, n: int, seed: int = 0, **params: object) -> SocialGraph:
    return build_network(NetworkConfig(kind=kind, **params), n, np.random.default_rng(seed))


def assert_contract(graph: SocialGraph, n: int) -> None:
    """Shape and dtypes, symmetric, no self-loops, sorted indices without duplicates."""
    adj = graph.adjacency
    assert isinstance(adj, sp.csr_array)
    assert adj.shape == (n, n) and graph.n == n
    assert adj.data.dtype == np.float32 and np.all(adj.data == 1.0)
    assert adj.indices.dtype == np.int32 and adj.indptr.dtype == np.int32
    assert adj.indptr[0] == 0 and adj.indptr[-1] == adj.nnz == adj.indices.size
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(adj.indptr))
    cols = adj.indices.astype(np.int64)
    assert np.all(rows != cols), "self-loop"
    keys = rows * n + cols
    assert np.all(np.diff(keys) > 0), "unsorted or duplicate indices"
    assert np.array_equal(np.sort(cols * n + rows), keys), "not symmetric"
    assert graph.degree.dtype == np.int32
    assert np.array_equal(graph.degree, np.diff(adj.indptr))


def same_graph(a: SocialGraph, b: SocialGraph) -> bool:
    return (np.array_equal(a.adjacency.indptr, b.adjacency.indptr)
            and np.array_equal(a.adjacency.indices, b.adjacency.indices))


def edge_set(graph: SocialGraph) -> set[tuple[int, int]]:
    coo = sp.triu(graph.adjacency, k=1).tocoo()
    return set(zip(coo.row.tolist(), coo.col.tolist(), strict=True))


def edge_pairs(graph: SocialGraph) -> list[tuple[int, int]]:
    """Every stored entry as (row, column), aligned with ``adjacency.indices``."""
    rows = np.repeat(np.arange(graph.n), np.diff(graph.adjacency.indptr))
    return list(zip(rows.tolist(), graph.adjacency.indices.tolist(), strict=True))


# --------------------------------------------------------------------------------------
# Contract and determinism for every generator
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(GENERATED))
@pytest.mark.parametrize("n", [300, 1001])
def test_contract(kind: str, n: int) -> None:
    assert_contract(build(kind, n, 1, **GENERATED[kind]), n)


@pytest.mark.parametrize("kind", sorted(GENERATED))
def test_same_seed_same_graph(kind: str) -> None:
    a, b = build(kind, 500, 7, **GENERATED[kind]), build(kind, 500, 7, **GENERATED[kind])
    assert same_graph(a, b)
    c = build(kind, 500, 8, **GENERATED[kind])
    assert same_graph(a, c) == (kind == "complete")


@pytest.mark.parametrize("kind", sorted(GENERATED))
def test_no_global_random_state(kind: str) -> None:
    legacy = np.random.get_state()  # noqa: NPY002
    stdlib = random.getstate()
    build(kind, 400, 3, **GENERATED[kind])
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(after[1], legacy[1]) and after[2] == legacy[2]
    assert random.getstate() == stdlib


def test_network_error_is_config_error() -> None:
    assert issubclass(NetworkError, ConfigError) and issubclass(NetworkError, ValueError)


@pytest.mark.parametrize(("kind", "n", "params", "fragment"), [
    ("barabasi_albert", 3, {"m": 4}, "consumers=3: a Barabási–Albert network needs more "
                                     "consumers than network.m=4"),
    ("barabasi_albert", 4, {"m": 4}, "network.m=4"),
    ("barabasi_albert", 10, {"m": 0}, "network.m=0"),
    ("watts_strogatz", 8, {"k": 8}, "network.k=8"),
    ("watts_strogatz", 20, {"rewire_prob": 1.5}, "network.rewire_prob=1.5"),
    ("erdos_renyi", 5, {"mean_degree": 10.0}, "network.mean_degree=10"),
    ("erdos_renyi", 5, {"mean_degree": -1.0}, "network.mean_degree=-1"),
    ("stochastic_block", 3, {"blocks": 4}, "network.blocks=4"),
    ("stochastic_block", 20, {"blocks": 4, "mean_degree_in": 7.0}, "network.mean_degree_in=7"),
    ("stochastic_block", 20, {"blocks": 4, "mean_degree_in": 1.0, "mean_degree_out": 16.0},
     "network.mean_degree_out=16"),
    ("complete", 0, {}, "consumers=0"),
    ("erdos_renyi", -5, {}, "consumers=-5"),
    ("nope", 10, {}, "network.kind='nope'"),
])
def test_invalid_combinations(kind: str, n: int, params: dict, fragment: str) -> None:
    with pytest.raises(NetworkError) as info:
        build(kind, n, **params)
    assert fragment in str(info.value)


def test_rng_must_be_generator() -> None:
    with pytest.raises(TypeError):
        build_network(NetworkConfig(kind="complete"), 5, np.random.RandomState(0))  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# from_edges / to_networkx
# --------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.integers(1, 25).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                         max_size=80))))
def test_from_edges_matches_networkx(case: tuple[int, list[tuple[int, int]]]) -> None:
    n, edges = case
    src = np.array([e[0] for e in edges], dtype=np.int64)
    dst = np.array([e[1] for e in edges], dtype=np.int64)
    graph = from_edges(src, dst, n)
    assert_contract(graph, n)
    expected = nx.Graph()
    expected.add_nodes_from(range(n))
    expected.add_edges_from((a, b) for a, b in edges if a != b)
    dense = nx.to_numpy_array(expected, nodelist=range(n), dtype=np.float32)
    assert np.array_equal(graph.adjacency.toarray(), dense)
    back = to_networkx(graph)
    assert sorted(back.nodes) == list(range(n))
    assert {frozenset(e) for e in back.edges} == {frozenset(e) for e in expected.edges}


def test_from_edges_rejects_bad_ids() -> None:
    with pytest.raises(ValueError):
        from_edges(np.array([0, 5]), np.array([1, 2]), 5)
    with pytest.raises(ValueError):
        from_edges(np.array([0, 1]), np.array([1]), 5)


def test_to_networkx_keeps_isolated_nodes_and_labels(tmp_path: Path) -> None:
    graph = from_edges(np.array([0]), np.array([1]), 4)
    g = to_networkx(graph)
    assert g.number_of_nodes() == 4 and g.number_of_edges() == 1
    path = tmp_path / "e.txt"
    path.write_text("x y\ny z\n")
    g = to_networkx(build("edgelist", 0, path=str(path)))
    assert nx.get_node_attributes(g, "label") == {0: "x", 1: "y", 2: "z"}


# --------------------------------------------------------------------------------------
# Barabási–Albert
# --------------------------------------------------------------------------------------

def _exact_ba_law(n: int, m: int) -> dict[frozenset, float]:
    """Exact law of networkx's BA process on n nodes (enumeration), keyed by edge set."""
    law: dict[frozenset, float] = {}
    start = [(0, i) for i in range(1, m + 1)]

    def subset_prob(weights: dict[int, int], chosen: tuple[int, ...]) -> float:
        # draws with rejection of repeats: sum over the orders in which the set appears
        total = sum(weights.values())
        prob = 0.0
        for order in itertools.permutations(chosen):
            p, left = 1.0, total
            for v in order:
                p *= weights[v] / left
                left -= weights[v]
            prob += p
        return prob

    def grow(t: int, edges: list[tuple[int, int]], prob: float) -> None:
        if t == n:
            law[frozenset(edges)] = law.get(frozenset(edges), 0.0) + prob
            return
        weights = Counter(v for e in edges for v in e)
        for chosen in itertools.combinations(sorted(weights), m):
            grow(t + 1, edges + [(v, t) for v in chosen], prob * subset_prob(weights, chosen))

    grow(m + 1, start, 1.0)
    return law


@pytest.mark.parametrize(("n", "m", "samples"), [(5, 2, 1500), (6, 3, 1500), (6, 1, 1000)])
def test_ba_small_graphs_follow_exact_law(n: int, m: int, samples: int) -> None:
    law = _exact_ba_law(n, m)
    assert math.isclose(sum(law.values()), 1.0)
    counts = Counter(frozenset(edge_set(build("barabasi_albert", n, seed, m=m)))
                     for seed in range(samples))
    assert set(counts) <= set(law)
    keys = sorted(law, key=law.get)
    expected = np.array([law[k] * samples for k in keys])
    observed = np.array([counts.get(k, 0) for k in keys], dtype=float)
    # pool the rarest outcomes so every cell expects at least 5
    cut = int(np.searchsorted(np.cumsum(expected), 5.0)) + 1
    expected = np.concatenate([[expected[:cut].sum()], expected[cut:]])
    observed = np.concatenate([[observed[:cut].sum()], observed[cut:]])
    assert stats.chisquare(observed, expected).pvalue > 1e-4


def test_ba_star_only_and_edge_count() -> None:
    graph = build("barabasi_albert", 5, m=4)
    assert edge_set(graph) == {(0, 1), (0, 2), (0, 3), (0, 4)}
    for n, m in [(50, 1), (200, 3), (1000, 7), (300, 12)]:
        graph = build("barabasi_albert", n, 3, m=m)
        assert graph.n_edges == m * (n - m)
        assert graph.degree[m + 1:].min() >= m  # star leaves may keep degree 1
        assert nx.is_connected(to_networkx(graph))


@pytest.mark.parametrize("m", [4, 9])
def test_ba_dense_regime_matches_networkx(m: int) -> None:
    # few nodes, many edges each: repeated targets (and their repair) are frequent
    n, reps = 30, 300
    ours = np.array([build("barabasi_albert", n, s, m=m).degree for s in range(reps)])
    theirs = np.array([[d for _, d in sorted(nx.barabasi_albert_graph(n, m, seed=s).degree())]
                       for s in range(reps)])
    # mean degree of each of the first nodes; Welch z within 4.5 standard errors
    se = np.sqrt(ours.var(axis=0, ddof=1) / reps + theirs.var(axis=0, ddof=1) / reps) + 1e-9
    z = (ours.mean(axis=0) - theirs.mean(axis=0)) / se
    assert np.all(np.abs(z[: m + 6]) < 4.5)


def _tail_exponent(degrees: np.ndarray, kmin: int) -> float:
    """Discrete power-law MLE (Clauset, Shalizi & Newman 2009, eq. 3.7)."""
    tail = degrees[degrees >= kmin].astype(float)
    return 1.0 + tail.size / np.log(tail / (kmin - 0.5)).sum()


def test_ba_degrees_match_networkx() -> None:
    n, m, reps = 5000, 4, 4
    ours = [build("barabasi_albert", n, seed, m=m).degree for seed in range(reps)]
    theirs = [np.array([d for _, d in nx.barabasi_albert_graph(n, m, seed=100 + s).degree()])
              for s in range(reps)]
    for d in ours + theirs:
        assert d.sum() == 2 * m * (n - m)
        assert d.min() >= m
    # hubs: expected max degree ~ m sqrt(n) (~280 here) for both
    max_ours = np.mean([d.max() for d in ours])
    max_theirs = np.mean([d.max() for d in theirs])
    assert 0.6 < max_ours / max_theirs < 1.6
    assert 100 < max_ours < 700
    # tail exponent near 3 (finite-size estimates sit a little below)
    a_ours = _tail_exponent(np.concatenate(ours), 10)
    a_theirs = _tail_exponent(np.concatenate(theirs), 10)
    assert 2.5 < a_ours < 3.3 and abs(a_ours - a_theirs) < 0.15
    # two-sample chi-square on binned degrees
    bins = [4, 5, 6, 7, 8, 10, 13, 20, 40, 10**6]
    h_ours = np.histogram(np.concatenate(ours), bins)[0]
    h_theirs = np.histogram(np.concatenate(theirs), bins)[0]
    assert stats.chi2_contingency(np.vstack([h_ours, h_theirs])).pvalue > 1e-4


# --------------------------------------------------------------------------------------
# Watts–Strogatz
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "k"), [(10, 2), (30, 6), (31, 7), (200, 10)])
def test_ws_without_rewiring_is_ring_lattice(n: int, k: int) -> None:
    graph = build("watts_strogatz", n, k=k, rewire_prob=0.0)
    ring = {(min(u, (u + j) % n), max(u, (u + j) % n))
            for u in range(n) for j in range(1, k // 2 + 1)}
    assert edge_set(graph) == ring
    assert np.all(graph.degree == 2 * (k // 2))


def _ring_distance(graph: SocialGraph) -> np.ndarray:
    coo = sp.triu(graph.adjacency, k=1).tocoo()
    gap = np.abs(coo.col.astype(np.int64) - coo.row)
    return np.minimum(gap, graph.n - gap)


@pytest.mark.parametrize("p", [0.05, 0.3, 1.0])
def test_ws_rewired_share(p: float) -> None:
    n, k = 20_000, 8
    graph = build("watts_strogatz", n, 5, k=k, rewire_prob=p)
    assert graph.n_edges == n * k // 2  # collisions are rare here: nothing dropped
    assert np.all(graph.degree >= 1)
    far = np.count_nonzero(_ring_distance(graph) > k // 2)
    trials = n * k // 2
    # rewired edges land inside the lattice band with probability ~k/n: negligible
    mean, sd = trials * p * (1 - k / n), math.sqrt(trials * p * (1 - p)) + 1
    assert abs(far - mean) < 5 * sd + trials * p * k / n


@pytest.mark.parametrize(("n", "k"), [(9, 8), (11, 10), (3, 2)])
def test_ws_complete_lattice_is_left_alone(n: int, k: int) -> None:
    # n = 2 (k // 2) + 1: the lattice is complete; as in networkx nothing can be rewired
    graph = build("watts_strogatz", n, 2, k=k, rewire_prob=0.5)
    assert graph.n_edges == n * (n - 1) // 2


@pytest.mark.parametrize("seed", range(5))
def test_ws_dense_rewiring_stays_simple(seed: int) -> None:
    # crowded lattice: collisions are common; the graph stays simple and loses few edges
    graph = build("watts_strogatz", 12, seed, k=8, rewire_prob=0.7)
    assert_contract(graph, 12)
    assert 40 <= graph.n_edges <= 48


# --------------------------------------------------------------------------------------
# Erdős–Rényi
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 16, 45])
def test_pair_decoding_matches_combinations(n: int) -> None:
    total = n * (n - 1) // 2
    i, j = decode_pair_index(np.arange(total), n)
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == list(
        itertools.combinations(range(n), 2))


@settings(max_examples=300, deadline=None)
@given(st.integers(2, 3_000_000_000).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(0, n - 2))
    .flatmap(lambda c: st.tuples(st.just(c[0]), st.just(c[1]),
                                 st.integers(c[1] + 1, c[0] - 1)))))
def test_pair_decoding_exact_for_large_n(case: tuple[int, int, int]) -> None:
    n, i, j = case
    index = i * (2 * n - i - 1) // 2 + (j - i - 1)  # lexicographic rank, exact integers
    di, dj = decode_pair_index(np.array([index, 0, n * (n - 1) // 2 - 1]), n)
    assert (int(di[0]), int(dj[0])) == (i, j)
    assert (int(di[1]), int(dj[1])) == (0, 1)
    assert (int(di[2]), int(dj[2])) == (n - 2, n - 1)


@pytest.mark.parametrize(("n", "mean"), [(20_000, 8.0), (300, 150.0), (50, 49.0), (40, 0.0)])
def test_er_edge_count(n: int, mean: float) -> None:
    graph = build("erdos_renyi", n, 11, mean_degree=mean)
    pairs, p = n * (n - 1) / 2, mean / (n - 1)
    sd = math.sqrt(pairs * p * (1 - p))
    assert abs(graph.n_edges - pairs * p) <= 5 * sd + 1e-9
    assert abs(graph.degree.mean() - mean) <= 10 * sd / n + 1e-9


def test_er_degree_is_binomial() -> None:
    n, mean = 20_000, 8.0
    degrees = build("erdos_renyi", n, 4, mean_degree=mean).degree
    # Var(degree) = (n-1) p (1-p); sample variance within a few standard errors
    var = mean * (1 - mean / (n - 1))
    assert abs(degrees.var() - var) < 5 * var * math.sqrt(2 / n) * 1.5
    # pairs are uniform: edges per node id decile are balanced
    per_decile = np.add.reduceat(degrees, np.arange(0, n, n // 10))
    assert stats.chisquare(per_decile).pvalue > 1e-4


def test_er_pairs_uniform_small() -> None:
    n, reps = 6, 400
    counts = np.zeros((n, n))
    for seed in range(reps):
        counts += build("erdos_renyi", n, seed, mean_degree=2.0).adjacency.toarray()
    upper = counts[np.triu_indices(n, 1)]
    assert stats.chisquare(upper).pvalue > 1e-4
    assert abs(upper.mean() / reps - 2.0 / 5) < 0.05


# --------------------------------------------------------------------------------------
# Stochastic block model
# --------------------------------------------------------------------------------------

def test_block_sizes_contiguous() -> None:
    assert block_sizes(10, 3).tolist() == [4, 3, 3]
    assert block_of(10, 3).tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert block_sizes(7, 7).tolist() == [1] * 7


@pytest.mark.parametrize(("n", "blocks", "d_in", "d_out"),
                         [(20_003, 4, 7.0, 1.0), (5_000, 50, 3.0, 2.0), (3_000, 1, 6.0, 0.0),
                          (4_000, 8, 0.0, 3.0)])
def test_sbm_within_and_between_degrees(n: int, blocks: int, d_in: float,
                                        d_out: float) -> None:
    graph = build("stochastic_block", n, 2, blocks=blocks, mean_degree_in=d_in,
                  mean_degree_out=d_out)
    coo = graph.adjacency.tocoo()
    membership = block_of(n, blocks)
    inside = membership[coo.row] == membership[coo.col]
    mean_in = np.count_nonzero(inside) / n
    mean_out = np.count_nonzero(~inside) / n
    # each edge count is binomial; its sd is at most sqrt(mean * n / 2), times 2 for degrees
    for observed, target in [(mean_in, d_in), (mean_out, d_out)]:
        assert abs(observed - target) <= 5 * 2 * math.sqrt(target * n / 2) / n + 1e-12
    if d_in and d_out:
        ratio_sd = (d_in / d_out) * math.sqrt(2 / (d_in * n) + 2 / (d_out * n))
        assert abs(mean_in / mean_out - d_in / d_out) < 5 * ratio_sd
    # every block gets its share of within-block edges (each edge is stored twice)
    per_block = np.bincount(membership[coo.row[inside]], minlength=blocks) // 2
    if d_in and blocks > 1:
        assert stats.chisquare(per_block, block_sizes(n, blocks) * per_block.sum() / n
                               ).pvalue > 1e-4


# --------------------------------------------------------------------------------------
# Complete graph
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 5, 31])
def test_complete_small(n: int) -> None:
    graph = build("complete", n)
    assert_contract(graph, n)
    assert np.array_equal(graph.adjacency.toarray(), np.ones((n, n)) - np.eye(n))


def test_complete_two_thousand() -> None:
    graph = build("complete", 2000)
    assert graph.adjacency.nnz == 2000 * 1999
    assert np.all(graph.degree == 1999)
    assert_contract(graph, 2000)


# --------------------------------------------------------------------------------------
# Edge-list files
# --------------------------------------------------------------------------------------

def read(path: Path) -> SocialGraph:
    return build("edgelist", 999, path=str(path))


def test_edgelist_formats(tmp_path: Path) -> None:
    path = tmp_path / "edges.csv"
    path.write_text(
        "# a social network\n"
        "\n"
        "alice bob\n"
        "bob,carol,0.5   # the third column is the tie's strength\n"
        "  carol\tdave 1 extra\n"  # further columns are ignored
        "dave , alice\n"
        "bob alice\n"          # duplicate in the other direction
        "erin erin\n"          # self-loop: node kept, edge dropped
        "   # indented comment\n"
        "frank,alice\r\n"
        "café 42\n",
        encoding="utf-8",
    )
    graph = read(path)
    assert graph.labels is not None
    assert graph.labels.tolist() == ["alice", "bob", "carol", "dave", "erin", "frank",
                                     "café", "42"]
    assert_contract(graph, 8)
    assert edge_set(graph) == {(0, 1), (1, 2), (2, 3), (0, 3), (0, 5), (6, 7)}
    assert graph.degree[4] == 0
    strength = dict(zip(edge_pairs(graph), graph.strength.tolist(), strict=True))
    assert strength[(1, 2)] == strength[(2, 1)] == 0.5  # lines without one are strong
    assert {v for k, v in strength.items() if set(k) != {1, 2}} == {1.0}


def test_edgelist_ignores_n_and_rng(tmp_path: Path) -> None:
    path = tmp_path / "e.txt"
    path.write_text("1 2\n2 3\n")
    a = build_network(NetworkConfig(kind="edgelist", path=str(path)), 5,
                      np.random.default_rng(0))
    b = build_network(NetworkConfig(kind="edgelist", path=str(path)), 10,
                      np.random.default_rng(1))
    assert a.n == b.n == 3 and same_graph(a, b)


def test_edgelist_large_matches_networkx(tmp_path: Path) -> None:
    reference = nx.gnm_random_graph(3000, 12_000, seed=3)
    path = tmp_path / "big.txt"
    path.write_text("".join(f"n{u} n{v} 1.0\n" for u, v in reference.edges))
    graph = read(path)
    assert graph.n_edges == 12_000
    relabel = {f"n{u}": u for u in reference.nodes}
    ids = np.array([relabel[x] for x in graph.labels])
    coo = sp.triu(graph.adjacency, k=1).tocoo()
    got = {frozenset((int(ids[a]), int(ids[b]))) for a, b in zip(coo.row, coo.col,
                                                                  strict=True)}
    assert got == {frozenset(e) for e in reference.edges}


@pytest.mark.parametrize(("content", "line", "got"), [
    ("a b\nb c\nabc\nc d\n", 3, "'abc'"),
    ("# header\n\na b\n  x # comment hides the second label\n", 4, "x # comment"),
    ("a,b\nc,\n", 2, "'c,'"),
])
def test_edgelist_malformed_line(tmp_path: Path, content: str, line: int, got: str) -> None:
    path = tmp_path / "edges.txt"
    path.write_text(content)
    with pytest.raises(NetworkError) as info:
        read(path)
    message = str(info.value)
    assert f"network.path={str(path)!r} line {line}: expected two node labels" in message
    assert got in message


@pytest.mark.parametrize("content", ["", "\n\n   \n", "# only\n# comments\n"])
def test_edgelist_empty(tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.txt"
    path.write_text(content)
    with pytest.raises(NetworkError, match="no edges"):
        read(path)


def test_edgelist_only_self_loops(tmp_path: Path) -> None:
    path = tmp_path / "loops.txt"
    path.write_text("a a\nb b\n")
    with pytest.raises(NetworkError, match="self-loop"):
        read(path)


def test_edgelist_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.txt"
    with pytest.raises(NetworkError, match=r"network.path='.*nope.txt': no such file"):
        read(path)
    with pytest.raises(NetworkError, match="is a directory"):
        read(tmp_path)
    with pytest.raises(NetworkError, match=re.escape("network.path=''")):
        build("edgelist", 5, path="")


@pytest.mark.parametrize(("content", "line"), [
    (b"a b\nc d\n\xff\xfe e\n", 3),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 3),
])
def test_edgelist_binary(tmp_path: Path, content: bytes, line: int) -> None:
    path = tmp_path / "edges.bin"
    path.write_bytes(content)
    with pytest.raises(NetworkError) as info:
        read(path)
    assert f"network.path={str(path)!r} line {line}:" in str(info.value)


def test_a_run_builds_each_generated_network_once(monkeypatch, tmp_path):
    # The config check refuses impossible networks, so nothing is built twice to check it
    # (at ten million consumers a build takes as long as a year of steps).
    import wommsim.model
    from tests.helpers import small_config
    from wommsim.runs.runner import run

    built = []
    real = wommsim.model.build_network
    monkeypatch.setattr(wommsim.model, "build_network",
                        lambda *args: built.append(args[1]) or real(*args))
    run(small_config("workers=1", "replicates=2", consumers=300, steps=2), tmp_path / "run")
    assert built == [300, 300]  # one per replicate


def test_every_kind_is_registered_with_its_checks():
    from wommsim.config import NETWORK_KINDS
    from wommsim.network import NETWORKS, check_network

    assert tuple(NETWORKS) == NETWORK_KINDS
    for name, kind in NETWORKS.items():
        assert set(kind.params) <= {f.name for f in dataclasses.fields(NetworkConfig)}, name
    with pytest.raises(NetworkError, match=r"network\.mean_degree=50"):
        check_network(NetworkConfig(kind="erdos_renyi", mean_degree=50.0), 20)


@pytest.mark.parametrize(("content", "line"), [
    ("source,target\n1,2\n2,3\n", 1),
    ("# exported\n\nsource target weight\nalice bob 1\nbob carol 1\n", 3),
    ("from,to\nu1,u2\n", 1),
])
def test_edgelist_header_is_refused_naming_the_line(tmp_path: Path, content: str,
                                                    line: int) -> None:
    # Read as an edge, a header adds two phantom consumers linked only to each other.
    path = tmp_path / "edges.csv"
    path.write_text(content)
    with pytest.raises(NetworkError) as info:
        read(path)
    message = str(info.value)
    assert f"network.path={str(path)!r} line {line}:" in message and "header" in message


@pytest.mark.parametrize(("content", "n"), [
    ("1 2\n3 4\n", 4),  # numbers: two separate edges, not a header
    ("alice bob\n", 2),  # a single edge
    ("alice bob\nbob carol\n", 3),
    ("a b\nc d\nb c\n", 4),
])
def test_edgelist_first_edges_are_not_taken_for_headers(tmp_path: Path, content: str,
                                                        n: int) -> None:
    path = tmp_path / "edges.txt"
    path.write_text(content)
    assert read(path).n == n


# --------------------------------------------------------------------------------------
# Tie strength and communities
# --------------------------------------------------------------------------------------

def entry_rows(graph: SocialGraph) -> np.ndarray:
    return np.repeat(np.arange(graph.n), np.diff(graph.adjacency.indptr))


def assert_strength_symmetric(graph: SocialGraph) -> None:
    pairs = edge_pairs(graph)
    strength = dict(zip(pairs, graph.strength.tolist(), strict=True))
    assert all(strength[(b, a)] == value for (a, b), value in strength.items())
    assert graph.strength.dtype == np.float32


@pytest.mark.parametrize("kind", ["barabasi_albert", "watts_strogatz", "erdos_renyi",
                                  "complete"])
def test_builders_without_communities_leave_every_tie_strong(kind: str) -> None:
    graph = build(kind, 60, **GENERATED[kind])
    assert graph.strength is None and graph.community is None
    assert np.all(graph.tie_strength == 1.0) and graph.tie_strength.size == graph.adjacency.nnz


def test_stochastic_block_marks_ties_inside_strong_and_between_weak() -> None:
    graph = build("stochastic_block", 200, blocks=4, mean_degree_in=6.0, mean_degree_out=2.0)
    block = block_of(200, 4)
    assert np.array_equal(graph.community, block)
    inside = block[entry_rows(graph)] == block[graph.adjacency.indices]
    assert np.array_equal(graph.strength, inside.astype(np.float32))
    assert 0 < np.count_nonzero(~inside) < inside.size  # both kinds present
    assert_strength_symmetric(graph)


def test_a_single_block_stores_no_strength() -> None:
    graph = build("stochastic_block", 50, blocks=1, mean_degree_in=4.0, mean_degree_out=0.0)
    assert graph.strength is None and np.all(graph.community == 0)


def test_personal_networks_are_cliques_of_strong_ties_joined_by_weak_ties() -> None:
    n, size = 3000, 20
    graph = build("personal_networks", n, network_size=size, strong_degree=size - 1.0,
                  weak_degree=5.0)
    assert_contract(graph, n)
    assert np.array_equal(np.bincount(graph.community), np.full(n // size, size))
    strong = graph.strength == 1.0
    rows = entry_rows(graph)
    # strength 1 exactly inside a network; every member knows every other member
    same = graph.community[rows] == graph.community[graph.adjacency.indices]
    assert np.array_equal(strong, same)
    assert np.all(np.bincount(rows[strong], minlength=n) == size - 1)
    weak = np.bincount(rows[~strong], minlength=n)
    assert abs(weak.mean() - 5.0) < 0.2  # the expected ties out
    assert_strength_symmetric(graph)


def test_personal_network_size_is_intensive() -> None:
    small = build("personal_networks", 400, network_size=20, strong_degree=5.0,
                  weak_degree=1.0)
    large = build("personal_networks", 4000, network_size=20, strong_degree=5.0,
                  weak_degree=1.0)
    assert np.bincount(small.community).mean() == np.bincount(large.community).mean() == 20


def test_personal_networks_refuse_impossible_degrees() -> None:
    with pytest.raises(NetworkError, match=r"network.strong_degree=20: .* at most 19"):
        build("personal_networks", 400, network_size=20, strong_degree=20.0, weak_degree=1.0)
    with pytest.raises(NetworkError, match=r"network.weak_degree=1: .*at most 0"):
        build("personal_networks", 20, network_size=20, strong_degree=5.0, weak_degree=1.0)
    with pytest.raises(NetworkError, match=r"network.network_size=0"):
        build("personal_networks", 20, network_size=0)


def test_personal_networks_are_deterministic() -> None:
    a = build("personal_networks", 500, seed=4, network_size=10, strong_degree=4.0,
              weak_degree=2.0)
    b = build("personal_networks", 500, seed=4, network_size=10, strong_degree=4.0,
              weak_degree=2.0)
    assert np.array_equal(a.adjacency.indices, b.adjacency.indices)
    assert np.array_equal(a.strength, b.strength)


def test_from_edges_keeps_the_strongest_record_of_a_duplicate_tie() -> None:
    graph = from_edges(np.array([0, 1, 2, 2]), np.array([1, 0, 0, 2]), 3,
                       np.array([0.2, 0.7, 0.0, 1.0]))
    strength = dict(zip(edge_pairs(graph), graph.strength.tolist(), strict=True))
    assert strength == {(0, 1): pytest.approx(0.7), (1, 0): pytest.approx(0.7),
                        (0, 2): 0.0, (2, 0): 0.0}


def test_edgelist_weight_column_gives_the_tie_strength(tmp_path: Path) -> None:
    path = tmp_path / "weighted.txt"
    path.write_text("a b 1\nb c 0\nc a 0.25\n")
    graph = read(path)
    strength = dict(zip(edge_pairs(graph), graph.strength.tolist(), strict=True))
    assert strength == {(0, 1): 1.0, (1, 0): 1.0, (1, 2): 0.0, (2, 1): 0.0,
                        (0, 2): 0.25, (2, 0): 0.25}


def test_edgelist_without_weights_has_no_strength(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text("a b\nb c\n")
    assert read(path).strength is None


@pytest.mark.parametrize("value", ["1.5", "-0.1", "strong", "nan"])
def test_edgelist_refuses_a_bad_strength_naming_file_and_line(tmp_path: Path,
                                                              value: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(f"a b 0.5\n# comment\nb c {value}\n")
    with pytest.raises(NetworkError, match=rf"network.path='.*bad.txt' line 3: tie strength "
                                           rf"'{value}' is not a number in \[0, 1\]"):
        read(path)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7),
                          st.sampled_from([0.0, 0.25, 0.5, 1.0])), min_size=1, max_size=30))
def test_from_edges_strength_is_symmetric_and_the_strongest_record(
        edges: list[tuple[int, int, float]]) -> None:
    src, dst, tie = (np.array(column) for column in zip(*edges, strict=True))
    graph = from_edges(src, dst, 8, tie)
    expected: dict[tuple[int, int], float] = {}
    for a, b, s in edges:
        if a != b:
            for key in ((a, b), (b, a)):
                expected[key] = max(expected.get(key, 0.0), s)
    assert dict(zip(edge_pairs(graph), graph.strength.tolist(), strict=True)) == expected
