"""Analytic Bass (1969) results the model is docked against.

The ``bass`` decision rule gives each non-adopter the per-step hazard ``p + q a / k``; on the
complete graph with no marketing and no seed adopters its mean adoption curve is the
*discrete* Bass equation (``docs/ODD.md`` §3.3.15). Splitting a unit of time into ``K``
sub-steps with ``p / K`` and ``q / K`` per sub-step approaches the *continuous* Bass curve
as ``K`` grows. Shares are fractions of the market (``m = 1``).
"""

from __future__ import annotations

import numpy as np

from wommsim.reporting.bass import bass_cumulative, discrete_bass

__all__ = ["ads_share_continuous", "ads_share_discrete", "continuous_bass", "discrete_bass",
           "docking_tolerance", "peak_time"]


def continuous_bass(t: np.ndarray, p: float, q: float) -> np.ndarray:
    """Continuous Bass ``F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t})`` (p, q per unit
    time, ``p > 0``)."""
    return bass_cumulative(np.asarray(t, dtype=float), p, q, 1.0)


def peak_time(p: float, q: float) -> float:
    """Time of the continuous Bass curve's peak adoption rate, ``ln(q/p) / (p + q)``
    (0 when ``q <= p``: the rate falls from the start)."""
    return float(np.log(q / p) / (p + q)) if q > p else 0.0


def ads_share_continuous(p: float, q: float) -> float:
    """Share of all adoptions due to the innovation (external) term in continuous Bass:
    ``p ∫ (1 - F) dt = (p/q) ln(1 + q/p)`` (1 when ``q = 0``)."""
    return float(p / q * np.log1p(q / p)) if q > 0 else 1.0


def ads_share_discrete(p: float, q: float, steps: int) -> float:
    """Expected share of adoptions credited to the innovation term along the discrete
    equation over ``steps`` steps: ``sum p (1 - F_t) / sum (p + q F_t)(1 - F_t)``."""
    f = discrete_bass(p, q, steps)[:-1]
    return float(np.sum(p * (1 - f)) / np.sum((p + q * f) * (1 - f)))


def docking_tolerance(curves: np.ndarray, n: int, z: float = 4.0) -> np.ndarray:
    """Allowed gap per step between the mean of ``curves`` (replicates x steps) and an
    equation: ``z`` standard errors of the mean plus ``2/n`` for finite-population terms
    (``A/(n-1)`` against ``A/n``, and ``E[F^2]`` against ``E[F]^2``, §3.3.15)."""
    replicates = curves.shape[0]
    se = curves.std(axis=0, ddof=1) / np.sqrt(replicates) if replicates > 1 else 0.0
    return z * se + 2.0 / n
