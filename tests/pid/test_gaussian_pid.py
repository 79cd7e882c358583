"""The closed-form MMI PID of jointly Gaussian variables (Barrett 2015)."""

from __future__ import annotations

import numpy as np
import pytest

from synergy_lab.pid import gaussian_mmi_pid, gaussian_mmi_pid_from_samples


def _noisy_copies(var_y: float, var1: float, var2: float) -> np.ndarray:
    """Covariance of (X1, X2, Y) with Xi = Y + Ni, independent noises of variance var_i."""
    return np.array(
        [[var_y + var1, var_y, var_y], [var_y, var_y + var2, var_y], [var_y, var_y, var_y]]
    )


def _mi_from_conditional_variance(cov: np.ndarray, x: list[int], y: int) -> float:
    """I(Y; X) = 1/2 log2(Var Y / Var(Y | X)) for scalar Y, via the regression formula."""
    sxx = cov[np.ix_(x, x)]
    sxy = cov[x, y]
    residual = cov[y, y] - sxy @ np.linalg.solve(sxx, sxy)
    return 0.5 * np.log2(cov[y, y] / residual)


def test_scalar_noisy_copies_have_the_known_decomposition() -> None:
    cov = _noisy_copies(1.0, 0.5, 2.0)
    pid = gaussian_mmi_pid(cov, (1, 1, 1))
    i1 = 0.5 * np.log2(1 + 1 / 0.5)  # SNR formula
    i2 = 0.5 * np.log2(1 + 1 / 2.0)
    i12 = 0.5 * np.log2(1 + 1 / 0.5 + 1 / 2.0)  # precisions add
    assert pid.redundancy == pytest.approx(min(i1, i2), abs=1e-12)
    assert pid.unique1 == pytest.approx(i1 - i2, abs=1e-12)
    assert pid.unique2 == pytest.approx(0.0, abs=1e-15)
    assert pid.synergy == pytest.approx(i12 - i1, abs=1e-12)
    assert pid.total == pytest.approx(i12, abs=1e-12)


def test_a_source_independent_of_the_target_can_still_be_synergistic() -> None:
    # X1 = Y + N, X2 = N + M: X2 alone says nothing about Y but cancels X1's noise.
    var_n, var_m = 1.0, 0.1
    cov = np.array([[1.0 + var_n, var_n, 1.0], [var_n, var_n + var_m, 0.0], [1.0, 0.0, 1.0]])
    pid = gaussian_mmi_pid(cov, (1, 1, 1))
    i1 = _mi_from_conditional_variance(cov, [0], 2)
    i12 = _mi_from_conditional_variance(cov, [0, 1], 2)
    assert pid.redundancy == pytest.approx(0.0, abs=1e-12)
    assert pid.unique1 == pytest.approx(i1, abs=1e-12)
    assert pid.synergy == pytest.approx(i12 - i1, abs=1e-12)
    assert pid.synergy > 1.0


def test_swapping_the_sources_swaps_the_uniques() -> None:
    cov = _noisy_copies(1.0, 0.3, 0.8)
    perm = [1, 0, 2]
    pid = gaussian_mmi_pid(cov, (1, 1, 1))
    swapped = gaussian_mmi_pid(cov[np.ix_(perm, perm)], (1, 1, 1))
    for field, value in pid.swapped().as_dict().items():
        assert getattr(swapped, field) == pytest.approx(value, abs=1e-12)


def test_vector_sources_and_target() -> None:
    # Y = (Y1, Y2) independent; X1 sees Y1, X2 sees Y2: no redundancy beyond min, additive MI.
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 6))
    cov = a @ a.T + 6 * np.eye(6)
    pid = gaussian_mmi_pid(cov, (2, 2, 2))
    assert min(pid.redundancy, pid.unique1, pid.unique2, pid.synergy) >= 0
    assert pid.redundancy + pid.unique1 + pid.unique2 + pid.synergy == pytest.approx(pid.total)


def test_samples_from_a_known_covariance() -> None:
    rng = np.random.default_rng(1)
    cov = _noisy_copies(1.0, 0.5, 1.0)
    data = rng.multivariate_normal(np.zeros(3), cov, size=100_000)
    estimate = gaussian_mmi_pid_from_samples(data[:, 0], data[:, 1], data[:, 2])
    exact = gaussian_mmi_pid(cov, (1, 1, 1))
    for field, value in exact.as_dict().items():
        assert getattr(estimate, field) == pytest.approx(value, abs=0.01), field


@pytest.mark.parametrize(
    ("cov", "dims", "message"),
    [
        (np.eye(3), (1, 1, 2), r"must be \(4, 4\)"),
        (np.eye(3), (1, 0, 2), "positive ints"),
        (np.array([[1.0, 0.5, 0], [0.0, 1, 0], [0, 0, 1]]), (1, 1, 1), "symmetric"),
        (np.ones((3, 3)), (1, 1, 1), "positive definite"),
        (np.full((3, 3), np.nan), (1, 1, 1), "NaN"),
    ],
)
def test_bad_covariances_are_rejected(cov: np.ndarray, dims: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gaussian_mmi_pid(cov, dims)


def test_too_few_samples_are_rejected() -> None:
    with pytest.raises(ValueError, match="more samples"):
        gaussian_mmi_pid_from_samples(np.zeros(3), np.zeros(3), np.zeros(3))
