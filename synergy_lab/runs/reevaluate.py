"""Re-probe a run folder's saved representations with another probe, without retraining."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

import synthetic
from synergy_lab.experiment import RunConfig, RunFolderError, evaluate_representations
from synergy_lab.probes import ProbeConfig
from synergy_lab.results import atomic_write_csv
from synergy_lab.runs.cells import (
    CELLS_DIR,
    CellFileError,
    load_representations,
    order_result_columns,
    read_cell,
    training_parts,
)
from synthetic import MultimodalDataset


def _tuples(record: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in record.items()}


def config_from_record(record: dict[str, Any]) -> RunConfig:
    """The RunConfig a cell file recorded (``dataclasses.asdict`` form)."""
    from synergy_lab.augment import AugmentConfig
    from synergy_lab.methods import MethodConfig
    from synergy_lab.models import ModelConfig
    from synergy_lab.train import TrainConfig
    from synthetic import TaskConfig

    parts = {
        "task_config": TaskConfig,
        "model": ModelConfig,
        "method": MethodConfig,
        "train": TrainConfig,
        "augment": AugmentConfig,
        "probe": ProbeConfig,
    }
    values = _tuples({k: v for k, v in record.items() if k not in parts})
    # cells written before the trifeature paper protocol existed used what is now "single"
    record = {**record, "task_config": {"trifeature_protocol": "single", **record["task_config"]}}
    for name, cls in parts.items():
        values[name] = cls(**_tuples(record[name]))
    return RunConfig(**values)


def reevaluate(
    run_dir: Path,
    probe: ProbeConfig,
    *,
    out_dir: Path | None = None,
    dataset: MultimodalDataset | None = None,
    device: str = "cpu",
    on_cell: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Fit ``probe`` on every finished cell's saved representations; write ``results.csv``.

    The data of each cell is regenerated from its task settings and seed (or ``dataset``, for
    runs on user arrays), so labels and ground truth match what the cell was trained on.
    Output goes to ``out_dir`` (default ``RUN_DIR/eval-<probe kind>``); the run's own
    results are left untouched.
    """
    run_dir = Path(run_dir)
    report = on_cell or (lambda line: None)
    paths = sorted((run_dir / CELLS_DIR).glob("*.json"))
    if not paths:
        raise RunFolderError(f"{run_dir} has no finished cells in {run_dir / CELLS_DIR}")
    records = []
    for path in paths:
        try:
            records.append(read_cell(path))
        except CellFileError as error:
            report(f"warning: {error}; skipped")
    records.sort(key=lambda r: (r["order"], r["key"]))
    frames = []
    for record in records:
        config = config_from_record(record["config"])
        settings = record["settings"]
        seed = int(settings["seed"])
        if dataset is not None:
            data = dataset
        elif settings["data"] is not None or config.task not in synthetic.TASKS:
            raise RunFolderError(
                f"cell {record['key']} was trained on user data; pass that dataset to evaluate"
            )
        else:
            data = synthetic.make_dataset(config.task, config.task_config, seed=seed)
        parts = []
        for group, part in training_parts(str(settings["method"]), data, config.groups):
            z_fit, z_test = load_representations(
                run_dir / CELLS_DIR / record["artefacts"]["representations"], group
            )
            parts.append(
                evaluate_representations(
                    z_fit,
                    z_test,
                    part,
                    probe,
                    seed=seed,
                    pid_clusters=config.pid_clusters,
                    device=device,
                    null_shuffles=config.null_shuffles,
                    bootstrap=config.bootstrap,
                )
            )
        rows = pd.concat(parts, ignore_index=True)
        results = record["tables"]["results"]
        front = results.iloc[: len(rows)].drop(columns=[c for c in rows.columns if c in results])
        front = front.drop(columns=["train_seconds"], errors="ignore").reset_index(drop=True)
        frame = pd.concat([front, rows], axis=1)
        frame["train_seconds"] = record["train_seconds"]
        frame = order_result_columns(frame, list(record["settings"]["grid"]))
        frames.append(frame)
        report(
            f"{record['key']:>24}: "
            + ", ".join(f"{r.label} {r.probe_accuracy:.3f}" for r in rows.itertuples())
        )
    merged = pd.concat(frames, ignore_index=True)
    target = Path(out_dir) if out_dir is not None else run_dir / f"eval-{probe.kind}"
    atomic_write_csv(target / "results.csv", merged)
    from synergy_lab.results import atomic_write_json

    atomic_write_json(
        target / "probe.json", {"run_dir": str(run_dir), "probe": dataclasses.asdict(probe)}
    )
    return merged
