"""Across training seeds: mean, sd and t-interval of the mean; two methods compared by seed.

With few seeds (3 is common) the t-interval is wide; that is the honest answer. A paired
comparison uses the per-seed differences (method A and B share a seed's data draw), which
removes the variation that both methods share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class SeedSummary:
    """Mean, sample sd and the t-interval [low, high] of the mean over ``n`` seeds."""

    mean: float
    sd: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class PairedComparison:
    """Mean of (a - b) over seeds both have, its t-interval, and whether it excludes 0."""

    mean: float
    sd: float
    low: float
    high: float
    n: int

    @property
    def excludes_zero(self) -> bool:
        return bool(self.n >= 2 and (self.low > 0 or self.high < 0))


def _t_interval(values: np.ndarray, level: float) -> tuple[float, float, float, float]:
    mean = float(values.mean()) if values.size else float("nan")
    if values.size < 2:
        return mean, float("nan"), float("nan"), float("nan")
    sd = float(values.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, values.size - 1)) * sd / np.sqrt(values.size)
    return mean, sd, mean - half, mean + half


def seed_summary(values: Sequence[float] | np.ndarray, level: float = 0.95) -> SeedSummary:
    """Summary of one number over seeds; NaN values are dropped, sd/interval NaN below 2."""
    array = np.asarray(values, dtype=np.float64)
    array = array[np.isfinite(array)]
    mean, sd, low, high = _t_interval(array, level)
    return SeedSummary(mean, sd, low, high, int(array.size))


def paired_difference(
    a: Mapping[int, float], b: Mapping[int, float], level: float = 0.95
) -> PairedComparison:
    """Compare two methods by seed: ``a`` and ``b`` map seed -> value (e.g. accuracy).

    Only seeds present (and finite) in both count; the interval is the t-interval of the mean
    of the per-seed differences a - b.
    """
    seeds = sorted(s for s in set(a) & set(b) if np.isfinite(a[s]) and np.isfinite(b[s]))
    diff = np.array([a[s] - b[s] for s in seeds], dtype=np.float64)
    mean, sd, low, high = _t_interval(diff, level)
    return PairedComparison(mean, sd, low, high, len(seeds))
