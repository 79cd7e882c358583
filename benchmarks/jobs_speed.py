"""Throughput of ``--jobs 2`` vs ``--jobs 1``: cells per minute on a small xor job.

Runs the same small run (xor, InfMasking and CLIP plus the two bounds, 2 seeds: 8 cells) into
fresh folders with 1 and 2 worker processes, interleaved (1, 2, 1, 2, ...) so that both see the
same background load, and prints wall time, cells per minute and the speed-up with its range
over the repeats. Prints ``uptime`` before and after (the load the figures were taken under).

    OMP_NUM_THREADS=1 python benchmarks/jobs_speed.py --repeats 2
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from synergy_lab.config import RunConfig
from synergy_lab.runs import run_cells
from synergy_lab.train import TrainConfig
from synthetic import TaskConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--samples", type=int, default=1500)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    config = RunConfig(
        task="xor",
        methods=("infmasking", "clip"),
        seeds=(0, 1),
        task_config=TaskConfig(n_samples=args.samples),
        train=TrainConfig(budget="fixed", epochs=args.epochs, progress=False, device="cpu"),
    )
    cells = len(config.all_methods) * len(config.seeds)
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    seconds: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for jobs in (1, 2):
                start = time.perf_counter()
                run_cells(config, Path(tmp) / f"jobs{jobs}-{repeat}", jobs=jobs)
                seconds[jobs].append(time.perf_counter() - start)
                print(
                    f"repeat {repeat}, --jobs {jobs}: {seconds[jobs][-1]:6.1f} s for {cells} "
                    f"cells ({60 * cells / seconds[jobs][-1]:.1f} cells/min)"
                )
    ratios = [a / b for a, b in zip(seconds[1], seconds[2], strict=True)]
    print(
        f"speed-up of --jobs 2 over --jobs 1: mean {statistics.mean(ratios):.2f}x, "
        f"range {min(ratios):.2f}-{max(ratios):.2f}x over n={len(ratios)} interleaved pairs"
    )
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
