"""Studies over the parameter space: calibration to an observed adoption curve, global
sensitivity analysis, and what they share (parameter ranges, a pool of runs kept for a whole
search, the tools' Hydra apps)."""
