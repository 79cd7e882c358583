"""The BATCH estimator: Sinkhorn and the minibatch coupling against slow references and exact
tables, the estimate from exact conditionals, Liang et al.'s published AND values, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from synergy_lab.pid import CANONICAL, broja_pid, table_informations
from synergy_lab.pid.batch import (
    BatchConfig,
    batch_pid,
    batch_pid_from_probs,
    coupling_informations,
    coupling_marginals,
    min_coupling,
    minibatch_atoms,
    sinkhorn,
)

NATS = 1 / math.log(2.0)


def _slow_sinkhorn(w: np.ndarray, rows: np.ndarray, cols: np.ndarray, iters: int) -> np.ndarray:
    """Reference: element loops, one label slice at a time, rows then columns."""
    m1, m2 = w.shape
    q = np.zeros((m1, m2, rows.shape[1]))
    for y in range(rows.shape[1]):
        a = np.ones(m1)
        b = np.ones(m2)
        for _ in range(iters):
            for i in range(m1):
                a[i] = rows[i, y] / sum(w[i, j] * b[j] for j in range(m2))
            for j in range(m2):
                b[j] = cols[j, y] / sum(w[i, j] * a[i] for i in range(m1))
        for i in range(m1):
            for j in range(m2):
                q[i, j, y] = a[i] * w[i, j] * b[j]
    return q


def _random_probs(rng: np.random.Generator, m: int, classes: int) -> np.ndarray:
    return rng.dirichlet(np.ones(classes), size=m)


def test_sinkhorn_matches_slow_reference_and_fits_marginals() -> None:
    rng = np.random.default_rng(0)
    p1, p2 = _random_probs(rng, 7, 3), _random_probs(rng, 7, 3)
    rows, cols, pi = coupling_marginals(torch.tensor(p1), torch.tensor(p2))
    w = rng.random((7, 7))
    a, b = sinkhorn(torch.tensor(w), rows, cols, 50)
    q = a[:, None, :] * torch.tensor(w)[:, :, None] * b[None, :, :]
    np.testing.assert_allclose(q.numpy(), _slow_sinkhorn(w, rows.numpy(), cols.numpy(), 50))
    np.testing.assert_allclose(q.sum(1).numpy(), rows.numpy(), atol=1e-10)
    np.testing.assert_allclose(q.sum(0).numpy(), cols.numpy(), atol=1e-12)
    np.testing.assert_allclose(rows.sum(0).numpy(), pi.numpy())
    np.testing.assert_allclose(cols.sum(0).numpy(), pi.numpy())


def test_coupling_informations_match_table_informations() -> None:
    rng = np.random.default_rng(1)
    q = rng.random((5, 4, 3))
    q /= q.sum()
    i1, i2, i12 = coupling_informations(torch.tensor(q), torch.tensor(q.sum((0, 1))))
    np.testing.assert_allclose((i1, i2, i12), table_informations(q), atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_min_coupling_reaches_the_exact_broja_optimum_of_the_batch(seed: int) -> None:
    """The minibatch q is the BROJA problem on the (m, m, Y) batch table: compare with the
    exact solver on that table (any table with the batch's marginals, e.g. the product)."""
    rng = np.random.default_rng(seed)
    p1, p2 = _random_probs(rng, 12, 3) ** 3, _random_probs(rng, 12, 3) ** 3  # peaked
    p1 /= p1.sum(1, keepdims=True)
    p2 /= p2.sum(1, keepdims=True)
    t1, t2 = torch.tensor(p1), torch.tensor(p2)
    rows, cols, pi = coupling_marginals(t1, t2)
    product = (rows[:, None, :] * cols[None, :, :] / pi).numpy()
    exact = broja_pid(product, normalize=True)
    exact_min = exact.total - exact.synergy  # I* = R + U1 + U2
    q, _ = min_coupling(t1, t2, steps=300, sinkhorn_iters=30)
    i1, i2, i_star = coupling_informations(q, pi)
    assert i_star == pytest.approx(exact_min, abs=1e-3)  # mirror descent converges as 1/t
    assert i1 == pytest.approx(
        exact.redundancy + exact.unique1, abs=1e-4
    )  # Sinkhorn's row residual
    assert i2 == pytest.approx(exact.redundancy + exact.unique2, abs=1e-4)
    # The starting (product) coupling is feasible but not optimal here.
    start_q, _ = min_coupling(t1, t2, steps=0)
    assert coupling_informations(start_q, pi)[2] > i_star + 1e-3


def _gate_conditionals(n: int, gate: str, seed: int) -> tuple[np.ndarray, ...]:
    """Exact p(y|s1), p(y|s2), p(y|s1,s2) of fair bits s1, s2 and y = gate(s1, s2)."""
    rng = np.random.default_rng(seed)
    s1, s2 = rng.integers(0, 2, n), rng.integers(0, 2, n)
    if gate == "xor":
        half = np.full((n, 2), 0.5)
        return half, half.copy(), np.eye(2)[s1 ^ s2]

    def cond(s: np.ndarray) -> np.ndarray:
        return np.where(s[:, None] == 0, [1.0, 0.0], [0.5, 0.5])

    return cond(s1), cond(s2), np.eye(2)[s1 & s2]


def test_exact_xor_conditionals_give_one_bit_of_synergy() -> None:
    pid = batch_pid_from_probs(*_gate_conditionals(1024, "xor", 0))
    assert pid.synergy == pytest.approx(1.0, abs=0.01)
    assert max(pid.redundancy, pid.unique1, pid.unique2) < 1e-6


def test_liang_et_al_published_and_estimates_reproduced_in_bits() -> None:
    """Liang et al. (NeurIPS 2023, pliang279/PID synthetic results) report for their AND data,
    from 1e6 samples, R = 0.216 and S = 0.346 nats = 0.311 and 0.499 bits (U = 0).

    Exact: our solver on the exact AND table must match to their 3 printed digits (+-0.0005
    nats = 0.0007 bits, plus their sampling error at 1e6 samples: ~0.001 bits): 0.002 bits.
    Estimated: BATCH from the exact conditionals on 2,048 samples (8 minibatches of 256). Its
    error is the minibatch's: the label entropy of a batch of m = 256 has sd ~0.03 bits
    around 0.811 (and a downward bias of 1/(2 m ln 2) = 0.003), and the s1 and s2 frequencies
    of a batch differ by ~0.04, read as spurious unique information (~0.01 bits): averaged
    over 8 batches, 0.03 bits covers this with room.
    """
    published = {"redundancy": 0.216 * NATS, "synergy": 0.346 * NATS, "unique1": 0.0}
    exact = broja_pid(CANONICAL["and"].table)
    for atom, value in published.items():
        assert getattr(exact, atom) == pytest.approx(value, abs=0.002)
    estimate = batch_pid_from_probs(*_gate_conditionals(2048, "and", 0))
    for atom, value in published.items():
        assert getattr(estimate, atom) == pytest.approx(value, abs=0.03), atom


def test_minibatch_atoms_shapes_and_max_batches() -> None:
    probs = _gate_conditionals(690, "and", 1)
    atoms, sizes = minibatch_atoms(*probs, BatchConfig(coupling_batch=200))
    assert atoms.shape == (3, 4) and list(sizes) == [200, 200, 200]  # 90 left < 200 // 2: dropped
    atoms, sizes = minibatch_atoms(*probs, BatchConfig(coupling_batch=200, max_batches=2))
    assert atoms.shape == (2, 4)


def test_batch_pid_end_to_end_on_noisy_xor() -> None:
    """Classifiers from features: x_i = (s_i, private bit) + noise, y = s1 XOR s2."""
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    n = 2000
    s1, s2, u1, u2 = (rng.integers(0, 2, n) for _ in range(4))
    x1 = np.stack([s1, u1], 1) + 0.1 * rng.standard_normal((n, 2))
    x2 = np.stack([s2, u2], 1) + 0.1 * rng.standard_normal((n, 2))
    config = BatchConfig(hidden=32, device="cpu")
    pid = batch_pid(x1, x2, s1 ^ s2, config)
    assert pid.synergy > 0.8
    assert max(pid.redundancy, pid.unique1, pid.unique2) < 0.1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"hidden": 0}, "hidden"),
        ({"coupling_batch": 1}, "coupling_batch"),
        ({"fit_fraction": 1.0}, "fit_fraction"),
        ({"lr": -1.0}, "lr"),
        ({"device": "tpu"}, "device"),
        ({"max_batches": -1}, "max_batches"),
    ],
)
def test_batch_config_rejects_bad_values(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        BatchConfig(**kwargs)


def test_bad_inputs_are_rejected() -> None:
    p = np.full((4, 2), 0.5)
    with pytest.raises(ValueError, match="one shape"):
        batch_pid_from_probs(p, p, np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="sum to 1"):
        batch_pid_from_probs(p, p, np.full((4, 2), 0.6))
    x = np.zeros((50, 2))
    with pytest.raises(ValueError, match="rows"):
        batch_pid(x, np.zeros((49, 2)), np.zeros(50, dtype=int))
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        batch_pid(bad, x, np.zeros(50, dtype=int))
    with pytest.raises(ValueError, match="integer"):
        batch_pid(x, x, np.zeros(50))
