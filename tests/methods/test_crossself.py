"""Cross+Self: the sum of cross-modal InfoNCE and within-modality NT-Xent terms."""

from __future__ import annotations

import pytest
import torch

from synergy_lab.methods import METHODS
from synergy_lab.methods.base import Batch, MethodContext
from synergy_lab.methods.crossself import CrossSelf, CrossSelfSettings
from synergy_lab.methods.nce import info_nce, nt_xent
from synergy_lab.models import FusionModel, ModelConfig

TINY = ModelConfig(dim=8, depth=1, heads=2, vector_tokens=2, encoder_hidden=16, projection_dim=6)
CONTEXT = MethodContext(dim=8, projection_dim=6, num_classes={"S": 2})


def tiny_model(seed: int = 0) -> FusionModel:
    torch.manual_seed(seed)
    return FusionModel(((5,), (4,)), TINY)


def fixed_views(n: int = 6) -> tuple[Batch, list[tuple[torch.Tensor, torch.Tensor]]]:
    gen = torch.Generator().manual_seed(3)
    views = [(torch.randn(n, 5, generator=gen), torch.randn(n, 4, generator=gen)) for _ in range(2)]
    queue = list(views)
    return Batch(torch.zeros(n, 5), torch.zeros(n, 4), augment=lambda a, b: queue.pop(0)), views


def test_crossself_loss_is_cross_plus_both_self_terms() -> None:
    model = tiny_model()
    tau = 0.25
    batch, views = fixed_views()
    out = CrossSelf(CrossSelfSettings(temperature=tau), CONTEXT)(batch, model)

    def projections(view: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        t1, t2 = model.tokens(*view)
        return model.project(model.fuse(t1, None)), model.project(model.fuse(None, t2))

    (p1a, p2a), (p1b, p2b) = projections(views[0]), projections(views[1])
    cross = (info_nce(p1a, p2a, tau) + info_nce(p1b, p2b, tau)) / 2
    self1, self2 = nt_xent(p1a, p1b, tau), nt_xent(p2a, p2b, tau)
    assert out.loss.item() == pytest.approx((cross + self1 + self2).item(), rel=1e-5)
    assert out.parts == pytest.approx(
        {"cross": cross.item(), "self1": self1.item(), "self2": self2.item()}, rel=1e-5
    )


def test_crossself_gradients_and_representation() -> None:
    model = tiny_model()
    batch, _ = fixed_views()
    method = METHODS["crossself"](CrossSelfSettings(), CONTEXT)
    method(batch, model).loss.backward()
    for name, param in model.named_parameters():
        if name == "mask_token":
            assert param.grad is None
        else:
            assert param.grad is not None and param.grad.abs().sum() > 0, name
    model.eval()
    assert method.represent(model, torch.randn(3, 5), torch.randn(3, 4)).shape == (3, 16)
