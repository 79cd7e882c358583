"""The Gaussian BROJA-type PID of vector targets (Venkatesh et al. 2023) against known answers."""

from __future__ import annotations

import numpy as np
import pytest

from synergy_lab.pid import gaussian_broja_pid, gaussian_mmi_pid, solve_gaussian_broja

ATOMS = ("redundancy", "unique1", "unique2", "synergy", "total")


def _channels(g1: np.ndarray, g2: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Covariance of (X1, X2, Y) with Y ~ N(0, I), (X1, X2) = [g1; g2] Y + N, Cov N = noise."""
    g = np.vstack([g1, g2])
    dy = g.shape[1]
    return np.block([[g @ g.T + noise, g], [g.T, np.eye(dy)]])


def _mi(gain: np.ndarray) -> float:
    """I(Y; G Y + N) in bits for white Y and white N."""
    return 0.5 * float(np.linalg.slogdet(np.eye(gain.shape[1]) + gain.T @ gain)[1]) / np.log(2)


def _assert_pid(pid: object, expected: dict[str, float], tol: float) -> None:
    for atom in ATOMS:
        assert getattr(pid, atom) == pytest.approx(expected[atom], abs=tol), atom


def _random_cov(dims: tuple[int, int, int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((sum(dims), sum(dims)))
    return a @ a.T / sum(dims) + 0.2 * np.eye(sum(dims))


@pytest.mark.parametrize("seed", range(5))
def test_scalar_target_equals_the_closed_form(seed: int) -> None:
    # Barrett (2015): for dim Y = 1 the Gaussian BROJA PID is the MMI PID.
    cov = _random_cov((3, 2, 1), seed)
    solution = solve_gaussian_broja(cov, (3, 2, 1))
    _assert_pid(solution.pid, gaussian_mmi_pid(cov, (3, 2, 1)).as_dict(), 1e-10)
    assert 0 <= solution.gap < 1e-10


def test_pure_uniqueness() -> None:
    # Y = (Y1, Y2); X1 sees only Y1, X2 only Y2, independent noises: U1 = I1, U2 = I2.
    g1, g2 = np.array([[1.5, 0.0]]), np.array([[0.0, 0.7]])
    pid = gaussian_broja_pid(_channels(g1, g2, np.eye(2)), (1, 1, 2))
    i1, i2 = _mi(g1), _mi(g2)
    _assert_pid(pid, dict(redundancy=0, unique1=i1, unique2=i2, synergy=0, total=i1 + i2), 1e-9)


def test_pure_redundancy() -> None:
    # X1 and X2 are equally noisy copies of the same 2-d Y: all of I(Y;X1) is shared. Under P
    # the noises are independent, so the pair knows more (synergy = I12 - I1), but Q can make
    # the noises identical, which puts the optimum on the boundary of the feasible set.
    g = np.array([[1.0, 0.3], [0.0, 2.0]])
    cov = _channels(g, g, np.eye(4))
    solution = solve_gaussian_broja(cov, (2, 2, 2))
    i1 = _mi(g)
    i12 = _mi(np.vstack([g, g]))
    expected = dict(redundancy=i1, unique1=0, unique2=0, synergy=i12 - i1, total=i12)
    _assert_pid(solution.pid, expected, 1e-8)
    assert solution.gap < 1e-7


def test_synergy_dominated() -> None:
    # X1 = Y + N, X2 = N + M (2-d each): X2 alone is independent of Y but cancels X1's noise.
    dy = 2
    var_m = 0.05
    g1, g2 = np.eye(dy), np.zeros((dy, dy))
    noise = np.block([[np.eye(dy), np.eye(dy)], [np.eye(dy), (1 + var_m) * np.eye(dy)]])
    cov = _channels(g1, g2, noise)
    pid = gaussian_broja_pid(cov, (dy, dy, dy))
    i1 = _mi(g1)
    # Per coordinate, Var(Y | X1, X2) = 1 - c^T C^-1 c (regression on the scalar pair).
    pair = np.array([[2.0, 1.0], [1.0, 1 + var_m]])
    c = np.array([1.0, 0.0])
    i12 = dy * 0.5 * np.log2(1 / (1 - c @ np.linalg.solve(pair, c)))
    expected = dict(redundancy=0, unique1=i1, unique2=0, synergy=i12 - i1, total=i12)
    _assert_pid(pid, expected, 1e-9)
    assert pid.synergy > 2 * pid.unique1


def test_independent_subsystems_add_up() -> None:
    # A vector target made of two independent scalar systems: the PID is the sum of their
    # closed forms (additivity, Venkatesh et al. 2023), though the MMI PID of the whole is not.
    a = _random_cov((1, 1, 1), 7)
    b = _random_cov((1, 1, 1), 8)
    # Stack as X1 = (a_x1, b_x1), X2 = (a_x2, b_x2), Y = (a_y, b_y).
    order = [0, 3, 1, 4, 2, 5]
    joint = np.zeros((6, 6))
    joint[:3, :3], joint[3:, 3:] = a, b
    cov = joint[np.ix_(order, order)]
    pid = gaussian_broja_pid(cov, (2, 2, 2))
    pa, pb = gaussian_mmi_pid(a, (1, 1, 1)), gaussian_mmi_pid(b, (1, 1, 1))
    expected = {k: getattr(pa, k) + getattr(pb, k) for k in ATOMS}
    _assert_pid(pid, expected, 1e-9)
    mmi = gaussian_mmi_pid(cov, (2, 2, 2))
    assert abs(mmi.redundancy - pid.redundancy) > 0.01  # the two definitions differ here


def test_invariant_under_invertible_linear_maps() -> None:
    dims = (3, 4, 3)
    cov = _random_cov(dims, 3)
    rng = np.random.default_rng(4)
    maps = [rng.standard_normal((d, d)) + 2 * np.eye(d) for d in dims]
    t = np.zeros((10, 10))
    t[:3, :3], t[3:7, 3:7], t[7:, 7:] = maps
    base = solve_gaussian_broja(cov, dims)
    moved = solve_gaussian_broja(t @ cov @ t.T, dims)
    _assert_pid(moved.pid, base.pid.as_dict(), 1e-9)
    assert base.gap < 1e-10 and moved.gap < 1e-10


def test_swapping_the_sources_swaps_the_uniques() -> None:
    cov = _random_cov((2, 3, 2), 5)
    perm = [2, 3, 4, 0, 1, 5, 6]
    pid = gaussian_broja_pid(cov, (2, 3, 2))
    swapped = gaussian_broja_pid(cov[np.ix_(perm, perm)], (3, 2, 2))
    _assert_pid(swapped, pid.swapped().as_dict(), 1e-9)


@pytest.mark.parametrize(
    ("cov", "dims", "message"),
    [
        (np.eye(5), (1, 1, 2), r"must be \(4, 4\) for dims"),
        (np.eye(4), (2, 0, 2), "positive ints"),
        (np.diag([1.0, 1.0, -1.0, 1.0]), (1, 1, 2), "positive definite"),
        (np.ones((4, 4)), (1, 1, 2), "positive definite"),
        (np.full((4, 4), np.inf), (1, 1, 2), "NaN or infinite"),
    ],
)
def test_bad_input_is_one_clear_value_error(cov: np.ndarray, dims: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        solve_gaussian_broja(cov, dims)
    assert "\n" not in str(error.value)
