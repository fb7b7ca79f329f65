"""Write bass_example.csv (the discrete Bass curve with p = 0.02, q = 0.3 per step, steps 0-30,
as a share of consumers) and bass_sales_example.csv (the same market's sales in units per
step, steps 1-30, for a market of 50,000 potential buyers, rounded to whole units).

    python experiments/calibration/make_bass_example.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

from wommsim.reporting.bass import discrete_bass

P, Q, STEPS = 0.02, 0.3, 30
MARKET_SIZE = 50_000
RECURSION = "F(t+1) = F(t) + (p + q F(t))(1 - F(t)), F(0) = 0"


def write(name: str, comment: str, frame: pd.DataFrame) -> None:
    path = Path(__file__).with_name(name)
    with path.open("w") as fh:
        fh.write(f"# {comment}\n")
        frame.to_csv(fh, index=False)
    print(f"wrote {path}")


if __name__ == "__main__":
    curve = discrete_bass(P, Q, STEPS)
    write("bass_example.csv", f"discrete Bass curve {RECURSION}, p = {P}, q = {Q} per step",
          pd.DataFrame({"step": range(STEPS + 1), "adopted_fraction": curve.round(6)}))
    sales = np.rint(MARKET_SIZE * np.diff(curve)).astype(int)
    write("bass_sales_example.csv",
          f"units sold in each step, {MARKET_SIZE} x (F(t) - F(t-1)) rounded, for the "
          f"discrete Bass curve {RECURSION}, p = {P}, q = {Q} per step",
          pd.DataFrame({"step": range(1, STEPS + 1), "sales": sales}))
