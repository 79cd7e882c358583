"""Milliseconds per optimisation step of each table method at a Trifeatures preset (one thread).

Trains every method of the papers' table for one short epoch with the preset's model, method,
augmentation and batch settings on a small trifeature draw, and prints ms/step and the
projected training time of the preset's table (methods x seeds x two models x steps per model).
This is how ``--preset cpu`` was sized; rerun it on a quiet machine to size it for another one.

    OPENBLAS_NUM_THREADS=1 python benchmarks/preset_steps.py [--preset cpu] [--steps 14]
"""

from __future__ import annotations

import argparse
import dataclasses

import torch

import synthetic
from synergy_lab.presets import preset_run_config
from synergy_lab.train import train
from synthetic.dataset import split_sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--steps", type=int, default=14, help="steps timed per method")
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = preset_run_config(args.preset)
    batch = config.train.batch_size
    small = dataclasses.replace(
        config.task_config, n_samples=max(400, int(batch * args.steps / 0.7) + 20)
    )
    data = synthetic.make_dataset(config.task, small, seed=0)
    timing = dataclasses.replace(config.train, epochs=1, progress=False, device="cpu")
    task = config.task_config
    n_train = split_sizes(task.n_samples, task.val_fraction, task.test_fraction)[0]
    steps_per_model = config.train.epochs * (n_train // batch)
    total = 0.0
    print(f"preset {args.preset}: batch {batch}, {steps_per_model} steps per model, 1 thread")
    for method in config.methods:
        trained = train(
            method,
            data,
            train_config=timing,
            model_config=config.model,
            method_config=config.method,
            augment_config=config.augment,
        )
        steps = len(data.train) // batch
        seconds = trained.train_seconds / steps
        total += seconds
        print(f"{method:>11}: {1000 * seconds:7.0f} ms/step")
    models = len(config.seeds) * len(data.training_groups or (None,))
    projected = total * steps_per_model * models
    print(
        f"table ({len(config.methods)} methods x {len(config.seeds)} seeds x "
        f"{len(data.training_groups or (None,))} models): {projected / 3600:.2f} h of training "
        "on one core (halve for --jobs 2 on two idle cores; probes and bounds come on top)"
    )


if __name__ == "__main__":
    main()
