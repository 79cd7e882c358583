"""Train methods on a task over seeds, evaluate each, and keep a resumable run folder.

One *cell* is one (method, seed): train, take frozen representations, fit one probe per label, and
measure it (accuracy, balanced accuracy, usable bits with bootstrap intervals; the model-level PID
of the hard and of the soft predictions, the latter null-corrected). The supervised reference is
trained on the dataset's ``probe_split`` (the unbiased split the probes read). Running cells into a
resumable run folder is :mod:`synergy_lab.runs` (``run_experiment``), which builds on this module.
"""

from __future__ import annotations

import dataclasses
import platform
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from synergy_lab.augment import AugmentConfig
from synergy_lab.measure import (
    balanced_accuracy,
    bootstrap_intervals,
    captured_fraction,
    soft_model_pid,
    usable_bits,
)
from synergy_lab.measure.soft_pid import PARTS
from synergy_lab.methods import METHODS, MethodConfig
from synergy_lab.models import ModelConfig
from synergy_lab.pid import PID, ClusterConfig, broja_pid, cluster_pid, joint_table
from synergy_lab.probes import ProbeConfig, fit_probe
from synergy_lab.results import (
    RESULT_COLUMNS,
    read_results,
)
from synergy_lab.train import TrainConfig, TrainedModel
from synthetic import MultimodalDataset, TaskConfig

BASELINES: tuple[str, ...] = ("random", "supervised")
#: Fewer optimiser steps than this and a run is warned about. Measured on ``xor`` (2,000
#: samples, batch 256, one seed): S accuracy of the supervised bound 0.67 / 0.73 / 0.84 / 0.89 /
#: 0.98 and of InfMasking 0.69 / 0.69 / 0.74 / 0.84 / 0.96 after 5 / 10 / 20 / 30 / 50 steps,
#: (the untrained network: 0.63-0.66 on 1,000 samples).
MIN_USEFUL_STEPS = 50
_NAN_PID = {"redundancy": np.nan, "unique1": np.nan, "unique2": np.nan, "synergy": np.nan}


class RunFolderError(ValueError):
    """A run folder that cannot be resumed with the settings given."""


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs; ``config.json`` of the run folder records it."""

    task: str = "xor"
    methods: tuple[str, ...] = ("infmasking", "comm", "clip")
    seeds: tuple[int, ...] = (0, 1, 2)
    baselines: bool = True  # add the untrained (random) and supervised bounds
    task_config: TaskConfig = field(default_factory=TaskConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    method: MethodConfig = field(default_factory=MethodConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    pid_clusters: int = 10  # clusters per modality when no discrete latents are known
    probe_every: int = 0  # fit probes every K epochs during training (dynamics.csv); 0 = never
    null_shuffles: int = 20  # permutation-null draws of the soft model-level PID
    bootstrap: int = 1000  # bootstrap resamples of the test split per cell
    groups: tuple[str, ...] = ()  # training groups to train (e.g. ("S",)); () = all of them

    def __post_init__(self) -> None:
        if self.probe_every < 0:
            raise ValueError(f"probe_every must be >= 0; got {self.probe_every}")
        if self.null_shuffles < 20:
            raise ValueError(f"null_shuffles must be >= 20; got {self.null_shuffles}")
        if self.bootstrap < 100:
            raise ValueError(f"bootstrap must be >= 100; got {self.bootstrap}")
        if not self.methods:
            raise ValueError("give at least one method")
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown:
            raise ValueError(
                f"unknown method {unknown[0]!r}; valid methods: {', '.join(sorted(METHODS))}"
            )
        if len(set(self.methods)) != len(self.methods):
            raise ValueError("a method is listed twice")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError("seeds must be a non-empty list of distinct integers")
        if self.pid_clusters < 2:
            raise ValueError(f"pid_clusters must be >= 2; got {self.pid_clusters}")

    @property
    def all_methods(self) -> tuple[str, ...]:
        """Methods in the order they run: the random bound, the methods, the supervised bound."""
        if not self.baselines:
            return self.methods
        head = () if "random" in self.methods else ("random",)
        tail = () if "supervised" in self.methods else ("supervised",)
        return head + self.methods + tail


def _pid_fields(prefix: str, pid: PID | None) -> dict[str, float]:
    values = (
        _NAN_PID
        if pid is None
        else {
            "redundancy": pid.redundancy,
            "unique1": pid.unique1,
            "unique2": pid.unique2,
            "synergy": pid.synergy,
        }
    )
    return {f"{prefix}_{k}": float(v) for k, v in values.items()}


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


def soft_pid_fields(
    dataset: MultimodalDataset, label: str, probabilities: np.ndarray, shuffles: int, seed: int
) -> dict[str, float]:
    """pid_soft_* columns (bits): raw, null-corrected and the corrected part's null range.

    NaN without known latent codes (the soft table needs the codes of each modality).
    """
    names = [
        f"pid_soft_{p}{suffix}" for suffix in ("", "_corrected", "_low", "_high") for p in PARTS
    ]
    if not dataset.has_latents:
        return dict.fromkeys(names, float("nan"))
    code1, code2 = dataset.test.latent_codes[label]
    truth = dataset.latent_joint(label)
    soft = soft_model_pid(
        code1, code2, probabilities, truth.shape[:2], shuffles=shuffles, seed=seed
    )
    values = np.concatenate([soft.raw, soft.corrected, soft.corrected_low, soft.corrected_high])
    return {name: float(v) for name, v in zip(names, values, strict=True)}


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
    split. Columns: label, probe_accuracy and balanced_accuracy (fractions) with 95 % bootstrap
    bounds, usable_bits (bits; predictive V-information) with bounds, captured (usable bits /
    I(X1, X2; Y), NaN without ground truth), n_test, pid_* (PID of the hard predictions, bits),
    pid_soft_* (soft-prediction PID, raw and permutation-null corrected) and gt_* (ground truth).
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
        usable = usable_bits(result.probabilities, y_test, result.prior)
        bounds = bootstrap_intervals(
            y_test, result.probabilities, result.prior, n_boot=bootstrap, seed=seed
        )
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
                **soft_pid_fields(dataset, label, result.probabilities, null_shuffles, seed),
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


def dynamics_hook(
    dataset: MultimodalDataset,
    probe: ProbeConfig | None,
    *,
    every: int,
    seed: int,
    rows: list[dict[str, Any]],
    subsample: int = 1000,
    l2: float = 1e-3,
    max_iter: int = 100,
) -> Callable[[int, TrainedModel], None]:
    """A ``train(on_epoch=...)`` hook: every ``every`` epochs, probe each label on a subsample.

    The subsample (``subsample`` fit and test samples, drawn once with ``seed``) is the same at
    every epoch, so the curve moves only with the representation. To keep the overhead small the
    probe uses one fixed L2 strength ``l2`` (no selection) and ``max_iter`` iterations; its
    numbers are a curve's shape, the final evaluation is the cell's result. Appends one dict per
    label (epoch, label, accuracy, usable_bits in bits) to ``rows``.
    """
    if every < 1:
        raise ValueError(f"every must be >= 1; got {every}")
    probe = dataclasses.replace(probe or ProbeConfig(), l2_grid=(l2,), max_iter=max_iter)
    rng = np.random.default_rng(seed + 7919)
    fit = dataset.split(dataset.probe_split)
    fit = fit.subset(np.sort(rng.permutation(len(fit))[:subsample]))
    test = dataset.test.subset(np.sort(rng.permutation(len(dataset.test))[:subsample]))

    def hook(epoch: int, trained: TrainedModel) -> None:
        final = epoch == trained.train_config.epochs
        if epoch % every and not final:
            return
        z_fit = trained.represent(fit.x1, fit.x2)
        z_test = trained.represent(test.x1, test.x2)
        for label in dataset.label_names:
            result = fit_probe(
                z_fit,
                fit.labels[label],
                z_test,
                test.labels[label],
                probe,
                seed=seed,
                device=trained.device,
                classes=dataset.num_classes[label],
            )
            usable = usable_bits(result.probabilities, test.labels[label], result.prior)
            rows.append(
                {"epoch": epoch, "label": label, "accuracy": result.accuracy, "usable_bits": usable}
            )

    return hook


def _method_config(config: RunConfig, dataset: MultimodalDataset) -> MethodConfig:
    """The method settings, with the supervised bound's label falling back to the first label."""
    if config.method.supervised_label in dataset.num_classes:
        return config.method
    return dataclasses.replace(config.method, supervised_label=dataset.label_names[0])


def _versions() -> dict[str, str]:
    import numpy
    import scipy

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def config_record(
    config: RunConfig, device: torch.device, dataset: MultimodalDataset | None = None
) -> dict[str, Any]:
    """What ``config.json`` holds: every setting, library versions, device, git commit, and for
    a user's dataset its name, split sizes and preprocessing (e.g. standardised features)."""
    record: dict[str, Any] = {
        "config": dataclasses.asdict(config),
        "versions": _versions(),
        "device": str(device),
        "git_commit": _git_commit(),
        "started": datetime.now().isoformat(timespec="seconds"),
    }
    if dataset is not None:
        record["dataset"] = {
            "name": dataset.name,
            "kind": dataset.kind,
            "splits": {name: len(dataset.split(name)) for name in ("train", "val", "test")},
            "preprocessing": dataset.preprocessing,
        }
    return record


def fit_budget(
    config: RunConfig, n_train: int, said: set[str], report: Callable[[str], None]
) -> RunConfig:
    """Cap the batch size to the training split and warn when a run has fewer optimiser steps
    than the methods need (``MIN_USEFUL_STEPS``); each note said once (``said``).

    The capped config is what the run folder records in ``config.json``.
    """
    if config.train.batch_size > n_train >= 2:
        note = (
            f"batch size {config.train.batch_size} is larger than the {n_train} training "
            f"samples; using {n_train} (recorded in config.json)"
        )
        if note not in said:
            report(note)
            said.add(note)
        config = dataclasses.replace(
            config, train=dataclasses.replace(config.train, batch_size=n_train)
        )
    batches = n_train // max(1, min(config.train.batch_size, n_train))
    steps = config.train.epochs * batches
    trains = any(METHODS[m].trainable for m in config.all_methods)
    note = (
        f"warning: {steps} optimiser steps per training ({config.train.epochs} epochs x "
        f"{batches} batches); on xor the methods, the supervised bound included, learn S only "
        f"with about {MIN_USEFUL_STEPS}: raise --epochs or --samples"
    )
    if trains and steps < MIN_USEFUL_STEPS and note not in said:
        report(note)
        said.add(note)
    return config


def _check_run_folder(out_dir: Path, task: str) -> pd.DataFrame:
    """Finished rows of an earlier run in ``out_dir`` (empty if none); errors if incompatible."""
    results_path = out_dir / "results.csv"
    if not results_path.exists():
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    done = read_results(results_path)
    tasks = set(done["task"])
    if tasks and tasks != {task}:
        raise RunFolderError(
            f"run folder {out_dir} holds results of task {sorted(tasks)[0]!r}, not "
            f"{task!r}; choose another --out folder"
        )
    return done


def finished_cells(done: pd.DataFrame, labels: tuple[str, ...]) -> set[tuple[str, int]]:
    """(method, seed) pairs whose every label already has a row."""
    cells = set()
    for (method, seed), group in done.groupby(["method", "seed"]):
        if set(labels) <= set(group["label"]):
            cells.add((str(method), int(str(seed))))
    return cells
