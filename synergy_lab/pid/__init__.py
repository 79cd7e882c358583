"""Partial information decomposition (numpy/scipy only), in bits throughout.

* :func:`broja_pid` / :func:`solve_broja`: exact BROJA PID of a table p(x1, x2, y), with a
  certified duality gap (Bertschinger et al. 2014).
* :data:`CANONICAL`: named tables with known decompositions (RDN, UNQ, XOR, AND, COPY, ...).
* :func:`pid_from_samples`, :func:`joint_table`: plug-in estimates from discrete columns.
* :func:`cluster_pid`: estimate for continuous representations by k-means clustering
  (scikit-learn; Liang et al., NeurIPS 2023).
* ``synergy_lab.pid.batch.batch_pid`` (import that module itself: it needs torch): the BATCH
  estimator of Liang et al. (NeurIPS 2023), classifiers and a Sinkhorn-projected coupling.
* :func:`gaussian_mmi_pid`: closed-form MMI PID of jointly Gaussian vectors (Barrett 2015); it
  is the Gaussian BROJA PID only for a scalar target.
* :func:`gaussian_broja_pid` / :func:`solve_gaussian_broja`: Gaussian BROJA-type PID of vector
  (X1, X2, Y) with a certified duality gap (Venkatesh et al., NeurIPS 2023).
"""

from synergy_lab.pid.broja import (
    PID,
    BrojaSolution,
    SolverOptions,
    broja_pid,
    pid_from_min_mi,
    solve_broja,
)
from synergy_lab.pid.distributions import (
    CANONICAL,
    CanonicalTable,
    canonical_table,
    table_from_outcomes,
)
from synergy_lab.pid.estimators import (
    ClusterConfig,
    cluster_labels,
    cluster_pid,
    cluster_table,
    joint_table,
    pid_from_samples,
)
from synergy_lab.pid.gaussian import (
    gaussian_mmi_pid,
    gaussian_mmi_pid_from_samples,
    gaussian_mutual_information,
)
from synergy_lab.pid.gaussian_broja import (
    GaussianBrojaSolution,
    gaussian_broja_pid,
    gaussian_broja_pid_from_samples,
    solve_gaussian_broja,
)
from synergy_lab.pid.information import (
    entropy,
    mutual_information,
    table_informations,
    validate_table,
)

__all__ = [
    "CANONICAL",
    "PID",
    "BrojaSolution",
    "CanonicalTable",
    "GaussianBrojaSolution",
    "ClusterConfig",
    "SolverOptions",
    "broja_pid",
    "canonical_table",
    "cluster_labels",
    "cluster_pid",
    "cluster_table",
    "entropy",
    "gaussian_broja_pid",
    "gaussian_broja_pid_from_samples",
    "gaussian_mmi_pid",
    "gaussian_mmi_pid_from_samples",
    "gaussian_mutual_information",
    "joint_table",
    "mutual_information",
    "pid_from_min_mi",
    "pid_from_samples",
    "solve_broja",
    "solve_gaussian_broja",
    "table_from_outcomes",
    "table_informations",
    "validate_table",
]
