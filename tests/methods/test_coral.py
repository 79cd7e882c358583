"""COrAL: the loss against a looped float64 reference, masking, representation, gradients, args."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from synergy_lab.methods import METHODS
from synergy_lab.methods.base import Batch, MethodContext
from synergy_lab.methods.coral import COrAL, COrALSettings, sample_token_keep, squared_cosine
from synergy_lab.models import FusionModel, ModelConfig
from synergy_lab.train import TrainConfig, TrainedModel, train
from synthetic import from_arrays

TINY = ModelConfig(dim=8, depth=1, heads=2, vector_tokens=3, encoder_hidden=16, projection_dim=6)
CONTEXT = MethodContext(dim=8, projection_dim=6, num_classes={"S": 2})


def tiny_pair(config: COrALSettings | None = None, seed: int = 0) -> tuple[FusionModel, COrAL]:
    torch.manual_seed(seed)
    model = FusionModel(((5,), (4,)), TINY)
    method = COrAL(config or COrALSettings(), CONTEXT)
    method.build(model)
    return model, method


def fixed_views(
    n: int = 6, seed: int = 1, dtype: torch.dtype = torch.float32
) -> tuple[Batch, list[tuple[torch.Tensor, torch.Tensor]]]:
    """A batch whose ``view()`` returns two fixed augmented views, in order."""
    gen = torch.Generator().manual_seed(seed)
    views = [
        (
            torch.randn(n, 5, generator=gen, dtype=dtype),
            torch.randn(n, 4, generator=gen, dtype=dtype),
        )
        for _ in range(2)
    ]
    queue = list(views)
    batch = Batch(x1=torch.zeros(n, 5), x2=torch.zeros(n, 4), augment=lambda a, b: queue.pop(0))
    return batch, views


def normalise_rows(z: torch.Tensor) -> list[list[float]]:
    rows = z.double().tolist()
    return [[v / math.sqrt(sum(w * w for w in row)) for v in row] for row in rows]


def dot(x: list[float], y: list[float]) -> float:
    return sum(a * b for a, b in zip(x, y, strict=True))


def nt_xent_loop(a: torch.Tensor, b: torch.Tensor, tau: float) -> float:
    z = normalise_rows(a) + normalise_rows(b)
    n = a.shape[0]
    total = 0.0
    for i in range(2 * n):
        pos = i + n if i < n else i - n
        sims = [dot(z[i], z[k]) / tau for k in range(2 * n)]
        total += -(sims[pos] - math.log(sum(math.exp(s) for k, s in enumerate(sims) if k != i)))
    return total / (2 * n)


def squared_cosine_loop(a: torch.Tensor, b: torch.Tensor) -> float:
    za, zb = normalise_rows(a), normalise_rows(b)
    return sum(dot(x, y) ** 2 for x, y in zip(za, zb, strict=True)) / len(za)


@torch.no_grad()
def attention_pool_loop(tokens: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
    """Softmax(x_l . q) weighted sum of the tokens, one sample and one token at a time."""
    out = torch.zeros(tokens.shape[0], tokens.shape[2], dtype=tokens.dtype)
    for i in range(tokens.shape[0]):
        scores = [float(tokens[i, k] @ query) for k in range(tokens.shape[1])]
        top = max(scores)
        weights = [math.exp(s - top) for s in scores]
        for k, w in enumerate(weights):
            out[i] += w / sum(weights) * tokens[i, k]
    return out


def test_loss_equals_a_looped_float64_reference() -> None:
    tau, weights = 0.3, {"shared_weight": 0.7, "unique_weight": 1.3}
    config = COrALSettings(temperature=tau, ortho_weight=2.5, mask_ratio=0.5, **weights)
    model, method = tiny_pair(config)
    model.double()
    method.double()
    batch, views = fixed_views(dtype=torch.float64)
    torch.manual_seed(11)
    out = method(batch, model)

    # the same Bernoulli masks, redrawn: modality 1 of view a, then modality 2 of view b
    torch.manual_seed(11)
    n, length = views[0][0].shape[0], TINY.vector_tokens
    drawn = [torch.rand(n, length) >= 0.5, torch.rand(n, length) >= 0.5]
    fused, unique = [], []
    for v, (x1, x2) in enumerate(views):
        t1, t2 = (t.clone() for t in model.tokens(x1, x2))
        masked = t1 if v == 0 else t2
        for i in range(n):
            for k in range(length):
                if not drawn[v][i, k]:
                    masked[i, k] = 0.0
        fused.append(model.project(model.fuse(t1, t2)))
        per_modality = []
        for m, x in enumerate((x1, x2)):
            tokens = method.reduce[m](method.unique_encoders[m](x))
            per_modality.append(method.heads[m](attention_pool_loop(tokens, method.pool[m].query)))
        unique.append(per_modality)

    (fa, fb), (ua, ub) = fused, unique
    expected = {
        "shared": nt_xent_loop(fa, fb, tau),
        "unique1": nt_xent_loop(ua[0], ub[0], tau),
        "unique2": nt_xent_loop(ua[1], ub[1], tau),
        "ortho_uu": squared_cosine_loop(ua[0], ua[1]) + squared_cosine_loop(ub[0], ub[1]),
        "ortho_u1f": squared_cosine_loop(ua[0], fa) + squared_cosine_loop(ub[0], fb),
        "ortho_u2f": squared_cosine_loop(ua[1], fa) + squared_cosine_loop(ub[1], fb),
    }
    for name, value in expected.items():
        assert out.parts[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    total = (
        0.7 * expected["shared"]
        + 1.3 * (expected["unique1"] + expected["unique2"])
        + 2.5 * (expected["ortho_uu"] + expected["ortho_u1f"] + expected["ortho_u2f"])
    )
    assert out.loss.item() == pytest.approx(total, rel=1e-9)
    assert expected["ortho_uu"] > 0  # the penalties are not trivially zero at initialisation


def test_keep_mask_keeps_one_minus_ratio_of_tokens_independently() -> None:
    gen = torch.Generator().manual_seed(0)
    keep = sample_token_keep(20000, 4, 0.75, generator=gen)
    assert keep.dtype == torch.bool and keep.shape == (20000, 4)
    assert keep.float().mean().item() == pytest.approx(0.25, abs=0.01)  # sd of the mean ~0.0015
    counts = keep.sum(dim=1)
    # independent tokens: the count kept per sample is Binomial(4, 0.25), all masked 0.75^4
    assert (counts == 0).float().mean().item() == pytest.approx(0.75**4, abs=0.015)
    assert not sample_token_keep(50, 4, 0.0, generator=gen).logical_not().any()


def test_each_view_masks_only_its_modality(monkeypatch: pytest.MonkeyPatch) -> None:
    model, method = tiny_pair()
    n = 2000
    batch = Batch(x1=torch.randn(n, 5), x2=torch.randn(n, 4))
    seen: dict[str, object] = {}
    fuse = model.fuse

    def spy(t1, t2, keep1=None, keep2=None, fill="token"):  # type: ignore[no-untyped-def]
        seen.update(keep1=keep1, keep2=keep2, fill=fill, batch=t1.shape[0])
        return fuse(t1, t2, keep1, keep2, fill)

    monkeypatch.setattr(model, "fuse", spy)
    with torch.no_grad():
        method(batch, model)
    keep1, keep2 = seen["keep1"], seen["keep2"]
    assert isinstance(keep1, torch.Tensor) and isinstance(keep2, torch.Tensor)
    assert seen["fill"] == "zero" and seen["batch"] == 2 * n  # both views in one call
    # rows [0, n) are view a: modality 1 masked, modality 2 whole; rows [n, 2n) the reverse
    assert keep1[:n].float().mean().item() == pytest.approx(0.25, abs=0.02)
    assert keep2[n:].float().mean().item() == pytest.approx(0.25, abs=0.02)
    assert keep1[n:].all() and keep2[:n].all()


def test_representation_is_fused_then_both_unique_parts() -> None:
    model, method = tiny_pair()
    x1, x2 = torch.randn(7, 5), torch.randn(7, 4)
    model.eval()
    method.eval()
    with torch.no_grad():
        z = method.represent(model, x1, x2)
        u1, u2 = method.unique_embeddings(x1, x2)
        fused = model(x1, x2)
    assert z.shape == (7, TINY.dim + 2 * (TINY.dim // 2))
    assert torch.equal(z[:, : TINY.dim], fused)
    assert torch.equal(z[:, TINY.dim : TINY.dim + 4], u1)
    assert torch.equal(z[:, TINY.dim + 4 :], u2)
    assert not torch.allclose(u1, u2)  # two paths with their own weights


def test_gradients_reach_both_paths() -> None:
    model, method = tiny_pair()
    batch, _ = fixed_views()
    method(batch, model).loss.backward()
    groups = {
        "fused encoders": model.encoders,
        "fusion transformer": model.blocks,
        "fused head": model.head,
        "unique encoders": method.unique_encoders,
        "unique reduction": method.reduce,
        "attention pooling": method.pool,
        "unique heads": method.heads,
    }
    for name, module in groups.items():
        assert module is not None
        grads = [p.grad for p in module.parameters()]
        assert all(g is not None for g in grads), name
        assert sum(float(g.abs().sum()) for g in grads if g is not None) > 0, name


def test_bad_arguments_are_rejected_at_construction() -> None:
    for bad in ({"mask_ratio": 1.0}, {"mask_ratio": -0.1}):
        with pytest.raises(ValueError, match="COrALSettings.mask_ratio"):
            COrALSettings(**bad)  # type: ignore[arg-type]
    for name in ("ortho_weight", "unique_weight", "shared_weight"):
        with pytest.raises(ValueError, match=f"COrALSettings.{name}"):
            COrALSettings(**{name: -1.0})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="even"):
        COrAL(COrALSettings(), dataclasses.replace(CONTEXT, dim=7))
    with pytest.raises(ValueError, match="COrALSettings"):
        COrAL({"temperature": 0.1}, CONTEXT)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ratio"):
        sample_token_keep(4, 4, 1.0)
    unbuilt = COrAL(COrALSettings(), CONTEXT)
    with pytest.raises(RuntimeError, match="build"):
        unbuilt.represent(tiny_pair()[0], torch.randn(2, 5), torch.randn(2, 4))


def test_squared_cosine_is_scale_free_and_one_for_parallel_rows() -> None:
    x = torch.randn(5, 6)
    assert squared_cosine(x, -3 * x).item() == pytest.approx(1.0)
    y = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    assert squared_cosine(y, y.flip(1)).item() == pytest.approx(0.0)


def test_registered_and_trained_with_a_checkpoint_round_trip(tmp_path: Path) -> None:
    assert METHODS["coral"] is COrAL
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    data = from_arrays(x1, x2, {"S": rng.integers(0, 2, 40)}, val_fraction=0.1, test_fraction=0.1)
    path = tmp_path / "coral.pt"
    config = TrainConfig(
        budget="fixed", epochs=1, batch_size=16, progress=False, device="cpu", checkpoint=str(path)
    )
    trained = train("coral", data, config, TINY)
    assert len(trained.loss_curve) == 2 and math.isfinite(trained.loss_curve[-1]["loss"])
    loaded = TrainedModel.load(path)
    z = trained.represent(data.test.x1, data.test.x2)
    assert z.shape == (len(data.test), 2 * TINY.dim)
    np.testing.assert_array_equal(loaded.represent(data.test.x1, data.test.x2), z)
