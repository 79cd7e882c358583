"""Validation of probability tables and plug-in information measures on them (numpy only).

A table ``p`` of shape (|X1|, |X2|, |Y|) holds p(x1, x2, y). Entropies and mutual informations
are returned in bits unless a function says nats (Cover & Thomas, *Elements of Information
Theory*, ch. 2).
"""

from __future__ import annotations

import numpy as np

LN2 = float(np.log(2.0))

#: How far the entries of a table may sum from 1 before it is rejected (unless normalised).
SUM_TOLERANCE = 1e-9


def validate_table(p: np.ndarray, normalize: bool = False, ndim: int = 3) -> np.ndarray:
    """Check that ``p`` is a probability table with ``ndim`` axes; return it as float64.

    Rejects (ValueError, one line) wrong dimensionality, empty axes, NaN or infinite entries,
    negative entries and a total differing from 1 by more than ``SUM_TOLERANCE``; with
    ``normalize=True`` any positive total is rescaled to 1 instead.
    """
    arr = np.asarray(p)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise ValueError(f"p must be a numeric array; got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim != ndim:
        raise ValueError(f"p must have {ndim} dimensions (|X1|, |X2|, |Y|); got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"p must not have an empty axis; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("p contains NaN or infinite entries")
    if np.any(arr < 0):
        raise ValueError(f"p has negative entries (min {arr.min():.3g})")
    total = float(arr.sum())
    if normalize:
        if total <= 0:
            raise ValueError("p sums to 0 and cannot be normalised")
        return arr / total
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ValueError(f"p must sum to 1 (got {total:.12g}); pass normalize=True to rescale")
    return arr


def entropy_nats(p: np.ndarray) -> float:
    """Shannon entropy -sum p log p of any array of probabilities, in nats (0 log 0 = 0)."""
    flat = np.asarray(p, dtype=np.float64).ravel()
    flat = flat[flat > 0]
    return float(-np.sum(flat * np.log(flat)))


def entropy(p: np.ndarray) -> float:
    """Shannon entropy of the joint distribution held by ``p`` (any shape), in bits."""
    return entropy_nats(p) / LN2


def mutual_information(pxy: np.ndarray) -> float:
    """I(X;Y) = H(X) + H(Y) - H(X,Y) of a 2-D table p(x, y), in bits (never below 0)."""
    pxy = np.asarray(pxy, dtype=np.float64)
    if pxy.ndim != 2:
        raise ValueError(f"pxy must be 2-D; got shape {pxy.shape}")
    mi = entropy(pxy.sum(axis=1)) + entropy(pxy.sum(axis=0)) - entropy(pxy)
    return max(mi, 0.0)


def table_informations(p: np.ndarray) -> tuple[float, float, float]:
    """(I(Y;X1), I(Y;X2), I(Y;X1,X2)) of a table p(x1, x2, y), in bits."""
    n1, n2, ny = p.shape
    i1 = mutual_information(p.sum(axis=1))
    i2 = mutual_information(p.sum(axis=0))
    i12 = mutual_information(p.reshape(n1 * n2, ny))
    return i1, i2, i12
