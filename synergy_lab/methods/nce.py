"""InfoNCE / NT-Xent as pure functions shared by the contrastive methods.

NT-Xent (Chen et al., SimCLR, ICML 2020): for L2-normalised a, b (B, P) with positives a_i <-> b_i,
the loss of anchor a_i is -log softmax over {b_j} u {a_j, j != i} of the similarities / tau, and the
symmetric loss averages the anchors of both views. In nats.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor


def info_nce(a: Tensor, b: Tensor, temperature: float = 0.1) -> Tensor:
    """Cross-view InfoNCE (CLIP/CMC form): a_i must pick b_i among all b_j; symmetric; nats.

    ``a``, ``b``: (B, P), normalised inside. 1/tau is folded into ``a`` before the matmul (a
    (B, P) pass instead of a (B, B) one).
    """
    a = F.normalize(a, dim=-1)
    b = F.normalize(b, dim=-1)
    logits = (a / temperature) @ b.T
    target = torch.arange(a.shape[0], device=a.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


MIN_FUSED_TEMPERATURE = 0.025  # exp(+-2 / tau) and 2B exp(2 / tau) stay finite in float32


class _NTXent(torch.autograd.Function):
    """Symmetric NT-Xent of stacked normalised views ``z`` (2B, P), with a hand-written backward.

    For unit rows and tau >= :data:`MIN_FUSED_TEMPERATURE`, E = exp(z z^T / tau) needs no max
    subtraction (entries within exp(+-40)). Forward: one matmul, one in-place exp, one row sum;
    the loss of row i is log(1 + N_i / E_i,pos), N_i the sum over its negatives (accurate for
    small losses too). Backward: with the diagonal zeroed E is symmetric, so
    dL/dz = (E z / r + E (z / r) - 2 z_pos) / (2B tau), r the row sums and z_pos the positives,
    is one matmul of E with [z, z / r]. Autograd through cross-entropy instead makes about a
    dozen passes over the (2B, 2B) similarities. On CUDA under autocast it runs in float32.
    """

    @staticmethod
    @torch.amp.custom_fwd(device_type="cuda", cast_inputs=torch.float32)
    def forward(ctx: Any, z: Tensor, temperature: float) -> Tensor:
        rows = z.shape[0]
        exp_sim = torch.mm(z / temperature, z.T).exp_()  # (2B, 2B)
        exp_sim.fill_diagonal_(0.0)
        half = rows // 2  # row i's positive is column i + B (first view) or i - B (second)
        positives = (exp_sim.diagonal(half), exp_sim.diagonal(-half))  # views
        exp_positive = torch.cat(positives)  # (2B,)
        for view in positives:
            view.zero_()
        negatives = exp_sim.sum(dim=1)
        for view, value in zip(positives, exp_positive.split(half), strict=True):
            view.copy_(value)
        ctx.save_for_backward(z, exp_sim, negatives + exp_positive)
        ctx.temperature = temperature
        return torch.log1p(negatives / exp_positive).mean()

    @staticmethod
    @torch.amp.custom_bwd(device_type="cuda")
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        z, exp_sim, row_sums = ctx.saved_tensors
        rows, width = z.shape
        inverse = row_sums.reciprocal().unsqueeze(1)  # (2B, 1)
        both = exp_sim @ torch.cat([z, z * inverse], dim=1)  # (2B, 2P): E z and E (z / r)
        grad_z = both[:, :width] * inverse + both[:, width:] - 2 * z.roll(rows // 2, dims=0)
        return grad_z * (grad / (rows * ctx.temperature)), None


def nt_xent(a: Tensor, b: Tensor, temperature: float = 0.1) -> Tensor:
    """Symmetric NT-Xent with negatives from both views (SimCLR); mean over the 2B anchors; nats.

    ``a``, ``b``: (B, P), normalised inside. At tau >= :data:`MIN_FUSED_TEMPERATURE` through
    :class:`_NTXent` (one exp pass forward, one matmul backward); below it, cross-entropy over
    the similarities / tau with the diagonal set to -inf (max-subtracted, any tau). Both keep
    small losses accurate to float rounding.
    """
    z = F.normalize(torch.cat([a, b], dim=0), dim=-1)  # (2B, P)
    if temperature >= MIN_FUSED_TEMPERATURE:
        loss: Tensor = _NTXent.apply(z, temperature)
        return loss
    n = a.shape[0]
    sim = (z / temperature) @ z.T  # (2B, 2B); the matmul keeps its inputs for backward, not this
    sim.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, target)
