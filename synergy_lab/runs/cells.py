"""One cell: (task, method, seed, settings) -> one cell file, its weights and representations.

A cell file ``cells/<key>.json`` holds the hash of the settings that made it and a dict of named
tables (``results``, ``curves``, ...); each table name becomes ``<name>.csv`` in the run folder
when the cells are merged. The file is written last and atomically, so its existence means the
cell finished; the weights (``<key>.pt``) and the frozen probe-fit / test representations
(``<key>.npz``) are written before it. A cell of several models keeps each finished model's
results in ``cells/parts/`` until the cell file is written (:func:`write_part`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

import synthetic
from synergy_lab.config import RunConfig
from synergy_lab.evaluate import dynamics_hook, evaluate_representations
from synergy_lab.files import atomic_write_bytes, atomic_write_csv, atomic_write_with, folder_lock
from synergy_lab.methods import METHODS
from synergy_lab.results import CURVE_COLUMNS, DYNAMICS_COLUMNS, RESULT_COLUMNS
from synergy_lab.runs import legacy
from synergy_lab.train import TrainedModel, train
from synthetic import MultimodalDataset

CELL_FORMAT = 1
CELLS_DIR = "cells"
#: Under cells/: the training state of a model still training (``train(..., resume=)``), one
#: file per cell, settings hash and group, removed once the cell file is written. A run stopped
#: mid-cell resumes that model from its last finished epoch.
RESUME_DIR = "resume"
#: Under cells/: the results of each finished model of a cell that trains several (one per
#: training group), one JSON file per cell, settings hash and group, removed once the cell file
#: is written. Unlike resume states (weights, kept out of git) they are small enough to commit,
#: so a cell stopped between its models, even in another checkout, trains only the rest.
PARTS_DIR = "parts"
PART_FORMAT = 1


class CellFileError(ValueError):
    """A cell file that cannot be read as this toolkit wrote it."""


def settings_of(config: RunConfig, method: str | None = None) -> dict[str, Any]:
    """The settings of ``config`` that change a cell's numbers (not its lists of methods/seeds):
    the shared sections plus the settings of ``method`` alone (of every method if None, as the
    folder's ``config.json`` records them). Older versions' rules: :mod:`synergy_lab.runs.legacy`.
    """
    settings = config.method if method is None else {method: config.method[method]}
    own = {name: dataclasses.asdict(value) for name, value in settings.items()}
    record = {
        **legacy.shared_record(config, method),
        "method": own if method is None else own[method],
    }
    return legacy.apply_legacy_rules(record, config.task, method)


def settings_hash(settings: dict[str, Any]) -> str:
    """sha256 (hex, 16 chars) of the settings as canonical JSON."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def dataset_fingerprint(dataset: MultimodalDataset | None) -> str | None:
    """sha256 of a user dataset's arrays (None for a task's generator, which its settings fix)."""
    if dataset is None:
        return None
    digest = hashlib.sha256(dataset.name.encode())
    for split in (dataset.train, dataset.val, dataset.test):
        for array in (split.x1, split.x2, *(split.labels[k] for k in sorted(split.labels))):
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def _slug(value: Any) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return "".join(c if c.isalnum() or c in "._=+-" else "_" for c in text)


@dataclass(frozen=True)
class CellSpec:
    """Everything one cell needs; picklable, so any executor can ship it to another process."""

    task: str  # the ``task`` column: the task name, or the user dataset's name
    method: str
    seed: int
    config: RunConfig  # the settings of this cell's grid point
    grid: tuple[tuple[str, Any], ...] = ()  # (key, value) of the grid point, e.g. method.mask_ratio
    order: int = 0  # position in the run's plan; merged tables follow it
    dataset: MultimodalDataset | None = None  # user data; None: generate ``config.task``
    data_fingerprint: str | None = None
    #: "test": probes are scored on the test split; "validation": on validation rows instead,
    #: the test split dropped (a selection cell, :meth:`MultimodalDataset.for_selection`)
    scored_on: str = "test"

    @property
    def key(self) -> str:
        """File stem, e.g. ``infmasking-seed0`` or ``clip-seed1-method.mask_ratio=0.3``."""
        parts = [_slug(self.method), f"seed{self.seed}"]
        parts += [f"{_slug(k)}={_slug(v)}" for k, v in self.grid]
        return "-".join(parts)

    @property
    def settings(self) -> dict[str, Any]:
        """What the cell's hash covers: task, method, seed, its grid point, its settings."""
        return self._settings(settings_of(self.config, self.method))

    def _settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        scored = {} if self.scored_on == "test" else {"scored_on": self.scored_on}
        return {
            "task": self.task,
            "method": self.method,
            "seed": self.seed,
            "grid": {k: v for k, v in self.grid},
            "settings": settings,
            "data": self.data_fingerprint,
            **scored,
        }

    @property
    def hash(self) -> str:
        return settings_hash(self.settings)

    @property
    def legacy_hash(self) -> str | None:
        """The hash a version with one flat method record gave this cell (legacy rule 3)."""
        old = legacy.legacy_settings(self.config, self.method)
        if old is None or self.scored_on != "test":
            return None
        return settings_hash(self._settings(old))

    def method_settings(self, data: MultimodalDataset) -> Any:
        """The cell's method settings; the supervised reference's label falls back to the
        dataset's first label when the configured one is not among its labels."""
        settings = self.config.method[self.method]
        label = getattr(settings, "label", None)
        if self.method == "supervised" and label not in (*data.num_classes, "all"):
            return dataclasses.replace(settings, label=data.label_names[0])
        return settings

    def paths(self, out_dir: Path) -> dict[str, Path]:
        folder = Path(out_dir) / CELLS_DIR  # not with_suffix: keys hold dots (lr=0.001)
        return {
            "cell": folder / f"{self.key}.json",
            "weights": folder / f"{self.key}.pt",
            "representations": folder / f"{self.key}.npz",
            "resume": folder / RESUME_DIR / f"{self.key}-{self.hash}.pt",
            "part": folder / PARTS_DIR / f"{self.key}-{self.hash}.json",
        }

    def make_dataset(self) -> MultimodalDataset:
        """The cell's data: the task drawn at its seed (or the user's), with validation rows in
        the test split's place for a selection cell (``scored_on = "validation"``)."""
        data = self.dataset
        if data is None:
            data = synthetic.make_dataset(self.config.task, self.config.task_config, seed=self.seed)
        return data.for_selection() if self.scored_on == "validation" else data


def machine_versions() -> dict[str, str]:
    """Library versions and the vector unit torch's CPU kernels use (e.g. "AVX512"): another
    CPU or version moves the last digits of a training, so runs and cells record theirs."""
    import scipy

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }


def _table_record(frame: pd.DataFrame) -> dict[str, Any]:
    return {"columns": list(frame.columns), "data": frame.to_numpy(dtype=object).tolist()}


def _tables_of(record: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The named tables of a cell or part record, as :func:`_table_record` wrote them."""
    return {
        name: pd.DataFrame(table["data"], columns=table["columns"]).infer_objects()
        for name, table in record.items()
    }


def _write_record(path: Path, record: dict[str, Any]) -> None:
    """A cell or part record as one line of JSON, written atomically."""
    atomic_write_bytes(path, (json.dumps(record, default=_to_python) + "\n").encode())


def _to_python(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _curve_rows(trained: TrainedModel, spec: CellSpec, group: str = "") -> pd.DataFrame:
    """The trainer's logged loss parts in long form (method, seed, grid..., step, part, value).

    A model of a training group logs its parts as ``<group>/<part>`` (e.g. ``S/loss``). The
    converged budget's held-out checks are the part ``val_loss`` (nats) at their steps.
    """
    grid = {k: v for k, v in spec.grid}
    entries = [*trained.loss_curve, *({**c, "epoch": -1} for c in trained.val_curve)]
    rows = [
        {
            "method": spec.method,
            "seed": spec.seed,
            **grid,
            "step": int(entry["step"]),
            "part": f"{group}/{part}" if group else part,
            "value": value,
        }  # fmt: skip
        for entry in entries
        for part, value in entry.items()
        if part not in ("step", "epoch")  # bookkeeping, not a logged quantity
    ]
    columns = ["method", "seed", *grid, *CURVE_COLUMNS[2:]]
    return pd.DataFrame(rows, columns=columns)


def run_cell(
    spec: CellSpec,
    out_dir: Path,
    *,
    merge: bool = True,
    announce: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train, save weights and representations, evaluate, write the cell file; then re-merge.

    ``announce`` receives a line as each step starts (task generation, training, evaluation).
    Returns a short summary (key, method, seed, grid, per-label probe accuracy, seconds).
    """
    out_dir = Path(out_dir)
    say = announce or (lambda line: None)
    start = time.perf_counter()
    config = spec.config
    if spec.dataset is None:
        samples = config.task_config.n_samples
        say(f"generating task {config.task} seed {spec.seed} ({samples:,} samples)")
    data = spec.make_dataset()
    trainable = METHODS[spec.method].trainable
    say(
        f"{spec.method:>12} seed {spec.seed}: "
        + ("training" if trainable else "untrained, evaluating")
    )
    paths = spec.paths(out_dir)
    row_parts: list[pd.DataFrame] = []
    curve_parts: list[pd.DataFrame] = []
    epoch_rows: list[dict[str, Any]] = []
    representations: dict[str, np.ndarray] = {}
    group_weights: dict[str, str] = {}
    train_seconds = 0.0
    parts = training_parts(spec.method, data, config.groups)
    # a cell of several models keeps each finished one's results (not with a dynamics hook,
    # whose records span the models: those cells restart, as they do without resume states)
    keep_parts = len(parts) > 1 and not config.probe_every
    without_artefacts: list[str] = []  # groups read back from parts with no weights here
    for group, part in parts:
        kept = read_part(group_part_path(paths["part"], group), spec, group) if keep_parts else None
        state = None if config.probe_every else group_path(paths["resume"], group)
        if kept is not None:
            say(
                f"{spec.method:>12} seed {spec.seed}: group {group} finished in an earlier run; "
                f"its results read from {PARTS_DIR}/"
            )
            row_parts.append(kept.rows)
            curve_parts.append(kept.curves)
            train_seconds += kept.train_seconds
            if state is None or not state.is_file():  # another checkout: no weights here
                without_artefacts.append(group)
                continue
        # a supervised reference trains on an unbiased split of the labels it learns (the
        # probe split, or its group's own unbiased training pairs), the methods on train
        split = (
            (part.reference_split or part.probe_split)
            if spec.method == "supervised"
            else config.train.split
        )
        if group and kept is None:
            say(
                f"{spec.method:>12} seed {spec.seed}: training group {group} "
                f"({', '.join(part.label_names)})"
            )
        hook = (
            dynamics_hook(
                part, config.probe, every=config.probe_every, seed=spec.seed, rows=epoch_rows
            )
            if config.probe_every
            else None
        )
        # a stopped run resumes this model from its last epoch (not with a dynamics hook,
        # whose records would be lost: those cells restart); a kept model's state is whole
        trained = train(
            spec.method,
            part,
            train_config=dataclasses.replace(
                config.train_of(spec.method), seed=spec.seed, split=split
            ),
            model_config=config.model,
            method_config=spec.method_settings(part),
            augment_config=config.augment,
            on_epoch=hook,
            resume=state,
        )
        weights = group_path(paths["weights"], group)
        atomic_write_with(weights, trained.save)
        group_weights[group] = weights.name
        fit_split = part.split(part.probe_split)
        z_fit = trained.represent(fit_split.x1, fit_split.x2)
        z_test = trained.represent(part.test.x1, part.test.x2)
        representations[representation_key("z_fit", group)] = z_fit
        representations[representation_key("z_test", group)] = z_test
        if kept is not None:  # its weights and representations again; its results are kept
            continue
        train_seconds += trained.train_seconds
        if trainable:
            say(f"{spec.method:>12} seed {spec.seed}: evaluating (probes and PID)")
        rows = evaluate_representations(
            z_fit,
            z_test,
            part,
            config.probe,
            seed=spec.seed,
            pid_clusters=config.pid_clusters,
            device=trained.device,
            null_shuffles=config.null_shuffles,
            bootstrap=config.bootstrap,
        )
        rows["steps"] = trained.steps_trained  # how this model's training ended
        rows["stop_reason"] = trained.stop_reason
        # the label a supervised reference learned (the report gates rankings on it)
        rows["trained_on"] = getattr(spec.method_settings(part), "label", None)
        curves = _curve_rows(trained, spec, group)
        if keep_parts:
            write_part(
                group_part_path(paths["part"], group),
                spec,
                KeptModel(group, rows, curves, trained.train_seconds, trained.steps_trained),
            )
        row_parts.append(rows)
        curve_parts.append(curves)
    if without_artefacts:
        # a cell is whole with every model's weights and representations or with none
        # (:func:`check_artefacts`): those of the models read back are in another checkout
        for name in group_weights.values():
            (paths["cell"].parent / name).unlink(missing_ok=True)
        group_weights.clear()
        paths["representations"].unlink(missing_ok=True)
    else:
        atomic_write_with(
            paths["representations"],
            lambda handle: _save_arrays(handle, representations),
        )
    rows = pd.concat(row_parts, ignore_index=True)
    results = cell_results(spec, rows, train_seconds)
    tables = {"results": results, "curves": pd.concat(curve_parts, ignore_index=True)}
    if epoch_rows:
        front = {"method": spec.method, "seed": spec.seed, **dict(spec.grid)}
        dynamics = pd.DataFrame([{**front, **row} for row in epoch_rows])
        tables["dynamics"] = dynamics[[*front, *DYNAMICS_COLUMNS[2:]]]
    record = {
        "format": CELL_FORMAT,
        "key": spec.key,
        "hash": spec.hash,
        "settings": spec.settings,
        "config": json.loads(json.dumps(dataclasses.asdict(config), default=str)),
        "order": spec.order,
        "train_seconds": train_seconds,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
        # the machine that wrote the cell (a resumed model may have started on another)
        "machine": machine_versions(),
        "artefacts": {
            "weights": next(iter(group_weights.values()), None),
            "representations": None if without_artefacts else paths["representations"].name,
            "groups": {
                g: {"labels": list(lab)}
                for g, lab in group_labels(spec.method, data, config.groups)
            },
            "group_weights": group_weights,
            # models whose results were read from cells/parts/, trained in another checkout
            **({"kept_without_weights": without_artefacts} if without_artefacts else {}),
        },
        "tables": {name: _table_record(table) for name, table in tables.items()},
    }
    _write_record(paths["cell"], record)
    for group, _ in parts:
        group_path(paths["resume"], group).unlink(missing_ok=True)
        group_part_path(paths["part"], group).unlink(missing_ok=True)
    if merge:
        merge_cells(out_dir)
    return {
        "key": spec.key,
        "method": spec.method,
        "seed": spec.seed,
        "grid": dict(spec.grid),
        "accuracy": {r["label"]: r["probe_accuracy"] for r in rows.to_dict("records")},
        "usable_bits": {r["label"]: r["usable_bits"] for r in rows.to_dict("records")},
        "train_seconds": train_seconds,
        "seconds": time.perf_counter() - start,
    }


def cell_results(spec: CellSpec, rows: pd.DataFrame, train_seconds: float) -> pd.DataFrame:
    """Rows: task, method, seed, one column per grid key, then results.csv's columns in order."""
    front = {"task": spec.task, "method": spec.method, "seed": spec.seed, **dict(spec.grid)}
    out = pd.DataFrame({k: [v] * len(rows) for k, v in front.items()}, index=rows.index)
    out = pd.concat([out, rows], axis=1)
    out["train_seconds"] = train_seconds
    return order_result_columns(out, list(dict(spec.grid)))


def order_result_columns(frame: pd.DataFrame, grid: list[str]) -> pd.DataFrame:
    """task, method, seed, the grid keys, then results.csv's columns in order, then the rest."""
    known = [c for c in RESULT_COLUMNS[3:] if c in frame.columns]
    first = [*RESULT_COLUMNS[:3], *grid, *known]
    return frame[[*first, *(c for c in frame.columns if c not in first)]]


@dataclass(frozen=True)
class CellRecord:
    """A finished cell as its file holds it, tables read as DataFrames."""

    key: str
    hash: str
    order: int
    settings: dict[str, Any]  # what the hash covers (task, method, seed, grid, settings, data)
    config: dict[str, Any]  # the RunConfig of its grid point, ``dataclasses.asdict`` form
    train_seconds: float
    artefacts: dict[str, Any]  # file names of its weights and representations, its groups
    tables: dict[str, pd.DataFrame]  # results, curves, dynamics, ...

    @property
    def method(self) -> str:
        return str(self.settings["method"])

    @property
    def seed(self) -> int:
        return int(self.settings["seed"])

    @property
    def grid(self) -> dict[str, Any]:
        return dict(self.settings.get("grid", {}))


def read_cell(path: Path) -> CellRecord:
    """A cell file's record; :class:`CellFileError` if it is not one this toolkit wrote whole."""
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CellFileError(f"{path} is not a readable cell file ({error})") from None
    if not isinstance(record, dict) or record.get("format") != CELL_FORMAT:
        raise CellFileError(f"{path} is not a cell file of format {CELL_FORMAT}")
    try:
        tables = _tables_of(record["tables"])
        cell = CellRecord(
            key=str(record["key"]),
            hash=str(record["hash"]),
            order=int(record["order"]),
            settings=dict(record["settings"]),
            config=dict(record["config"]),
            train_seconds=float(record["train_seconds"]),
            artefacts=dict(record["artefacts"]),
            tables=tables,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise CellFileError(f"{path} is not a complete cell file ({error!r})") from None
    if "results" not in tables or tables["results"].empty:
        raise CellFileError(f"{path} holds no results rows")
    return cell


def merge_cells(out_dir: Path) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Merge every readable cell file into ``<table>.csv`` under the folder lock.

    Returns the merged tables and one line per cell file that could not be read (left out of
    the merge here; the next run reports and retrains it).
    """
    out_dir = Path(out_dir)
    grid = _folder_grid(out_dir)
    with folder_lock(out_dir):
        records, problems = [], []
        for path in sorted((out_dir / CELLS_DIR).glob("*.json")):
            try:
                records.append(read_cell(path))
            except CellFileError as error:
                problems.append(str(error))
        records.sort(key=lambda r: (r.order, r.key))
        names = dict.fromkeys(name for r in records for name in r.tables)
        merged = {}
        for name in names:
            parts = [r.tables[name] for r in records if name in r.tables]
            if name == "results" and grid:
                parts = [spread_over_grid(p, grid) for p in parts]
            parts = [p for p in parts if not p.empty]
            if not parts:
                continue
            frame = pd.concat(parts, ignore_index=True)
            atomic_write_csv(out_dir / f"{name}.csv", frame)
            merged[name] = frame
    return merged, problems


def _folder_grid(out_dir: Path) -> dict[str, list[Any]]:
    """The grid ``config.json`` records (key -> values); {} for a plain run or no record."""
    try:
        record = json.loads((out_dir / "config.json").read_text(encoding="utf-8"))
        grid = record.get("grid") or {}
    except (OSError, ValueError, AttributeError):
        return {}
    return {str(k): list(v) for k, v in grid.items()} if isinstance(grid, dict) else {}


def spread_over_grid(results: pd.DataFrame, grid: dict[str, list[Any]]) -> pd.DataFrame:
    """A cell's result rows repeated at every value of the grid keys its method ignores.

    A cell of a method that a grid key does not touch (CoMM under ``method.infmasking.*``) is
    trained once; its rows stand at each point of the grid so that every point has every
    method. Columns: task, method, seed, the grid keys in the folder's order, the rest.
    """
    missing = [key for key in grid if key not in results.columns]
    out = results
    for key in missing:
        out = pd.concat(
            [out.assign(**{key: [value] * len(out)}) for value in grid[key]], ignore_index=True
        )
    return order_result_columns(out, list(grid)) if missing else out


def _save_arrays(handle: Any, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` of named arrays (its stubs reject ``**dict``)."""
    save: Any = np.savez_compressed
    save(handle, **arrays)


def training_parts(
    method: str, data: MultimodalDataset, groups: tuple[str, ...] = ()
) -> list[tuple[str, MultimodalDataset]]:
    """(group name, dataset restricted to the group) for each model a cell trains.

    A dataset with training groups (the Trifeatures protocol: R/U on unbiased pairs, S on fully
    biased ones) gets one model per group for every trainable method, or only for the groups
    named in ``groups`` (their labels alone are evaluated). Where the groups are evaluated on
    splits of their own, the untrained network and the supervised reference are fitted per
    group too (each group's reference on that group's labels); otherwise they stay one model
    on the shared splits: ("", data).
    """
    known = [group.name for group in data.training_groups]
    unknown = [name for name in groups if name not in known]
    if unknown:
        raise ValueError(
            f"training group {unknown[0]!r} is not one of dataset {data.name!r}'s: "
            + (", ".join(known) if known else "it has none")
        )
    own_evaluation = any(group.own_evaluation for group in data.training_groups)
    one_model = not METHODS[method].trainable or method == "supervised"
    if not data.training_groups or (one_model and not own_evaluation):
        return [("", data)]
    chosen = [g for g in data.training_groups if not groups or g.name in groups]
    reference = method == "supervised"  # a group with reference pairs of its own trains on them
    return [(group.name, data.for_group(group, reference)) for group in chosen]


def group_labels(
    method: str, data: MultimodalDataset, groups: tuple[str, ...] = ()
) -> list[tuple[str, tuple[str, ...]]]:
    """(group name, its labels) of the models a cell of ``method`` trains on ``data``."""
    return [(name, part.label_names) for name, part in training_parts(method, data, groups)]


def group_part_path(path: Path, group: str) -> Path:
    """``cells/parts/<key>-<hash>--<group>.json``: the kept results of one model of a cell."""
    return path.with_name(f"{path.name[: -len(path.suffix)]}--{group}.json")


@dataclass(frozen=True)
class KeptModel:
    """The results of one finished model of a cell of several, as its part file keeps them:
    its result rows (one per label of its group), its loss-curve rows, its training seconds."""

    group: str
    rows: pd.DataFrame
    curves: pd.DataFrame
    train_seconds: float
    steps: int


def write_part(path: Path, spec: CellSpec, kept: KeptModel) -> None:
    """Write one finished model's results (atomically) for the cell's other models to follow."""
    record = {
        "format": PART_FORMAT,
        "key": spec.key,
        "hash": spec.hash,
        "group": kept.group,
        "train_seconds": kept.train_seconds,
        "steps": kept.steps,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "tables": {"rows": _table_record(kept.rows), "curves": _table_record(kept.curves)},
    }
    _write_record(path, record)


def read_part(path: Path, spec: CellSpec, group: str) -> KeptModel | None:
    """The kept results of ``group``'s model of ``spec``'s cell; None if there is no such file
    or it is not whole, or was made with other settings (the model is trained again)."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        if (record["format"], record["hash"], record["group"]) != (PART_FORMAT, spec.hash, group):
            return None
        tables = _tables_of(record["tables"])
        return KeptModel(
            group, tables["rows"], tables["curves"], float(record["train_seconds"]),
            int(record["steps"]),
        )  # fmt: skip
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None


def group_path(path: Path, group: str) -> Path:
    """``cells/<key>.pt`` for a single model, ``cells/<key>--<group>.pt`` for a group's."""
    return path if not group else path.with_name(f"{path.name[: -len(path.suffix)]}--{group}.pt")


def representation_key(name: str, group: str) -> str:
    """Array name in a cell's .npz: ``z_fit`` / ``z_test``, or ``z_fit--S`` for a group's."""
    return f"{name}--{group}" if group else name


def load_representations(path: Path, group: str = "") -> tuple[np.ndarray, np.ndarray]:
    """The frozen (z_fit, z_test) float32 arrays a cell saved (of one training group)."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return (
                arrays[representation_key("z_fit", group)],
                arrays[representation_key("z_test", group)],
            )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise CellFileError(f"{path} is not a readable representations file ({error})") from None


def check_artefacts(record: CellRecord, cells_dir: Path, *, required: bool = False) -> None:
    """:class:`CellFileError` naming a cell's weights or representations file that is damaged,
    or missing beside the others: such a cell is not finished, whatever its cell file says.

    A cell with none of them is a results-only cell (committed run folders keep cell files
    without weights) and passes unless ``required`` (re-evaluation needs them). Weights are
    checked by their zip directory (cheap: a truncated file has none), representations by
    reading every array (they are small and evaluate reads them).
    """
    cells_dir = Path(cells_dir)
    weights = record.artefacts.get("group_weights") or {"": record.artefacts.get("weights")}
    names = [str(name) for name in weights.values() if name]
    saved = record.artefacts.get("representations") or f"{record.key}.npz"
    representations = cells_dir / str(saved)
    paths = [*(cells_dir / name for name in names), representations]
    if not required and not any(path.exists() for path in paths):
        return
    for path in paths:
        what = f"{path} ({'representations' if path == representations else 'weights'} of cell "
        if not path.is_file():
            raise CellFileError(f"{what}{record.key}) is missing")
        if path == representations:
            for group in record.artefacts.get("groups") or {"": {}}:
                load_representations(path, str(group))
            continue
        try:
            with zipfile.ZipFile(path):
                pass
        except (OSError, EOFError, zipfile.BadZipFile) as error:
            raise CellFileError(f"{what}{record.key}) is damaged ({error})") from None


def set_threads(threads: int) -> None:
    """Torch intra-op threads of a worker process (the executors' initializer)."""
    torch.set_num_threads(max(1, int(threads)))
