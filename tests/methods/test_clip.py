"""CLIP: cross-modal InfoNCE of the unimodal embeddings against a loop; representation shape."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from synergy_lab.methods import METHODS
from synergy_lab.methods.base import Batch, MethodContext
from synergy_lab.methods.clip import (
    CLIP,
    CLIPSettings,
    concat_unimodal,
    fuse_unimodal,
    unimodal_fused,
)
from synergy_lab.models import FusionModel, ModelConfig

TINY = ModelConfig(dim=8, depth=1, heads=2, vector_tokens=2, encoder_hidden=16, projection_dim=6)
CONTEXT = MethodContext(dim=8, projection_dim=6, num_classes={"S": 2})


def tiny_model(seed: int = 0) -> FusionModel:
    torch.manual_seed(seed)
    return FusionModel(((5,), (4,)), TINY)


def info_nce_loop(a: torch.Tensor, b: torch.Tensor, tau: float) -> float:
    za = F.normalize(a.double(), dim=-1).tolist()
    zb = F.normalize(b.double(), dim=-1).tolist()
    n = len(za)

    def sim(x: list[float], y: list[float]) -> float:
        return sum(u * v for u, v in zip(x, y, strict=True)) / tau

    def one_way(x: list[list[float]], y: list[list[float]]) -> float:
        return (
            sum(
                math.log(sum(math.exp(sim(x[i], y[j])) for j in range(n))) - sim(x[i], y[i])
                for i in range(n)
            )
            / n
        )

    return (one_way(za, zb) + one_way(zb, za)) / 2


def batch(n: int = 6, seed: int = 1) -> Batch:
    gen = torch.Generator().manual_seed(seed)
    return Batch(x1=torch.randn(n, 5, generator=gen), x2=torch.randn(n, 4, generator=gen))


def test_clip_loss_is_cross_modal_info_nce_of_unimodal_projections() -> None:
    model = tiny_model()
    b = batch()
    loss = CLIP(CLIPSettings(temperature=0.3), CONTEXT)(b, model).loss
    t1, t2 = model.tokens(b.x1, b.x2)
    p1 = model.project(model.fuse(t1, None))
    p2 = model.project(model.fuse(None, t2))
    assert loss.item() == pytest.approx(info_nce_loop(p1, p2, 0.3), rel=1e-5)


def test_clip_representation_concatenates_the_unimodal_outputs() -> None:
    model = tiny_model().eval()
    b = batch()
    z = METHODS["clip"](CLIPSettings(), CONTEXT).represent(model, b.x1, b.x2)
    assert z.shape == (6, 16)
    h1, h2 = unimodal_fused(model, b.x1, b.x2)
    torch.testing.assert_close(z, torch.cat([h1, h2], dim=1))
    torch.testing.assert_close(concat_unimodal(model, b.x1, b.x2), z)
    # the first half depends on modality 1 only
    other = concat_unimodal(model, b.x1, torch.randn(6, 4))
    torch.testing.assert_close(other[:, :8], z[:, :8])


def test_clip_gradient_reaches_every_parameter_but_the_mask_token() -> None:
    model = tiny_model()
    CLIP(CLIPSettings(), CONTEXT)(batch(), model).loss.backward()
    for name, param in model.named_parameters():
        if name == "mask_token":
            assert param.grad is None
        else:
            assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_fuse_unimodal_batches_equal_lengths_and_matches_separate_calls() -> None:
    model = tiny_model().eval()
    t1, t2 = model.tokens(torch.randn(6, 5), torch.randn(6, 4))
    batched = fuse_unimodal(model, [t1, t2, t1[:2]])
    assert [h.shape for h in batched] == [(6, 8), (6, 8), (2, 8)]
    torch.testing.assert_close(batched[0], model.fuse(t1, None))
    torch.testing.assert_close(batched[1], model.fuse(None, t2))
    torch.testing.assert_close(batched[2], model.fuse(t1[:2], None))
    # sequences of different lengths (a vector and an image modality) are fused one by one
    torch.manual_seed(0)
    mixed = FusionModel(((5,), (3, 8, 8)), TINY).eval()
    v, img = mixed.tokens(torch.randn(3, 5), torch.rand(3, 3, 8, 8))
    hv, himg = fuse_unimodal(mixed, [v, img])
    torch.testing.assert_close(hv, mixed.fuse(v, None))
    torch.testing.assert_close(himg, mixed.fuse(None, img))
