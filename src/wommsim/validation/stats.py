"""Significance tests and estimators used by the validation cases (SciPy underneath).

Every test is one-sided in the direction a case's source predicts, or two-sided where the
source predicts no difference (a symmetry), and returns a :class:`TestResult` with the
statistic, its p-value and a one-line description for the report. Replicates that share a
seed are paired (same network and consumers), so paired tests are used where arms share
seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALTERNATIVES = ("greater", "less")


@dataclass(frozen=True)
class TestResult:
    """A test's statistic, p-value and how to read them."""

    __test__ = False  # not a pytest class

    statistic: float
    p_value: float
    text: str


def _check(alternative: str) -> None:
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative={alternative!r}: must be one of {ALTERNATIVES}")


def paired_t(differences: np.ndarray, alternative: str, null: float = 0.0) -> TestResult:
    """One-sided one-sample t-test of the mean of paired ``differences`` against ``null``.

    With all differences equal the t statistic is infinite in the direction of the gap (or
    0 with no gap), so a deterministic effect is significant and no effect is not.
    """
    _check(alternative)
    d = np.asarray(differences, dtype=float) - null
    n = d.size
    if n < 2:
        raise ValueError(f"paired_t needs at least 2 differences, got {n}")
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0.0:
        t = 0.0 if mean == 0.0 else np.copysign(np.inf, mean)
    else:
        t = mean / (sd / np.sqrt(n))
    sign = 1.0 if alternative == "greater" else -1.0
    p = float(stats.t.sf(sign * t, n - 1))
    op = ">" if alternative == "greater" else "<"
    return TestResult(float(t), p, f"paired t-test, H1: mean {op} {null:g}: t({n - 1}) = "
                                   f"{t:.2f}, one-sided p = {format_p(p)}")


def two_sided_t(differences: np.ndarray) -> TestResult:
    """Two-sided one-sample t-test of the mean of paired ``differences`` against 0 (a
    symmetry: no difference either way). With all differences equal, p is 1 if they are 0
    and 0 otherwise."""
    d = np.asarray(differences, dtype=float)
    if d.size < 2:
        raise ValueError(f"two_sided_t needs at least 2 differences, got {d.size}")
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0.0:
        t = 0.0 if mean == 0.0 else np.copysign(np.inf, mean)
    else:
        t = mean / (sd / np.sqrt(d.size))
    p = float(2 * stats.t.sf(abs(t), d.size - 1))
    return TestResult(float(t), p, f"paired t-test, H1: mean ≠ 0: t({d.size - 1}) = {t:.2f}, "
                                   f"two-sided p = {format_p(p)}")


def slope_test(x: np.ndarray, y: np.ndarray, alternative: str) -> TestResult:
    """One-sided test of the OLS slope of ``y`` on ``x`` (t statistic on n - 2 df)."""
    _check(alternative)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if np.ptp(x) == 0 or x.size < 3:
        raise ValueError("slope_test needs at least 3 points and 2 distinct x values")
    fit = stats.linregress(x, y, alternative=alternative)
    t = fit.slope / fit.stderr if fit.stderr > 0 else np.copysign(np.inf, fit.slope)
    op = ">" if alternative == "greater" else "<"
    return TestResult(float(fit.slope), float(fit.pvalue),
                      f"OLS slope, H1: slope {op} 0: slope = {fit.slope:.4g} "
                      f"(t({x.size - 2}) = {t:.2f}), one-sided p = {format_p(fit.pvalue)}")


def bootstrap(statistic: Callable[[np.ndarray], float], replicates: int, draws: int,
              rng: np.random.Generator) -> np.ndarray:
    """``statistic(idx)`` on ``draws`` resamples (with replacement) of replicate indices
    ``0..replicates-1``; the same indices serve every paired arm."""
    idx = rng.integers(0, replicates, size=(draws, replicates))
    return np.array([statistic(row) for row in idx])


def bootstrap_p(samples: np.ndarray, alternative: str) -> float:
    """One-sided bootstrap p-value of H1 ``> 0`` (or ``< 0``): the share of resampled
    statistics on the null side, with the +1 correction of Davison & Hinkley (1997)."""
    _check(alternative)
    samples = np.asarray(samples, dtype=float)
    samples = samples[np.isfinite(samples)]
    null_side = samples <= 0 if alternative == "greater" else samples >= 0
    return float((null_side.sum() + 1) / (samples.size + 1))


def bonferroni_max_z(z: np.ndarray) -> TestResult:
    """Two-sided test that every entry of ``z`` is standard normal: the largest |z|, with
    its p-value Bonferroni-corrected for the number of entries."""
    z = np.asarray(z, dtype=float)
    worst = float(np.max(np.abs(z)))
    p = float(min(1.0, z.size * 2.0 * stats.norm.sf(worst)))
    return TestResult(worst, p, f"largest |z| over {z.size} steps = {worst:.2f}, "
                                f"Bonferroni p = {format_p(p)}")


def peak_location(times: np.ndarray, values: np.ndarray) -> float:
    """Time of the maximum of ``values`` refined by a parabola through the highest point
    and its two neighbours (the grid point itself at either end)."""
    values = np.asarray(values, dtype=float)
    i = int(np.argmax(values))
    if i == 0 or i == values.size - 1:
        return float(times[i])
    y0, y1, y2 = values[i - 1], values[i], values[i + 1]
    curvature = y0 - 2 * y1 + y2
    offset = 0.0 if curvature == 0 else 0.5 * (y0 - y2) / curvature
    step = times[i + 1] - times[i]
    return float(times[i] + offset * step)


def moving_average(values: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average over an odd ``width`` of points; the ends average the points
    that exist (no zero padding)."""
    if width < 1 or width % 2 == 0:
        raise ValueError(f"width={width}: must be an odd positive integer")
    values = np.asarray(values, dtype=float)
    kernel = np.ones(width)
    total = np.convolve(values, kernel, mode="same")
    count = np.convolve(np.ones_like(values), kernel, mode="same")
    return total / count


def format_p(p: float) -> str:
    """A p-value for the report: three significant digits, or ``< 1e-10``."""
    if not np.isfinite(p):
        return "n/a"
    return "< 1e-10" if p < 1e-10 else f"{p:.3g}"
