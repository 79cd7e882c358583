"""Re-probe a run folder's saved representations with another probe, without retraining."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pandas as pd

import synthetic
from synergy_lab.config import config_from_record
from synergy_lab.evaluate import ProbeConfig, evaluate_representations
from synergy_lab.files import atomic_write_csv, atomic_write_json
from synergy_lab.runs.cells import (
    CELLS_DIR,
    CellFileError,
    check_artefacts,
    dataset_fingerprint,
    load_representations,
    order_result_columns,
    read_cell,
    training_parts,
)
from synergy_lab.runs.folder import RunFolderError
from synthetic import MultimodalDataset


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
    records.sort(key=lambda r: (r.order, r.key))
    fingerprint = dataset_fingerprint(dataset)
    frames = []
    for record in records:
        config = config_from_record(record.config)
        seed = record.seed
        user_data = record.settings["data"] is not None or config.task not in synthetic.TASKS
        if user_data and dataset is None:
            raise RunFolderError(
                f"cell {record.key} was trained on user data; pass that dataset with "
                "--data FILE.npz (in Python: dataset=)"
            )
        if dataset is not None:
            if record.settings["data"] != fingerprint:
                raise RunFolderError(
                    f"dataset {dataset.name!r} is not the one cell {record.key} was trained on "
                    f"(fingerprint {fingerprint}, the cell's {record.settings['data']})"
                )
            data = dataset
        else:
            data = synthetic.make_dataset(config.task, config.task_config, seed=seed)
        try:
            check_artefacts(record, run_dir / CELLS_DIR, required=True)
        except CellFileError as error:
            report(f"warning: {error}; skipped (rerun the run to retrain the cell)")
            continue
        parts = []
        for group, part in training_parts(record.method, data, config.groups):
            z_fit, z_test = load_representations(
                run_dir / CELLS_DIR / record.artefacts["representations"], group
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
        results = record.tables["results"]
        front = results.iloc[: len(rows)].drop(columns=[c for c in rows.columns if c in results])
        front = front.drop(columns=["train_seconds"], errors="ignore").reset_index(drop=True)
        frame = pd.concat([front, rows], axis=1)
        frame["train_seconds"] = record.train_seconds
        frame = order_result_columns(frame, list(record.grid))
        frames.append(frame)
        report(
            f"{record.key:>24}: "
            + ", ".join(f"{r.label} {r.probe_accuracy:.3f}" for r in rows.itertuples())
        )
    if not frames:
        raise RunFolderError(f"{run_dir} has no cell whose saved files are readable")
    merged = pd.concat(frames, ignore_index=True)
    target = Path(out_dir) if out_dir is not None else run_dir / f"eval-{probe.kind}"
    atomic_write_csv(target / "results.csv", merged)
    atomic_write_json(
        target / "probe.json", {"run_dir": str(run_dir), "probe": dataclasses.asdict(probe)}
    )
    return merged
