"""Random lower bound: the shared network at its random initialisation, never trained.

What a randomly initialised encoder already makes linearly usable; ``trainable = False`` tells
the trainer to skip optimisation. Its representation is the fused CLS output (B, dim).
"""

from __future__ import annotations

import torch

from synergy_lab.methods.base import Batch, LossOutput, Method, MethodConfig, MethodContext
from synergy_lab.models import FusionModel


class Untrained(Method):
    """No loss to minimise: calling it returns a constant zero loss and touches nothing."""

    name = "random"
    trainable = False

    def __init__(self, config: MethodConfig, context: MethodContext) -> None:
        super().__init__()

    def forward(self, batch: Batch, model: FusionModel) -> LossOutput:
        return LossOutput(loss=torch.zeros((), device=batch.x1.device))
