"""CoMM: contrastive multimodal learning that aligns the fused representation across views.

Dufumier, Castillo-Navarro et al., ICLR 2025, "What to align in multimodal contrastive
learning?". Two augmentations of every sample (each modality augmented on its own); the same
fusion network embeds each modality subset {1}, {2}, {1, 2}. With Z', Z'' the normalised
projections of the full fusion under the two augmentations and z'_i, z''_i those of subset i,
  L_i = (NT-Xent(z'_i, Z'') + NT-Xent(z''_i, Z')) / 2,   loss = mean_i L_i   (nats),
so each unimodal embedding is pulled towards the multimodal one (redundancy and uniqueness) and
the two multimodal views towards each other (which is where synergy can enter). For the full
subset both halves of L_12 are the same symmetric NT-Xent, computed once. The probed
representation is the fused CLS output of both modalities (B, dim).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from synergy_lab.methods.base import (
    Batch,
    LossOutput,
    Method,
    MethodContext,
    TemperatureSettings,
    check_settings,
)
from synergy_lab.methods.clip import fuse_unimodal
from synergy_lab.methods.nce import nt_xent
from synergy_lab.models import FusionModel


class CommTerms(NamedTuple):
    """CoMM's three subset losses (scalars, nats) and the full-fusion projections (B, P)."""

    l1: Tensor  # subset {1}
    l2: Tensor  # subset {2}
    l12: Tensor  # subset {1, 2}: NT-Xent(Z', Z'')
    z_a: Tensor  # Z': normalised projection of the full fusion, first augmentation
    z_b: Tensor  # Z'': the same for the second augmentation


def subset_projections(
    model: FusionModel, tokens1: Tensor, tokens2: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """Normalised projections (B, P) of the fused subsets {1}, {2}, {1, 2} of one view's tokens."""

    def project(t1: Tensor | None, t2: Tensor | None) -> Tensor:
        return F.normalize(model.project(model.fuse(t1, t2)), dim=-1)

    return project(tokens1, None), project(None, tokens2), project(tokens1, tokens2)


def comm_losses(
    view_a: tuple[Tensor, Tensor, Tensor],
    view_b: tuple[Tensor, Tensor, Tensor],
    temperature: float,
) -> tuple[Tensor, Tensor, Tensor]:
    """L_1, L_2, L_12 (nats) from the subset projections (z_1, z_2, z_12) of two augmentations.

    L_i = (NT-Xent(z'_i, z''_12) + NT-Xent(z''_i, z'_12)) / 2; L_12 = NT-Xent(z'_12, z''_12).
    """
    (z1a, z2a, za), (z1b, z2b, zb) = view_a, view_b
    l1 = (nt_xent(z1a, zb, temperature) + nt_xent(z1b, za, temperature)) / 2
    l2 = (nt_xent(z2a, zb, temperature) + nt_xent(z2b, za, temperature)) / 2
    l12 = nt_xent(za, zb, temperature)
    return l1, l2, l12


def comm_terms(
    model: FusionModel,
    tokens_a: tuple[Tensor, Tensor],
    tokens_b: tuple[Tensor, Tensor],
    temperature: float,
) -> CommTerms:
    """CoMM's per-subset losses L_1, L_2, L_12 from the tokens of two augmentations.

    ``tokens_a`` = (t1', t2'), ``tokens_b`` = (t1'', t2''), each (B, L_i, dim), as returned by
    ``model.tokens`` on the two views. :func:`comm_terms_stacked` on the views stacked.
    """
    (t1a, t2a), (t1b, t2b) = tokens_a, tokens_b
    return comm_terms_stacked(model, torch.cat([t1a, t1b]), torch.cat([t2a, t2b]), temperature)


def comm_terms_stacked(
    model: FusionModel, tokens1: Tensor, tokens2: Tensor, temperature: float
) -> CommTerms:
    """CoMM's per-subset losses from both augmentations' tokens stacked view-major.

    ``tokens1`` = [t1'; t1''] (2B, L1, dim), ``tokens2`` = [t2'; t2''] (2B, L2, dim), as
    ``model.tokens_of_views`` gives them. Equal to :func:`subset_projections` per view then
    :func:`comm_losses`, but the six fusions run as two batched calls (the unimodal sequences,
    the bimodal ones; the fusion network treats samples independently) and the projection
    head as one call in which its batch norm still sees each subset and view as its own batch.
    """
    batch = tokens1.shape[0] // 2
    unimodal = fuse_unimodal(model, [tokens1, tokens2])  # [h1', h1''], [h2', h2'']
    fused = torch.cat([*unimodal, model.fuse(tokens1, tokens2)])  # (6B, dim)
    projected = F.normalize(model.project_groups(fused, 6), dim=-1)
    z1a, z1b, z2a, z2b, za, zb = projected.split(batch)
    l1, l2, l12 = comm_losses((z1a, z2a, za), (z1b, z2b, zb), temperature)
    return CommTerms(l1=l1, l2=l2, l12=l12, z_a=za, z_b=zb)


@dataclass(frozen=True)
class CoMMSettings(TemperatureSettings):
    """Settings of CoMM training ([method.comm])."""


class CoMM(Method):
    """CoMM loss, the mean of L_1, L_2, L_12 at temperature ``settings.temperature``."""

    name = "comm"
    settings_class = CoMMSettings

    def __init__(self, settings: CoMMSettings, context: MethodContext) -> None:
        super().__init__()
        check_settings(settings, CoMMSettings, self.name)
        self.temperature = settings.temperature

    def forward(self, batch: Batch, model: FusionModel) -> LossOutput:
        tokens1, tokens2 = model.tokens_of_views([batch.view(), batch.view()])
        terms = comm_terms_stacked(model, tokens1, tokens2, self.temperature)
        loss = (terms.l1 + terms.l2 + terms.l12) / 3
        parts = {"L1": terms.l1.detach(), "L2": terms.l2.detach(), "L12": terms.l12.detach()}
        return LossOutput(loss=loss, parts=parts)
