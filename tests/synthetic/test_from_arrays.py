"""User arrays wrapped by ``from_arrays``: latents used, features standardised, bad labels and
codes rejected with one line naming the argument (issue 16, issue 14 item 4)."""

import re

import numpy as np
import pytest

from synthetic import from_arrays


def _xor_arrays(n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n)
    b = rng.integers(0, 2, n)
    x1 = np.c_[a, rng.normal(size=n)] * 1000.0 + 5.0  # features far from unit scale
    x2 = np.c_[b, rng.normal(size=n)] * 0.001
    return x1, x2, a, b


def test_latents_are_used_and_the_table_is_their_empirical_joint():
    x1, x2, a, b = _xor_arrays()
    data = from_arrays(x1, x2, {"S": a ^ b, "R": a}, latents1=a * 7 + 3, latents2=b)
    assert data.has_latents
    table = data.latent_joint("S")
    expected = np.zeros((2, 2, 2))
    np.add.at(expected, (a, b, a ^ b), 1.0 / len(a))  # codes 3, 10 re-indexed to 0, 1
    np.testing.assert_allclose(table, expected)
    assert data.latent_joint("R").shape == (2, 2, 2)
    code1, code2 = data.test.latent_codes["S"]
    assert set(np.unique(code1)) <= {0, 1} and len(code2) == len(data.test)


def test_latents_fill_the_ground_truth_and_model_pid():
    from synergy_lab.evaluate import ground_truth_pid, model_pid

    x1, x2, a, b = _xor_arrays(n=800)
    data = from_arrays(x1, x2, {"S": a ^ b}, latents1=a, latents2=b)
    truth = ground_truth_pid(data, "S")
    assert truth is not None
    assert truth.synergy == pytest.approx(1.0, abs=0.01)  # balanced xor: one bit of synergy
    perfect = model_pid(data, "S", data.test.labels["S"], clusters=4, seed=0)
    assert perfect.synergy > 0.9


def test_without_latents_there_is_no_ground_truth():
    x1, x2, a, b = _xor_arrays()
    data = from_arrays(x1, x2, {"S": a ^ b})
    assert not data.has_latents


def test_vector_features_are_standardised_with_training_statistics():
    x1, x2, a, b = _xor_arrays()
    data = from_arrays(x1, x2, {"S": a ^ b})
    for x in (data.train.x1, data.train.x2):
        np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-4)
        np.testing.assert_allclose(x.std(axis=0), 1.0, atol=1e-4)
    assert abs(data.test.x1.mean()) < 0.3  # test uses the training statistics, not its own
    assert "standardised" in data.preprocessing
    raw = from_arrays(x1, x2, {"S": a ^ b}, standardize=False)
    assert raw.preprocessing == "none"
    assert raw.train.x1.max() > 100  # passed through as given


def test_constant_feature_does_not_divide_by_zero():
    x1, x2, a, b = _xor_arrays()
    x1[:, 1] = 3.0
    data = from_arrays(x1, x2, {"S": a ^ b})
    assert np.all(np.isfinite(data.train.x1))
    np.testing.assert_allclose(data.train.x1[:, 1], 0.0)


def test_images_are_not_standardised():
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(30, 3, 8, 8))
    data = from_arrays(images, images, {"y": np.arange(30) % 2})
    assert data.preprocessing == "none"
    assert data.train.x1.min() >= 0


def test_config_json_records_the_preprocessing():
    import torch

    from synergy_lab.config import RunConfig
    from synergy_lab.runs import config_record

    x1, x2, a, b = _xor_arrays()
    data = from_arrays(x1, x2, {"S": a ^ b}, name="mine")
    record = config_record(RunConfig(), torch.device("cpu"), data)
    assert record["dataset"]["name"] == "mine"
    assert "standardised" in record["dataset"]["preprocessing"]
    assert sum(record["dataset"]["splits"].values()) == len(a)


@pytest.mark.parametrize(
    ("labels", "latents", "message"),
    [
        ({"y": np.zeros(50, dtype=int)}, None, "labels['y'] has a single class (0)"),
        ({"y": np.r_[np.zeros(49), 10**7].astype(int)}, None, "class index 10000000 but only 50"),
        ({"y": np.r_[np.zeros(49), 0.5]}, None, "labels['y'] must hold integers"),
        ({"y": np.r_[np.zeros(49), -1].astype(int)}, None, "labels['y'] holds negative values"),
        ({"y": np.arange(50) % 2}, (np.r_[np.zeros(49), -2], np.zeros(50)), "latents1 holds neg"),
        ({"y": np.arange(50) % 2}, (np.zeros(50), np.r_[np.zeros(49), 1.5]), "latents2 must hold"),
        ({"y": np.arange(50) % 2}, (np.zeros(50), None), "give both latents1 and latents2"),
        ({"y": np.arange(50) % 2}, (np.zeros(49), np.zeros(50)), "latents1 has 49 samples"),
    ],
)
def test_bad_labels_and_codes_are_rejected(labels, latents, message):
    x = np.random.default_rng(0).normal(size=(50, 3))
    l1, l2 = latents if latents else (None, None)
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        from_arrays(x, x, labels, latents1=l1, latents2=l2)
    assert "\n" not in str(info.value)
