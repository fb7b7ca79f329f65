"""``python -m wommsim.robustness``: the share of the plausible parameter space in which a
claim about an experiment holds, and the assumptions that decide it
(:mod:`wommsim.studies.robustness`)."""

import sys

from wommsim.runs import faults
from wommsim.studies.robustness import main

if __name__ == "__main__":
    faults.install_signal_handlers()  # Ctrl+C, SIGTERM: one line, exit 130 / 143
    sys.exit(main())
