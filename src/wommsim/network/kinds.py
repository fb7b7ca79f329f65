"""The network kinds, one registry entry each (:data:`NETWORKS`): what the builder, the
configuration check and the memory estimate need to know about a kind."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from wommsim.config import NETWORK_KINDS, NetworkConfig, input_file_problem
from wommsim.network.edgelist import read_edgelist
from wommsim.network.generators import (
    barabasi_albert,
    block_sizes,
    complete,
    erdos_renyi,
    personal_network_count,
    personal_networks,
    stochastic_block,
    watts_strogatz,
)
from wommsim.network.graph import NetworkError, SocialGraph

logger = logging.getLogger(__name__)


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
    - ``marks_ties``: whether its graphs may carry tie strengths (``float32`` per stored
      entry), for the memory estimate.
    """

    name: str
    params: tuple[str, ...]  # the NetworkConfig fields it reads
    check: Callable[[NetworkConfig, int], int]
    build: Callable[[NetworkConfig, int, np.random.Generator], SocialGraph]
    stored_entries: Callable[[NetworkConfig, int], int] | None
    build_bytes_per_entry: float
    marks_ties: bool = False


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
    return stochastic_block(n, cfg.blocks, cfg.mean_degree_in, cfg.mean_degree_out, rng)


def _check_personal(cfg: NetworkConfig, n: int) -> int:
    n, size = _check_population(n), _check_int("network_size", cfg.network_size, 1)
    strong = _check_number("strong_degree", cfg.strong_degree, 0.0)
    weak = _check_number("weak_degree", cfg.weak_degree, 0.0)
    sizes = block_sizes(n, personal_network_count(n, size))
    if strong > sizes.min() - 1:
        raise NetworkError(f"network.strong_degree={strong:g}: personal networks of "
                           f"{sizes.min()} consumers (consumers={n}, network.network_size="
                           f"{size}) allow at most {sizes.min() - 1} strong ties")
    if weak > 0 and (sizes.size == 1 or weak > n - sizes.max()):
        raise NetworkError(f"network.weak_degree={weak:g}: with consumers={n} in personal "
                           f"networks of network.network_size={size} a consumer has at most "
                           f"{n - sizes.max() if sizes.size > 1 else 0} consumers outside "
                           "its network")
    return n


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
                lambda cfg, n, rng: barabasi_albert(n, cfg.m, rng),
                lambda cfg, n: 2 * cfg.m * max(n - cfg.m, 0), 76.0),
    NetworkKind("watts_strogatz", ("k", "rewire_prob"), _check_ws,
                lambda cfg, n, rng: watts_strogatz(n, cfg.k, cfg.rewire_prob, rng),
                lambda cfg, n: 2 * (cfg.k // 2) * n, 64.0),
    NetworkKind("erdos_renyi", ("mean_degree",), _check_er,
                lambda cfg, n, rng: erdos_renyi(
                    n, cfg.mean_degree / (n - 1) if n > 1 else 0.0, rng),
                lambda cfg, n: math.ceil(min(cfg.mean_degree, n - 1) * n), 54.0),
    NetworkKind("stochastic_block", ("blocks", "mean_degree_in", "mean_degree_out"),
                _check_sbm, _build_sbm,
                lambda cfg, n: math.ceil((cfg.mean_degree_in + cfg.mean_degree_out) * n),
                74.0, marks_ties=True),
    # The stochastic block builder with small blocks; its temporaries are the same.
    NetworkKind("personal_networks", ("network_size", "strong_degree", "weak_degree"),
                _check_personal,
                lambda cfg, n, rng: personal_networks(n, cfg.network_size, cfg.strong_degree,
                                                      cfg.weak_degree, rng),
                lambda cfg, n: math.ceil((cfg.strong_degree + cfg.weak_degree) * n),
                74.0, marks_ties=True),
    NetworkKind("complete", (), lambda cfg, n: _check_population(n),
                lambda cfg, n, rng: complete(n), lambda cfg, n: n * (n - 1), 10.0),
    NetworkKind("edgelist", ("path",), _check_edgelist,
                lambda cfg, n, rng: read_edgelist(cfg.path), None, 0.0, marks_ties=True),
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
