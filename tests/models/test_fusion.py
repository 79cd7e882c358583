"""The shared fusion model: token shapes, modality subsets, masking, config checks."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from synergy_lab.models import AttentionPooling, FusionModel, ModelConfig
from synergy_lab.models.fusion import sincos_positions

TINY = ModelConfig(
    dim=8, depth=1, heads=2, vector_tokens=3, encoder_hidden=16, cnn_channels=4, projection_dim=6
)


def vector_model(seed: int = 0) -> FusionModel:
    torch.manual_seed(seed)
    return FusionModel(((5,), (7,)), TINY)


def test_vector_tokens_and_outputs_have_the_documented_shapes() -> None:
    model = vector_model()
    x1, x2 = torch.randn(4, 5), torch.randn(4, 7)
    t1, t2 = model.tokens(x1, x2)
    assert t1.shape == (4, 3, 8) and t2.shape == (4, 3, 8)
    assert model.fuse(t1, None).shape == (4, 8)
    assert model.fuse(None, t2).shape == (4, 8)
    assert model(x1, x2).shape == (4, 8)
    assert model.project(model(x1, x2)).shape == (4, 6)
    assert model.dim == 8


@pytest.mark.parametrize("size", [8, 16, 20])
def test_image_encoder_gives_sixteen_tokens_for_any_size(size: int) -> None:
    torch.manual_seed(0)
    model = FusionModel(((3, size, size), (3, size, size)), TINY)
    t1, t2 = model.tokens(torch.rand(2, 3, size, size), torch.rand(2, 3, size, size))
    assert t1.shape == (2, 16, 8) and t2.shape == (2, 16, 8)
    assert model(torch.rand(2, 3, size, size), torch.rand(2, 3, size, size)).shape == (2, 8)


def test_fuse_of_both_is_forward_and_differs_from_one_modality() -> None:
    model = vector_model().eval()
    x1, x2 = torch.randn(4, 5), torch.randn(4, 7)
    t1, t2 = model.tokens(x1, x2)
    torch.testing.assert_close(model.fuse(t1, t2), model(x1, x2))
    assert not torch.allclose(model.fuse(t1, t2), model.fuse(t1, None))


def test_unimodal_fusion_ignores_the_other_modality() -> None:
    model = vector_model().eval()
    x1 = torch.randn(4, 5)
    a = model.fuse(model.tokens(x1, torch.randn(4, 7))[0], None)
    b = model.fuse(model.tokens(x1, torch.randn(4, 7))[0], None)
    torch.testing.assert_close(a, b)


def test_mask_replaces_exactly_the_dropped_tokens_by_the_mask_token() -> None:
    model = vector_model()
    tokens = torch.randn(2, 3, 8)
    keep = torch.tensor([[True, False, True], [False, False, True]])
    masked = model.mask(tokens, keep)
    torch.testing.assert_close(masked[keep], tokens[keep])
    torch.testing.assert_close(masked[~keep], model.mask_token[0].expand(3, 8))
    all_kept = model.fuse(tokens, None, torch.ones(2, 3, dtype=torch.bool))
    torch.testing.assert_close(all_kept, model.fuse(tokens, None))


def test_zero_fill_zeroes_exactly_the_dropped_tokens() -> None:
    model = vector_model()
    tokens = torch.randn(3, 4, 8)
    keep = torch.tensor([[True, False, True, False]] * 3)
    masked = model.mask(tokens, keep, fill="zero")
    assert torch.equal(masked[:, [1, 3]], torch.zeros(3, 2, 8))
    assert torch.equal(masked[:, [0, 2]], tokens[:, [0, 2]])
    t1, t2 = model.tokens(torch.randn(2, 5), torch.randn(2, 7))
    none = torch.zeros(2, 3, dtype=torch.bool)
    assert torch.allclose(model.fuse(t1, t2, none, fill="zero"), model.fuse(t1 * 0, t2))
    with pytest.raises(ValueError, match="fill"):
        model.mask(tokens, keep, fill="nan")


def test_new_encoders_have_the_same_architecture_and_own_weights() -> None:
    model = vector_model()
    fresh = model.new_encoders()
    for old, new in zip(model.encoders, fresh, strict=True):
        shapes = [p.shape for p in old.parameters()]
        assert [p.shape for p in new.parameters()] == shapes
        assert not any(p is q for p, q in zip(old.parameters(), new.parameters(), strict=True))
        assert not torch.equal(next(old.parameters()), next(new.parameters()))


def test_attention_pooling_is_a_softmax_weighted_mean_of_the_tokens() -> None:
    torch.manual_seed(0)
    pool = AttentionPooling(4)
    x = torch.randn(3, 5, 4)
    weights = torch.softmax(torch.einsum("bld,d->bl", x, pool.query), dim=1)
    assert torch.allclose(pool(x), (weights[..., None] * x).sum(1), atol=1e-6)
    same = torch.ones(2, 6, 4)  # equal scores: the plain mean
    assert torch.allclose(pool(same), torch.ones(2, 4))
    with torch.no_grad():
        pool.query.copy_(torch.tensor([100.0, 0, 0, 0]))
    peaked = torch.zeros(1, 3, 4)
    peaked[0, 1, 0] = 1.0  # one token far ahead: pooling picks it
    assert torch.allclose(pool(peaked), peaked[:, 1], atol=1e-6)


def test_gradients_reach_the_mask_token_only_when_masking() -> None:
    model = vector_model()
    x1, x2 = torch.randn(4, 5), torch.randn(4, 7)
    weights = torch.randn(8)  # a plain sum of a LayerNorm output has zero gradient
    t1, t2 = model.tokens(x1, x2)
    (model.fuse(t1, t2) @ weights).sum().backward()
    assert model.mask_token.grad is None
    assert model.cls_token.grad is not None and model.cls_token.grad.abs().sum() > 0
    keep = torch.zeros(4, 3, dtype=torch.bool)
    t1, t2 = model.tokens(x1, x2)
    (model.fuse(t1, t2, keep, None) @ weights).sum().backward()
    assert model.mask_token.grad is not None and model.mask_token.grad.abs().sum() > 0


def test_fuse_needs_a_modality_and_shapes_are_checked() -> None:
    model = vector_model()
    with pytest.raises(ValueError, match="at least one modality"):
        model.fuse(None, None)
    with pytest.raises(ValueError, match="input shape"):
        FusionModel(((2, 3), (4,)), TINY)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"dim": 0}, "dim"),
        ({"depth": 0}, "depth"),
        ({"heads": 3}, "heads"),
        ({"vector_tokens": 0}, "vector_tokens"),
        ({"projection_dim": 0}, "projection_dim"),
        ({"dropout": 1.0}, "dropout"),
        ({"vector_encoder": "conv"}, "vector_encoder"),
    ],
)
def test_bad_model_config_is_rejected(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        ModelConfig(**kwargs)  # type: ignore[arg-type]


def test_sincos_positions_are_the_documented_formula_and_distinct() -> None:
    grid, dim = 3, 8
    positions = sincos_positions(grid, dim)
    assert positions.shape == (grid * grid, dim)
    omega = 1.0 / 10000 ** (torch.arange(2, dtype=torch.float64) / 2)
    for cell in range(grid * grid):
        row, col = divmod(cell, grid)
        expected = torch.cat(
            [
                torch.sin(row * omega),
                torch.cos(row * omega),
                torch.sin(col * omega),
                torch.cos(col * omega),
            ]
        ).float()
        torch.testing.assert_close(positions[cell], expected)
    assert len({tuple(p.tolist()) for p in positions}) == grid * grid  # every cell its own code
    with pytest.raises(ValueError, match="divisible by 4"):
        sincos_positions(3, 6)


def test_token_grid_with_positions_adds_them_and_masking_removes_them() -> None:
    config = ModelConfig(
        dim=8, heads=2, cnn_channels=4, image_stages=2, image_grid=3, image_positions="sincos"
    )
    torch.manual_seed(0)
    model = FusionModel(((3, 16, 16), (3, 16, 16)), config).eval()
    plain = FusionModel(
        ((3, 16, 16), (3, 16, 16)), dataclasses.replace(config, image_positions="none")
    ).eval()
    plain.load_state_dict(model.state_dict())  # positions are a fixed buffer, not a weight
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        t1, _ = model.tokens(x, x)
        p1, _ = plain.tokens(x, x)
    assert t1.shape == (2, 9, 8)
    torch.testing.assert_close(t1 - p1, sincos_positions(3, 8).expand(2, -1, -1))
    keep = torch.zeros(2, 9, dtype=torch.bool)
    masked = model.mask(t1, keep)
    assert torch.equal(masked, model.mask_token.expand(2, 9, 8))  # position gone with the token


def test_alexnet_encoder_gives_a_six_by_six_grid_and_rejects_small_images() -> None:
    config = ModelConfig(dim=8, heads=2, image_encoder="alexnet", image_grid=6)
    torch.manual_seed(0)
    model = FusionModel(((3, 224, 224), (3, 224, 224)), config).eval()
    with torch.no_grad():
        net = model.encoders[0].net  # type: ignore[union-attr]
        assert tuple(net(torch.rand(1, 3, 224, 224)).shape) == (1, 256, 6, 6)
    with pytest.raises(ValueError, match="at least 63 px"):
        FusionModel(((3, 32, 32), (3, 32, 32)), config)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"image_encoder": "vgg"}, "image_encoder"),
        ({"image_stages": 0}, "image_stages"),
        ({"image_grid": 0}, "image_grid"),
        ({"image_positions": "learned"}, "image_positions"),
        ({"image_positions": "sincos", "dim": 6, "heads": 2}, "divisible by 4"),
    ],
)
def test_bad_image_encoder_settings_are_rejected(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        ModelConfig(**kwargs)  # type: ignore[arg-type]


CHUNKED = dataclasses.replace(TINY, vector_encoder="chunks")


def test_chunked_vector_tokens_each_see_only_their_array_split_chunk() -> None:
    """Token k changes when, and only when, a feature of the k-th np.array_split chunk does."""
    torch.manual_seed(0)
    model = FusionModel(((7,), (5,)), CHUNKED)  # 7 features in 3 tokens: chunks 3, 2, 2
    x1, x2 = torch.randn(4, 7), torch.randn(4, 5)
    t1, t2 = model.tokens(x1, x2)
    assert t1.shape == (4, 3, 8) and t2.shape == (4, 3, 8)
    owner = [0, 0, 0, 1, 1, 2, 2]
    for feature, token in enumerate(owner):
        bumped = x1.clone()
        bumped[:, feature] += 1.0
        changed = (model.tokens(bumped, x2)[0] - t1).abs().amax(dim=(0, 2)) > 1e-6
        assert changed.tolist() == [k == token for k in range(3)]


def test_chunked_encoder_rejects_fewer_features_than_tokens() -> None:
    with pytest.raises(ValueError, match="at least vector_tokens"):
        FusionModel(((2,), (5,)), CHUNKED)


def test_mlp_vector_encoder_is_the_default_and_every_token_sees_every_feature() -> None:
    assert ModelConfig().vector_encoder == "mlp"
    model = vector_model()
    x1, x2 = torch.randn(4, 5), torch.randn(4, 7)
    bumped = x1.clone()
    bumped[:, 4] += 1.0
    changed = (model.tokens(bumped, x2)[0] - model.tokens(x1, x2)[0]).abs().amax(dim=(0, 2))
    assert bool((changed > 1e-6).all())


def _mha_block(block: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The block as ff04e56 computed it: nn.MultiheadAttention's own forward."""
    h = block.norm1(x)
    x = x + block.attn(h, h, h, need_weights=False)[0]
    return x + block.mlp(block.norm2(x))


@pytest.mark.parametrize("depth", [1, 2])
def test_block_matches_multihead_attention_and_first_row_matches_the_full_block(
    depth: int,
) -> None:
    torch.manual_seed(0)
    model = FusionModel(((5,), (7,)), dataclasses.replace(TINY, depth=depth))
    x = torch.randn(4, 7, TINY.dim)
    for block in model.blocks:
        full = block(x)
        torch.testing.assert_close(full, _mha_block(block, x), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(block.forward_first(x), full[:, 0], rtol=1e-5, atol=1e-6)
    # the fused CLS output equals running every block in full, gradients included
    t1, t2 = model.tokens(torch.randn(4, 5), torch.randn(4, 7))
    seq = torch.cat([model.cls_token.expand(4, -1, -1), t1, t2], dim=1)
    for block in model.blocks:
        seq = _mha_block(block, seq)
    reference = model.norm(seq[:, 0])
    fused = model.fuse(t1, t2)
    torch.testing.assert_close(fused, reference, rtol=1e-5, atol=1e-6)
    weight = model.blocks[0].attn.in_proj_weight
    (grad,) = torch.autograd.grad(fused.square().sum(), weight, retain_graph=True)
    (expected,) = torch.autograd.grad(reference.square().sum(), weight)
    torch.testing.assert_close(grad, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("depth", [1, 2])
def test_fuse_masked_equals_fusing_each_masked_copy(depth: int) -> None:
    torch.manual_seed(1)
    # float64: the mask token's LayerNorm (a near-constant vector) amplifies float32 rounding
    model = FusionModel(((5,), (7,)), dataclasses.replace(TINY, depth=depth)).double()
    x1, x2 = torch.randn(4, 5, dtype=torch.float64), torch.randn(4, 7, dtype=torch.float64)
    t1, t2 = model.tokens(x1, x2)
    keep1, keep2 = torch.rand(3, 4, 3) < 0.5, torch.rand(3, 4, 3) < 0.5
    shared = model.fuse_masked(t1, t2, keep1, keep2)
    looped = torch.stack([model.fuse(t1, t2, keep1[t], keep2[t]) for t in range(3)])
    torch.testing.assert_close(shared, looped, rtol=1e-10, atol=1e-12)
    params = [model.mask_token, model.blocks[0].attn.in_proj_weight]
    grads = torch.autograd.grad(shared.square().sum(), params, retain_graph=True)
    expected = torch.autograd.grad(looped.square().sum(), params)
    for got, want in zip(grads, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="num_masks, batch"):
        model.fuse_masked(t1, t2, keep1, keep2[:2])


@pytest.mark.parametrize("groups", [1, 2, 6])
def test_projection_of_stacked_groups_equals_one_call_per_group(groups: int) -> None:
    # outputs, gradients and the batch norm's running statistics of G separate calls
    fast, slow = vector_model(3), vector_model(3)
    z = torch.randn(groups * 5, 8, requires_grad=True)
    for _ in range(2):  # running statistics after two steps
        out = fast.project_groups(z, groups)
        expected = torch.cat([slow.project(part) for part in z.chunk(groups)])
        torch.testing.assert_close(out, expected)
    weights = torch.randn_like(out)
    got = torch.autograd.grad((out * weights).sum(), [z, *fast.head.parameters()])
    want = torch.autograd.grad((expected * weights).sum(), [z, *slow.head.parameters()])
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w)
    for (name, buffer), (_, reference) in zip(
        fast.head.named_buffers(), slow.head.named_buffers(), strict=True
    ):
        torch.testing.assert_close(buffer, reference, msg=name)
    fast.eval(), slow.eval()
    torch.testing.assert_close(fast.project_groups(z, groups), slow.project(z))


@pytest.mark.parametrize("images", [False, True])
def test_tokens_of_stacked_views_equal_tokens_per_view(images: bool) -> None:
    # vector encoders run once on the stacked views; image encoders (batch norm) view by view
    torch.manual_seed(0)
    shapes = ((3, 8, 8), (5,)) if images else ((5,), (7,))
    model = FusionModel(shapes, TINY)
    views = [(torch.randn(4, *shapes[0]), torch.randn(4, *shapes[1])) for _ in range(2)]
    t1, t2 = model.tokens_of_views(views)
    per_view = [model.tokens(*view) for view in views]
    torch.testing.assert_close(t1, torch.cat([t[0] for t in per_view]))
    torch.testing.assert_close(t2, torch.cat([t[1] for t in per_view]))


def test_single_query_attention_equals_scaled_dot_product_attention_with_gradients() -> None:
    torch.manual_seed(4)
    block = FusionModel(((5,), (7,)), TINY).blocks[0]
    query = torch.randn(6, 1, 8, requires_grad=True)
    keys, values = (
        torch.randn(6, 4, 8, requires_grad=True),
        torch.randn(6, 4, 8, requires_grad=True),
    )
    heads, width = block.attn.num_heads, 8 // block.attn.num_heads

    def split(x: torch.Tensor) -> torch.Tensor:
        return x.view(6, x.shape[1], heads, width).transpose(1, 2)

    w_q, b_q = block.attn.in_proj_weight[:8], block.attn.in_proj_bias[:8]
    projected = torch.nn.functional.linear(query, w_q, b_q)
    sdpa = torch.nn.functional.scaled_dot_product_attention(
        split(projected), split(keys), split(values)
    )
    expected = block.attn.out_proj(sdpa.transpose(1, 2).reshape(6, 1, 8))
    got = block.attend(query, keys, values)
    torch.testing.assert_close(got, expected)
    weights = torch.randn_like(got)
    inputs = [query, keys, values, *block.parameters()]
    grads = torch.autograd.grad((got * weights).sum(), inputs, retain_graph=True, allow_unused=True)
    wants = torch.autograd.grad((expected * weights).sum(), inputs, allow_unused=True)
    for g, w in zip(grads, wants, strict=True):
        assert (g is None) == (w is None)
        if g is not None and w is not None:
            torch.testing.assert_close(g, w)
