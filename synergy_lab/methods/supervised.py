"""Supervised reference: the shared network plus a linear classifier, trained with cross-entropy.

Trained on one label (``settings.label``) of the task, or with ``label = "all"`` on every label
at once (one linear head per label, the mean of their cross-entropies), so that one model is the
reference of each label; the fused CLS output (B, dim) is what probes read, so it shows how much
of a label the architecture can make linearly usable when told what to look for.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from synergy_lab.methods.base import Batch, LossOutput, Method, MethodContext, check_settings
from synergy_lab.models import FusionModel

#: ``[method.supervised] label`` that trains one reference on every label of the task.
ALL_LABELS = "all"


@dataclass(frozen=True)
class SupervisedSettings:
    """Settings of the supervised reference ([method.supervised])."""

    #: the label it is trained on; "all" (the default) trains one head per label, so that one
    #: model is the reference, and the gate, of every label; a label the data lacks falls back
    #: to the task's first label
    label: str = ALL_LABELS


class Supervised(Method):
    """Cross-entropy (nats) of a linear head on the fused representation of one augmented view."""

    name = "supervised"
    settings_class = SupervisedSettings

    def __init__(self, settings: SupervisedSettings, context: MethodContext) -> None:
        super().__init__()
        check_settings(settings, SupervisedSettings, self.name)
        if settings.label != ALL_LABELS and settings.label not in context.num_classes:
            raise ValueError(
                f"[method.supervised] label {settings.label!r} is not a label of the data; "
                f"its labels: {', '.join(context.num_classes)} (or {ALL_LABELS!r})"
            )
        self.label = settings.label
        if self.label == ALL_LABELS:
            self.labels = tuple(context.num_classes)
            self.heads = nn.ModuleDict(
                {name: nn.Linear(context.dim, k) for name, k in context.num_classes.items()}
            )
        else:  # one label: the single classifier of earlier checkpoints
            self.labels = (self.label,)
            self.classifier = nn.Linear(context.dim, context.num_classes[self.label])

    def _head(self, label: str) -> nn.Module:
        return self.heads[label] if self.label == ALL_LABELS else self.classifier

    def forward(self, batch: Batch, model: FusionModel) -> LossOutput:
        missing = [name for name in self.labels if name not in batch.labels]
        if missing:
            raise ValueError(f"the batch has no label {missing[0]!r} ([method.supervised] label)")
        z = model(*batch.view())
        losses, correct = [], []
        for name in self.labels:
            logits = self._head(name)(z)
            target = batch.labels[name]
            losses.append(F.cross_entropy(logits, target))
            correct.append((logits.argmax(dim=1) == target).float().mean())
        loss = torch.stack(losses).mean()  # nats: the mean over the labels trained on
        accuracy = torch.stack(correct).mean().detach()
        return LossOutput(loss=loss, parts={"accuracy": accuracy})
