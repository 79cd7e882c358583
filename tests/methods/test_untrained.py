"""The random bound and the registry."""

from __future__ import annotations

import torch

from synergy_lab.methods import METHODS
from synergy_lab.methods.base import Batch, Method, MethodContext
from synergy_lab.methods.untrained import UntrainedSettings
from synergy_lab.models import FusionModel, ModelConfig

TINY = ModelConfig(dim=8, depth=1, heads=2, vector_tokens=2, encoder_hidden=16, projection_dim=6)
CONTEXT = MethodContext(dim=8, projection_dim=6, num_classes={"S": 2})


def test_random_is_not_trainable_and_represents_the_fused_output() -> None:
    torch.manual_seed(0)
    model = FusionModel(((5,), (4,)), TINY).eval()
    method = METHODS["random"](UntrainedSettings(), CONTEXT)
    assert method.trainable is False
    assert list(method.parameters()) == []
    x1, x2 = torch.randn(3, 5), torch.randn(3, 4)
    out = method(Batch(x1=x1, x2=x2), model)
    assert out.loss.item() == 0.0 and not out.loss.requires_grad
    torch.testing.assert_close(method.represent(model, x1, x2), model(x1, x2))


def test_registry_names_match_the_classes() -> None:
    for name in ("random", "clip", "crossself", "comm", "supervised"):
        assert name in METHODS
    for name, cls in METHODS.items():
        assert issubclass(cls, Method)
        assert cls.name == name
        assert cls.trainable == (name != "random")
