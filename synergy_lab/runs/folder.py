"""The run folder: refuse other settings, plan the cells, skip finished ones, merge the tables.

``config.json`` records the folder's settings (what every cell shares, and the grid); a rerun
with other settings stops with one line naming the first differing setting, unless the caller
asks for a new folder, which is then ``<out>-2``, ``<out>-3``, ...
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

import synthetic
from synergy_lab.experiment import (
    RunConfig,
    RunFolderError,
    _check_run_folder,
    config_record,
    fit_budget,
)
from synergy_lab.results import atomic_write_json
from synergy_lab.runs.cells import (
    CELLS_DIR,
    CellFileError,
    CellSpec,
    dataset_fingerprint,
    merge_cells,
    read_cell,
    settings_of,
)
from synergy_lab.runs.executors import (
    SlurmConfig,
    run_pool,
    run_serial,
    submit_slurm,
    threads_per_job,
)
from synergy_lab.runs.files import clean_stale_tmp
from synergy_lab.runs.sweep import expand_grid
from synergy_lab.train import resolve_device
from synthetic import MultimodalDataset
from synthetic.dataset import split_sizes


@dataclass
class RunOutcome:
    """What a call to :func:`run_cells` left: the folder, merged results, cells still pending."""

    out_dir: Path
    results: pd.DataFrame
    pending: list[str] = field(default_factory=list)  # cell keys not finished (submitted jobs)
    job_ids: list[str] = field(default_factory=list)


def folder_settings(
    config: RunConfig, grid: Mapping[str, Sequence[Any]], fingerprint: str | None
) -> dict[str, Any]:
    """What every cell of the folder shares: task, settings, the grid and the user data hash."""
    return {
        "task": config.task,
        "settings": settings_of(config),
        "grid": {k: list(v) for k, v in grid.items()},
        "data": fingerprint,
    }


def _flatten(record: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(record, dict):
        flat: dict[str, Any] = {}
        for key, value in record.items():
            flat.update(_flatten(value, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): record}


def first_difference(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """``'train.epochs = 1 in the folder, 2 now'`` for the first differing setting, else None."""
    a, b = _flatten(old), _flatten(new)
    for key in sorted(set(a) | set(b)):
        if a.get(key, "<unset>") != b.get(key, "<unset>"):
            name = key.removeprefix("settings.").replace("task_config.", "task.")
            return (
                f"{name} = {a.get(key, '<unset>')!r} in the folder, {b.get(key, '<unset>')!r} now"
            )
    return None


def _recorded_settings(out_dir: Path) -> dict[str, Any] | None:
    path = out_dir / "config.json"
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise RunFolderError(f"{path} is not readable JSON; choose another --out folder") from None
    settings = record.get("settings") if isinstance(record, dict) else None
    return settings if isinstance(settings, dict) else None


def prepare_folder(
    out_dir: Path,
    config: RunConfig,
    settings: dict[str, Any],
    new_folder: bool,
    dataset: MultimodalDataset | None = None,
) -> Path:
    """Check (or start) the run folder for ``settings``; maybe pick a fresh sibling folder."""
    candidate, number = Path(out_dir), 1
    while True:
        recorded = _recorded_settings(candidate)
        if recorded is None:
            _check_run_folder(candidate, config.task)  # a results.csv of an older version?
            if (candidate / "results.csv").exists() and not (candidate / CELLS_DIR).is_dir():
                if not new_folder:
                    raise RunFolderError(
                        f"run folder {candidate} holds a results.csv without cell files "
                        "(an older version wrote it); choose another --out folder"
                    )
            else:
                break
        else:
            difference = first_difference(recorded, settings)
            if difference is None:
                break
            if not new_folder:
                raise RunFolderError(
                    f"run folder {candidate} was made with other settings: {difference}; "
                    "rerun with its settings, pass --new-folder, or choose another --out"
                )
        number += 1
        candidate = Path(out_dir).with_name(f"{Path(out_dir).name}-{number}")
    candidate.mkdir(parents=True, exist_ok=True)
    if _recorded_settings(candidate) is None:
        record = config_record(config, resolve_device(config.train.device), dataset)
        record["settings"] = settings
        record["grid"] = settings["grid"]
        atomic_write_json(candidate / "config.json", record)
    return candidate


def plan_cells(
    points: Sequence[tuple[dict[str, Any], RunConfig]],
    dataset: MultimodalDataset | None,
    fingerprint: str | None,
) -> list[CellSpec]:
    """Every grid point x seed x method, in the order a serial run takes them."""
    specs: list[CellSpec] = []
    for point, config in points:
        task = config.task if dataset is None else dataset.name
        for seed in config.seeds:
            for method in config.all_methods:
                specs.append(
                    CellSpec(
                        task=task,
                        method=method,
                        seed=seed,
                        config=config,
                        grid=tuple(point.items()),
                        order=len(specs),
                        dataset=dataset,
                        data_fingerprint=fingerprint,
                    )
                )
    return specs


def cell_state(spec: CellSpec, out_dir: Path) -> str:
    """'done', 'missing', or a line saying why an existing cell file must be retrained."""
    path = spec.paths(out_dir)["cell"]
    if not path.exists():
        return "missing"
    try:
        record = read_cell(path)
    except CellFileError as error:
        return f"{error}; retraining it"
    if record["hash"] != spec.hash:
        return f"{path} was made with other settings (hash {record['hash']}); retraining it"
    return "done"


def _describe(summary: dict[str, Any]) -> str:
    grid = "".join(f" {k}={v}" for k, v in summary["grid"].items())
    accuracy = ", ".join(f"{label} {value:.3f}" for label, value in summary["accuracy"].items())
    return (
        f"{summary['method']:>12} seed {summary['seed']}{grid}: {accuracy}  "
        f"({summary['train_seconds']:.1f} s train, {summary['seconds']:.1f} s total)"
    )


def _training_size(config: RunConfig, dataset: MultimodalDataset | None) -> int:
    """Samples in the training split, from the task's split sizes (no data drawn for it)."""
    if dataset is not None:
        return len(dataset.train)
    task = config.task_config
    return split_sizes(task.n_samples, task.val_fraction, task.test_fraction)[0]


def run_experiment(
    config: RunConfig,
    out_dir: Path,
    *,
    dataset: MultimodalDataset | None = None,
    on_cell: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Train and evaluate every (method, seed) cell not yet in ``out_dir``, one after another in
    this process; return all result rows (numeric columns as numbers).

    ``dataset`` replaces the task's generator (e.g. user arrays wrapped with
    ``synthetic.from_arrays``); it is then the same for every seed, only training varies, and
    the ``task`` column holds the dataset's name. ``on_cell`` receives one line as each step
    starts and after each finished cell. See :func:`run_cells` for process pools and SLURM.
    """
    outcome = run_cells(config, Path(out_dir), dataset=dataset, on_cell=on_cell)
    return outcome.results.infer_objects()


def run_cells(
    config: RunConfig,
    out_dir: Path,
    *,
    grid: Mapping[str, Sequence[Any]] | None = None,
    dataset: MultimodalDataset | None = None,
    on_cell: Callable[[str], None] | None = None,
    jobs: int = 1,
    threads: int | None = None,
    slurm: SlurmConfig | None = None,
    new_folder: bool = False,
) -> RunOutcome:
    """Run every cell of ``config`` (x ``grid``) not finished in ``out_dir``; merge the results.

    ``jobs`` > 1 runs cells in a local process pool; ``slurm`` submits them as one array job
    instead (returning at once unless ``slurm.wait``). Every grid point's config is built
    before anything trains, so a bad grid value stops the run with nothing written.
    """
    report = on_cell or (lambda line: None)
    grid = dict(grid or {})
    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise RunFolderError(f"run folder {out_dir} is a file, not a folder")
    if dataset is None:
        synthetic.get_task(config.task)  # fail fast on an unknown task
    config = fit_budget(config, _training_size(config, dataset), set(), report)
    points = expand_grid(config, grid)
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1; got {jobs}")
    fingerprint = dataset_fingerprint(dataset)
    settings = folder_settings(config, grid, fingerprint)
    out_dir = prepare_folder(Path(out_dir), config, settings, new_folder, dataset)
    for tmp in clean_stale_tmp(out_dir):
        report(f"removed {tmp}, left by a writer that was killed")
    specs = plan_cells(points, dataset, fingerprint)
    todo = []
    for spec in specs:
        state = cell_state(spec, out_dir)
        if state == "done":
            report(f"{spec.key:>24}: already in {out_dir / CELLS_DIR}, skipped")
        else:
            if state != "missing":
                report(state)
            todo.append(spec)
    job_ids: list[str] = []
    pending: list[str] = []

    def finished(summary: dict[str, Any]) -> None:
        report(_describe(summary))

    if todo:
        if slurm is not None:
            job_ids = submit_slurm(todo, out_dir, slurm, finished)
            if not slurm.wait:
                pending = [spec.key for spec in todo]
                report(
                    f"submitted {len(todo)} cells as array job {job_ids[0].split('_')[0]}; "
                    f"`synergy-lab status {out_dir}` collects the finished ones"
                )
        else:
            dataset_free = all(spec.dataset is None for spec in todo)
            if jobs > 1 and len(todo) > 1:
                threads = threads or threads_per_job(jobs)
                if not dataset_free:
                    report("note: user data is copied to every worker process")
                run_pool(todo, out_dir, min(jobs, len(todo)), threads, finished)
            else:
                run_serial(todo, out_dir, threads or threads_per_job(1), finished, report)
    merged, problems = merge_cells(out_dir)
    for line in problems:
        report(f"warning: {line}; left out of results.csv")
    results = merged.get("results", pd.DataFrame())
    return RunOutcome(out_dir, results.reset_index(drop=True), pending, job_ids)


def folder_status(out_dir: Path) -> dict[str, Any]:
    """Cells finished, corrupt and missing in a run folder (re-merging its tables)."""
    out_dir = Path(out_dir)
    if not (out_dir / "config.json").is_file():
        raise RunFolderError(f"{out_dir} is not a run folder (no config.json)")
    from synergy_lab.runs.executors import read_job_ids

    planned = []
    jobs_file = out_dir / "slurm" / "jobs.json"
    if jobs_file.is_file():
        try:
            planned = list(json.loads(jobs_file.read_text())["cells"])
        except (ValueError, KeyError, TypeError):
            planned = []
    done, corrupt = [], []
    for path in sorted((out_dir / CELLS_DIR).glob("*.json")):
        try:
            read_cell(path)
            done.append(path.stem)
        except CellFileError as error:
            corrupt.append(str(error))
    merged, _ = merge_cells(out_dir)
    return {
        "done": done,
        "corrupt": corrupt,
        "pending": [key for key in planned if key not in done],
        "job_ids": read_job_ids(out_dir),
        "rows": len(merged.get("results", [])),
    }
