"""Train methods on a task over seeds, evaluate each, and keep a resumable run folder.

One *cell* is one (method, seed): train, take frozen representations, fit one probe per label, and
compute the model-level PID of the probe's test predictions. Each finished cell is written as its
own file (``synergy_lab.runs``) and ``results.csv`` is merged from them, so rerunning the same
command in the same folder skips them and an interruption loses at most the cells in progress.
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
from synergy_lab.methods import METHODS, MethodConfig
from synergy_lab.models import ModelConfig
from synergy_lab.pid import PID, ClusterConfig, broja_pid, cluster_pid, joint_table
from synergy_lab.probes import ProbeConfig, fit_probe
from synergy_lab.results import (
    CURVE_COLUMNS,
    RESULT_COLUMNS,
    read_results,
)
from synergy_lab.train import TrainConfig, TrainedModel
from synthetic import MultimodalDataset, TaskConfig

BASELINES: tuple[str, ...] = ("random", "supervised")
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

    def __post_init__(self) -> None:
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


def evaluate_representations(
    z_fit: np.ndarray,
    z_test: np.ndarray,
    dataset: MultimodalDataset,
    probe: ProbeConfig | None = None,
    *,
    seed: int = 0,
    pid_clusters: int = 10,
    device: str | torch.device = "cpu",
) -> pd.DataFrame:
    """Probe every label of ``dataset`` on frozen representations; one row per label.

    ``z_fit`` (n_fit, D) are the representations of ``dataset.probe_split``, ``z_test``
    (n_test, D) those of the test split. Columns: label, probe_accuracy, pid_* (model-level PID,
    bits) and gt_* (ground truth, bits; NaN without known latents).
    """
    fit_split = dataset.split(dataset.probe_split)
    rows = []
    for label in dataset.label_names:
        result = fit_probe(
            z_fit,
            fit_split.labels[label],
            z_test,
            dataset.test.labels[label],
            probe,
            seed=seed,
            device=device,
        )
        pid = model_pid(dataset, label, result.predictions, pid_clusters, seed)
        rows.append(
            {
                "label": label,
                "probe_accuracy": result.accuracy,
                **_pid_fields("pid", pid),
                **_pid_fields("gt", ground_truth_pid(dataset, label)),
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
) -> pd.DataFrame:
    """Probe every label of ``dataset`` on ``trained``'s frozen representation; one row per label.

    Probes are fitted on ``dataset.probe_split`` (train, or the unbiased val split of tasks with a
    biased train split) and scored on test; see :func:`evaluate_representations` for the columns.
    """
    fit_split = dataset.split(dataset.probe_split)
    z_fit = trained.represent(fit_split.x1, fit_split.x2)
    z_test = trained.represent(dataset.test.x1, dataset.test.x2)
    return evaluate_representations(
        z_fit,
        z_test,
        dataset,
        probe,
        seed=seed,
        pid_clusters=pid_clusters,
        device=trained.device,
    )


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


def config_record(config: RunConfig, device: torch.device) -> dict[str, Any]:
    """What ``config.json`` holds: every setting, library versions, device, git commit."""
    return {
        "config": dataclasses.asdict(config),
        "versions": _versions(),
        "device": str(device),
        "git_commit": _git_commit(),
        "started": datetime.now().isoformat(timespec="seconds"),
    }


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


def run_experiment(
    config: RunConfig,
    out_dir: Path,
    *,
    dataset: MultimodalDataset | None = None,
    on_cell: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Train and evaluate every (method, seed) cell not yet in ``out_dir``; return all rows.

    ``dataset`` replaces the task's generator (e.g. user arrays wrapped with
    ``synthetic.from_arrays``); it is then the same for every seed, only training varies, and
    the ``task`` column holds the dataset's name.
    ``on_cell`` receives a one-line status after each finished cell.
    Each cell is one file in ``out_dir/cells`` (see :mod:`synergy_lab.runs`, which this calls
    for the serial, in-process case); ``results.csv`` is merged from them.
    """
    from synergy_lab.runs import run_cells  # runs/ sits above this module; imported lazily

    outcome = run_cells(config, Path(out_dir), dataset=dataset, on_cell=on_cell)
    return outcome.results.infer_objects()  # numeric columns, not object


def _curve_rows(trained: TrainedModel, method: str, seed: int) -> pd.DataFrame:
    """The trainer's logged loss parts in long form (method, seed, step, part, value)."""
    rows = [
        {"method": method, "seed": seed, "step": int(entry["step"]), "part": part, "value": value}
        for entry in trained.loss_curve
        for part, value in entry.items()
        if part not in ("step", "epoch")  # bookkeeping, not a logged quantity
    ]
    return pd.DataFrame(rows, columns=list(CURVE_COLUMNS))
