"""Sample estimators: the empirical table, and the cluster estimator on data with known PID."""

from __future__ import annotations

import numpy as np
import pytest

from synergy_lab.pid import (
    ClusterConfig,
    cluster_labels,
    cluster_pid,
    joint_table,
    pid_from_samples,
)


def test_joint_table_counts() -> None:
    table = joint_table(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]), np.array([0, 1, 1, 1]))
    assert table.shape == (2, 2, 2)
    assert table[0, 0, 0] == 0.25 and table[1, 1, 1] == 0.25 and table.sum() == 1.0
    as_bool = joint_table(np.array([True, False]), np.array([1.0, 0.0]), np.array([1, 1]))
    assert as_bool[1, 1, 1] == 0.5 and as_bool[0, 0, 1] == 0.5
    wide = joint_table(np.array([0]), np.array([0]), np.array([0]), shape=(2, 3, 4))
    assert wide.shape == (2, 3, 4) and wide[0, 0, 0] == 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.array([0, 1]), np.array([0]), np.array([0, 1])), "equal length"),
        ((np.array([0, -1]), np.array([0, 1]), np.array([0, 1])), "non-negative"),
        ((np.array([0.5, 1.0]), np.array([0, 1]), np.array([0, 1])), "integers"),
        ((np.zeros((2, 2), int), np.array([0, 1]), np.array([0, 1])), "1-D"),
        ((np.array([], int), np.array([], int), np.array([], int)), "empty"),
    ],
)
def test_joint_table_rejects_bad_columns(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        joint_table(*args)


def test_joint_table_rejects_values_outside_shape() -> None:
    with pytest.raises(ValueError, match="outside range"):
        joint_table(np.array([0, 2]), np.array([0, 1]), np.array([0, 1]), shape=(2, 2, 2))


def test_pid_from_exactly_balanced_xor_samples() -> None:
    x1 = np.array([0, 0, 1, 1] * 25)
    x2 = np.array([0, 1, 0, 1] * 25)
    pid = pid_from_samples(x1, x2, x1 ^ x2)
    assert pid.synergy == pytest.approx(1.0, abs=1e-9)
    assert pid.redundancy == pytest.approx(0.0, abs=1e-9)


def test_cluster_labels_recover_separated_blobs_deterministically() -> None:
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    truth = rng.integers(0, 3, 300)
    points = centers[truth] + 0.2 * rng.standard_normal((300, 2))
    config = ClusterConfig(standardize=False)
    labels = cluster_labels(points, 3, config, stream=1)
    # Each found cluster is exactly one true blob (a relabelling).
    assert len({(int(t), int(lab)) for t, lab in zip(truth, labels, strict=True)}) == 3
    np.testing.assert_array_equal(labels, cluster_labels(points, 3, config, stream=1))


def test_cluster_labels_with_pca_recover_blobs_in_many_dimensions() -> None:
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 4, 400)
    centers = 4.0 * rng.standard_normal((4, 50))
    points = centers[truth] + 0.3 * rng.standard_normal((400, 50))
    labels = cluster_labels(points, 4, ClusterConfig(pca_components=5))
    assert len({(int(t), int(lab)) for t, lab in zip(truth, labels, strict=True)}) == 4


def test_cluster_labels_with_fewer_distinct_points_than_clusters() -> None:
    points = np.repeat(np.array([[0.0], [1.0]]), 5, axis=0)
    labels = cluster_labels(points, 4, ClusterConfig())
    assert len(np.unique(labels)) == 2 and labels.max() < 4


def test_cluster_labels_reject_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        cluster_labels(np.array([[0.0], [np.nan]]), 2, ClusterConfig())


def test_cluster_config_is_checked() -> None:
    for field in ("n_clusters1", "n_clusters2", "n_init", "max_iter"):
        with pytest.raises(ValueError, match=field):
            ClusterConfig(**{field: 0})
    with pytest.raises(ValueError, match="pca_components"):
        ClusterConfig(pca_components=-1)
    with pytest.raises(ValueError, match="equal length"):
        cluster_pid(np.zeros((5, 2)), np.zeros((4, 2)), np.zeros(5, int))


def _embed(bits: np.ndarray, rng: np.random.Generator, dim: int = 4, noise: float = 0.2):
    """A bit as a noisy continuous feature vector: +-1 on a random direction plus noise."""
    direction = rng.standard_normal(dim)
    direction /= np.linalg.norm(direction)
    return (2.0 * bits - 1.0)[:, None] * direction + noise * rng.standard_normal((bits.size, dim))


N = 3000


def test_cluster_pid_finds_one_bit_of_synergy_in_xor() -> None:
    rng = np.random.default_rng(0)
    b1 = rng.integers(0, 2, N)
    b2 = rng.integers(0, 2, N)
    pid = cluster_pid(_embed(b1, rng), _embed(b2, rng), b1 ^ b2, ClusterConfig(4, 4))
    assert pid.synergy == pytest.approx(1.0, abs=0.05)
    assert pid.redundancy + pid.unique1 + pid.unique2 < 0.03


def test_cluster_pid_finds_redundancy_and_no_synergy() -> None:
    rng = np.random.default_rng(1)
    b = rng.integers(0, 2, N)
    pid = cluster_pid(_embed(b, rng), _embed(b, rng), b, ClusterConfig(4, 4))
    assert pid.redundancy == pytest.approx(1.0, abs=0.05)
    assert pid.synergy < 0.03


def test_cluster_pid_finds_unique_information() -> None:
    rng = np.random.default_rng(2)
    b1 = rng.integers(0, 2, N)
    b2 = rng.integers(0, 2, N)
    pid = cluster_pid(_embed(b1, rng), _embed(b2, rng), b1, ClusterConfig(4, 4))
    assert pid.unique1 == pytest.approx(1.0, abs=0.05)
    assert pid.unique2 + pid.redundancy + pid.synergy < 0.03


def test_documented_biases_of_the_cluster_estimator() -> None:
    rng = np.random.default_rng(3)
    # Upward: a label independent of both features still shows information with many clusters
    # and few samples (plug-in bias ~ k1 k2 (|Y| - 1) / (2 n ln 2) bits) ...
    z1 = rng.standard_normal((150, 3))
    z2 = rng.standard_normal((150, 3))
    y = rng.integers(0, 2, 150)
    many = cluster_pid(z1, z2, y, ClusterConfig(8, 8))
    assert many.total > 0.1
    # ... and much less with few clusters.
    assert cluster_pid(z1, z2, y, ClusterConfig(2, 2)).total < many.total / 3
    # Downward: one cluster per modality cannot see a label that the features determine.
    b = rng.integers(0, 2, 500)
    assert cluster_pid(_embed(b, rng), _embed(b, rng), b, ClusterConfig(1, 1)).total == 0.0


def test_cluster_labels_accepts_a_single_feature_and_is_seeded() -> None:
    z = np.r_[np.zeros(20), np.ones(20)] + 0.01 * np.arange(40)
    first = cluster_labels(z, 2, ClusterConfig(seed=3))
    assert len(np.unique(first[:20])) == 1 and first[0] != first[-1]
    np.testing.assert_array_equal(first, cluster_labels(z, 2, ClusterConfig(seed=3)))
