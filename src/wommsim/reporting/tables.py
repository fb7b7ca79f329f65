"""Markdown tables and the numbers in them, for the run report and the validation report."""

from __future__ import annotations

import math
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


def number(x: float, decimals: int, scale: float = 1.0, sign: bool = False) -> str:
    """``x`` x ``scale`` rounded, with thousands separators; NaN as ``n/a``."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    value = round(float(x) * scale, decimals) + 0.0  # no "-0.0"
    return f"{value:{'+' if sign else ''},.{decimals}f}"


def with_interval(mean: float, lo: float, hi: float, decimals: int, scale: float = 1.0,
                  sign: bool = False) -> str:
    """``mean [lo, hi]``; just the mean when there is no interval."""
    text = number(mean, decimals, scale, sign)
    if text != "n/a" and all(math.isfinite(float(v)) for v in (lo, hi)):
        text += f" [{number(lo, decimals, scale, sign)}, {number(hi, decimals, scale, sign)}]"
    return text
