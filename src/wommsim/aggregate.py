"""``python -m wommsim.aggregate``: the aggregate of a sweep folder
(:mod:`wommsim.sweeps.aggregate`)."""

import sys

from wommsim.runs import faults
from wommsim.sweeps.aggregate import main

if __name__ == "__main__":
    faults.install_signal_handlers()  # Ctrl+C, SIGTERM: one line, exit 130 / 143
    sys.exit(main())
