"""Estimate the memory a run needs before building its markets, and refuse runs that won't fit.

A market of ``n`` consumers on a graph with ``E`` stored adjacency entries (twice the
undirected edges) costs, per process holding it:

* building the graph: generator temporaries, ``NETWORKS[kind].build_bytes_per_entry * E``
  (the peak of a run on a sparse graph is reached here, inside ``build_network``);
* holding it: the CSR adjacency (index and ``float32`` data per entry, an index per
  consumer), the consumer state (the itemsizes of :data:`wommsim.state.STATE_VARS`), the
  model's per-consumer arrays (:data:`MODEL_BYTES_PER_CONSUMER`) and a step's temporaries
  (:data:`STEP_BYTES_PER_ENTRY` per entry: word of mouth draws per edge of every speaker);
* with Mesa agents on: :data:`AGENT_BYTES_PER_CONSUMER` and a networkx graph
  (:data:`AGENT_BYTES_PER_ENTRY`).

The market's peak is the larger of building and holding, plus agents. Every process also
holds the interpreter with its imports (:data:`INTERPRETER_BYTES`). Replicates run on
``worker_count(workers, tasks)`` processes at once, each holding one market, beside the main
process. The coefficients were measured with ``ru_maxrss`` on Linux, Python 3.12, NumPy 2
(``benchmarks/bench_memory.py`` prints estimate against measurement); each is rounded up.

The available memory is ``MemAvailable`` from ``/proc/meminfo``, lowered to the cgroup's
limit minus its usage where a cgroup (v2 or v1) limits this process; elsewhere the
``sysconf`` count of available pages; if nothing is known the check is skipped (logged).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wommsim.config import Config, ConfigError, input_file_problem
from wommsim.network import NETWORKS

log = logging.getLogger(__name__)

MB = 1024**2
GB = 1024**3

#: Resident memory of a process after importing wommsim, pandas, SciPy, Mesa, Hydra:
#: 153-192 MB measured. About 86 MB of it is the heap; the rest is the shared libraries'
#: pages, 64-104 MB depending on how they sit in the page cache (most in a fresh install).
#: Rounded up.
INTERPRETER_BYTES = 210 * MB

#: Reading an edge list: Python strings and tuples per line, then label arrays; measured
#: 590 B per line on 2M lines of 25.5 bytes (``user123,user456,1.0``), fitted as
#: ``EDGELIST_BYTES_PER_LINE + EDGELIST_BYTES_PER_CHAR * mean line length`` and rounded up.
EDGELIST_BYTES_PER_LINE = 380.0
EDGELIST_BYTES_PER_CHAR = 10.0
#: A step's temporaries per stored entry when everyone talks (conversations are drawn by
#: geometric skips, so this is per conversation rather than per edge): 8.2 B measured on a
#: complete graph of 3,000 consumers (9M entries), rounded up.
STEP_BYTES_PER_ENTRY = 10.0
#: Per consumer, besides the state arrays: adopted-neighbour counts (float64), degree
#: (int32), hub order (int64), the social-proof share (float64) and the opinion rule's
#: six-column utility matrix (float64) for a market of aware non-adopters.
MODEL_BYTES_PER_CONSUMER = 8 + 4 + 8 + 8 + 6 * 8
#: Mesa ``Consumer`` agents with their cells, and the networkx graph Mesa's ``Network``
#: space is built from: 1.7-1.9 kB per consumer measured at 10k and 50k consumers with 8
#: entries each, split as below (rounded up).
AGENT_BYTES_PER_CONSUMER = 1500.0
AGENT_BYTES_PER_ENTRY = 130.0
#: A row of the per-step results table (about 45 numeric columns), with the copies made
#: while concatenating and writing it.
RESULT_BYTES_PER_ROW = 45 * 8 * 4


@dataclass(frozen=True)
class Estimate:
    """Bytes a run needs at its peak, with the parts the message explains."""

    consumers: int
    entries: int  # stored adjacency entries (2 x undirected edges)
    market: int  # one market at its peak (graph build or steady state + step, + agents)
    processes: int  # processes holding a market at once
    interpreters: int  # interpreter bytes over all processes
    results: int  # the results table
    rows: int = 0  # rows of the results table (steps + 1 per replicate of each arm)
    largest: Config | None = None  # the arm whose market is the largest

    @property
    def total(self) -> int:
        return self.processes * self.market + self.interpreters + self.results


def stored_entries(cfg: Config) -> int:
    """Expected stored adjacency entries (2 x undirected edges) of a generated network."""
    count = NETWORKS[cfg.network.kind].stored_entries
    if count is None:
        raise ConfigError(f"network.kind={cfg.network.kind!r}: no edge count for this kind")
    return count(cfg.network, cfg.consumers)


def edgelist_size(path: str) -> tuple[int, int]:
    """``(lines, bytes)`` of an edge-list file, read in 16 MiB chunks; ``(0, 0)`` if it
    cannot be read or is not a regular file (never read: a FIFO would block; the loader
    then reports the file's problem)."""
    if input_file_problem(path):
        return 0, 0
    lines = size = 0
    last = b"\n"
    try:
        with open(path, "rb") as file:
            while chunk := file.read(16 * MB):
                lines += chunk.count(b"\n")
                size += len(chunk)
                last = chunk[-1:]
    except OSError:
        return 0, 0
    return lines + (last != b"\n"), size


def state_bytes_per_consumer(brands: int = 1) -> int:
    """Bytes of the consumer state arrays per consumer, from their declared dtypes and axes
    (a variable with the brand axis has one entry per brand)."""
    from wommsim.state import BRAND, STATE_VARS

    return sum(np.dtype(var.dtype).itemsize * (brands if var.axes == BRAND else 1)
               for var in STATE_VARS.values())


def market_bytes(cfg: Config) -> tuple[int, int, int]:
    """``(consumers, stored entries, peak bytes)`` of one market of this configuration.

    For an edge list the file decides: one undirected edge per line, and as many consumers
    as lines (a mean degree of 2; denser files have fewer).
    """
    if cfg.network.kind == "edgelist":
        lines, size = edgelist_size(cfg.network.path)
        n, entries = lines, 2 * lines
        build = lines * (EDGELIST_BYTES_PER_LINE
                         + EDGELIST_BYTES_PER_CHAR * (size / lines if lines else 0))
    else:
        n, entries = cfg.consumers, stored_entries(cfg)
        build = NETWORKS[cfg.network.kind].build_bytes_per_entry * entries
    index = 4 if entries < 2**31 and n < 2**31 else 8
    # CSR indices and float32 data, indptr, and the model's source of every stored entry
    graph = entries * (index + 4) + (n + 1) * index + entries * index
    held = (graph + n * (state_bytes_per_consumer() + MODEL_BYTES_PER_CONSUMER)
            + STEP_BYTES_PER_ENTRY * entries)
    peak = max(build + 16 * n, held)
    if cfg.agents == "on":  # with auto, a run builds none (they are built when first read)
        peak += AGENT_BYTES_PER_CONSUMER * n + AGENT_BYTES_PER_ENTRY * entries
    return n, entries, int(peak)


def estimate(configs: list[Config], workers: int) -> Estimate:
    """The peak memory of running ``configs`` (one per arm) on ``workers`` processes.

    The largest arm's market is assumed on every worker at once; the main process holds
    its interpreter and, with more than one worker, no market (it pre-flights the network
    before the workers start, which the single-process peak covers).
    """
    markets: dict[tuple, tuple[tuple[int, int, int], Config]] = {}
    for c in configs:  # arms or points that share a market are estimated once
        key = (repr(c.network), c.consumers, c.agents)
        if key not in markets:
            markets[key] = (market_bytes(c), c)
    (n, entries, market), largest = max(markets.values(), key=lambda m: m[0][2])
    tasks = sum(c.replicates for c in configs)
    rows = tasks * (max(c.steps for c in configs) + 1)
    processes = workers + (1 if workers > 1 else 0)
    return Estimate(consumers=n, entries=entries, market=market, processes=workers,
                    interpreters=processes * INTERPRETER_BYTES,
                    results=rows * RESULT_BYTES_PER_ROW, rows=rows, largest=largest)


# -- what is available ------------------------------------------------------------------------

def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max" (no limit) -> None


def _meminfo_available(meminfo: Path) -> int | None:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_headroom(root: Path, self_cgroup: Path) -> int | None:
    """Limit minus usage of the tightest cgroup (v2, else v1) holding this process."""
    try:
        lines = self_cgroup.read_text().splitlines()
    except OSError:
        return None
    best: int | None = None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2: memory.max / memory.current up the tree
            node = root / path.lstrip("/")
            while True:
                limit = _read_int(node / "memory.max")
                used = _read_int(node / "memory.current")
                if limit is not None:
                    room = limit - (used or 0)
                    best = room if best is None else min(best, room)
                if node == root or root not in node.parents:
                    break
                node = node.parent
        elif "memory" in controllers.split(","):  # cgroup v1
            node = root / "memory" / path.lstrip("/")
            limit = _read_int(node / "memory.limit_in_bytes")
            used = _read_int(node / "memory.usage_in_bytes")
            if limit is not None and limit < 2**60:  # v1 says "no limit" with a huge number
                room = limit - (used or 0)
                best = room if best is None else min(best, room)
    return best


def available_bytes(meminfo: Path = Path("/proc/meminfo"),
                    cgroup_root: Path = Path("/sys/fs/cgroup"),
                    self_cgroup: Path = Path("/proc/self/cgroup")) -> tuple[int | None, str]:
    """``(bytes, where from)`` of memory this process can still use; ``None`` if unknown."""
    found = _meminfo_available(meminfo)
    source = "MemAvailable in /proc/meminfo"
    if found is None:
        try:
            found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            source = "available physical pages (sysconf)"
        except (ValueError, OSError, AttributeError):
            found = None
    headroom = _cgroup_headroom(cgroup_root, self_cgroup)
    if headroom is not None and (found is None or headroom < found):
        found, source = max(headroom, 0), "the cgroup's memory limit minus its usage"
    return found, source


def _size(value: float) -> str:
    return f"{value / GB:.1f} GB" if value >= GB else f"{value / MB:.0f} MB"


def check_memory(configs: list[Config], workers: int) -> Estimate:
    """Raise :class:`ConfigError` if the run will not fit in memory (unless ``force_memory``).

    The message gives the estimate, what is available and how to proceed.
    """
    need = estimate(configs, workers)
    have, source = available_bytes()
    log.debug("memory: need about %s (%d x %s per market), available %s", _size(need.total),
              need.processes, _size(need.market), "unknown" if have is None else _size(have))
    if have is None:
        log.info("memory: available memory unknown on this system; not checked")
        return need
    if need.total <= have:
        return need
    if any(c.force_memory for c in configs):
        log.warning("memory: this run needs about %s but only %s is available (%s); "
                    "running anyway (force_memory=true)", _size(need.total), _size(have),
                    source)
        return need
    first = configs[0]
    holders = (f"{need.processes} parallel processes (workers={first.workers}) each hold"
               if need.processes > 1 else "one process holds")
    market = need.largest or first
    markets = (f"{holders} a market of {need.consumers:,} consumers on a "
               f"{market.network.kind} network with {need.entries // 2:,} edges "
               f"({_size(need.market)} each)")
    steps = max(c.steps for c in configs)
    arms = f" x {len(configs)} arms" if len(configs) > 1 else ""
    table = (f"the results table of {need.rows:,} rows ({steps + 1:,} per replicate{arms}) "
             f"takes {_size(need.results)}")
    python = f"{_size(need.interpreters)} for the Python processes"
    # Name the key that drives the estimate, and the way out that helps.
    parts = {"market": need.processes * need.market, "results": need.results,
             "interpreters": need.interpreters}
    driver = max(parts, key=parts.get)
    if driver == "results":
        key = f"steps={steps}, replicates={first.replicates}"
        detail, fewer = f"{table}; {markets}, plus {python}", "fewer steps or replicates"
    elif driver == "interpreters":
        key = f"workers={first.workers}"
        detail = f"{need.processes + (need.processes > 1)} processes hold {python}; {markets}"
        fewer = "fewer workers"
    else:
        key = (f"network.path={market.network.path!r}" if market.network.kind == "edgelist"
               else f"consumers={need.consumers}")
        detail = f"{markets}, plus {python}"
        fewer = ("a smaller network" if market.network.kind == "edgelist" else
                 "fewer consumers") + (" or workers=1" if need.processes > 1 else "")
    raise ConfigError(
        f"{key}: this run needs about {_size(need.total)} of memory but only {_size(have)} "
        f"is available ({source}): {detail}. Use {fewer}, or set force_memory=true to run "
        "anyway.")
