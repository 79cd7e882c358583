"""How readable Trifeatures is at the cpu preset: a supervised network on one label, fixed budget.

Trains the ``supervised`` method on the R/U group's training pairs of ``--preset cpu`` (32 px,
the preset's small CNN) for ``--epochs`` epochs on one label (``R``: the shared shape, ``U2``:
the texture of image 2, ``U1``: texture 1), then fits the linear probe on the frozen
representation (val) and scores it on the test split (held-out triples). Prints one JSON
object: label, seed, steps, training seconds, test accuracy, and the test accuracy per texture
(of the image whose texture is read for U1/U2, of image 1 for R).

The supervised head's accuracy bounds what any method can make usable for that label at this
budget: a texture the network cannot read in 32 px caps U1, U2 and S for every method.

    python benchmarks/trifeature_reference.py --label U2 [--epochs 6] [--seed 0]
        [--augment default|paper|none] [--render v1|v2]

``--render`` picks ``TaskConfig.trifeature_render`` (omitted: the preset's default). Adapted
from the evidence script of issue 22 (/work/shared/evidence/trifeature_supervised_reference.py),
which measured at 654 steps (6 epochs, seed 0, renderer v1): R 0.860 with the toolkit's
default augmentations, 0.775 with the papers' set; U2 0.57 (default augmentations).
Renderer v1 against v2 (seeds 0-2, 654 steps, default augmentations; load 4-9 on 2 shared
cores, 110-330 s of training per run): U2 0.601 -> 0.636, R 0.864 -> 0.902 (means; per seed in
``synthetic/render.py``'s module docstring).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import synthetic  # noqa: E402
from synergy_lab.augment import AugmentConfig  # noqa: E402
from synergy_lab.evaluate import ProbeConfig, fit_probe  # noqa: E402
from synergy_lab.presets import preset_run_config  # noqa: E402
from synergy_lab.train import train  # noqa: E402
from synthetic.render import TEXTURES  # noqa: E402

AUGMENTS = {
    "default": AugmentConfig(),
    "paper": AugmentConfig(image_preset="paper"),
    "none": AugmentConfig(crop_min_scale=1.0, flip_prob=0.0, jitter_prob=0.0),
}
#: The factor whose value the per-texture breakdown is indexed by, per label.
TEXTURE_OF = {"R": "texture1", "U1": "texture1", "U2": "texture2"}


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--label", choices=tuple(TEXTURE_OF), default="U2")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--augment", choices=tuple(AUGMENTS), default="default")
    parser.add_argument("--render", default=None, help="TaskConfig.trifeature_render")
    parser.add_argument("--samples", type=int, default=None, help="TaskConfig.n_samples")
    args = parser.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))

    config = preset_run_config("cpu")
    task = config.task_config
    if args.render is not None:
        task = dataclasses.replace(task, trifeature_render=args.render)
    if args.samples is not None:
        task = dataclasses.replace(task, n_samples=args.samples)
    start = time.perf_counter()
    data = synthetic.make_dataset("trifeature", task, seed=args.seed)
    group = next(g for g in data.training_groups if g.name == "RU")
    part = data.for_group(group)
    data_seconds = time.perf_counter() - start
    train_config = dataclasses.replace(
        config.train, epochs=args.epochs, progress=False, seed=args.seed, split="train"
    )
    start = time.perf_counter()
    model = train(
        "supervised",
        part,
        train_config=train_config,
        model_config=config.model,
        method_config=dataclasses.replace(config.settings_of("supervised"), label=args.label),
        augment_config=AUGMENTS[args.augment],
    )
    train_seconds = time.perf_counter() - start
    z_val = model.represent(part.val.x1, part.val.x2)
    z_test = model.represent(part.test.x1, part.test.x2)
    y_val, y_test = part.val.labels[args.label], part.test.labels[args.label]
    result = fit_probe(z_val, y_val, z_test, y_test, ProbeConfig(), classes=10)
    texture = part.test.factors[TEXTURE_OF[args.label]]
    per_texture = {
        name: round(float((result.predictions[texture == t] == y_test[texture == t]).mean()), 3)
        for t, name in enumerate(TEXTURES)
    }
    out: dict[str, object] = {
        "label": args.label,
        "seed": args.seed,
        "epochs": args.epochs,
        "augment": args.augment,
        "render": task.trifeature_render if hasattr(task, "trifeature_render") else "v1",
        "steps": len(model.loss_curve),
        "data_seconds": round(data_seconds, 1),
        "train_seconds": round(train_seconds, 1),
        "test_accuracy": round(float(result.accuracy), 4),
        "per_texture_test": per_texture,
        "n_test": int(y_test.shape[0]),
    }
    print(json.dumps(out), flush=True)
    return out


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
