"""Random data augmentations that draw the two views contrastive methods compare.

Torch ops only (no torchvision), run on the batch's device, each modality augmented on its own.
Vectors: additive Gaussian noise and random feature dropout (the tabular augmentations CoMM uses
for MultiBench, Dufumier et al., ICLR 2025). Images (B, 3, H, W) in [0, 1]: per-sample random
resized crop with horizontal flip and colour jitter (the SimCLR recipe, Chen et al., ICML 2020,
without grayscale and blur) by default; ``image_preset = "paper"`` selects the set the
Trifeatures experiments of CoMM (Dufumier et al., ICLR 2025) and InfMasking use: crop 8-100% of
the area, colour jitter (0.4, 0.4, 0.4, hue 0.1) with p 0.8, grayscale with p 0.2, Gaussian blur
(sigma in [0.1, 2] px at 224 px, kernel ~10% of the side) with p 0.5. All image ops draw
per-sample parameters and run on the whole batch at once. Every random draw takes an optional
``torch.Generator`` so that a seeded generator makes the views reproducible.

Sizes are fractions of the image, never pixels, so that an image of any side gets the papers'
augmentations at the relative sizes they were defined at (224 px): the crop's area and aspect
are fractions of the image's, the blur kernel is ~10% of the side, and the blur sigma is drawn in
[0.1, 2] px per 224 px of side (``blur_units = "side"``: [0.014, 0.29] px at 32 px). Before
issue 22 the sigma was drawn in [0.1, 2] px whatever the side (``blur_units = "px"``, what older
run folders recorded): at 32 px that is up to 6 % of the side against 0.9 % at 224 px.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F
from torch import Tensor

from synergy_lab.methods.base import Augment

DATA_KINDS: tuple[str, ...] = ("vector", "image")

# ITU-R BT.601 luma weights, as in torchvision's rgb_to_grayscale.
_LUMA = (0.299, 0.587, 0.114)

IMAGE_PRESETS: tuple[str, ...] = ("default", "paper")
# What image_preset = "paper" sets (every other field keeps its value); see AugmentConfig.
PAPER_IMAGE_SETTINGS: dict[str, float] = {
    "crop_min_scale": 0.08,
    "hue": 0.1,
    "grayscale_prob": 0.2,
    "blur_prob": 0.5,
}
#: Gaussian blur (SimCLR, Chen et al. 2020): sigma drawn uniformly in this range, in pixels of a
#: REFERENCE_SIDE px image; scaled to the image's side under blur_units = "side", taken as pixels
#: whatever the side under "px" (the behaviour before issue 22).
BLUR_SIGMA = (0.1, 2.0)
REFERENCE_SIDE = 224  # px: the image side the papers' augmentations are defined at
BLUR_UNITS: tuple[str, ...] = ("side", "px")
LEGACY_BLUR_UNITS = "px"  # what run folders written before issue 22 blurred with


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
    hue: float = 0.0  # images: hue shift drawn in [-h, h] turns (with the jitter), h <= 0.5
    grayscale_prob: float = 0.0  # images: probability that a sample is turned to grayscale
    blur_prob: float = 0.0  # images: probability of a Gaussian blur (sigma: blur_units)
    # images: "side": blur sigma in [0.1, 2] px per 224 px of the image side (the papers' blur at
    # its relative size); "px": in [0.1, 2] px whatever the side (run folders before issue 22)
    blur_units: str = "side"
    image_preset: str = "default"  # images: "default" (above) or "paper" (see below)

    def __post_init__(self) -> None:
        if self.image_preset not in IMAGE_PRESETS:
            raise ValueError(
                f"AugmentConfig.image_preset must be one of {', '.join(IMAGE_PRESETS)}; "
                f"got {self.image_preset!r}"
            )
        if self.image_preset == "paper":
            self._apply_paper_preset()
        if self.blur_units not in BLUR_UNITS:
            raise ValueError(
                f"AugmentConfig.blur_units must be one of {', '.join(BLUR_UNITS)}; "
                f"got {self.blur_units!r}"
            )
        if self.noise_std < 0:
            raise ValueError(f"AugmentConfig.noise_std must be >= 0; got {self.noise_std}")
        if not 0 <= self.feature_dropout < 1:
            raise ValueError(
                f"AugmentConfig.feature_dropout must be in [0, 1); got {self.feature_dropout}"
            )
        for name in ("flip_prob", "jitter_prob", "grayscale_prob", "blur_prob"):
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
        if not 0 <= self.hue <= 0.5:
            raise ValueError(f"AugmentConfig.hue must be in [0, 0.5]; got {self.hue}")

    def _apply_paper_preset(self) -> None:
        """Set the paper's image fields; a field set to anything but its default or the
        paper's value conflicts with the preset and is rejected (so nothing is silently lost)."""
        defaults = {f.name: f.default for f in fields(self)}
        for name, value in PAPER_IMAGE_SETTINGS.items():
            current = getattr(self, name)
            if current not in (defaults[name], value):
                raise ValueError(
                    f"AugmentConfig.image_preset = 'paper' sets {name} = {value}; got "
                    f"{name} = {current}. To change one op of the paper's set, use "
                    "image_preset = 'default' and set the fields: "
                    + ", ".join(f"{k} = {v}" for k, v in PAPER_IMAGE_SETTINGS.items())
                )
            object.__setattr__(self, name, value)


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


def rgb_to_hsv(x: Tensor) -> Tensor:
    """RGB images (B, 3, H, W) in [0, 1] -> HSV, each channel in [0, 1] (hue in turns)."""
    r, g, b = x.unbind(dim=1)
    high, argmax = x.max(dim=1)
    low = x.min(dim=1).values
    delta = high - low
    safe = torch.where(delta > 0, delta, torch.ones_like(delta))
    hue = torch.where(
        argmax == 0,
        ((g - b) / safe) % 6,
        torch.where(argmax == 1, (b - r) / safe + 2, (r - g) / safe + 4),
    )
    hue = torch.where(delta > 0, hue / 6, torch.zeros_like(hue)) % 1.0
    sat = torch.where(
        high > 0, delta / torch.where(high > 0, high, torch.ones_like(high)), 0 * high
    )
    return torch.stack([hue, sat, high], dim=1)


def hsv_to_rgb(x: Tensor) -> Tensor:
    """HSV images (B, 3, H, W), channels in [0, 1] -> RGB in [0, 1] (inverse of rgb_to_hsv)."""
    hue, sat, val = x.unbind(dim=1)
    # f(n) = v - v s max(0, min(k, 4 - k, 1)) with k = (n + 6 h) mod 6, n = 5, 3, 1 for R, G, B
    out = []
    for n in (5.0, 3.0, 1.0):
        k = (n + 6 * hue) % 6
        out.append(val - val * sat * torch.clamp(torch.minimum(k, 4 - k), 0, 1))
    return torch.stack(out, dim=1)


def hue_shift(x: Tensor, shift: Tensor) -> Tensor:
    """Rotate the hue of RGB images (B, 3, H, W) in [0, 1] by ``shift`` (B,) turns."""
    hsv = rgb_to_hsv(x)
    hue = (hsv[:, 0] + shift.view(-1, 1, 1).to(x.dtype)) % 1.0
    return hsv_to_rgb(torch.stack([hue, hsv[:, 1], hsv[:, 2]], dim=1)).clamp(0, 1)


def colour_jitter(
    x: Tensor,
    brightness: float,
    contrast: float,
    saturation: float,
    prob: float = 1.0,
    generator: torch.Generator | None = None,
    hue: float = 0.0,
) -> Tensor:
    """Random brightness, contrast, saturation and hue of images (B, C, H, W) in [0, 1].

    Per sample, factors f are drawn uniformly in [1 - strength, 1 + strength] (all 1 for the
    samples left alone, chosen with probability 1 - ``prob``) and applied in that order:
    brightness x * f, contrast mix with the image's mean luminance, saturation mix with the
    pixel's luminance (torchvision's definitions), clamping to [0, 1] after each; then, when
    ``hue`` > 0 (RGB only), a hue rotation drawn in [-hue, hue] turns. torchvision applies the
    four in a random order per call; here the order is fixed.
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
    x = (gray + fs * (x - gray)).clamp(0, 1)
    if hue > 0 and x.shape[1] == 3:
        shift = apply * _uniform((b,), -hue, hue, x, generator).to(x.dtype)
        x = hue_shift(x, shift)
    return x


def random_grayscale(x: Tensor, prob: float, generator: torch.Generator | None = None) -> Tensor:
    """Each image (B, C, H, W) replaced by its luminance in every channel with chance ``prob``."""
    if prob == 0:
        return x
    turn = (_uniform((x.shape[0],), 0.0, 1.0, x, generator) < prob).view(-1, 1, 1, 1)
    return torch.where(turn, grayscale(x).expand_as(x), x)


def blur_kernel_size(side: int) -> int:
    """Odd kernel side about 10% of the image side, at least 3 (SimCLR: 23 px at 224 px)."""
    size = max(3, int(round(0.1 * side)))
    return size if size % 2 else size + 1


def gaussian_blur(x: Tensor, sigma: Tensor, kernel_size: int | None = None) -> Tensor:
    """Blur each image (B, C, H, W) with its own Gaussian of std ``sigma`` (B,) pixels.

    Separable, reflect-padded, one grouped convolution per axis for the whole batch; a sample
    with sigma 0 is left exactly as it is (its kernel is a unit impulse).
    """
    b, c, h, w = x.shape
    size = kernel_size if kernel_size is not None else blur_kernel_size(min(h, w))
    half = size // 2
    offsets = torch.arange(-half, half + 1, device=x.device, dtype=x.dtype)
    sig = sigma.to(x.dtype).view(b, 1)
    safe = torch.where(sig > 0, sig, torch.ones_like(sig))
    kernel = torch.exp(-0.5 * (offsets.view(1, -1) / safe) ** 2)
    kernel = kernel / kernel.sum(dim=1, keepdim=True)
    impulse = (offsets == 0).to(x.dtype).expand(b, -1)
    kernel = torch.where(sig > 0, kernel, impulse)  # (B, size)
    weights = kernel.repeat_interleave(c, dim=0)  # (B * C, size): one kernel per channel
    flat = x.reshape(1, b * c, h, w)
    pad_w, pad_h = min(half, w - 1), min(half, h - 1)
    if pad_w < half or pad_h < half:
        raise ValueError(f"images of {h} x {w} px are too small for a {size} px blur kernel")
    flat = F.conv2d(
        F.pad(flat, (half, half, 0, 0), mode="reflect"), weights.view(-1, 1, 1, size), groups=b * c
    )
    flat = F.conv2d(
        F.pad(flat, (0, 0, half, half), mode="reflect"), weights.view(-1, 1, size, 1), groups=b * c
    )
    return flat.view(b, c, h, w)


def blur_sigma_range(side: int, units: str = "side") -> tuple[float, float]:
    """(low, high) of the blur sigma in pixels for images of ``side`` px (the shorter side).

    ``"side"``: :data:`BLUR_SIGMA` scaled by side / REFERENCE_SIDE, the same fraction of the side
    at every size ((0.1, 2.0) at 224 px, (0.0143, 0.286) at 32 px); ``"px"``: BLUR_SIGMA as is.
    """
    if units not in BLUR_UNITS:
        raise ValueError(f"blur units must be one of {', '.join(BLUR_UNITS)}; got {units!r}")
    scale = side / REFERENCE_SIDE if units == "side" else 1.0
    return BLUR_SIGMA[0] * scale, BLUR_SIGMA[1] * scale


def random_gaussian_blur(
    x: Tensor, prob: float, generator: torch.Generator | None = None, units: str = "side"
) -> Tensor:
    """Gaussian blur with chance ``prob`` per image (B, C, H, W), sigma uniform in
    :func:`blur_sigma_range` pixels: with the same generator, the sigmas drawn for images of
    two sizes differ by the ratio of their sides (``units = "side"``)."""
    if prob == 0:
        return x
    n = x.shape[0]
    low, high = blur_sigma_range(min(x.shape[-2:]), units)
    apply = _uniform((n,), 0.0, 1.0, x, generator) < prob
    sigma = _uniform((n,), low, high, x, generator)
    return gaussian_blur(x, torch.where(apply, sigma, torch.zeros_like(sigma)))


def augment_images(
    x: Tensor, config: AugmentConfig, generator: torch.Generator | None = None
) -> Tensor:
    """Random resized crop + horizontal flip, colour jitter (with hue), then random grayscale
    and Gaussian blur (both off unless set, e.g. by ``image_preset = "paper"``), on images
    (B, C, H, W) in [0, 1]; the SimCLR order."""
    x = random_resized_crop(
        x, config.crop_min_scale, config.crop_max_aspect, config.flip_prob, generator
    )
    x = colour_jitter(
        x,
        config.brightness,
        config.contrast,
        config.saturation,
        config.jitter_prob,
        generator,
        hue=config.hue,
    )
    x = random_grayscale(x, config.grayscale_prob, generator)
    return random_gaussian_blur(x, config.blur_prob, generator, config.blur_units)


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
