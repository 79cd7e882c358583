"""Usable bits are measured against the test law's own label marginal (issue 22, item 3)."""

import numpy as np

from synergy_lab.evaluate.representations import usable_prior
from synergy_lab.measure import usable_bits
from synergy_lab.pid import broja_pid
from synthetic import TaskConfig, make_dataset


def test_a_perfect_read_out_of_a_shifted_label_never_exceeds_its_information() -> None:
    # colour 1 on held-out test triples: its marginal differs from the kept-triple fit split's
    data = make_dataset("trifeature", TaskConfig(n_samples=4000, image_size=8), seed=0)
    view = data.for_group(data.training_groups[1])  # S and the shortcut labels
    y_fit, y_test = view.val.labels["colour1"], view.test.labels["colour1"]
    fit_prior = np.bincount(y_fit, minlength=10) / len(y_fit)
    prior = usable_prior(view, "colour1", fit_prior)
    exact = view.latent_joint("colour1").sum(axis=(0, 1))
    assert np.allclose(prior, exact / exact.sum())
    perfect = np.eye(10)[y_test]
    info = broja_pid(view.latent_joint("colour1")).total  # I(X1, X2; colour1) = H(colour1)
    # against the fit split's prior, a perfect read-out shows more than the label holds
    assert usable_bits(perfect, y_test, fit_prior) > info
    # against the test law's marginal: H(Y) of the test law, up to sampling error
    cross = usable_bits(perfect, y_test, prior)
    stderr = np.std(-np.log2(prior[y_test])) / np.sqrt(len(y_test))
    assert abs(cross - info) < 4 * stderr


def test_without_latents_the_fit_prior_is_kept() -> None:
    from synthetic import from_arrays

    rng = np.random.default_rng(0)
    data = from_arrays(
        rng.normal(size=(200, 3)), rng.normal(size=(200, 3)), {"y": rng.integers(0, 2, 200)}
    )
    fit_prior = np.array([0.3, 0.7])
    assert usable_prior(data, "y", fit_prior) is fit_prior
