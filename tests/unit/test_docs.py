"""Keep ``docs/ODD.md`` true to the code.

The ODD document's tables are checked against the schema and the code:

- every leaf parameter of :class:`wommsim.config.Config` has exactly one row in a parameter
  table (header ``Key | Default | Unit | Range | Meaning | Source``) whose default, unit and
  range cells are the schema's, written by the rule below, and no row names a parameter
  that does not exist;
- every strategy preset in ``configs/strategy/`` has one row in the preset table (header
  ``Preset | advertising | dialogue | content | reviews | incentives | ...``) with its shares;
- the per-step output table (header ``Column | Kind | ...``) lists exactly ``arm``,
  ``replicate``, ``step`` and every column the mechanisms and the market declare
  (:func:`wommsim.model.columns_of`), each with its declared kind; the mechanism table
  (header ``Mechanism | Stage | ...``) lists every mechanism of the schedule with its stage,
  stream and the state it writes; the summary table (header ``Outcome | ...``)
  exactly :data:`wommsim.reporting.analysis.OUTCOMES`; the state table (header ``Variable | ...``)
  exactly :data:`wommsim.state.STATE_VARS`; the media panel's table (header ``Panel column |
  ...``) exactly :data:`wommsim.attribution.PANEL_COLUMNS` (``<lever>`` and ``<kpi>`` stand
  for each lever and each of the panel's KPIs).

Formatting rule (stated in ODD.md too): a default or a share is its JSON encoding in
backticks (``json.dumps``: ``true``, ``10000``, ``0.96``, ``1000.0``, ``"auto"``, ``""``); a
numeric range is ``[lo, hi]`` (inclusive; integers as integers, floats in ``%g`` form), or
``(lo, hi]`` where the value must be strictly above ``lo``; a
choice is the backticked options joined by ``, ``; a boolean's range is ```true`, `false```;
a free string's range is ``text``, a list's or an optional section's ``structured``; a
missing unit is ``—``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from wommsim.attribution import PANEL_COLUMNS, WEEKLY_OUTCOMES
from wommsim.compose import configs_dir
from wommsim.config import LEVERS, Config, iter_params, plausible_ranges
from wommsim.mechanisms import SCHEDULE
from wommsim.model import METRICS, columns_of
from wommsim.reporting.analysis import OUTCOMES
from wommsim.state import STATE_VARS

ODD = Path(__file__).resolve().parents[2] / "docs" / "ODD.md"
PARAM_HEADER = ["Key", "Default", "Unit", "Range", "Meaning", "Source"]
PRESET_HEADER = ["Preset", *LEVERS]
RUN_COLUMNS = ("arm", "replicate", "step")  # added by WommModel.timeseries and the runner
PARAMS = list(iter_params(Config()))
PRESETS = sorted((configs_dir() / "strategy").glob("*.yaml"))


# -- the formatting rule ----------------------------------------------------------------------

def fmt_value(value: Any) -> str:
    """A default or a share as written in ODD.md: its JSON encoding in backticks."""
    return f"`{json.dumps(value)}`"


def _number(x: float) -> str:
    return str(x) if isinstance(x, int) and not isinstance(x, bool) else f"{x:g}"


def fmt_range(f, value: Any) -> str:
    """The range cell of a parameter, from its schema metadata."""
    meta = f.metadata
    if meta.get("choices"):
        return ", ".join(f"`{choice}`" for choice in meta["choices"])
    if isinstance(value, bool):
        return "`true`, `false`"
    if meta.get("lo") is not None or meta.get("hi") is not None:
        opening = "(" if meta.get("open_lo") else "["
        return f"{opening}{_number(meta['lo'])}, {_number(meta['hi'])}]"
    if isinstance(value, str):
        return "text"
    return "structured"


def fmt_unit(f) -> str:
    return f.metadata.get("unit") or "—"


# -- reading the document's tables ------------------------------------------------------------

def split_row(line: str) -> list[str]:
    """The cells of one Markdown table row (``\\|`` is a literal bar inside a cell)."""
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", body)]


def tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every Markdown table in ``text``: its header cells and its body rows' cells."""
    found: list[tuple[list[str], list[list[str]]]] = []
    block: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.lstrip().startswith("|"):
            block.append(split_row(line))
            continue
        if len(block) >= 2:
            found.append((block[0], block[2:]))  # block[1] is the |---| separator
        block = []
    return found


def rows_under(header_start: list[str]) -> dict[str, list[list[str]]]:
    """Body rows of every table whose header starts with ``header_start``, by first cell."""
    rows: dict[str, list[list[str]]] = {}
    for header, body in tables(ODD.read_text(encoding="utf-8")):
        if header[:len(header_start)] == header_start:
            for cells in body:
                rows.setdefault(cells[0], []).append(cells)
    return rows


def first_cells(header_first: str) -> set[str]:
    return set(rows_under([header_first]))


@pytest.fixture(scope="module")
def param_rows() -> dict[str, list[list[str]]]:
    return rows_under(PARAM_HEADER)


# -- parameters -------------------------------------------------------------------------------

@pytest.mark.parametrize("key,f,value", PARAMS, ids=[key for key, _, _ in PARAMS])
def test_every_parameter_has_one_row_with_its_default_unit_and_range(param_rows, key, f,
                                                                     value):
    rows = param_rows.get(f"`{key}`", [])
    assert len(rows) == 1, (f"{key}: {len(rows)} rows in the parameter tables of {ODD}, "
                            "expected exactly 1")
    cells = rows[0]
    assert len(cells) == len(PARAM_HEADER), f"{key}: row has {len(cells)} cells: {cells}"
    _, default, unit, allowed, meaning, source = cells
    assert default == fmt_value(value), f"{key}: default {default} in ODD.md, code has {value!r}"
    assert unit == fmt_unit(f), f"{key}: unit {unit!r} in ODD.md, code has {fmt_unit(f)!r}"
    assert allowed == fmt_range(f, value), (f"{key}: range {allowed!r} in ODD.md, code has "
                                            f"{fmt_range(f, value)!r}")
    assert meaning and source, f"{key}: empty meaning or source"


def test_every_range_in_a_source_cell_is_the_schemas_plausible_range(param_rows):
    # "range lo–hi" in a row's Source (also "range −0.3 to 0") is param(..., plausible=...)
    stated = re.compile(r"\brange\s+(-?\d+(?:\.\d+)?)\s*(?:-|–|to)\s*(-?\d+(?:\.\d+)?)")
    ranges = plausible_ranges()
    found = 0
    for name, rows in param_rows.items():
        key, source = name.strip("`"), rows[0][-1].replace("−", "-")
        m = stated.search(source)
        if m:
            found += 1
            lo, hi = float(m[1]), float(m[2])
            assert key in ranges and ranges[key][:2] == (lo, hi), (
                f"{key}: ODD.md says range {lo:g}–{hi:g}, the schema {ranges.get(key)}")
    assert found >= 90


def test_no_parameter_row_names_a_missing_parameter(param_rows):
    known = {f"`{key}`" for key, _, _ in PARAMS}
    assert set(param_rows) - known == set()


# -- strategy presets -------------------------------------------------------------------------

def test_strategy_presets_are_found():
    assert {path.stem for path in PRESETS} >= {"none", "ad_heavy", "conversation_led",
                                                "incentive_push", "balanced"}


@pytest.mark.parametrize("path", PRESETS, ids=[path.stem for path in PRESETS])
def test_every_strategy_preset_has_its_shares(path):
    preset = yaml.safe_load(path.read_text(encoding="utf-8"))
    rows = rows_under(PRESET_HEADER).get(f"`{path.stem}`", [])
    assert len(rows) == 1, f"strategy preset {path.stem}: {len(rows)} rows, expected 1"
    documented = rows[0][1:1 + len(LEVERS)]
    expected = [fmt_value(float(preset[lever])) for lever in LEVERS]
    assert documented == expected, f"{path.stem}: ODD.md {documented}, {path.name} {expected}"


def test_no_preset_row_names_a_missing_preset():
    assert set(rows_under(PRESET_HEADER)) - {f"`{path.stem}`" for path in PRESETS} == set()


# -- outputs and state ------------------------------------------------------------------------

def test_every_output_column_is_defined_and_no_other():
    expected = {f"`{name}`" for name in (*RUN_COLUMNS, *METRICS)}
    documented = first_cells("Column")
    assert expected - documented == set(), "columns missing from ODD.md"
    assert documented - expected == set(), "ODD.md documents columns the model does not write"


def test_every_output_column_has_its_declared_kind():
    rows = rows_under(["Column", "Kind"])
    for metric in columns_of(SCHEDULE):
        (row,) = rows[f"`{metric.name}`"]
        assert row[1] == metric.kind, f"{metric.name}: ODD.md says {row[1]}, declared {metric.kind}"


MECHANISM_HEADER = ["Mechanism", "Stage", "Stream", "Writes"]


def test_every_mechanism_has_its_stage_stream_and_writes():
    rows = rows_under(MECHANISM_HEADER)
    assert set(rows) == {f"`{m.name}`" for m in SCHEDULE}
    for m in SCHEDULE:
        (row,) = rows[f"`{m.name}`"]
        expected = [m.stage.name.lower(), f"`{m.stream}`" if m.stream else "—",
                    ", ".join(f"`{name}`" for name in m.writes) or "—"]
        assert row[1:4] == expected, f"{m.name}: ODD.md {row[1:4]}, declared {expected}"


def test_every_summary_outcome_is_defined_and_no_other():
    assert first_cells("Outcome") == {f"`{name}`" for name in OUTCOMES}


def test_every_state_variable_is_defined_and_no_other():
    assert first_cells("Variable") == {f"`{name}`" for name in STATE_VARS}


def test_every_media_panel_column_is_defined_and_no_other():
    placeholders = {"<lever>": LEVERS, "<kpi>": WEEKLY_OUTCOMES}

    def expand(name: str) -> set[str]:
        for token, values in placeholders.items():
            if token in name:
                return {n for value in values for n in expand(name.replace(token, value))}
        return {name}

    documented = {column for cell in first_cells("Panel column")
                  for name in re.findall(r"`([^`]+)`", cell) for column in expand(name)}
    assert documented == set(PANEL_COLUMNS)


def test_the_version_is_the_same_in_the_package_and_the_citation():
    import tomllib

    root = Path(__file__).resolve().parents[2]
    package = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    citation = yaml.safe_load((root / "CITATION.cff").read_text())
    assert str(citation["version"]) == package
    assert re.fullmatch(r"\d+\.\d+\.\d+", package)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(citation["date-released"]))
