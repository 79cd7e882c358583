"""Random lower bound: the shared network at its random initialisation, never trained.

What a randomly initialised encoder already makes linearly usable; ``trainable = False`` tells
the trainer to skip optimisation. Its representation is the fused CLS output (B, dim).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from synergy_lab.methods.base import Batch, LossOutput, Method, MethodContext, check_settings
from synergy_lab.models import FusionModel


@dataclass(frozen=True)
class UntrainedSettings:
    """The untrained network has no settings of its own ([method.random] stays empty)."""


class Untrained(Method):
    """No loss to minimise: calling it returns a constant zero loss and touches nothing."""

    name = "random"
    trainable = False

    settings_class = UntrainedSettings

    def __init__(self, settings: UntrainedSettings, context: MethodContext) -> None:
        super().__init__()
        check_settings(settings, UntrainedSettings, self.name)

    def forward(self, batch: Batch, model: FusionModel) -> LossOutput:
        return LossOutput(loss=torch.zeros((), device=batch.x1.device))
