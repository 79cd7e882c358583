"""Did the reference learn the label at this budget? A gate before comparing methods to it.

A method's accuracy is only a statement about the method when the supervised reference trained
in the same cell (same data, model and budget) reads the label: if even the reference sits at
chance, every method does, and the cell says the budget was too small, not which method is
better. The rule: "learned" when the 95 % interval of the reference's accuracy lies above chance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from synergy_lab.measure.seeds import seed_summary

LEARNED = "learned"
NOT_LEARNED = "not learned at this budget"


@dataclass(frozen=True)
class ReferenceGate:
    """The verdict, the interval [low, high] of the reference's accuracy and chance (fractions)."""

    verdict: str
    low: float
    high: float
    chance: float

    @property
    def learned(self) -> bool:
        return self.verdict == LEARNED


def reference_gate(
    chance: float,
    *,
    seed_accuracies: Sequence[float] | np.ndarray | None = None,
    interval: tuple[float, float] | None = None,
    level: float = 0.95,
) -> ReferenceGate:
    """Gate a cell on its reference: ``chance`` and per-seed accuracies or an interval.

    ``seed_accuracies`` (fractions, >= 2 finite seeds) give the t-interval of their mean at
    ``level``; ``interval`` is e.g. the test-level bootstrap interval (low, high) of one seed.
    "learned" when low > chance; "not learned at this budget" when the interval holds chance
    (or lies below it).

    Example:
        >>> reference_gate(0.5, seed_accuracies=[0.97, 0.98, 0.99]).verdict
        'learned'
        >>> reference_gate(0.5, interval=(0.48, 0.53)).verdict
        'not learned at this budget'
    """
    if not 0 <= chance <= 1:
        raise ValueError(f"chance accuracy must be in [0, 1]; got {chance}")
    if (seed_accuracies is None) == (interval is None):
        raise ValueError("give exactly one of seed_accuracies and interval")
    if interval is not None:
        low, high = float(interval[0]), float(interval[1])
    else:
        summary = seed_summary(np.asarray(seed_accuracies, dtype=np.float64), level)
        if summary.n < 2:
            raise ValueError(f"seed_accuracies need at least 2 finite seeds; got {summary.n}")
        low, high = summary.low, summary.high
    if not low <= high:
        raise ValueError(f"the interval must have low <= high; got ({low}, {high})")
    verdict = LEARNED if low > chance else NOT_LEARNED
    return ReferenceGate(verdict, low, high, float(chance))
