"""FactorCL-SSL: bounds against slow references, gradients, the CLUB critics' inner steps."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from synergy_lab.methods import METHODS
from synergy_lab.methods.base import Batch, MethodContext
from synergy_lab.methods.factorcl import (
    BOUNDS,
    FactorCL,
    FactorCLSettings,
    SeparableCritic,
    infonce_lower_bound,
    nce_club_upper_bound,
)
from synergy_lab.models import FusionModel, ModelConfig

SMALL = ModelConfig(dim=16, depth=1, heads=2, vector_tokens=4, encoder_hidden=16, projection_dim=8)
CONTEXT = MethodContext(dim=16, projection_dim=8, num_classes={"S": 2})
SMALL_CRITICS = {"critic_hidden": 12, "critic_embed": 6}


def small_model(seed: int = 0) -> FusionModel:
    torch.manual_seed(seed)
    return FusionModel(((6,), (5,)), SMALL)


def small_method(seed: int = 0, **fields: float) -> FactorCL:
    torch.manual_seed(seed)
    return FactorCL(FactorCLSettings(**SMALL_CRITICS, **fields), CONTEXT)  # type: ignore[arg-type]


def small_batch(n: int = 10, seed: int = 1) -> Batch:
    gen = torch.Generator().manual_seed(seed)
    x1 = torch.randn(n, 6, generator=gen)
    x2 = torch.cat([x1[:, :3], torch.randn(n, 2, generator=gen)], dim=1)  # shares 3 features

    def augment(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return a + 0.1 * torch.randn_like(a), b + 0.1 * torch.randn_like(b)

    return Batch(x1=x1, x2=x2, augment=augment)


def slow_scores(critic: SeparableCritic, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """f(a_i, b_j) one pair at a time."""
    rows = [
        [critic.pair(a[i : i + 1], b[j : j + 1])[0] for j in range(len(b))] for i in range(len(a))
    ]
    return torch.stack([torch.stack(row) for row in rows])


def slow_infonce(scores: torch.Tensor) -> float:
    s = scores.detach().double().numpy()
    n = len(s)
    terms = [s[i, i] - math.log(sum(math.exp(s[i, j]) for j in range(n))) for i in range(n)]
    return float(np.mean(terms)) + math.log(n)


def slow_club(scores: torch.Tensor) -> float:
    s = scores.detach().double().numpy()
    n = len(s)
    joint = sum(s[i, i] for i in range(n)) / n
    marginal = sum(s[i, j] for i in range(n) for j in range(n)) / n**2
    return float(joint - marginal)


def test_critic_matrix_matches_pairwise_scores() -> None:
    torch.manual_seed(0)
    critic = SeparableCritic(3, 4, 8, 5)
    a, b = torch.randn(4, 3), torch.randn(6, 4)
    torch.testing.assert_close(critic(a, b), slow_scores(critic, a, b))


def test_bounds_match_their_sums_written_out() -> None:
    scores = torch.randn(5, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert infonce_lower_bound(scores).item() == pytest.approx(slow_infonce(scores), rel=1e-12)
    assert nce_club_upper_bound(scores).item() == pytest.approx(slow_club(scores), rel=1e-12)


def test_bounds_known_values() -> None:
    n, c = 8, 3.0
    diagonal = c * torch.eye(n, dtype=torch.float64)
    expected = c - math.log(math.exp(c) + n - 1) + math.log(n)
    assert infonce_lower_bound(diagonal).item() == pytest.approx(expected)
    assert nce_club_upper_bound(diagonal).item() == pytest.approx(c - c / n)
    constant = torch.full((n, n), 2.5)  # an uninformative critic: both bounds are 0
    assert infonce_lower_bound(constant).item() == pytest.approx(0.0, abs=1e-6)
    assert nce_club_upper_bound(constant).item() == pytest.approx(0.0, abs=1e-6)
    # InfoNCE saturates at log N however large the critic's margin.
    assert infonce_lower_bound(100 * torch.eye(n)).item() == pytest.approx(math.log(n), rel=1e-6)


def test_bounds_reject_non_square_scores() -> None:
    with pytest.raises(ValueError, match="scores"):
        infonce_lower_bound(torch.zeros(3, 4))
    with pytest.raises(ValueError, match="scores"):
        nce_club_upper_bound(torch.zeros(1, 1))


def test_six_bounds_match_a_slow_reference() -> None:
    method = small_method()
    gen = torch.Generator().manual_seed(2)
    e = {key: torch.randn(5, 16, generator=gen) for key in ("e1", "e2", "a1", "a2")}
    bounds = method.bounds(e)
    h, c = method.heads, method.critics

    def both(name: str, m: int) -> torch.Tensor:  # a view's head output next to its augmentation's
        return torch.cat([h[f"{name}_{m}"](e[f"e{m}"]), h[f"{name}_{m}"](e[f"a{m}"])], dim=1)

    inputs = {
        "shared_nce": (h["shared_nce_1"](e["e1"]), h["shared_nce_2"](e["e2"])),
        "shared_club": (both("shared_club", 1), both("shared_club", 2)),
        "unique_nce_1": (h["unique_nce_1"](e["e1"]), h["unique_nce_1"](e["a1"])),
        "unique_nce_2": (h["unique_nce_2"](e["e2"]), h["unique_nce_2"](e["a2"])),
        "unique_club": (h["unique_club_1"](e["e1"]), h["unique_club_2"](e["e2"])),
        "unique_cond": (both("unique_cond", 1), both("unique_cond", 2)),
    }
    assert set(bounds) == set(inputs) == set(BOUNDS)
    for name, (a, b) in inputs.items():
        scores = slow_scores(c[name], a, b)
        reference = slow_club(scores) if "club" in name else slow_infonce(scores)
        assert bounds[name].item() == pytest.approx(reference, rel=1e-4, abs=1e-6), name

    shared, unique1, unique2 = FactorCL.objective(bounds)
    b = {k: v.item() for k, v in bounds.items()}
    assert shared.item() == pytest.approx(b["shared_nce"] - b["shared_club"], abs=1e-6)
    common = b["unique_cond"] - b["unique_club"]
    assert unique1.item() == pytest.approx(b["unique_nce_1"] + common, abs=1e-6)
    assert unique2.item() == pytest.approx(b["unique_nce_2"] + common, abs=1e-6)


def test_loss_is_minus_shared_plus_both_uniques() -> None:
    torch.manual_seed(0)
    out = small_method()(small_batch(), small_model())
    p = {k: float(v) for k, v in out.parts.items()}  # parts are detached 0-d tensors
    assert out.loss.item() == pytest.approx(-(p["S"] + p["U1"] + p["U2"]), abs=1e-5)
    expected = -(
        p["shared_nce"]
        - p["shared_club"]
        + p["unique_nce_1"]
        + p["unique_nce_2"]
        + 2 * (p["unique_cond"] - p["unique_club"])
    )
    assert out.loss.item() == pytest.approx(expected, abs=1e-5)


def test_gradients_reach_encoders_heads_and_infonce_critics_but_not_club_critics() -> None:
    model, method = small_model(), small_method()
    method(small_batch(), model).loss.backward()
    for name, param in method.heads.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    for name, (is_club, _) in BOUNDS.items():
        for param in method.critics[name].parameters():
            if is_club:
                assert param.grad is None, name
            else:
                assert param.grad is not None and param.grad.abs().sum() > 0, name
    for name, param in model.named_parameters():
        if name.startswith(("head.", "mask_token")):  # FactorCL uses neither
            assert param.grad is None, name
        else:
            assert param.grad is not None and param.grad.abs().sum() > 0, name


def snapshot(*modules: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {
        f"{i}.{name}": value.detach().clone()
        for i, module in enumerate(modules)
        for name, value in module.state_dict().items()
    }


def test_inner_step_changes_only_the_club_critics() -> None:
    model, method = small_model(), small_method(critic_steps=3, critic_lr=1e-2)
    before = snapshot(model, method)
    method.inner_step(small_batch(), model)
    after = snapshot(model, method)
    club = ("1.critics.shared_club.", "1.critics.unique_club.")
    changed = {name for name in before if not torch.equal(before[name], after[name])}
    assert changed and all(name.startswith(club) for name in changed)
    assert any(name.startswith(club[0]) for name in changed)
    assert any(name.startswith(club[1]) for name in changed)
    grads = [p.grad for p in [*model.parameters(), *method.parameters()]]
    assert all(g is None for g in grads)  # nothing left over for the main optimiser


def test_zero_critic_steps_do_nothing() -> None:
    model, method = small_model(), small_method(critic_steps=0)
    before = snapshot(model, method)
    method.inner_step(small_batch(), model)
    after = snapshot(model, method)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_inner_steps_fit_the_club_critics() -> None:
    model, method = small_model(), small_method(critic_steps=40, critic_lr=2e-2)
    batch = small_batch(n=32)
    torch.manual_seed(0)
    inputs = method.club_inputs(batch, model)
    start = method.club_fit_loss(inputs).item()
    method.inner_step(batch, model)
    assert method.club_fit_loss(inputs).item() < start - 0.3


def test_main_step_leaves_the_club_critics_fixed() -> None:
    model, method = small_model(), small_method()
    params = [*model.parameters(), *method.parameters()]
    optimizer = torch.optim.AdamW(params, lr=1e-2, weight_decay=0.1)
    before = snapshot(method)
    method(small_batch(), model).loss.backward()
    optimizer.step()
    after = snapshot(method)
    for name in before:
        unchanged = torch.equal(before[name], after[name])
        assert unchanged == ("_club." in name), name


def test_represent_concatenates_shared_then_unique_factors() -> None:
    model, method = small_model(), small_method()
    x1, x2 = torch.randn(7, 6), torch.randn(7, 5)
    z = method.represent(model, x1, x2)
    assert z.shape == (7, 10 * CONTEXT.projection_dim)
    e1, e2 = method.encode(model, x1, x2)
    h = method.heads
    order = [
        h["shared_nce_1"](e1),
        h["shared_club_1"](e1),
        h["shared_nce_2"](e2),
        h["shared_club_2"](e2),
        h["unique_nce_1"](e1),
        h["unique_club_1"](e1),
        h["unique_cond_1"](e1),
        h["unique_nce_2"](e2),
        h["unique_club_2"](e2),
        h["unique_cond_2"](e2),
    ]
    torch.testing.assert_close(z, torch.cat(order, dim=1))


def test_training_steps_lower_the_loss() -> None:
    model, method = small_model(), small_method(critic_lr=1e-2)
    optimizer = torch.optim.Adam([*model.parameters(), *method.parameters()], lr=3e-3)
    batch = small_batch(n=32)
    torch.manual_seed(0)
    losses = []
    for _ in range(25):
        method.inner_step(batch, model)
        optimizer.zero_grad()
        loss = method(batch, model).loss
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.5


@pytest.mark.parametrize("field", [{"critic_steps": -1}, {"critic_lr": 0.0}])
def test_bad_config_values_are_rejected(field: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(field))):
        FactorCLSettings(**field)  # type: ignore[arg-type]


def test_bad_parts_and_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="critic_hidden"):
        FactorCLSettings(critic_hidden=0)
    with pytest.raises(ValueError, match="critic_embed"):
        FactorCLSettings(critic_embed=0)
    with pytest.raises(ValueError, match="FactorCLSettings"):
        FactorCL({"critic_steps": 1}, CONTEXT)  # type: ignore[arg-type]


def test_registered_by_name() -> None:
    assert METHODS["factorcl"] is FactorCL
