"""Named registry of canonical bivariate tables p(x1, x2, y) with their known BROJA PIDs (bits).

The examples are the standard ones of the PID literature (Williams & Beer 2010; Bertschinger
et al. 2014; Griffith & Koch 2014; Finn & Lizier 2018), in the spirit of dit's
``dit.pid.distributions``. Each expected decomposition was derived by hand (the derivation is in
the entry's description) and is what an exact BROJA solver must return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from synergy_lab.pid.broja import PID

LOG2_3 = float(np.log2(3.0))


@dataclass(frozen=True)
class CanonicalTable:
    """A named table p(x1, x2, y) of shape (|X1|, |X2|, |Y|) and its exact BROJA PID (bits)."""

    name: str
    description: str
    table: np.ndarray
    expected: PID

    def __post_init__(self) -> None:
        table = np.array(self.table, dtype=np.float64)  # private read-only copy
        table.setflags(write=False)
        object.__setattr__(self, "table", table)


def table_from_outcomes(
    outcomes: Sequence[tuple[int, int, int]],
    probs: Sequence[float] | None = None,
    shape: tuple[int, int, int] | None = None,
) -> np.ndarray:
    """Table p(x1, x2, y) putting ``probs`` (default: uniform) on the listed (x1, x2, y)."""
    if len(outcomes) == 0:
        raise ValueError("outcomes must not be empty")
    idx = np.asarray(outcomes, dtype=np.int64)
    if idx.ndim != 2 or idx.shape[1] != 3 or np.any(idx < 0):
        raise ValueError("outcomes must be (x1, x2, y) triples of non-negative ints")
    weights = (
        np.full(len(idx), 1.0 / len(idx)) if probs is None else np.asarray(probs, dtype=np.float64)
    )
    if weights.shape != (len(idx),):
        raise ValueError(f"probs must have one entry per outcome ({len(idx)}); got {weights.shape}")
    dims = tuple(int(v) for v in idx.max(axis=0) + 1) if shape is None else shape
    table = np.zeros(dims)
    np.add.at(table, (idx[:, 0], idx[:, 1], idx[:, 2]), weights)
    return table


def _pid(r: float, u1: float, u2: float, s: float) -> PID:
    return PID(redundancy=r, unique1=u1, unique2=u2, synergy=s, total=r + u1 + u2 + s)


def _build() -> dict[str, CanonicalTable]:
    bits = [(0, 0), (0, 1), (1, 0), (1, 1)]
    third = 1.5 - 0.75 * LOG2_3  # I(Y;X1) of AND and of reduced OR: h(1/4) - 1/2
    entries = [
        CanonicalTable(
            "rdn",
            "X1 = X2 = Y, a uniform bit: one bit of pure redundancy.",
            table_from_outcomes([(0, 0, 0), (1, 1, 1)]),
            _pid(1.0, 0.0, 0.0, 0.0),
        ),
        CanonicalTable(
            "unq1",
            "X1, X2 independent uniform bits, Y = X1: one bit unique to X1.",
            table_from_outcomes([(a, b, a) for a, b in bits]),
            _pid(0.0, 1.0, 0.0, 0.0),
        ),
        CanonicalTable(
            "unq2",
            "X1, X2 independent uniform bits, Y = X2: one bit unique to X2.",
            table_from_outcomes([(a, b, b) for a, b in bits]),
            _pid(0.0, 0.0, 1.0, 0.0),
        ),
        CanonicalTable(
            "xor",
            "Y = X1 xor X2 of independent uniform bits: one bit of pure synergy.",
            table_from_outcomes([(a, b, a ^ b) for a, b in bits]),
            _pid(0.0, 0.0, 0.0, 1.0),
        ),
        CanonicalTable(
            "and",
            "Y = X1 and X2: R = I(Y;X1) = 3/2 - (3/4) log2 3, U = 0, S = 1/2 "
            "(Bertschinger et al. 2014).",
            table_from_outcomes([(a, b, a & b) for a, b in bits]),
            _pid(third, 0.0, 0.0, 0.5),
        ),
        CanonicalTable(
            "copy",
            "Y = (X1, X2) (COPY / CAT) of independent uniform bits: one unique bit each.",
            table_from_outcomes([(a, b, 2 * a + b) for a, b in bits]),
            _pid(0.0, 1.0, 1.0, 0.0),
        ),
        CanonicalTable(
            "sum",
            "Y = X1 + X2 of independent uniform bits: I12 = 3/2, R = 1/2, S = 1.",
            table_from_outcomes([(a, b, a + b) for a, b in bits]),
            _pid(0.5, 0.0, 0.0, 1.0),
        ),
        CanonicalTable(
            "reduced_or",
            "p(000) = 1/2, p(011) = p(101) = 1/4 (Lizier via Ince): R = 3/2 - (3/4) log2 3, "
            "S = (3/4) log2 3 - 1/2, U = 0.",
            table_from_outcomes([(0, 0, 0), (0, 1, 1), (1, 0, 1)], [0.5, 0.25, 0.25]),
            _pid(third, 0.0, 0.0, 0.75 * LOG2_3 - 0.5),
        ),
        CanonicalTable(
            "diff",
            "Uniform on 000, 001, 010, 101 (dit's 'diff'): S = 0, so U1 = U2 = 1/2 - I(Y;X1) and "
            "R = 2 I(Y;X1) - 1/2 with I(Y;X1) = 3/2 - (3/4) log2 3.",
            table_from_outcomes([(0, 0, 0), (0, 0, 1), (0, 1, 0), (1, 0, 1)]),
            _pid(2 * third - 0.5, 0.5 - third, 0.5 - third, 0.0),
        ),
        CanonicalTable(
            "pwunq",
            "Pointwise unique (Finn & Lizier 2018): uniform on 011, 101, 022, 202. BROJA sees "
            "R = 1/2 and S = 1/2 (the optimum merges the two ambiguous cells).",
            table_from_outcomes([(0, 1, 1), (1, 0, 1), (0, 2, 2), (2, 0, 2)]),
            _pid(0.5, 0.0, 0.0, 0.5),
        ),
        CanonicalTable(
            "independent",
            "X1, X2, Y independent uniform bits: nothing to decompose.",
            np.full((2, 2, 2), 1.0 / 8.0),
            _pid(0.0, 0.0, 0.0, 0.0),
        ),
        CanonicalTable(
            "constant_y",
            "Y constant (deterministic target): every atom is 0.",
            table_from_outcomes([(a, b, 0) for a, b in bits], shape=(2, 2, 2)),
            _pid(0.0, 0.0, 0.0, 0.0),
        ),
        CanonicalTable(
            "constant_x1",
            "X1 constant, Y = X2 a uniform bit: Delta_P = {P}, one bit unique to X2.",
            table_from_outcomes([(0, 0, 0), (0, 1, 1)]),
            _pid(0.0, 0.0, 1.0, 0.0),
        ),
    ]
    return {entry.name: entry for entry in entries}


#: All canonical tables by name.
CANONICAL: dict[str, CanonicalTable] = _build()


def canonical_table(name: str) -> CanonicalTable:
    """The registered table ``name`` (see ``CANONICAL``); ValueError listing names otherwise."""
    if name not in CANONICAL:
        raise ValueError(f"unknown canonical table {name!r}; known: {sorted(CANONICAL)}")
    return CANONICAL[name]
