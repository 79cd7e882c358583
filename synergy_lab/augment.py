"""Random data augmentations that draw the two views contrastive methods compare.

Torch ops only (no torchvision), run on the batch's device, each modality augmented on its own.
Vectors: additive Gaussian noise and random feature dropout (the tabular augmentations CoMM uses
for MultiBench, Dufumier et al., ICLR 2025). Images (B, 3, H, W) in [0, 1]: per-sample random
resized crop with horizontal flip and colour jitter (the SimCLR recipe, Chen et al., ICML 2020,
without grayscale and blur). Every random draw takes an optional ``torch.Generator`` so that a
seeded generator makes the views reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from synergy_lab.methods.base import Augment

DATA_KINDS: tuple[str, ...] = ("vector", "image")

# ITU-R BT.601 luma weights, as in torchvision's rgb_to_grayscale.
_LUMA = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class AugmentConfig:
    """Strengths of every augmentation; set one to 0 to switch it off.

    Vector noise is in the data's own units (the synthetic tasks standardise features, so
    ``noise_std`` is a fraction of one feature's standard deviation). The vector defaults are
    strong on purpose, tuned on ``xor``: with weak views (noise 0.1, dropout 0.1) CoMM's fused
    representation kept S at chance for a linear probe (0.55), with these it reaches > 0.95;
    views that erase the sample-specific noise make the latent codes the thing to tell apart.
    The image crop keeps at least 80% of the area: on 32 px trifeature a 50% crop blurs the
    textures away once resized (CoMM, 4,000 pairs, 10 epochs: shape probe 0.47 at 0.5, 0.60 at
    0.8; SimCLR's 0.08 is for 224 px photographs).
    """

    noise_std: float = 0.8  # vectors: std of the additive Gaussian noise
    feature_dropout: float = 0.3  # vectors: probability that each feature is set to 0
    crop_min_scale: float = 0.8  # images: smallest crop area, as a fraction of the image
    crop_max_aspect: float = 4 / 3  # images: crop aspect ratio drawn log-uniformly in [1/a, a]
    flip_prob: float = 0.5  # images: probability of a horizontal flip
    jitter_prob: float = 0.8  # images: probability that colour jitter is applied to a sample
    brightness: float = 0.4  # images: brightness factor drawn in [1 - b, 1 + b]
    contrast: float = 0.4  # images: contrast factor drawn in [1 - c, 1 + c]
    saturation: float = 0.4  # images: saturation factor drawn in [1 - s, 1 + s]

    def __post_init__(self) -> None:
        if self.noise_std < 0:
            raise ValueError(f"AugmentConfig.noise_std must be >= 0; got {self.noise_std}")
        if not 0 <= self.feature_dropout < 1:
            raise ValueError(
                f"AugmentConfig.feature_dropout must be in [0, 1); got {self.feature_dropout}"
            )
        for name in ("flip_prob", "jitter_prob"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"AugmentConfig.{name} must be in [0, 1]; got {value}")
        if not 0 < self.crop_min_scale <= 1:
            raise ValueError(
                f"AugmentConfig.crop_min_scale must be in (0, 1]; got {self.crop_min_scale}"
            )
        if self.crop_max_aspect < 1:
            raise ValueError(
                f"AugmentConfig.crop_max_aspect must be >= 1; got {self.crop_max_aspect}"
            )
        for name in ("brightness", "contrast", "saturation"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise ValueError(f"AugmentConfig.{name} must be in [0, 1); got {value}")


def _uniform(
    shape: tuple[int, ...], low: float, high: float, like: Tensor, generator: torch.Generator | None
) -> Tensor:
    """Uniform draws in [low, high) of ``shape`` on ``like``'s device, in float32."""
    u = torch.rand(shape, generator=generator, device=like.device, dtype=torch.float32)
    return low + (high - low) * u


# ---------------------------------------------------------------------------- vectors


def gaussian_noise(x: Tensor, std: float, generator: torch.Generator | None = None) -> Tensor:
    """``x + std * N(0, 1)``, same shape as ``x``."""
    if std == 0:
        return x
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x + std * noise


def feature_dropout(x: Tensor, p: float, generator: torch.Generator | None = None) -> Tensor:
    """Set each entry of ``x`` (B, d) to 0 with probability ``p``, independently; no rescaling.

    Unlike regularising dropout the survivors are not scaled by 1/(1-p): this is an
    augmentation (a view with missing features), not a change of the expected activation.
    """
    if p == 0:
        return x
    keep = _uniform(tuple(x.shape), 0.0, 1.0, x, generator) >= p
    return x * keep.to(x.dtype)


def augment_vectors(
    x: Tensor, config: AugmentConfig, generator: torch.Generator | None = None
) -> Tensor:
    """Feature dropout then Gaussian noise on vectors (B, d)."""
    x = feature_dropout(x, config.feature_dropout, generator)
    return gaussian_noise(x, config.noise_std, generator)


# ---------------------------------------------------------------------------- images


def crop_flip_matrices(
    batch: int,
    min_scale: float,
    max_aspect: float,
    flip_prob: float,
    like: Tensor,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Affine matrices (B, 2, 3) for ``F.affine_grid``: a random crop, maybe mirrored.

    In the normalised coordinates of ``affine_grid`` ([-1, 1] on both axes) a crop covering a
    fraction ``w`` of the width and ``h`` of the height centred at (cx, cy) is the map
    out -> (w * out_x + cx, h * out_y + cy); a horizontal flip negates ``w``. The crop area
    fraction is uniform in [min_scale, 1] and the aspect ratio w/h log-uniform in
    [1/max_aspect, max_aspect]; sides larger than the image are clipped to it (torchvision
    instead re-draws, then falls back to a centre crop).
    """
    scale = _uniform((batch,), min_scale, 1.0, like, generator)
    log_aspect = _uniform((batch,), -math.log(max_aspect), math.log(max_aspect), like, generator)
    aspect = torch.exp(log_aspect)
    w = torch.sqrt(scale * aspect).clamp(max=1.0)
    h = torch.sqrt(scale / aspect).clamp(max=1.0)
    cx = (1 - w) * _uniform((batch,), -1.0, 1.0, like, generator)
    cy = (1 - h) * _uniform((batch,), -1.0, 1.0, like, generator)
    flip = _uniform((batch,), 0.0, 1.0, like, generator) < flip_prob
    sx = torch.where(flip, -w, w)
    zero = torch.zeros_like(w)
    theta = torch.stack([torch.stack([sx, zero, cx], -1), torch.stack([zero, h, cy], -1)], 1)
    return theta


def random_resized_crop(
    x: Tensor,
    min_scale: float,
    max_aspect: float,
    flip_prob: float = 0.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Per-sample random crop of images (B, C, H, W) resized back to (H, W), maybe flipped.

    Bilinear resampling of points inside the image, so values stay in the input's range.
    """
    theta = crop_flip_matrices(x.shape[0], min_scale, max_aspect, flip_prob, x, generator)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def grayscale(x: Tensor) -> Tensor:
    """Luminance (B, 1, H, W) of RGB images (B, 3, H, W); the channel mean for other counts."""
    if x.shape[1] != 3:
        return x.mean(dim=1, keepdim=True)
    weights = torch.tensor(_LUMA, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * weights).sum(dim=1, keepdim=True)


def colour_jitter(
    x: Tensor,
    brightness: float,
    contrast: float,
    saturation: float,
    prob: float = 1.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Random brightness, contrast and saturation of images (B, C, H, W) in [0, 1].

    Per sample, factors f are drawn uniformly in [1 - strength, 1 + strength] (all 1 for the
    samples left alone, chosen with probability 1 - ``prob``) and applied in that order:
    brightness x * f, contrast mix with the image's mean luminance, saturation mix with the
    pixel's luminance (torchvision's definitions), clamping to [0, 1] after each.
    """
    b = x.shape[0]
    apply = (_uniform((b,), 0.0, 1.0, x, generator) < prob).to(x.dtype)

    def factor(strength: float) -> Tensor:
        f = _uniform((b,), 1 - strength, 1 + strength, x, generator).to(x.dtype)
        return (1 + apply * (f - 1)).view(b, 1, 1, 1)

    fb, fc, fs = factor(brightness), factor(contrast), factor(saturation)
    x = (x * fb).clamp(0, 1)
    mean = grayscale(x).mean(dim=(1, 2, 3), keepdim=True)
    x = (mean + fc * (x - mean)).clamp(0, 1)
    gray = grayscale(x)
    return (gray + fs * (x - gray)).clamp(0, 1)


def augment_images(
    x: Tensor, config: AugmentConfig, generator: torch.Generator | None = None
) -> Tensor:
    """Random resized crop + horizontal flip, then colour jitter, on images (B, C, H, W)."""
    x = random_resized_crop(
        x, config.crop_min_scale, config.crop_max_aspect, config.flip_prob, generator
    )
    return colour_jitter(
        x, config.brightness, config.contrast, config.saturation, config.jitter_prob, generator
    )


# ---------------------------------------------------------------------------- both modalities


def make_augment(
    data_kind: str, config: AugmentConfig | None = None, generator: torch.Generator | None = None
) -> Augment:
    """``(x1, x2) -> (x1', x2')`` augmenting each modality independently for ``data_kind``.

    ``data_kind`` is ``"vector"`` or ``"image"`` (a dataset's ``kind``). ``generator``, if given,
    must live on the device of the tensors it will augment.
    """
    if data_kind not in DATA_KINDS:
        raise ValueError(f"data_kind must be one of {', '.join(DATA_KINDS)}; got {data_kind!r}")
    cfg = config if config is not None else AugmentConfig()
    one = augment_vectors if data_kind == "vector" else augment_images

    def augment(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
        return one(x1, cfg, generator), one(x2, cfg, generator)

    return augment
