"""The Bass model's mathematics (Bass 1969): the discrete Bass equation, the continuous
cumulative curve, and a least-squares fit of p, q and the market size to an adoption curve;
used by the summaries, calibration, validation and the tests."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import optimize


def discrete_bass(p: float, q: float, steps: int) -> np.ndarray:
    """``F(0..steps)`` of the discrete Bass (1969) equation ``F(t+1) = F(t) + (p + q F(t))
    (1 - F(t))``, ``F(0) = 0`` (p, q per step): what ``decision=bass`` on the complete graph
    with no initial adopters follows in expectation (docs/ODD.md §3.3.15)."""
    f = np.zeros(steps + 1)
    for t in range(steps):
        f[t + 1] = f[t] + (p + q * f[t]) * (1.0 - f[t])
    return f


def bass_cumulative(t: np.ndarray, p: float, q: float, m: float) -> np.ndarray:
    """Continuous Bass (1969) cumulative adoption: m (1 - e^-(p+q)t) / (1 + (q/p) e^-(p+q)t)."""
    e = np.exp(-(p + q) * t)
    return m * (1.0 - e) / (1.0 + (q / p) * e)


def fit_bass(steps: np.ndarray, gained: np.ndarray) -> dict[str, float]:
    """Least-squares Bass p, q and market size m (share of consumers) with standard errors,
    fitted to adoption gained since step 0. NaN where the fit is not identified."""
    nan = {k: np.nan for k in ("bass_p", "bass_p_se", "bass_q", "bass_q_se", "bass_m",
                               "bass_m_se")}
    if gained[-1] <= 0 or steps.size < 4:
        return nan
    top = float(gained[-1])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, cov = optimize.curve_fit(
                bass_cumulative, steps, gained, p0=(0.01, 0.3, min(1.0, top * 1.1)),
                bounds=([1e-7, 0.0, 1e-9], [1.0, 10.0, 1.0]), maxfev=20_000)
    except (RuntimeError, ValueError):
        return nan
    se = np.sqrt(np.clip(np.diag(cov), 0, None)) if np.all(np.isfinite(cov)) else [np.nan] * 3
    return {"bass_p": params[0], "bass_p_se": se[0], "bass_q": params[1], "bass_q_se": se[1],
            "bass_m": params[2], "bass_m_se": se[2]}
