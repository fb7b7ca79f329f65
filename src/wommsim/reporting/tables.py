"""Markdown tables, for the run report and the validation report."""

from __future__ import annotations

from collections.abc import Sequence


def cell(text: object) -> str:
    """``text`` as one Markdown table cell: bars escaped, line breaks flattened."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(header: Sequence[object], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table: the header, the rule, one line per row, every cell escaped."""
    lines = ["| " + " | ".join(cell(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
