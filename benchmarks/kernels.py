"""Baselines for the model's ``bass`` rule: two bare NumPy/SciPy kernels and per-agent Mesa.

All three run the same process as ``decision=bass`` with ``strategy=none``: discrete-time
Bass diffusion on a network, which is SI contagion with a spontaneous term. Each step,
every consumer who has not adopted adopts with probability

    h_i = min(1, p + q * a_i / k_i)

where ``a_i`` is the number of its neighbours that had adopted when the step began, ``k_i``
its degree (``a_i / k_i = 0`` for isolated consumers), ``p`` the innovation and ``q`` the
imitation coefficient (Bass 1969). Updates are synchronous: every consumer reads the state
as it was at the start of the step, as in the model. Adoption never reverts. This is the
same work as SI (one count of infected neighbours and one random draw per susceptible per
step); the SI hazard ``1 - (1 - beta)**a_i`` would cost the same.

* :class:`SparsePassKernel`, the reference ("one sparse pass"): each step one sparse
  matrix-vector product ``adjacency @ adopted`` over every stored edge, then one uniform
  draw per susceptible consumer.
* :class:`SkipSettledKernel` ("skipping settled nodes"): adopted-neighbour counts are kept
  up to date from the new adopters' edges only, and the list of susceptible consumers
  shrinks as they adopt, so settled consumers and their edges cost nothing after the step
  they adopt in.
* :class:`MesaBassModel`: per-agent Mesa 3.5, one :class:`BassAgent` per consumer with a
  Python ``step`` that loops over its neighbours (activated by
  ``model.agents.shuffle_do("step")``); decisions are applied after all agents have
  stepped (the classic simultaneous-activation pattern).

The kernels take a CSR graph (``indptr``, ``indices`` of a symmetric adjacency without
self-loops), such as ``wommsim.network.build_network(...).adjacency``, and only use
NumPy, SciPy and Mesa, not wommsim's mechanisms.
"""

from __future__ import annotations

import mesa
import numpy as np
import scipy.sparse as sp


def neighbours_of(indptr: np.ndarray, indices: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Every neighbour of every node in ``nodes`` (with repeats), read from CSR arrays."""
    starts = indptr[nodes].astype(np.int64)
    lengths = indptr[nodes + 1].astype(np.int64) - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=indices.dtype)
    # Position of each edge in `indices`: its row start plus its rank within the row.
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return indices[offsets + np.arange(total, dtype=np.int64)]


def initial_adopters(n: int, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask: each consumer has adopted at step 0 with probability ``fraction``."""
    return rng.random(n) < fraction


class SparsePassKernel:
    """Reference kernel: one sparse mat-vec per step, one draw per susceptible consumer."""

    name = "ref: sparse pass"

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, adopted: np.ndarray,
                 p: float, q: float, rng: np.random.Generator) -> None:
        n = adopted.size
        self.adjacency = sp.csr_array(
            (np.ones(indices.size, dtype=np.float32), indices, indptr), shape=(n, n))
        degree = np.diff(indptr)
        # q / k_i, so that the hazard is p + a_i * (q / k_i); 0 for isolated consumers.
        self.q_over_degree = np.divide(q, degree, out=np.zeros(n), where=degree > 0)
        self.p = p
        self.adopted = adopted.copy()
        self.rng = rng

    def step(self) -> int:
        """Advance one step; return the number of new adopters."""
        adopted_neighbours = self.adjacency @ self.adopted.astype(np.float32)
        susceptible = np.flatnonzero(~self.adopted)
        hazard = self.p + adopted_neighbours[susceptible] * self.q_over_degree[susceptible]
        new = susceptible[self.rng.random(susceptible.size) < hazard]
        self.adopted[new] = True
        return new.size


class SkipSettledKernel:
    """Incremental kernel: only new adopters' edges and still-susceptible consumers."""

    name = "ref: skip settled"

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, adopted: np.ndarray,
                 p: float, q: float, rng: np.random.Generator) -> None:
        n = adopted.size
        self.indptr, self.indices = indptr, indices
        degree = np.diff(indptr)
        self.q_over_degree = np.divide(q, degree, out=np.zeros(n), where=degree > 0)
        self.p = p
        self.adopted = adopted.copy()
        self.susceptible = np.flatnonzero(~adopted)
        self.adopted_neighbours = np.bincount(
            neighbours_of(indptr, indices, np.flatnonzero(adopted)), minlength=n)
        self.rng = rng

    def step(self) -> int:
        """Advance one step; return the number of new adopters."""
        sus = self.susceptible
        hazard = self.p + self.adopted_neighbours[sus] * self.q_over_degree[sus]
        bought = self.rng.random(sus.size) < hazard
        new = sus[bought]
        self.susceptible = sus[~bought]
        self.adopted[new] = True
        if new.size:
            self.adopted_neighbours += np.bincount(
                neighbours_of(self.indptr, self.indices, new), minlength=self.adopted.size)
        return new.size


class BassAgent(mesa.Agent):
    """One consumer of :class:`MesaBassModel`: decides in Python from its neighbours."""

    def __init__(self, model: MesaBassModel, adopted: bool) -> None:
        super().__init__(model)
        self.adopted = adopted
        self.neighbours: list[BassAgent] = []

    def step(self) -> None:
        if self.adopted:
            return
        neighbours = self.neighbours
        share = (sum(1 for other in neighbours if other.adopted) / len(neighbours)
                 if neighbours else 0.0)
        model = self.model
        if model.random.random() < model.p + model.q * share:
            model.decided.append(self)


class MesaBassModel(mesa.Model):
    """Per-agent Mesa: one :class:`BassAgent` per consumer, neighbour lists from the CSR."""

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, adopted: np.ndarray,
                 p: float, q: float, seed: int) -> None:
        super().__init__(rng=seed)
        self.p, self.q = p, q
        self.decided: list[BassAgent] = []
        consumers = BassAgent.create_agents(self, adopted.size, adopted.tolist())
        people = list(consumers)
        for i, agent in enumerate(people):
            agent.neighbours = [people[j] for j in indices[indptr[i]:indptr[i + 1]].tolist()]
        self.people = people

    @property
    def adopted(self) -> np.ndarray:
        """Boolean adoption state by consumer index."""
        return np.fromiter((agent.adopted for agent in self.people), dtype=bool,
                           count=len(self.people))

    def step(self) -> int:
        """Every agent decides (random order), then the decisions take effect together."""
        self.decided = []
        self.agents.shuffle_do("step")
        for agent in self.decided:
            agent.adopted = True
        return len(self.decided)
