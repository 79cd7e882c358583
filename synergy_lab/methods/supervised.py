"""Supervised upper bound: the shared network plus a linear classifier, trained with cross-entropy.

Trained on one label (``settings.label``) of the task; the fused CLS output (B, dim) is
what probes read, so it shows how much of that label the architecture can make linearly usable
when told what to look for.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import nn

from synergy_lab.methods.base import Batch, LossOutput, Method, MethodContext, check_settings
from synergy_lab.models import FusionModel


@dataclass(frozen=True)
class SupervisedSettings:
    """Settings of the supervised reference ([method.supervised])."""

    label: str = "S"  # the label it is trained on (falls back to the task's first label)


class Supervised(Method):
    """Cross-entropy (nats) of a linear head on the fused representation of one augmented view."""

    name = "supervised"

    settings_class = SupervisedSettings

    def __init__(self, settings: SupervisedSettings, context: MethodContext) -> None:
        super().__init__()
        check_settings(settings, SupervisedSettings, self.name)
        if settings.label not in context.num_classes:
            raise ValueError(
                f"[method.supervised] label {settings.label!r} is not a label of the data; "
                f"its labels: {', '.join(context.num_classes)}"
            )
        self.label = settings.label
        self.classifier = nn.Linear(context.dim, context.num_classes[self.label])

    def forward(self, batch: Batch, model: FusionModel) -> LossOutput:
        if self.label not in batch.labels:
            raise ValueError(f"the batch has no label {self.label!r} ([method.supervised] label)")
        logits = self.classifier(model(*batch.view()))
        target = batch.labels[self.label]
        loss = F.cross_entropy(logits, target)
        accuracy = (logits.argmax(dim=1) == target).float().mean()
        return LossOutput(loss=loss, parts={"accuracy": accuracy.detach()})
