"""The ladder's difficulty curves: the supervised reference's S test accuracy per rung of every
axis (synthetic/ladder.py, AXES), over seeds, at two stated fixed budgets.

The difficulty measure is tests/fixtures/ladder_reference.py's: the supervised reference (fusion
network trained on S, cross-entropy, cosine schedule) trains a fixed budget with its axis's
vector encoder, then a linear probe (L2 1e-4) on its frozen training representations is scored
on the test split. Budgets: "short" = 2,000 samples, 10 epochs of batch 128 (100 steps), the
budget of most of the axis tests; "long" = 3,000 samples, 60 epochs of batch 128 (960 steps).
A rung reached by two names (an alias) is trained once per encoder. Prints mean and 95 %
t-interval over seeds per rung and writes reports/ladder-difficulty/difficulty.csv (one row per
axis, rung, budget, seed) and difficulty.png (a panel per axis, chance dashed).

    OPENBLAS_NUM_THREADS=1 python benchmarks/ladder_difficulty.py [--seeds 5] [--plot-only]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
from ladder_reference import Budget, reference_accuracy  # noqa: E402

from synergy_lab.files import atomic_write_csv, atomic_write_with  # noqa: E402
from synergy_lab.measure import seed_summary  # noqa: E402
from synthetic import TaskConfig  # noqa: E402
from synthetic.ladder import AXES, LADDER, canonical_rung, rung_settings  # noqa: E402

OUT = ROOT / "reports" / "ladder-difficulty"
BUDGETS = {"short": Budget(2000, 10), "long": Budget(3000, 60)}


def chance(rung: str) -> float:
    """Accuracy of always guessing one class of S (its classes are equiprobable)."""
    return 1.0 / LADDER.num_classes_for(TaskConfig(**rung_settings(rung)))["S"]


def measure(seeds: int) -> pd.DataFrame:
    done: dict[tuple[str, str, str, int], tuple[float, float]] = {}
    rows = []
    for axis in AXES.values():
        for position, rung in enumerate(axis.rungs):
            for budget_name, budget in BUDGETS.items():
                for seed in range(seeds):
                    key = (canonical_rung(rung), axis.encoder, budget_name, seed)
                    if key not in done:
                        start = time.perf_counter()
                        accuracy = reference_accuracy(rung, seed, budget, axis.encoder)
                        done[key] = (accuracy, time.perf_counter() - start)
                    accuracy, seconds = done[key]
                    rows.append(
                        dict(
                            axis=axis.name,
                            position=position,
                            rung=rung,
                            canonical=key[0],
                            encoder=axis.encoder,
                            budget=budget_name,
                            n_samples=budget.n_samples,
                            steps=budget.steps,
                            seed=seed,
                            accuracy=accuracy,
                            chance=chance(rung),
                            seconds=seconds,
                        )
                    )
                values = [r["accuracy"] for r in rows[-seeds:]]
                s = seed_summary(values)
                print(
                    f"{axis.name:18s} {rung:20s} {budget_name:5s} ({budget.steps:4d} steps) "
                    f"S accuracy {s.mean:.3f} [{s.low:.3f}, {s.high:.3f}] (n={s.n} seeds, "
                    f"chance {chance(rung):.3f})",
                    flush=True,
                )
    return pd.DataFrame(rows)


def plot(frame: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes_names = list(AXES)
    columns = (len(axes_names) + 1) // 2
    fig, grid = plt.subplots(2, columns, figsize=(3.3 * columns, 6.4), squeeze=False)
    panels = list(grid.ravel())
    for panel in panels[len(axes_names) :]:
        panel.axis("off")
    for panel, name in zip(panels, axes_names, strict=False):
        info = AXES[name]
        part = frame[frame.axis == name]
        for budget_name, marker in (("short", "o"), ("long", "s")):
            rows = part[part.budget == budget_name]
            if rows.empty:
                continue
            stats = [
                seed_summary(rows[rows.position == p].accuracy) for p in range(len(info.rungs))
            ]
            x = np.arange(len(info.rungs))
            mean = np.array([s.mean for s in stats])
            err = np.array([[s.mean - s.low, s.high - s.mean] for s in stats]).T
            steps = int(rows.steps.iloc[0])
            panel.errorbar(x, mean, yerr=err, marker=marker, capsize=3, label=f"{steps} steps")
        panel.plot(
            np.arange(len(info.rungs)),
            [chance(r) for r in info.rungs],
            "k--",
            linewidth=0.8,
            label="chance",
        )
        panel.set_xticks(np.arange(len(info.rungs)))
        panel.set_xticklabels(
            [r.replace(name + "-", "") for r in info.rungs], rotation=45, fontsize=7
        )
        title = f"{name}{' (exploratory)' if info.exploratory else ''}\n{info.encoder} encoder"
        panel.set_title(title, fontsize=9)
        panel.set_ylim(0, 1.02)
    for row in grid:
        row[0].set_ylabel("reference S accuracy (test)")
    panels[0].legend(fontsize=7)
    n_seeds = frame.seed.nunique()
    fig.suptitle(
        f"Ladder difficulty: supervised reference, mean and 95 % t-interval over {n_seeds} seeds",
        fontsize=10,
    )
    fig.tight_layout()
    atomic_write_with(path, lambda f: fig.savefig(f, format="png", dpi=110))
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--plot-only", action="store_true", help="redraw from difficulty.csv")
    args = parser.parse_args()
    if args.plot_only:
        frame = pd.read_csv(OUT / "difficulty.csv")
    else:
        start, load = time.perf_counter(), os.getloadavg()[0]
        frame = measure(args.seeds)
        OUT.mkdir(parents=True, exist_ok=True)
        atomic_write_csv(OUT / "difficulty.csv", frame)
        trainings = frame.drop_duplicates(["canonical", "encoder", "budget", "seed"]).shape[0]
        print(
            f"{len(frame)} rows, {trainings} "
            f"trainings, {time.perf_counter() - start:.0f} s wall, load average "
            f"{load:.1f} at start, {os.getloadavg()[0]:.1f} at end (one torch thread)"
        )
    plot(frame, OUT / "difficulty.png")


if __name__ == "__main__":
    main()
