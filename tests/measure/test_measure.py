"""synergy_lab.measure against known answers."""

import numpy as np
import pytest
from scipy import stats

from synergy_lab.measure import (
    SoftPID,
    balanced_accuracy,
    bootstrap_intervals,
    captured_fraction,
    class_prior,
    cross_entropy_bits,
    paired_difference,
    seed_summary,
    soft_joint_table,
    soft_model_pid,
    usable_bits,
)
from synergy_lab.pid import joint_table


def _binary_h(p: float) -> float:
    return float(-p * np.log2(p) - (1 - p) * np.log2(1 - p))


def test_class_prior_is_smoothed_and_covers_absent_classes():
    prior = class_prior(np.array([0, 0, 0, 1]), classes=3)
    np.testing.assert_allclose(prior, np.array([3.5, 1.5, 0.5]) / 5.5)
    with pytest.raises(ValueError, match="range"):
        class_prior(np.array([0, 3]), classes=3)


def test_usable_bits_of_a_known_channel():
    # y fair, the probe says q(y = z) = 0.8 where z = y with prob. 0.8: usable = 1 - H(0.8)
    y = np.array([0, 1] * 5000)
    flip = np.zeros(10000, dtype=bool)
    flip[::5] = True  # exactly 20 % wrong
    z = np.where(flip, 1 - y, y)
    probs = np.where(z[:, None] == np.arange(2), 0.8, 0.2)
    assert cross_entropy_bits(probs, y) == pytest.approx(_binary_h(0.8))
    assert usable_bits(probs, y, np.array([0.5, 0.5])) == pytest.approx(1 - _binary_h(0.8))
    # the constant predictor itself scores exactly 0
    assert usable_bits(np.full((10000, 2), 0.5), y, np.array([0.5, 0.5])) == pytest.approx(0.0)
    assert captured_fraction(0.25, 0.5) == 0.5 and np.isnan(captured_fraction(0.1, np.nan))


def test_balanced_accuracy_weights_classes_equally():
    y = np.array([0] * 90 + [1] * 10)
    always_zero = np.zeros(100, dtype=int)
    assert balanced_accuracy(y, always_zero, classes=2) == pytest.approx(0.5)
    assert balanced_accuracy(y, y, classes=3) == pytest.approx(1.0)  # class 2 absent: ignored


def test_seed_summary_and_paired_difference_by_hand():
    summary = seed_summary([0.2, 0.4, 0.6])
    half = stats.t.ppf(0.975, 2) * 0.2 / np.sqrt(3)
    assert (summary.mean, summary.sd, summary.n) == pytest.approx((0.4, 0.2, 3))
    assert (summary.low, summary.high) == pytest.approx((0.4 - half, 0.4 + half))
    diff = paired_difference({0: 0.9, 1: 0.8, 2: 0.7, 3: 0.5}, {0: 0.8, 1: 0.69, 2: 0.61})
    assert diff.n == 3  # seed 3 has no partner
    assert diff.mean == pytest.approx(0.1)
    assert diff.excludes_zero
    assert not paired_difference({0: 1.0}, {0: 0.0}).excludes_zero  # one seed: no interval


def test_bootstrap_intervals_cover_the_truth_at_the_stated_rate():
    # known answer: accuracy 0.7 and usable bits 1 - H(0.7) for a calibrated binary probe
    rng = np.random.default_rng(0)
    truth_bits = 1 - _binary_h(0.7)
    covered = {"accuracy": 0, "balanced_accuracy": 0, "usable_bits": 0}
    reps = 200
    for rep in range(reps):
        y = rng.integers(0, 2, 300)
        z = np.where(rng.random(300) < 0.7, y, 1 - y)
        probs = np.where(z[:, None] == np.arange(2), 0.7, 0.3)
        bounds = bootstrap_intervals(y, probs, np.array([0.5, 0.5]), n_boot=400, seed=rep)
        for name, truth in (
            ("accuracy", 0.7),
            ("balanced_accuracy", 0.7),
            ("usable_bits", truth_bits),
        ):
            covered[name] += bounds[name].low <= truth <= bounds[name].high
    for name, count in covered.items():
        # 95 % nominal; the binomial sd of the rate over 200 reps is 1.5 points
        assert 0.90 <= count / reps <= 0.99, (name, count / reps)


def test_soft_joint_table_of_one_hot_predictions_is_the_hard_table():
    rng = np.random.default_rng(1)
    c1, c2, y = rng.integers(0, 3, 200), rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    soft = soft_joint_table(c1, c2, np.eye(2)[y], (3, 2))
    np.testing.assert_allclose(soft, joint_table(c1, c2, y, shape=(3, 2, 2)))


def test_soft_pid_p_value_and_null_summary_by_hand():
    # 4 shuffles (the dataclass takes any null): raw 0.3 is reached by 0.3 (a tie) and 0.5
    null = np.array([[0.1, 0.0, 0.0, 0.0], [0.3, 0.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.0]] * 2)
    soft = SoftPID(np.array([0.3, 0.0, 0.2, 0.0]), null[:4])
    np.testing.assert_allclose(soft.p_value, [(1 + 2) / 5, 1.0, 1 / 5, 1.0])
    np.testing.assert_allclose(soft.null_mean, [0.25, 0, 0, 0])
    assert soft.null_q95[0] == pytest.approx(0.47)  # numpy's linear percentile of .1 .3 .5 .1
    assert soft.shuffles == 4
    np.testing.assert_array_equal(soft.significant(0.2), [False, False, True, False])


def test_soft_pid_of_predictions_independent_of_the_codes_is_never_negative_nor_significant():
    # 20 repetitions x 4 parts = 80 null tests; P(p <= 0.05) = 1/21 each: about 3.8 flagged,
    # more than 10 has probability < 0.2 %. The legacy raw - null mean goes negative.
    rng = np.random.default_rng(2)
    flagged, raws, legacy_min = 0, [], 0.0
    for rep in range(20):
        c1, c2 = rng.integers(0, 4, 400), rng.integers(0, 4, 400)
        probs = rng.dirichlet([1.0, 1.0], size=400)
        soft = soft_model_pid(c1, c2, probs, (4, 4), shuffles=20, seed=rep)
        assert np.all(soft.raw >= 0) and np.all(soft.null >= 0)
        assert np.all((soft.p_value > 0) & (soft.p_value <= 1))
        flagged += int(soft.significant(0.05).sum())
        raws.append(soft.raw.sum())
        legacy_min = min(legacy_min, float(soft.corrected.min()))
    assert flagged <= 10, flagged
    assert np.mean(raws) > 0.005  # the small-sample floor: why a raw part alone is not enough
    assert legacy_min < 0  # what the test replaces: a subtraction gives impossible negatives


def test_soft_pid_finds_the_synergy_of_a_right_xor_predictor():
    rng = np.random.default_rng(3)
    c1, c2 = rng.integers(0, 2, 1000), rng.integers(0, 2, 1000)
    probs = np.where((c1 ^ c2)[:, None] == np.arange(2), 0.9, 0.1)
    soft = soft_model_pid(c1, c2, probs, (2, 2), shuffles=20, seed=0)
    # the table is about uniform codes with q(y = c1 xor c2) = 0.9: synergy 1 - H(0.9) bits
    assert soft.raw[3] == pytest.approx(1 - _binary_h(0.9), abs=0.01)
    assert soft.p_value[3] == pytest.approx(1 / 21) and soft.significant()[3]
    assert soft.raw[3] > soft.null_q95[3] and np.all(soft.raw >= 0)
    assert soft.corrected[3] == pytest.approx(1 - _binary_h(0.9), abs=0.01)  # legacy field
    with pytest.raises(ValueError, match="shuffles"):
        soft_model_pid(c1, c2, probs, (2, 2), shuffles=5)


def test_paired_comparison_flags_at_most_10_percent_of_null_comparisons():
    # two identical methods, different seeds: per-seed accuracy sd 0.02 plus test-set noise
    rng = np.random.default_rng(4)
    sims, flags = 400, 0
    for _ in range(sims):
        a = rng.binomial(1500, rng.normal(0.9, 0.02, 3)) / 1500
        b = rng.binomial(1500, rng.normal(0.9, 0.02, 3)) / 1500
        flags += paired_difference(dict(enumerate(a)), dict(enumerate(b))).excludes_zero
    assert flags / sims <= 0.10


def test_bootstrap_reads_usable_bits_from_a_second_read_out_over_the_same_resamples():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 200)
    probs = rng.dirichlet(np.ones(3), 200)
    calibrated = 0.5 * probs + 0.5 / 3  # softer
    prior = np.full(3, 1 / 3)
    both = bootstrap_intervals(y, probs, prior, n_boot=200, seed=4, usable_probs=calibrated)
    alone = bootstrap_intervals(y, calibrated, prior, n_boot=200, seed=4)
    assert both["usable_bits"] == alone["usable_bits"]
    assert both["accuracy"] == bootstrap_intervals(y, probs, prior, n_boot=200, seed=4)["accuracy"]
    with pytest.raises(ValueError, match="usable_probs must be"):
        bootstrap_intervals(y, probs, prior, usable_probs=calibrated[:, :2])
