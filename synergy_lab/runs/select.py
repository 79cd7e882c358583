"""``--select lr``: each method's learning rate chosen on validation rows, then the seeds trained.

Why: a comparison at one shared learning rate is partly a comparison of how well that rate
suits each method. Here every trainable method (the supervised reference too) gets the same
small grid ([select] lrs, default 3e-4, 1e-3, 3e-3) and the same number of trainings, so the
choice costs every method the same.

How, and why it never reads the test split:

- Selection trainings are cells of their own, in the sub-folder ``select/`` of the run folder
  (a sweep over ``train.lr`` with ``scored_on = "validation"``), so they resume like any cell
  and the choice is recomputed from their files. They use seeds 10000, 10001, ... ([select]
  seeds of them), never the run's seeds: each seed draws its own data, so the run's seeds are
  scored on data and initialisations the choice never saw.
- A selection cell's data is :meth:`synthetic.MultimodalDataset.for_selection`: probes are
  fitted on the probe split as in the run, and scored on the ``val`` split (which no training
  and no probe of the run reads) in the test split's place; for trifeature, whose probes are
  fitted on ``val``, on a fixed 30 % of ``val`` held out from the probe fit. The test split is
  dropped before the cell trains, so no test number exists to leak into the choice.
- The score is the linear probe's accuracy on label [select] label (S by default) over those
  validation rows, averaged over the selection seeds; the highest mean wins, the first rate of
  the grid on a tie. ``selection.csv`` (one row per method, rate and seed) and
  ``selection.json`` (the choice, the means, the cost) are written to the run folder, and
  ``summary.md`` has a Selection section.
- The run then trains its seeds with ``[train.<method>] lr`` set to the chosen rate: the rate is
  part of each cell's settings (its hash), so a different choice retrains, the same one resumes.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from synergy_lab.config import RunConfig
from synergy_lab.files import atomic_write_csv, atomic_write_json
from synergy_lab.methods import METHODS
from synergy_lab.runs.folder import RunOutcome, run_cells
from synthetic import MultimodalDataset

#: Sub-folder of the run folder that holds the selection cells (a run folder of its own).
SELECT_FOLDER = "select"
#: First selection seed: selection seeds are FIRST_SEED, FIRST_SEED + 1, ...; a run's own seeds
#: must stay below it.
FIRST_SEED = 10_000
SELECTION_CSV = "selection.csv"
SELECTION_JSON = "selection.json"
GRID_KEY = "train.lr"


class SelectionError(ValueError):
    """A selection that cannot be made with the settings given."""


@dataclasses.dataclass(frozen=True)
class Selection:
    """The outcome of ``--select lr``.

    ``scores``: one row per (method, lr, seed) with the validation accuracy (fraction) and
    usable bits of ``label`` and the number of validation rows scored (``n_val``);
    ``chosen``: method -> learning rate.
    """

    label: str
    lrs: tuple[float, ...]
    seeds: tuple[int, ...]
    scores: pd.DataFrame
    chosen: dict[str, float]

    @property
    def means(self) -> pd.DataFrame:
        """Mean validation accuracy per method (rows) and learning rate (columns)."""
        table = self.scores.pivot_table(
            index="method", columns="lr", values="val_accuracy", aggfunc="mean", sort=False
        )
        return table[[lr for lr in self.lrs if lr in table.columns]]

    @property
    def trainings(self) -> int:
        return len(self.scores)


def selected_methods(config: RunConfig) -> tuple[str, ...]:
    """The methods whose learning rate is chosen: every trainable one the run trains."""
    return tuple(m for m in config.all_methods if METHODS[m].trainable)


def selection_seeds(config: RunConfig) -> tuple[int, ...]:
    return tuple(range(FIRST_SEED, FIRST_SEED + config.select.seeds))


def selection_cost(config: RunConfig) -> int:
    """Extra trainings ``--select lr`` adds: rates x trainable methods x selection seeds."""
    if config.select.what == "none":
        return 0
    return len(config.select.lrs) * len(selected_methods(config)) * config.select.seeds


def selection_config(config: RunConfig) -> RunConfig:
    """The RunConfig of the selection cells: the trainable methods alone, at the selection
    seeds, no per-epoch probes, no per-method learning rate (the grid sets it); every other
    setting (budget, model, probe, a method's other [train.<name>] settings) is the run's."""
    methods = selected_methods(config)
    if not methods:
        raise SelectionError("--select lr needs a trainable method; the run has none")
    clash = sorted(s for s in config.seeds if s >= FIRST_SEED)
    if clash:
        raise SelectionError(
            f"seed {clash[0]} is a selection seed (selection uses {FIRST_SEED} and up); "
            f"give the run seeds below {FIRST_SEED}"
        )
    own = {  # a method's own train settings stay, but the grid sets every method's rate
        name: rest
        for name, table in config.method_train.items()
        if (rest := {k: v for k, v in table.items() if k != "lr"})
    }
    return dataclasses.replace(
        config,
        methods=methods,
        baselines=False,
        seeds=selection_seeds(config),
        probe_every=0,
        method_train=own,
    )


def choose(scores: pd.DataFrame, lrs: tuple[float, ...]) -> dict[str, float]:
    """Method -> the rate of ``lrs`` with the highest mean ``val_accuracy`` (first on a tie)."""
    chosen: dict[str, float] = {}
    for method, rows in scores.groupby("method", sort=False):
        means = rows.groupby("lr")["val_accuracy"].mean()
        best = max(means)
        chosen[str(method)] = next(lr for lr in lrs if lr in means.index and means[lr] == best)
    return chosen


def _scores(results: pd.DataFrame, label: str, lrs: tuple[float, ...]) -> pd.DataFrame:
    """The selection cells' result rows of ``label`` as (method, lr, seed, val_accuracy,
    val_usable_bits, n_val); their ``probe_accuracy`` was scored on validation rows."""
    labels = sorted(set(results["label"]))
    if label not in labels:
        raise SelectionError(
            f"[select] label {label!r} is not a label of the task; its labels: {', '.join(labels)}"
        )
    rows = results[results["label"] == label]
    scores = pd.DataFrame(
        {
            "method": rows["method"].astype(str),
            "lr": rows[GRID_KEY].astype(float),
            "seed": rows["seed"].astype(int),
            "val_accuracy": rows["probe_accuracy"].astype(float),
            "val_usable_bits": rows["usable_bits"].astype(float),
            "n_val": rows["n_test"].astype(int),
        }
    )
    order = {lr: i for i, lr in enumerate(lrs)}
    scores = scores[scores["lr"].isin(order)]
    return scores.sort_values(
        ["method", "lr", "seed"], key=lambda c: c.map(order) if c.name == "lr" else c
    ).reset_index(drop=True)


def select_lr(
    config: RunConfig,
    out_dir: Path,
    *,
    dataset: MultimodalDataset | None = None,
    on_cell: Callable[[str], None] | None = None,
    **run_options: Any,
) -> Selection | RunOutcome:
    """Train (or resume) the selection cells in ``out_dir/select`` and choose each method's
    learning rate on validation rows; the :class:`RunOutcome` of the selection cells instead
    while some are still pending (submitted to SLURM)."""
    lrs = tuple(float(lr) for lr in config.select.lrs)
    if dataset is not None and config.select.label not in dataset.num_classes:
        labels = ", ".join(dataset.num_classes)
        raise SelectionError(
            f"[select] label {config.select.label!r} is not a label of {dataset.name!r}; "
            f"its labels: {labels}"
        )
    outcome = run_cells(
        selection_config(config),
        Path(out_dir) / SELECT_FOLDER,
        grid={GRID_KEY: list(lrs)},
        dataset=dataset,
        on_cell=on_cell,
        scored_on="validation",
        **run_options,
    )
    if outcome.pending:
        return outcome
    scores = _scores(outcome.results, config.select.label, lrs)
    return Selection(config.select.label, lrs, selection_seeds(config), scores, choose(scores, lrs))


def with_selection(config: RunConfig, chosen: dict[str, float]) -> RunConfig:
    """``config`` with each chosen rate as its method's ``[train.<method>] lr``."""
    own = {name: dict(table) for name, table in config.method_train.items()}
    for method, lr in chosen.items():
        own[method] = {**own.get(method, {}), "lr": float(lr)}
    return dataclasses.replace(config, method_train=own)


def write_selection(
    out_dir: Path, selection: Selection, folder: Path | str = SELECT_FOLDER
) -> list[Path]:
    """``selection.csv`` (the scores) and ``selection.json`` (choice, means, cost, ``folder``:
    where the selection cells are, relative to ``out_dir`` by default), atomically."""
    out_dir = Path(out_dir)
    csv_path, json_path = out_dir / SELECTION_CSV, out_dir / SELECTION_JSON
    pairs = zip(selection.scores.method, selection.scores.lr, strict=True)
    scores = selection.scores.assign(chosen=[selection.chosen.get(m) == lr for m, lr in pairs])
    atomic_write_csv(csv_path, scores)
    means = selection.means
    record = {
        "what": "lr",
        "label": selection.label,
        "lrs": list(selection.lrs),
        "seeds": list(selection.seeds),
        "scored_on": "validation rows (synthetic.MultimodalDataset.for_selection), never test",
        "score": "linear-probe accuracy of the label, mean over the selection seeds",
        "trainings": selection.trainings,
        "folder": str(folder),
        "chosen": selection.chosen,
        "mean_val_accuracy": {
            str(m): {str(lr): float(v) for lr, v in row.items()} for m, row in means.iterrows()
        },
    }
    atomic_write_json(json_path, record)
    return [csv_path, json_path]


def read_selection(run_dir: Path) -> dict[str, Any] | None:
    """A run folder's ``selection.json``, or None if it has none (or it cannot be read)."""
    try:
        record = json.loads((Path(run_dir) / SELECTION_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def run_selected(
    config: RunConfig,
    out_dir: Path,
    *,
    dataset: MultimodalDataset | None = None,
    on_cell: Callable[[str], None] | None = None,
    **run_options: Any,
) -> RunOutcome:
    """The run of ``config``: with ``[select] what = "lr"``, first the selection (its cost said
    before anything trains), then every seed at each method's chosen rate; otherwise
    :func:`run_cells` as it is. ``run_options`` go to :func:`run_cells` (jobs, threads, slurm,
    new_folder)."""
    if config.select.what == "none":
        return run_cells(config, out_dir, dataset=dataset, on_cell=on_cell, **run_options)
    report = on_cell or (lambda line: None)
    sel = selection_config(config)
    lrs = ", ".join(f"{lr:g}" for lr in config.select.lrs)
    seeds = selection_seeds(config)
    report(
        f"--select lr: {len(config.select.lrs)} learning rates ({lrs}) x "
        f"{len(sel.methods)} trainable methods x {len(seeds)} selection seeds "
        f"({', '.join(map(str, seeds))}) = {selection_cost(config)} extra trainings, scored "
        f"on {config.select.label} validation accuracy (never the test split), before the run's "
        f"{len(config.all_methods) * len(config.seeds)} cells"
    )
    new_folder = run_options.pop("new_folder", False)
    selected = select_lr(config, out_dir, dataset=dataset, on_cell=on_cell, **run_options)
    if isinstance(selected, RunOutcome):
        report("the selection cells are still running; rerun when they have finished")
        return selected
    for method, lr in selected.chosen.items():
        means = selected.means.loc[method]
        scores = ", ".join(f"{rate:g} {value:.3f}" for rate, value in means.items())
        report(
            f"{method:>12}: lr {lr:g} chosen (mean {selected.label} validation accuracy: {scores})"
        )
    write_selection(out_dir, selected)  # before the seeds train: an interrupted run keeps it
    outcome = run_cells(
        with_selection(config, selected.chosen),
        out_dir,
        dataset=dataset,
        on_cell=on_cell,
        new_folder=new_folder,
        **run_options,
    )
    if Path(outcome.out_dir) != Path(out_dir):  # --new-folder chose a sibling folder
        write_selection(outcome.out_dir, selected, folder=Path(out_dir) / SELECT_FOLDER)
    return outcome
