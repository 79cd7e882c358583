"""Train the protocol ablation's cells for seeds 1 and 2 (PLAN.md), seed by seed; resumable.

    nice -n 10 python reports/trifeature-cpu-ablation/run_seeds.py

Each variant folder keeps its finished cells, so a stopped run resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from synergy_lab.presets import preset_run_config, protocol_ablation
from synergy_lab.runs import run_cells

HERE = Path(__file__).resolve().parent
SEEDS = (1, 2)

if __name__ == "__main__":
    for seed in SEEDS:
        base = dataclasses.replace(preset_run_config("cpu-v1"), seeds=(seed,))
        for name, variant in protocol_ablation(base).items():
            run_cells(variant, HERE / name, jobs=1, threads=1, on_cell=print)
