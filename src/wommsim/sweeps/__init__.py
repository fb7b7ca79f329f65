"""Sweeps (``python -m wommsim -m ...``): the sweep folder and its jobs, resume, the
aggregate of every job's results and its figures."""
