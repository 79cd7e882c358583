"""Closed-form PID of jointly Gaussian vectors under the minimum-mutual-information definition.

Barrett (2015), "Exploration of synergistic and redundant information sharing in static and
dynamical Gaussian systems", Phys. Rev. E 91:052802. For jointly Gaussian (X1, X2, Y):

    R = min(I(Y;X1), I(Y;X2)),  U1 = I(Y;X1) - R,  U2 = I(Y;X2) - R,  S = I(Y;X1,X2) - R - U1 - U2,

with I(A;B) = 1/2 log2(det S_A det S_B / det S_AB) in bits. Barrett shows that for a univariate
target (dim Y = 1) every PID whose unique information depends only on the (X1, Y) and (X2, Y)
marginals, BROJA's included, reduces to this, so there it is also the Gaussian BROJA PID. For a
multivariate Y it is only the MMI definition; the Gaussian BROJA-type PID of Venkatesh et al.
(NeurIPS 2023), which differs from it there, is :mod:`synergy_lab.pid.gaussian_broja`.
"""

from __future__ import annotations

import numpy as np

from synergy_lab.pid.broja import PID

LN2 = float(np.log(2.0))


def validate_covariance(cov: np.ndarray, dims: tuple[int, int, int]) -> np.ndarray:
    """Check a covariance of (X1, X2, Y) stacked in that order with sizes ``dims``; float64.

    Rejects (ValueError) non-square or non-symmetric matrices, NaN, sizes that do not add up,
    and matrices that are not positive definite (a deterministic relation has infinite MI).
    """
    arr = np.asarray(cov, dtype=np.float64)
    if len(dims) != 3 or any(int(d) < 1 for d in dims):
        raise ValueError(f"dims must be three positive ints (d1, d2, dy); got {dims}")
    size = int(sum(dims))
    if arr.ndim != 2 or arr.shape != (size, size):
        raise ValueError(f"cov must be ({size}, {size}) for dims {dims}; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("cov contains NaN or infinite entries")
    if not np.allclose(arr, arr.T, rtol=1e-10, atol=1e-12 * np.abs(arr).max()):
        raise ValueError("cov must be symmetric")
    try:
        np.linalg.cholesky(arr)
    except np.linalg.LinAlgError:
        raise ValueError("cov must be positive definite") from None
    return (arr + arr.T) / 2


def gaussian_mutual_information(cov: np.ndarray, index_a: np.ndarray, index_b: np.ndarray) -> float:
    """I(A;B) = 1/2 log2(det S_AA det S_BB / det S_(A,B)) of Gaussian blocks of ``cov``; bits.

    ``index_a`` and ``index_b`` are disjoint integer index arrays into the (positive definite)
    covariance ``cov`` (Cover & Thomas, ch. 8).
    """
    ia = np.asarray(index_a, dtype=np.int64)
    ib = np.asarray(index_b, dtype=np.int64)
    both = np.concatenate([ia, ib])
    _, logdet_a = np.linalg.slogdet(cov[np.ix_(ia, ia)])
    _, logdet_b = np.linalg.slogdet(cov[np.ix_(ib, ib)])
    _, logdet_ab = np.linalg.slogdet(cov[np.ix_(both, both)])
    return max(0.5 * (logdet_a + logdet_b - logdet_ab) / LN2, 0.0)


def gaussian_mmi_pid(cov: np.ndarray, dims: tuple[int, int, int]) -> PID:
    """MMI PID (bits) of jointly Gaussian (X1, X2, Y) with covariance ``cov`` (d1+d2+dy square).

    ``dims`` = (d1, d2, dy): X1 takes the first d1 coordinates, X2 the next d2, Y the last dy.
    """
    cov = validate_covariance(cov, dims)
    d1, d2, dy = (int(d) for d in dims)
    x1 = np.arange(d1)
    x2 = np.arange(d1, d1 + d2)
    y = np.arange(d1 + d2, d1 + d2 + dy)
    i1 = gaussian_mutual_information(cov, x1, y)
    i2 = gaussian_mutual_information(cov, x2, y)
    i12 = max(gaussian_mutual_information(cov, np.concatenate([x1, x2]), y), i1, i2)
    redundancy = min(i1, i2)
    unique1 = i1 - redundancy
    unique2 = i2 - redundancy
    synergy = i12 - max(i1, i2)
    return PID(redundancy, unique1, unique2, synergy, redundancy + unique1 + unique2 + synergy)


def sample_covariance(
    x1: np.ndarray, x2: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Sample covariance of (x1 (n, d1), x2 (n, d2), y (n, dy)) stacked, and its dims.

    1-D arrays are one column. One ValueError line for mismatched lengths or n <= d1+d2+dy.
    """
    blocks = []
    for arr, name in ((x1, "x1"), (x2, "x2"), (y, "y")):
        a = np.asarray(arr, dtype=np.float64)
        a = a[:, None] if a.ndim == 1 else a
        if a.ndim != 2:
            raise ValueError(f"{name} must be (n,) or (n, d); got shape {np.shape(arr)}")
        blocks.append(a)
    n = blocks[0].shape[0]
    if any(b.shape[0] != n for b in blocks):
        raise ValueError(f"x1, x2, y must have equal length; got {[b.shape[0] for b in blocks]}")
    data = np.hstack(blocks)
    if n <= data.shape[1]:
        raise ValueError(f"need more samples ({n}) than dimensions ({data.shape[1]})")
    dims = (blocks[0].shape[1], blocks[1].shape[1], blocks[2].shape[1])
    return np.cov(data, rowvar=False), dims


def gaussian_mmi_pid_from_samples(x1: np.ndarray, x2: np.ndarray, y: np.ndarray) -> PID:
    """MMI PID (bits) from samples x1 (n, d1), x2 (n, d2), y (n, dy) via the sample covariance.

    Plug-in: each I(A;B) is biased upward for finite n, by about d_A d_B / (2 n ln 2) bits at
    independence (the likelihood-ratio chi-square); use n >> (d1 + d2) dy.
    """
    cov, dims = sample_covariance(x1, x2, y)
    return gaussian_mmi_pid(cov, dims)
