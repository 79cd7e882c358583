"""Intra-op threads for the small default models: 1 vs 2 torch threads, quiet and under load.

Trains InfMasking and CLIP on a small xor task (one epoch) with ``torch.set_num_threads(k)`` and
prints the wall time of each; ``--load N`` first starts N busy processes (pure Python loops) that
stand in for other users of the cores. Prints ``uptime`` before and after.

    OMP_NUM_THREADS=1 python benchmarks/thread_policy.py --load 0
    OMP_NUM_THREADS=1 python benchmarks/thread_policy.py --load 2
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import subprocess
import time

import torch

import synthetic
from synergy_lab.train import TrainConfig, train


def _busy(stop: float) -> None:
    x = 0
    while time.time() < stop:
        x += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--load", type=int, default=0, help="busy processes to start")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    data = synthetic.make_dataset("xor", synthetic.TaskConfig(n_samples=args.samples), seed=0)
    config = TrainConfig(budget="fixed", epochs=1, progress=False)
    busy = [
        mp.get_context("spawn").Process(target=_busy, args=(time.time() + 600,), daemon=True)
        for _ in range(args.load)
    ]
    for p in busy:
        p.start()
    time.sleep(1 if busy else 0)
    try:
        for method in ("infmasking", "clip"):
            for threads in (1, 2):
                torch.set_num_threads(threads)
                times = []
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    train(method, data, train_config=config)
                    times.append(time.perf_counter() - start)
                print(
                    f"load {args.load} busy procs, {method:>10}, {threads} thread(s): "
                    f"{statistics.mean(times):6.2f} s per epoch "
                    f"(runs: {', '.join(f'{t:.2f}' for t in times)}; n={len(times)})"
                )
    finally:
        for p in busy:
            p.terminate()
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
