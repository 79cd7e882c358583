"""The one trainer: any registered method, any dataset, one readable loop.

``train(method_name, dataset)`` builds the shared :class:`FusionModel` for the dataset's input
shapes and the method from ``METHODS``, then runs AdamW over both with linear warm-up and a
cosine decay, bf16 autocast on CUDA only, a progress bar and a NaN guard, and returns a
:class:`TrainedModel` whose ``represent`` gives frozen numpy representations for the probes.
Seeded: the same seed on CPU gives bit-identical weights, losses and representations.

Two budgets, the same rule for every method. ``"fixed"``: ``epochs`` epochs, the last step's
weights. ``"converged"`` (default): a slice of the training split is held out (no labels are
read by a self-supervised loss), the method's own loss on it is checked every ``eval_every``
steps, and training stops once it has not improved by ``tol`` (relative) for ``patience`` checks,
or at ``max_epochs``; the weights of the best check are returned. No test or probe score is ever
used to select anything.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from synergy_lab.augment import AugmentConfig, make_augment
from synergy_lab.files import atomic_write_with
from synergy_lab.methods import Batch, Method, MethodContext, method_class, settings_from_record
from synergy_lab.models import FusionModel, ModelConfig
from synthetic import MultimodalDataset

CHECKPOINT_VERSION = 1
LOG_EVERY = 10  # steps between host transfers of the logged losses (and the NaN check)


BUDGETS = ("converged", "fixed")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings, tuned with the default model on ``xor`` (< 2 min per method, CPU).

    ``lr`` is AdamW's peak learning rate, reached after ``warmup_fraction`` of the steps and then
    (``cosine``) decayed to 0 along a half cosine. ``max_grad_norm`` = 0 turns clipping off.
    ``checkpoint``, if set, is where the trained model is saved at the end.

    ``budget = "converged"``: ``val_fraction`` of the training split is held out; every
    ``eval_every`` steps the method's loss on it (nats) is checked; training stops when the
    last ``patience`` checks did not improve the best by a relative ``tol``, or after
    ``max_epochs`` epochs; then the lr decays linearly to 0 over ``cooldown_fraction`` times the
    steps taken so far, and training ends (a warmup-stable-decay schedule: Hägele et al., 2024,
    "Scaling laws and compute-optimal training beyond fixed training durations", find a 10-20 %
    cooldown matches a cosine run of the same length). The horizon of warm-up and ramps is
    ``epochs`` epochs' worth of steps (``progress`` reaches 1 there and holds) and the lr stays
    at its peak until the cooldown: no schedule needs to know where training will stop, so the
    run up to the plateau is the same whatever the cap (``cosine`` applies to the fixed budget
    only). Defaults: measured in ``benchmarks/convergence_budget.py``.
    """

    epochs: int = 10
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.05
    cosine: bool = True
    max_grad_norm: float = 1.0
    device: str = "auto"  # "auto" | "cpu" | "cuda" (or "cuda:N")
    seed: int = 0
    progress: bool = True
    checkpoint: str | None = None
    split: str = "train"  # the split trained on: "train", or "val" (never "test")
    budget: str = "converged"  # "converged" (held-out loss stops improving) | "fixed" (epochs)
    val_fraction: float = 0.1  # converged: share of the training split held out for the check
    eval_every: int = 25  # converged: optimisation steps between two checks (K)
    tol: float = 0.01  # converged: relative drop of the best held-out loss that counts
    patience: int = 10  # converged: checks without such a drop before training stops
    max_epochs: int = 100  # converged: cap of the stable phase, in epochs over rows not held out
    cooldown_fraction: float = 0.2  # converged: final linear lr decay, x the steps before it

    def __post_init__(self) -> None:
        if self.split not in ("train", "val"):
            raise ValueError(
                f"TrainConfig.split must be 'train' or 'val' (never 'test'); got {self.split!r}"
            )
        if self.epochs < 0:
            raise ValueError(f"TrainConfig.epochs must be >= 0; got {self.epochs}")
        if self.batch_size < 2:
            raise ValueError(f"TrainConfig.batch_size must be >= 2; got {self.batch_size}")
        if not self.lr > 0:
            raise ValueError(f"TrainConfig.lr must be > 0; got {self.lr}")
        if self.weight_decay < 0:
            raise ValueError(f"TrainConfig.weight_decay must be >= 0; got {self.weight_decay}")
        if not 0 <= self.warmup_fraction < 1:
            raise ValueError(
                f"TrainConfig.warmup_fraction must be in [0, 1); got {self.warmup_fraction}"
            )
        if self.max_grad_norm < 0:
            raise ValueError(f"TrainConfig.max_grad_norm must be >= 0; got {self.max_grad_norm}")
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            raise ValueError(
                f"TrainConfig.device must be 'auto', 'cpu' or 'cuda'; got {self.device!r}"
            )
        if self.budget not in BUDGETS:
            raise ValueError(f"TrainConfig.budget must be one of {BUDGETS}; got {self.budget!r}")
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"TrainConfig.val_fraction must be in (0, 1); got {self.val_fraction}")
        if self.eval_every < 1:
            raise ValueError(f"TrainConfig.eval_every must be >= 1; got {self.eval_every}")
        if not 0 <= self.tol < 1:
            raise ValueError(f"TrainConfig.tol must be in [0, 1); got {self.tol}")
        if self.patience < 1:
            raise ValueError(f"TrainConfig.patience must be >= 1; got {self.patience}")
        if self.max_epochs < 1:
            raise ValueError(f"TrainConfig.max_epochs must be >= 1; got {self.max_epochs}")
        if not 0 <= self.cooldown_fraction <= 1:
            raise ValueError(
                f"TrainConfig.cooldown_fraction must be in [0, 1]; got {self.cooldown_fraction}"
            )


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` without a GPU is a ValueError."""
    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if device == "cuda" or device.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} was asked for but CUDA is not available")
        return torch.device(device)
    raise ValueError(f"device must be 'auto', 'cpu' or 'cuda'; got {device!r}")


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's global generators (model init, dropout, masks).

    numpy's legacy global generator is seeded on purpose, for any code that still draws from it.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002
    torch.manual_seed(seed)


def lr_factor(step: int, total_steps: int, warmup_steps: int, cosine: bool) -> float:
    """Multiplier of the peak lr at ``step``: linear warm-up to 1, then a half cosine to 0."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if not cosine:
        return 1.0
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def cooldown_factor(step: int, start: float, length: int) -> float:
    """Multiplier of the lr at ``step`` in a final linear decay of ``length`` steps from ``start``.

    1 before ``start``, then (start + length - step) / length: 1 at the first decay step, 1 /
    length at the last, 0 after.
    """
    if step < start:
        return 1.0
    return max(0.0, (start + length - step) / max(1, length))


def checks_without_improvement(losses: list[float], tol: float) -> int:
    """How many of the last checks did not lower the best held-out loss by a relative ``tol``.

    ``losses`` are the held-out losses (nats) in check order. A check improves when its loss is
    below ``best - tol * |best|``, best being the lowest loss of the improving checks before it
    (the first check always improves). 0 when the last check improved.

    Example:
        >>> checks_without_improvement([3.0, 2.0, 1.995, 1.99], tol=0.01)
        2
    """
    best, since = math.inf, 0
    for value in losses:
        if value < best - tol * abs(best) or best == math.inf:
            best, since = value, 0
        else:
            since += 1
    return since


def make_optimizer(params: list[nn.Parameter], config: TrainConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (not on biases, norms' gains or 1-D vectors)."""
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.lr)


@dataclass(frozen=True)
class TrainingProgress:
    """Where a stopped or running training stands, read from its resume state (``train(...,
    resume=)``): optimiser steps, training seconds and the held-out checks (nats) so far."""

    step: int  # optimiser steps taken
    end: int  # the step it ends at unless the converged rule stops its stable phase sooner
    end_is_sure: bool  # a fixed budget, or the final decay has begun
    seconds: float  # training time so far, over every resume (held-out checks included)
    checks: tuple[tuple[int, float], ...]  # (step, held-out loss) of every check

    @property
    def seconds_per_step(self) -> float | None:
        return self.seconds / self.step if self.step else None


def read_progress(path: str | Path, cooldown_fraction: float) -> TrainingProgress:
    """The progress recorded in a resume state; ``cooldown_fraction`` is its [train] setting,
    which places the end of a converged stable phase's cap (the cap plus the decay after it)."""
    saved = torch.load(Path(path), map_location="cpu", weights_only=True)
    step, stop_at = int(saved["step"]), int(saved["stop_at"])
    stable = bool(saved["stable"])  # converged, before the decay: stop_at is the cap
    end = stop_at + int(round(cooldown_fraction * stop_at)) if stable else stop_at
    checks = tuple((int(c["step"]), float(c["val_loss"])) for c in saved["val_curve"])
    return TrainingProgress(step, end, not stable, float(saved["seconds"]), checks)


@dataclass
class TrainedModel:
    """A trained (or, for ``random``, untouched) model with its method, configs and loss curve.

    ``loss_curve`` holds one dict per optimisation step: ``step``, ``epoch``, ``lr``, ``loss``
    (nats) and the method's logged parts. ``train_seconds`` is the wall time of the loop
    (held-out checks included).
    ``steps_trained`` optimisation steps were taken; ``stop_reason`` is "fixed" (the fixed
    budget ran out), "converged" (the held-out loss stopped improving), "cap" (``max_epochs``
    reached first) or "untrained"; ``best_step`` is the step whose weights these are and
    ``val_curve`` the held-out checks, dicts ``step`` / ``val_loss`` (nats).
    """

    method_name: str
    model: FusionModel
    method: Method
    context: MethodContext
    input_shapes: tuple[tuple[int, ...], tuple[int, ...]]
    train_config: TrainConfig
    model_config: ModelConfig
    method_config: Any  # the method's own settings dataclass
    augment_config: AugmentConfig
    device: torch.device
    loss_curve: list[dict[str, float]] = field(default_factory=list)
    train_seconds: float = 0.0
    steps_trained: int = 0
    stop_reason: str = "untrained"
    best_step: int = 0
    val_curve: list[dict[str, float]] = field(default_factory=list)

    @torch.no_grad()
    def represent(self, x1: np.ndarray, x2: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Frozen representation (n, D) float32 of samples ``x1`` (n, ...), ``x2`` (n, ...).

        Eval mode (batch norm uses its running statistics), no gradients, float32, in batches
        of ``batch_size`` on the model's device.
        """
        x1, x2 = np.asarray(x1), np.asarray(x2)
        for name, x, shape in (("x1", x1, self.input_shapes[0]), ("x2", x2, self.input_shapes[1])):
            if tuple(x.shape[1:]) != tuple(shape):
                raise ValueError(
                    f"{name} samples have shape {x.shape[1:]}; the model expects {shape}"
                )
        if x1.shape[0] != x2.shape[0]:
            raise ValueError(f"x1 has {x1.shape[0]} samples but x2 has {x2.shape[0]}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1; got {batch_size}")
        self.model.eval()
        self.method.eval()
        out = []
        for start in range(0, x1.shape[0], batch_size):
            b1 = torch.as_tensor(x1[start : start + batch_size], dtype=torch.float32)
            b2 = torch.as_tensor(x2[start : start + batch_size], dtype=torch.float32)
            z = self.method.represent(self.model, b1.to(self.device), b2.to(self.device))
            out.append(z.float().cpu().numpy())
        if not out:
            width = self.method.represent(
                self.model,
                torch.zeros((1, *self.input_shapes[0]), device=self.device),
                torch.zeros((1, *self.input_shapes[1]), device=self.device),
            ).shape[1]
            return np.zeros((0, width), dtype=np.float32)
        return np.concatenate(out).astype(np.float32, copy=False)

    def save(self, path: str | Path | IO[bytes]) -> None:
        """Write a checkpoint: state dicts, configs, context, loss curve (``torch.save``) to a
        path or an open binary handle (e.g. :func:`synergy_lab.files.atomic_write_with`'s)."""
        if isinstance(path, (str, Path)):
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "version": CHECKPOINT_VERSION,
            "method_name": self.method_name,
            "input_shapes": [list(s) for s in self.input_shapes],
            "context": dataclasses.asdict(self.context),
            "train_config": dataclasses.asdict(self.train_config),
            "model_config": dataclasses.asdict(self.model_config),
            "method_config": dataclasses.asdict(self.method_config),
            "augment_config": dataclasses.asdict(self.augment_config),
            "model_state": self.model.state_dict(),
            "method_state": self.method.state_dict(),
            "loss_curve": self.loss_curve,
            "train_seconds": self.train_seconds,
            "steps_trained": self.steps_trained,
            "stop_reason": self.stop_reason,
            "best_step": self.best_step,
            "val_curve": self.val_curve,
        }
        torch.save(state, path)

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu") -> TrainedModel:
        """Read a checkpoint written by :meth:`save` onto ``device`` (eval mode)."""
        target = resolve_device(device)
        state: dict[str, Any] = torch.load(Path(path), map_location=target, weights_only=True)
        if state.get("version") != CHECKPOINT_VERSION:
            raise ValueError(
                f"{path} is not a synergy-lab checkpoint of version {CHECKPOINT_VERSION}"
            )
        name = state["method_name"]
        method_cls = method_class(name)
        shapes = tuple(tuple(s) for s in state["input_shapes"])
        input_shapes = (shapes[0], shapes[1])
        context = MethodContext(**state["context"])
        model_config = ModelConfig(**state["model_config"])
        method_config = settings_from_record(name, state["method_config"])
        model = FusionModel(input_shapes, model_config)
        method = method_cls(method_config, context)
        method.build(model)
        model.load_state_dict(state["model_state"])
        method.load_state_dict(state["method_state"])
        model.to(target).eval()
        method.to(target).eval()
        # checkpoints written before budgets existed were trained for a fixed budget
        train_config = TrainConfig(**{"budget": "fixed", **state["train_config"]})
        return cls(
            method_name=name,
            model=model,
            method=method,
            context=context,
            input_shapes=input_shapes,
            train_config=train_config,
            model_config=model_config,
            method_config=method_config,
            augment_config=AugmentConfig(**state["augment_config"]),
            device=target,
            loss_curve=list(state["loss_curve"]),
            train_seconds=float(state["train_seconds"]),
            steps_trained=int(state.get("steps_trained", len(state["loss_curve"]))),
            stop_reason=str(state.get("stop_reason", "fixed")),
            best_step=int(state.get("best_step", len(state["loss_curve"]))),
            val_curve=list(state.get("val_curve", [])),
        )


def train(
    method_name: str,
    dataset: MultimodalDataset,
    train_config: TrainConfig | None = None,
    model_config: ModelConfig | None = None,
    method_config: Any = None,
    augment_config: AugmentConfig | None = None,
    on_epoch: Callable[[int, TrainedModel], None] | None = None,
    resume: str | Path | None = None,
) -> TrainedModel:
    """Train ``method_name`` (a key of ``METHODS``) on ``dataset.<train_config.split>``.

    Each epoch visits the training rows in a fresh seeded order in batches of ``batch_size``
    (the last, incomplete batch is dropped; fewer rows than one batch make one batch). Methods
    with ``trainable = False`` are returned at their initialisation. ``on_epoch(epoch, model)``,
    if given, is called before training (epoch 0) and after each epoch e (epoch e + 1, also
    after the partial epoch where a converged run stops) with the model as it stands; its time
    is not counted in ``train_seconds`` and the random generators are restored after it, so a
    hook never changes what is trained.

    The held-out check of ``budget = "converged"`` is the method's loss (nats, mean over full
    batches of ``batch_size`` held-out rows) at ``progress`` = 1 (its final objective, so a ramp
    does not move the target), in train mode like the loss being minimised (batch norm
    normalises with the batch's statistics), without gradients. Views, masks and dropout come
    from generators re-seeded for every check and the generators of training are restored
    after it, as are all buffers (batch-norm running statistics), so checks are comparable with
    each other and never change the training stream.

    ``resume``, a file path: the whole training state (weights, optimiser, schedule, random
    generators, curves, the converged budget's checks) is written there atomically at the end of
    every epoch, and a training started with a path that holds one continues from it, to the
    same weights and curves as an uninterrupted run (train_seconds adds both parts). A stopped
    process then loses at most one epoch. Not with ``on_epoch``, whose records would be lost.
    """
    if resume is not None and on_epoch is not None:
        raise ValueError("resume cannot be combined with an on_epoch hook (its records are lost)")
    method_cls = method_class(method_name)
    config = train_config or TrainConfig()
    model_config = model_config or ModelConfig()
    method_config = method_config or method_cls.settings_class()
    augment_config = augment_config or AugmentConfig()
    device = resolve_device(config.device)
    converging = config.budget == "converged"

    # ---- seeding: global generators for init/dropout/masks, own ones for shuffling and views
    seed_everything(config.seed)
    shuffle_generator = torch.Generator().manual_seed(config.seed)
    augment_generator = torch.Generator(device=device).manual_seed(config.seed + 1)

    # ---- model, method, data (the whole training split lives on the device)
    context = MethodContext(
        dim=model_config.dim,
        projection_dim=model_config.projection_dim,
        num_classes=dict(dataset.num_classes),
        data_kind=dataset.kind,
    )
    model = FusionModel(dataset.input_shapes, model_config).to(device)
    method = method_cls(method_config, context)
    method.build(model)
    method.to(device)
    split = dataset.split(config.split)
    x1 = torch.as_tensor(split.x1, dtype=torch.float32, device=device)
    x2 = torch.as_tensor(split.x2, dtype=torch.float32, device=device)
    labels = {
        k: torch.as_tensor(v, dtype=torch.long, device=device) for k, v in split.labels.items()
    }
    augment = make_augment(dataset.kind, augment_config, augment_generator)
    n = len(split)
    if n < 2:
        raise ValueError(f"dataset {dataset.name!r} has {n} training samples; need at least 2")

    # ---- the held-out slice of the converged budget (a seeded choice of training rows)
    if converging:
        rows = torch.randperm(n, generator=torch.Generator().manual_seed(config.seed + 2))
        n_check = max(1, int(round(config.val_fraction * n)))
        if n - n_check < 2:
            raise ValueError(f"holding out {n_check} of {n} training samples leaves fewer than 2")
        check_rows, rows = rows[:n_check].to(device), rows[n_check:].to(device)
        check = (x1[check_rows], x2[check_rows], {k: v[check_rows] for k, v in labels.items()})
        x1, x2, labels = x1[rows], x2[rows], {k: v[rows] for k, v in labels.items()}
        n = n - n_check
        check_generator = torch.Generator(device=device)
        check_augment = make_augment(dataset.kind, augment_config, check_generator)
    batch_size = min(config.batch_size, n)
    steps_per_epoch = n // batch_size
    horizon = config.epochs * steps_per_epoch if method.trainable else 0  # of schedules, ramps
    max_epochs = (config.max_epochs if converging else config.epochs) if method.trainable else 0
    max_steps = max_epochs * steps_per_epoch
    warmup_steps = int(round(config.warmup_fraction * horizon))

    # ---- optimiser and schedule
    params = [p for p in [*model.parameters(), *method.parameters()] if p.requires_grad]
    optimizer = make_optimizer(params, config)
    cosine = config.cosine and not converging
    cooldown: list[Any] = [math.inf, 1]  # converged: first step and length of the final decay
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: (
            lr_factor(step, horizon, warmup_steps, cosine) * cooldown_factor(step, *cooldown)
        ),
    )
    use_autocast = device.type == "cuda"

    # ---- the loop
    curve: list[dict[str, float]] = []
    trained = TrainedModel(
        method_name=method_name,
        model=model,
        method=method,
        context=context,
        input_shapes=dataset.input_shapes,
        train_config=config,
        model_config=model_config,
        method_config=method_config,
        augment_config=augment_config,
        device=device,
        loss_curve=curve,
    )
    hook_seconds = 0.0

    def call_hook(epoch: int) -> None:
        nonlocal hook_seconds
        if on_epoch is None:
            return
        began = time.perf_counter()
        cpu_state = torch.get_rng_state()
        cuda_state = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
        on_epoch(epoch, trained)
        torch.set_rng_state(cpu_state)
        if cuda_state is not None:
            torch.cuda.set_rng_state(cuda_state, device)
        model.train()
        method.train()
        hook_seconds += time.perf_counter() - began

    # losses stay on the device until a log interval ends: one host transfer per LOG_EVERY steps
    pending: list[tuple[dict[str, float], torch.Tensor, Mapping[str, float | torch.Tensor]]] = []

    def flush() -> None:
        """Append the pending steps to the curve as floats; the NaN guard, one sync for all."""
        tensors = [loss for _, loss, _ in pending]
        tensors += [v for *_, parts in pending for v in parts.values() if torch.is_tensor(v)]
        values = iter(torch.stack([t.float() for t in tensors]).tolist() if tensors else [])
        losses = [next(values) for _ in pending]
        for (row, _, parts), value in zip(pending, losses, strict=True):
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"{method_name}: the loss became {value} at step {row['step']} "
                    f"(epoch {row['epoch']}); try a lower lr or a higher temperature"
                )
            logged = {k: next(values) if torch.is_tensor(v) else v for k, v in parts.items()}
            curve.append({**row, "loss": value, **logged})
        pending.clear()

    @torch.no_grad()
    def held_out_loss() -> float:
        """The method's loss (nats) on the held-out rows, with fixed views, masks and buffers."""
        cpu_state = torch.get_rng_state()
        cuda_state = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
        buffers = [b.clone() for b in [*model.buffers(), *method.buffers()]]
        torch.manual_seed(config.seed + 3)
        check_generator.manual_seed(config.seed + 4)
        cx1, cx2, clabels = check
        size = min(batch_size, len(cx1))
        total, count = 0.0, 0
        for start in range(0, len(cx1) - size + 1, size):
            part = slice(start, start + size)
            batch = Batch(
                x1=cx1[part],
                x2=cx2[part],
                labels={k: v[part] for k, v in clabels.items()},
                augment=check_augment,
                progress=1.0,
            )
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_autocast):
                total += float(method(batch, model).loss.float())
            count += 1
        for buffer, saved in zip([*model.buffers(), *method.buffers()], buffers, strict=True):
            buffer.copy_(saved)
        torch.set_rng_state(cpu_state)
        if cuda_state is not None:
            torch.cuda.set_rng_state(cuda_state, device)
        return total / count

    val_curve: list[dict[str, float]] = []
    best: tuple[float, int, list[dict[str, Tensor]]] | None = None  # loss, step, weights

    def checked(step: int) -> bool:
        """Record one held-out check at ``step``; True when training should stop (converged)."""
        nonlocal best
        loss = held_out_loss()
        val_curve.append({"step": step, "val_loss": loss})
        if best is None or loss < best[0]:
            weights = [
                {k: v.detach().clone() for k, v in m.state_dict().items()} for m in (model, method)
            ]
            best = (loss, step, weights)
        losses = [entry["val_loss"] for entry in val_curve]
        return checks_without_improvement(losses, config.tol) >= config.patience

    start = time.perf_counter()
    call_hook(0)
    model.train()
    method.train()
    bar = tqdm(  # no bar for a method that does not train (no "0step" line)
        total=max_steps,
        desc=method_name,
        unit="step",
        disable=not config.progress or max_steps == 0,
    )
    step, stop_reason = 0, "fixed" if method.trainable else "untrained"
    stop_at = max_steps  # the fixed budget's end, or the cap of the converged stable phase
    stable = converging  # converged: before the final decay
    epoch, seconds_before = 0, 0.0
    state_path = Path(resume) if resume is not None else None
    if state_path is not None and state_path.is_file():  # continue a stopped training
        # on the CPU: generator states must stay there; load_state_dict moves the rest
        saved = torch.load(state_path, map_location="cpu", weights_only=True)
        model.load_state_dict(saved["model"])
        method.load_state_dict(saved["method"])
        method.load_training_state(saved["method_training"])
        optimizer.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        shuffle_generator.set_state(saved["rng"]["shuffle"])
        augment_generator.set_state(saved["rng"]["augment"])
        torch.set_rng_state(saved["rng"]["cpu"])
        if device.type == "cuda":
            torch.cuda.set_rng_state(saved["rng"]["cuda"], device)
        cooldown[:] = saved["cooldown"]
        curve[:], val_curve[:] = saved["curve"], saved["val_curve"]
        best = saved["best"]
        step, epoch, stop_at, stable = (saved[k] for k in ("step", "epoch", "stop_at", "stable"))
        stop_reason, seconds_before = saved["stop_reason"], saved["seconds"]
        bar.update(step)
    elif converging and method.trainable:
        checked(0)

    def save_state() -> None:
        """Everything the loop carries from one epoch to the next, written atomically."""
        state = {
            "model": model.state_dict(),
            "method": method.state_dict(),
            "method_training": method.training_state(),
            "optimizer": optimizer.state_dict(),
            "schedule": schedule.state_dict(),
            "rng": {
                "shuffle": shuffle_generator.get_state(),
                "augment": augment_generator.get_state(),
                "cpu": torch.get_rng_state(),
                **({"cuda": torch.cuda.get_rng_state(device)} if device.type == "cuda" else {}),
            },
            "cooldown": list(cooldown),
            "curve": curve,
            "val_curve": val_curve,
            "best": best,
            "step": step,
            "epoch": epoch,
            "stop_at": stop_at,
            "stable": stable,
            "stop_reason": stop_reason,
            "seconds": seconds_before + time.perf_counter() - start - hook_seconds,
        }
        assert state_path is not None
        atomic_write_with(state_path, lambda f: torch.save(state, f))

    while step < stop_at:
        order = torch.randperm(n, generator=shuffle_generator).to(device)
        for b in range(steps_per_epoch):
            idx = order[b * batch_size : (b + 1) * batch_size]
            batch = Batch(
                x1=x1[idx],
                x2=x2[idx],
                labels={k: v[idx] for k, v in labels.items()},
                augment=augment,
                progress=min(1.0, step / horizon) if horizon else 1.0,
            )
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_autocast):
                method.inner_step(batch, model)
                optimizer.zero_grad(set_to_none=True)
                out = method(batch, model)
            loss = out.loss.float()
            loss.backward()
            if config.max_grad_norm > 0:
                nn.utils.clip_grad_norm_(params, config.max_grad_norm)
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            schedule.step()
            pending.append(({"step": step, "epoch": epoch, "lr": lr}, loss.detach(), out.parts))
            step += 1
            bar.update(1)
            if step % LOG_EVERY == 0 or step == stop_at:
                flush()
                bar.set_postfix(loss=f"{curve[-1]['loss']:.3f}")
            if converging and (step % config.eval_every == 0 or step == stop_at):
                plateau = checked(step)
                if stable and (plateau or step == stop_at):  # the stable phase ends: decay
                    stable, stop_reason = False, "converged" if plateau else "cap"
                    cooldown[:] = [step, int(round(config.cooldown_fraction * step))]
                    stop_at = step + cooldown[1]
            if step == stop_at:
                break
        flush()
        call_hook(epoch + 1)
        epoch += 1
        if state_path is not None:
            save_state()
    bar.close()
    if best is not None:  # converged budget: back to the weights of the best check
        model.load_state_dict(best[2][0])
        method.load_state_dict(best[2][1])
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = seconds_before + time.perf_counter() - start - hook_seconds
    model.eval()
    method.eval()
    trained.train_seconds = seconds
    trained.steps_trained = step
    trained.stop_reason = stop_reason
    trained.best_step = best[1] if best is not None else step
    trained.val_curve = val_curve
    if config.checkpoint:
        trained.save(config.checkpoint)
    return trained
