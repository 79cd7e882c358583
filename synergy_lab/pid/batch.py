"""The BATCH estimator of the BROJA PID for continuous modalities (Liang et al., NeurIPS 2023).

Liang, Cheng, Fan, Ling, Nie, Chen, Deng, Allen, Lee, Salakhutdinov & Morency, "Quantifying &
Modeling Multimodal Interactions: An Information Decomposition Framework", NeurIPS 2023.

1. Classifiers give p(y | x1), p(y | x2) and p(y | x1, x2) (small MLPs, fitted on part of the
   rows with early stopping; everything below uses the other, held-out rows).
2. On a minibatch of m held-out rows, a coupling q(i, j, y) over (row i's x1, row j's x2, y)
   must keep the pairwise marginals of the data: q(i, ., y) = p(y | x1_i) / m and
   q(., j, y) = p(y | x2_j) / m (each slice rescaled to a common p(y) = pi, the mean of the two
   unimodal averages, so both sets of marginals are consistent). Among these, the q with the
   least I_q(Y; X1, X2) gives I* as in :mod:`synergy_lab.pid.broja`.
3. With I1 = I(Y; X1), I2 = I(Y; X2) (from the marginals) and I12 = I(Y; X1, X2) from the joint
   classifier: R = I1 + I2 - I*, U1 = I* - I2, U2 = I* - I1, S = I12 - I*; atoms are averaged
   over minibatches. All in bits.

How q is found (our derivation; the authors amortise q with an alignment network trained over
batches, we optimise each batch's q directly, which is the same objective without the network):
f(q) = sum q log q(y | i, j) = -H_q(Y | X1, X2) is convex and 1-smooth relative to the negative
entropy, so entropic mirror descent with step 1 decreases it monotonically (Lu, Freund &
Nesterov 2018). Its gradient is log q(y | i, j), so the step q * exp(-grad) is q(i, j)
(broadcast over y), and the KL projection back onto the marginal constraints separates over y
into one Sinkhorn scaling per label slice (Cuturi 2013), done in the log domain and warm-started
from the previous step's potentials.

Biases: classifier error moves everything (an under-fitted joint classifier lowers S, an
over-confident one raises I1, I2, I12); a finite batch sees an empirical coupling of m points
per modality, so I* is biased slightly low and R up for small m.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from synergy_lab.pid.broja import PID

LN2 = math.log(2.0)


@dataclass(frozen=True)
class BatchConfig:
    """Settings of the BATCH estimator: classifiers, held-out split, minibatch coupling."""

    hidden: int = 128  # width of the classifiers' hidden layers
    layers: int = 2  # hidden layers of each classifier
    epochs: int = 100  # most passes over the fit rows (early stopping on a validation part)
    patience: int = 5  # epochs without a better validation loss before stopping
    lr: float = 2e-3  # Adam learning rate
    train_batch: int = 128  # classifier minibatch size
    fit_fraction: float = 0.5  # rows used to fit the classifiers; the rest estimate the PID
    val_fraction: float = 0.2  # of the fit rows: early-stopping validation
    coupling_batch: int = 256  # m, rows per coupling minibatch
    coupling_steps: int = 20  # mirror-descent steps per minibatch
    sinkhorn_iters: int = 10  # Sinkhorn sweeps per step (warm-started)
    max_batches: int = 0  # coupling minibatches averaged (0: all held-out rows)
    device: str = "auto"  # auto, cpu or cuda
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("hidden", "layers", "epochs", "patience", "train_batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"BatchConfig.{name} must be >= 1; got {getattr(self, name)}")
        for name in ("coupling_steps", "sinkhorn_iters"):
            if getattr(self, name) < 1:
                raise ValueError(f"BatchConfig.{name} must be >= 1; got {getattr(self, name)}")
        if self.coupling_batch < 2:
            raise ValueError(f"BatchConfig.coupling_batch must be >= 2; got {self.coupling_batch}")
        if self.max_batches < 0:
            raise ValueError(f"BatchConfig.max_batches must be >= 0; got {self.max_batches}")
        if not 0 < self.fit_fraction < 1:
            raise ValueError(f"BatchConfig.fit_fraction must be in (0, 1); got {self.fit_fraction}")
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"BatchConfig.val_fraction must be in (0, 1); got {self.val_fraction}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"BatchConfig.lr must be > 0; got {self.lr}")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ValueError(f"BatchConfig.device must be auto, cpu or cuda; got {self.device!r}")


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` without a GPU is a ValueError."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but CUDA is not available")
    return torch.device(device)


# --- the minibatch coupling (pure functions on probability tensors) -------------------------

_TINY = 1e-30


def coupling_marginals(
    p1: torch.Tensor, p2: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Consistent marginals of a batch: rows (m, Y), columns (m, Y), p(y) (Y,).

    ``p1[i]`` = p(y | x1_i), ``p2[j]`` = p(y | x2_j), each (m, Y) with rows summing to 1.
    Row i of label y gets p(y | x1_i) / sum_i p(y | x1_i) * pi_y, likewise for columns, with
    pi = (mean p1 + mean p2) / 2; so rows and columns of each slice both sum to pi_y.
    """
    pi = (p1.mean(0) + p2.mean(0)) / 2
    rows = p1 / p1.sum(0).clamp_min(_TINY) * pi
    cols = p2 / p2.sum(0).clamp_min(_TINY) * pi
    return rows, cols, pi


def sinkhorn(
    weights: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, iters: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scalings (a, b), each (m, Y), projecting weights W (m1, m2) onto the marginals, per label.

    The KL projection of W (the same for every label y) onto {sum_j q = rows, sum_i q = cols}
    is q[i, j, y] = a[i, y] W[i, j] b[j, y]; ``iters`` alternating Sinkhorn sweeps
    a = rows / (W b), b = cols / (W^T a) find it (the last sweep fits the columns exactly, the
    rows to the sweeps' tolerance). Two (m, m) x (m, Y) products per sweep.
    """
    b = torch.ones_like(cols)
    a = torch.ones_like(rows)
    for _ in range(iters):
        a = rows / (weights @ b).clamp_min(_TINY)
        b = cols / (weights.T @ a).clamp_min(_TINY)
    return a, b


def coupling_table(weights: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The coupling q (m1, m2, Y) of weights W and scalings (a, b): a[i, y] W[i, j] b[j, y]."""
    return a[:, None, :] * weights[:, :, None] * b[None, :, :]


def coupling_informations(q: torch.Tensor, pi: torch.Tensor) -> tuple[float, float, float]:
    """(I(Y; X1), I(Y; X2), I(Y; X1, X2)) in bits of a coupling q (m1, m2, Y) with p(y) = pi."""
    log_pi = pi.clamp_min(_TINY).log()

    def mi(joint: torch.Tensor) -> float:  # joint (cells, Y)
        cell = joint.sum(-1, keepdim=True)
        ratio = joint.clamp_min(_TINY).log() - cell.clamp_min(_TINY).log() - log_pi
        return max(float((joint * ratio).sum()) / LN2, 0.0)

    return mi(q.sum(1)), mi(q.sum(0)), mi(q.reshape(-1, q.shape[-1]))


def min_coupling(
    p1: torch.Tensor, p2: torch.Tensor, steps: int = 20, sinkhorn_iters: int = 10
) -> tuple[torch.Tensor, torch.Tensor]:
    """The coupling q (m, m, Y) of a batch with least I_q(Y; X1, X2), and p(y) (Y,).

    Entropic mirror descent (step 1) from the product coupling rows * cols / pi; each step
    re-weights by q(i, j) = sum_y q and projects with :func:`sinkhorn` (module docstring).
    """
    rows, cols, pi = coupling_marginals(p1, p2)
    m1, m2 = rows.shape[0], cols.shape[0]
    weights = torch.ones((m1, m2), dtype=rows.dtype, device=rows.device)
    a = rows / pi.clamp_min(_TINY)
    b = cols.clone()  # a W b is the product coupling, already feasible
    for _ in range(steps):
        weights = weights * (a @ b.T)  # q(i, j)
        weights = weights / weights.sum()
        a, b = sinkhorn(weights, rows, cols, sinkhorn_iters)
    return coupling_table(weights, a, b), pi


def batch_atoms(
    p1: torch.Tensor, p2: torch.Tensor, p12: torch.Tensor, steps: int, iters: int
) -> np.ndarray:
    """PID atoms (R, U1, U2, S) in bits of one minibatch of classifier outputs, each (m, Y)."""
    q, pi = min_coupling(p1, p2, steps, iters)
    i1, i2, i_star = coupling_informations(q, pi)
    i_star = max(i_star, i1, i2)
    log_pi = pi.clamp_min(_TINY).log()
    kl = (p12 * (p12.clamp_min(_TINY).log() - log_pi)).sum(-1)
    i12 = max(float(kl.mean()) / LN2, i_star)
    return np.array([i1 + i2 - i_star, i_star - i2, i_star - i1, i12 - i_star])


def minibatch_atoms(
    p1: np.ndarray,
    p2: np.ndarray,
    p12: np.ndarray,
    config: BatchConfig | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Atoms (R, U1, U2, S) in bits of every minibatch, (B, 4), and the batch sizes (B,).

    ``p1``, ``p2``, ``p12`` are held-out p(y|x1), p(y|x2), p(y|x1,x2), each (n, Y). Rows are
    shuffled (``rng``, default seeded by ``config.seed``) into minibatches of
    ``config.coupling_batch`` (a last short batch of at least half that size is kept).
    """
    cfg = config if config is not None else BatchConfig()
    arrays = [np.asarray(a, dtype=np.float64) for a in (p1, p2, p12)]
    if arrays[0].ndim != 2:
        raise ValueError(f"p1 must be (n, Y); got shape {arrays[0].shape}")
    n, classes = arrays[0].shape
    if any(a.shape != (n, classes) for a in arrays):
        raise ValueError(
            f"p1, p2, p12 must share one shape (n, Y); got {[a.shape for a in arrays]}"
        )
    if any(not np.all(np.isfinite(a)) or a.min() < 0 for a in arrays):
        raise ValueError("p1, p2, p12 must hold finite, non-negative probabilities")
    if any(not np.allclose(a.sum(1), 1.0, atol=1e-6) for a in arrays):
        raise ValueError("every row of p1, p2, p12 must sum to 1")
    generator = rng if rng is not None else np.random.default_rng(cfg.seed)
    order = generator.permutation(n)
    m = min(cfg.coupling_batch, n)
    starts = list(range(0, n, m))
    if len(starts) > 1 and n - starts[-1] < m // 2:
        starts.pop()
    if cfg.max_batches:
        starts = starts[: cfg.max_batches]
    device = resolve_device(cfg.device)
    tensors = [torch.as_tensor(a, device=device) for a in arrays]
    atoms = np.zeros((len(starts), 4))
    sizes = np.zeros(len(starts), dtype=np.int64)
    for k, start in enumerate(starts):
        index = torch.as_tensor(order[start : start + m], device=device)
        b1, b2, b12 = (t[index] for t in tensors)
        atoms[k] = batch_atoms(b1, b2, b12, cfg.coupling_steps, cfg.sinkhorn_iters)
        sizes[k] = len(index)
    return atoms, sizes


def pid_from_atoms(atoms: np.ndarray, sizes: np.ndarray) -> PID:
    """The size-weighted mean over minibatches of per-batch atoms (B, 4), as a PID (bits)."""
    r, u1, u2, s = (float(v) for v in np.average(atoms, axis=0, weights=sizes))
    return PID(r, u1, u2, s, r + u1 + u2 + s)


def batch_pid_from_probs(
    p1: np.ndarray,
    p2: np.ndarray,
    p12: np.ndarray,
    config: BatchConfig | None = None,
    rng: np.random.Generator | None = None,
) -> PID:
    """BATCH PID (bits) from held-out classifier outputs, each (n, Y): :func:`minibatch_atoms`
    averaged over minibatches, weighted by their size."""
    return pid_from_atoms(*minibatch_atoms(p1, p2, p12, config, rng))


# --- classifiers -----------------------------------------------------------------------------


def _mlp(dim: int, classes: int, cfg: BatchConfig) -> nn.Module:
    layers: list[nn.Module] = []
    width = dim
    for _ in range(cfg.layers):
        layers += [nn.Linear(width, cfg.hidden), nn.ReLU()]
        width = cfg.hidden
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def fit_classifier(
    x: np.ndarray, y: np.ndarray, classes: int, cfg: BatchConfig, seed: int
) -> Callable[[np.ndarray], np.ndarray]:
    """An MLP p(y | x) fitted with Adam and early stopping; returns x (n, d) -> probs (n, classes).

    Features are z-scored with the fit rows' statistics; the last ``cfg.val_fraction`` of the
    rows is the validation part whose cross-entropy picks the epoch kept.
    """
    device = resolve_device(cfg.device)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    x = np.asarray(x, dtype=np.float32)
    mean = x.mean(0)
    scale = np.where(x.std(0) > 0, x.std(0), 1.0).astype(np.float32)
    xt = torch.as_tensor((x - mean) / scale, device=device)
    yt = torch.as_tensor(np.asarray(y, dtype=np.int64), device=device)
    n_val = max(1, int(round(len(xt) * cfg.val_fraction)))
    x_fit, y_fit, x_val, y_val = xt[:-n_val], yt[:-n_val], xt[-n_val:], yt[-n_val:]
    model = _mlp(xt.shape[1], classes, cfg).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    loss_fn = nn.CrossEntropyLoss()
    best = (math.inf, {k: v.clone() for k, v in model.state_dict().items()})
    stale = 0
    for _ in range(cfg.epochs):
        model.train()
        order = torch.randperm(len(x_fit), generator=gen).to(device)
        for start in range(0, len(x_fit), cfg.train_batch):
            index = order[start : start + cfg.train_batch]
            optimiser.zero_grad()
            loss_fn(model(x_fit[index]), y_fit[index]).backward()
            optimiser.step()
        model.eval()
        with torch.no_grad():
            val = float(loss_fn(model(x_val), y_val))
        if val < best[0] - 1e-4:
            best = (val, {k: v.clone() for k, v in model.state_dict().items()})
            stale = 0
        else:
            stale += 1
            if stale >= cfg.patience:
                break
    model.load_state_dict(best[1])
    model.eval()

    def predict(points: np.ndarray) -> np.ndarray:
        z = torch.as_tensor((np.asarray(points, dtype=np.float32) - mean) / scale, device=device)
        with torch.no_grad():
            return torch.softmax(model(z).double(), dim=-1).cpu().numpy()

    return predict


def _flat(x: np.ndarray, name: str, n: int | None) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim < 2:
        raise ValueError(f"{name} must be (n, d); got shape {arr.shape}")
    arr = arr.reshape(arr.shape[0], -1).astype(np.float32)
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} rows, expected {n}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def batch_probabilities(
    x1: np.ndarray, x2: np.ndarray, y: np.ndarray, config: BatchConfig | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Held-out p(y|x1), p(y|x2), p(y|x1,x2), each (n_heldout, Y): step 1 of the estimator.

    Rows are split at random (``config.seed``) into ``fit_fraction`` for the classifiers and the
    rest, where the three classifiers are evaluated.
    """
    cfg = config if config is not None else BatchConfig()
    labels = np.asarray(y)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise ValueError("y must be a 1-D array of non-negative integer class indices")
    n = labels.shape[0]
    a = _flat(x1, "x1", n)
    b = _flat(x2, "x2", n)
    n_fit = int(round(n * cfg.fit_fraction))
    if n_fit < 10 or n - n_fit < 2:
        raise ValueError(f"need more rows for the BATCH estimator; got {n}")
    classes = int(labels.max()) + 1
    order = np.random.default_rng(cfg.seed).permutation(n)
    fit, held = order[:n_fit], order[n_fit:]
    both = np.hstack([a, b])
    outputs = []
    for k, feats in enumerate((a, b, both)):
        predict = fit_classifier(feats[fit], labels[fit], classes, cfg, seed=cfg.seed * 3 + k)
        outputs.append(predict(feats[held]))
    return outputs[0], outputs[1], outputs[2]


def batch_pid(
    x1: np.ndarray, x2: np.ndarray, y: np.ndarray, config: BatchConfig | None = None
) -> PID:
    """BATCH estimate (bits) of the PID of int labels y (n,) w.r.t. features x1 (n, ...), x2.

    :func:`batch_probabilities`, then :func:`batch_pid_from_probs` (Liang et al., NeurIPS 2023).
    """
    cfg = config if config is not None else BatchConfig()
    return batch_pid_from_probs(*batch_probabilities(x1, x2, y, cfg), cfg)
