"""Overhead of ``--probe-every 1`` (probes fitted after every epoch) on the default ``xor`` task.

Trains each method once with the dynamics hook at K = 1 and reports the CPU time of training
(the loop, ``TrainedModel.train_seconds`` excludes the hook) and of the hook, as process CPU time
of this single-threaded process, which a busy shared machine inflates much less than wall time;
the load average from ``uptime`` is printed next to the numbers. Target: hook <= 20 % of training.

    python benchmarks/dynamics_overhead.py [--methods clip,comm,infmasking] [--epochs 10]
"""

from __future__ import annotations

import argparse
import os
import time

import torch

import synthetic
from synergy_lab.evaluate import ProbeConfig, dynamics_hook
from synergy_lab.train import TrainConfig, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="clip,comm,infmasking")
    parser.add_argument("--epochs", type=int, default=TrainConfig().epochs)
    parser.add_argument("--samples", type=int, default=synthetic.TaskConfig().n_samples)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"load average before: {os.getloadavg()}; torch threads: {torch.get_num_threads()}")
    data = synthetic.make_dataset("xor", synthetic.TaskConfig(n_samples=args.samples), seed=0)
    config = TrainConfig(budget="fixed", epochs=args.epochs, progress=False, device="cpu")
    print(f"xor, {len(data.train)} training samples, {args.epochs} epochs, probes every epoch")
    for method in args.methods.split(","):
        rows: list[dict[str, object]] = []
        inner = dynamics_hook(data, ProbeConfig(), every=1, seed=0, rows=rows)
        hook_cpu = [0.0]

        def hook(epoch: int, model: object, inner=inner, hook_cpu=hook_cpu) -> None:
            began = time.process_time()
            inner(epoch, model)  # type: ignore[arg-type]
            hook_cpu[0] += time.process_time() - began

        began = time.process_time()
        wall = time.perf_counter()
        trained = train(method, data, train_config=config, on_epoch=hook)
        total_cpu = time.process_time() - began
        train_cpu = total_cpu - hook_cpu[0]
        print(
            f"{method:>12}: training {train_cpu:6.1f} s CPU, probes {hook_cpu[0]:6.1f} s CPU "
            f"({100 * hook_cpu[0] / train_cpu:5.1f} % of training; {len(rows)} probe fits); "
            f"wall {time.perf_counter() - wall:6.1f} s, train_seconds {trained.train_seconds:.1f}"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
