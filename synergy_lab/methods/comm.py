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
    ``model.tokens`` on the two views; tokens are computed once per view and every subset is
    fused from them. Equal to :func:`subset_projections` per view then :func:`comm_losses`, but
    the six fusions run as two batched calls (four unimodal sequences, two bimodal ones; the
    fusion network treats samples independently); the projection head, whose batch norm
    couples samples, still sees each subset and view as its own batch.
    """
    (t1a, t2a), (t1b, t2b) = tokens_a, tokens_b
    unimodal = fuse_unimodal(model, [t1a, t1b, t2a, t2b])
    full = model.fuse(torch.cat([t1a, t1b]), torch.cat([t2a, t2b])).split(t1a.shape[0])

    def project(h: Tensor) -> Tensor:
        return F.normalize(model.project(h), dim=-1)

    h1a, h1b, h2a, h2b = unimodal
    view_a = (project(h1a), project(h2a), project(full[0]))
    view_b = (project(h1b), project(h2b), project(full[1]))
    l1, l2, l12 = comm_losses(view_a, view_b, temperature)
    return CommTerms(l1=l1, l2=l2, l12=l12, z_a=view_a[2], z_b=view_b[2])


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
        tokens_a = model.tokens(*batch.view())
        tokens_b = model.tokens(*batch.view())
        terms = comm_terms(model, tokens_a, tokens_b, self.temperature)
        loss = (terms.l1 + terms.l2 + terms.l12) / 3
        parts = {"L1": terms.l1.detach(), "L2": terms.l2.detach(), "L12": terms.l12.detach()}
        return LossOutput(loss=loss, parts=parts)
