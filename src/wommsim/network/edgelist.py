"""Reading a network from an edge-list file: one pair of node labels per line; the labels
are the consumers. Errors name the file and line; a line-by-line pass runs only to locate
one."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd

from wommsim.config import input_file_problem
from wommsim.network.graph import NetworkError, SocialGraph, from_edges

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
