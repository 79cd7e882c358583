"""Numbers you can trust: usable information, intervals and comparisons (numpy/scipy, bits).

* :func:`usable_bits`: the probe's predictive V-information H(Y) - CE_test in bits (Xu et al.,
  ICLR 2020): about 0 for a useless representation, and not systematically above it.
* :func:`bootstrap_intervals`: percentile bootstrap over test samples for accuracy, balanced
  accuracy and usable bits.
* :func:`seed_summary` / :func:`paired_difference`: across-seed mean, sd and t-interval, and a
  comparison of two methods paired by seed.
* :func:`holm_adjust` / :func:`holm_paired_differences`: Holm's step-down adjustment of a
  family of paired comparisons, with t-intervals at the level Holm gives each test.
* :func:`reference_gate`: "learned" vs "not learned at this budget" from the reference's
  accuracy interval and chance.
* :func:`soft_model_pid`: the model-level PID of the probe's *soft* predictions against the
  latent codes, tested against a permutation null (one-sided p-value per part). It measures
  which kind of information about the codes (redundant, unique, synergistic) the probe's
  predictive distribution carries beyond what chance alignment of the same predictions with
  the codes gives; it does not measure how
  much of the label's own information the representation captured (that is ``usable_bits``),
  and for a label built from one PID atom its type is fixed by how the label was built.
"""

from synergy_lab.measure.gate import ReferenceGate, reference_gate
from synergy_lab.measure.information import (
    balanced_accuracy,
    captured_fraction,
    class_prior,
    cross_entropy_bits,
    usable_bits,
)
from synergy_lab.measure.intervals import Interval, bootstrap_intervals
from synergy_lab.measure.multiplicity import (
    HolmComparison,
    holm_adjust,
    holm_paired_differences,
    paired_t_p_value,
)
from synergy_lab.measure.seeds import (
    PairedComparison,
    SeedSummary,
    paired_difference,
    seed_summary,
)
from synergy_lab.measure.soft_pid import SoftPID, soft_joint_table, soft_model_pid

__all__ = [
    "HolmComparison",
    "Interval",
    "PairedComparison",
    "ReferenceGate",
    "SeedSummary",
    "SoftPID",
    "balanced_accuracy",
    "bootstrap_intervals",
    "captured_fraction",
    "class_prior",
    "cross_entropy_bits",
    "holm_adjust",
    "holm_paired_differences",
    "paired_difference",
    "paired_t_p_value",
    "reference_gate",
    "seed_summary",
    "soft_joint_table",
    "soft_model_pid",
    "usable_bits",
]
