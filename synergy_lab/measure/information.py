"""Usable information of a probe, in bits: predictive V-information (Xu et al., ICLR 2020).

I_V(Z -> Y) = H_V(Y) - H_V(Y | Z), estimated on the test split: H_V(Y) is the test
cross-entropy of the best constant predictor (the fit split's class frequencies, smoothed so no
class has probability 0) and H_V(Y | Z) the probe's test cross-entropy. A representation that
carries nothing the probe can use scores about 0 (negative values are estimation noise or
over-fitting, and are kept, not clipped).
"""

from __future__ import annotations

import numpy as np

LOG2E = 1.0 / np.log(2.0)


def _labels(y: np.ndarray, classes: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"labels must be 1-D; got shape {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= classes):
        raise ValueError(f"labels must lie in range({classes})")
    return y.astype(np.int64)


def class_prior(y: np.ndarray, classes: int, smoothing: float = 0.5) -> np.ndarray:
    """Class frequencies (classes,) of ``y`` with ``smoothing`` added to every count.

    The default 0.5 (Krichevsky-Trofimov) keeps log(0) out of the constant predictor's
    cross-entropy when a test class never occurs in the fit split.
    """
    if classes < 1:
        raise ValueError(f"classes must be >= 1; got {classes}")
    if smoothing <= 0:
        raise ValueError(f"smoothing must be > 0; got {smoothing}")
    counts = np.bincount(_labels(y, classes), minlength=classes).astype(np.float64)
    counts += smoothing
    return counts / counts.sum()


def per_sample_log_loss_bits(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """-log2 q(y_i | z_i) per sample (n,), for probabilities ``probs`` (n, classes)."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] != np.asarray(y).shape[0]:
        raise ValueError(f"probs must be (n, classes) with n = len(y); got {probs.shape}")
    y = _labels(y, probs.shape[1])
    picked = probs[np.arange(y.size), y]
    return -np.log2(np.clip(picked, 1e-300, None))


def cross_entropy_bits(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean test cross-entropy in bits of predictions ``probs`` (n, classes) on labels (n,)."""
    return float(per_sample_log_loss_bits(probs, y).mean())


def usable_bits(probs: np.ndarray, y: np.ndarray, prior: np.ndarray) -> float:
    """H_V(Y) - H_V(Y|Z) in bits: the constant predictor ``prior`` (classes,) minus the probe.

    ``probs`` (n, classes) are the probe's test probabilities, ``y`` (n,) the test labels.

    Example:
        >>> y = np.array([0, 1, 0, 1]); perfect = np.eye(2)[y]
        >>> round(usable_bits(perfect, y, np.array([0.5, 0.5])), 6)
        1.0
    """
    prior = np.asarray(prior, dtype=np.float64)
    constant = np.broadcast_to(prior, (len(y), prior.size))
    return cross_entropy_bits(constant, y) - cross_entropy_bits(probs, y)


def captured_fraction(usable: float, total_bits: float) -> float:
    """Usable bits as a fraction of I(X1, X2; Y) (bits); NaN when the total is unknown or 0."""
    if not np.isfinite(total_bits) or total_bits <= 0:
        return float("nan")
    return float(usable / total_bits)


def balanced_accuracy(y: np.ndarray, predictions: np.ndarray, classes: int) -> float:
    """Mean over the classes present in ``y`` of the recall (fraction of that class predicted).

    Equals accuracy on balanced labels; a constant predictor scores 1/(classes present).
    """
    y = _labels(y, classes)
    predictions = np.asarray(predictions).astype(np.int64)
    if predictions.shape != y.shape:
        raise ValueError("predictions and labels must have the same shape")
    totals = np.bincount(y, minlength=classes)
    hits = np.bincount(y[predictions == y], minlength=classes)
    present = totals > 0
    return float(np.mean(hits[present] / totals[present]))
