"""The canonical-table registry: well-formed tables, self-consistent expected decompositions."""

from __future__ import annotations

import numpy as np
import pytest

from synergy_lab.pid import CANONICAL, canonical_table, table_from_outcomes, table_informations


@pytest.mark.parametrize("name", sorted(CANONICAL))
def test_entries_are_consistent_with_their_own_table(name: str) -> None:
    """Expected atoms must add up to the table's informations (independent of any solver)."""
    entry = CANONICAL[name]
    assert entry.name == name
    assert entry.table.ndim == 3 and np.all(entry.table >= 0)
    assert entry.table.sum() == pytest.approx(1.0, abs=1e-15)
    i1, i2, i12 = table_informations(entry.table)
    e = entry.expected
    assert e.redundancy + e.unique1 == pytest.approx(i1, abs=1e-12)
    assert e.redundancy + e.unique2 == pytest.approx(i2, abs=1e-12)
    assert e.total == pytest.approx(i12, abs=1e-12)
    assert min(e.redundancy, e.unique1, e.unique2, e.synergy) >= 0


def test_registry_covers_the_standard_examples() -> None:
    for name in ("rdn", "unq1", "xor", "and", "copy", "sum", "reduced_or"):
        assert name in CANONICAL


def test_and_has_the_textbook_values() -> None:
    and_ = canonical_table("and").expected
    assert and_.redundancy == pytest.approx(0.311278124459, abs=1e-12)
    assert and_.synergy == 0.5


def test_tables_are_read_only() -> None:
    with pytest.raises(ValueError):
        CANONICAL["xor"].table[0, 0, 0] = 1.0


def test_unknown_name_is_rejected_with_the_known_names() -> None:
    with pytest.raises(ValueError, match="unknown canonical table 'nope'.*xor"):
        canonical_table("nope")


def test_table_from_outcomes() -> None:
    table = table_from_outcomes([(0, 0, 0), (1, 1, 1), (1, 1, 1)], [0.5, 0.25, 0.25])
    assert table.shape == (2, 2, 2)
    assert table[0, 0, 0] == 0.5 and table[1, 1, 1] == 0.5
    assert table_from_outcomes([(0, 0, 0)], shape=(2, 3, 4)).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="outcomes"):
        table_from_outcomes([])
    with pytest.raises(ValueError, match="outcomes"):
        table_from_outcomes([(0, 0)])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="probs"):
        table_from_outcomes([(0, 0, 0)], [0.5, 0.5])
