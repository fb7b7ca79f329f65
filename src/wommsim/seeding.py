"""Seeding: which consumers get something first, by rule.

One rule set places the existing customers or free-sample receivers at step 0
(``consumer.initial_adopters``) and the first viewers of new content (``content.seeding``):

=============  ===========================================================================
``random``     uniformly random consumers
``hubs``       highest degree first (ties by index): the best-connected
``fringe``     lowest degree first among consumers with a neighbour (ties at random;
               consumers without neighbours come last: they can tell nobody)
``bridges``    most weak ties first (the sum of ``1 - strength`` over a consumer's ties;
               ties by degree, then index); on a graph whose ties are all strong, lowest
               local clustering first (estimated from :data:`CLUSTERING_PAIRS` random pairs
               of neighbours per consumer; ties by degree, then index), consumers with fewer
               than two neighbours last: a consumer whose neighbours do not know each other
               joins otherwise separate circles (Granovetter 1973; Burt 1992)
``community``  all in one community: a random consumer's community (personal network,
               block), its members in random order, spilling into the next communities
               (by number) when ``k`` exceeds it; on a graph without communities, a ball
               around a random consumer: breadth-first by distance, the last level drawn at
               random, and a new random start when its component is exhausted
``file``       the consumers listed in ``consumer.seed_file``, one consumer id (``0 ..
               n-1``) or edge-list label a line, ``#`` starting a comment; errors name the
               file and line. ``k`` takes the first ``k`` listed; a shorter list is topped up
               with random other consumers
=============  ===========================================================================

Hinz, Skiera, Barrot & Becker (2011) compared hub, bridge, fringe and random seeding in the
field; Goldenberg, Libai & Muller (2001) seeded one personal network. Everything is
vectorised: a sort or a pass over the stored ties; the breadth-first ball loops over
distance levels, not consumers. Rankings that need no random draw (``hubs``, ``bridges``
with marked ties) and the file's list are computed once per :class:`Seeder`; the ranking of
``fringe`` and the clustering estimate are drawn once, at first use, from the caller's
stream.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from wommsim.config import SEED_RULES, ConfigError, input_file_problem
from wommsim.network.graph import SocialGraph

#: Random pairs of neighbours per consumer in the clustering estimate of ``bridges``.
CLUSTERING_PAIRS = 16
#: Consumers per chunk of the clustering estimate (bounds its temporaries).
CLUSTERING_CHUNK = 1 << 16


class Seeder:
    """Places seeds on ``graph`` by rule; ``seed_file`` is the list of the ``file`` rule."""

    def __init__(self, graph: SocialGraph, seed_file: str = "") -> None:
        self.graph = graph
        self.seed_file = seed_file
        self._rankings: dict[str, np.ndarray] = {}
        self._listed: np.ndarray | None = None
        self._bounds = np.empty(0, dtype=np.int64)

    @property
    def n(self) -> int:
        return self.graph.n

    def place(self, rule: str, k: int, rng: np.random.Generator) -> np.ndarray:
        """``min(k, n)`` distinct consumers (``int64``) placed by ``rule`` (module doc)."""
        k = max(0, min(int(k), self.n))
        if rule == "random":
            return np.sort(rng.choice(self.n, size=k, replace=False)).astype(np.int64)
        if rule in ("hubs", "fringe", "bridges"):
            return self.ranking(rule, rng)[:k]
        if rule == "community":
            return self._community(k, rng)
        if rule == "file":
            listed = self.listed()[:k]
            if listed.size == k:
                return listed
            others = np.setdiff1d(np.arange(self.n), listed)
            return np.concatenate([listed, rng.choice(others, k - listed.size,
                                                      replace=False)]).astype(np.int64)
        raise ConfigError(f"seeding rule {rule!r}: must be one of {', '.join(SEED_RULES)}")

    def ranking(self, rule: str, rng: np.random.Generator | None = None) -> np.ndarray:
        """Every consumer in the order ``rule`` (``hubs``, ``fringe`` or ``bridges``) seeds
        them, computed once."""
        if rule not in self._rankings:
            degree = self.graph.degree.astype(np.int64)
            if rule == "hubs":
                order = np.argsort(-degree, kind="stable")
            elif rule == "fringe":
                key = np.where(degree > 0, degree, np.iinfo(np.int64).max)
                order = np.lexsort((_draw(rng, self.n), key))
            elif rule == "bridges":
                order = self._bridges(degree, rng)
            else:
                raise ValueError(f"no ranking for seeding rule {rule!r}")
            self._rankings[rule] = order.astype(np.int64, copy=False)
        return self._rankings[rule]

    def _bridges(self, degree: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
        graph, index = self.graph, np.arange(self.n)
        if graph.strength is not None:
            rows = np.repeat(index, degree)
            weak = np.bincount(rows, weights=1.0 - graph.strength.astype(np.float64),
                               minlength=self.n)
            return np.lexsort((index, -degree, -weak))
        clustering = local_clustering(graph, _rng(rng))
        clustering[degree < 2] = np.inf  # a consumer with one neighbour bridges nothing
        return np.lexsort((index, -degree, clustering))

    def _community(self, k: int, rng: np.random.Generator) -> np.ndarray:
        if k == 0:
            return np.empty(0, dtype=np.int64)
        start = int(rng.integers(self.n))
        community = self.graph.community
        if community is None:
            return self._ball(k, start, rng)
        members, bounds = self._communities()
        count = bounds.size - 1
        first = int(community[start])
        order = (first + np.arange(count)) % count  # its own, then the next by number
        sizes = np.diff(bounds)[order]
        whole = int(np.searchsorted(np.cumsum(sizes), k, side="right"))  # taken whole
        end = first + whole  # the whole communities are one or two runs of `members`
        taken = ([members[bounds[first]:bounds[end]]] if end <= count else
                 [members[bounds[first]:], members[:bounds[end - count]]])
        rest = k - int(sizes[:whole].sum())
        if rest:
            c = order[whole]
            pool = members[bounds[c]:bounds[c + 1]]
            if whole == 0:  # the consumer drawn, then others of its community at random
                taken = [np.array([start]),
                         rng.choice(pool[pool != start], rest - 1, replace=False)]
            else:
                taken.append(rng.choice(pool, rest, replace=False))
        return np.concatenate(taken).astype(np.int64)

    def _communities(self) -> tuple[np.ndarray, np.ndarray]:
        """Consumers grouped by community and each community's bounds in that order."""
        if "community" not in self._rankings:
            community = self.graph.community
            self._rankings["community"] = np.argsort(community, kind="stable")
            self._bounds = np.searchsorted(community[self._rankings["community"]],
                                           np.arange(int(community.max()) + 2))
        return self._rankings["community"], self._bounds

    def _ball(self, k: int, start: int, rng: np.random.Generator) -> np.ndarray:
        """Breadth-first from ``start``: whole levels while they fit, the last drawn at
        random; a new random unplaced start when the component runs out."""
        indptr, indices = self.graph.adjacency.indptr, self.graph.adjacency.indices
        placed = np.zeros(self.n, dtype=bool)
        chosen: list[np.ndarray] = []
        total = 0
        frontier = np.array([start], dtype=np.int64)
        while total < k:
            if frontier.size == 0:  # component exhausted: start again elsewhere
                frontier = rng.choice(np.flatnonzero(~placed), size=1)
            if total + frontier.size > k:
                frontier = np.sort(rng.choice(frontier, k - total, replace=False))
            placed[frontier] = True
            chosen.append(frontier)
            total += frontier.size
            reached = _neighbours(indptr, indices, frontier)
            frontier = np.unique(reached[~placed[reached]]).astype(np.int64)
        return np.concatenate(chosen)

    def listed(self) -> np.ndarray:
        """The consumers of ``seed_file`` in the file's order (read once)."""
        if self._listed is None:
            self._listed = read_seed_file(self.seed_file, self.n, self.graph.labels)
        return self._listed


def place(rule: str, k: int, graph: SocialGraph, rng: np.random.Generator,
          seed_file: str = "") -> np.ndarray:
    """``min(k, n)`` distinct consumers of ``graph`` placed by ``rule`` (module doc)."""
    return Seeder(graph, seed_file).place(rule, k, rng)


def local_clustering(graph: SocialGraph, rng: np.random.Generator,
                     pairs: int = CLUSTERING_PAIRS) -> np.ndarray:
    """Estimated local clustering of every consumer: the share of ``pairs`` random pairs
    of distinct neighbours (drawn with replacement) that are neighbours themselves; NaN
    below two neighbours. A tie is looked up by binary search in the sorted keys
    ``row * n + column`` of the CSR adjacency; consumers are handled in chunks of
    :data:`CLUSTERING_CHUNK`, so temporaries stay bounded."""
    adjacency, n = graph.adjacency, graph.n
    indptr = adjacency.indptr.astype(np.int64)
    degree = np.diff(indptr)
    rows = np.repeat(np.arange(n, dtype=np.int64), degree)
    keys = rows * n + adjacency.indices  # sorted: CSR rows in order, sorted columns
    del rows
    result = np.full(n, np.nan)
    for lo in range(0, n, CLUSTERING_CHUNK):  # a loop over chunks, not consumers
        who = np.arange(lo, min(lo + CLUSTERING_CHUNK, n))
        who = who[degree[who] >= 2]
        if who.size == 0:
            continue
        d = degree[who][:, None]
        first = (rng.random((who.size, pairs)) * d).astype(np.int64)
        second = (rng.random((who.size, pairs)) * (d - 1)).astype(np.int64)
        second += second >= first  # a distinct second neighbour
        a = adjacency.indices[indptr[who][:, None] + first].astype(np.int64)
        b = adjacency.indices[indptr[who][:, None] + second].astype(np.int64)
        wanted = a * n + b
        pos = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
        result[who] = (keys[pos] == wanted).mean(axis=1)
    return result


def read_seed_file(path: str, n: int, labels: np.ndarray | None = None) -> np.ndarray:
    """The consumers listed in ``path``, one a line in the file's order (``int64``).

    A line holds one consumer: an id in ``0 .. n-1``, or with ``labels`` (an edge-list
    graph) one of its node labels; ``#`` starts a comment and blank lines are skipped.
    Refused, naming the file and line: a line with more than one field, an id that is not
    an integer in range, a label not in the graph, a consumer listed twice, an empty list.
    """
    where = f"consumer.seed_file={path!r}"
    if not path:
        raise ConfigError(f"{where}: the seeding rule file needs a file "
                          "(consumer.seed_file=/path/to/seeds.txt)")
    problem = input_file_problem(path)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read the file as UTF-8 text ({exc})") from None
    lines = pd.Series(text.split("\n"), dtype=object)
    fields = lines.str.split("#", n=1).str[0].str.replace(",", " ").str.split()
    count = fields.str.len()
    several = np.flatnonzero(count.to_numpy() > 1)
    if several.size:
        line = int(several[0])
        raise ConfigError(f"{where} line {line + 1}: expected one consumer, got "
                          f"{lines[line].strip()!r}")
    data = np.flatnonzero(count.to_numpy() == 1)
    tokens = fields.iloc[data].str[0].to_numpy(dtype=object)
    if tokens.size == 0:
        raise ConfigError(f"{where}: lists no consumer (empty, or only comments)")
    if labels is not None:
        ids = pd.Index(labels).get_indexer(tokens)
        bad = np.flatnonzero(ids < 0)
        if bad.size:
            raise ConfigError(f"{where} line {data[bad[0]] + 1}: {tokens[bad[0]]!r} is no "
                              "node label of the network's edge list")
    else:
        numbers = pd.to_numeric(pd.Series(tokens), errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(~((numbers >= 0) & (numbers < n) & (numbers == np.round(numbers))))
        if bad.size:
            raise ConfigError(f"{where} line {data[bad[0]] + 1}: {tokens[bad[0]]!r} is not a "
                              f"consumer id (an integer from 0 to {n - 1})")
        ids = numbers.astype(np.int64)
    ids = ids.astype(np.int64)
    twice = pd.Series(ids).duplicated().to_numpy()
    if twice.any():
        i = int(np.flatnonzero(twice)[0])
        j = int(np.flatnonzero(ids == ids[i])[0])
        raise ConfigError(f"{where} line {data[i] + 1}: {tokens[i]!r} is listed twice (first "
                          f"on line {data[j] + 1})")
    return ids


def _neighbours(indptr: np.ndarray, indices: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """The neighbour lists of ``sources`` in a CSR adjacency, concatenated."""
    starts = indptr[sources].astype(np.int64)
    degree = indptr[sources + 1] - starts
    offset = np.repeat(starts - (np.cumsum(degree) - degree), degree)
    return indices[offset + np.arange(int(degree.sum()), dtype=np.int64)].astype(np.int64)


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    if rng is None:
        raise ValueError("this seeding rule draws random numbers: pass its rng")
    return rng


def _draw(rng: np.random.Generator | None, n: int) -> np.ndarray:
    return _rng(rng).random(n)
