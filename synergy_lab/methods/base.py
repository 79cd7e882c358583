"""The one interface every method implements, so that one trainer treats all alike.

A method is an ``nn.Module`` (it may own extra parameters: critics, a classifier head) called as
``method(batch, model)`` and returning a :class:`LossOutput`. Its representation for probing is
``method.represent(model, x1, x2)``; by default the fused CLS output of the shared model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from torch import Tensor, nn

from synergy_lab.models import FusionModel

Augment = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


def identity_augment(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    return x1, x2


@dataclass(frozen=True)
class MethodConfig:
    """Hyperparameters of every method, flat so the CLI and TOML files can set them.

    Each method reads the fields it needs; the rest are ignored. Checked at construction.
    """

    temperature: float = 0.1  # softmax temperature of every InfoNCE term
    mask_ratio: float = 0.7  # InfMasking: fraction rho of each modality's tokens masked
    num_masks: int = 4  # InfMasking: masked fused views T per augmentation
    mask_lambda: float = 1.0  # InfMasking: final weight of the covariance term
    mask_ramp: float = 0.5  # InfMasking: fraction of training over which lambda ramps 0 -> max
    gaussian_closed_form: bool = True  # InfMasking: False = plain average over the T masks
    mask_weight: float = 1.0  # InfMasking: weight of the two L_mask terms vs CoMM's L_i
    critic_steps: int = 1  # FactorCL: optimiser steps of the CLUB critics per batch
    critic_lr: float = 1e-3  # FactorCL: learning rate of the CLUB critics
    supervised_label: str = "S"  # supervised bound: label it is trained on
    coral_mask_ratio: float = 0.75  # COrAL: chance a fusion token of the masked modality is zeroed
    coral_ortho_weight: float = 10.0  # COrAL: weight of the squared-cosine orthogonality terms
    coral_unique_weight: float = 1.0  # COrAL: weight of the two unique-path NT-Xent terms
    coral_shared_weight: float = 1.0  # COrAL: weight of the fused-path NT-Xent term

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0; got {self.temperature}")
        if not 0 < self.mask_ratio < 1:
            raise ValueError(f"mask_ratio must be in (0, 1); got {self.mask_ratio}")
        if self.num_masks < 1:
            raise ValueError(f"num_masks must be >= 1; got {self.num_masks}")
        if self.mask_lambda < 0:
            raise ValueError(f"mask_lambda must be >= 0; got {self.mask_lambda}")
        if not 0 <= self.mask_ramp <= 1:
            raise ValueError(f"mask_ramp must be in [0, 1]; got {self.mask_ramp}")
        if self.mask_weight < 0:
            raise ValueError(f"mask_weight must be >= 0; got {self.mask_weight}")
        if self.critic_steps < 0:
            raise ValueError(f"critic_steps must be >= 0; got {self.critic_steps}")
        if not self.critic_lr > 0:
            raise ValueError(f"critic_lr must be > 0; got {self.critic_lr}")
        if not 0 <= self.coral_mask_ratio < 1:
            raise ValueError(f"coral_mask_ratio must be in [0, 1); got {self.coral_mask_ratio}")
        for name in ("coral_ortho_weight", "coral_unique_weight", "coral_shared_weight"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0; got {getattr(self, name)}")


@dataclass(frozen=True)
class MethodContext:
    """What a method needs to know of the model and data to build its own small parts."""

    dim: int  # width of the fused representation
    projection_dim: int  # width of the model's projection head output
    num_classes: dict[str, int]  # classes of each label (the supervised bound uses one)
    data_kind: str = "vector"  # "vector" or "image"


@dataclass
class Batch:
    """A training batch: both modalities, its labels, and how to draw an augmented view.

    ``augment(x1, x2)`` returns a freshly, independently augmented pair (each modality augmented
    on its own). ``progress`` is the fraction of training done, in [0, 1] (for ramps).
    """

    x1: Tensor
    x2: Tensor
    labels: dict[str, Tensor] = field(default_factory=dict)
    augment: Augment = identity_augment
    progress: float = 0.0

    def view(self) -> tuple[Tensor, Tensor]:
        """One augmented view of the batch."""
        return self.augment(self.x1, self.x2)


@dataclass
class LossOutput:
    """The scalar loss to minimise and its logged parts, for curves.

    A part is a float or a detached 0-d tensor: the trainer turns tensors into floats once per
    log interval (one host transfer for many steps), so a method need not sync every step.
    """

    loss: Tensor
    parts: Mapping[str, float | Tensor] = field(default_factory=dict)


class Method(nn.Module):
    """Base class: subclasses set ``name`` and implement ``forward(batch, model)``."""

    name: str = ""
    #: False for baselines that are not trained (the random network).
    trainable: bool = True

    def forward(self, batch: Batch, model: FusionModel) -> LossOutput:  # pragma: no cover
        raise NotImplementedError

    def represent(self, model: FusionModel, x1: Tensor, x2: Tensor) -> Tensor:
        """Representation (B, D) that probes read; the fused CLS output by default."""
        return model(x1, x2)

    def build(self, model: FusionModel) -> None:
        """Create parameters shaped after the model (e.g. second encoders); none by default.

        The trainer calls it once, after construction and before the optimiser is made.
        """
        return None

    def inner_step(self, batch: Batch, model: FusionModel) -> None:
        """Optional work before the main step (e.g. fitting CLUB critics); none by default."""
        return None
