"""Run folders in, report files out: read one or more folders' results, write summary.md and PNGs.

A report is redrawn at any time from the validated ``results.csv`` / ``curves.csv`` /
``dynamics.csv`` of a run folder (``synergy-lab report DIR``), without retraining.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from synergy_lab.files import atomic_write_text
from synergy_lab.report.figures import (
    plot_accuracy,
    plot_curves,
    plot_dynamics,
    plot_grid,
    plot_heldout,
    plot_pid,
    plot_usable,
)
from synergy_lab.report.tables import _ordered, markdown_summary, pairwise_table
from synergy_lab.results import (
    ResultsFileError,
    grid_columns,
    read_curves,
    read_dynamics,
    read_results,
)


def read_runs(run_dirs: Sequence[Path]) -> pd.DataFrame:
    """The results of one or more run folders as one table (one task; no repeated cells)."""
    if not run_dirs:
        raise ValueError("give at least one run folder")
    frames = [read_results(Path(d) / "results.csv") for d in run_dirs]
    frame = pd.concat(frames, ignore_index=True)
    tasks = _ordered(frame["task"])
    if len(tasks) > 1:
        raise ValueError(f"the run folders hold different tasks ({', '.join(tasks)})")
    if frame.duplicated(["method", "seed", "label"]).any():
        first = frame[frame.duplicated(["method", "seed", "label"])].iloc[0]
        raise ResultsFileError(
            f"method {first['method']!r} seed {first['seed']} appears in more than one run folder"
        )
    return frame


def read_variants(folders: Mapping[str, Path], method: str, others: bool = True) -> pd.DataFrame:
    """The results of run folders that each train a variant of ``method`` as one table, its
    ``method`` column naming the variant: ``folders`` maps a variant's name to its folder.

    For an ablation run as one folder per variant (a variant's settings on the command line),
    e.g. ``{"rho 0.7": main, "rho 0.25": rho_folder}``: every folder's rows of ``method`` take
    the folder's name, other methods' rows (CoMM, the references) keep theirs and may come from
    any one folder; ``others=False`` drops them, for folders that each train several ablated
    methods (call once per method and concatenate). Comparisons pair by seed across folders,
    which is a pairing by data draw only where the folders share the task settings: folders
    whose ``config.json`` records other task settings than the first folder's are refused, as
    are repeated cells.
    """
    if not folders:
        raise ValueError("give at least one variant folder")
    frames, tasks = [], {}
    for name, folder in folders.items():
        frame = read_results(Path(folder) / "results.csv")
        if method not in set(frame["method"]):
            raise ValueError(f"{folder} holds no {method!r} cells for variant {name!r}")
        if name in set(frame["method"]) - {method}:
            raise ValueError(f"variant name {name!r} is a method of {folder}; rename the variant")
        if not others:
            frame = frame[frame["method"] == method]
        frames.append(frame.assign(method=frame["method"].mask(frame["method"] == method, name)))
        tasks[Path(folder)] = _task_settings(Path(folder))
    first, settings = next(iter(tasks.items()))
    for folder, other in tasks.items():
        if settings is not None and other is not None and other != settings:
            raise ValueError(
                f"{folder} was run with other task settings than {first}: its seeds draw other "
                "data, so its cells cannot be paired with the first folder's by seed"
            )
    merged = pd.concat(frames, ignore_index=True)
    if len(_ordered(merged["task"])) > 1:
        raise ValueError(f"the folders hold different tasks ({', '.join(_ordered(merged.task))})")
    repeated = merged[merged.duplicated(["method", "seed", "label"])]
    if not repeated.empty:
        first_row = repeated.iloc[0]
        raise ResultsFileError(
            f"method {first_row['method']!r} seed {first_row['seed']} appears in more than one "
            "variant folder"
        )
    return merged


def _task_settings(run_dir: Path) -> object:
    """The task and the task settings that draw its data, from a folder's ``config.json``
    (None if unreadable). Read from the settings record cells hash (``settings.settings``,
    older versions' values left out by the legacy rules), so that a folder written before a
    setting existed pairs with one written after wherever the setting changes nothing (e.g.
    ``trifeature_reference`` for ``xor``); a record without one falls back to ``config``."""
    try:
        record = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
        hashed = record.get("settings", {}).get("settings", {})
        if isinstance(hashed, dict) and "task_config" in hashed:
            return (record["settings"]["task"], hashed["task_config"])
        config = record["config"]
        return (config["task"], config["task_config"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def compare_runs(
    run_dirs: Sequence[Path], label: str, column: str = "probe_accuracy"
) -> pd.DataFrame:
    """:func:`pairwise_table` for one label over the merged results of ``run_dirs``."""
    return pairwise_table(read_runs(run_dirs), label, column)


def probe_kind(run_dir: Path) -> str:
    """The probe kind behind a folder's accuracies: an eval folder's probe.json, else
    config.json's config.probe.kind, else 'linear' (the default, and all older folders)."""
    for name, keys in (
        ("probe.json", ("probe", "kind")),
        ("config.json", ("config", "probe", "kind")),
    ):
        path = Path(run_dir) / name
        try:
            value: object = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and value:
            return value
    return "linear"


def selection_summary(run_dir: Path) -> str:
    """The Selection section of ``summary.md`` from the folder's ``selection.json`` (written by
    ``--select lr``): the grid, the label and seeds scored, each method's mean validation
    accuracy per rate and its choice; "" for a folder without one."""
    try:
        record = json.loads((Path(run_dir) / "selection.json").read_text(encoding="utf-8"))
        chosen, means = dict(record["chosen"]), dict(record["mean_val_accuracy"])
        lrs = [float(lr) for lr in record["lrs"]]
        seeds, label = list(record["seeds"]), str(record["label"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    grid = ", ".join(f"{lr:g}" for lr in lrs)
    lines = [
        "## Selection (learning rate)",
        "",
        f"Each trainable method's learning rate was chosen from {grid}"
        f" (the same grid for every method) by the linear probe's accuracy on {label} over"
        f" validation rows, never the test split: mean over {len(seeds)} selection seed(s)"
        f" ({', '.join(map(str, seeds))}), apart from the run's seeds;"
        f" {record.get('trainings', '?')} extra trainings (cells in `select/`, scores in"
        " `selection.csv`). The seeds above trained at the chosen rates.",
        "",
        "| method | " + " | ".join(f"lr {lr:g}" for lr in lrs) + " | chosen |",
        "|---|" + "---|" * (len(lrs) + 1),
    ]
    for method, row in means.items():
        cells = [f"{float(row[str(lr)]):.3f}" if str(lr) in row else "" for lr in lrs]
        lines.append(f"| {method} | " + " | ".join(cells) + f" | {float(chosen[method]):g} |")
    return "\n".join(lines) + "\n"


def write_report(run_dir: Path, title: str = "") -> list[Path]:
    """(Re)write ``summary.md`` and the PNG figures of a run folder from its CSV files (and
    its ``selection.json``, if ``--select lr`` chose the learning rates)."""
    run_dir = Path(run_dir)
    probe = probe_kind(run_dir)
    frame = read_results(run_dir / "results.csv")
    if frame.empty:
        raise ValueError(f"{run_dir / 'results.csv'} holds no rows yet")
    written = [run_dir / "summary.md", run_dir / "accuracy.png", run_dir / "pid.png"]
    summary = markdown_summary(frame, title, probe)
    selection = selection_summary(run_dir)
    atomic_write_text(written[0], summary + ("\n" + selection if selection else ""))
    plot_accuracy(frame, written[1], probe)
    plot_pid(frame, written[2])
    if frame["usable_bits"].notna().any():
        plot_usable(frame, run_dir / "usable.png")
        written.append(run_dir / "usable.png")
    curves_path = run_dir / "curves.csv"
    if curves_path.is_file():
        curves = read_curves(curves_path)
        plot_curves(curves, run_dir / "curves.png")
        written.append(run_dir / "curves.png")
        if curves.part.str.endswith("val_loss").any():  # runs under the converged budget
            plot_heldout(curves, run_dir / "heldout.png")
            written.append(run_dir / "heldout.png")
    dynamics_path = run_dir / "dynamics.csv"
    if dynamics_path.is_file():
        plot_dynamics(read_dynamics(dynamics_path), run_dir / "dynamics.png")
        written.append(run_dir / "dynamics.png")
    return written


def write_grid_figures(run_dir: Path) -> list[Path]:
    """``grid-<key>.png`` for every grid key of a sweep's results (none for a plain run)."""
    run_dir = Path(run_dir)
    frame = read_results(run_dir / "results.csv")
    written = []
    for key in grid_columns(frame):
        path = run_dir / f"grid-{key}.png"
        plot_grid(frame, key, path)
        written.append(path)
    return written
