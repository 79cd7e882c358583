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

    ``a``, ``b``: (B, P), normalised inside.
    """
    a = F.normalize(a, dim=-1)
    b = F.normalize(b, dim=-1)
    logits = a @ b.T / temperature
    target = torch.arange(a.shape[0], device=a.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def nt_xent(a: Tensor, b: Tensor, temperature: float = 0.1) -> Tensor:
    """Symmetric NT-Xent with negatives from both views (SimCLR); mean over the 2B anchors; nats.

    ``a``, ``b``: (B, P), normalised inside.
    """
    n = a.shape[0]
    z = F.normalize(torch.cat([a, b], dim=0), dim=-1)  # (2B, P)
    sim = z @ z.T / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, target)
