"""CoMM: the loss against a loop over modality subsets, gradients, representation shape."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from synergy_lab.methods import METHODS
from synergy_lab.methods.base import Batch, MethodContext
from synergy_lab.methods.comm import (
    CoMM,
    CoMMSettings,
    comm_losses,
    comm_losses_fused,
    comm_terms,
    subset_projections,
)
from synergy_lab.models import FusionModel, ModelConfig

TINY = ModelConfig(dim=8, depth=1, heads=2, vector_tokens=2, encoder_hidden=16, projection_dim=6)
CONTEXT = MethodContext(dim=8, projection_dim=6, num_classes={"S": 2})


def tiny_model(seed: int = 0) -> FusionModel:
    torch.manual_seed(seed)
    return FusionModel(((5,), (4,)), TINY)


def fixed_views(n: int = 6, seed: int = 1) -> tuple[Batch, list[tuple[torch.Tensor, torch.Tensor]]]:
    """A batch whose ``view()`` returns two fixed augmented views, in order."""
    gen = torch.Generator().manual_seed(seed)
    views = [(torch.randn(n, 5, generator=gen), torch.randn(n, 4, generator=gen)) for _ in range(2)]
    queue = list(views)
    batch = Batch(x1=torch.zeros(n, 5), x2=torch.zeros(n, 4), augment=lambda a, b: queue.pop(0))
    return batch, views


def nt_xent_loop(a: torch.Tensor, b: torch.Tensor, tau: float) -> float:
    z = F.normalize(torch.cat([a, b]).double(), dim=-1).tolist()
    n = a.shape[0]
    total = 0.0
    for i in range(2 * n):
        pos = i + n if i < n else i - n
        sims = [sum(x * y for x, y in zip(z[i], z[k], strict=True)) / tau for k in range(2 * n)]
        total += -(sims[pos] - math.log(sum(math.exp(s) for k, s in enumerate(sims) if k != i)))
    return total / (2 * n)


def test_comm_loss_equals_a_loop_over_subsets() -> None:
    model = tiny_model()
    tau = 0.2
    batch, views = fixed_views()
    out = CoMM(CoMMSettings(temperature=tau), CONTEXT)(batch, model)

    tokens = [model.tokens(*view) for view in views]
    subsets = [(True, False), (False, True), (True, True)]

    def projection(view: int, keep: tuple[bool, bool]) -> torch.Tensor:
        t1, t2 = tokens[view]
        return model.project(model.fuse(t1 if keep[0] else None, t2 if keep[1] else None))

    full = [projection(0, (True, True)), projection(1, (True, True))]
    losses = []
    for keep in subsets:
        forward = nt_xent_loop(projection(0, keep), full[1], tau)
        backward = nt_xent_loop(projection(1, keep), full[0], tau)
        losses.append((forward + backward) / 2)
    assert out.loss.item() == pytest.approx(sum(losses) / 3, rel=1e-5)
    assert [out.parts["L1"], out.parts["L2"], out.parts["L12"]] == pytest.approx(losses, rel=1e-5)


def test_comm_terms_returns_unit_full_projections_and_reuses_comm_losses() -> None:
    model = tiny_model()
    _, views = fixed_views()
    tokens_a, tokens_b = model.tokens(*views[0]), model.tokens(*views[1])
    terms = comm_terms(model, tokens_a, tokens_b, 0.1)
    assert terms.z_a.shape == terms.z_b.shape == (6, 6)
    torch.testing.assert_close(terms.z_a.norm(dim=1), torch.ones(6))
    view_a, view_b = subset_projections(model, *tokens_a), subset_projections(model, *tokens_b)
    torch.testing.assert_close(view_a[2], terms.z_a)
    expected = comm_losses(view_a, view_b, 0.1)
    torch.testing.assert_close(torch.stack([terms.l1, terms.l2, terms.l12]), torch.stack(expected))


def test_comm_gradient_reaches_every_parameter_but_the_mask_token() -> None:
    model = tiny_model()
    batch, _ = fixed_views()
    CoMM(CoMMSettings(), CONTEXT)(batch, model).loss.backward()
    for name, param in model.named_parameters():
        if name == "mask_token":
            assert param.grad is None
        else:
            assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_comm_draws_two_augmented_views_and_represents_the_fused_output() -> None:
    model = tiny_model()
    calls = []

    def augment(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        calls.append(1)
        return a + 0.1 * torch.randn_like(a), b + 0.1 * torch.randn_like(b)

    batch = Batch(x1=torch.randn(6, 5), x2=torch.randn(6, 4), augment=augment)
    method = METHODS["comm"](CoMMSettings(), CONTEXT)
    assert math.isfinite(method(batch, model).loss.item())
    assert len(calls) == 2
    model.eval()
    z = method.represent(model, batch.x1, batch.x2)
    torch.testing.assert_close(z, model(batch.x1, batch.x2))
    assert z.shape == (6, 8)


def test_comm_runs_on_images() -> None:
    torch.manual_seed(0)
    model = FusionModel(((3, 8, 8), (3, 8, 8)), TINY)
    batch = Batch(x1=torch.rand(4, 3, 8, 8), x2=torch.rand(4, 3, 8, 8))
    loss = CoMM(CoMMSettings(), CONTEXT)(batch, model).loss
    assert loss.ndim == 0 and math.isfinite(loss.item())


@pytest.mark.parametrize("tau", [0.025, 0.1, 0.5])
def test_fused_comm_losses_equal_five_nt_xent_terms_with_their_gradients(tau: float) -> None:
    # the 11 shared blocks against comm_losses (five separate NT-Xent terms), in float64
    gen = torch.Generator().manual_seed(1)
    raw = torch.randn(6, 7, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    z = torch.nn.functional.normalize(raw, dim=-1)
    sets = z.unbind(0)  # z'_1, z''_1, z'_2, z''_2, z'_12, z''_12
    got = comm_losses_fused(z, tau)
    want = comm_losses((sets[0], sets[2], sets[4]), (sets[1], sets[3], sets[5]), tau)
    torch.testing.assert_close(torch.stack(got), torch.stack(want), rtol=1e-12, atol=0)
    weights = (0.7, -1.3, 2.0)
    (fused_grad,) = torch.autograd.grad(
        sum(w * loss for w, loss in zip(weights, got, strict=True)), raw, retain_graph=True
    )
    (loop_grad,) = torch.autograd.grad(
        sum(w * loss for w, loss in zip(weights, want, strict=True)), raw
    )
    torch.testing.assert_close(fused_grad, loop_grad, rtol=1e-10, atol=1e-13)


def test_comm_below_the_fused_temperature_uses_the_separate_terms() -> None:
    model = tiny_model()
    _, views = fixed_views()
    tokens_a, tokens_b = model.tokens(*views[0]), model.tokens(*views[1])
    terms = comm_terms(model, tokens_a, tokens_b, 0.02)
    view_a, view_b = subset_projections(model, *tokens_a), subset_projections(model, *tokens_b)
    expected = comm_losses(view_a, view_b, 0.02)
    torch.testing.assert_close(torch.stack([terms.l1, terms.l2, terms.l12]), torch.stack(expected))
