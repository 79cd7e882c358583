"""Usable bits' constant predictor: the fit split's frequencies, or the test law's marginal."""

import numpy as np
import pytest

from synergy_lab.evaluate.representations import usable_prior
from synergy_lab.measure import usable_bits
from synergy_lab.pid import broja_pid, entropy
from synthetic import TaskConfig, get_task, make_dataset
from synthetic.trifeature import heldout_triples, pair_joint


@pytest.fixture(scope="module")
def paper():
    return make_dataset("trifeature", TaskConfig(n_samples=400, image_size=8), seed=0)


def test_a_group_tested_on_its_own_law_reads_usable_bits_against_that_law(paper) -> None:
    s = paper.for_group(paper.training_groups[1])
    assert s.usable_prior == "law" and paper.usable_prior == "fit"
    fitted = np.full(10, 0.1)
    law = usable_prior(s, "colour1", fitted)
    assert law == pytest.approx(s.latent_joint("colour1").sum(axis=(0, 1)))
    assert usable_prior(paper, "colour1", fitted) is fitted  # shared splits: as before
    y = s.test.labels["colour1"]
    perfect = np.eye(10)[y]
    assert usable_bits(perfect, y, law) == pytest.approx(-np.mean(np.log2(law[y])))


def test_against_the_test_law_a_perfect_read_out_captures_exactly_its_information() -> None:
    """In expectation a perfect probe of colour 1 scores the test law's cross-entropy of its
    constant predictor: H(colour1) = I(X1, X2; colour1) with the law's marginal, that plus a
    KL divergence (captured above 1) with the probe split's (kept triples) marginal."""
    test_law = pair_joint(0.5, heldout_triples(0.2)).sum(axis=(0, 1, 3, 4))  # axes s, t1, c1
    val_law = pair_joint(0.5, ~heldout_triples(0.2)).sum(axis=(0, 1, 3, 4))
    truth = broja_pid(get_task("trifeature")._paper_latent_joint("colour1", 0.5, 0.2)).total
    assert entropy(test_law) == pytest.approx(truth, abs=1e-6)  # colour 1 is visible
    assert float(test_law @ -np.log2(val_law)) > truth + 1e-3  # the shift the old prior added
