"""The model-level PID from a probe's soft predictions, tested against a permutation null.

p(c1, c2, y) = mean over test samples of 1[code1 = c1, code2 = c2] q(y | z): the joint of the
two modalities' latent codes with the probe's predictive distribution (no argmax). Its BROJA PID
(bits, each part >= 0) is biased upward at finite n by chance alignment of predictions with
codes. The predictions are shuffled across samples ``shuffles`` times; the shuffled tables' PIDs
are the null distribution, and each raw part gets a one-sided permutation p-value
(1 + #{null >= raw}) / (1 + shuffles) (Phipson & Smyth 2010, "Permutation p-values should never
be zero"). The report gives raw parts, the null's mean and 95th percentile, and the p-values:
a test, not a subtraction, so no reported part is negative. (Subtracting the null's mean, the
legacy ``corrected``, gave impossible negative "synergy" when the null exceeded the raw value.)
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


_TIE = 1e-9  # bits: the PID solver's precision; a null within it of the raw value ties


def _parts(pid: PID) -> np.ndarray:
    """PID parts (4,) in bits; the solver's tiny negative round-off is clipped to 0."""
    return np.maximum(np.array([getattr(pid, p) for p in PID.PARTS], dtype=np.float64), 0.0)


@dataclass(frozen=True)
class SoftPID:
    """Raw PID parts (bits, >= 0) and their permutation null (shuffles, 4) in bits.

    Arrays are ordered as :attr:`PID.PARTS`. ``p_value`` (4,) is the one-sided permutation p-value
    of each raw part, ``significant(alpha)`` where it is <= alpha; ``null_mean`` and
    ``null_q95`` summarise the null. Legacy, for old result columns only: ``corrected`` = raw -
    null mean (can be negative: do not report it as a PID part) and ``corrected_low/high`` =
    corrected -/+ the half-width of the 95 % t prediction interval of one more null draw.
    """

    raw: np.ndarray
    null: np.ndarray

    @property
    def shuffles(self) -> int:
        return int(self.null.shape[0])

    @property
    def null_mean(self) -> np.ndarray:
        return self.null.mean(axis=0)

    @property
    def null_sd(self) -> np.ndarray:
        return self.null.std(axis=0, ddof=1)

    @property
    def null_q95(self) -> np.ndarray:
        """The null's 95th percentile per part (bits): a raw part above it is significant."""
        return np.percentile(self.null, 95, axis=0)

    @property
    def p_value(self) -> np.ndarray:
        """(1 + #{null >= raw}) / (1 + shuffles) per part: never 0, exact under exchangeability."""
        exceed = (self.null >= self.raw[None, :] - _TIE).sum(axis=0)
        return (1.0 + exceed) / (1.0 + self.shuffles)

    def significant(self, alpha: float = 0.05) -> np.ndarray:
        """(4,) bool: the part is above chance alignment at one-sided level ``alpha``."""
        return self.p_value <= alpha

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

    With ``shuffles`` = 20 the smallest p-value is 1/21 < 0.05; use 100 or more for a finer one.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> c1, c2 = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
        >>> soft = soft_model_pid(c1, c2, np.eye(2)[c1 ^ c2], (2, 2))
        >>> bool(soft.raw[3] > 0.9), bool(soft.significant()[3])  # XOR: ~1 bit of synergy
        (True, True)
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
    return SoftPID(raw, null)
