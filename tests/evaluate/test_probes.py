import numpy as np
import pytest

from synergy_lab.evaluate.probes import ProbeConfig, fit_probe


def _xor_features(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    z = np.stack([2 * a - 1, 2 * b - 1], axis=1) + 0.1 * rng.normal(size=(n, 2))
    return z.astype(np.float32), a ^ b


def test_linear_probe_reads_a_linear_label():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(600, 5))
    y = (z[:, 0] - 0.5 * z[:, 3] > 0).astype(int)
    result = fit_probe(z[:400], y[:400], z[400:], y[400:])
    assert result.accuracy > 0.95
    assert result.predictions.shape == (200,)
    assert result.accuracy == pytest.approx(np.mean(result.predictions == y[400:]))


def test_linear_probe_cannot_read_xor_but_mlp_can():
    z, y = _xor_features(1200, 1)
    linear = fit_probe(z[:800], y[:800], z[800:], y[800:])
    mlp = fit_probe(z[:800], y[:800], z[800:], y[800:], ProbeConfig(kind="mlp", max_iter=300))
    assert linear.accuracy < 0.8  # a line separates at most 3 of the 4 XOR clusters
    assert mlp.accuracy > 0.95


def test_multiclass_and_chosen_l2_from_grid():
    rng = np.random.default_rng(2)
    centres = rng.normal(scale=4, size=(4, 6))
    y = rng.integers(0, 4, 800)
    z = centres[y] + rng.normal(size=(800, 6))
    config = ProbeConfig(l2_grid=(1e-4, 1e-2))
    result = fit_probe(z[:600], y[:600], z[600:], y[600:], config)
    assert result.accuracy > 0.9
    assert result.l2 in config.l2_grid


def test_probe_is_deterministic():
    z, y = _xor_features(300, 3)
    z = np.concatenate([z, z[:, :1] * z[:, 1:]], axis=1)
    first = fit_probe(z[:200], y[:200], z[200:], y[200:], seed=5)
    second = fit_probe(z[:200], y[:200], z[200:], y[200:], seed=5)
    np.testing.assert_array_equal(first.predictions, second.predictions)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "forest"}, "probe kind"),
        ({"l2_grid": ()}, "l2_grid"),
        ({"val_fraction": 1.0}, "val_fraction"),
    ],
)
def test_bad_probe_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ProbeConfig(**kwargs)


def test_bad_probe_inputs():
    z = np.zeros((10, 3))
    y = np.zeros(10, dtype=int)
    with pytest.raises(ValueError, match="2-D"):
        fit_probe(z[:, 0], y, z, y)
    with pytest.raises(ValueError, match="length"):
        fit_probe(z, y[:5], z, y)
    bad = z.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit_probe(bad, y, z, y)


def test_probabilities_cross_entropy_and_prior_cover_absent_classes():
    rng = np.random.default_rng(4)
    z = rng.normal(size=(300, 3))
    y = (z[:, 0] > 0).astype(int)
    y_test = y[200:].copy()
    y_test[0] = 2  # a class the fit split never has
    result = fit_probe(z[:200], y[:200], z[200:], y_test, classes=4)
    assert result.probabilities.shape == (100, 4)
    np.testing.assert_allclose(result.probabilities.sum(axis=1), 1.0)
    np.testing.assert_array_equal(result.predictions, result.probabilities.argmax(axis=1))
    picked = result.probabilities[np.arange(100), y_test]
    assert result.test_cross_entropy_bits == pytest.approx(-np.mean(np.log2(picked)), rel=1e-6)
    counts = np.bincount(y[:200], minlength=4) + 0.5
    np.testing.assert_allclose(result.prior, counts / counts.sum())  # smoothed: no zero class
    with pytest.raises(ValueError, match="classes = 2"):
        fit_probe(z[:200], y[:200], z[200:], y_test, classes=2)
