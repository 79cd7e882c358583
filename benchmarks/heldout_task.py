"""InfMasking's S accuracy at the converged default budget against the old fixed one, on a task
the toolkit was never tuned on (tests/fixtures/sine_task.py: two hidden bits per modality mixed
by random sine networks; labels XOR and mod-3). Nothing is chosen on this task: the toolkit's
defaults, seeds 0..N-1, the linear probe; per seed the test accuracy with its bootstrap
interval, then the mean over seeds with its t-interval and the paired difference converged -
fixed.

    OPENBLAS_NUM_THREADS=1 python benchmarks/heldout_task.py [--seeds 3] [--method infmasking]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fixtures"))
from sine_task import sine_task  # noqa: E402

from synergy_lab.evaluate import evaluate  # noqa: E402
from synergy_lab.measure import paired_difference, seed_summary  # noqa: E402
from synergy_lab.train import TrainConfig, train  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--method", default="infmasking")
    args = parser.parse_args()
    torch.set_num_threads(1)
    budgets = {
        "fixed": TrainConfig(budget="fixed", progress=False, device="cpu"),
        "converged": TrainConfig(progress=False, device="cpu"),
    }
    scores: dict[tuple[str, str], dict[int, float]] = {}
    for seed in range(args.seeds):
        data = sine_task(seed=seed)
        for name, config in budgets.items():
            began = time.perf_counter()
            trained = train(args.method, data, dataclasses.replace(config, seed=seed))
            table = evaluate(trained, data, seed=seed).set_index("label")
            for label in ("xor", "mod3"):
                row = table.loc[label]
                scores.setdefault((name, label), {})[seed] = float(row.probe_accuracy)
                print(
                    f"seed {seed} {name:>9} {label:>4}: accuracy {row.probe_accuracy:.3f} "
                    f"[{row.accuracy_low:.3f}, {row.accuracy_high:.3f}], usable "
                    f"{row.usable_bits:.3f} bits; {trained.steps_trained} steps "
                    f"({trained.stop_reason}), {time.perf_counter() - began:.0f} s",
                    flush=True,
                )
    for label in ("xor", "mod3"):
        for name in budgets:
            s = seed_summary(np.array(list(scores[(name, label)].values())))
            print(f"{label:>4} {name:>9}: {s.mean:.3f} [{s.low:.3f}, {s.high:.3f}] (n={s.n})")
        d = paired_difference(scores[("converged", label)], scores[("fixed", label)])
        print(f"{label:>4} converged - fixed: {d.mean:+.3f} [{d.low:+.3f}, {d.high:+.3f}]")


if __name__ == "__main__":
    main()
