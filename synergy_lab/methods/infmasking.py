"""InfMasking: CoMM plus contrast between unmasked and randomly masked fused views.

Wen et al., "InfMasking: Unleashing Synergistic Information by Contrastive Multimodal
Interactions" (NeurIPS 2025, arXiv 2509.25270), built on CoMM (Dufumier et al., ICLR 2025).

After the encoders, each sample keeps a random ``floor(L_m (1 - rho))`` of the L_m tokens of each
modality m (the rest become the learned mask token; the CLS token is never masked) and the
transformer fuses what is left. T such masked fused views per augmentation are projected and
L2-normalised into k_1..k_T (T, B, P); q (B, P) is the normalised projection of the unmasked fused
view of the same augmentation. Treating the masked embeddings of sample i as Gaussian with mean
mu_i and covariance Sigma_i (estimated from the T masks), the expectation of the InfoNCE over
infinitely many masks is bounded in closed form (the paper's InfMasking loss), per anchor i:

    L_mask(i) = -q_i.mu_i / tau
                + log( exp(q_i.mu_i / tau + lambda q_i^T Sigma_i q_i / (2 tau^2))
                       + sum_t sum_{j != i} exp(q_i.k_{t,j} / tau)
                       + sum_{j != i} exp(q_i.q_j / tau) )

in nats. The negatives are exactly these in the authors' public code (every masked view of every
other sample, plus the other samples' unmasked views); Sigma_i is the population (1/T) covariance
of the T masked views, as there. lambda ramps linearly from 0 to ``mask_lambda`` over the first
``mask_ramp`` fraction of training (the authors ramp over all epochs; ``mask_ramp=1`` gives that).
The total loss is the mean of [w L_mask(aug 1), w L_mask(aug 2), L_1, L_2, L_12] with CoMM's
terms L_S (see :mod:`synergy_lab.methods.comm`) and w = ``mask_weight``.
``gaussian_closed_form=False`` is the ablation that replaces the closed form by the plain average
over the T masks of the same InfoNCE with k_{t,i} as the positive. A ``mask_ratio`` that would
keep no token of a modality is rejected (ValueError at the first step: token counts are only
known from the data).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from synergy_lab.methods.base import (
    Batch,
    LossOutput,
    Method,
    MethodContext,
    TemperatureSettings,
    check_at_least,
    check_settings,
)
from synergy_lab.methods.comm import comm_terms_stacked
from synergy_lab.models import FusionModel


def kept_tokens(length: int, ratio: float) -> int:
    """Tokens kept out of ``length`` at mask ratio ``ratio``: floor(length (1 - ratio)).

    A 1e-9 slack keeps exact products (e.g. 10 * (1 - 0.9)) from rounding one token down.
    """
    if length < 1:
        raise ValueError(f"length must be >= 1; got {length}")
    if not 0 < ratio < 1:
        raise ValueError(f"ratio must be in (0, 1); got {ratio}")
    return int(math.floor(length * (1.0 - ratio) + 1e-9))


def sample_keep_masks(
    batch: int,
    length: int,
    ratio: float,
    num_masks: int,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """Random keep masks (num_masks, batch, length), bool, True = token kept.

    Every row keeps exactly ``kept_tokens(length, ratio)`` tokens, a uniformly random subset drawn
    independently per mask and sample (all rows at once: ranks of uniform noise).
    """
    if batch < 1:
        raise ValueError(f"batch must be >= 1; got {batch}")
    if num_masks < 1:
        raise ValueError(f"num_masks must be >= 1; got {num_masks}")
    keep = kept_tokens(length, ratio)
    noise = torch.rand(num_masks, batch, length, generator=generator, device=device)
    ranks = noise.argsort(dim=-1).argsort(dim=-1)
    return ranks < keep


def masked_fused_views(
    model: FusionModel, tokens1: Tensor, tokens2: Tensor, keep1: Tensor, keep2: Tensor
) -> Tensor:
    """Fused CLS outputs (T, B, dim) of T masked copies of the batch, in one transformer pass.

    ``tokens*``: (B, L_m, dim); ``keep*``: (T, B, L_m) from :func:`sample_keep_masks`. As if the
    tokens were repeated T times along the batch axis (mask-major) and fused; with one block
    :meth:`FusionModel.fuse_masked` shares the per-token work across the T masks.
    """
    return model.fuse_masked(tokens1, tokens2, keep1, keep2)


def ramped_lambda(progress: float, max_lambda: float, ramp: float) -> float:
    """lambda at training fraction ``progress``: linear from 0 to ``max_lambda`` over ``ramp``."""
    if ramp <= 0:
        return max_lambda
    return max_lambda * min(1.0, max(0.0, progress) / ramp)


def _check_views(q: Tensor, k: Tensor, temperature: float) -> None:
    if q.ndim != 2 or k.ndim != 3 or k.shape[1:] != q.shape:
        raise ValueError(
            f"q must be (B, P) and k (T, B, P); got {tuple(q.shape)}, {tuple(k.shape)}"
        )
    if q.shape[0] < 2:
        raise ValueError("the masked InfoNCE needs a batch of at least 2 (negatives)")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0; got {temperature}")


def _negative_lse(q: Tensor, k: Tensor, temperature: float) -> Tensor:
    """logsumexp (B,) of each anchor q_i's negative logits: q_i.k_{t,j} and q_i.q_j for j != i.

    One matmul of q / tau against the stacked [k_1; ..; k_T; q] (T B + B, P), the j = i entries
    of every block set to -inf in place, one logsumexp over the (T + 1) B columns.
    """
    num_masks, batch, dim = k.shape
    keys = torch.cat([k.reshape(num_masks * batch, dim), q])  # (T B + B, P)
    logits = (q / temperature) @ keys.T  # (B, (T + 1) B)
    same = torch.eye(batch, dtype=torch.bool, device=q.device)
    logits.view(batch, num_masks + 1, batch).masked_fill_(same.unsqueeze(1), float("-inf"))
    return torch.logsumexp(logits, dim=1)


def gaussian_masked_nce(q: Tensor, k: Tensor, lam: float, temperature: float) -> Tensor:
    """InfMasking's closed-form masked InfoNCE (Wen et al. 2025), mean over the B anchors; nats.

    ``q``: (B, P) normalised unmasked views (anchors); ``k``: (T, B, P) normalised masked views.
    mu_i and Sigma_i are the mean and population covariance of k_{1..T, i}; the covariance only
    enters as q_i^T Sigma_i q_i = mean_t (q_i.(k_{t,i} - mu_i))^2, so no P x P matrix is formed.
    """
    _check_views(q, k, temperature)
    if lam < 0:
        raise ValueError(f"lam must be >= 0; got {lam}")
    mean = k.mean(dim=0)  # (B, P)
    aligned = (q * mean).sum(dim=-1) / temperature  # q_i.mu_i / tau
    spread = (((k - mean) * q).sum(dim=-1) ** 2).mean(dim=0)  # q_i^T Sigma_i q_i
    positive = aligned + lam * spread / (2 * temperature**2)
    return (torch.logaddexp(positive, _negative_lse(q, k, temperature)) - aligned).mean()


def average_masked_nce(q: Tensor, k: Tensor, temperature: float) -> Tensor:
    """Ablation: the same InfoNCE with each k_{t,i} as positive, averaged over t and i; nats.

    Negatives as in :func:`gaussian_masked_nce`. Equals it when all T masked views coincide.
    """
    _check_views(q, k, temperature)
    positive = (k * q).sum(dim=-1) / temperature  # (T, B)
    negatives = _negative_lse(q, k, temperature)  # (B,)
    return (torch.logaddexp(positive, negatives) - positive).mean()


@dataclass(frozen=True)
class InfMaskingSettings(TemperatureSettings):
    """Settings of InfMasking ([method.infmasking]): ``temperature`` (tau) and the masking
    settings below, the paper's symbols in the comments."""

    mask_ratio: float = 0.7  # rho: fraction of each modality's tokens masked
    num_masks: int = 4  # T: masked fused views per augmentation
    mask_lambda: float = 1.0  # final weight lambda of the covariance term
    mask_ramp: float = 0.5  # fraction of training over which lambda ramps 0 -> mask_lambda
    gaussian_closed_form: bool = True  # False = plain average over the T masks (ablation)
    mask_weight: float = 1.0  # w: weight of the two L_mask terms against CoMM's L_i

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = "InfMaskingSettings"
        if not 0 < self.mask_ratio < 1:
            raise ValueError(f"{owner}.mask_ratio must be in (0, 1); got {self.mask_ratio}")
        check_at_least(owner, "num_masks", self.num_masks, 1)
        check_at_least(owner, "mask_lambda", self.mask_lambda, 0)
        if not 0 <= self.mask_ramp <= 1:
            raise ValueError(f"{owner}.mask_ramp must be in [0, 1]; got {self.mask_ramp}")
        check_at_least(owner, "mask_weight", self.mask_weight, 0)


class InfMasking(Method):
    """CoMM's loss plus contrast of unmasked with randomly masked fused views (Wen et al. 2025)."""

    name = "infmasking"
    settings_class = InfMaskingSettings

    def __init__(self, settings: InfMaskingSettings, context: MethodContext) -> None:
        super().__init__()
        check_settings(settings, InfMaskingSettings, self.name)
        self.config = settings
        self.context = context

    def _masked_views(self, model: FusionModel, t1: Tensor, t2: Tensor) -> list[Tensor]:
        """Normalised projections (T, B, P) of T masked fused views of each augmentation.

        ``t1``, ``t2``: both augmentations' tokens stacked view-major, (2B, L_m, dim), so all
        their masked views are fused in one call; the projection head (whose batch norm couples
        samples) sees each augmentation's T * B masked views as one batch.
        """
        cfg = self.config
        n = t1.shape[0]
        batch = n // 2
        for length in (t1.shape[1], t2.shape[1]):
            if kept_tokens(length, cfg.mask_ratio) == 0:
                raise ValueError(
                    f"mask_ratio={cfg.mask_ratio} keeps no token of a modality with {length} "
                    "tokens (floor(L (1 - mask_ratio)) = 0); lower mask_ratio"
                )
        keep1 = sample_keep_masks(n, t1.shape[1], cfg.mask_ratio, cfg.num_masks, device=t1.device)
        keep2 = sample_keep_masks(n, t2.shape[1], cfg.mask_ratio, cfg.num_masks, device=t2.device)
        fused = masked_fused_views(model, t1, t2, keep1, keep2)  # (T, n, dim)
        width = fused.shape[-1]
        per_view = fused.view(cfg.num_masks, 2, batch, width).transpose(0, 1)  # (2, T, B, dim)
        projected = model.project_groups(per_view.reshape(-1, width), 2)  # one batch per view
        return list(F.normalize(projected, dim=-1).view(2, cfg.num_masks, batch, -1))

    def forward(self, batch: Batch, model: FusionModel) -> LossOutput:
        cfg = self.config
        t1, t2 = model.tokens_of_views([batch.view(), batch.view()])
        terms = comm_terms_stacked(model, t1, t2, cfg.temperature)
        parts: dict[str, float | Tensor] = {
            "L1": terms.l1.detach(),
            "L2": terms.l2.detach(),
            "L12": terms.l12.detach(),
        }
        total = terms.l1 + terms.l2 + terms.l12
        lam = ramped_lambda(batch.progress, cfg.mask_lambda, cfg.mask_ramp)
        if cfg.mask_weight > 0:  # the masked views are only computed when they count
            masked_views = self._masked_views(model, t1, t2)
            for index, (q, k) in enumerate(zip((terms.z_a, terms.z_b), masked_views, strict=True)):
                if cfg.gaussian_closed_form:
                    masked = gaussian_masked_nce(q, k, lam, cfg.temperature)
                else:
                    masked = average_masked_nce(q, k, cfg.temperature)
                parts[f"mask_{index + 1}"] = masked.detach()
                total = total + cfg.mask_weight * masked
        loss = total / 5
        parts["lambda"] = lam
        return LossOutput(loss=loss, parts=parts)
