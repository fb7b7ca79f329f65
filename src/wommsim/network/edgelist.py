"""Reading a network from an edge-list file: one pair of node labels per line, optionally
followed by the tie's strength; the labels are the consumers. Errors name the file and line;
a line-by-line pass runs only to locate one."""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from wommsim.config import input_file_problem
from wommsim.network.graph import NetworkError, SocialGraph, from_edges

_COMMENT_RE = re.compile(r"#[^\n]*")


_PAIR_RE = re.compile(r"^[^\S\n]*(\S+)[^\S\n]+(\S+)(?:[^\S\n]+(\S+))?", re.MULTILINE)


_NONBLANK_RE = re.compile(r"^[^\S\n]*\S", re.MULTILINE)


def _clean(line: str) -> list[str]:
    return line.split("#", 1)[0].replace(",", " ").split()


def read_edgelist(path: str) -> SocialGraph:
    """Read an undirected edge list; consumers are the labels in order of first appearance.

    One pair of node labels per line, separated by whitespace and/or commas; ``#`` starts a
    comment; blank lines are skipped. An optional third column is the tie's strength, a
    number in [0, 1] (1 strong, 0 weak; a line without one is a strong tie, and a file
    without any has ``strength = None``); further columns are ignored. Self-loops are
    dropped (their node is kept) and duplicate edges merged, keeping the strongest. Labels
    are kept as strings in ``SocialGraph.labels`` (an object array). A first line that looks
    like a column header (``source,target``: see :func:`_refuse_header`) is refused, naming
    the line.
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
    flat = np.fromiter(itertools.chain.from_iterable(pair[:2] for pair in pairs),
                       dtype=object, count=2 * len(pairs))
    codes, labels = pd.factorize(flat, sort=False)
    _refuse_header(where, body, pairs, codes)
    strength = _strengths(where, text, [pair[2] for pair in pairs])
    graph = from_edges(codes[0::2], codes[1::2], labels.size, strength)
    if graph.adjacency.nnz == 0:
        raise NetworkError(f"{where}: no edges (every line is a self-loop)")
    return SocialGraph(graph.adjacency, labels, graph.strength)


def _strengths(where: str, text: str, fields: list[str]) -> np.ndarray | None:
    """The strength column (one field per edge, ``""`` where a line has none: a strong tie),
    or None when no line has one. A value that is not a number in [0, 1] is refused,
    naming its line (found by a line-by-line pass, run only then)."""
    column = pd.Series(fields, dtype=object)
    given = column != ""
    if not given.any():
        return None
    values = pd.to_numeric(column.where(given, "1"), errors="coerce").to_numpy(np.float64)
    if np.all((values >= 0.0) & (values <= 1.0)):  # NaN (not a number) fails both
        return values.astype(np.float32)
    for number, line in enumerate(text.split("\n"), start=1):
        fields_of_line = _clean(line)
        if len(fields_of_line) < 3:
            continue
        try:
            value = float(fields_of_line[2])
        except ValueError:
            value = math.nan
        if not 0.0 <= value <= 1.0:
            raise NetworkError(f"{where} line {number}: tie strength {fields_of_line[2]!r} "
                               "is not a number in [0, 1] (third column: 1 a strong tie, 0 a "
                               "weak one)")
    raise AssertionError("strength fast path and line pass disagree")  # pragma: no cover


def _is_number(label: str) -> bool:
    try:
        float(label)
    except ValueError:
        return False
    return True


def _refuse_header(where: str, body: str, pairs: list[tuple[str, str, str]],
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
    if all(_is_number(label) for label in pairs[0][:2]):
        return
    first = _NONBLANK_RE.search(body)
    line = body.count("\n", 0, first.start()) + 1 if first else 1
    raise NetworkError(f"{where} line {line}: {' '.join(pairs[0][:2])!r} looks like a column "
                       "header, not an edge (its labels appear on no other line); delete "
                       "the line or comment it out with '#'")
