"""Results-drift guard: small runs must reproduce ``tests/baseline.csv`` to the last digit."""

from __future__ import annotations

import pandas as pd

from tests import baseline


def test_results_match_the_stored_baseline():
    fresh, stored = baseline.compute(), baseline.stored()
    merged = stored.merge(fresh, on=["case", "metric"], how="outer",
                          suffixes=("_stored", "_now"), indicator=True)
    changed = merged[(merged["_merge"] != "both")
                     | (merged["final_stored"] != merged["final_now"])
                     | (merged["total_stored"] != merged["total_now"])]
    assert changed.empty, (
        "results drifted from tests/baseline.csv (if intended: python -m tests.baseline "
        "update, and say why in the commit):\n"
        + changed.drop(columns="_merge").to_string(index=False))


def test_the_baseline_covers_every_case_and_is_not_trivial():
    stored = baseline.stored()
    assert set(stored["case"]) == set(baseline.CASES)
    adoption = stored[stored["metric"] == "adopted_fraction"].set_index("case")["final"]
    assert pd.to_numeric(adoption).nunique() == len(baseline.CASES)  # the cases differ
