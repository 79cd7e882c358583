"""Linear and MLP probes on frozen representations, one per label.

A probe is the standard read-out of what a representation makes *usable*: a multinomial logistic
regression (or a one-hidden-layer MLP) fitted on the frozen training representations. Its L2
strength is chosen on a validation split carved from the training data (never on test), then the
probe is refitted on all training data and scored on the test split. Runs on any torch device.

Two read-outs come from one call. The *accuracy* probe's L2 is chosen by ``select`` (validation
accuracy by default, as before). The *calibrated* probe, the one usable bits are computed from,
chooses L2 by validation log-loss and divides its logits by one temperature T > 0 fitted on the
validation logits (Guo et al., ICML 2017, "On calibration of modern neural networks"), so that
over-confidence cannot push H(Y) - CE_test below zero.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import minimize_scalar
from torch import Tensor, nn

from synergy_lab.measure.information import class_prior

PROBE_KINDS = ("linear", "mlp")
SELECTIONS = ("accuracy", "log_loss")
TEMPERATURE_RANGE = (1.0, 1e3)  # bounds of the temperature search: it only softens


@dataclass(frozen=True)
class ProbeConfig:
    """How probes are fitted. ``l2_grid`` are the candidate L2 strengths (per-sample loss units)."""

    kind: str = "linear"  # "linear" (logistic regression) or "mlp" (one hidden layer)
    l2_grid: tuple[float, ...] = (1e-5, 1e-4, 1e-3, 1e-2)
    val_fraction: float = 0.2  # part of the training data held out to choose the L2 strength
    max_iter: int = 300  # L-BFGS iterations (linear) / full-batch Adam steps (mlp)
    hidden: int = 256  # MLP probe hidden width
    lr: float = 1e-2  # MLP probe Adam learning rate
    select: str = "accuracy"  # how the accuracy probe's L2 is chosen: "accuracy" | "log_loss"
    calibrate: bool = True  # also fit the calibrated probe (L2 by log-loss, temperature)

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
        if self.select not in SELECTIONS:
            raise ValueError(f"select must be one of {SELECTIONS}; got {self.select!r}")


@dataclass(frozen=True)
class ProbeResult:
    """What one probe gives on the test split.

    ``accuracy`` in [0, 1]; ``predictions`` (n_test,) argmax classes; ``probabilities``
    (n_test, classes) the probe's softmax; ``test_cross_entropy_bits`` the mean test
    cross-entropy in **bits**; ``prior`` (classes,) the fit split's class frequencies (smoothed,
    the best constant predictor); ``l2`` the chosen L2 and ``val_accuracy`` its val accuracy
    (NaN when the grid has one value and ``calibrate`` is off: nothing was held out).

    The calibrated probe (``calibrate``; else these stay empty / NaN): ``calibrated_probabilities``
    (n_test, classes), the softmax of its test logits / ``temperature``, with
    ``calibrated_cross_entropy_bits`` its mean test cross-entropy (bits) and
    ``calibrated_accuracy``; ``calibrated_l2`` its L2 (lowest validation log-loss) and
    ``val_log_loss_bits`` = (before, after) temperature scaling on the validation split (bits).
    Usable bits should come from ``calibrated_probabilities``.
    """

    accuracy: float
    predictions: np.ndarray
    l2: float
    val_accuracy: float
    probabilities: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    test_cross_entropy_bits: float = float("nan")
    prior: np.ndarray = field(default_factory=lambda: np.zeros(0))
    calibrated_probabilities: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    calibrated_cross_entropy_bits: float = float("nan")
    calibrated_accuracy: float = float("nan")
    calibrated_l2: float = float("nan")
    temperature: float = float("nan")
    val_log_loss_bits: tuple[float, float] = (float("nan"), float("nan"))


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
def _logits(probe: nn.Module, z: Tensor) -> np.ndarray:
    return probe(z).double().cpu().numpy()


def log_loss_nats(logits: np.ndarray, y: np.ndarray, temperature: float = 1.0) -> float:
    """Mean cross-entropy (nats) of softmax(logits / temperature) (n, classes) on labels (n,)."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(scaled).sum(axis=1))
    return float(np.mean(log_norm - scaled[np.arange(len(y)), y]))


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The T minimising the mean log-loss of softmax(logits / T) (Guo et al., ICML 2017).

    ``logits`` (n, classes) held-out logits, ``y`` (n,) their labels. A bounded search over log T
    in :data:`TEMPERATURE_RANGE`; T = 1 is kept unless the search found a strictly lower loss,
    so scaling never raises the held-out log-loss. T >= 1 only softens: the L2 strength is
    already chosen by log-loss, and on a separable validation split the loss keeps falling as
    T -> 0, so sharpening has no finite optimum (on xor a random network's R probe, sharpened to
    T = 0.03, lost 0.125 of its 0.996 usable test bits; benchmarks/probe_selection.py).
    """
    y = np.asarray(y).astype(np.int64)
    low, high = (math.log(t) for t in TEMPERATURE_RANGE)
    found = minimize_scalar(
        lambda log_t: log_loss_nats(logits, y, math.exp(log_t)),
        bounds=(low, high),
        method="bounded",
        options={"xatol": 1e-4},
    )
    temperature = math.exp(float(found.x))
    return temperature if log_loss_nats(logits, y, temperature) < log_loss_nats(logits, y) else 1.0


def _softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


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
    y_test = np.asarray(y_test).astype(np.int64)

    order = torch.as_tensor(np.random.default_rng(seed).permutation(len(y_train)), device=device)
    n_val = max(1, int(round(len(y_train) * config.val_fraction)))
    val_idx, fit_idx = order[:n_val], order[n_val:]
    y_val = y_train[val_idx.cpu().numpy()].astype(np.int64)
    # every L2 candidate fitted without the validation rows: (val accuracy, val log-loss, logits)
    held_out: dict[float, tuple[float, float, np.ndarray]] = {}
    if len(config.l2_grid) > 1 or config.calibrate:
        for l2 in config.l2_grid:
            logits = _logits(_fit(zt[fit_idx], yt[fit_idx], classes, l2, config, seed), zt[val_idx])
            held_out[l2] = (
                float(np.mean(logits.argmax(1) == y_val)),
                log_loss_nats(logits, y_val),
                logits,
            )

    def chosen(by: str) -> float:
        """The grid's L2 with the best held-out score (the first of ties); one candidate: it."""
        if len(config.l2_grid) == 1:
            return config.l2_grid[0]
        if by == "accuracy":
            return max(config.l2_grid, key=lambda l2: held_out[l2][0])
        return min(config.l2_grid, key=lambda l2: held_out[l2][1])

    def refit(l2: float) -> tuple[np.ndarray, float]:
        """Test logits of the probe refitted on all training rows, and its test accuracy."""
        logits = _logits(_fit(zt, yt, classes, l2, config, seed), zs)
        return logits, float(np.mean(logits.argmax(1) == y_test))

    best_l2 = chosen(config.select)
    best_val = held_out[best_l2][0] if held_out else float("nan")
    logits, accuracy = refit(best_l2)
    probabilities = _softmax(logits)
    result = ProbeResult(
        accuracy,
        probabilities.argmax(axis=1),
        best_l2,
        best_val,
        probabilities,
        log_loss_nats(logits, y_test) / math.log(2.0),
        class_prior(y_train, classes),
    )
    if not config.calibrate:
        return result
    # calibrated: L2 by held-out log-loss, T fitted on the held-out logits of that probe, then
    # applied to the probe refitted on all rows (more data: no more confident, so T errs soft)
    cal_l2 = chosen("log_loss")
    val_logits = held_out[cal_l2][2]
    temperature = fit_temperature(val_logits, y_val)
    cal_logits, cal_accuracy = (logits, accuracy) if cal_l2 == best_l2 else refit(cal_l2)
    val_bits = tuple(
        log_loss_nats(val_logits, y_val, t) / math.log(2.0) for t in (1.0, temperature)
    )
    return dataclasses.replace(
        result,
        calibrated_probabilities=_softmax(cal_logits, temperature),
        calibrated_cross_entropy_bits=log_loss_nats(cal_logits, y_test, temperature)
        / math.log(2.0),
        calibrated_accuracy=cal_accuracy,
        calibrated_l2=cal_l2,
        temperature=temperature,
        val_log_loss_bits=(val_bits[0], val_bits[1]),
    )
