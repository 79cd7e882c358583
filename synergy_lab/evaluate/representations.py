"""What a frozen representation makes usable: one probe per label, its metrics, the model PID.

One row per label: linear-probe accuracy and balanced accuracy with bootstrap intervals, usable
bits (predictive V-information, bits), the captured fraction of I(X1, X2; Y), the PID of the
probe's hard predictions and of its soft predictions (tested against a permutation null), and
the label's exact
ground-truth PID where the task knows its latents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from synergy_lab.evaluate.probes import ProbeConfig, fit_probe
from synergy_lab.measure import (
    balanced_accuracy,
    bootstrap_intervals,
    captured_fraction,
    soft_model_pid,
    usable_bits,
)
from synergy_lab.pid import PID, ClusterConfig, broja_pid, cluster_pid, entropy, joint_table
from synergy_lab.train import TrainedModel
from synthetic import MultimodalDataset


def _pid_fields(prefix: str, pid: PID | None) -> dict[str, float]:
    """``<prefix>_<part>`` columns (bits) of a PID; NaN where there is none."""
    values = dict.fromkeys(PID.PARTS, np.nan) if pid is None else pid.as_dict()
    return {f"{prefix}_{part}": float(values[part]) for part in PID.PARTS}


def ground_truth_pid(dataset: MultimodalDataset, label: str) -> PID | None:
    """Exact PID (bits) of a label w.r.t. the two modalities' latents, if the task knows it."""
    if not dataset.has_latents:
        return None
    return broja_pid(dataset.latent_joint(label))


def model_pid(
    dataset: MultimodalDataset, label: str, predictions: np.ndarray, clusters: int, seed: int
) -> PID:
    """PID (bits) of the probe's test predictions w.r.t. the modalities.

    With known latents: the exact PID of the empirical table (code1, code2, prediction) on the
    test split. Without: the cluster-based estimate (Liang et al., NeurIPS 2023) over the raw
    test inputs of each modality.
    """
    test = dataset.test
    classes = dataset.num_classes[label]
    if dataset.has_latents:
        code1, code2 = test.latent_codes[label]
        truth = dataset.latent_joint(label)
        table = joint_table(
            code1, code2, predictions, shape=(truth.shape[0], truth.shape[1], classes)
        )
        return broja_pid(table)
    flat1 = test.x1.reshape(len(test), -1)
    flat2 = test.x2.reshape(len(test), -1)
    config = ClusterConfig(n_clusters1=clusters, n_clusters2=clusters, seed=seed)
    return cluster_pid(flat1, flat2, predictions, config)


#: Suffixes of the pid_soft_<part> columns: the raw part (bits, >= 0), its permutation null's
#: mean and 95th percentile (bits), the one-sided permutation p-value, and (legacy, for files of
#: older versions: never report them as parts, they can be negative) raw - null mean and its
#: null prediction interval.
SOFT_PID_SUFFIXES = ("", "_null_mean", "_null_q95", "_p", "_corrected", "_low", "_high")


def soft_pid_fields(
    dataset: MultimodalDataset, label: str, probabilities: np.ndarray, shuffles: int, seed: int
) -> dict[str, float]:
    """pid_soft_* columns: the soft-prediction PID's raw parts (bits) tested against their
    permutation null (:data:`SOFT_PID_SUFFIXES`); NaN without known latent codes (the soft
    table needs the codes of each modality)."""
    names = [f"pid_soft_{p}{suffix}" for suffix in SOFT_PID_SUFFIXES for p in PID.PARTS]
    if not dataset.has_latents:
        return dict.fromkeys(names, float("nan"))
    code1, code2 = dataset.test.latent_codes[label]
    truth = dataset.latent_joint(label)
    soft = soft_model_pid(
        code1, code2, probabilities, truth.shape[:2], shuffles=shuffles, seed=seed
    )
    values = np.concatenate(
        [
            soft.raw,
            soft.null_mean,
            soft.null_q95,
            soft.p_value,
            soft.corrected,
            soft.corrected_low,
            soft.corrected_high,
        ]
    )
    return {name: float(v) for name, v in zip(names, values, strict=True)}


def usable_prior(dataset: MultimodalDataset, label: str, fitted: np.ndarray) -> np.ndarray:
    """The constant predictor (classes,) usable bits are measured against: the probe split's
    class frequencies ``fitted``, or, where the dataset says its test split is drawn from
    another law than the probe split (``usable_prior = "law"``), that law's exact class
    marginal, so usable bits and I(X1, X2; Y) are computed on the same distribution."""
    if dataset.usable_prior != "law" or dataset.latent_joint_fn is None:
        return fitted
    law = dataset.latent_joint(label).sum(axis=(0, 1))
    law = np.clip(law, 1e-12, None)  # an exact zero never occurs on test; keeps log finite
    return np.asarray(law / law.sum(), dtype=np.float64)


def evaluate_representations(
    z_fit: np.ndarray,
    z_test: np.ndarray,
    dataset: MultimodalDataset,
    probe: ProbeConfig | None = None,
    *,
    seed: int = 0,
    pid_clusters: int = 10,
    device: torch.device | str = "cpu",
    null_shuffles: int = 20,
    bootstrap: int = 1000,
) -> pd.DataFrame:
    """Every metric of every label from frozen representations; one row per label.

    ``z_fit`` (n_fit, D) represents ``dataset.probe_split``, ``z_test`` (n_test, D) the test
    split. Columns: label, probe_accuracy and balanced_accuracy (fractions, the probe whose L2
    is chosen by validation accuracy) with 95 % bootstrap bounds, usable_bits (bits; predictive
    V-information of the calibrated probe: L2 and a temperature chosen by validation log-loss,
    so over-confidence does not drive it below 0; against :func:`usable_prior`) with bounds,
    captured (usable bits /
    I(X1, X2; Y), NaN without ground truth), label_entropy (H(Y) of the test labels, bits),
    n_test, pid_* (PID of the hard predictions, bits), pid_soft_* (soft-prediction PID of the
    calibrated probe and its permutation test) and gt_* (ground truth).
    """
    fit_split = dataset.split(dataset.probe_split)
    test = dataset.test
    if len(z_fit) != len(fit_split) or len(z_test) != len(test):
        raise ValueError(
            f"z_fit has {len(z_fit)} rows for {len(fit_split)} {dataset.probe_split} samples and "
            f"z_test {len(z_test)} for {len(test)} test samples"
        )
    rows = []
    for label in dataset.label_names:
        classes = dataset.num_classes[label]
        y_test = test.labels[label]
        result = fit_probe(
            z_fit,
            fit_split.labels[label],
            z_test,
            y_test,
            probe,
            seed=seed,
            device=device,
            classes=classes,
        )
        soft = result.probabilities
        if result.calibrated_probabilities.size:  # usable bits from the calibrated read-out
            soft = result.calibrated_probabilities
        prior = usable_prior(dataset, label, result.prior)
        bounds = bootstrap_intervals(
            y_test, result.probabilities, prior, n_boot=bootstrap, seed=seed,
            usable_probs=soft,
        )  # fmt: skip
        usable = usable_bits(soft, y_test, prior)
        truth = ground_truth_pid(dataset, label)
        pid = model_pid(dataset, label, result.predictions, pid_clusters, seed)
        rows.append(
            {
                "label": label,
                "probe_accuracy": result.accuracy,
                **_pid_fields("pid", pid),
                **_pid_fields("gt", truth),
                "balanced_accuracy": balanced_accuracy(y_test, result.predictions, classes),
                "accuracy_low": bounds["accuracy"].low,
                "accuracy_high": bounds["accuracy"].high,
                "balanced_accuracy_low": bounds["balanced_accuracy"].low,
                "balanced_accuracy_high": bounds["balanced_accuracy"].high,
                "usable_bits": usable,
                "usable_bits_low": bounds["usable_bits"].low,
                "usable_bits_high": bounds["usable_bits"].high,
                "captured": captured_fraction(usable, truth.total if truth else float("nan")),
                "n_test": len(test),
                "chance_accuracy": float(np.mean(y_test == int(np.argmax(result.prior)))),
                "label_entropy": entropy(np.bincount(y_test, minlength=classes) / len(y_test)),
                **soft_pid_fields(dataset, label, soft, null_shuffles, seed),
            }
        )
    return pd.DataFrame(rows)


def evaluate(
    trained: TrainedModel,
    dataset: MultimodalDataset,
    probe: ProbeConfig | None = None,
    *,
    seed: int = 0,
    pid_clusters: int = 10,
    null_shuffles: int = 20,
    bootstrap: int = 1000,
) -> pd.DataFrame:
    """Probe every label of ``dataset`` on ``trained``'s frozen representation; one row per label.

    Probes are fitted on ``dataset.probe_split`` (train, or the unbiased val split of tasks with a
    biased train split) and scored on test; see :func:`evaluate_representations` for columns.
    """
    fit_split = dataset.split(dataset.probe_split)
    return evaluate_representations(
        trained.represent(fit_split.x1, fit_split.x2),
        trained.represent(dataset.test.x1, dataset.test.x2),
        dataset,
        probe,
        seed=seed,
        pid_clusters=pid_clusters,
        device=trained.device,
        null_shuffles=null_shuffles,
        bootstrap=bootstrap,
    )
