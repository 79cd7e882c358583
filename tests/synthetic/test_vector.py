"""Vector tasks (xor, and, or, mix): labels, balance, exact tables vs samples, learnability."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier

from synthetic import TaskConfig, get_task, make_dataset
from synthetic.base import parity
from synthetic.embedding import draw_random_map, observe
from synthetic.mix import composite_clean

GATES = {"xor": np.bitwise_xor, "and": np.bitwise_and, "or": np.bitwise_or}
S_RATE = {"xor": 0.5, "and": 0.25, "or": 0.75}


def _all_samples(ds):  # the three splits together
    splits = (ds.train, ds.val, ds.test)
    factors = {k: np.concatenate([s.factors[k] for s in splits]) for k in ds.train.factors}
    labels = {k: np.concatenate([s.labels[k] for s in splits]) for k in ds.train.labels}
    codes = {
        k: tuple(np.concatenate([s.latent_codes[k][i] for s in splits]) for i in (0, 1))
        for k in ds.train.latent_codes
    }
    return factors, labels, codes


@pytest.mark.parametrize("name", ["xor", "and", "or"])
def test_gate_labels_are_the_stated_functions_of_the_latents(name: str) -> None:
    ds = make_dataset(name, TaskConfig(n_samples=20_000), seed=1)
    f, y, codes = _all_samples(ds)
    assert set(f) == {"r", "u1", "u2", "s1", "s2"}
    assert np.array_equal(y["R"], f["r"])
    assert np.array_equal(y["U1"], f["u1"])
    assert np.array_equal(y["U2"], f["u2"])
    assert np.array_equal(y["S"], GATES[name](f["s1"], f["s2"]))
    for label in ("R", "U1", "U2", "S"):
        assert np.array_equal(codes[label][0], 4 * f["r"] + 2 * f["u1"] + f["s1"])
        assert np.array_equal(codes[label][1], 4 * f["r"] + 2 * f["u2"] + f["s2"])
    # fair latent bits; S as designed (xor balanced, and 1/4, or 3/4); 5 sigma ~ 0.018
    for key in ("r", "u1", "u2", "s1", "s2"):
        assert abs(f[key].mean() - 0.5) < 0.02
    assert abs(y["S"].mean() - S_RATE[name]) < 0.02


def _check_against_samples(table: np.ndarray, code1, code2, y, axes_sum=None) -> None:
    """Exact table vs empirical frequencies: every cell within 5 standard errors."""
    n = y.shape[0]
    counts = np.zeros_like(table)
    np.add.at(counts, (code1, code2, y), 1.0)
    exact, empirical = table, counts / n
    if axes_sum is not None:
        exact, empirical = exact.sum(axis=axes_sum), empirical.sum(axis=axes_sum)
    tolerance = 5 * np.sqrt(exact * (1 - exact) / n) + 1e-9
    assert np.all(np.abs(exact - empirical) <= tolerance)


@pytest.mark.parametrize("name", ["xor", "and", "or"])
def test_gate_tables_match_empirical_frequencies(name: str) -> None:
    ds = make_dataset(name, TaskConfig(n_samples=40_000), seed=2)
    _, y, codes = _all_samples(ds)
    for label in ("R", "U1", "U2", "S"):
        table = ds.latent_joint(label)
        assert table.shape == (8, 8, 2) and np.all(table >= 0)
        assert table.sum() == pytest.approx(1.0, abs=1e-12)
        _check_against_samples(table, *codes[label], y[label])


def test_xor_table_values() -> None:
    table = get_task("xor").latent_joint("S")
    # 32 equiprobable latent states; code1 = (r, u1, s1), code2 = (r, u2, s2)
    assert table[0b000, 0b000, 0] == pytest.approx(1 / 32)  # r=0, s1=s2=0 -> S=0
    assert table[0b001, 0b000, 1] == pytest.approx(1 / 32)  # s1=1, s2=0 -> S=1
    assert table[0b001, 0b000, 0] == 0.0
    assert table[0b100, 0b000].sum() == 0.0  # r differs between the codes: impossible
    # neither code alone says anything about S
    assert np.allclose(table.sum(axis=1), table.sum(axis=(1, 2))[:, None] / 2)
    assert np.allclose(table.sum(axis=0), table.sum(axis=(0, 2))[:, None] / 2)


def test_mix_labels_codes_and_flips() -> None:
    config = TaskConfig(n_samples=30_000, strength_r=0.5, strength_s=0.0)
    ds = make_dataset("mix", config, seed=4)
    f, y, codes = _all_samples(ds)
    assert np.array_equal(y["R"], f["r"]) and np.array_equal(y["S"], f["s1"] ^ f["s2"])
    assert np.array_equal(y["U1"], f["u1"]) and np.array_equal(y["U2"], f["u2"])
    assert np.array_equal(codes["Y"][0], (f["r"] << 4) | (f["u1"] << 2) | f["s1"])
    assert np.array_equal(codes["Y"][1], (f["r"] << 4) | (f["u2"] << 2) | f["s2"])
    clean = composite_clean(f)
    assert np.array_equal(clean >> 3, parity(f["r"]))
    assert np.array_equal(clean & 1, parity(f["s1"] ^ f["s2"]))
    assert np.array_equal(y["Y"], clean ^ f["y_flips"])
    # flip chance (1 - strength) / 2 per bit: R 0.25, U1 0, U2 0, S 0.5
    flips = (f["y_flips"][:, None] >> np.array([3, 2, 1, 0])) & 1
    assert np.allclose(flips.mean(axis=0), [0.25, 0.0, 0.0, 0.5], atol=0.015)
    # multi-bit labels are uniform over their classes
    assert np.allclose(np.bincount(y["S"], minlength=4) / y["S"].size, 0.25, atol=0.015)
    # composite table vs samples: marginals over each modality's code
    table = ds.latent_joint("Y")
    assert table.shape == (64, 64, 16) and table.sum() == pytest.approx(1.0)
    _check_against_samples(table, *codes["Y"], y["Y"], axes_sum=1)
    _check_against_samples(table, *codes["Y"], y["Y"], axes_sum=0)


def test_mix_full_strength_composite_is_deterministic() -> None:
    ds = make_dataset("mix", TaskConfig(n_samples=2000), seed=0)
    f, y, _ = _all_samples(ds)
    assert np.all(f["y_flips"] == 0)
    assert np.array_equal(y["Y"], composite_clean(f))
    table = ds.latent_joint("Y")
    assert np.allclose(table.max(axis=2), table.sum(axis=2))  # one label per code pair


def test_observation_is_standardised_and_noise_free_when_asked() -> None:
    rng = np.random.default_rng(0)
    net = draw_random_map(3, 64, 32, rng)
    bits = rng.integers(0, 2, size=(40_000, 3))
    x = observe(bits, net, noise=0.5, rng=rng)
    assert x.dtype == np.float32 and x.shape == (40_000, 32)
    assert np.allclose(x.mean(axis=0), 0.0, atol=0.03)
    assert np.allclose(x.std(axis=0), 1.0, atol=0.03)
    clean = observe(bits, net, noise=0.0, rng=rng)
    assert np.unique(clean, axis=0).shape[0] == 8  # one point per latent code
    residual = x - clean * np.float32(1 / np.sqrt(1.25))  # noise part, std 0.5 / sqrt(1.25)
    assert residual.std() == pytest.approx(0.5 / np.sqrt(1.25), rel=0.02)


def _mlp(hidden: int, iters: int) -> MLPClassifier:
    return MLPClassifier((hidden,), max_iter=iters, learning_rate_init=3e-3, random_state=0)


@pytest.fixture(scope="module")
def xor_default():
    return make_dataset("xor")  # the default generator, as methods will train on it


def test_every_latent_is_recoverable_from_its_modality(xor_default) -> None:
    train, test = xor_default.train, xor_default.test
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for x_train, x_test, index in ((train.x1, test.x1, 0), (train.x2, test.x2, 1)):
            code = train.latent_codes["S"][index]  # (r, u_i, s_i): 8 classes
            model = _mlp(32, 60).fit(x_train, code)
            assert model.score(x_test, test.latent_codes["S"][index]) > 0.95


def test_xor_needs_both_modalities_nearest_neighbours(xor_default) -> None:
    train, test = xor_default.train, xor_default.test
    for x_train, x_test in ((train.x1, test.x1), (train.x2, test.x2)):
        alone = KNeighborsClassifier(15).fit(x_train, train.labels["S"])
        assert alone.score(x_test, test.labels["S"]) < 0.56  # chance is 0.5; n_test = 1500
    both = KNeighborsClassifier(15).fit(np.hstack([train.x1, train.x2]), train.labels["S"])
    assert both.score(np.hstack([test.x1, test.x2]), test.labels["S"]) > 0.95


def test_xor_needs_both_modalities_mlp(xor_default) -> None:
    train, test = xor_default.train, xor_default.test
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        alone = _mlp(32, 40).fit(train.x1, train.labels["S"])
        both = _mlp(32, 40).fit(np.hstack([train.x1, train.x2]), train.labels["S"])
    assert alone.score(test.x1, test.labels["S"]) < 0.56
    assert both.score(np.hstack([test.x1, test.x2]), test.labels["S"]) > 0.95
