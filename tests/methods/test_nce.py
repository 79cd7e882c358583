"""InfoNCE and NT-Xent against slow loop references and a closed-form value."""

from __future__ import annotations

import math

import pytest
import torch

from synergy_lab.methods.nce import info_nce, nt_xent


def unit(x: torch.Tensor) -> list[list[float]]:
    return [[v / math.sqrt(sum(u * u for u in row)) for v in row] for row in x.tolist()]


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def nt_xent_loop(a: torch.Tensor, b: torch.Tensor, tau: float) -> float:
    """Anchor k of the 2B stacked views: positive is its other view, all others are negatives."""
    z = unit(a) + unit(b)
    n = a.shape[0]
    total = 0.0
    for i in range(2 * n):
        positive = i + n if i < n else i - n
        denominator = sum(math.exp(dot(z[i], z[k]) / tau) for k in range(2 * n) if k != i)
        total += -(dot(z[i], z[positive]) / tau - math.log(denominator))
    return total / (2 * n)


def info_nce_loop(a: torch.Tensor, b: torch.Tensor, tau: float) -> float:
    """a_i picks b_i among all b_j, and b_i picks a_i among all a_j; the two means averaged."""
    za, zb = unit(a), unit(b)
    n = a.shape[0]

    def one_way(x: list[list[float]], y: list[list[float]]) -> float:
        return (
            sum(
                -(
                    dot(x[i], y[i]) / tau
                    - math.log(sum(math.exp(dot(x[i], y[j]) / tau) for j in range(n)))
                )
                for i in range(n)
            )
            / n
        )

    return (one_way(za, zb) + one_way(zb, za)) / 2


@pytest.mark.parametrize("tau", [0.1, 0.5])
def test_nt_xent_matches_the_loop_reference(tau: float) -> None:
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 4, generator=gen), torch.randn(5, 4, generator=gen)
    assert nt_xent(a, b, tau).item() == pytest.approx(nt_xent_loop(a, b, tau), rel=1e-5)
    assert nt_xent(b, a, tau).item() == pytest.approx(nt_xent(a, b, tau).item(), rel=1e-6)


@pytest.mark.parametrize("tau", [0.1, 0.5])
def test_info_nce_matches_the_loop_reference(tau: float) -> None:
    gen = torch.Generator().manual_seed(1)
    a, b = torch.randn(6, 3, generator=gen), torch.randn(6, 3, generator=gen)
    assert info_nce(a, b, tau).item() == pytest.approx(info_nce_loop(a, b, tau), rel=1e-5)


def test_nt_xent_of_aligned_orthogonal_views_has_its_closed_form() -> None:
    # a = b = the basis of R^2: each anchor has one positive at cosine 1 and two negatives at 0.
    basis = torch.eye(2)
    tau = 0.2
    expected = math.log(1 + 2 * math.exp(-1 / tau))
    assert nt_xent(basis, basis, tau).item() == pytest.approx(expected, rel=1e-6)
    assert info_nce(basis, basis, tau).item() == pytest.approx(
        math.log(1 + math.exp(-1 / tau)), rel=1e-6
    )


def test_losses_do_not_depend_on_the_norms_of_their_inputs() -> None:
    gen = torch.Generator().manual_seed(2)
    a, b = torch.randn(4, 3, generator=gen), torch.randn(4, 3, generator=gen)
    scale = torch.tensor([[2.0], [0.5], [3.0], [1.5]])
    torch.testing.assert_close(nt_xent(a * scale, b, 0.1), nt_xent(a, b, 0.1))
    torch.testing.assert_close(info_nce(a, b * scale, 0.1), info_nce(a, b, 0.1))


def nt_xent_autograd(a: torch.Tensor, b: torch.Tensor, tau: float) -> torch.Tensor:
    """NT-Xent through autograd: masked similarity matrix and cross-entropy (the old code)."""
    n = a.shape[0]
    z = torch.nn.functional.normalize(torch.cat([a, b]), dim=-1)
    sim = (z / tau) @ z.T
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return torch.nn.functional.cross_entropy(sim, target)


@pytest.mark.parametrize("tau", [0.01, 0.025, 0.1, 0.5])
def test_nt_xent_gradient_matches_autograd_through_cross_entropy(tau: float) -> None:
    gen = torch.Generator().manual_seed(3)
    a = torch.randn(16, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(16, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    loss = nt_xent(a, b, tau)
    expected = nt_xent_autograd(a, b, tau)
    torch.testing.assert_close(loss, expected, rtol=1e-12, atol=0)
    got = torch.autograd.grad(2.5 * loss, (a, b))
    want = torch.autograd.grad(2.5 * expected, (a, b))
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-14)
    assert torch.autograd.gradcheck(lambda x, y: nt_xent(x, y, tau), (a[:4], b[:4]))


def test_nt_xent_backward_can_run_twice_on_a_retained_graph() -> None:
    gen = torch.Generator().manual_seed(4)
    a = torch.randn(6, 3, generator=gen, requires_grad=True)
    loss = nt_xent(a, torch.randn(6, 3, generator=gen), 0.1)
    loss.backward(retain_graph=True)
    assert a.grad is not None
    first = a.grad.clone()
    loss.backward()
    torch.testing.assert_close(a.grad, 2 * first)
