"""Plug-in information measures on tables and table validation."""

from __future__ import annotations

import numpy as np
import pytest

from synergy_lab.pid import entropy, mutual_information, table_informations, validate_table


def test_entropy_in_bits() -> None:
    assert entropy(np.full(8, 1 / 8)) == pytest.approx(3.0)
    assert entropy(np.array([1.0, 0.0])) == 0.0
    assert entropy(np.array([0.25, 0.75])) == pytest.approx(0.811278124459, abs=1e-12)


def test_mutual_information() -> None:
    assert mutual_information(np.outer([0.3, 0.7], [0.2, 0.8])) == pytest.approx(0.0, abs=1e-15)
    assert mutual_information(np.diag([0.25] * 4)) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="2-D"):
        mutual_information(np.ones(3) / 3)


def test_table_informations_of_xor() -> None:
    p = np.zeros((2, 2, 2))
    for a in range(2):
        for b in range(2):
            p[a, b, a ^ b] = 0.25
    assert table_informations(p) == pytest.approx((0.0, 0.0, 1.0), abs=1e-12)


def test_validate_table_normalises_and_rejects() -> None:
    np.testing.assert_allclose(validate_table(np.ones((2, 1, 2)), normalize=True), 0.25)
    assert validate_table(np.ones((1, 1, 1), dtype=np.int64)).dtype == np.float64
    with pytest.raises(ValueError, match="sum to 1"):
        validate_table(np.ones((2, 1, 2)))
    with pytest.raises(ValueError, match="infinite"):
        validate_table(np.array([[[np.inf]]]))
