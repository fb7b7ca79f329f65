"""``python -m wommsim.calibrate``: fit model parameters to an observed adoption curve
(:mod:`wommsim.studies.calibrate`)."""

import sys

from wommsim.runs import faults
from wommsim.studies.calibrate import main

if __name__ == "__main__":
    faults.install_signal_handlers()  # Ctrl+C, SIGTERM: one line, exit 130 / 143
    sys.exit(main())
