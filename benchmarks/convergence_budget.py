"""Fixed versus converged training budget on ``xor`` (issue 27): steps, stops and S accuracy.

Two modes, each small enough for a shared 2-core CPU (one torch thread):

* ``--mode curves``: one long converged run per method (seed 0, ``patience`` so large that it
  runs to ``--cap`` epochs), checking the held-out loss every 25 steps; then replays the
  stopping rule offline for a grid of (eval_every, tol, patience) and prints, per rule and
  method, the stopping step and how much held-out loss (relative to the long run's lowest) the
  rule leaves on the table. This is the measurement behind TrainConfig's defaults.
* ``--mode compare``: per method and seed, trains with today's fixed budget and with the
  converged default, and prints steps trained, best step, stop reason and the linear probe's S
  accuracy on test (95 % bootstrap interval over test samples); then over seeds the mean and
  t-interval of each, and of the paired difference converged - fixed.

* ``--mode annealed``: the fixed budget (cosine to 0) stretched to ``--epochs`` epochs, e.g.
  as many as a converged run took; separates "trained longer" from "lr never annealed".

    python benchmarks/convergence_budget.py --mode curves [--cap 40]
    python benchmarks/convergence_budget.py --mode annealed --epochs 60 --methods infmasking
    python benchmarks/convergence_budget.py --mode compare [--seeds 0,1,2] [--task xor]
        [--methods infmasking,comm,clip,supervised]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import torch

import synthetic
from synergy_lab.evaluate.probes import fit_probe
from synergy_lab.measure import bootstrap_intervals, paired_difference, seed_summary
from synergy_lab.methods.supervised import SupervisedSettings
from synergy_lab.train import TrainConfig, TrainedModel, checks_without_improvement, train
from synthetic import MultimodalDataset


def load(task: str, seed: int) -> MultimodalDataset:
    """The task's default dataset; ``ladder-order-m4`` is the ladder's order-m4 rung."""
    if task == "ladder-order-m4":
        from synthetic.ladder import rung_settings

        config = synthetic.TaskConfig(**rung_settings("order-m4"))  # type: ignore[arg-type]
        return synthetic.make_dataset("ladder", config, seed=seed)
    return synthetic.make_dataset(task, synthetic.TaskConfig(), seed=seed)


def s_accuracy(trained: TrainedModel, data: MultimodalDataset, label: str) -> dict[str, float]:
    """The linear probe's test accuracy on ``label`` with its 95 % bootstrap interval."""
    fit = data.split(data.probe_split)
    z_fit = trained.represent(fit.x1, fit.x2)
    z_test = trained.represent(data.test.x1, data.test.x2)
    classes = data.num_classes[label]
    result = fit_probe(z_fit, fit.labels[label], z_test, data.test.labels[label], classes=classes)
    bounds = bootstrap_intervals(
        data.test.labels[label], result.probabilities, result.prior, n_boot=500
    )
    return {"acc": result.accuracy, "low": bounds["accuracy"].low, "high": bounds["accuracy"].high}


def replay(curve: list[dict[str, float]], every: int, tol: float, patience: int) -> tuple[int, int]:
    """(stop step, best step) the rule would give on a long run's checks every 25 steps."""
    kept = [c for c in curve if c["step"] % every == 0]
    losses: list[float] = []
    for entry in kept:
        losses.append(entry["val_loss"])
        if checks_without_improvement(losses, tol) >= patience:
            break
    best = int(np.argmin(losses))
    return int(kept[len(losses) - 1]["step"]), int(kept[best]["step"])


def settings(method: str, label: str) -> SupervisedSettings | None:
    """The supervised reference trains on ``label``; the other methods take their defaults."""
    return SupervisedSettings(label=label) if method == "supervised" else None


def curves(methods: list[str], task: str, cap: int) -> None:
    data = load(task, 0)
    long = TrainConfig(progress=False, device="cpu", eval_every=25, patience=10**6, max_epochs=cap)
    runs = {}
    for method in methods:
        began = time.perf_counter()
        runs[method] = train(method, data, long, method_config=settings(method, "S"))
        lowest = min(c["val_loss"] for c in runs[method].val_curve)
        print(
            f"{method}: {runs[method].steps_trained} steps in {time.perf_counter() - began:.0f} s;"
            f" lowest held-out loss {lowest:.4f} at step {runs[method].best_step}",
            flush=True,
        )
        print("  curve:", [round(c["val_loss"], 3) for c in runs[method].val_curve[::4]])
    print("\nrule (every, tol, patience): per method stop step / best step / loss left (%)")
    for every in (25, 50):
        for tol in (0.0, 0.001, 0.003, 0.01, 0.03):
            for patience in (3, 6, 10):
                cells = []
                for method, run in runs.items():
                    stop, best = replay(run.val_curve, every, tol, patience)
                    at_best = next(c["val_loss"] for c in run.val_curve if c["step"] == best)
                    lowest = min(c["val_loss"] for c in run.val_curve)
                    left = 100 * (at_best - lowest) / abs(lowest)
                    cells.append(f"{method} {stop}/{best}/{left:.1f}")
                print(f"({every}, {tol}, {patience}): " + "; ".join(cells), flush=True)


def compare(
    methods: list[str], task: str, seeds: list[int], label: str, budgets: list[str]
) -> None:
    fixed = TrainConfig(progress=False, device="cpu", budget="fixed")
    converged = TrainConfig(progress=False, device="cpu")
    print(f"fixed: {fixed.epochs} epochs; converged: {converged}")
    configs = [
        (name, c) for name, c in (("fixed", fixed), ("converged", converged)) if name in budgets
    ]
    table: dict[tuple[str, str], dict[int, dict[str, float]]] = {}
    for seed in seeds:
        data = load(task, seed)
        for method in methods:
            for name, config in configs:
                began = time.perf_counter()
                trained = train(
                    method,
                    data,
                    dataclasses.replace(config, seed=seed),
                    method_config=settings(method, label),
                )
                row = {
                    "steps": float(trained.steps_trained),
                    "best": float(trained.best_step),
                    **s_accuracy(trained, data, label),
                }
                table.setdefault((method, name), {})[seed] = row
                print(
                    f"seed {seed} {method:10s} {name:9s} steps {trained.steps_trained:5d} best "
                    f"{trained.best_step:5d} ({trained.stop_reason}) {label} acc {row['acc']:.3f}"
                    f" [{row['low']:.3f}, {row['high']:.3f}]  {time.perf_counter() - began:.0f} s",
                    flush=True,
                )
    print(f"\nover seeds {seeds}: mean [95 % t-interval] (range)")
    for method in methods:
        for name, _ in configs:
            rows = table[(method, name)]
            for key in ("steps", "best", "acc"):
                values = [rows[s][key] for s in seeds]
                summary = seed_summary(values)
                print(
                    f"{method:10s} {name:9s} {key:5s} {summary.mean:8.3f} "
                    f"[{summary.low:.3f}, {summary.high:.3f}] ({min(values):.3f}-{max(values):.3f})"
                )
        if len(configs) < 2:
            continue
        diff = paired_difference(
            {s: table[(method, "converged")][s]["acc"] for s in seeds},
            {s: table[(method, "fixed")][s]["acc"] for s in seeds},
        )
        print(
            f"{method:10s} converged - fixed {label} acc {diff.mean:+.3f} "
            f"[{diff.low:+.3f}, {diff.high:+.3f}] n={diff.n}"
        )


def annealed(methods: list[str], task: str, seeds: list[int], label: str, epochs: int) -> None:
    config = TrainConfig(progress=False, device="cpu", budget="fixed", epochs=epochs)
    for seed in seeds:
        data = load(task, seed)
        for method in methods:
            began = time.perf_counter()
            trained = train(
                method,
                data,
                dataclasses.replace(config, seed=seed),
                method_config=settings(method, label),
            )
            row = s_accuracy(trained, data, label)
            print(
                f"seed {seed} {method:10s} fixed {epochs} epochs (cosine) steps "
                f"{trained.steps_trained:5d} {label} acc {row['acc']:.3f} [{row['low']:.3f}, "
                f"{row['high']:.3f}]  {time.perf_counter() - began:.0f} s",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("curves", "compare", "annealed"), default="compare")
    parser.add_argument("--task", default="xor")
    parser.add_argument("--methods", default="infmasking,comm,clip,supervised")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--label", default="S")
    parser.add_argument("--budgets", default="fixed,converged", help="compare: which to train")
    parser.add_argument("--cap", type=int, default=40, help="curves: epochs of the long run")
    parser.add_argument("--epochs", type=int, default=60, help="annealed: epochs of the run")
    args = parser.parse_args()
    torch.set_num_threads(1)
    methods = args.methods.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.mode == "curves":
        curves(methods, args.task, args.cap)
    elif args.mode == "annealed":
        annealed(methods, args.task, seeds, args.label, args.epochs)
    else:
        compare(methods, args.task, seeds, args.label, args.budgets.split(","))


if __name__ == "__main__":
    main()
