"""The model-level PID from a probe's soft predictions, corrected by a permutation null.

p(c1, c2, y) = mean over test samples of 1[code1 = c1, code2 = c2] q(y | z): the joint of the
two modalities' latent codes with the probe's predictive distribution (no argmax). Its BROJA PID
(bits) is biased upward at finite n (chance alignment of predictions with codes), so the
predictions are shuffled across samples ``shuffles`` times and the mean PID of the shuffled
tables is subtracted (the permutation null). Both raw and corrected values are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from synergy_lab.pid import PID, broja_pid


def soft_joint_table(
    code1: np.ndarray, code2: np.ndarray, probs: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    """Table (shape[0], shape[1], classes) summing to 1 from codes (n,) and probs (n, classes)."""
    code1 = np.asarray(code1).astype(np.int64)
    code2 = np.asarray(code2).astype(np.int64)
    probs = np.asarray(probs, dtype=np.float64)
    n = probs.shape[0]
    if probs.ndim != 2 or code1.shape != (n,) or code2.shape != (n,) or n == 0:
        raise ValueError("codes must be (n,) and probs (n, classes) with the same n > 0")
    if code1.min() < 0 or code1.max() >= shape[0] or code2.min() < 0 or code2.max() >= shape[1]:
        raise ValueError(f"codes must lie in range{tuple(shape)}")
    flat = np.zeros((shape[0] * shape[1], probs.shape[1]))
    np.add.at(flat, code1 * shape[1] + code2, probs)
    table = flat.reshape(shape[0], shape[1], probs.shape[1]) / n
    return table / table.sum()


def _parts(pid: PID) -> np.ndarray:
    return np.array([getattr(pid, p) for p in PID.PARTS], dtype=np.float64)


@dataclass(frozen=True)
class SoftPID:
    """Raw PID parts (bits), the null's mean and sd over shuffles; corrected = raw - null mean.

    Arrays are ordered as :attr:`PID.PARTS`. ``corrected_low/high`` = corrected -/+ the half-width
    of the 95 % prediction interval of one more null draw (t with shuffles - 1 degrees of
    freedom, sd * sqrt(1 + 1/shuffles)): if the predictions carried nothing about the codes, the
    raw value would be such a draw, so an interval that holds 0 means the part is not
    distinguishable from chance alignment.
    """

    raw: np.ndarray
    null_mean: np.ndarray
    null_sd: np.ndarray
    shuffles: int

    @property
    def corrected(self) -> np.ndarray:
        return self.raw - self.null_mean

    @property
    def half_width(self) -> np.ndarray:
        t = float(stats.t.ppf(0.975, self.shuffles - 1))
        return t * self.null_sd * np.sqrt(1 + 1 / self.shuffles)

    @property
    def corrected_low(self) -> np.ndarray:
        return self.corrected - self.half_width

    @property
    def corrected_high(self) -> np.ndarray:
        return self.corrected + self.half_width


def soft_model_pid(
    code1: np.ndarray,
    code2: np.ndarray,
    probs: np.ndarray,
    shape: tuple[int, int],
    *,
    shuffles: int = 20,
    seed: int = 0,
) -> SoftPID:
    """BROJA PID (bits) of :func:`soft_joint_table` and of ``shuffles`` >= 20 row-shuffles.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> c1, c2 = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
        >>> soft = soft_model_pid(c1, c2, np.eye(2)[c1 ^ c2], (2, 2))
        >>> bool(soft.corrected[3] > 0.9)  # XOR predicted perfectly: ~1 bit of synergy
        True
    """
    if shuffles < 20:
        raise ValueError(f"shuffles must be >= 20 for a stable null; got {shuffles}")
    raw = _parts(broja_pid(soft_joint_table(code1, code2, probs, shape)))
    rng = np.random.default_rng(seed)
    probs = np.asarray(probs, dtype=np.float64)
    null = np.stack(
        [
            _parts(
                broja_pid(soft_joint_table(code1, code2, probs[rng.permutation(len(probs))], shape))
            )
            for _ in range(shuffles)
        ]
    )
    return SoftPID(raw, null.mean(axis=0), null.std(axis=0, ddof=1), shuffles)
