"""trifeature: labels from attributes, the train bias, exact tables, and visible attributes."""

import numpy as np
import pytest
from scipy.ndimage import uniform_filter
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from synthetic import TaskConfig, make_dataset
from synthetic.render import BACKGROUND
from synthetic.trifeature import SYNERGY_PAIRS

TINY = TaskConfig(n_samples=8000, image_size=8)  # 8 px: cheap to draw; the latents are the point


def test_bijection_is_a_permutation() -> None:
    assert sorted(SYNERGY_PAIRS.tolist()) == list(range(10))


@pytest.fixture(scope="module")
def tiny():
    return make_dataset("trifeature", TINY, seed=0)


def test_labels_are_the_stated_functions_of_the_attributes(tiny) -> None:
    for split in (tiny.train, tiny.val, tiny.test):
        f = split.factors
        assert set(f) == {"shape", "texture1", "colour1", "texture2", "colour2"}
        assert np.array_equal(split.labels["R"], f["shape"])
        assert np.array_equal(split.labels["U1"], f["texture1"])
        assert np.array_equal(split.labels["U2"], f["texture2"])
        paired = SYNERGY_PAIRS[f["texture1"]] == f["colour2"]
        assert np.array_equal(split.labels["S"], paired.astype(np.int64))
        assert np.array_equal(split.latent_codes["R"][0], f["shape"])
        assert np.array_equal(split.latent_codes["R"][1], f["shape"])
        assert np.array_equal(split.latent_codes["U1"][1], f["colour2"])
        assert np.array_equal(split.latent_codes["U2"][0], f["texture1"])
        assert np.array_equal(split.latent_codes["U2"][1], f["texture2"])
        assert np.array_equal(split.latent_codes["S"][0], f["texture1"])
        assert np.array_equal(split.latent_codes["S"][1], f["colour2"])


def test_train_is_biased_towards_the_bijection_and_test_is_balanced(tiny) -> None:
    n_train, n_test = len(tiny.train), len(tiny.test)
    assert abs(tiny.train.labels["S"].mean() - 0.9) < 5 * np.sqrt(0.09 / n_train)
    for split in (tiny.val, tiny.test):
        assert abs(split.labels["S"].mean() - 0.5) < 5 * np.sqrt(0.25 / n_test)
    for split in (tiny.train, tiny.test):  # the other attributes stay uniform
        for key in ("shape", "texture1", "colour1", "texture2", "colour2"):
            freq = np.bincount(split.factors[key], minlength=10) / len(split)
            assert np.all(np.abs(freq - 0.1) < 5 * np.sqrt(0.09 / len(split)))
    fully = make_dataset(
        "trifeature", TaskConfig(n_samples=400, image_size=8, trifeature_train_synergy_rate=1.0)
    )
    assert np.all(fully.train.labels["S"] == 1)  # CoMM's fully biased training set
    assert 0 < fully.test.labels["S"].mean() < 1


def test_probes_are_fitted_on_the_unbiased_val_split(tiny) -> None:
    assert tiny.probe_split == "val"
    assert make_dataset("xor", TaskConfig(n_samples=100)).probe_split == "train"


def test_synergy_table_matches_the_test_split_and_hides_s_from_each_image(tiny) -> None:
    table = tiny.latent_joint("S")
    assert table.shape == (10, 10, 2) and table.sum() == pytest.approx(1.0)
    p_s = table.sum(axis=(0, 1))
    assert np.allclose(table.sum(axis=1), table.sum(axis=(1, 2))[:, None] * p_s)  # T1 indep. S
    assert np.allclose(table.sum(axis=0), table.sum(axis=(0, 2))[:, None] * p_s)  # C2 indep. S
    split = make_dataset("trifeature", TaskConfig(n_samples=30_000, image_size=8), seed=1).test
    n = len(split)
    for label in ("S", "U1"):  # the exact tables match the empirical frequencies of the codes
        table = tiny.latent_joint(label)
        counts = np.zeros_like(table)
        np.add.at(counts, (*split.latent_codes[label], split.labels[label]), 1.0)
        assert np.all(np.abs(counts / n - table) <= 5 * np.sqrt(table * (1 - table) / n) + 1e-9)


def test_component_tables(tiny) -> None:
    r, u1, u2 = (tiny.latent_joint(k) for k in ("R", "U1", "U2"))
    assert r[3, 3, 3] == pytest.approx(0.1) and r[3, 4].sum() == 0.0
    partner, other = SYNERGY_PAIRS[2], (SYNERGY_PAIRS[2] + 1) % 10  # codes (texture 1, colour 2)
    assert u1[2, partner, 2] == pytest.approx(0.05) and u1[2, other, 2] == pytest.approx(0.5 / 90)
    assert u1[2, partner, 7] == 0.0
    assert u2[2, 7, 7] == pytest.approx(0.01) and u2[2, 7, 2] == 0.0
    assert all(t.sum() == pytest.approx(1.0) for t in (r, u1, u2))


def _spectrum(images: np.ndarray, blur: int) -> np.ndarray:
    """Translation-invariant features: log power spectrum of the (blurred) foreground map."""
    foreground = np.abs(images - BACKGROUND[None, :, None, None]).sum(axis=1)
    if blur > 1:
        foreground = uniform_filter(foreground, size=(1, blur, blur))
    power = np.abs(np.fft.fft2(foreground)) ** 2
    return np.log1p(power[:, :, :17]).reshape(len(images), -1)  # the other half is redundant


def test_shapes_textures_and_colours_are_distinguishable_at_32_px() -> None:
    ds = make_dataset("trifeature", TaskConfig(n_samples=4000), seed=2)
    x = np.concatenate([ds.train.x1, ds.val.x1, ds.test.x1])
    f = {
        k: np.concatenate([s.factors[k] for s in (ds.train, ds.val, ds.test)])
        for k in ds.train.factors
    }
    assert x.shape == (4000, 3, 32, 32) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    foreground = np.abs(x - BACKGROUND[None, :, None, None]).sum(axis=1, keepdims=True) > 0.05
    mean_colour = (x * foreground).sum(axis=(2, 3)) / foreground.sum(axis=(2, 3))
    features = {
        "colour1": mean_colour,
        "texture1": _spectrum(x, blur=1),
        "shape": _spectrum(x, blur=5),  # blurring washes the texture out: the silhouette stays
    }
    floors = {"colour1": 0.95, "texture1": 0.8, "shape": 0.75}  # chance is 0.1
    for key, feats in features.items():
        model = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
        model.fit(feats[:3000], f[key][:3000])
        assert model.score(feats[3000:], f[key][3000:]) > floors[key], key
