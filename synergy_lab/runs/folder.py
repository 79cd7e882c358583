"""The run folder: refuse other settings, plan the cells, skip finished ones, merge the tables.

``config.json`` records the folder's settings (what every cell shares, and the grid); a rerun
with other settings stops with one line naming the first differing setting, unless the caller
asks for a new folder, which is then ``<out>-2``, ``<out>-3``, ...
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import torch

import synthetic
from synergy_lab.config import RunConfig, config_from_record
from synergy_lab.files import atomic_write_json, clean_stale_tmp, folder_lock
from synergy_lab.methods import METHODS
from synergy_lab.results import RESULT_COLUMNS, grid_columns, read_results
from synergy_lab.runs.cells import (
    CELLS_DIR,
    PARTS_DIR,
    RESUME_DIR,
    CellFileError,
    CellSpec,
    check_artefacts,
    dataset_fingerprint,
    machine_versions,
    merge_cells,
    read_cell,
    settings_of,
)
from synergy_lab.runs.executors import (
    SlurmConfig,
    available_cores,
    run_pool,
    run_serial,
    submit_slurm,
    threads_per_job,
)
from synergy_lab.runs.legacy import upgrade_folder_settings
from synergy_lab.runs.sweep import applies_to, expand_grid
from synergy_lab.train import TrainConfig, TrainingProgress, read_progress, resolve_device
from synthetic import MultimodalDataset
from synthetic.dataset import split_sizes

#: Fewer optimiser steps than this and a run is warned about. Measured on ``xor`` (2,000
#: samples, batch 256, one seed): S accuracy of the supervised bound 0.67 / 0.73 / 0.84 / 0.89 /
#: 0.98 and of InfMasking 0.69 / 0.69 / 0.74 / 0.84 / 0.96 after 5 / 10 / 20 / 30 / 50 steps,
#: (the untrained network: 0.63-0.66 on 1,000 samples).
MIN_USEFUL_STEPS = 50


class RunFolderError(ValueError):
    """A run folder that cannot be resumed with the settings given."""


@dataclass
class RunOutcome:
    """What a call to :func:`run_cells` left: the folder, merged results, cells still pending."""

    out_dir: Path
    results: pd.DataFrame
    pending: list[str] = field(default_factory=list)  # cell keys not finished (submitted jobs)
    job_ids: list[str] = field(default_factory=list)


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
        "versions": machine_versions(),
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
    config: RunConfig,
    n_train: int,
    said: set[str],
    report: Callable[[str], None],
    data_name: str | None = None,
) -> RunConfig:
    """Cap the batch size to the training split and warn when a run has fewer optimiser steps
    than the methods need (``MIN_USEFUL_STEPS``); each note said once (``said``).

    ``data_name`` names a user's dataset, for which the note cites xor as where the floor was
    measured. The capped config is what the run folder records in ``config.json``.
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
    own = {
        name: {**table, "batch_size": n_train}
        for name, table in config.method_train.items()
        if table.get("batch_size", 0) > n_train >= 2
    }
    if own:  # a method's own batch size is capped the same way
        config = dataclasses.replace(config, method_train={**config.method_train, **own})
    batches = n_train // max(1, min(config.train.batch_size, n_train))
    fixed = config.train.budget == "fixed"  # the converged budget's most is its cap
    epochs = config.train.epochs if fixed else config.train.max_epochs
    steps = epochs * batches
    span = f"{epochs} epochs" if fixed else f"at most {epochs} epochs (max_epochs)"
    trains = any(METHODS[m].trainable for m in config.all_methods)
    note = (
        f"warning: {steps} optimiser steps per training ({span} x "
        f"{batches} batches); on xor the methods, the supervised bound included, learn S only "
        f"with about {MIN_USEFUL_STEPS}: raise --epochs or --samples"
    )
    if data_name is not None:
        note = (
            f"warning: {steps} optimiser steps per training on {data_name} "
            f"({span} x {batches} batches); the methods needed about "
            f"{MIN_USEFUL_STEPS} to learn a synergistic label (measured on xor), and your data "
            "may need as many: raise --epochs or lower --batch-size"
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


def folder_settings(
    config: RunConfig,
    grid: Mapping[str, Sequence[Any]],
    fingerprint: str | None,
    scored_on: str = "test",
) -> dict[str, Any]:
    """What every cell of the folder shares: task, settings, the grid and the user data hash
    (and, for a folder of selection cells, that they are scored on validation rows)."""
    scored = {} if scored_on == "test" else {"scored_on": scored_on}
    return {
        "task": config.task,
        "settings": settings_of(config),
        "grid": {k: list(v) for k, v in grid.items()},
        "data": fingerprint,
        **scored,
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


def _known_methods_only(settings: dict[str, Any], recorded: dict[str, Any]) -> dict[str, Any]:
    """``settings`` without the methods a folder's record does not know (registered later:
    no cell of theirs can be in it, so their settings differ from nothing there)."""
    known = recorded.get("settings", {}).get("method", {})
    method = {k: v for k, v in settings["settings"]["method"].items() if k in known}
    return {**settings, "settings": {**settings["settings"], "method": method}}


def _read_record(out_dir: Path) -> tuple[dict[str, Any] | None, str | None]:
    """(the folder's settings or None, what is wrong with its ``config.json`` or None)."""
    path = out_dir / "config.json"
    if not path.is_file():
        return None, f"{path} is missing"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, f"{path} is damaged (not readable JSON)"
    settings = record.get("settings") if isinstance(record, dict) else None
    if not isinstance(settings, dict):
        return None, f"{path} is damaged (it records no settings)"
    return upgrade_folder_settings(settings), None


def _recorded_settings(out_dir: Path) -> dict[str, Any] | None:
    return _read_record(out_dir)[0]


def settings_difference(
    out_dir: Path,
    config: RunConfig,
    grid: Mapping[str, Sequence[Any]] | None = None,
    fingerprint: str | None = None,
) -> str | None:
    """The first setting in which the folder's recorded settings differ from those of
    ``config`` (with the sweep's ``grid`` and the user data's ``fingerprint``, None for a
    synthetic task), e.g. ``"method.infmasking.num_masks = 8 in the folder, 4 now"``; None when
    they match. Older folders are read by the legacy rules, as a resumed run reads them. For
    checking that a committed folder holds what an analysis expects; raises RunFolderError
    naming the problem when ``config.json`` is missing or damaged."""
    recorded, problem = _read_record(Path(out_dir))
    if recorded is None:
        raise RunFolderError(str(problem))
    settings = folder_settings(config, grid or {}, fingerprint)
    return first_difference(recorded, _known_methods_only(settings, recorded))


def _cell_files(out_dir: Path) -> list[Path]:
    return sorted((out_dir / CELLS_DIR).glob("*.json"))


def _cells_clash(
    out_dir: Path, specs: Sequence[CellSpec], config: RunConfig, task: str, fingerprint: str | None
) -> tuple[str | None, int]:
    """(why the folder's readable cells were not made by this run's settings or None, their
    number): how a folder whose ``config.json`` is lost is checked against the run."""
    planned = {spec.key: spec for spec in specs}
    count = 0
    for path in _cell_files(out_dir):
        try:
            record = read_cell(path)
        except CellFileError:
            continue  # unreadable: retrained anyway, nothing of it to keep
        count += 1
        spec = planned.get(record.key)
        if spec is None:
            if record.method not in METHODS:
                return f"its cell {record.key} is of a method unknown here", count
            spec = CellSpec(
                task=task, method=record.method, seed=record.seed, config=config,
                grid=tuple(record.grid.items()), data_fingerprint=fingerprint,
            )  # fmt: skip
        if record.hash not in (spec.hash, spec.legacy_hash):
            difference = first_difference(record.settings, spec.settings) or "its hash"
            return f"its cell {record.key} was made with other settings: {difference}", count
    return None, count


def _set_aside(path: Path) -> Path | None:
    """Move a damaged ``config.json`` to ``config.json.damaged[-N]`` (kept, never deleted)."""
    if not path.exists():
        return None
    target, number = path.with_name(f"{path.name}.damaged"), 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}.damaged-{number}")
    path.replace(target)
    return target


def prepare_folder(
    out_dir: Path,
    config: RunConfig,
    settings: dict[str, Any],
    new_folder: bool,
    dataset: MultimodalDataset | None = None,
    specs: Sequence[CellSpec] = (),
    report: Callable[[str], None] | None = None,
) -> Path:
    """Check (or start) the run folder for ``settings``; maybe pick a fresh sibling folder.

    A folder with cell files but a missing or damaged ``config.json`` is not an empty folder:
    its cells are checked against this run's (``specs``); if they all match, ``config.json`` is
    rebuilt (the damaged one kept aside), otherwise the run stops naming the first difference.
    """
    say = report or (lambda line: None)
    candidate, number = Path(out_dir), 1
    while True:
        recorded, problem = _read_record(candidate)
        if recorded is None and _cell_files(candidate):
            task = config.task if dataset is None else dataset.name
            clash, count = _cells_clash(candidate, specs, config, task, settings["data"])
            if clash is None:
                kept = _set_aside(candidate / "config.json")
                where = f"; the old one is kept as {kept}" if kept else ""
                say(
                    f"{problem}; rebuilt it from this run's settings, which match the folder's "
                    f"{count} readable cell files{where}"
                )
                break
            if not new_folder:
                raise RunFolderError(
                    f"{problem} and {clash}; rerun with the settings that made the cells to "
                    "rebuild it, or choose another --out"
                )
        elif recorded is None:
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
            difference = first_difference(recorded, _known_methods_only(settings, recorded))
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
        kept = _set_aside(candidate / "config.json")  # a damaged record of a folder with no cells
        if kept is not None:
            say(f"{problem}; kept it as {kept} and wrote a new one")
        record = config_record(config, resolve_device(config.train.device), dataset)
        record["settings"] = settings
        record["grid"] = settings["grid"]
        atomic_write_json(candidate / "config.json", record)
    return candidate


def plan_cells(
    points: Sequence[tuple[dict[str, Any], RunConfig]],
    dataset: MultimodalDataset | None,
    fingerprint: str | None,
    scored_on: str = "test",
) -> list[CellSpec]:
    """Every grid point x seed x method, in the order a serial run takes them.

    A cell's grid point holds only the keys that change its method (:func:`applies_to`), so a
    method no key touches is one cell per seed, planned at its first point.
    """
    specs: dict[str, CellSpec] = {}
    for point, config in points:
        task = config.task if dataset is None else dataset.name
        for seed in config.seeds:
            for method in config.all_methods:
                spec = CellSpec(
                    task=task,
                    method=method,
                    seed=seed,
                    config=config,
                    grid=tuple((k, v) for k, v in point.items() if applies_to(k, method)),
                    order=len(specs),
                    dataset=dataset,
                    data_fingerprint=fingerprint,
                    scored_on=scored_on,
                )
                specs.setdefault(spec.key, spec)
    return list(specs.values())


def cell_state(spec: CellSpec, out_dir: Path) -> str:
    """'done', 'missing', or a line saying why an existing cell file must be retrained."""
    path = spec.paths(out_dir)["cell"]
    if not path.exists():
        return "missing"
    try:
        record = read_cell(path)
    except CellFileError as error:
        return f"{error}; retraining it"
    if record.hash not in (spec.hash, spec.legacy_hash):
        return f"{path} was made with other settings (hash {record.hash}); retraining it"
    try:
        check_artefacts(record, path.parent)
    except CellFileError as error:
        return f"{error}; retraining it"
    return "done"


#: A run on a user's dataset needs this many test rows: fewer give no interval worth the name
#: (6 rows gave 1 test sample, accuracy 0.000, usable bits -13.7).
MIN_TEST_ROWS = 20
PLAN_FILE = "plan.json"


def check_test_rows(dataset: MultimodalDataset) -> None:
    """One ValueError line if a user's dataset has fewer than ``MIN_TEST_ROWS`` test rows."""
    n_test, n_rows = len(dataset.test), sum(len(s) for s in (dataset.train, dataset.val))
    n_rows += n_test
    if n_test < MIN_TEST_ROWS:
        raise ValueError(
            f"dataset {dataset.name!r} has {n_rows} rows, {n_test} of them in the test split; "
            f"a run needs at least {MIN_TEST_ROWS} test rows for its intervals (about "
            f"{int(MIN_TEST_ROWS / 0.15) + 1} rows at the default 15 % test fraction)"
        )


def capped_threads(threads: int, jobs: int, report: Callable[[str], None]) -> int:
    """``threads`` per cell, capped so that jobs x threads stays within the cores (said once)."""
    cores = available_cores()
    most = max(1, cores // max(1, jobs))
    if threads > most:
        per = f"{cores} cores" + (f" shared by {jobs} jobs" if jobs > 1 else "")
        report(f"note: --threads {threads} is more than the {per}; using {most} per cell")
        return most
    return threads


def record_plan(out_dir: Path, specs: Sequence[CellSpec]) -> None:
    """Add this run's cell keys to the folder's ``plan.json`` (atomically, under the lock), so
    that ``status`` counts planned cells without a file as pending, whatever the executor."""
    path = Path(out_dir) / PLAN_FILE
    with folder_lock(Path(out_dir)):
        cells = planned_cells(out_dir)
        cells += [spec.key for spec in specs if spec.key not in cells]
        atomic_write_json(path, {"cells": cells})


def planned_cells(out_dir: Path) -> list[str]:
    """Cell keys of every run's plan in the folder (``plan.json``, and SLURM's ``jobs.json``)."""
    cells: list[str] = []
    for path in (Path(out_dir) / PLAN_FILE, Path(out_dir) / "slurm" / "jobs.json"):
        try:
            keys = json.loads(path.read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        cells += [str(key) for key in keys if str(key) not in cells]
    return cells


def remove_orphans(spec: CellSpec, out_dir: Path) -> list[Path]:
    """Remove the weights and representations of a cell that has no cell file (a run stopped
    between writing them and the cell file); return what was removed."""
    paths = spec.paths(out_dir)
    weights = paths["weights"]
    orphans = [weights, *weights.parent.glob(f"{spec.key}--*.pt"), paths["representations"]]
    removed = []
    for path in orphans:
        if path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


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
    scored_on: str = "test",
) -> RunOutcome:
    """Run every cell of ``config`` (x ``grid``) not finished in ``out_dir``; merge the results.

    ``jobs`` > 1 runs cells in a local process pool; ``slurm`` submits them as one array job
    instead (returning at once unless ``slurm.wait``). Every grid point's config is built
    before anything trains, so a bad grid value stops the run with nothing written.
    ``scored_on = "validation"`` makes selection cells (:mod:`synergy_lab.runs.select`): their
    probes are scored on validation rows and the test split is never read.
    """
    if scored_on not in ("test", "validation"):
        raise ValueError(f"scored_on must be 'test' or 'validation'; got {scored_on!r}")
    report = on_cell or (lambda line: None)
    grid = dict(grid or {})
    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise RunFolderError(f"run folder {out_dir} is a file, not a folder")
    if dataset is None:
        synthetic.get_task(config.task)  # fail fast on an unknown task
    else:
        check_test_rows(dataset)
    data_name = None if dataset is None else dataset.name
    config = fit_budget(config, _training_size(config, dataset), set(), report, data_name)
    points = expand_grid(config, grid, report)
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1; got {jobs}")
    if threads is not None and slurm is None:
        threads = capped_threads(threads, jobs, report)
    fingerprint = dataset_fingerprint(dataset)
    settings = folder_settings(config, grid, fingerprint, scored_on)
    specs = plan_cells(points, dataset, fingerprint, scored_on)
    out_dir = prepare_folder(Path(out_dir), config, settings, new_folder, dataset, specs, report)
    record_plan(out_dir, specs)
    for tmp in clean_stale_tmp(out_dir):
        report(f"removed {tmp}, left by a writer that was killed")
    todo = []
    for spec in specs:
        state = cell_state(spec, out_dir)
        if state == "done":
            report(f"{spec.key:>24}: already in {out_dir / CELLS_DIR}, skipped")
        else:
            if state != "missing":
                report(state)
            else:
                for orphan in remove_orphans(spec, out_dir):
                    report(f"removed {orphan}, left by a cell that never finished (retraining it)")
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


@dataclass(frozen=True)
class ModelInTraining:
    """A model of an unfinished cell with a resume state: the cell's key, its training group
    ("" for a single-model cell) and how far it has trained; ``kept`` if it has finished and
    its results wait in ``cells/parts/`` for the cell's other models."""

    key: str
    group: str
    progress: TrainingProgress
    kept: bool = False

    def describe(self) -> str:
        """One line: steps of the end, time so far and to go at its own rate, newest check."""
        p = self.progress
        name = f"{self.key} {self.group}".strip()
        if self.kept:
            return (
                f"{name}: trained ({p.step:,} steps, {_duration(p.seconds)}) and evaluated, "
                f"results kept in {CELLS_DIR}/{PARTS_DIR}/; its cell is written after its other "
                "groups"
            )
        if p.end_is_sure and p.step >= p.end:
            return f"{name}: trained ({p.step:,} steps); its cell is written after its other groups"
        most = "" if p.end_is_sure else "at most "
        line = f"{name}: step {p.step:,} of {most}{p.end:,} ({100 * p.step / max(1, p.end):.0f} %)"
        rate = p.seconds_per_step
        if rate is not None:
            left = _duration(rate * (p.end - p.step))
            line += (
                f", {_duration(p.seconds)} so far at {rate:.2f} s a step (mean), "
                f"{'up to ' if most else ''}about {left} to go"
            )
        if p.checks:
            step, loss = p.checks[-1]
            best_step, best = min(p.checks, key=lambda check: check[1])
            low = "lowest so far" if best_step == step else f"lowest {best:.3f} at {best_step:,}"
            line += f"; held-out loss {loss:.3f} at step {step:,} ({low})"
        return line


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


@dataclass(frozen=True)
class FolderStatus:
    """A run folder's cells: finished (keys), corrupt (one line each), still pending (keys),
    and the models of pending cells that have trained part of the way (their resume states)."""

    done: list[str]
    corrupt: list[str]
    pending: list[str]
    job_ids: list[str]
    rows: int  # rows of the merged results.csv
    training: list[ModelInTraining] = field(default_factory=list)
    #: training seconds of each finished cell, by method (the cell files' ``train_seconds``)
    cell_seconds: dict[str, list[float]] = field(default_factory=dict)

    def time_to_go(self) -> tuple[float, int, list[str]]:
        """(seconds of one process, the pending cells they cover, methods with no finished
        cell) at the mean cell time of each method measured here, less what each pending
        cell's models have trained so far: a rough guide, as timings move with the load."""
        trained: dict[str, float] = {}
        for model in self.training:
            trained[model.key] = trained.get(model.key, 0.0) + model.progress.seconds
        seconds, covered, unmeasured = 0.0, 0, []
        for key in self.pending:
            method = method_of_key(key)
            times = self.cell_seconds.get(method or "")
            if not times:
                if (name := method or key) not in unmeasured:
                    unmeasured.append(name)
                continue
            seconds += max(0.0, sum(times) / len(times) - trained.get(key, 0.0))
            covered += 1
        return seconds, covered, unmeasured

    def describe_time_to_go(self) -> str | None:
        """One line for :meth:`time_to_go`, or None when nothing is pending."""
        if not self.pending:
            return None
        seconds, covered, unmeasured = self.time_to_go()
        line = (
            f"to go, at the cell times measured here: about {_duration(seconds)} of one process "
            f"for {covered} pending cells"
        )
        if unmeasured:
            line += f"; {len(self.pending) - covered} more of methods with no finished cell yet "
            line += f"({', '.join(unmeasured)})"
        return line


#: ``cells/resume/<key>-<hash>.pt`` or ``...--<group>.pt`` (``CellSpec.paths``, ``group_path``)
_RESUME_NAME = re.compile(r"(?P<key>.+)-[0-9a-f]{16}(?:--(?P<group>[^.]+))?\.pt")
#: ``cells/parts/<key>-<hash>--<group>.json`` (``group_part_path``)
_PART_NAME = re.compile(r"(?P<key>.+)-[0-9a-f]{16}--(?P<group>[^.]+)\.json")


def method_of_key(key: str) -> str | None:
    """The method of a cell key (``<method>-seed<n>...``, :attr:`CellSpec.key`), if registered."""
    return next((m for m in METHODS if key.startswith(f"{m}-seed")), None)


def _folder_config(out_dir: Path) -> RunConfig | None:
    try:
        record = json.loads((out_dir / "config.json").read_text(encoding="utf-8"))
        return config_from_record(record["config"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def models_in_training(out_dir: Path, finished: Collection[str] = ()) -> list[ModelInTraining]:
    """The resume states under ``cells/resume/`` and the kept models under ``cells/parts/`` of
    cells not in ``finished``, read (a file that cannot be read, e.g. one from an older version,
    is left out; a kept model's resume state is not listed again)."""
    config = _folder_config(out_dir)
    found = []
    for path in sorted((out_dir / CELLS_DIR / PARTS_DIR).glob("*.json")):
        match = _PART_NAME.fullmatch(path.name)
        if match is None or match["key"] in finished:
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            steps, seconds = int(record["steps"]), float(record["train_seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        done = TrainingProgress(steps, steps, True, seconds, ())
        found.append(ModelInTraining(match["key"], match["group"], done, kept=True))
    kept = {(model.key, model.group) for model in found}
    for path in sorted((out_dir / CELLS_DIR / RESUME_DIR).glob("*.pt")):
        match = _RESUME_NAME.fullmatch(path.name)
        if match is None or match["key"] in finished:
            continue
        method = method_of_key(match["key"])
        train_config = config.train_of(method) if config and method else TrainConfig()
        try:
            progress = read_progress(path, train_config.cooldown_fraction)
        except Exception:  # noqa: BLE001 - a damaged or foreign state only goes unreported
            continue
        if (match["key"], match["group"] or "") not in kept:
            found.append(ModelInTraining(match["key"], match["group"] or "", progress))
    return sorted(found, key=lambda model: (model.key, model.group))


def folder_status(out_dir: Path) -> FolderStatus:
    """Cells finished, corrupt and missing in a run folder (re-merging its tables)."""
    out_dir = Path(out_dir)
    if not (out_dir / "config.json").is_file():
        raise RunFolderError(f"{out_dir} is not a run folder (no config.json)")
    from synergy_lab.runs.executors import read_job_ids

    done, corrupt, filed = [], [], set()
    for path in _cell_files(out_dir):
        filed.add(path.stem)
        try:
            check_artefacts(read_cell(path), path.parent)
            done.append(path.stem)
        except CellFileError as error:
            corrupt.append(str(error))
    merged, _ = merge_cells(out_dir)
    return FolderStatus(
        done=done,
        corrupt=corrupt,
        pending=[key for key in planned_cells(out_dir) if key not in filed],
        job_ids=read_job_ids(out_dir),
        rows=len(merged.get("results", [])),
        training=models_in_training(out_dir, finished=filed),
        cell_seconds=_cell_seconds(merged.get("results")),
    )


def _cell_seconds(results: pd.DataFrame | None) -> dict[str, list[float]]:
    if results is None or results.empty or "train_seconds" not in results:
        return {}
    cells = results.drop_duplicates(["method", "seed", *grid_columns(results)])
    return {str(m): list(map(float, g.train_seconds)) for m, g in cells.groupby("method")}
