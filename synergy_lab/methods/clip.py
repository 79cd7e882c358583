"""CLIP / CMC: cross-modal InfoNCE between the two unimodal embeddings.

Each modality is embedded on its own by the shared fusion network (its tokens alone, no other
modality), projected, and the two projections of a sample are the positive pair of a symmetric
InfoNCE (Radford et al., ICML 2021; Tian et al., CMC, ECCV 2020). It aligns what the modalities
share (redundancy) and, by design, cannot see synergy. The representation probed is the
concatenation of the two unimodal fused outputs, (B, 2 * dim).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from synergy_lab.methods.base import (
    Batch,
    LossOutput,
    Method,
    MethodContext,
    TemperatureSettings,
    check_settings,
)
from synergy_lab.methods.nce import info_nce
from synergy_lab.models import FusionModel


def fuse_unimodal(model: FusionModel, sequences: list[Tensor]) -> list[Tensor]:
    """The fusion network on each token sequence (B_k, L_k, dim) alone: a list of (B_k, dim).

    A single modality's tokens (modality embedding already added) are fused alike in either slot
    of ``model.fuse``, and the fusion network treats samples independently, so sequences of one
    length are stacked into a single batched call (fewer, larger kernels; same result).
    """
    if all(s.shape[1:] == sequences[0].shape[1:] for s in sequences):
        fused = model.fuse(torch.cat(sequences), None)
        return list(fused.split([s.shape[0] for s in sequences]))
    return [model.fuse(s, None) for s in sequences]


def unimodal_fused(model: FusionModel, x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    """The fusion network applied to each modality's tokens alone: two (B, dim) outputs."""
    h1, h2 = fuse_unimodal(model, list(model.tokens(x1, x2)))
    return h1, h2


def concat_unimodal(model: FusionModel, x1: Tensor, x2: Tensor) -> Tensor:
    """Concatenated unimodal fused representations (B, 2 * dim): what CLIP-like methods probe."""
    return torch.cat(unimodal_fused(model, x1, x2), dim=1)


@dataclass(frozen=True)
class CLIPSettings(TemperatureSettings):
    """Settings of CLIP-style training ([method.clip])."""


class CLIP(Method):
    """Symmetric cross-modal InfoNCE (nats) on one augmented view at ``settings.temperature``."""

    name = "clip"
    settings_class = CLIPSettings

    def __init__(self, settings: CLIPSettings, context: MethodContext) -> None:
        super().__init__()
        check_settings(settings, CLIPSettings, self.name)
        self.temperature = settings.temperature

    def forward(self, batch: Batch, model: FusionModel) -> LossOutput:
        x1, x2 = batch.view()
        h1, h2 = unimodal_fused(model, x1, x2)
        loss = info_nce(model.project(h1), model.project(h2), self.temperature)
        return LossOutput(loss=loss)

    def represent(self, model: FusionModel, x1: Tensor, x2: Tensor) -> Tensor:
        return concat_unimodal(model, x1, x2)
