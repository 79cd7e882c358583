"""InfMasking: keep masks, batched masked views, the closed-form loss and the method."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from synergy_lab.methods import METHODS
from synergy_lab.methods.base import Batch, MethodContext
from synergy_lab.methods.infmasking import (
    InfMasking,
    InfMaskingSettings,
    average_masked_nce,
    gaussian_masked_nce,
    kept_tokens,
    masked_fused_views,
    ramped_lambda,
    sample_keep_masks,
)
from synergy_lab.methods.nce import nt_xent
from synergy_lab.models import FusionModel, ModelConfig

SMALL = ModelConfig(dim=16, depth=1, heads=2, vector_tokens=4, encoder_hidden=16, projection_dim=8)
CONTEXT = MethodContext(dim=16, projection_dim=8, num_classes={"S": 2})


def small_model(seed: int = 0) -> FusionModel:
    torch.manual_seed(seed)
    return FusionModel(((6,), (5,)), SMALL)


def small_batch(n: int = 12, progress: float = 0.5, seed: int = 1) -> Batch:
    gen = torch.Generator().manual_seed(seed)
    x1, x2 = torch.randn(n, 6, generator=gen), torch.randn(n, 5, generator=gen)

    def augment(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return a + 0.1 * torch.randn_like(a), b + 0.1 * torch.randn_like(b)

    return Batch(x1=x1, x2=x2, augment=augment, progress=progress)


def unit(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(*shape, generator=gen, dtype=torch.float64), dim=-1)


@pytest.mark.parametrize(
    ("length", "ratio", "expected"),
    [(4, 0.7, 1), (10, 0.9, 1), (10, 0.7, 3), (16, 0.5, 8), (9, 0.25, 6), (4, 0.8, 0)],
)
def test_kept_tokens_is_floor_of_the_kept_fraction(
    length: int, ratio: float, expected: int
) -> None:
    assert kept_tokens(length, ratio) == expected


@pytest.mark.parametrize(("length", "ratio"), [(4, 0.7), (16, 0.5), (10, 0.9), (7, 0.3)])
def test_keep_masks_keep_exactly_floor_tokens_per_sample(length: int, ratio: float) -> None:
    gen = torch.Generator().manual_seed(0)
    keep = sample_keep_masks(50, length, ratio, 3, generator=gen)
    assert keep.shape == (3, 50, length) and keep.dtype == torch.bool
    assert torch.all(keep.sum(dim=-1) == math.floor(length * (1 - ratio) + 1e-9))


def test_keep_masks_are_uniform_over_positions_and_differ_between_masks() -> None:
    gen = torch.Generator().manual_seed(0)
    keep = sample_keep_masks(4000, 8, 0.5, 2, generator=gen)
    frequency = keep.float().mean(dim=(0, 1))  # each position kept half the time
    assert torch.allclose(frequency, torch.full((8,), 0.5), atol=0.02)
    assert (keep[0] != keep[1]).any(dim=-1).float().mean() > 0.9


def test_batched_masked_views_equal_a_loop_over_masks() -> None:
    model = small_model()
    x1, x2 = torch.randn(5, 6), torch.randn(5, 5)
    t1, t2 = model.tokens(x1, x2)
    gen = torch.Generator().manual_seed(3)
    keep1 = sample_keep_masks(5, t1.shape[1], 0.5, 3, generator=gen)
    keep2 = sample_keep_masks(5, t2.shape[1], 0.5, 3, generator=gen)
    batched = masked_fused_views(model, t1, t2, keep1, keep2)
    looped = torch.stack([model.fuse(t1, t2, keep1[t], keep2[t]) for t in range(3)])
    assert batched.shape == (3, 5, SMALL.dim)
    torch.testing.assert_close(batched, looped, atol=1e-5, rtol=1e-5)
    # The masks matter: a different mask gives a different fused view.
    assert not torch.allclose(batched[0], model.fuse(t1, t2))


def naive_gaussian_masked_nce(q: np.ndarray, k: np.ndarray, lam: float, tau: float) -> float:
    """The closed form written out term by term, with an explicit covariance matrix."""
    num_masks, batch, _ = k.shape
    losses = []
    for i in range(batch):
        mu = k[:, i].mean(axis=0)
        sigma = sum(np.outer(k[t, i] - mu, k[t, i] - mu) for t in range(num_masks)) / num_masks
        total = math.exp(q[i] @ mu / tau + lam * (q[i] @ sigma @ q[i]) / (2 * tau**2))
        for j in range(batch):
            if j == i:
                continue
            total += math.exp(q[i] @ q[j] / tau)
            for t in range(num_masks):
                total += math.exp(q[i] @ k[t, j] / tau)
        losses.append(-q[i] @ mu / tau + math.log(total))
    return float(np.mean(losses))


@pytest.mark.parametrize(("lam", "tau"), [(0.0, 0.5), (1.0, 0.5), (0.7, 0.2)])
def test_closed_form_matches_its_formula_written_out(lam: float, tau: float) -> None:
    q, k = unit((4, 5), 0), unit((3, 4, 5), 1)
    expected = naive_gaussian_masked_nce(q.numpy(), k.numpy(), lam, tau)
    assert gaussian_masked_nce(q, k, lam, tau).item() == pytest.approx(expected, rel=1e-10)


def test_closed_form_is_stable_at_low_temperature() -> None:
    q, k = unit((6, 8), 2).float(), unit((4, 6, 8), 3).float()
    loss = gaussian_masked_nce(q, k, 1.0, 0.01)
    assert torch.isfinite(loss)
    reference = gaussian_masked_nce(q.double(), k.double(), 1.0, 0.01)
    assert loss.item() == pytest.approx(reference.item(), rel=1e-4)


def test_covariance_term_raises_the_loss_with_lambda() -> None:
    q, k = unit((5, 6), 4), unit((4, 5, 6), 5)
    losses = [gaussian_masked_nce(q, k, lam, 0.3).item() for lam in (0.0, 0.5, 1.0, 2.0)]
    assert all(a < b for a, b in zip(losses, losses[1:], strict=False))


def test_identical_masked_views_reduce_to_an_infonce() -> None:
    """Sigma = 0 when the T masked views coincide: an InfoNCE, masked negatives counted T times."""
    q, view = unit((5, 6), 6), unit((5, 6), 7)
    num_masks, tau = 3, 0.4
    k = view.expand(num_masks, -1, -1)
    logits = torch.cat(
        [
            (q * view).sum(-1, keepdim=True) / tau,
            (q @ view.T / tau + math.log(num_masks)).masked_fill(
                torch.eye(5, dtype=torch.bool), -math.inf
            ),
            (q @ q.T / tau).masked_fill(torch.eye(5, dtype=torch.bool), -math.inf),
        ],
        dim=1,
    )
    infonce = F.cross_entropy(logits, torch.zeros(5, dtype=torch.long))
    for lam in (0.0, 1.0, 5.0):
        torch.testing.assert_close(gaussian_masked_nce(q, k, lam, tau), infonce)
    torch.testing.assert_close(average_masked_nce(q, k, tau), infonce)


def test_one_mask_each_way_is_nt_xent() -> None:
    q, k = unit((7, 4), 8), unit((7, 4), 9)
    symmetric = (
        gaussian_masked_nce(q, k[None], 1.0, 0.1) + gaussian_masked_nce(k, q[None], 1.0, 0.1)
    ) / 2
    torch.testing.assert_close(symmetric, nt_xent(q, k, 0.1))


def test_average_ablation_matches_a_loop_over_masks() -> None:
    q, k = unit((4, 3), 10), unit((2, 4, 3), 11)
    tau = 0.5
    losses = []
    for t in range(2):
        for i in range(4):
            negatives = [q[i] @ k[s, j] for s in range(2) for j in range(4) if j != i]
            negatives += [q[i] @ q[j] for j in range(4) if j != i]
            scores = torch.stack([q[i] @ k[t, i], *negatives]) / tau
            losses.append(-scores[0] + torch.logsumexp(scores, dim=0))
    torch.testing.assert_close(average_masked_nce(q, k, tau), torch.stack(losses).mean())


def test_lambda_ramps_linearly_then_stays() -> None:
    assert ramped_lambda(0.0, 2.0, 0.5) == 0.0
    assert ramped_lambda(0.25, 2.0, 0.5) == pytest.approx(1.0)
    assert ramped_lambda(0.5, 2.0, 0.5) == 2.0
    assert ramped_lambda(0.9, 2.0, 0.5) == 2.0
    assert ramped_lambda(0.0, 2.0, 0.0) == 2.0


def test_gradient_reaches_the_mask_token_and_every_model_parameter() -> None:
    model = small_model()
    method = InfMasking(InfMaskingSettings(num_masks=3, mask_ratio=0.5), CONTEXT)
    out = method(small_batch(), model)
    out.loss.backward()
    assert torch.isfinite(out.loss)
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert list(method.parameters()) == []


def test_loss_is_the_mean_of_the_five_terms() -> None:
    torch.manual_seed(0)
    out = InfMasking(InfMaskingSettings(mask_weight=0.5), CONTEXT)(small_batch(), small_model())
    parts = {k: float(v) for k, v in out.parts.items()}  # detached 0-d tensors and lambda
    expected = (parts["L1"] + parts["L2"] + parts["L12"]) / 5
    expected += 0.5 * (parts["mask_1"] + parts["mask_2"]) / 5
    assert out.loss.item() == pytest.approx(expected, rel=1e-5)
    assert parts["lambda"] == pytest.approx(1.0)  # progress 0.5 = end of the default ramp


def test_zero_mask_weight_skips_the_masked_views() -> None:
    model = small_model()
    out = InfMasking(InfMaskingSettings(mask_weight=0.0), CONTEXT)(small_batch(), model)
    out.loss.backward()
    assert "mask_1" not in out.parts
    assert model.mask_token.grad is None


def test_closed_form_and_average_agree_with_one_mask() -> None:
    losses = []
    for closed in (True, False):
        torch.manual_seed(0)
        config = InfMaskingSettings(num_masks=1, gaussian_closed_form=closed)
        losses.append(InfMasking(config, CONTEXT)(small_batch(), small_model()).loss.item())
    assert losses[0] == pytest.approx(losses[1], rel=1e-6)


def test_training_steps_lower_the_loss() -> None:
    model = small_model()
    method = InfMasking(InfMaskingSettings(num_masks=2), CONTEXT)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    batch = small_batch(n=32)
    torch.manual_seed(0)
    losses = []
    for _ in range(15):
        loss = method(batch, model).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.3


@pytest.mark.parametrize(
    "field",
    [
        {"mask_ratio": 0.0},
        {"mask_ratio": 1.0},
        {"num_masks": 0},
        {"mask_lambda": -0.1},
        {"mask_ramp": 1.5},
        {"mask_weight": -1.0},
        {"temperature": 0.0},
    ],
)
def test_bad_config_values_are_rejected(field: dict[str, float]) -> None:
    name = next(iter(field))
    with pytest.raises(ValueError, match=name):
        InfMaskingSettings(**field)  # type: ignore[arg-type]


def test_bad_arguments_of_the_pure_functions_are_rejected() -> None:
    with pytest.raises(ValueError, match="ratio"):
        sample_keep_masks(4, 4, 1.2, 2)
    with pytest.raises(ValueError, match="num_masks"):
        sample_keep_masks(4, 4, 0.5, 0)
    q, k = unit((4, 3), 0), unit((2, 4, 3), 1)
    with pytest.raises(ValueError, match="lam"):
        gaussian_masked_nce(q, k, -1.0, 0.1)
    with pytest.raises(ValueError, match="temperature"):
        gaussian_masked_nce(q, k, 1.0, 0.0)
    with pytest.raises(ValueError, match="k"):
        gaussian_masked_nce(q, k[:, :3], 1.0, 0.1)
    with pytest.raises(ValueError, match="InfMaskingSettings"):
        InfMasking({"mask_ratio": 0.5}, CONTEXT)  # type: ignore[arg-type]


def test_a_ratio_that_masks_a_whole_modality_is_rejected() -> None:
    method = InfMasking(
        InfMaskingSettings(mask_ratio=0.8), CONTEXT
    )  # 4 tokens: floor(0.8) = 0 kept
    with pytest.raises(ValueError, match="mask_ratio"):
        method(small_batch(), small_model())


def test_registered_by_name() -> None:
    assert METHODS["infmasking"] is InfMasking
