"""The exact BROJA solver: known tables, an independent cvxpy formulation, invariances,
degenerate tables, the certificate, and input validation."""

from __future__ import annotations

import numpy as np
import pytest

from synergy_lab.pid import (
    CANONICAL,
    PID,
    SolverOptions,
    broja_pid,
    pid_from_min_mi,
    solve_broja,
    table_informations,
)

cp = pytest.importorskip("cvxpy")


# ----------------------------------------------------------------------------------------------
# An independent slow reference: the primal problem as an exponential-cone program.
# ----------------------------------------------------------------------------------------------


def reference_min_mi(p: np.ndarray) -> float:
    """min over Delta_P of I_Q(Y; X1, X2) in bits, by cvxpy (rel_entr) + Clarabel.

    Variables are all entries of Q (zeros allowed); I_Q = H(Y) + sum Q log(Q / Q(x1, x2)).
    """
    n1, n2, ny = p.shape
    q = cp.Variable((n1 * n2, ny), nonneg=True)  # row = (x1, x2)
    cell = cp.sum(q, axis=1, keepdims=True) @ np.ones((1, ny))
    rows1 = np.kron(np.eye(n1), np.ones((1, n2)))  # sums over x2: (n1, n1 n2)
    rows2 = np.kron(np.ones((1, n1)), np.eye(n2))  # sums over x1: (n2, n1 n2)
    constraints = [rows1 @ q == p.sum(axis=1), rows2 @ q == p.sum(axis=0)]
    problem = cp.Problem(cp.Minimize(cp.sum(cp.rel_entr(q, cell))), constraints)
    problem.solve(solver=cp.CLARABEL)
    py = p.sum(axis=(0, 1))
    hy = -np.sum(py[py > 0] * np.log(py[py > 0]))
    return float((hy + problem.value) / np.log(2))


def random_table(rng: np.random.Generator, shape: tuple[int, int, int], kind: str) -> np.ndarray:
    size = int(np.prod(shape))
    if kind == "dense":
        p = rng.dirichlet(np.ones(size))
    elif kind == "peaked":  # entries over many orders of magnitude
        p = rng.dirichlet(np.full(size, 0.1))
    elif kind == "sparse":  # structural zeros, incl. whole rows now and then
        p = rng.random(size) * (rng.random(size) < 0.35)
        p[rng.integers(size)] += 1.0
    else:  # "function": Y a random function of (X1, X2)
        n1, n2, ny = shape
        p = np.zeros(shape)
        f = rng.integers(0, ny, (n1, n2))
        p[np.arange(n1)[:, None], np.arange(n2)[None, :], f] = rng.dirichlet(
            np.ones(n1 * n2)
        ).reshape(n1, n2)
        p = p.ravel()
    return (p / p.sum()).reshape(shape)


def assert_valid_pid(pid: PID, p: np.ndarray, atol: float = 1e-9) -> None:
    """Atoms non-negative, summing to I(X1,X2;Y), consistent with both marginal MIs."""
    i1, i2, i12 = table_informations(p)
    for value in (pid.redundancy, pid.unique1, pid.unique2, pid.synergy):
        assert value >= 0.0
    assert pid.redundancy + pid.unique1 + pid.unique2 + pid.synergy == pytest.approx(
        pid.total, abs=1e-12
    )
    assert pid.total == pytest.approx(i12, abs=atol)
    assert pid.redundancy + pid.unique1 == pytest.approx(i1, abs=atol)
    assert pid.redundancy + pid.unique2 == pytest.approx(i2, abs=atol)


# ----------------------------------------------------------------------------------------------
# Known answers
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CANONICAL))
def test_canonical_tables_match_their_known_decomposition(name: str) -> None:
    entry = CANONICAL[name]
    pid = broja_pid(entry.table)
    for field, expected in entry.expected.as_dict().items():
        assert getattr(pid, field) == pytest.approx(expected, abs=1e-8), field
    assert solve_broja(entry.table).gap < 1e-9


def test_reference_formulation_agrees_on_canonical_tables() -> None:
    """Guards the test's own reference: it must reproduce the hand-derived optima too."""
    for name in ("and", "sum", "reduced_or", "diff"):
        entry = CANONICAL[name]
        i1, i2, _ = table_informations(entry.table)
        expected_star = entry.expected.unique1 + i2  # I* = U1 + I(Y;X2)
        assert reference_min_mi(entry.table) == pytest.approx(expected_star, abs=1e-6)


# ----------------------------------------------------------------------------------------------
# Random tables against the independent formulation
# ----------------------------------------------------------------------------------------------

SHAPES = [(2, 2, 2), (3, 2, 3), (2, 5, 2), (4, 4, 3), (5, 3, 3), (6, 6, 3), (3, 7, 4), (8, 8, 2)]
KINDS = ["dense", "peaked", "sparse", "function"]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", KINDS)
def test_random_tables_agree_with_cvxpy(shape: tuple[int, int, int], kind: str) -> None:
    rng = np.random.default_rng([SHAPES.index(shape), KINDS.index(kind)])
    p = random_table(rng, shape, kind)
    sol = solve_broja(p)
    assert sol.gap < 1e-9
    # Clarabel's own tolerance is ~1e-8 relative; our certified value must agree to 1e-6 bits.
    assert sol.min_mi == pytest.approx(reference_min_mi(p), abs=1e-6)
    assert_valid_pid(broja_pid(p), p)


def test_certificate_is_real() -> None:
    """Q is in Delta_P and I_Q, recomputed here from Q alone, equals the reported optimum."""
    rng = np.random.default_rng(7)
    p = random_table(rng, (6, 5, 4), "sparse")
    sol = solve_broja(p)
    q = sol.q
    assert np.all(q >= 0)
    np.testing.assert_allclose(q.sum(axis=1), p.sum(axis=1), atol=1e-13)
    np.testing.assert_allclose(q.sum(axis=0), p.sum(axis=0), atol=1e-13)
    forced_zero = (p.sum(axis=1)[:, None, :] == 0) | (p.sum(axis=0)[None, :, :] == 0)
    assert np.all(q[forced_zero] == 0)
    _, _, i_q = table_informations(q)
    assert i_q == pytest.approx(sol.min_mi, abs=1e-12)
    assert sol.lower_bound <= sol.min_mi + 1e-15
    assert sol.marginal_error < 1e-13


def test_dense_and_schur_linear_algebra_give_the_same_optimum() -> None:
    rng = np.random.default_rng(3)
    p = random_table(rng, (7, 6, 4), "dense")
    dense = solve_broja(p, options=SolverOptions(dense_size=10_000))
    schur = solve_broja(p, options=SolverOptions(dense_size=0))
    assert dense.gap < 1e-9 and schur.gap < 1e-9
    assert dense.min_mi == pytest.approx(schur.min_mi, abs=1e-9)


def test_medium_table_is_certified() -> None:
    rng = np.random.default_rng(11)
    p = random_table(rng, (24, 20, 6), "peaked")
    sol = solve_broja(p)
    assert sol.gap < 1e-9
    assert_valid_pid(broja_pid(p), p)


def test_entries_spanning_twenty_orders_of_magnitude_are_certified() -> None:
    """Half the entries scaled by 1e-12: the re-solve without negligible mass must certify."""
    rng = np.random.default_rng(5)
    for _ in range(4):
        p = rng.random((2, 2, 2))
        p[rng.random((2, 2, 2)) < 0.5] *= 1e-12
        p /= p.sum()
        sol = solve_broja(p)
        assert sol.gap < 1e-9
        assert sol.min_mi == pytest.approx(reference_min_mi(p), abs=1e-6)


# ----------------------------------------------------------------------------------------------
# Invariances
# ----------------------------------------------------------------------------------------------


def test_swapping_sources_swaps_the_unique_informations() -> None:
    rng = np.random.default_rng(21)
    for kind in KINDS:
        p = random_table(rng, (4, 3, 3), kind)
        pid = broja_pid(p)
        swapped = broja_pid(p.transpose(1, 0, 2))
        for field, value in pid.swapped().as_dict().items():
            assert getattr(swapped, field) == pytest.approx(value, abs=1e-9)


def test_relabelling_values_changes_nothing() -> None:
    rng = np.random.default_rng(22)
    p = random_table(rng, (4, 5, 3), "sparse")
    pid = broja_pid(p)
    permuted = p[rng.permutation(4)][:, rng.permutation(5)][:, :, rng.permutation(3)]
    for field, value in pid.as_dict().items():
        assert getattr(broja_pid(permuted), field) == pytest.approx(value, abs=1e-9)


def test_padding_with_impossible_values_changes_nothing() -> None:
    p = CANONICAL["and"].table
    padded = np.zeros((3, 4, 3))
    padded[1:3, 0:2, 0:2] = p
    for field, value in broja_pid(p).as_dict().items():
        assert getattr(broja_pid(padded), field) == pytest.approx(value, abs=1e-9)


# ----------------------------------------------------------------------------------------------
# Degenerate tables
# ----------------------------------------------------------------------------------------------


def test_deterministic_target_has_nothing_to_decompose() -> None:
    p = np.zeros((3, 3, 2))
    p[:, :, 1] = 1.0 / 9.0
    pid = broja_pid(p)
    assert pid.as_dict() == {k: 0.0 for k in pid.as_dict()}


def test_single_value_of_one_source_is_all_unique_to_the_other() -> None:
    rng = np.random.default_rng(4)
    p = rng.dirichlet(np.ones(12)).reshape(1, 4, 3)
    _, i2, _ = table_informations(p)
    pid = broja_pid(p)
    for atom in (pid.redundancy, pid.unique1, pid.synergy):
        assert atom == pytest.approx(0.0, abs=1e-12)
    assert pid.unique2 == pytest.approx(i2, abs=1e-12)
    assert solve_broja(p).gap == pytest.approx(0.0, abs=1e-12)


def test_single_entry_table() -> None:
    pid = broja_pid(np.ones((1, 1, 1)))
    assert pid.total == 0.0


def test_target_a_function_of_one_source_only() -> None:
    rng = np.random.default_rng(8)
    x1_law = rng.dirichlet(np.ones(3))
    x2_law = rng.dirichlet(np.ones(4))
    p = np.zeros((3, 4, 3))
    for x1 in range(3):
        p[x1, :, x1] = x1_law[x1] * x2_law  # Y = X1, X2 independent noise
    pid = broja_pid(p)
    h = -np.sum(x1_law * np.log2(x1_law))
    assert pid.unique1 == pytest.approx(h, abs=1e-8)
    assert pid.redundancy == pytest.approx(0.0, abs=1e-8)
    assert pid.unique2 == pytest.approx(0.0, abs=1e-8)
    assert pid.synergy == pytest.approx(0.0, abs=1e-8)


def test_round_off_below_the_feasible_interval_is_clipped() -> None:
    pid = pid_from_min_mi(0.5, 0.3, 0.9, 0.5 - 1e-13)  # I* below max(I1, I2) by round-off
    assert pid.unique1 >= 0 and pid.unique2 == 0.0
    assert pid.redundancy + pid.unique1 + pid.unique2 + pid.synergy == pytest.approx(0.9)
    pid = pid_from_min_mi(0.5, 0.45, 0.9, 0.9 + 1e-13)  # above I12 (< I1 + I2)
    assert pid.synergy == 0.0 and pid.total == pytest.approx(0.9)
    pid = pid_from_min_mi(0.5, 0.3, 0.9, 0.8 + 1e-13)  # above I1 + I2: redundancy clipped at 0
    assert pid.redundancy == 0.0 and pid.synergy == pytest.approx(0.1)


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (np.full((2, 2), 0.25), "3 dimensions"),
        (np.full((2, 2, 2, 1), 1 / 8), "3 dimensions"),
        (np.zeros((0, 2, 2)), "empty"),
        (np.array([[[0.5, 0.5], [0.25, -0.25]], [[0.0, 0.0], [0.0, 0.0]]]), "negative"),
        (np.array([[[np.nan, 0.5], [0.25, 0.25]], [[0.0, 0.0], [0.0, 0.0]]]), "NaN"),
        (np.full((2, 2, 2), 0.2), "sum to 1"),
        (np.array([["a", "b"]] * 2).reshape(2, 2, 1), "numeric"),
    ],
)
def test_bad_tables_are_rejected(table: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        broja_pid(table)


def test_total_tolerance_and_normalize() -> None:
    p = CANONICAL["xor"].table * (1 + 5e-10)
    assert broja_pid(p).synergy == pytest.approx(1.0, abs=1e-8)  # within 1e-9 of 1: accepted
    with pytest.raises(ValueError, match="sum to 1"):
        broja_pid(CANONICAL["xor"].table * (1 + 1e-8))
    counts = CANONICAL["and"].table * 40  # raw counts
    assert broja_pid(counts, normalize=True).synergy == pytest.approx(0.5, abs=1e-8)
    with pytest.raises(ValueError, match="normalised"):
        broja_pid(np.zeros((2, 2, 2)), normalize=True)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"gap_tol": 0.0}, "gap_tol"),
        ({"feas_tol": -1.0}, "feas_tol"),
        ({"max_iter": 0}, "max_iter"),
        ({"sinkhorn_iter": 0}, "sinkhorn_iter"),
        ({"dense_size": -1}, "dense_size"),
        ({"retry_gap": 0.0}, "retry_gap"),
        ({"negligible": (0.5, 2.0)}, "negligible"),
    ],
)
def test_solver_options_are_checked(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        SolverOptions(**kwargs)
