"""Linear and MLP probes on frozen representations, one per label.

A probe is the standard read-out of what a representation makes *usable*: a multinomial logistic
regression (or a one-hidden-layer MLP) fitted on the frozen training representations. Its L2
strength is chosen on a validation split carved from the training data (never on test), then the
probe is refitted on all training data and scored on the test split. Runs on any torch device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from synergy_lab.measure.information import class_prior

PROBE_KINDS = ("linear", "mlp")


@dataclass(frozen=True)
class ProbeConfig:
    """How probes are fitted. ``l2_grid`` are the candidate L2 strengths (per-sample loss units)."""

    kind: str = "linear"  # "linear" (logistic regression) or "mlp" (one hidden layer)
    l2_grid: tuple[float, ...] = (1e-5, 1e-4, 1e-3, 1e-2)
    val_fraction: float = 0.2  # part of the training data held out to choose the L2 strength
    max_iter: int = 300  # L-BFGS iterations (linear) / full-batch Adam steps (mlp)
    hidden: int = 256  # MLP probe hidden width
    lr: float = 1e-2  # MLP probe Adam learning rate

    def __post_init__(self) -> None:
        if self.kind not in PROBE_KINDS:
            raise ValueError(
                f"probe kind must be one of {', '.join(PROBE_KINDS)}; got {self.kind!r}"
            )
        if not self.l2_grid or any(v < 0 for v in self.l2_grid):
            raise ValueError(f"l2_grid must be non-empty and non-negative; got {self.l2_grid}")
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1); got {self.val_fraction}")
        if self.max_iter < 1 or self.hidden < 1 or not self.lr > 0:
            raise ValueError("max_iter and hidden must be >= 1 and lr > 0")


@dataclass(frozen=True)
class ProbeResult:
    """What one probe gives on the test split.

    ``accuracy`` in [0, 1]; ``predictions`` (n_test,) argmax classes; ``probabilities``
    (n_test, classes) the probe's softmax; ``test_cross_entropy_bits`` the mean test
    cross-entropy in **bits**; ``prior`` (classes,) the fit split's class frequencies (smoothed,
    the best constant predictor); ``l2`` the chosen L2 and ``val_accuracy`` its val accuracy.
    """

    accuracy: float
    predictions: np.ndarray
    l2: float
    val_accuracy: float
    probabilities: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    test_cross_entropy_bits: float = float("nan")
    prior: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _check_inputs(z: np.ndarray, y: np.ndarray, name: str) -> None:
    if z.ndim != 2:
        raise ValueError(f"{name} representations must be 2-D (n, d); got shape {z.shape}")
    if y.ndim != 1 or y.shape[0] != z.shape[0]:
        raise ValueError(f"{name} labels must be 1-D of length {z.shape[0]}; got shape {y.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError(f"{name} representations contain NaN or infinite values")


def _make_probe(kind: str, dim: int, classes: int, hidden: int) -> nn.Module:
    if kind == "linear":
        return nn.Linear(dim, classes)
    return nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, classes))


def _fit(
    z: Tensor, y: Tensor, classes: int, l2: float, config: ProbeConfig, seed: int
) -> nn.Module:
    """Fit one probe by full-batch optimisation of cross-entropy + l2 * ||W||^2 / 2."""
    torch.manual_seed(seed)
    probe = _make_probe(config.kind, z.shape[1], classes, config.hidden).to(z.device)
    weights = [p for name, p in probe.named_parameters() if name.endswith("weight")]

    def objective() -> Tensor:
        penalty = sum((w * w).sum() for w in weights)
        return F.cross_entropy(probe(z), y) + 0.5 * l2 * penalty

    if config.kind == "linear":
        optimizer: torch.optim.Optimizer = torch.optim.LBFGS(
            probe.parameters(), max_iter=config.max_iter, line_search_fn="strong_wolfe"
        )

        def closure() -> Tensor:
            optimizer.zero_grad()
            loss = objective()
            loss.backward()
            return loss

        optimizer.step(closure)  # type: ignore[arg-type]
    else:
        optimizer = torch.optim.Adam(probe.parameters(), lr=config.lr)
        for _ in range(config.max_iter):
            optimizer.zero_grad()
            objective().backward()
            optimizer.step()
    return probe


@torch.no_grad()
def _probabilities(probe: nn.Module, z: Tensor) -> Tensor:
    return torch.softmax(probe(z).double(), dim=1)


@torch.no_grad()
def _predict(probe: nn.Module, z: Tensor) -> Tensor:
    return probe(z).argmax(dim=1)


def fit_probe(
    z_train: np.ndarray,
    y_train: np.ndarray,
    z_test: np.ndarray,
    y_test: np.ndarray,
    config: ProbeConfig | None = None,
    *,
    seed: int = 0,
    device: torch.device | str = "cpu",
    classes: int | None = None,
) -> ProbeResult:
    """Fit a probe on (z_train, y_train), choosing L2 on a held-out part; score on the test split.

    ``z_*``: (n, d) float representations; ``y_*``: (n,) int class indices. Features are
    standardised with training statistics. Deterministic for a given seed and device.
    ``classes`` (default: the largest label seen + 1) covers classes absent from a split.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> z = rng.normal(size=(200, 3)); y = (z[:, 0] > 0).astype(int)
        >>> fit_probe(z[:150], y[:150], z[150:], y[150:]).accuracy > 0.9
        True
    """
    config = config or ProbeConfig()
    _check_inputs(z_train, y_train, "training")
    _check_inputs(z_test, y_test, "test")
    if z_train.shape[1] != z_test.shape[1]:
        raise ValueError("training and test representations have different widths")
    seen = int(max(y_train.max(), y_test.max())) + 1
    if classes is None:
        classes = seen
    elif classes < seen:
        raise ValueError(f"classes = {classes} but the labels go up to {seen - 1}")
    mean = z_train.mean(axis=0)
    std = z_train.std(axis=0) + 1e-6
    to_tensor = lambda a: torch.as_tensor((a - mean) / std, dtype=torch.float32, device=device)  # noqa: E731
    zt, zs = to_tensor(z_train), to_tensor(z_test)
    yt = torch.as_tensor(y_train, dtype=torch.long, device=device)
    ys = torch.as_tensor(y_test, dtype=torch.long, device=device)

    order = torch.as_tensor(np.random.default_rng(seed).permutation(len(y_train)), device=device)
    n_val = max(1, int(round(len(y_train) * config.val_fraction)))
    val_idx, fit_idx = order[:n_val], order[n_val:]
    best_l2, best_val = config.l2_grid[0], float("nan")  # one candidate: nothing to choose
    for l2 in config.l2_grid if len(config.l2_grid) > 1 else ():
        probe = _fit(zt[fit_idx], yt[fit_idx], classes, l2, config, seed)
        val_acc = float((_predict(probe, zt[val_idx]) == yt[val_idx]).float().mean())
        if not val_acc <= best_val + 1e-12:  # also true for the first (NaN) candidate
            best_l2, best_val = l2, val_acc
    probe = _fit(zt, yt, classes, best_l2, config, seed)
    probabilities = _probabilities(probe, zs)
    predictions = probabilities.argmax(dim=1)
    accuracy = float((predictions == ys).float().mean())
    with torch.no_grad():
        ce_nats = float(F.nll_loss(torch.log_softmax(probe(zs).double(), dim=1), ys))
    return ProbeResult(
        accuracy,
        predictions.cpu().numpy(),
        best_l2,
        best_val,
        probabilities.cpu().numpy(),
        ce_nats / math.log(2.0),
        class_prior(y_train, classes),
    )
