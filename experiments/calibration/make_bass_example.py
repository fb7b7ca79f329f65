"""Write bass_example.csv: the discrete Bass curve with p = 0.02, q = 0.3 per step, steps 0-30.

    python experiments/calibration/make_bass_example.py
"""

from pathlib import Path

import pandas as pd

from wommsim.reporting.bass import discrete_bass

P, Q, STEPS = 0.02, 0.3, 30

if __name__ == "__main__":
    curve = discrete_bass(P, Q, STEPS)
    frame = pd.DataFrame({"step": range(STEPS + 1), "adopted_fraction": curve.round(6)})
    path = Path(__file__).with_name("bass_example.csv")
    with path.open("w") as fh:
        fh.write(f"# discrete Bass curve F(t+1) = F(t) + (p + q F(t))(1 - F(t)), F(0) = 0, "
                 f"p = {P}, q = {Q} per step\n")
        frame.to_csv(fh, index=False)
    print(f"wrote {path}")
