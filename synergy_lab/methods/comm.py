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
from typing import Any, NamedTuple

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
from synergy_lab.methods.nce import MIN_FUSED_TEMPERATURE, nt_xent
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


# CoMM's five NT-Xent terms as (anchor set x, anchor set y) pairs over the six stacked sets
# [z'_1, z''_1, z'_2, z''_2, z'_12, z''_12]: L_1 = (t0 + t1) / 2, L_2 = (t2 + t3) / 2, L_12 = t4.
# Term t pairs set t (the first five) with set 5 - t % 2 (5, 4, 5, 4, 5).


def _term_y(device: torch.device) -> Tensor:
    """Indices (5,) of the y set of each term, made on ``device`` (no host-to-device copy)."""
    return 5 - torch.arange(5, device=device) % 2


class _CommNTXent(torch.autograd.Function):
    """CoMM's five NT-Xent terms (5,) from the six stacked unit sets ``z`` (6, B, P), in nats.

    The five (2B, 2B) similarity matrices share blocks: each set's own (B, B) block serves every
    term it is in, and a term's cross block serves both its anchor sets (as it and its
    transpose), so 11 blocks of exp(z z^T / tau) are computed instead of 20: six own blocks
    (diagonal zeroed) and five cross blocks (diagonal = the positives), each as one batched
    matmul. Needs tau >= ``MIN_FUSED_TEMPERATURE`` (no max subtraction, as :class:`_NTXent`).
    The loss of an anchor is log(1 + negatives / positive). Backward, with a_i = dL / d(log
    denominator of anchor i): every block M of rows u, columns w gives u's gradient
    (a_u M w + M (a_w w)) / tau, again batched matmuls; the positives add -2 g / (2B tau).
    """

    @staticmethod
    @torch.amp.custom_fwd(device_type="cuda", cast_inputs=torch.float32)
    def forward(ctx: Any, z: Tensor, temperature: float) -> Tensor:
        y_index = _term_y(z.device)
        x, y = z[:5], z[y_index]  # (5, B, P) each
        scaled = z / temperature
        own = torch.bmm(scaled, z.transpose(1, 2)).exp_()  # (6, B, B)
        own.diagonal(dim1=1, dim2=2).zero_()
        own_sums = own.sum(dim=2)  # (6, B): each anchor's negatives within its own set
        cross = torch.bmm(scaled[:5], y.transpose(1, 2)).exp_()  # (5, B, B)
        positive = cross.diagonal(dim1=1, dim2=2).clone()  # (5, B)
        cross.diagonal(dim1=1, dim2=2).zero_()
        negatives_x = own_sums[:5] + cross.sum(dim=2)  # anchors x_i (rows)
        negatives_y = own_sums[y_index] + cross.sum(dim=1)  # anchors y_i (columns)
        cross.diagonal(dim1=1, dim2=2).copy_(positive)
        ctx.save_for_backward(z, x, y, own, cross, negatives_x + positive, negatives_y + positive)
        ctx.temperature = temperature
        losses = torch.log1p(negatives_x / positive) + torch.log1p(negatives_y / positive)
        return losses.mean(dim=1) / 2  # (5,): the mean over a term's 2B anchors

    @staticmethod
    @torch.amp.custom_bwd(device_type="cuda")
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        z, x, y, own, cross, total_x, total_y = ctx.saved_tensors
        tau, batch = ctx.temperature, z.shape[1]
        y_index = _term_y(z.device)
        weight = grad.unsqueeze(1) / (2 * batch)  # (5, 1): d total / d (anchor's loss)
        a_x, a_y = weight / total_x, weight / total_y  # (5, B)
        a_own = torch.zeros(z.shape[:2], dtype=z.dtype, device=z.device)
        a_own[:5] += a_x
        a_own.index_add_(0, y_index, a_y)  # (6, B)

        def through(block: Tensor, rows_a: Tensor, cols: Tensor, cols_a: Tensor) -> Tensor:
            both = torch.bmm(block, torch.cat([cols, cols * cols_a.unsqueeze(2)], dim=2))
            width = cols.shape[2]
            return both[..., :width] * rows_a.unsqueeze(2) + both[..., width:]

        grad_z = through(own, a_own, z, a_own)
        grad_x = through(cross, a_x, y, a_y) - 2 * weight.unsqueeze(2) * y
        grad_y = through(cross.transpose(1, 2), a_y, x, a_x) - 2 * weight.unsqueeze(2) * x
        grad_z[:5] += grad_x
        grad_z.index_add_(0, y_index, grad_y)
        return grad_z / tau, None


def comm_losses_fused(z: Tensor, temperature: float) -> tuple[Tensor, Tensor, Tensor]:
    """L_1, L_2, L_12 (nats) from the six stacked unit sets [z'_1, z''_1, z'_2, z''_2, z'_12,
    z''_12] (6, B, P): :func:`comm_losses` in one pass (:class:`_CommNTXent`).

    Needs ``temperature`` >= ``MIN_FUSED_TEMPERATURE``.
    """
    terms = _CommNTXent.apply(z, temperature)
    return (terms[0] + terms[1]) / 2, (terms[2] + terms[3]) / 2, terms[4]


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
    if temperature >= MIN_FUSED_TEMPERATURE:
        l1, l2, l12 = comm_losses_fused(projected.view(6, batch, -1), temperature)
    else:
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
