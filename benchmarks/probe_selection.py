"""Probe L2 chosen by validation accuracy versus by log-loss (+ temperature) on ``xor``.

Trains each method with the fixed budget (today's defaults, fast) per seed, probes every label
once (one ``fit_probe`` call gives both read-outs) and prints per cell the test accuracy of the
accuracy-selected and of the log-loss-selected probe, and usable bits (H(Y) - CE_test, bits) of
the uncalibrated accuracy-selected probe and of the calibrated one; then over all cells the
mean paired difference with its t-interval, and how many cells have usable bits below 0.

    python benchmarks/probe_selection.py [--methods comm,clip,random] [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import synthetic
from synergy_lab.evaluate.probes import fit_probe
from synergy_lab.measure import seed_summary, usable_bits
from synergy_lab.train import TrainConfig, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="xor")
    parser.add_argument("--methods", default="comm,clip,random")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        data = synthetic.make_dataset(args.task, synthetic.TaskConfig(), seed=seed)
        fit = data.split(data.probe_split)
        for method in args.methods.split(","):
            config = TrainConfig(progress=False, device="cpu", budget="fixed", seed=seed)
            trained = train(method, data, config)
            z_fit = trained.represent(fit.x1, fit.x2)
            z_test = trained.represent(data.test.x1, data.test.x2)
            for label in data.label_names:
                y_test = data.test.labels[label]
                r = fit_probe(
                    z_fit, fit.labels[label], z_test, y_test, classes=data.num_classes[label]
                )
                row = {
                    "acc_by_acc": r.accuracy,
                    "acc_by_loss": r.calibrated_accuracy,
                    "bits_raw": usable_bits(r.probabilities, y_test, r.prior),
                    "bits_cal": usable_bits(r.calibrated_probabilities, y_test, r.prior),
                }
                rows.append(row)
                print(
                    f"seed {seed} {method:8s} {label:3s} acc(by acc) {row['acc_by_acc']:.3f} "
                    f"acc(by log-loss) {row['acc_by_loss']:.3f}  bits raw {row['bits_raw']:+.4f}"
                    f" calibrated {row['bits_cal']:+.4f}  l2 {r.l2:g}/{r.calibrated_l2:g} "
                    f"T {r.temperature:.2f}",
                    flush=True,
                )
    cells = len(rows)
    for a, b in (("acc_by_acc", "acc_by_loss"), ("bits_cal", "bits_raw")):
        diff = seed_summary([row[a] - row[b] for row in rows])
        print(f"{a} - {b}: {diff.mean:+.4f} [{diff.low:+.4f}, {diff.high:+.4f}] over {cells} cells")
    for key in ("bits_raw", "bits_cal"):
        values = np.array([row[key] for row in rows])
        print(f"{key}: {int((values < 0).sum())} of {cells} cells below 0, min {values.min():+.4f}")


if __name__ == "__main__":
    main()
