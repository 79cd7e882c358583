"""Augmentations: shapes and ranges kept, known special cases exact, seeded draws reproducible."""

from __future__ import annotations

import pytest
import torch

from synergy_lab.augment import (
    AugmentConfig,
    augment_images,
    augment_vectors,
    colour_jitter,
    crop_flip_matrices,
    feature_dropout,
    gaussian_noise,
    grayscale,
    make_augment,
    random_resized_crop,
)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(n: int = 6, size: int = 12, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=gen(seed))


def test_vector_augment_keeps_shape_and_is_seeded() -> None:
    x = torch.randn(32, 10, generator=gen(1))
    cfg = AugmentConfig(noise_std=0.2, feature_dropout=0.3)
    a = augment_vectors(x, cfg, gen(5))
    b = augment_vectors(x, cfg, gen(5))
    c = augment_vectors(x, cfg, gen(6))
    assert a.shape == x.shape and a.dtype == x.dtype
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_gaussian_noise_has_the_asked_std() -> None:
    x = torch.zeros(200_000)
    noise = gaussian_noise(x, 0.3, gen(2))
    assert abs(noise.mean().item()) < 0.005
    assert noise.std().item() == pytest.approx(0.3, rel=0.01)
    assert torch.equal(gaussian_noise(x, 0.0, gen(2)), x)


def test_feature_dropout_zeroes_the_asked_fraction_without_rescaling() -> None:
    x = torch.full((400, 500), 2.0)
    out = feature_dropout(x, 0.25, gen(3))
    assert set(out.unique().tolist()) == {0.0, 2.0}
    assert (out == 0).float().mean().item() == pytest.approx(0.25, abs=0.005)


def test_zero_strength_vector_augment_is_identity() -> None:
    x = torch.randn(8, 5, generator=gen(4))
    out = augment_vectors(x, AugmentConfig(noise_std=0.0, feature_dropout=0.0), gen(0))
    assert torch.equal(out, x)


def test_full_crop_without_flip_is_identity_and_with_flip_mirrors() -> None:
    x = images()
    same = random_resized_crop(x, min_scale=1.0, max_aspect=1.0, flip_prob=0.0, generator=gen(1))
    flipped = random_resized_crop(x, min_scale=1.0, max_aspect=1.0, flip_prob=1.0, generator=gen(1))
    torch.testing.assert_close(same, x, atol=1e-5, rtol=0)
    torch.testing.assert_close(flipped, x.flip(-1), atol=1e-5, rtol=0)


def test_crop_matrices_stay_inside_the_image_and_cover_the_asked_area() -> None:
    theta = crop_flip_matrices(5000, 0.3, 4 / 3, 0.5, torch.zeros(1), gen(7))
    w, h = theta[:, 0, 0].abs(), theta[:, 1, 1]
    cx, cy = theta[:, 0, 2], theta[:, 1, 2]
    assert torch.all(w <= 1) and torch.all(h <= 1)
    assert torch.all(cx.abs() <= 1 - w + 1e-6) and torch.all(cy.abs() <= 1 - h + 1e-6)
    area = w * h
    assert area.min().item() >= 0.3 - 1e-6 and area.max().item() <= 1 + 1e-6
    assert torch.all(theta[:, 0, 1] == 0) and torch.all(theta[:, 1, 0] == 0)
    flips = (theta[:, 0, 0] < 0).float().mean().item()
    assert flips == pytest.approx(0.5, abs=0.03)


def test_image_augment_keeps_shape_range_and_is_seeded() -> None:
    x = images(n=10, size=16)
    cfg = AugmentConfig()
    a = augment_images(x, cfg, gen(3))
    b = augment_images(x, cfg, gen(3))
    c = augment_images(x, cfg, gen(4))
    assert a.shape == x.shape
    assert a.min().item() >= 0 and a.max().item() <= 1
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_brightness_scales_each_image_by_a_factor_in_range() -> None:
    x = 0.5 * images(n=50)  # in [0, 0.5]: scaling by <= 1.4 never clips
    out = colour_jitter(x, brightness=0.4, contrast=0.0, saturation=0.0, generator=gen(2))
    factor = out.sum(dim=(1, 2, 3), keepdim=True) / x.sum(dim=(1, 2, 3), keepdim=True)
    torch.testing.assert_close(out, x * factor, atol=1e-5, rtol=0)
    assert factor.min().item() >= 0.6 - 1e-5 and factor.max().item() <= 1.4 + 1e-5
    assert factor.std().item() > 0.1  # factors differ between images


def test_contrast_keeps_mean_luminance_and_saturation_keeps_gray_images() -> None:
    x = 0.25 + 0.5 * images(n=8)  # mid-range: a contrast factor <= 1.4 does not clip
    out = colour_jitter(x, brightness=0.0, contrast=0.4, saturation=0.0, generator=gen(5))
    torch.testing.assert_close(
        grayscale(out).mean(dim=(1, 2, 3)), grayscale(x).mean(dim=(1, 2, 3)), atol=1e-5, rtol=0
    )
    gray = images(n=4)[:, :1].expand(-1, 3, -1, -1)
    out = colour_jitter(gray, brightness=0.0, contrast=0.0, saturation=0.4, generator=gen(6))
    torch.testing.assert_close(out, gray, atol=1e-6, rtol=0)


def test_jitter_probability_zero_leaves_images_alone() -> None:
    x = images()
    out = colour_jitter(x, 0.4, 0.4, 0.4, prob=0.0, generator=gen(1))
    torch.testing.assert_close(out, x, atol=1e-6, rtol=0)


def test_make_augment_augments_modalities_independently() -> None:
    x = torch.randn(16, 6, generator=gen(0))
    augment = make_augment("vector", AugmentConfig(), gen(9))
    a1, a2 = augment(x, x.clone())
    assert a1.shape == a2.shape == x.shape
    assert not torch.equal(a1, a2)
    again = make_augment("vector", AugmentConfig(), gen(9))(x, x.clone())
    assert torch.equal(again[0], a1) and torch.equal(again[1], a2)
    img = images(n=4)
    i1, i2 = make_augment("image", None, gen(1))(img, img.clone())
    assert i1.shape == img.shape and not torch.equal(i1, i2)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="data_kind"):
        make_augment("audio")
    for kwargs, name in [
        ({"noise_std": -0.1}, "noise_std"),
        ({"feature_dropout": 1.0}, "feature_dropout"),
        ({"crop_min_scale": 0.0}, "crop_min_scale"),
        ({"crop_max_aspect": 0.5}, "crop_max_aspect"),
        ({"flip_prob": 1.5}, "flip_prob"),
        ({"jitter_prob": -0.1}, "jitter_prob"),
        ({"brightness": 1.0}, "brightness"),
        ({"saturation": -0.2}, "saturation"),
    ]:
        with pytest.raises(ValueError, match=name):
            AugmentConfig(**kwargs)
