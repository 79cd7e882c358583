"""A run as data: settings + hash, one file per cell, executors that decide where cells run.

A *cell* is a pure function of its settings: (task, method, seed, settings) -> one cell file in
the run folder's ``cells/`` (plus its weights and frozen representations). ``results.csv`` and
``curves.csv`` are merged from the cell files. Executors (in-process, a local process pool,
SLURM through submitit) only decide where that function runs; nothing below this package knows
that runs, executors or sweeps exist.
"""

from synergy_lab.runs.cells import (
    CellFileError,
    CellRecord,
    CellSpec,
    merge_cells,
    read_cell,
    run_cell,
)
from synergy_lab.runs.executors import SlurmConfig, auto_jobs, threads_per_job
from synergy_lab.runs.folder import (
    FolderStatus,
    RunFolderError,
    RunOutcome,
    config_record,
    folder_status,
    run_cells,
    run_experiment,
    settings_difference,
)
from synergy_lab.runs.reevaluate import reevaluate
from synergy_lab.runs.select import Selection, SelectionError, run_selected, selection_cost
from synergy_lab.runs.sweep import GRID_SECTIONS, expand_grid

__all__ = [
    "GRID_SECTIONS",
    "CellFileError",
    "CellRecord",
    "CellSpec",
    "FolderStatus",
    "RunFolderError",
    "RunOutcome",
    "Selection",
    "SelectionError",
    "SlurmConfig",
    "auto_jobs",
    "config_record",
    "expand_grid",
    "folder_status",
    "merge_cells",
    "read_cell",
    "reevaluate",
    "run_cell",
    "run_cells",
    "run_experiment",
    "run_selected",
    "selection_cost",
    "settings_difference",
    "threads_per_job",
]
