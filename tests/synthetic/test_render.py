"""The rasteriser: shape templates, poses inside the image, areas, textures, determinism."""

from pathlib import Path

import numpy as np
import pytest

from synthetic import render as R

FIXTURES = Path(__file__).parents[1] / "fixtures"


def test_catalogue_sizes() -> None:
    assert len(R.SHAPES) == len(R.TEXTURES) == len(R.COLOURS) == 10
    assert R.COLOUR_RGB.shape == (10, 3)
    assert len({tuple(c) for c in R.COLOUR_RGB.tolist()}) == 10


def test_halfplanes_of_a_square() -> None:
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    normals, offsets = R.halfplanes(square)
    inside = np.array([0.5, 0.5]) @ normals.T >= offsets
    outside = np.array([1.5, 0.5]) @ normals.T >= offsets
    assert inside.all() and not outside.all()


@pytest.mark.parametrize(
    ("name", "area"),
    [("square", 1.7**2), ("circle", np.pi), ("plus", 2 * 2 * 0.66 - 0.66**2), ("triangle", 1.8)],
)
def test_template_areas_match_the_geometry(name: str, area: float) -> None:
    template = R.shape_bank()[R.SHAPES.index(name)]
    cell = 1.0 / R.SHAPE_CELLS_PER_UNIT
    assert template.sum() * cell**2 == pytest.approx(area, rel=0.01)
    assert not template[[0, -1]].any() and not template[:, [0, -1]].any()


def test_every_shape_is_distinct_and_inside_the_unit_square() -> None:
    bank = R.shape_bank()
    flat = bank.reshape(10, -1)
    assert len({row.tobytes() for row in flat}) == 10
    n = bank.shape[1]
    coords = -R.SHAPE_HALF_SPAN + (np.arange(n) - 0.5) / R.SHAPE_CELLS_PER_UNIT
    outside = np.abs(coords) > 1.0 + 1e-9
    assert not bank[:, outside, :].any() and not bank[:, :, outside].any()


@pytest.mark.parametrize("version", sorted(R.STYLES))
def test_poses_keep_the_whole_shape_in_the_image(version: str) -> None:
    rng = np.random.default_rng(0)
    shapes = np.repeat(np.arange(10), 200)
    poses = R.draw_poses(shapes, rng, version)
    scale = R.STYLES[version].shape_scale
    assert np.all(np.abs(poses.angle) <= R.MAX_ANGLE)
    for index, name in enumerate(R.SHAPES):
        chosen = shapes == index
        vertices = (
            np.concatenate(R.SHAPE_PARTS[name])
            if name != "circle"
            else np.stack(
                [np.cos(np.linspace(0, 2 * np.pi, 64)), np.sin(np.linspace(0, 2 * np.pi, 64))], 1
            )
        )
        cos, sin = np.cos(poses.angle[chosen]), np.sin(poses.angle[chosen])
        x = cos[:, None] * vertices[:, 0] - sin[:, None] * vertices[:, 1]
        y = sin[:, None] * vertices[:, 0] + cos[:, None] * vertices[:, 1]
        px = poses.centre[chosen, 0:1] + scale * x
        py = poses.centre[chosen, 1:2] + scale * y
        assert px.min() >= -1e-9 and px.max() <= 1 + 1e-9
        assert py.min() >= -1e-9 and py.max() <= 1 + 1e-9


@pytest.mark.parametrize("version", sorted(R.STYLES))
def test_solid_shapes_cover_their_area_and_take_the_colour(version: str) -> None:
    rng = np.random.default_rng(1)
    size = 64
    shapes = np.repeat(np.arange(10), 5)
    colours = np.arange(50) % 10
    poses = R.draw_poses(shapes, rng, version)
    images = R.render(shapes, np.zeros(50, dtype=int), colours, poses, size, version)
    scale = R.STYLES[version].shape_scale
    assert images.shape == (50, 3, size, size) and images.dtype == np.float32
    bank = R.shape_bank()
    for i in range(50):
        colour, background = R.COLOUR_RGB[colours[i]], R.BACKGROUND
        channel = int(np.argmax(np.abs(colour - background)))
        cover = (images[i, channel] - background[channel]) / (colour[channel] - background[channel])
        expected = bank[shapes[i]].sum() * (scale * size / R.SHAPE_CELLS_PER_UNIT) ** 2
        assert cover.sum() == pytest.approx(expected, rel=0.03)
        assert cover.min() >= -1e-5 and cover.max() <= 1 + 1e-5
        # pixels fully inside show exactly the colour
        assert np.allclose(images[i][:, cover > 0.999], colour[:, None], atol=1e-3)


def test_textures_are_distinct_seamless_tiles() -> None:
    bank = R.texture_bank()
    assert bank.shape == (
        10,
        R.TILE_PERIODS * R.BANK_RESOLUTION,
        R.TILE_PERIODS * R.BANK_RESOLUTION,
    )
    assert bank[R.TEXTURES.index("solid")].all()
    on = bank.reshape(10, -1).mean(axis=1)
    assert np.all(on > 0.15)
    assert len({t.tobytes() for t in bank}) == 10
    # a tile repeats seamlessly: the deterministic patterns repeat each period
    stripes = bank[R.TEXTURES.index("stripes")]
    assert np.array_equal(
        stripes[: R.BANK_RESOLUTION], stripes[R.BANK_RESOLUTION : 2 * R.BANK_RESOLUTION]
    )


def test_render_is_a_function_of_attributes_and_poses() -> None:
    shapes, textures, colours = np.array([7, 7]), np.array([4, 4]), np.array([2, 2])
    rng = np.random.default_rng(5)
    poses = R.draw_poses(shapes, rng)
    first = R.render(shapes, textures, colours, poses, 32)
    assert np.array_equal(first, R.render(shapes, textures, colours, poses, 32))
    assert not np.array_equal(first[0], first[1])  # same attributes, other pose
    assert np.array_equal(
        R.render(shapes[:1], textures[:1], colours[:1], poses.take(np.array([0])), 32)[0], first[0]
    )


def test_renderer_v1_draws_what_it_drew_before_issue_22() -> None:
    """The images of ``tests/fixtures/trifeature_render_v1.npz``, drawn (as uint8) by the
    renderer of commit dedf047: old run folders' data is unchanged."""
    stored = np.load(FIXTURES / "trifeature_render_v1.npz")["images"].astype(np.float32) / 255
    rng = np.random.default_rng(7)
    shapes, textures, colours = np.arange(10), np.arange(10)[::-1].copy(), (np.arange(10) * 3) % 10
    poses = R.draw_poses(shapes, rng, "v1")
    images = R.render(shapes, textures, colours, poses, 32, "v1")
    assert np.abs(images - stored).max() <= 0.5 / 255 + 1e-6
    v2 = R.render(shapes, textures, colours, R.draw_poses(shapes, np.random.default_rng(7)), 32)
    assert (np.abs(v2 - stored) > 0.1).mean() > 0.02  # the default draws otherwise


def test_texture_periods_per_shape_of_each_renderer() -> None:
    # v1: 5 px periods on a 20.5 px shape at 32 px; the papers: 12.8 periods per shape
    assert R.texture_period_px(32, "v1") == 5.0
    assert R.periods_per_shape(32, "v1") == pytest.approx(4.096)
    assert R.texture_period_px(32, "v2") == R.STYLES["v2"].min_period_px >= 3.0
    assert R.periods_per_shape(32, "v2") == pytest.approx(4.48)  # the larger shape
    for size in (128, 224):  # the papers' relative scale wherever the pixels allow it
        assert R.periods_per_shape(size, "v2") == pytest.approx(R.PAPER_PERIODS_PER_SHAPE)
    with pytest.raises(ValueError, match="unknown trifeature renderer"):
        R.texture_period_px(32, "v3")


def test_the_largest_shape_fits_the_image_at_every_rotation() -> None:
    angles = np.linspace(-R.MAX_ANGLE, R.MAX_ANGLE, 181)
    reach = max(R.shape_extent(name, angles).max() for name in R.SHAPES)
    assert R.STYLES["v2"].shape_scale * reach <= 0.5


def test_the_catalogue_shows_every_texture_on_every_shape() -> None:
    images = R.catalogue(32, shapes=("square", "circle"))
    assert images.shape == (20, 3, 32, 32)
    # texture-major: rows 0, 1 are solid (the most colour), the other textures cover less
    cover = (images - R.BACKGROUND[None, :, None, None]).__abs__().sum(axis=(1, 2, 3))
    assert cover[0] > cover[2:].max() and cover[1] > cover[2:].max()
    picture = R.mosaic(images, columns=2, zoom=2, gap=1)
    assert picture.shape == (10 * 65, 2 * 65, 3)
    assert np.array_equal(picture[:64, :64], images[0].transpose(1, 2, 0).repeat(2, 0).repeat(2, 1))
