"""Supervised bound: cross-entropy of a linear head on the fused output of the labelled batch."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from synergy_lab.methods import METHODS
from synergy_lab.methods.base import Batch, MethodContext
from synergy_lab.methods.supervised import Supervised, SupervisedSettings
from synergy_lab.models import FusionModel, ModelConfig

TINY = ModelConfig(dim=8, depth=1, heads=2, vector_tokens=2, encoder_hidden=16, projection_dim=6)
CONTEXT = MethodContext(dim=8, projection_dim=6, num_classes={"S": 3, "R": 2})


def tiny_model(seed: int = 0) -> FusionModel:
    torch.manual_seed(seed)
    return FusionModel(((5,), (4,)), TINY)


def labelled_batch(n: int = 9) -> Batch:
    gen = torch.Generator().manual_seed(2)
    return Batch(
        x1=torch.randn(n, 5, generator=gen),
        x2=torch.randn(n, 4, generator=gen),
        labels={"S": torch.arange(n) % 3, "R": torch.arange(n) % 2},
    )


def test_supervised_loss_is_the_cross_entropy_of_its_linear_head() -> None:
    model = tiny_model()
    batch = labelled_batch()
    method = Supervised(SupervisedSettings(label="S"), CONTEXT)
    out = method(batch, model)
    logits = method.classifier(model(batch.x1, batch.x2)).double().tolist()
    target = batch.labels["S"].tolist()
    expected = sum(
        math.log(sum(math.exp(v) for v in row)) - row[y]
        for row, y in zip(logits, target, strict=True)
    ) / len(target)
    assert out.loss.item() == pytest.approx(expected, rel=1e-5)
    assert 0 <= out.parts["accuracy"] <= 1
    assert method.classifier.out_features == 3


def test_supervised_gradients_reach_encoders_fusion_and_classifier_not_the_head() -> None:
    model = tiny_model()
    method = METHODS["supervised"](SupervisedSettings(label="R"), CONTEXT)
    method(labelled_batch(), model).loss.backward()
    for name, param in [*model.named_parameters(), *method.named_parameters()]:
        if name == "mask_token" or name.startswith("head."):
            assert param.grad is None, name
        else:
            assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_supervised_learns_a_separable_label() -> None:
    model = tiny_model()
    method = Supervised(SupervisedSettings(label="R"), CONTEXT)
    batch = labelled_batch(n=16)
    batch.x1[:, 0] += 3.0 * (2 * batch.labels["R"] - 1)
    optimizer = torch.optim.Adam([*model.parameters(), *method.parameters()], lr=1e-2)
    first = method(batch, model).loss.item()
    for _ in range(30):
        optimizer.zero_grad()
        out = method(batch, model)
        out.loss.backward()
        optimizer.step()
    assert out.loss.item() < 0.2 * first
    assert out.parts["accuracy"] == 1.0


def test_unknown_supervised_label_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"\[method.supervised\] label .Y."):
        Supervised(SupervisedSettings(label="Y"), CONTEXT)
    method = Supervised(SupervisedSettings(label="S"), CONTEXT)
    batch = Batch(x1=torch.randn(4, 5), x2=torch.randn(4, 4))
    with pytest.raises(ValueError, match=r"no label .S."):
        method(batch, tiny_model())


def test_label_all_trains_one_head_per_label_on_the_mean_cross_entropy() -> None:
    torch.manual_seed(0)
    model = FusionModel(((5,), (4,)), TINY)
    method = Supervised(SupervisedSettings(label="all"), CONTEXT)
    assert set(method.heads) == set(CONTEXT.num_classes)
    x1, x2 = torch.randn(8, 5), torch.randn(8, 4)
    labels = {k: torch.randint(0, n, (8,)) for k, n in CONTEXT.num_classes.items()}
    out = method(Batch(x1=x1, x2=x2, labels=labels), model)
    z = model(x1, x2)
    by_hand = sum(F.cross_entropy(method.heads[k](z), labels[k]) for k in labels) / len(labels)
    assert out.loss.item() == pytest.approx(by_hand.item(), rel=1e-6)
    with pytest.raises(ValueError, match="no label"):
        method(Batch(x1=x1, x2=x2, labels={"S": labels["S"]}), model)
