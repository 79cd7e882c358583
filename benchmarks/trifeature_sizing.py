"""Size the Trifeatures CPU preset by measurement, on the validation split only (issue 22, item 5).

For each fused width (``--widths``), trains the candidate preset's models (``--methods`` plus the
untrained network and the per-group supervised references) under the converged budget, then
scores every model's frozen representation on the probe-fit split alone: a linear probe fitted
on one seeded half of val and scored on the other half. Test numbers are computed by the cells
as always but never read here, so whatever this chooses is chosen without the test split.

Prints, per width, method and group: optimiser steps, how training ended, and the val accuracy
of every label; writes ``val_scores.csv`` into ``--out``. Each width is a resumable run folder
``--out/dim-<W>`` (rerun to resume). One torch thread per cell process.

    python benchmarks/trifeature_sizing.py --widths 32,64,128 --seeds 1 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import synthetic  # noqa: E402
from synergy_lab.config import RunConfig, run_config  # noqa: E402
from synergy_lab.evaluate import ProbeConfig  # noqa: E402
from synergy_lab.evaluate.probes import fit_probe  # noqa: E402
from synergy_lab.files import atomic_write_csv  # noqa: E402
from synergy_lab.runs import run_cells  # noqa: E402
from synergy_lab.runs.cells import CELLS_DIR, load_representations, read_cell  # noqa: E402


def candidate(
    width: int, methods: list[str], seeds: int, max_epochs: int, samples: int
) -> RunConfig:
    """The cpu preset under the converged budget at fused width ``width`` (the projection
    head's width scales with it)."""
    return run_config(
        preset="cpu",
        options={
            "run": {"methods": methods, "seeds": seeds, "baselines": True},
            "task": {"n_samples": samples},
            "model": {"dim": width, "projection_dim": width},
            "train": {"budget": "converged", "max_epochs": max_epochs, "progress": False},
            "method": {"supervised": {"label": "all"}},
        },
    )


def val_halves_accuracy(z: np.ndarray, y: np.ndarray, classes: int, seed: int) -> float:
    """Linear-probe accuracy fitted on one seeded half of the probe-fit rows, scored on the
    other half (a fraction; never the test split)."""
    order = np.random.default_rng(1000 + seed).permutation(len(y))
    a, b = order[: len(y) // 2], order[len(y) // 2 :]
    return fit_probe(z[a], y[a], z[b], y[b], ProbeConfig(), seed=seed, classes=classes).accuracy


def val_scores(folder: Path, config: RunConfig, width: int) -> list[dict[str, Any]]:
    """One row per finished cell, group and label: steps, stop reason and val accuracy."""
    rows = []
    datasets: dict[int, synthetic.MultimodalDataset] = {}
    for path in sorted((folder / CELLS_DIR).glob("*.json")):
        record = read_cell(path)
        seed = record.seed
        if seed not in datasets:
            datasets[seed] = synthetic.make_dataset("trifeature", config.task_config, seed=seed)
        data = datasets[seed]
        results = record.tables["results"]
        for group in data.training_groups:
            part = data.for_group(group)
            z_fit, _ = load_representations(
                folder / CELLS_DIR / record.artefacts["representations"], group.name
            )
            for label in part.label_names:
                result = results[results["label"] == label].iloc[0]
                rows.append(
                    {
                        "width": width,
                        "method": record.method,
                        "seed": seed,
                        "group": group.name,
                        "label": label,
                        "steps": result.get("steps"),
                        "stop_reason": result.get("stop_reason"),
                        "val_accuracy": val_halves_accuracy(
                            z_fit, part.val.labels[label], part.num_classes[label], seed
                        ),
                    }
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--widths", default="32,64,128")
    parser.add_argument("--methods", default="comm")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--samples", type=int, default=10_000, help="pairs per task draw")
    parser.add_argument("--out", type=Path, default=Path("reports/trifeature-sizing"))
    args = parser.parse_args()
    methods = args.methods.split(",")
    rows: list[dict[str, Any]] = []
    for width in (int(w) for w in args.widths.split(",")):
        config = candidate(width, methods, args.seeds, args.max_epochs, args.samples)
        folder = args.out / f"dim-{width}"
        start = time.perf_counter()
        run_cells(config, folder, jobs=args.jobs, threads=1, on_cell=print)
        print(f"width {width}: {time.perf_counter() - start:.0f} s", flush=True)
        rows += val_scores(folder, config, width)
    frame = pd.DataFrame(rows)
    atomic_write_csv(args.out / "val_scores.csv", frame)
    wide = frame.pivot_table(
        index=["width", "method", "group"], columns="label", values="val_accuracy"
    )
    steps = frame.groupby(["width", "method", "group"])["steps"].first()
    print(wide.join(steps).round(3).to_string())
    print(
        json.dumps(
            {
                "out": str(args.out),
                "cells": int(frame[["width", "method", "seed"]].drop_duplicates().shape[0]),
            }
        )
    )


if __name__ == "__main__":
    main()
