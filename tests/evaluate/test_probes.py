import numpy as np
import pytest

from synergy_lab.evaluate.probes import ProbeConfig, fit_probe, fit_temperature, log_loss_nats
from synergy_lab.measure import bootstrap_intervals, usable_bits


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


def test_log_loss_and_temperature_by_hand():
    # softmax of (0, 0) is (1/2, 1/2): ln 2 nats whatever the label or temperature
    assert log_loss_nats(np.zeros((3, 2)), np.array([0, 1, 1])) == pytest.approx(np.log(2))
    # logits (2, 0), T = 2: q(0) = e / (e + 1), loss -ln q(0)
    loss = log_loss_nats(np.array([[2.0, 0.0]]), np.array([0]), temperature=2.0)
    assert loss == pytest.approx(np.log(1 + np.exp(-1.0)))
    # labels drawn from softmax(l), logits handed over as 5 l: the fitted T undoes the 5
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=2.0, size=(20000, 3))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = (rng.random(20000)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    assert fit_temperature(5 * logits, y) == pytest.approx(5.0, rel=0.05)
    assert fit_temperature(logits, y) == pytest.approx(1.0, rel=0.05)
    # under-confident logits l / 4 are left alone: T only softens
    assert fit_temperature(logits / 4, y) == 1.0
    # separable logits: no finite optimum below 1, and no sharpening
    assert fit_temperature(np.eye(2)[np.array([0, 1, 1])] * 3, np.array([0, 1, 1])) == 1.0


def test_calibrated_probe_gives_about_zero_usable_bits_when_labels_ignore_z():
    # 40 standardised features, 300 fit rows, labels independent of z: the accuracy-selected
    # probe over-fits (negative usable bits); the calibrated one is about 0, not below
    rng = np.random.default_rng(5)
    z = rng.normal(size=(900, 40))
    y = rng.integers(0, 2, 900)
    result = fit_probe(z[:300], y[:300], z[300:], y[300:])
    raw = usable_bits(result.probabilities, y[300:], result.prior)
    calibrated = bootstrap_intervals(y[300:], result.calibrated_probabilities, result.prior)
    assert raw < -0.05
    assert calibrated["usable_bits"].high >= 0 and abs(calibrated["usable_bits"].value) < 0.02
    assert result.temperature > 1  # softened
    assert result.calibrated_l2 in ProbeConfig().l2_grid
    np.testing.assert_allclose(result.calibrated_probabilities.sum(axis=1), 1.0)
    picked = result.calibrated_probabilities[np.arange(600), y[300:]]
    assert result.calibrated_cross_entropy_bits == pytest.approx(-np.mean(np.log2(picked)))


@pytest.mark.parametrize("signal", [0.0, 0.5, 3.0])
def test_temperature_scaling_never_raises_the_validation_log_loss(signal):
    rng = np.random.default_rng(6)
    z = rng.normal(size=(500, 10))
    y = (signal * z[:, 0] + rng.normal(size=500) > 0).astype(int)
    result = fit_probe(z[:400], y[:400], z[400:], y[400:])
    before, after = result.val_log_loss_bits
    assert after <= before
    # T does not move the argmax: the calibrated accuracy is that of its probabilities
    hits = result.calibrated_probabilities.argmax(axis=1) == y[400:]
    assert result.calibrated_accuracy == pytest.approx(hits.mean())


def test_selection_and_calibration_settings():
    rng = np.random.default_rng(7)
    z = rng.normal(size=(400, 6))
    y = (z[:, 0] + 0.5 * rng.normal(size=400) > 0).astype(int)
    plain = fit_probe(z[:300], y[:300], z[300:], y[300:], ProbeConfig(calibrate=False))
    full = fit_probe(z[:300], y[:300], z[300:], y[300:])
    by_loss = fit_probe(z[:300], y[:300], z[300:], y[300:], ProbeConfig(select="log_loss"))
    assert plain.accuracy == full.accuracy and plain.l2 == full.l2  # calibration adds, not alters
    assert np.isnan(plain.temperature) and plain.calibrated_probabilities.size == 0
    assert by_loss.l2 == full.calibrated_l2 and by_loss.accuracy == full.calibrated_accuracy
    with pytest.raises(ValueError, match="select"):
        ProbeConfig(select="auc")
