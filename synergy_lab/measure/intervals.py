"""95 % percentile-bootstrap intervals over test samples (Efron & Tibshirani 1993, ch. 13).

One probe's test predictions are resampled with replacement ``n_boot`` times (seeded); each
resample gives an accuracy, a balanced accuracy and a usable-bits value, and the interval is the
(2.5 %, 97.5 %) percentiles. This is the uncertainty from the finite test set of one cell, not
from training seeds (see :mod:`synergy_lab.measure.seeds`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synergy_lab.measure.information import per_sample_log_loss_bits


@dataclass(frozen=True)
class Interval:
    """A point estimate with its interval [low, high] at ``level`` (same units as the value)."""

    value: float
    low: float
    high: float
    level: float = 0.95


def bootstrap_intervals(
    y: np.ndarray,
    probs: np.ndarray,
    prior: np.ndarray,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    usable_probs: np.ndarray | None = None,
) -> dict[str, Interval]:
    """Intervals for ``accuracy``, ``balanced_accuracy`` (fractions) and ``usable_bits`` (bits).

    ``y`` (n,) test labels, ``probs`` (n, classes) the probe's test probabilities (the
    prediction is their argmax), ``prior`` (classes,) the constant predictor of the fit split.
    ``usable_probs`` (n, classes), if given, are what usable bits are read from instead (a
    calibrated read-out), over the same resamples.
    """
    if n_boot < 10:
        raise ValueError(f"n_boot must be >= 10; got {n_boot}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level}")
    y = np.asarray(y).astype(np.int64)
    probs = np.asarray(probs, dtype=np.float64)
    n, classes = probs.shape
    if n == 0:
        raise ValueError("no test samples to bootstrap")
    prior = np.asarray(prior, dtype=np.float64)
    correct = (probs.argmax(axis=1) == y).astype(np.float64)
    gain = per_sample_log_loss_bits(np.broadcast_to(prior, probs.shape), y)
    read_out = probs if usable_probs is None else np.asarray(usable_probs, dtype=np.float64)
    if read_out.shape != probs.shape:
        raise ValueError(f"usable_probs must be {probs.shape}; got {read_out.shape}")
    gain = gain - per_sample_log_loss_bits(read_out, y)

    def balanced(index: np.ndarray) -> np.ndarray:
        # index (b, n): per resample, the recall of each class present, averaged
        rows = np.repeat(np.arange(index.shape[0]), n)
        cls = y[index].ravel()
        totals = np.zeros((index.shape[0], classes))
        hits = np.zeros((index.shape[0], classes))
        np.add.at(totals, (rows, cls), 1.0)
        np.add.at(hits, (rows, cls), correct[index].ravel())
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.nanmean(np.where(totals > 0, hits / totals, np.nan), axis=1)

    rng = np.random.default_rng(seed)
    index = rng.integers(0, n, size=(n_boot, n))
    samples = {
        "accuracy": correct[index].mean(axis=1),
        "balanced_accuracy": balanced(index),
        "usable_bits": gain[index].mean(axis=1),
    }
    points = {
        "accuracy": float(correct.mean()),
        "balanced_accuracy": float(balanced(np.arange(n)[None, :])[0]),
        "usable_bits": float(gain.mean()),
    }
    tail = 100 * (1 - level) / 2
    out = {}
    for name, values in samples.items():
        low, high = np.percentile(values, [tail, 100 - tail])
        out[name] = Interval(points[name], float(low), float(high), level)
    return out
