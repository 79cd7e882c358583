"""Many comparisons at once: Holm's step-down adjustment and the paired t-intervals that match it.

A table of m method-vs-reference comparisons at 5 % each flags about 0.05 m of them by chance.
Holm (1979, "A simple sequentially rejective multiple test procedure", Scand. J. Statist. 6)
controls the family-wise error at ``alpha`` for any dependence between the tests, and is
uniformly more powerful than Bonferroni. The intervals here are the paired t-intervals of
:mod:`synergy_lab.measure.seeds` at the level Holm uses for each test, so that an interval
excludes 0 exactly when its test is rejected (Holm-adjusted p < alpha).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from synergy_lab.measure.seeds import _t_interval


def holm_adjust(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values (m,), in the input order: monotone in the raw p and capped at 1.

    With p_(1) <= ... <= p_(m) sorted, adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)); a test
    is rejected at family-wise level alpha exactly when its adjusted p < alpha.

    Example:
        >>> holm_adjust([0.01, 0.04, 0.03, 0.20]).round(2).tolist()
        [0.04, 0.09, 0.09, 0.2]
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1 or np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("p-values must be a 1-D sequence of numbers in [0, 1]")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def paired_t_p_value(differences: Sequence[float] | np.ndarray) -> float:
    """Two-sided p-value of the one-sample t-test of mean(differences) = 0 (n - 1 d.o.f.).

    NaN below 2 values; with zero spread, 0 for a non-zero mean and 1 for a zero mean.
    """
    d = np.asarray(differences, dtype=np.float64)
    if d.size < 2:
        return float("nan")
    sd = float(d.std(ddof=1))
    if sd == 0:
        return 0.0 if d.mean() != 0 else 1.0
    t = float(d.mean()) / (sd / np.sqrt(d.size))
    return float(2 * stats.t.sf(abs(t), d.size - 1))


@dataclass(frozen=True)
class HolmComparison:
    """One paired comparison of a family: mean of (a - b) over seeds, its Holm-level interval.

    ``level`` is the confidence level of [low, high] (1 - alpha / (m - i + 1) at Holm's step
    i, and for every test after the first one kept, the level of that step); ``p_value`` the
    raw two-sided paired t p-value and ``p_holm`` its Holm adjustment within the family.
    """

    mean: float
    sd: float
    low: float
    high: float
    n: int
    p_value: float
    p_holm: float
    level: float

    @property
    def excludes_zero(self) -> bool:
        return bool(self.n >= 2 and (self.low > 0 or self.high < 0))


def holm_paired_differences(
    family: Mapping[str, tuple[Mapping[int, float], Mapping[int, float]]], alpha: float = 0.05
) -> dict[str, HolmComparison]:
    """Holm-adjusted paired comparisons: ``family`` maps a name to (a, b), each seed -> value.

    Per comparison, only seeds finite in both a and b count (as in
    :func:`~synergy_lab.measure.seeds.paired_difference`). Holm's step-down runs over the m
    comparisons with at least 2 seeds; test i in the order of raw p gets a t-interval at level
    1 - alpha / (m - i + 1) while the procedure rejects, and every test from the first one it
    keeps on gets that step's level, so ``excludes_zero`` equals ``p_holm < alpha``.
    Comparisons with fewer than 2 seeds get NaN p-values and intervals.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}")
    diffs = {}
    for name, (a, b) in family.items():
        seeds = sorted(s for s in set(a) & set(b) if np.isfinite(a[s]) and np.isfinite(b[s]))
        diffs[name] = np.array([a[s] - b[s] for s in seeds], dtype=np.float64)
    testable = [name for name, d in diffs.items() if d.size >= 2]
    raw = {name: paired_t_p_value(diffs[name]) for name in testable}
    adjusted = dict(zip(testable, holm_adjust([raw[k] for k in testable]), strict=True))
    m = len(testable)
    levels: dict[str, float] = {}
    stopped_at: float | None = None
    for i, name in enumerate(sorted(testable, key=lambda k: raw[k])):  # stable: ties keep order
        step_level = 1 - alpha / (m - i)
        if stopped_at is None and adjusted[name] >= alpha:
            stopped_at = step_level
        levels[name] = step_level if stopped_at is None else stopped_at
    out = {}
    for name, d in diffs.items():
        if name not in levels:
            mean = float(d.mean()) if d.size else float("nan")
            nan = float("nan")
            out[name] = HolmComparison(mean, nan, nan, nan, int(d.size), nan, nan, nan)
            continue
        mean, sd, low, high = _t_interval(d, levels[name])
        out[name] = HolmComparison(
            mean, sd, low, high, int(d.size), raw[name], float(adjusted[name]), levels[name]
        )
    return out
