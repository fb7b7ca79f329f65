"""The social graph the consumers talk over: generators, an edge-list loader and helpers.

Modules: :mod:`~wommsim.network.graph` (the stored graph), :mod:`~wommsim.network.generators`,
:mod:`~wommsim.network.edgelist` and :mod:`~wommsim.network.kinds` (the registry of kinds and
:func:`build_network`). Import from this package.

Every graph is stored as a :class:`SocialGraph`, a thin frozen wrapper around a symmetric
``scipy.sparse.csr_array`` adjacency matrix (no self-loops, no duplicate edges, sorted
column indices, ``float32`` ones as data), with the strength of every tie (1 strong, 0 weak;
``None`` when all are strong: the community builders and weighted edge lists set it) and the
community of every consumer where a builder plants them. :func:`build_network` dispatches on
``NetworkConfig.kind``:

========================  ==================================================================
``barabasi_albert``       preferential attachment (Barabási & Albert 1999), same law as
                          ``networkx.barabasi_albert_graph``
``watts_strogatz``        rewired ring lattice (Watts & Strogatz 1998)
``erdos_renyi``           G(n, p) (Erdős & Rényi 1959; Gilbert 1959), sparse sampler
``stochastic_block``      planted communities (Holland, Laskey & Leinhardt 1983)
``personal_networks``     many small personal networks joined by weak ties (Goldenberg,
                          Libai & Muller 2001)
``complete``              everybody knows everybody
``edgelist``              a file of node-label pairs
========================  ==================================================================

All generators draw their randomness only from the ``numpy.random.Generator`` passed in,
so the same seed gives the identical graph. None of them loops in Python over nodes or
edges, except the rare duplicate-target repairs of the Barabási–Albert generator and the
line-by-line pass that locates an error in an edge-list file.
"""

from wommsim.network.edgelist import read_edgelist
from wommsim.network.generators import (
    block_of,
    block_sizes,
    decode_pair_index,
    personal_network_count,
)
from wommsim.network.graph import (
    NetworkError,
    SocialGraph,
    from_edges,
    marked_by_community,
    to_networkx,
)
from wommsim.network.kinds import NETWORKS, NetworkKind, build_network, check_network

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
    "marked_by_community",
    "personal_network_count",
    "read_edgelist",
    "to_networkx",
]
