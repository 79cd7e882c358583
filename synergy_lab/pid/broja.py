"""Exact bivariate BROJA partial information decomposition with a certified duality gap.

Bertschinger, Rauh, Olbrich, Jost & Ay (2014), "Quantifying unique information", Entropy 16:2161.
For a table P(x1, x2, y), Delta_P is the set of tables Q with Q(x1, y) = P(x1, y) and
Q(x2, y) = P(x2, y). With I* = min over Q in Delta_P of I_Q(Y; X1, X2):

    S = I_P(Y; X1, X2) - I*,   U1 = I* - I(Y; X2),   U2 = I* - I(Y; X1),   R = I(Y; X1) - U1.

How it is solved (our derivation; nats inside, bits outside). Q(y) is fixed on Delta_P, so
minimising I_Q is minimising f(Q) = sum Q log Q(y | x1, x2) = -H_Q(Y | X1, X2), a convex and
positively homogeneous function. Entries with P(x1, y) = 0 or P(x2, y) = 0 are forced to zero,
so a cell c = (x1, x2) only carries the labels Y_c = {y : P(x1, y) > 0, P(x2, y) > 0}. The
conjugate of f is the indicator of {log-sum-exp over Y_c <= 0 in every cell}, so the Lagrange
dual is a problem over the |X1||Y| + |X2||Y| multipliers of the marginal constraints:

    max over a(x1, y), b(x2, y) of  D(a, b) = sum a P(x1, y) + sum b P(x2, y)
    subject to  g_c(a, b) = log sum_{y in Y_c} exp(a(x1, y) + b(x2, y)) <= 0  for every cell c.

With t_c >= 0 the multiplier of cell c, the primal optimum is Q(x1, x2, y) = t_c softmax_{Y_c}
(a + b)(y): Q(y | x1, x2) is proportional to exp(a(x1, y) + b(x2, y)). We solve this dual with
a primal-dual interior-point method (slacks s_c = -g_c, Mehrotra predictor-corrector on a
weighted central path s_c t_c = mu w_c, merit backtracking for the nonlinear g; Boyd &
Vandenberghe, *Convex Optimization*, sec. 11.7; Nocedal & Wright, *Numerical Optimization*,
ch. 19). In the Newton matrix the a-a block is block diagonal (one |Y| x |Y| block per x1), so a
is eliminated block by block and only a dense Schur complement of size |X2||Y| is factorised
(the sides are swapped so that |X2| <= |X1|). One multiplier per label is a gauge freedom
(a + c(y), b - c(y)) and is held fixed.

Certificate (independent of how the iterates were found): the primal table is made feasible to
round-off by Sinkhorn scaling of each y slice, so f(Q) bounds the optimum from above; any
multipliers, repaired row- or column-wise to satisfy every constraint, bound it from below (weak
duality). ``gap`` is the difference, in bits. If it is not tiny, which happens when entries of
P span twenty orders of magnitude, the table is solved again with its negligible entries set
aside (added back to Q afterwards, so Q stays in Delta_P) and the better certificate is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np
from scipy.linalg.blas import dsyrk
from scipy.linalg.lapack import dpotrf, dpotrs

from synergy_lab.pid.information import LN2, entropy_nats, table_informations, validate_table

#: Progress callback of the solver: (iteration, merit) after each interior-point iteration.
OnIteration = Callable[[int, float], None]


@dataclass(frozen=True)
class PID:
    """A bivariate partial information decomposition of I(X1, X2; Y), all in bits.

    ``redundancy + unique1 + unique2 + synergy == total`` (up to float round-off).
    """

    #: The four parts' names in field order: the one place they are declared (results columns,
    #: report tables and the soft PID all read them from here).
    PARTS: ClassVar[tuple[str, ...]] = ("redundancy", "unique1", "unique2", "synergy")

    redundancy: float
    unique1: float
    unique2: float
    synergy: float
    total: float

    def as_dict(self) -> dict[str, float]:
        """The four parts and ``total`` by name, in field order (bits)."""
        return asdict(self)

    def swapped(self) -> PID:
        """The decomposition with the roles of X1 and X2 exchanged."""
        return PID(self.redundancy, self.unique2, self.unique1, self.synergy, self.total)


@dataclass(frozen=True)
class SolverOptions:
    """Settings of the interior-point solver; the defaults certify gaps far below 1e-9 bits."""

    gap_tol: float = 1e-11  # stop when the complementarity gap sum s t (nats) is below this ...
    feas_tol: float = 1e-10  # ... and the KKT residuals (marginals, g + s) are within this
    max_iter: int = 100  # interior-point iterations
    sinkhorn_iter: int = 1000  # scaling sweeps of the final feasibility polish
    dense_size: int = 160  # factorise densely when (|X1| + |X2|) |Y| is at most this
    retry_gap: float = 1e-10  # bits; a larger certified gap triggers the re-solve ...
    negligible: tuple[float, ...] = (1e-12, 1e-9)  # ... without entries below these masses

    def __post_init__(self) -> None:
        if not self.gap_tol > 0:
            raise ValueError(f"gap_tol must be > 0; got {self.gap_tol}")
        if not self.feas_tol > 0:
            raise ValueError(f"feas_tol must be > 0; got {self.feas_tol}")
        if self.max_iter < 1:
            raise ValueError(f"max_iter must be >= 1; got {self.max_iter}")
        if self.sinkhorn_iter < 1:
            raise ValueError(f"sinkhorn_iter must be >= 1; got {self.sinkhorn_iter}")
        if self.dense_size < 0:
            raise ValueError(f"dense_size must be >= 0; got {self.dense_size}")
        if not self.retry_gap > 0:
            raise ValueError(f"retry_gap must be > 0; got {self.retry_gap}")
        if any(not 0 < level < 1 for level in self.negligible):
            raise ValueError(f"negligible levels must lie in (0, 1); got {self.negligible}")


@dataclass(frozen=True)
class BrojaSolution:
    """The BROJA optimisation problem solved for one table.

    ``q``: an optimal Q in Delta_P, same shape as the input. ``min_mi``: I_Q(Y; X1, X2) at ``q``
    (bits), an upper bound on the optimum I*; ``lower_bound``: a dual bound on I* (bits);
    ``gap``: their difference, so I* lies within ``gap`` bits below ``min_mi``.
    ``marginal_error``: max |Q(xi, y) - P(xi, y)|. ``iterations``: interior-point iterations.
    """

    q: np.ndarray
    min_mi: float
    lower_bound: float
    gap: float
    marginal_error: float
    iterations: int


# ----------------------------------------------------------------------------------------------
# Small pure pieces of the dual problem
# ----------------------------------------------------------------------------------------------


def cell_softmax(
    a: np.ndarray, b: np.ndarray, log_mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell log-sum-exp g (n1, n2) and softmax p (n1, n2, ny) of a(x1, y) + b(x2, y).

    ``log_mask`` (n1, n2, ny) is 0 on the support and -inf off it. Cells without support get
    g = 0 and p = 0; callers treat them as inert (they carry no constraint).
    """
    logits = a[:, None, :] + b[None, :, :] + log_mask
    peak = logits.max(axis=-1, keepdims=True)
    peak[peak == -np.inf] = 0.0
    expd = np.exp(logits - peak)
    norm = expd.sum(axis=-1, keepdims=True)
    norm[norm == 0] = 1.0
    return (peak + np.log(norm))[..., 0], expd / norm


def neg_conditional_entropy(q: np.ndarray) -> float:
    """f(Q) = sum Q log Q(y | x1, x2) = -H_Q(Y | X1, X2) of a table q (n1, n2, ny), in nats."""
    return entropy_nats(q.sum(axis=-1)) - entropy_nats(q)


def dual_value(a: np.ndarray, b: np.ndarray, pa: np.ndarray, pb: np.ndarray) -> float:
    """D(a, b) = sum a P(x1, y) + sum b P(x2, y) over the support of the marginals (nats)."""
    return float(np.sum(pa[pa > 0] * a[pa > 0]) + np.sum(pb[pb > 0] * b[pb > 0]))


def dual_lower_bound(
    a: np.ndarray, b: np.ndarray, pa: np.ndarray, pb: np.ndarray, g: np.ndarray
) -> float:
    """Weak-duality lower bound on min f (nats) from any multipliers (a, b), feasible or not.

    ``g`` (n1, n2) holds the cell log-sum-exps (-inf for cells without support). Shifting row
    a(x1, .) by -max_x2 g(x1, x2) makes every constraint of that row hold (with equality at its
    max) and changes D by -P(x1) max_x2 g; the same works column-wise on b. The better of the
    two repaired dual values is returned.
    """
    value = dual_value(a, b, pa, pb)
    p1 = pa.sum(axis=1)
    p2 = pb.sum(axis=1)
    row_max = g.max(axis=1)
    col_max = g.max(axis=0)
    by_rows = value - float(np.sum(p1[p1 > 0] * row_max[p1 > 0]))
    by_cols = value - float(np.sum(p2[p2 > 0] * col_max[p2 > 0]))
    return max(by_rows, by_cols)


def sinkhorn_polish(
    q: np.ndarray, pa: np.ndarray, pb: np.ndarray, max_iter: int, tol: float = 1e-14
) -> np.ndarray:
    """Rescale rows and columns of each y slice of q so that q(x1, y) = pa and q(x2, y) = pb.

    Iterative proportional fitting (Sinkhorn); needs q > 0 on the support of pa x pb per y.
    Multiplying by r(x1, y) s(x2, y) keeps q of the form t(x1, x2) exp(a + b). Stops when the
    row marginals are within ``tol`` (columns are exact after each sweep) or stop improving.
    """
    q = q.copy()
    previous = np.inf
    rows = q.sum(axis=1)
    for _ in range(max_iter):
        q *= np.divide(pa, rows, out=np.zeros_like(pa), where=rows > 0)[:, None, :]
        cols = q.sum(axis=0)
        q *= np.divide(pb, cols, out=np.zeros_like(pb), where=cols > 0)[None, :, :]
        rows = q.sum(axis=1)
        err = float(np.abs(rows - pa).max())
        if err <= tol or err >= previous:
            break
        previous = err
    return q


def _regularised_cholesky(matrix: np.ndarray) -> np.ndarray:
    """Upper Cholesky factor of a unit-diagonal SPD matrix; if round-off has made it indefinite,
    of matrix + delta I for the smallest delta in 1e-14, 1e-12, ..., 1e-6 that works.

    The regularised factor gives an inexact Newton step, which the interior-point iteration
    absorbs (its residuals are recomputed from scratch each iteration).
    """
    for delta in (0.0, 1e-14, 1e-12, 1e-10, 1e-8, 1e-6):
        shifted = matrix if delta == 0.0 else matrix + delta * np.eye(matrix.shape[0])
        factor, info = dpotrf(shifted, lower=False, clean=False, overwrite_a=False)
        if info == 0:
            return factor
    raise np.linalg.LinAlgError("Newton matrix is not positive definite")


def _max_step(x: np.ndarray, dx: np.ndarray) -> float:
    """Largest alpha in [0, 1] with x + alpha dx >= 0, for x > 0."""
    return 1.0 / max(1.0, float((np.maximum(-dx, 0.0) / x).max()))


# ----------------------------------------------------------------------------------------------
# The interior-point method
# ----------------------------------------------------------------------------------------------


def cell_hessian_blocks(prob: np.ndarray, t: np.ndarray, s: np.ndarray) -> np.ndarray:
    """K_c = t_c (diag p_c - p_c p_c^T) + (t_c / s_c) p_c p_c^T per cell, shape (n1, n2, ny, ny).

    The reduced Newton matrix is M = sum_c J_c^T K_c J_c, where J_c maps (a, b) to the
    per-label sums a(x1, y) + b(x2, y) of cell c (t hess g plus the eliminated t/s grad grad^T).
    """
    ny = prob.shape[-1]
    diag = np.arange(ny)
    kern = (t / s - t)[:, :, None, None] * (prob[..., :, None] * prob[..., None, :])
    kern[..., diag, diag] += t[..., None] * prob
    return kern


class _NewtonSystem:
    """A factorisation of the reduced Newton matrix M; subclasses implement ``solve``."""

    prob: np.ndarray

    def solve(self, rhs_a: np.ndarray, rhs_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(da, db) with M (da, db) = (rhs_a, rhs_b); held entries of the result are 0."""
        raise NotImplementedError

    def direction(
        self,
        r_dual: tuple[np.ndarray, np.ndarray],
        r_pri: np.ndarray,
        r_cent: np.ndarray,
        t: np.ndarray,
        s: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Newton step (da, db, ds, dt) for residuals r_dual (marginals), r_pri = g + s, r_cent.

        Linearises sum_c t_c grad g_c - grad D = 0, g + s = 0 and s t = target
        (r_cent = s t - target), with ds, dt eliminated.
        """
        weighted = ((t * r_pri - r_cent) / s)[..., None] * self.prob
        da, db = self.solve(-r_dual[0] - weighted.sum(axis=1), -r_dual[1] - weighted.sum(axis=0))
        dg = np.einsum("ijy,ijy->ij", self.prob, da[:, None, :] + db[None, :, :])
        ds = -r_pri - dg
        dt = (-r_cent - t * ds) / s
        return da, db, ds, dt


class _SchurSystem(_NewtonSystem):
    """M scaled to unit diagonal (Jacobi), the block-diagonal a-a part eliminated block by block
    and the dense Schur complement on b (size |X2||Y|) Cholesky factorised.

    Scaling before eliminating keeps the Schur complement accurate when the weights t_c / s_c
    reach 1e12 near the optimum. Held multipliers (off the support, and one gauge per label)
    get scale 0, i.e. a zero step.
    """

    def __init__(
        self, prob: np.ndarray, t: np.ndarray, s: np.ndarray, free_a: np.ndarray, free_b: np.ndarray
    ) -> None:
        n1, n2, ny = prob.shape
        self.prob = prob
        diag = np.arange(ny)
        kern = cell_hessian_blocks(prob, t, s)
        block_a = kern.sum(axis=1)
        block_b = kern.sum(axis=0)
        with np.errstate(divide="ignore"):
            self.scale_a = np.where(free_a, 1.0 / np.sqrt(block_a[:, diag, diag]), 0.0)
            self.scale_b = np.where(free_b, 1.0 / np.sqrt(block_b[:, diag, diag]), 0.0)
        block_a *= self.scale_a[:, :, None] * self.scale_a[:, None, :]
        block_a[:, diag, diag] += ~free_a
        block_b *= self.scale_b[:, :, None] * self.scale_b[:, None, :]
        block_b[:, diag, diag] += ~free_b
        cross = kern.transpose(0, 2, 1, 3) * (
            self.scale_a[:, :, None, None] * self.scale_b[None, None, :, :]
        )
        # A = L L^T block by block; H = L^-1 B; Schur complement S = C - H^T H (symmetric rank-k
        # update, upper triangle only, as the upper Cholesky factorisation reads it).
        m = n2 * ny
        self.inv_chol_a = np.linalg.inv(np.linalg.cholesky(block_a))  # (n1, ny, ny), lower
        self.h = np.matmul(self.inv_chol_a, cross.reshape(n1, ny, m)).reshape(n1 * ny, m)
        schur = np.zeros((m, m))
        jj = np.arange(n2)
        schur.reshape(n2, ny, n2, ny)[jj, :, jj, :] = block_b
        schur = dsyrk(-1.0, self.h.T, beta=1.0, c=schur.T, trans=0, lower=0, overwrite_c=1)
        self.factor = _regularised_cholesky(schur)

    def solve(self, rhs_a: np.ndarray, rhs_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = np.matmul(self.inv_chol_a, (rhs_a * self.scale_a)[..., None]).reshape(-1)
        db, _ = dpotrs(self.factor, (rhs_b * self.scale_b).reshape(-1) - self.h.T @ u)
        v = (u - self.h @ db).reshape(rhs_a.shape)
        da = np.einsum("iyz,iy->iz", self.inv_chol_a, v)  # L^-T v per block
        return da * self.scale_a, db.reshape(rhs_b.shape) * self.scale_b


class _DenseSystem(_NewtonSystem):
    """M assembled densely over the free multipliers, Jacobi scaled, one Cholesky factorisation.

    Less overhead than :class:`_SchurSystem` for small tables; both give the same steps.
    """

    def __init__(
        self, prob: np.ndarray, t: np.ndarray, s: np.ndarray, free_a: np.ndarray, free_b: np.ndarray
    ) -> None:
        n1, n2, ny = prob.shape
        self.prob = prob
        self.free_a = free_a
        self.free_b = free_b
        self.n_a = int(free_a.sum())
        kern = cell_hessian_blocks(prob, t, s)
        full = np.zeros((n1 + n2, ny, n1 + n2, ny))
        ii = np.arange(n1)
        jj = n1 + np.arange(n2)
        full[ii, :, ii, :] = kern.sum(axis=1)
        full[jj, :, jj, :] = kern.sum(axis=0)
        cross = kern.transpose(0, 2, 1, 3)
        full[:n1, :, n1:, :] = cross
        full[n1:, :, :n1, :] = cross.transpose(2, 3, 0, 1)
        free = np.concatenate([free_a.ravel(), free_b.ravel()])
        size = (n1 + n2) * ny
        matrix = full.reshape(size, size)[np.ix_(free, free)]
        self.scale = 1.0 / np.sqrt(matrix.diagonal())
        matrix *= self.scale[:, None] * self.scale[None, :]
        self.factor = _regularised_cholesky(matrix)

    def solve(self, rhs_a: np.ndarray, rhs_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rhs = np.concatenate([rhs_a[self.free_a], rhs_b[self.free_b]]) * self.scale
        x, _ = dpotrs(self.factor, rhs)
        x *= self.scale
        da = np.zeros_like(rhs_a)
        db = np.zeros_like(rhs_b)
        da[self.free_a] = x[: self.n_a]
        db[self.free_b] = x[self.n_a :]
        return da, db


def _interior_point(
    p: np.ndarray, options: SolverOptions, on_iteration: OnIteration | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Solve the dual for a table without zero marginals; returns (Q, a, b, iterations).

    ``on_iteration(iteration, merit)``, if given, is called after every iteration (progress on
    large tables; merit = duality gap + residuals, falling towards 0).

    Needs |X1|, |X2|, |Y| >= 2. Variables: multipliers (a, b), slacks s_c of g_c + s_c = 0 and
    cell masses t_c. Cells without support are inert (s = t = 1, p = 0, never updated). Q is
    polished to satisfy the marginals to round-off; off-support entries of a and b are NaN.
    """
    pa = p.sum(axis=1)  # P(x1, y)
    pb = p.sum(axis=0)  # P(x2, y)
    py = pa.sum(axis=0)
    on_a = pa > 0
    on_b = pb > 0
    support = on_a[:, None, :] & on_b[None, :, :]
    log_mask = np.where(support, 0.0, -np.inf)
    cells = support.any(axis=-1)
    free_b = on_b.copy()
    free_b[np.argmax(pb, axis=0), np.arange(pb.shape[1])] = False  # one gauge per label
    small = (pa.shape[0] + pb.shape[0]) * pa.shape[1] <= options.dense_size
    system_type: type[_SchurSystem] | type[_DenseSystem] = _DenseSystem if small else _SchurSystem

    def residuals(a: np.ndarray, b: np.ndarray, s: np.ndarray, t: np.ndarray) -> tuple:
        """(s, g, prob, r_dual, r_pri, merit) at a point; merit = gap + |r_dual|_1 + |r_pri|_1.

        Slack reset: where the constraint holds and s_c is within a factor 2 of -g_c, s_c is
        set to -g_c (r_pri,c = 0). This removes the mismatch that curvature of g leaves in
        slack cells (t_c ~ 0) at a negligible change of s_c t_c.
        """
        g, prob = cell_softmax(a, b, log_mask)
        g[~cells] = -1.0
        s = np.where((g < 0) & (np.abs(g + s) <= 0.5 * s), -g, s)
        q = t[..., None] * prob
        r_dual = (q.sum(axis=1) - pa, q.sum(axis=0) - pb)
        r_pri = g + s  # 0 on inert cells (g = -1, s = 1)
        merit = float(
            np.sum(s * t * cells)
            + np.abs(r_dual[0]).sum()
            + np.abs(r_dual[1]).sum()
            + np.abs(r_pri).sum()
        )
        return s, g, prob, r_dual, r_pri, merit

    # Start at the conditionally independent table Q0 = P(x1, y) P(x2, y) / P(y), shifted into
    # the interior: g_c = log Q0(x1, x2) - 1 < 0, and t_c = Q0(x1, x2) reproduces Q0.
    a = np.log(np.where(on_a, pa, 1.0)) - 1.0
    b = np.log(np.where(on_b, pb, 1.0)) - np.log(py)[None, :]
    g, _ = cell_softmax(a, b, log_mask)
    t = np.where(cells, (pa[:, None, :] * pb[None, :, :] / py).sum(axis=-1), 1.0)
    s = np.where(cells, -g, 1.0)
    # Weighted central path s_c t_c = mu w_c (a weighted log barrier): w_c = s_c t_c at the
    # start, so the start is exactly centred and cells whose masses differ by many orders of
    # magnitude approach the optimum at the same relative rate.
    weight = np.where(cells, s * t, 0.0)
    weight /= weight.sum()

    def line_search(direction: tuple, smallest: float) -> tuple | None:
        """Backtrack from 0.99 of the step to the boundary until the merit decreases enough
        (Armijo-type test; g is nonlinear). The new point, or None below ``smallest``."""
        da, db, ds, dt = direction
        alpha = min(1.0, 0.99 * min(_max_step(s, ds), _max_step(t, dt)))
        while alpha >= smallest:
            a1, b1, t1 = a + alpha * da, b + alpha * db, t + alpha * dt
            trial = residuals(a1, b1, s + alpha * ds, t1)
            if trial[5] <= (1.0 - 0.01 * alpha) * merit:
                return (a1, b1, t1, *trial)
            alpha *= 0.7
        return None

    s, g, prob, r_dual, r_pri, merit = residuals(a, b, s, t)
    iterations = 0
    history = [merit]
    for iterations in range(1, options.max_iter + 1):  # noqa: B007 - reported below
        comp = np.where(cells, s * t, 0.0)
        gap = float(comp.sum())
        feas = max(np.abs(r_dual[0]).max(), np.abs(r_dual[1]).max(), np.abs(r_pri).max())
        if gap <= options.gap_tol and feas <= options.feas_tol:
            break
        try:
            system = system_type(prob, t, s, on_a, free_b)
        except np.linalg.LinAlgError:
            break  # numerically singular at the very end; the certificate still holds
        # Predictor (affine scaling) step, then a centred corrector (Mehrotra 1992).
        da, db, ds, dt = system.direction(r_dual, r_pri, comp, t, s)
        alpha = min(_max_step(s, ds), _max_step(t, dt))
        gap_aff = float(np.sum(np.where(cells, (s + alpha * ds) * (t + alpha * dt), 0.0)))
        # Mehrotra's centring, but never aim the gap below the infeasibility: letting s t
        # collapse first stalls the nonlinear feasibility (g + s = 0) at a poor point.
        infeasibility = merit - gap
        mehrotra = (gap_aff / gap) ** 3 * gap if gap > 0 else 0.0
        centre = min(gap, max(mehrotra, 0.1 * infeasibility))
        corrector = np.where(cells, comp + ds * dt - centre * weight, 0.0)
        step = line_search(system.direction(r_dual, r_pri, corrector, t, s), 1e-4)
        if step is None:
            # The second-order term can make the corrector ascend the merit; a plainly centred
            # Newton step (target s t = gap w / 2) always descends for small steps.
            centred = np.where(cells, comp - 0.5 * gap * weight, 0.0)
            step = line_search(system.direction(r_dual, r_pri, centred, t, s), 1e-12)
        if step is None:
            break  # no progress possible in floating point
        a, b, t, s, g, prob, r_dual, r_pri, merit = step
        history.append(merit)
        if on_iteration is not None:
            on_iteration(iterations, merit)
        if merit < 1e-8 and len(history) > 4 and merit > 0.5 * history[-5]:
            break  # near the optimum, four iterations gained < a factor 2: round-off level

    q = sinkhorn_polish(t[..., None] * prob, pa, pb, options.sinkhorn_iter)
    return q, np.where(on_a, a, np.nan), np.where(on_b, b, np.nan), iterations


def _trivial_duals(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Optimal multipliers when Delta_P = {P}: |X2| = 1 gives a = log P(y | x1), b = 0, |X1| = 1
    the mirror image, |Y| = 1 gives a = b = 0 (each attains D = f(P))."""
    n1, n2, ny = p.shape
    pa = p.sum(axis=1)
    pb = p.sum(axis=0)
    a = np.zeros((n1, ny))
    b = np.zeros((n2, ny))
    if ny > 1 and n2 == 1:
        a = np.log(np.where(pa > 0, pa, 1.0) / pa.sum(axis=1, keepdims=True))
    elif ny > 1 and n1 == 1:
        b = np.log(np.where(pb > 0, pb, 1.0) / pb.sum(axis=1, keepdims=True))
    return a, b


def _solve_table(
    p: np.ndarray, options: SolverOptions, on_iteration: OnIteration | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(Q, a, b, iterations) for a nonnegative table p of any total mass.

    Zero marginals are dropped first; if a variable then has a single value, Delta_P = {P}.
    Otherwise the interior-point method runs on the normalised table, sides swapped so that
    |X1| >= |X2|. a and b come back in p's index space (NaN off the support of the marginals).
    """
    keep1 = p.sum(axis=(1, 2)) > 0
    keep2 = p.sum(axis=(0, 2)) > 0
    keepy = p.sum(axis=(0, 1)) > 0
    core = p[np.ix_(keep1, keep2, keepy)]
    total = core.sum()
    core = core / total
    n1, n2, ny = core.shape
    iterations = 0
    if ny == 1 or n1 == 1 or n2 == 1:
        q_core = core
        a_core, b_core = _trivial_duals(core)
    elif n2 > n1:
        q_core, b_core, a_core, iterations = _interior_point(
            np.ascontiguousarray(core.transpose(1, 0, 2)), options, on_iteration
        )
        q_core = q_core.transpose(1, 0, 2)
    else:
        q_core, a_core, b_core, iterations = _interior_point(core, options, on_iteration)

    q = np.zeros_like(p)
    q[np.ix_(keep1, keep2, keepy)] = q_core * total
    a = np.full((p.shape[0], p.shape[2]), np.nan)
    b = np.full((p.shape[1], p.shape[2]), np.nan)
    a[np.ix_(keep1, keepy)] = a_core
    b[np.ix_(keep2, keepy)] = b_core
    return q, a, b, iterations


def _column_max(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Max over axis 0 of ``values`` where ``valid`` (and not NaN); 0 where there is none."""
    masked = np.where(valid & ~np.isnan(values), values, -np.inf)
    top = masked.max(axis=0)
    return np.where(np.isfinite(top), top, 0.0)


def _extend_duals(
    a: np.ndarray, b: np.ndarray, pa: np.ndarray, pb: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Fill multipliers that are NaN on the support of pa / pb (entries set aside before the
    solve) with values that keep the new cells nearly slack: a(x1, y) = log P(y | x1) -
    max_x2 b(x2, y), then b likewise. Any finite choice gives a valid (repaired) bound."""
    a = a.copy()
    b = b.copy()
    fill_a = np.isnan(a) & (pa > 0)
    if fill_a.any():
        row = pa.sum(axis=1, keepdims=True)
        cond = np.log(np.where(pa > 0, pa, 1.0) / np.where(row > 0, row, 1.0))
        a[fill_a] = (cond - _column_max(b, pb > 0)[None, :])[fill_a]
    fill_b = np.isnan(b) & (pb > 0)
    if fill_b.any():
        row = pb.sum(axis=1, keepdims=True)
        cond = np.log(np.where(pb > 0, pb, 1.0) / np.where(row > 0, row, 1.0))
        b[fill_b] = (cond - _column_max(a, pa > 0)[None, :])[fill_b]
    return a, b


def _certify(p: np.ndarray, q: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(f(Q), lower bound on min f) in nats for Q in Delta_P and multipliers a, b."""
    pa = p.sum(axis=1)
    pb = p.sum(axis=0)
    support = (pa > 0)[:, None, :] & (pb > 0)[None, :, :]
    a0 = np.where(pa > 0, a, 0.0)
    b0 = np.where(pb > 0, b, 0.0)
    g, _ = cell_softmax(a0, b0, np.where(support, 0.0, -np.inf))
    g = np.where(support.any(axis=-1), g, -np.inf)
    return neg_conditional_entropy(q), dual_lower_bound(a0, b0, pa, pb, g)


def solve_broja(
    p: np.ndarray,
    normalize: bool = False,
    options: SolverOptions | None = None,
    on_iteration: OnIteration | None = None,
) -> BrojaSolution:
    """Minimise I_Q(Y; X1, X2) over Q in Delta_P for a table p (|X1|, |X2|, |Y|); bits.

    Returns the optimal Q with a certified gap (see the module docstring). ``normalize=True``
    rescales a nonnegative table to sum 1; otherwise it must already (ValueError if not).
    ``on_iteration(iteration, merit)`` is called after each interior-point iteration.
    """
    opts = options if options is not None else SolverOptions()
    p = validate_table(p, normalize=normalize)
    q, a, b, iterations = _solve_table(p, opts, on_iteration)
    upper, lower = _certify(p, q, a, b)
    for level in opts.negligible:
        if (upper - lower) / LN2 <= opts.retry_gap:
            break
        kept = np.where(p >= level, p, 0.0)
        if not kept.any() or np.array_equal(kept, p):
            continue
        q2, a2, b2, it2 = _solve_table(kept, opts, on_iteration)
        q2 = q2 + (p - kept)  # the set-aside mass keeps its own marginals: Q2 is in Delta_P
        a2, b2 = _extend_duals(a2, b2, p.sum(axis=1), p.sum(axis=0))
        upper2, lower2 = _certify(p, q2, a2, b2)
        iterations += it2
        if upper2 - lower2 < upper - lower:
            q, upper, lower = q2, upper2, lower2

    hy = entropy_nats(p.sum(axis=(0, 1)))
    min_mi = (hy + upper) / LN2
    lower_mi = (hy + lower) / LN2
    err = max(
        float(np.abs(q.sum(axis=1) - p.sum(axis=1)).max()),
        float(np.abs(q.sum(axis=0) - p.sum(axis=0)).max()),
    )
    return BrojaSolution(
        q=q,
        min_mi=min_mi,
        lower_bound=lower_mi,
        gap=max(min_mi - lower_mi, 0.0),
        marginal_error=err,
        iterations=iterations,
    )


def pid_from_min_mi(i1: float, i2: float, i12: float, min_mi: float) -> PID:
    """The BROJA atoms (bits) from I(Y;X1), I(Y;X2), I(Y;X1,X2) and I* = min I_Q.

    I* is first clipped into [max(I1, I2), min(I12, I1 + I2)], where it provably lies (Q = P
    and the conditionally independent Q are in Delta_P; Bertschinger et al. 2014), so
    round-off cannot make an atom negative; the four atoms then sum to I12.
    """
    lo = max(i1, i2)
    hi = max(min(i12, i1 + i2), lo)
    star = min(max(min_mi, lo), hi)
    unique1 = star - i2
    unique2 = star - i1
    redundancy = max(i1 - unique1, 0.0)
    synergy = max(i12 - star, 0.0)
    return PID(
        redundancy=redundancy,
        unique1=unique1,
        unique2=unique2,
        synergy=synergy,
        total=redundancy + unique1 + unique2 + synergy,
    )


def broja_pid(
    p: np.ndarray,
    normalize: bool = False,
    options: SolverOptions | None = None,
    on_iteration: OnIteration | None = None,
) -> PID:
    """BROJA PID (bits) of a table p(x1, x2, y) of shape (|X1|, |X2|, |Y|).

    ``normalize=True`` rescales a nonnegative table to sum 1; otherwise it must already.
    ``on_iteration(iteration, merit)`` reports solver progress (e.g. on large tables).
    Bad input (wrong dimensions, NaN, negative entries, wrong total) raises ValueError.
    """
    p = validate_table(p, normalize=normalize)
    sol = solve_broja(p, options=options, on_iteration=on_iteration)
    i1, i2, i12 = table_informations(p)
    return pid_from_min_mi(i1, i2, i12, sol.min_mi)
