"""Named bundles of Trifeatures settings: ``--preset paper`` (a GPU) and ``--preset cpu``.

A preset is a set of TOML-like sections (``run``, ``task``, ``model``, ``method``, ``train``,
``augment``) laid under whatever a config file and the command line say: file settings override
the preset, command-line options override both. Both presets use the Trifeatures protocol of
CoMM (Dufumier et al., ICLR 2025) and InfMasking (Wen et al., NeurIPS 2025), which is the
``trifeature`` task's default: R / U models trained on unbiased pairs, the S model on fully
biased pairs, test images from held-out (shape, texture, colour) triples; the papers'
augmentations; a token grid with fixed 2-D sin-cos positions; T = 6 masked views per
augmentation and InfMasking's lambda ramped over the schedules' horizon, ``epochs`` epochs (the
whole of ``paper``'s fixed 100 epochs; the first 6 epochs of ``cpu``, 588 of its up to 11,760
steps, where the papers ramp over all of training).

- ``paper``: the papers' sizes, for a GPU: 224 px images, AlexNet's convolutions (a 6 x 6 token
  grid; rho = 0.7 keeps 10 of 36 tokens), batch 64, 100 epochs at a constant lr 3e-4, no
  gradient clipping. Memory: the three 224 px splits and two training sets hold about 34,000
  float32 images (~20 GB of host memory).
- ``cpu``: the same protocol at 32 px with a small CNN (two stride-2 stages, 16 base channels,
  an 8 x 8 map pooled to the same 6 x 6 grid) at fused width 64, chosen by measurement on
  validation halves among 32 / 64 / 128 (``benchmarks/trifeature_sizing.py``,
  ``reports/trifeature-sizing``: one seed, so a sizing, not a finding). Every model trains
  under the converged budget (the held-out loss stops improving; capped at 100 epochs), batch
  64, the trainer's lr 1e-3 with warm-up, schedules' horizon 6 epochs. Measured at the sizing
  (40-epoch cap, one core, the other busy): CoMM 1,321 s for its two models, ~4,500 steps each;
  the supervised references 338 s. In the v2 grid (``configs/trifeature_preregistered_v2.toml``,
  held-out loss checked once per ~epoch, one core with another training beside it) a cell (both
  models) took 33-50 min for CLIP, 66-68 min for Cross+Self and 22-107 min for the supervised
  reference; most models ran to or near the cap (11,760 steps with the final decay), but the
  rule stopped CLIP's R/U model on its chance plateau at 1,320, so the pre-registered table
  (``configs/trifeature_preregistered_v3.toml``) trains every model to the cap. That table (six
  methods, five seeds, two references) is an estimated 47 hours of one core: run it resumably
  in the background.
- ``cpu-v1``: the cpu preset before issue 22 (width 32, a fixed 654 steps), kept so the folders
  it wrote resume; see below.
"""

from __future__ import annotations

import copy
from typing import Any

#: The methods of the papers' Trifeatures table, in its order ("clip" is its "Cross").
TABLE_METHODS: tuple[str, ...] = ("clip", "factorcl", "comm", "infmasking", "coral")

_PROTOCOL: dict[str, dict[str, Any]] = {
    "run": {"task": "trifeature", "methods": list(TABLE_METHODS), "seeds": 3},
    "task": {"trifeature_protocol": "paper"},
    "method": {"infmasking": {"mask_ratio": 0.7, "num_masks": 6, "mask_ramp": 1.0}},
    "augment": {"image_preset": "paper"},
}

#: The small CNN of both cpu presets: two stride-2 stages, 16 base channels, an 8 x 8 map pooled
#: to the papers' 6 x 6 token grid with fixed sin-cos positions.
_CPU_MODEL: dict[str, Any] = {
    "image_encoder": "small",
    "cnn_channels": 16,
    "image_stages": 2,
    "image_grid": 6,
    "image_positions": "sincos",
}

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "paper": {
        **_PROTOCOL,
        "task": {**_PROTOCOL["task"], "image_size": 224, "n_samples": 10_000},
        "model": {
            "image_encoder": "alexnet",
            "image_grid": 6,
            "image_positions": "sincos",
            "dim": 256,
            "heads": 8,
            "projection_dim": 256,
        },
        "train": {
            "epochs": 100,
            "batch_size": 64,
            "lr": 3e-4,
            "cosine": False,
            "warmup_fraction": 0.0,
            "max_grad_norm": 0.0,
            "budget": "fixed",
        },
    },
    "cpu": {
        **_PROTOCOL,
        "task": {**_PROTOCOL["task"], "image_size": 32, "n_samples": 10_000},
        "model": {**_CPU_MODEL, "dim": 64, "projection_dim": 64},
        "train": {"epochs": 6, "batch_size": 64, "budget": "converged", "max_epochs": 100},
    },
}

#: The cpu preset as it ran before issue 22: the first renderer, the blur sigma in pixels, every
#: label evaluated on the eval-rate splits, a fixed 6 epochs (654 steps), usable bits from the
#: uncalibrated probe, the reference trained on S alone. It is what
#: ``reports/trifeature-cpu-preset`` and ``reports/trifeature-cpu-ablation`` were run with, so
#: notebook 02 reads those folders with it (and resumes them without training).
PRESETS["cpu-v1"] = {
    **_PROTOCOL,
    "task": {
        **_PROTOCOL["task"],
        "image_size": 32,
        "n_samples": 10_000,
        "trifeature_render": "v1",
        "trifeature_eval": "shared",
    },
    "model": {**_CPU_MODEL, "dim": 32},
    "train": {"epochs": 6, "batch_size": 64, "budget": "fixed"},
    "augment": {**_PROTOCOL["augment"], "blur_units": "px"},
    "method": {**_PROTOCOL["method"], "supervised": {"label": "S"}},
    "probe": {"calibrate": False},
}


#: ``--quick``, a first look, laid over the preset (if any) and under the file and options:
#: sized so that InfMasking's S accuracy stands clearly above CLIP's and the untrained
#: network's with an interval its own statistics establish (measured, see the README's --quick
#: paragraph): 1,000 xor samples, a fixed 10 epochs of batch 128 = 50 optimiser steps, 5 seeds,
#: InfMasking and CLIP beside the two bounds, probes at one L2 strength (half the evaluation
#: time).
QUICK: dict[str, dict[str, Any]] = {
    "run": {"methods": ["infmasking", "clip"], "seeds": 5},
    "task": {"n_samples": 1000},
    "train": {"epochs": 10, "batch_size": 128, "budget": "fixed"},
    "probe": {"l2_grid": [1e-4]},
}


def preset_sections(name: str) -> dict[str, dict[str, Any]]:
    """The sections of preset ``name`` (a copy), or one clear ValueError naming the valid ones."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid presets: {', '.join(PRESETS)}")
    return copy.deepcopy(PRESETS[name])


def preset_run_config(name: str, **changes: Any) -> Any:
    """The RunConfig ``synergy-lab run --preset NAME`` builds (settings hash included), with
    ``changes`` replacing whole RunConfig fields, e.g. ``seeds=(0,)`` or ``groups=("S",)``."""
    import dataclasses

    from synergy_lab.config import run_config

    return dataclasses.replace(run_config(preset=name), **changes)


#: The protocol choices notebook 02 switches off one at a time, each back to what this toolkit
#: did before the papers' protocol was its default (issue 12, item D).
ABLATION_METHODS: tuple[str, ...] = ("comm", "infmasking")


def protocol_ablation(base: Any) -> dict[str, Any]:
    """One RunConfig per protocol choice of ``base`` switched back, the others kept.

    Keys name what was switched: ``augment`` (crop >= 80 %, no hue, grayscale or blur),
    ``tokens`` (a 4 x 4 grid from three stride-2 stages, no position embeddings), ``views``
    (InfMasking's T = 4 masked views and lambda ramped over the first half; CoMM has neither, so
    it is left out), ``budget`` (half the epochs). Each trains the S model alone
    (``groups=("S",)``) for CoMM and InfMasking.
    """
    import dataclasses

    from synergy_lab.augment import AugmentConfig

    base = dataclasses.replace(base, methods=ABLATION_METHODS, baselines=False, groups=("S",))
    return {
        "augment": dataclasses.replace(base, augment=AugmentConfig()),
        "tokens": dataclasses.replace(
            base,
            model=dataclasses.replace(
                base.model, image_stages=3, image_grid=4, image_positions="none"
            ),
        ),
        "views": dataclasses.replace(
            base.with_method("infmasking", num_masks=4, mask_ramp=0.5), methods=("infmasking",)
        ),
        "budget": dataclasses.replace(
            base, train=dataclasses.replace(base.train, epochs=max(1, base.train.epochs // 2))
        ),
    }
