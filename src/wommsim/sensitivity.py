"""``python -m wommsim.sensitivity``: global sensitivity analysis of the outcomes
(:mod:`wommsim.studies.sensitivity`)."""

import sys

from wommsim.runs import faults
from wommsim.studies.sensitivity import main

if __name__ == "__main__":
    faults.install_signal_handlers()  # Ctrl+C, SIGTERM: one line, exit 130 / 143
    sys.exit(main())
