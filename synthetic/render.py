"""Numpy rasteriser for Trifeatures stimuli: 10 shapes x 10 textures x 10 colours.

After Hermann & Lampinen (NeurIPS 2020, "What shapes feature representations?"): a shape, at a
random rotation (+-45 degrees) and position fully inside the image, is filled with a texture
(itself at a random rotation and phase); the texture's "on" pixels take the colour, everything
else the grey background. Our own drawing, not theirs: shapes are unions of convex polygons (or
a disc) tested analytically at (supersampled) pixel centres, textures are looked up in a cached
bank of periodic binary tiles, and supersampled coverage is averaged for anti-aliasing. All
images of a batch are drawn at once (vectorised), chunk by chunk. The box-filtered coverage is
the area average over each pixel, what rendering at a higher resolution and area-downsampling
gives, so a texture finer than the pixels turns grey rather than aliasing.

Two renderer versions (``TaskConfig.trifeature_render``, :data:`STYLES`), which differ only in
the shape's size and the texture period. The papers draw a 10 px period on a 128 px shape (12.8
periods across a shape). ``"v1"`` (before issue 22; the committed run folders) draws a 20.5 px
shape with 5 px periods at 32 px (4.1 periods). ``"v2"`` (the default) draws the largest shape
that fits the image at every rotation, 22.4 px at 32 px, with the period at 5 px until the
papers' 12.8 periods per shape need more (from 90 px). Measured at 32 px (the cpu preset's R/U
training set, the supervised network of ``benchmarks/trifeature_reference.py`` on U2, 654 steps,
toolkit augmentations, seed 0): v1 0.570; with the 22.4 px shape, a period of 3.5 px (6.4
periods per shape) 0.575, 4.5 px 0.582, 5 px 0.599 (v2), 6.5 px 0.613, 8 px 0.613. Finer
periods do not read better at 32 px (their dots, pluses and grids blur into the same grey
lattice), so v2 keeps the 5 px period and gains periods per shape from the larger shape only.
Over seeds 0-2 (654 steps each; paired difference with its 95 % t-interval over seeds): U2 v1
0.570 / 0.617 / 0.615, v2 0.599 / 0.647 / 0.663, +0.036 [+0.010, +0.061]; R (the shape) v1
0.860 / 0.897 / 0.835, v2 0.905 / 0.917 / 0.885, +0.038 [-0.001, +0.078]. Dots and pluses stay
the hardest textures (U2 0.29-0.36 on them): at 32 px and this budget the drawing is not the
only limit on U2.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SHAPES: tuple[str, ...] = (
    "triangle",
    "square",
    "plus",
    "circle",
    "tee",
    "rhombus",
    "pentagon",
    "star",
    "fivesquare",
    "trapezoid",
)
TEXTURES: tuple[str, ...] = (
    "solid",
    "stripes",
    "grid",
    "hexgrid",
    "dots",
    "noise",
    "triangles",
    "zigzags",
    "rain",
    "pluses",
)
COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (1.0, 0.0, 0.0),
    "green": (0.0, 1.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0),
    "pink": (1.0, 0.4, 1.0),
    "cyan": (0.0, 1.0, 1.0),
    "purple": (0.3, 0.0, 0.5),
    "ocean": (0.1, 0.4, 0.5),
    "orange": (1.0, 0.6, 0.0),
    "white": (1.0, 1.0, 1.0),
}
COLOUR_NAMES: tuple[str, ...] = tuple(COLOURS)
COLOUR_RGB = np.array(list(COLOURS.values()), dtype=np.float32)  # (10, 3)
BACKGROUND = np.array([0.5, 0.5, 0.5], dtype=np.float32)

SHAPE_SCALE = 0.32  # v1: half-size of the canonical [-1, 1]^2 shape, a fraction of the side
MAX_ANGLE = np.pi / 4  # shapes and textures are rotated uniformly in [-45, +45] degrees
SHAPE_CELLS_PER_UNIT = 256  # shape template resolution (cells per canonical unit)
SHAPE_HALF_SPAN = 1.25  # templates cover [-1.25, 1.25]^2: room for the anti-aliasing blur
TILE_PERIODS = 4  # a texture tile spans 4 x 4 texture periods and repeats seamlessly
BANK_RESOLUTION = 32  # texture tile samples per texture period
BANK_SEED = 20200  # fixed: the random textures (noise, rain) are part of the task definition
POINTS_PER_CHUNK = 2**21  # pixels processed at once (bounds memory to ~100 MB)


@dataclass(frozen=True)
class Style:
    """How one renderer version sizes a stimulus (``TaskConfig.trifeature_render``).

    ``shape_scale``: half-size of the canonical [-1, 1]^2 shape as a fraction of the image side
    (the shape spans 2 * shape_scale * side px before rotation). The texture period in px is
    ``max(min_period_px, 2 * shape_scale * side / periods_per_shape)`` if ``periods_per_shape``
    is set, else ``max(min_period_px, side / 16)`` (v1's rule).
    """

    shape_scale: float
    min_period_px: float
    periods_per_shape: float | None = None


#: The papers' relative scale (Hermann & Lampinen's stimuli as CoMM and InfMasking use them):
#: a texture period of 10 px on a 128 px shape, 12.8 periods across the shape.
PAPER_PERIODS_PER_SHAPE = 12.8
STYLES: dict[str, Style] = {
    # v1 (before issue 22): 5 px periods on a 20.5 px shape at 32 px, 4.1 periods per shape
    "v1": Style(shape_scale=SHAPE_SCALE, min_period_px=5.0),
    # v2: the largest shape that still fits the image at every rotation (the five squares at
    # 45 degrees reach sqrt(2) * scale from the centre), 22.4 px at 32 px, with v1's 5 px period
    # (4.5 periods per shape); the papers' 12.8 periods per shape from 90 px up. Finer periods
    # read worse at 32 px (see the module docstring), so the period stays at 5 px
    "v2": Style(shape_scale=0.35, min_period_px=5.0, periods_per_shape=PAPER_PERIODS_PER_SHAPE),
}
RENDER_VERSION = "v2"  # the default (TaskConfig.trifeature_render)


def style(version: str) -> Style:
    """The :class:`Style` of renderer ``version``, or one ValueError naming the valid ones."""
    if version not in STYLES:
        raise ValueError(f"unknown trifeature renderer {version!r}; valid: {', '.join(STYLES)}")
    return STYLES[version]


def texture_period_px(image_size: int, version: str = RENDER_VERSION) -> float:
    """Texture period in pixels at ``image_size`` px for renderer ``version`` (see Style)."""
    drawn = style(version)
    if drawn.periods_per_shape is None:
        return max(drawn.min_period_px, image_size / 16.0)
    shape_px = 2 * drawn.shape_scale * image_size
    return max(drawn.min_period_px, shape_px / drawn.periods_per_shape)


def periods_per_shape(image_size: int, version: str = RENDER_VERSION) -> float:
    """Texture periods across the canonical shape's side (2 * shape_scale * side px)."""
    return 2 * style(version).shape_scale * image_size / texture_period_px(image_size, version)


# ---------------------------------------------------------------------------------------------
# Shapes: unions of convex polygons (counter-clockwise vertices) in [-1, 1]^2; "circle" is a disc.


def _regular_polygon(n: int, radius: float, phase: float) -> np.ndarray:
    angles = phase + 2 * np.pi * np.arange(n) / n
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def _counter_clockwise(vertices: np.ndarray) -> np.ndarray:
    """The same convex polygon with its vertices in counter-clockwise order."""
    x, y = vertices[:, 0], vertices[:, 1]
    signed_area = np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)
    return vertices if signed_area > 0 else vertices[::-1].copy()


def _star_parts() -> list[np.ndarray]:
    """A five-pointed star: the inner pentagon plus one triangle per tip."""
    outer = _regular_polygon(5, 1.0, np.pi / 2)
    inner = _regular_polygon(5, 0.42, np.pi / 2 + np.pi / 5)
    # tip k points between inner vertices k - 1 and k
    return [inner, *[np.stack([inner[k - 1], inner[k], outer[k]]) for k in range(5)]]


_SHAPE_POLYGONS: dict[str, list[np.ndarray]] = {
    "triangle": [np.array([[-1.0, -0.9], [1.0, -0.9], [0.0, 0.9]])],
    "square": [_rect(-0.85, -0.85, 0.85, 0.85)],
    "plus": [_rect(-1.0, -0.33, 1.0, 0.33), _rect(-0.33, -1.0, 0.33, 1.0)],
    "circle": [],  # the unit disc, tested analytically
    "tee": [_rect(-1.0, 0.4, 1.0, 1.0), _rect(-0.32, -1.0, 0.32, 0.4)],
    "rhombus": [np.array([[-1.0, -0.8], [0.25, -0.8], [1.0, 0.8], [-0.25, 0.8]])],
    "pentagon": [_regular_polygon(5, 1.0, np.pi / 2)],
    "star": _star_parts(),
    "fivesquare": [
        _rect(cx - 0.3, cy - 0.3, cx + 0.3, cy + 0.3)
        for cx, cy in ((-0.7, -0.7), (0.7, -0.7), (0.0, 0.0), (0.7, 0.7), (-0.7, 0.7))
    ],
    "trapezoid": [np.array([[-1.0, -0.6], [1.0, -0.6], [0.45, 0.6], [-0.45, 0.6]])],
}
SHAPE_PARTS: dict[str, list[np.ndarray]] = {
    name: [_counter_clockwise(part) for part in parts] for name, parts in _SHAPE_POLYGONS.items()
}


def halfplanes(vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convex CCW polygon -> (normals (E, 2), offsets (E,)): inside iff p @ normals.T >= offsets."""
    edges = np.roll(vertices, -1, axis=0) - vertices
    normals = np.stack([-edges[:, 1], edges[:, 0]], axis=1)  # edge turned 90 deg: points inward
    return normals, np.einsum("ij,ij->i", normals, vertices)


def shape_mask(shape: str, local: np.ndarray) -> np.ndarray:
    """(..., 2) points in the shape's canonical frame -> (...) bool: inside the shape."""
    if shape == "circle":
        return np.einsum("...i,...i->...", local, local) <= 1.0
    inside = np.zeros(local.shape[:-1], dtype=bool)
    for part in SHAPE_PARTS[shape]:
        normals, offsets = halfplanes(part)
        inside |= np.all(local @ normals.T.astype(local.dtype) >= offsets.astype(local.dtype), -1)
    return inside


def shape_extent(shape: str, angles: np.ndarray) -> np.ndarray:
    """(n,) rotation angles -> (n, 2) half-extents |x|, |y| of the rotated canonical shape."""
    if shape == "circle":
        return np.ones((angles.shape[0], 2))
    vertices = np.concatenate(SHAPE_PARTS[shape])  # (V, 2)
    cos, sin = np.cos(angles)[:, None], np.sin(angles)[:, None]
    x = cos * vertices[None, :, 0] - sin * vertices[None, :, 1]
    y = sin * vertices[None, :, 0] + cos * vertices[None, :, 1]
    return np.stack([np.abs(x).max(axis=1), np.abs(y).max(axis=1)], axis=1)


# ---------------------------------------------------------------------------------------------
# Textures: periodic binary tiles, TILE_PERIODS periods on a side, BANK_RESOLUTION samples each.


def _texture_tile(name: str, a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Binary pattern at texture coordinates a (across), b (up), both in periods."""
    fa, fb = a % 1.0, b % 1.0
    cells = TILE_PERIODS * 4  # random textures switch every quarter period
    if name == "solid":
        return np.ones_like(a, dtype=bool)
    if name == "stripes":
        return fb < 0.5
    if name == "grid":
        return (fa < 0.35) | (fb < 0.35)
    if name == "hexgrid":  # three line families (0 and +-63 degrees), seamless over the tile
        return (fb < 0.2) | (((b + 2 * a) / 2) % 1.0 < 0.2) | (((b - 2 * a) / 2) % 1.0 < 0.2)
    if name == "dots":
        return (fa - 0.5) ** 2 + (fb - 0.5) ** 2 < 0.36**2
    if name == "noise":
        grid = rng.random((cells, cells)) < 0.5
        return grid[(b * 4).astype(int) % cells, (a * 4).astype(int) % cells]
    if name == "triangles":
        return (fb > 0.12) & (np.abs(fa - 0.5) < 0.42 * (0.88 - fb) / 0.76)
    if name == "zigzags":
        return (b + 1.2 * np.abs(fa - 0.5)) % 1.0 < 0.4
    if name == "rain":  # short vertical streaks, a quarter period wide and one period long
        grid = np.zeros((cells, cells), dtype=bool)
        columns = rng.choice(cells, size=32)
        starts = rng.integers(0, cells, size=32)
        for column, start in zip(columns, starts, strict=True):
            grid[(start + np.arange(4)) % cells, column] = True
        return grid[(b * 4).astype(int) % cells, (a * 4).astype(int) % cells]
    if name == "pluses":
        ca, cb = np.abs(fa - 0.5), np.abs(fb - 0.5)
        return ((ca < 0.13) & (cb < 0.4)) | ((cb < 0.13) & (ca < 0.4))
    raise ValueError(f"unknown texture {name!r}; valid textures: {', '.join(TEXTURES)}")


@lru_cache(maxsize=1)
def texture_bank() -> np.ndarray:
    """(10, T, T) bool tiles, T = TILE_PERIODS * BANK_RESOLUTION; built once, read-only."""
    side = TILE_PERIODS * BANK_RESOLUTION
    coords = (np.arange(side) + 0.5) / BANK_RESOLUTION
    a, b = np.meshgrid(coords, coords)  # a varies along columns, b along rows
    rng = np.random.default_rng(BANK_SEED)
    bank = np.stack([_texture_tile(name, a, b, rng) for name in TEXTURES])
    bank.setflags(write=False)
    return bank


@lru_cache(maxsize=1)
def shape_bank() -> np.ndarray:
    """(10, N + 2, N + 2) bool templates of the canonical shapes, N = 2 * 1.25 * 256.

    Cell (row, col), 1 <= row, col <= N, covers x in [-1.25 + (col - 1) / 256, -1.25 + col / 256)
    and y likewise from row (y up); the empty one-cell border is where every point outside
    the template lands. Built once from :func:`shape_mask`, read-only.
    """
    n = int(2 * SHAPE_HALF_SPAN * SHAPE_CELLS_PER_UNIT)
    coords = -SHAPE_HALF_SPAN + (np.arange(n + 2) - 0.5) / SHAPE_CELLS_PER_UNIT
    x, y = np.meshgrid(coords, coords)
    bank = np.stack([shape_mask(name, np.stack([x, y], axis=-1)) for name in SHAPES])
    bank[:, [0, -1], :] = False
    bank[:, :, [0, -1]] = False
    bank.setflags(write=False)
    return bank


def box_filter(bank: np.ndarray, width: int, wrap: bool) -> np.ndarray:
    """(k, N, M) -> float32 moving average over ``width`` (odd) cells along both last axes.

    ``wrap`` treats each tile as periodic (textures); otherwise the outside counts as empty.
    """
    out = bank.astype(np.float64)
    if width <= 1:
        return out.astype(np.float32)
    half = width // 2
    for axis in (1, 2):
        pad = [(0, 0)] * 3
        pad[axis] = (half + 1, half)
        sums = np.cumsum(np.pad(out, pad, mode="wrap" if wrap else "constant"), axis=axis)
        size = out.shape[axis]
        upper = np.take(sums, np.arange(width, width + size), axis=axis)
        lower = np.take(sums, np.arange(size), axis=axis)
        out = (upper - lower) / width
    return out.astype(np.float32)


def _odd(width: float) -> int:
    return 2 * int(round((width - 1) / 2)) + 1


@lru_cache(maxsize=8)
def coverage_banks(image_size: int, version: str = RENDER_VERSION) -> tuple[np.ndarray, np.ndarray]:
    """Shape and texture banks pre-blurred over one pixel's footprint, as uint8 (0..255).

    Looking a pixel centre up in a box-blurred template gives (about) the fraction of the
    pixel the shape / texture covers: anti-aliasing at the cost of one lookup per pixel.
    """
    shape_width = _odd(SHAPE_CELLS_PER_UNIT / (style(version).shape_scale * image_size))
    texture_width = _odd(BANK_RESOLUTION / texture_period_px(image_size, version))
    shapes = box_filter(shape_bank(), shape_width, wrap=False)
    shapes[:, [0, -1], :] = 0.0
    shapes[:, :, [0, -1]] = 0.0
    textures = box_filter(texture_bank(), texture_width, wrap=True)
    banks = tuple(np.round(b * 255).astype(np.uint8) for b in (shapes, textures))
    for bank in banks:
        bank.setflags(write=False)
    return banks  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# Poses and rasterisation.


@dataclass(frozen=True)
class Poses:
    """Random nuisance parameters of n images (image coordinates in [0, 1], y up)."""

    angle: np.ndarray  # (n,) shape rotation, radians
    centre: np.ndarray  # (n, 2) shape centre
    texture_angle: np.ndarray  # (n,) texture rotation, radians
    texture_offset: np.ndarray  # (n, 2) texture phase, in periods

    def take(self, index: np.ndarray) -> Poses:
        """The poses of the images at ``index``."""
        return Poses(
            self.angle[index],
            self.centre[index],
            self.texture_angle[index],
            self.texture_offset[index],
        )


def draw_poses(
    shapes: np.ndarray, rng: np.random.Generator, version: str = RENDER_VERSION
) -> Poses:
    """Uniform rotations, texture phases and centres that keep each whole shape in the image
    (drawn at renderer ``version``'s shape size; the same draws from ``rng`` at every version)."""
    scale = style(version).shape_scale
    n = int(shapes.shape[0])
    angle = rng.uniform(-MAX_ANGLE, MAX_ANGLE, size=n)
    texture_angle = rng.uniform(-MAX_ANGLE, MAX_ANGLE, size=n)
    texture_offset = rng.uniform(0.0, TILE_PERIODS, size=(n, 2))
    extent = np.empty((n, 2))
    for index, name in enumerate(SHAPES):
        chosen = shapes == index
        extent[chosen] = scale * shape_extent(name, angle[chosen])
    centre = extent + rng.random((n, 2)) * (1.0 - 2.0 * extent)
    return Poses(angle, centre, texture_angle, texture_offset)


def _affine(angle: np.ndarray, scale: float, origin: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """(m, 2, 3) maps p -> R(-angle) (p - origin) / scale + shift, on homogeneous (x, y, 1)."""
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    rot = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)  # (m, 2, 2)
    bias = shift - np.einsum("mij,mj->mi", rot, origin)
    return np.concatenate([rot, bias[..., None]], axis=-1)


def render(
    shapes: np.ndarray,
    textures: np.ndarray,
    colours: np.ndarray,
    poses: Poses,
    image_size: int,
    version: str = RENDER_VERSION,
) -> np.ndarray:
    """Draw n stimuli: (n,) shape / texture / colour indices -> (n, 3, H, W) float32 in [0, 1],
    sized as renderer ``version`` says (:data:`STYLES`); ``poses`` from :func:`draw_poses` at
    the same version.

    Pixel value = c * colour + (1 - c) * background, with c the (anti-aliased) fraction of
    the pixel covered by both the shape and its texture's "on" parts.
    """
    n = shapes.shape[0]
    centres = (np.arange(image_size) + 0.5) / image_size
    px, py = np.meshgrid(centres, 1.0 - centres)  # row 0 is the top of the image
    points = np.stack([px.ravel(), py.ravel(), np.ones(px.size)]).astype(np.float32)  # (3, P)
    scale = style(version).shape_scale
    period = texture_period_px(image_size, version) / image_size
    shape_cov, texture_cov = coverage_banks(image_size, version)
    side = shape_cov.shape[1]
    tile = texture_cov.shape[1]  # a power of two: "& (tile - 1)" is a cheap modulo
    # template cell = local * cells_per_unit + (half_span * cells_per_unit + 1), see shape_bank
    to_shape = _affine(
        poses.angle,
        scale / SHAPE_CELLS_PER_UNIT,
        poses.centre,
        np.full((n, 2), SHAPE_HALF_SPAN * SHAPE_CELLS_PER_UNIT + 1.0),
    ).astype(np.float32)
    # tile cell, shifted by whole tiles so it is positive and truncation floors it
    to_texture = _affine(
        poses.texture_angle,
        period / BANK_RESOLUTION,
        np.full((n, 2), 0.5),
        poses.texture_offset * BANK_RESOLUTION + tile * np.ceil(2.0 / period / TILE_PERIODS),
    ).astype(np.float32)
    shape_flat, texture_flat = shape_cov.reshape(-1), texture_cov.reshape(-1)
    out = np.empty((n, 3, image_size, image_size), dtype=np.float32)
    chunk = max(1, POINTS_PER_CHUNK // points.shape[1])
    for start in range(0, n, chunk):
        sl = slice(start, min(start + chunk, n))
        m = sl.stop - sl.start
        cell = np.clip(to_shape[sl] @ points, 0, side - 1).astype(np.int32)  # (m, 2, P)
        index = cell[:, 1] * side + cell[:, 0] + (shapes[sl, None] * side * side).astype(np.int32)
        inside = shape_flat[index]
        cell = (to_texture[sl] @ points).astype(np.int32) & (tile - 1)
        index = cell[:, 1] * tile + cell[:, 0] + (textures[sl, None] * tile * tile).astype(np.int32)
        cover = inside * texture_flat[index].astype(np.float32) * np.float32(1.0 / 255**2)
        cover = cover.reshape(m, 1, image_size, image_size)
        colour = COLOUR_RGB[colours[sl]][:, :, None, None]
        out[sl] = cover * colour + (1.0 - cover) * BACKGROUND[None, :, None, None]
    return out


def catalogue(
    image_size: int,
    version: str = RENDER_VERSION,
    shapes: tuple[str, ...] = ("square", "circle", "star", "triangle"),
    colour: str = "white",
    seed: int = 0,
) -> np.ndarray:
    """Every texture on each of ``shapes``: (10 * len(shapes), 3, H, W) float32, texture-major
    (row t * len(shapes) + s is texture t on shape s), centred, upright shapes in ``colour``
    with a random texture rotation and phase (seeded): what a model sees at ``image_size``."""
    shape_index = np.array([SHAPES.index(name) for name in shapes])
    n_shapes = len(shapes)
    shape_ids = np.tile(shape_index, len(TEXTURES))
    textures = np.repeat(np.arange(len(TEXTURES)), n_shapes)
    n = shape_ids.shape[0]
    rng = np.random.default_rng(seed)
    poses = Poses(
        angle=np.zeros(n),
        centre=np.full((n, 2), 0.5),
        texture_angle=np.asarray(rng.uniform(-MAX_ANGLE, MAX_ANGLE, size=n)),
        texture_offset=np.asarray(rng.uniform(0.0, TILE_PERIODS, size=(n, 2))),
    )
    colours = np.full(n, COLOUR_NAMES.index(colour))
    return render(shape_ids, textures, colours, poses, image_size, version)


def mosaic(images: np.ndarray, columns: int, zoom: int = 1, gap: int = 1) -> np.ndarray:
    """(n, 3, H, W) images -> one (rows * (H * zoom + gap), columns * (W * zoom + gap), 3)
    float32 picture, row-major, each pixel repeated ``zoom`` times (nearest), black gaps."""
    n, _, h, w = images.shape
    rows = -(-n // columns)
    cell_h, cell_w = h * zoom + gap, w * zoom + gap
    out = np.zeros((rows * cell_h, columns * cell_w, 3), dtype=np.float32)
    big = images.repeat(zoom, axis=2).repeat(zoom, axis=3).transpose(0, 2, 3, 1)
    for i in range(n):
        r, c = divmod(i, columns)
        out[r * cell_h : r * cell_h + h * zoom, c * cell_w : c * cell_w + w * zoom] = big[i]
    return out
