"""Holm's adjustment, its paired t-intervals and the reference gate against hand computations."""

import numpy as np
import pytest

from synergy_lab.measure.gate import NOT_LEARNED, reference_gate
from synergy_lab.measure.multiplicity import (
    holm_adjust,
    holm_paired_differences,
    paired_t_p_value,
)


def test_holm_adjusted_p_values_by_hand():
    # sorted 0.01, 0.03, 0.04, 0.20 -> 4 x 0.01, 3 x 0.03, max(0.09, 2 x 0.04), max(0.09, 0.20)
    np.testing.assert_allclose(holm_adjust([0.01, 0.04, 0.03, 0.20]), [0.04, 0.09, 0.09, 0.20])
    # monotone: 0.022 alone would pass 0.05 / 2, but Holm stopped at 0.02 (3 x 0.02 = 0.06)
    np.testing.assert_allclose(holm_adjust([0.02, 0.022, 0.5]), [0.06, 0.06, 0.5])
    np.testing.assert_allclose(holm_adjust([0.6, 0.7]), [1.0, 1.0])  # capped at 1
    assert holm_adjust([]).size == 0
    with pytest.raises(ValueError, match="p-values"):
        holm_adjust([0.5, 1.5])


def test_paired_t_p_value_by_hand():
    # d = 0.1, 0.2, 0.3: mean 0.2, sd 0.1, t = 0.2 / (0.1 / sqrt 3) = 3.4641, 2 d.o.f.:
    # two-sided p = 1 - t / sqrt(t^2 + 2) = 1 - 3.4641 / 3.7417 = 0.074180
    assert paired_t_p_value([0.1, 0.2, 0.3]) == pytest.approx(0.074180, abs=1e-6)
    assert paired_t_p_value([0.1, 0.1]) == 0.0 and paired_t_p_value([0.0, 0.0]) == 1.0
    assert np.isnan(paired_t_p_value([0.3]))


def test_holm_paired_intervals_by_hand():
    # 3 comparisons, 3 seeds (2 d.o.f.; t-test p = 1 - t / sqrt(t^2 + 2) for 2 d.o.f.):
    #   a: d = .02 .03 .025  mean .025 sd .005  t = 8.6603  p = 0.013072  Holm 3 p = 0.039217
    #   b: d = .1 .2 .3      mean .2   sd .1    t = 3.4641  p = 0.074180  Holm 2 p = 0.148360
    #   c: d = -.01 .02 .005 mean .005 sd .015  t = 0.5774  p = 0.622036  Holm p = 0.622036
    # a is rejected at step 1: level 1 - .05/3, t(2, 1 - .05/6) = 7.6488, half 7.6488 x .005 /
    # sqrt 3 = 0.022080; Holm keeps b at step 2, so b and c get level 1 - .05/2,
    # t(2, 1 - .0125) = 6.2053: halves 6.2053 x .1 / sqrt 3 = 0.358265 and 0.053740
    a = {0: 0.92, 1: 0.93, 2: 0.925}
    family = {
        "a": (a, {0: 0.90, 1: 0.90, 2: 0.90}),
        "b": ({0: 0.6, 1: 0.7, 2: 0.8}, {0: 0.5, 1: 0.5, 2: 0.5}),
        "c": ({0: 0.49, 1: 0.52, 2: 0.505, 3: 0.7}, {0: 0.5, 1: 0.5, 2: 0.5}),  # seed 3: no pair
    }
    out = holm_paired_differences(family)
    assert [out[k].p_value for k in "abc"] == pytest.approx(
        [0.013072, 0.074180, 0.622036], abs=2e-6
    )
    assert [out[k].p_holm for k in "abc"] == pytest.approx([0.039217, 0.148360, 0.622036], abs=5e-6)
    assert [out[k].level for k in "abc"] == pytest.approx([1 - 0.05 / 3, 0.975, 0.975])
    assert (out["a"].low, out["a"].high) == pytest.approx(
        (0.025 - 0.022080, 0.025 + 0.022080), abs=1e-5
    )
    assert (out["b"].low, out["b"].high) == pytest.approx(
        (0.2 - 0.358265, 0.2 + 0.358265), abs=1e-5
    )
    assert (out["c"].low, out["c"].high) == pytest.approx(
        (0.005 - 0.05374, 0.005 + 0.05374), abs=1e-5
    )
    assert [out[k].excludes_zero for k in "abc"] == [True, False, False]
    assert out["c"].n == 3
    with pytest.raises(ValueError, match="alpha"):
        holm_paired_differences(family, alpha=0.0)


def test_holm_intervals_exclude_zero_exactly_when_holm_rejects():
    rng = np.random.default_rng(0)
    for rep in range(300):
        m, n = rng.integers(1, 7), rng.integers(2, 6)
        family = {
            f"t{j}": (
                dict(enumerate(rng.normal(rng.choice([0.0, 0.05]), 0.03, n))),
                dict(enumerate(np.zeros(n))),
            )
            for j in range(m)
        }
        for name, comparison in holm_paired_differences(family).items():
            assert comparison.excludes_zero == (comparison.p_holm < 0.05), (rep, name)
            assert comparison.p_holm >= comparison.p_value


def test_one_seed_comparison_is_left_out_of_the_family():
    out = holm_paired_differences(
        {"one": ({0: 1.0}, {0: 0.0}), "two": ({0: 0.3, 1: 0.31}, {0: 0.1, 1: 0.1})}
    )
    assert np.isnan(out["one"].p_value) and not out["one"].excludes_zero
    assert out["two"].p_holm == pytest.approx(out["two"].p_value)  # a family of one


def test_reference_gate_both_outcomes():
    # seeds 0.97, 0.98, 0.99: mean 0.98, sd 0.01, half 4.3027 x 0.01 / sqrt 3 = 0.024841
    gate = reference_gate(0.5, seed_accuracies=[0.97, 0.98, 0.99])
    assert gate.learned and gate.low == pytest.approx(0.98 - 0.024841, abs=1e-6)
    # seeds 0.50, 0.60, 0.70: mean 0.6, sd 0.1, half 0.248414: [0.352, 0.848] holds 0.5
    gate = reference_gate(0.5, seed_accuracies=[0.5, 0.6, 0.7])
    assert not gate.learned and gate.verdict == NOT_LEARNED
    assert gate.low == pytest.approx(0.6 - 0.248414, abs=1e-6)
    assert reference_gate(0.25, interval=(0.26, 0.30)).learned
    assert not reference_gate(0.25, interval=(0.20, 0.24)).learned  # below chance: not learned
    with pytest.raises(ValueError, match="exactly one"):
        reference_gate(0.5)
    with pytest.raises(ValueError, match="2 finite seeds"):
        reference_gate(0.5, seed_accuracies=[0.9, float("nan")])
