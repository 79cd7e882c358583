"""COrAL: a fused path and a separate unique path per modality, kept apart by orthogonality.

Cissee, Younis, Ahmadi, "Orthogonalized Multimodal Contrastive Learning with Asymmetric Masking
for Structured Representations", arXiv 2602.14983 (2026); public code: github.com/Caro-Ci/COrAL.

Two augmented views a, b of every batch go through two paths.

* Fused path (the shared :class:`FusionModel`): per-modality tokens -> fusion transformer -> CLS
  -> projection head. Asymmetric masking: in view a every fusion token of modality 1 is zeroed
  with probability ``coral_mask_ratio`` (independently per token and sample; the rest, about
  1 - ratio of them, are kept), in view b the same for modality 2; the other modality is whole.
* Unique path (owned by this method): a second encoder per modality (same architecture as the
  model's, own weights) -> tokens -> an MLP to half the width -> attention pooling with a learned
  query -> u_m (B, dim / 2) -> a per-modality projection head.

With normalised projections f (fused) and p_m (unique, modality m) of each view, the loss in
nats is the weighted sum

    w_s NT-Xent(f_a, f_b) + w_u [NT-Xent(p1_a, p1_b) + NT-Xent(p2_a, p2_b)]
    + w_o sum_{v in a, b} [cos2(p1_v, p2_v) + cos2(p1_v, f_v) + cos2(p2_v, f_v)]

where cos2(x, y) is the batch mean of the squared cosine similarity of x_i and y_i, and NT-Xent
is SimCLR's symmetric loss at ``temperature`` (:func:`synergy_lab.methods.nce.nt_xent`). The
probed representation is [fused CLS (dim), u_1 (dim / 2), u_2 (dim / 2)], (B, 2 dim): the
unprojected outputs of both paths, as the authors' linear probes read them.

Deviations from the authors' code (commit 0aeaf24), each to fit the shared toolkit:

* Encoders, fusion transformer, token width and the fused projection head are the toolkit's
  shared model (MLP or small CNN tokenisers, pre-LayerNorm blocks, a 2-layer projection head with
  batch norm), not their AlexNet / GRU encoders, patch adapters and 3-layer heads with hidden
  width 512. The unique heads use the same 2-layer head as the fused path (theirs: 3 layers,
  hidden 512, output 256); the unique-path MLP to half width (Linear, LayerNorm, GELU, Linear) is
  theirs. Their unique tokens keep the positional embedding of their input adapter; the toolkit's
  tokens carry no position, so the unique path has none (the fused path adds only the modality
  embedding, which masking zeroes with the token, as their masking zeroes the adapted token).
* Their unique encoders (and second unique head) start as copies of the shared encoders' (first
  head's) initial weights; here every part of the unique path is initialised independently.
* The orthogonality weight defaults to 10, as in their loss default and MultiBench script; their
  Trifeatures script uses 1. ``coral_ortho_weight`` sets it.
* Optimiser, schedule, batch size, epochs and augmentations are the toolkit's (same budget for
  every method), not their AdamW at lr 1e-4, 100 epochs, batch 64.
* Not a deviation, but unlike CoMM's and InfMasking's means here: the loss is their plain sum of
  the terms (AdamW's update is nearly invariant to a constant loss scale).
* Single process: no gathering of embeddings across GPUs before the losses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from synergy_lab.methods.base import (
    Batch,
    LossOutput,
    Method,
    MethodContext,
    TemperatureSettings,
    check_at_least,
    check_settings,
)
from synergy_lab.methods.nce import nt_xent
from synergy_lab.models import AttentionPooling, FusionModel, ProjectionHead


def sample_token_keep(
    batch: int,
    length: int,
    ratio: float,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """Keep mask (batch, length), bool: each token kept independently with probability 1 - ratio.

    Unlike InfMasking's fixed count, the number kept varies per sample (it can be 0 or all).
    """
    if batch < 1 or length < 1:
        raise ValueError(f"batch and length must be >= 1; got {batch}, {length}")
    if not 0 <= ratio < 1:
        raise ValueError(f"ratio must be in [0, 1); got {ratio}")
    return torch.rand(batch, length, generator=generator, device=device) >= ratio


def squared_cosine(x: Tensor, y: Tensor) -> Tensor:
    """Batch mean of the squared cosine similarity of rows x_i, y_i; x, y: (B, P). In [0, 1]."""
    return (F.cosine_similarity(x, y, dim=-1) ** 2).mean()


class CoralTerms(NamedTuple):
    """COrAL's unweighted loss terms (scalars; NT-Xent in nats, penalties unitless)."""

    shared: Tensor  # NT-Xent(f_a, f_b)
    unique1: Tensor  # NT-Xent(p1_a, p1_b)
    unique2: Tensor  # NT-Xent(p2_a, p2_b)
    ortho_uu: Tensor  # sum over views of cos2(p1_v, p2_v)
    ortho_u1f: Tensor  # sum over views of cos2(p1_v, f_v)
    ortho_u2f: Tensor  # sum over views of cos2(p2_v, f_v)


def coral_terms(
    fused: tuple[Tensor, Tensor],
    unique1: tuple[Tensor, Tensor],
    unique2: tuple[Tensor, Tensor],
    temperature: float,
) -> CoralTerms:
    """The six terms from the projections (B, P) of views (a, b): fused, unique 1, unique 2."""
    (fa, fb), (p1a, p1b), (p2a, p2b) = fused, unique1, unique2
    return CoralTerms(
        shared=nt_xent(fa, fb, temperature),
        unique1=nt_xent(p1a, p1b, temperature),
        unique2=nt_xent(p2a, p2b, temperature),
        ortho_uu=squared_cosine(p1a, p2a) + squared_cosine(p1b, p2b),
        ortho_u1f=squared_cosine(p1a, fa) + squared_cosine(p1b, fb),
        ortho_u2f=squared_cosine(p2a, fa) + squared_cosine(p2b, fb),
    )


def coral_loss(
    terms: CoralTerms, shared_weight: float, unique_weight: float, ortho_weight: float
) -> Tensor:
    """Weighted sum of the terms: w_s shared + w_u (unique 1 + 2) + w_o (all orthogonality)."""
    return (
        shared_weight * terms.shared
        + unique_weight * (terms.unique1 + terms.unique2)
        + ortho_weight * (terms.ortho_uu + terms.ortho_u1f + terms.ortho_u2f)
    )


@dataclass(frozen=True)
class COrALSettings(TemperatureSettings):
    """Settings of COrAL ([method.coral])."""

    mask_ratio: float = 0.75  # chance a fusion token of the masked modality is zeroed
    ortho_weight: float = 10.0  # weight of the squared-cosine orthogonality terms
    unique_weight: float = 1.0  # weight of the two unique-path NT-Xent terms
    shared_weight: float = 1.0  # weight of the fused-path NT-Xent term

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = "COrALSettings"
        if not 0 <= self.mask_ratio < 1:
            raise ValueError(f"{owner}.mask_ratio must be in [0, 1); got {self.mask_ratio}")
        for name in ("ortho_weight", "unique_weight", "shared_weight"):
            check_at_least(owner, name, getattr(self, name), 0)


class COrAL(Method):
    """A fused path and a unique path per modality, kept apart by orthogonality (Cissee 2026)."""

    name = "coral"

    settings_class = COrALSettings

    def __init__(self, settings: COrALSettings, context: MethodContext) -> None:
        super().__init__()
        check_settings(settings, COrALSettings, self.name)
        if context.dim < 2 or context.dim % 2:
            raise ValueError(f"COrAL halves the model width; dim must be even; got {context.dim}")
        self.config = settings
        self.dim = context.dim
        dim, half = context.dim, context.dim // 2
        self.reduce = nn.ModuleList(
            nn.Sequential(nn.Linear(dim, dim), nn.LayerNorm(dim), nn.GELU(), nn.Linear(dim, half))
            for _ in range(2)
        )
        self.pool = nn.ModuleList(AttentionPooling(half) for _ in range(2))
        self.heads = nn.ModuleList(ProjectionHead(half, context.projection_dim) for _ in range(2))
        self.unique_encoders: nn.ModuleList | None = None

    def build(self, model: FusionModel) -> None:
        """The unique path's encoders: one fresh copy of the model's encoder per modality."""
        if model.dim != self.dim:
            raise ValueError(f"model width {model.dim} differs from the context's {self.dim}")
        self.unique_encoders = model.new_encoders()

    def unique_embeddings(self, x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
        """Pooled unique-path embeddings u_1, u_2, each (B, dim / 2); never masked."""
        if self.unique_encoders is None:
            raise RuntimeError("COrAL.build(model) must be called before use (the trainer does)")
        out = []
        for m, x in enumerate((x1, x2)):
            tokens = self.reduce[m](self.unique_encoders[m](x))  # (B, L_m, dim / 2)
            out.append(self.pool[m](tokens))
        return out[0], out[1]

    def _fused_masked(
        self, model: FusionModel, view_a: tuple[Tensor, Tensor], view_b: tuple[Tensor, Tensor]
    ) -> tuple[Tensor, Tensor]:
        """Normalised fused projections (B, P) of view a (modality 1 masked) and b (modality 2).

        Both views run through the transformer as one batch; the projection head (batch norm)
        sees each view as its own batch.
        """
        (t1a, t2a), (t1b, t2b) = model.tokens(*view_a), model.tokens(*view_b)
        batch, ratio, device = t1a.shape[0], self.config.mask_ratio, t1a.device
        keep1 = torch.ones(2 * batch, t1a.shape[1], dtype=torch.bool, device=device)
        keep2 = torch.ones(2 * batch, t2a.shape[1], dtype=torch.bool, device=device)
        keep1[:batch] = sample_token_keep(batch, t1a.shape[1], ratio, device=device)
        keep2[batch:] = sample_token_keep(batch, t2b.shape[1], ratio, device=device)
        fused = model.fuse(
            torch.cat([t1a, t1b]), torch.cat([t2a, t2b]), keep1, keep2, fill="zero"
        ).split(batch)
        fa, fb = (F.normalize(model.project(h), dim=-1) for h in fused)
        return fa, fb

    def forward(self, batch: Batch, model: FusionModel) -> LossOutput:
        cfg = self.config
        view_a, view_b = batch.view(), batch.view()
        fused = self._fused_masked(model, view_a, view_b)
        projected = []
        for view in (view_a, view_b):
            u = self.unique_embeddings(*view)
            projected.append([F.normalize(self.heads[m](u[m]), dim=-1) for m in range(2)])
        unique1 = (projected[0][0], projected[1][0])
        unique2 = (projected[0][1], projected[1][1])
        terms = coral_terms(fused, unique1, unique2, cfg.temperature)
        loss = coral_loss(terms, cfg.shared_weight, cfg.unique_weight, cfg.ortho_weight)
        parts = {name: value.detach() for name, value in terms._asdict().items()}
        return LossOutput(loss=loss, parts=parts)

    def represent(self, model: FusionModel, x1: Tensor, x2: Tensor) -> Tensor:
        """[fused CLS (dim), u_1 (dim / 2), u_2 (dim / 2)]: (B, 2 dim)."""
        return torch.cat([model(x1, x2), *self.unique_embeddings(x1, x2)], dim=1)
