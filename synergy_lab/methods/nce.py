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


class _NTXent(torch.autograd.Function):
    """Symmetric NT-Xent of stacked normalised views ``z`` (2B, P), with a hand-written backward.

    Autograd through cross-entropy makes about a dozen passes over the (2B, 2B) similarities
    (log-softmax, its backward, the NLL one-hot, the in-place mask's copy); here the forward
    keeps only the softmax P (one fused kernel) and the backward is two matmuls:
    dL/dz = (P z + P^T z - 2 z_pos) / (2B tau), z_pos the positives (the other view's rows).
    On CUDA under autocast it runs in float32 (``custom_fwd``), like the cross-entropy it replaces.
    """

    @staticmethod
    @torch.amp.custom_fwd(device_type="cuda", cast_inputs=torch.float32)
    def forward(ctx: Any, z: Tensor, temperature: float) -> Tensor:
        rows = z.shape[0]
        sim = (z / temperature) @ z.T  # (2B, 2B)
        sim.fill_diagonal_(float("-inf"))
        log_prob = torch.log_softmax(sim, dim=1)
        del sim
        positive = torch.arange(rows, device=z.device).roll(rows // 2)
        loss = -log_prob[torch.arange(rows, device=z.device), positive].mean()
        ctx.save_for_backward(z, log_prob.exp_())  # the softmax P, in place
        ctx.temperature = temperature
        return loss

    @staticmethod
    @torch.amp.custom_bwd(device_type="cuda")
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        z, prob = ctx.saved_tensors
        grad_z = prob @ z
        grad_z.addmm_(prob.T, z)
        grad_z.sub_(z.roll(z.shape[0] // 2, dims=0), alpha=2)
        return grad_z * (grad / (z.shape[0] * ctx.temperature)), None


def nt_xent(a: Tensor, b: Tensor, temperature: float = 0.1) -> Tensor:
    """Symmetric NT-Xent with negatives from both views (SimCLR); mean over the 2B anchors; nats.

    ``a``, ``b``: (B, P), normalised inside. The loss of anchor i is -log P[i, pos(i)], P the
    row softmax of the similarities / tau with the diagonal masked (:class:`_NTXent`: one
    softmax pass forward, two matmuls backward). -log of the positive's probability keeps the
    loss accurate to float rounding in absolute terms (about 1e-7 nats), small losses included.
    """
    z = F.normalize(torch.cat([a, b], dim=0), dim=-1)  # (2B, P)
    loss: Tensor = _NTXent.apply(z, temperature)
    return loss
