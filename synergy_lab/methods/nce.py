"""InfoNCE / NT-Xent as pure functions shared by the contrastive methods.

NT-Xent (Chen et al., SimCLR, ICML 2020): for L2-normalised a, b (B, P) with positives a_i <-> b_i,
the loss of anchor a_i is -log softmax over {b_j} u {a_j, j != i} of the similarities / tau, and the
symmetric loss averages the anchors of both views. In nats.
"""

from __future__ import annotations

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


def nt_xent(a: Tensor, b: Tensor, temperature: float = 0.1) -> Tensor:
    """Symmetric NT-Xent with negatives from both views (SimCLR); mean over the 2B anchors; nats.

    ``a``, ``b``: (B, P), normalised inside. One matmul with 1/tau folded into an operand and
    the diagonal set to -inf in place (no (2B, 2B) division, mask or copy). Cross-entropy rather
    than logsumexp minus the positive logit: it keeps small losses accurate to float rounding.
    """
    n = a.shape[0]
    z = F.normalize(torch.cat([a, b], dim=0), dim=-1)  # (2B, P)
    sim = (z / temperature) @ z.T  # (2B, 2B); the matmul keeps its inputs for backward, not this
    sim.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, target)
